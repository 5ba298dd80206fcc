//! The merge: two documents (split at the first 0xFF byte, which UTF-8
//! never holds) and which section names are significant. Whenever both
//! documents are accepted, the result must be well-formed (for the library
//! and for libexpat, a strict XML 1.0 parser), keep the answer's bytes,
//! survive a second merge unchanged and strip back cleanly.
#![no_main]

#[path = "../../tests/strict/expat.rs"]
mod expat;

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static EXPAT: LazyLock<expat::Expat> = LazyLock::new(|| expat::Expat::load().expect("libexpat"));

fn strict(what: &str, text: &str) {
    if let Err(why) = EXPAT.check(text.as_bytes()) {
        panic!("{what} is not well-formed for expat ({why}): {text:?}");
    }
}
use provision::merge::{merge, strip, Doc};
use provision::xml::{self, Scan};

fuzz_target!(|data: &[u8]| {
    let Some(cut) = data.iter().position(|&b| b == 0xff) else { return };
    let (local, answer) = (&data[..cut], &data[cut + 1..]);
    let (Ok(local), Ok(answer)) = (xml::decode(local.to_vec()), xml::decode(answer.to_vec())) else { return };
    let (Ok(local_scan), Ok(answer_scan)) = (Scan::new(&local), Scan::new(&answer)) else { return };
    strict("an accepted local config", &local);
    strict("an accepted answer", &answer);
    // Every other name of the answer is significant, so some are not.
    let mut provisioned: Vec<String> = Vec::new();
    for s in &answer_scan.sections {
        if !provisioned.iter().any(|p| **p == *s.name) && (s.name.len() % 2 == 0) {
            provisioned.push(s.name.to_string());
        }
    }
    let answer_doc = Doc { text: &answer, scan: &answer_scan };
    for local_doc in [Some(Doc { text: &local, scan: &local_scan }), None] {
        let merged = merge(local_doc, answer_doc, &provisioned);
        let merged_scan = Scan::new(&merged).unwrap_or_else(|e| panic!("not well-formed ({e}): {merged:?}"));
        strict("the merged config", &merged);
        for name in &provisioned {
            let of = |text: &str, scan: &Scan| -> Vec<String> {
                scan.sections.iter().filter(|s| *s.name == **name).map(|s| text[s.span.clone()].to_owned()).collect()
            };
            assert_eq!(of(&merged, &merged_scan), of(&answer, &answer_scan));
        }
        let again = merge(Some(Doc { text: &merged, scan: &merged_scan }), answer_doc, &provisioned);
        assert_eq!(again, merged, "a second merge changes nothing");
        let stored = strip(Doc { text: &merged, scan: &merged_scan }, |n| provisioned.iter().any(|p| p == n));
        let stored_scan =
            Scan::new(&stored).unwrap_or_else(|e| panic!("stored config not well-formed ({e}): {stored:?}"));
        strict("the stored config", &stored);
        // store_local, merge, store_local: the stored file is a fixed point.
        let remerged = merge(Some(Doc { text: &stored, scan: &stored_scan }), answer_doc, &provisioned);
        let remerged_scan = Scan::new(&remerged).expect("well-formed");
        let restored = strip(Doc { text: &remerged, scan: &remerged_scan }, |n| provisioned.iter().any(|p| p == n));
        assert_eq!(restored, stored, "merge then store_local gives the stored file back");
    }
});
