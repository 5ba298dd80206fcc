//! The provision file parser: any bytes give settings or a FORMAT error,
//! never a panic, a hang or a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provision::{xml, Settings, Status};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = xml::decode(data.to_vec()) else { return };
    if let Err(e) = Settings::parse(&text, "fuzz") {
        assert_eq!(e.status, Status::PROVISION_ERR_FORMAT, "{e}");
    }
});
