//! What a server's answer goes through: the checked scan (sections and
//! their spans), the text of an `<error>` answer and the element tree.
//! Spans must be well inside the text and on character boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provision::xml::{self, Element, Scan};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = xml::decode(data.to_vec()) else { return };
    let scan = Scan::new(&text);
    if let Ok(scan) = &scan {
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
