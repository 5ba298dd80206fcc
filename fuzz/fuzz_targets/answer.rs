//! What a server's answer goes through: the checked scan (sections and
//! their spans), the text of an `<error>` answer and the element tree.
//! Spans must be well inside the text and on character boundaries, and
//! whatever the scan accepts, libexpat (a strict XML 1.0 parser) accepts.
#![no_main]

#[path = "../../tests/strict/expat.rs"]
mod expat;

use libfuzzer_sys::fuzz_target;
use provision::xml::{self, Element, Scan};
use std::sync::LazyLock;

static EXPAT: LazyLock<expat::Expat> = LazyLock::new(|| expat::Expat::load().expect("libexpat"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = xml::decode(data.to_vec()) else { return };
    let scan = Scan::new(&text);
    if let Ok(scan) = &scan {
        if let Err(why) = EXPAT.check(text.as_bytes()) {
            panic!("the scan accepts what expat refuses ({why}): {text:?}");
        }
        for s in &scan.sections {
            assert!(s.lead <= s.span.start && s.span.start < s.span.end && s.span.end <= text.len());
            let copy = &text[s.span.clone()];
            assert!(copy.starts_with('<') && copy.ends_with('>'));
            assert!(text[s.lead..s.span.start].trim().is_empty());
        }
        let _ = xml::root_text(&text).expect("a document that scans has a root text");
    }
    assert_eq!(Element::parse(&text).is_ok(), scan.is_ok(), "both readers accept the same documents");
});
