//! The provision file parser: any bytes give settings or a FORMAT error,
//! never a panic, a hang or a crash. A file it accepts, and the file
//! `provision_save` writes from it, are well-formed for libexpat (a strict
//! XML 1.0 parser); the saved file reads back to the same settings.
#![no_main]

#[path = "../../tests/strict/expat.rs"]
mod expat;

use libfuzzer_sys::fuzz_target;
use provision::provision_section::to_xml;
use provision::{xml, Settings, Status};
use std::sync::LazyLock;

static EXPAT: LazyLock<expat::Expat> = LazyLock::new(|| expat::Expat::load().expect("libexpat"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = xml::decode(data.to_vec()) else { return };
    match Settings::parse(&text, "fuzz") {
        Ok(settings) => {
            if let Err(why) = EXPAT.check(text.as_bytes()) {
                panic!("an accepted provision file is not well-formed for expat ({why}): {text:?}");
            }
            let saved = to_xml(&settings);
            if let Err(why) = EXPAT.check(saved.as_bytes()) {
                panic!("a saved provision file is not well-formed for expat ({why}): {saved:?}");
            }
            let back = Settings::parse(&saved, "saved").unwrap_or_else(|e| panic!("{e}: {saved:?}"));
            assert_eq!(back, settings, "{saved:?}");
        }
        Err(e) => assert_eq!(e.status, Status::PROVISION_ERR_FORMAT, "{e}"),
    }
});
