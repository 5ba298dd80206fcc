//! `Provisioner::load` on real files: what each kind of bad path gives.

use provision::{Provisioner, Status};
use std::fs;

#[test]
fn load_statuses_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("provision.conf");
    let err = Provisioner::load(&missing).err().unwrap();
    assert_eq!(err.status, Status::PROVISION_ERR_NOT_FOUND);
    assert!(err.message.contains("provision.conf"), "{err}");

    let err = Provisioner::load(dir.path()).err().unwrap();
    assert_eq!(err.status, Status::PROVISION_ERR_IO, "a folder: {err}");

    fs::write(&missing, b"<provision>\n  <base_urls>\xff</base_urls>\n</provision>").unwrap();
    let err = Provisioner::load(&missing).err().unwrap();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
    assert!(err.message.contains("provision.conf: line 2, column 14"), "{err}");

    fs::write(
        &missing,
        "<provision><base_urls><base_url>http://h/</base_url></base_urls>\
                         <significant_sections>accounts</significant_sections></provision>",
    )
    .unwrap();
    let p = Provisioner::load(&missing).unwrap();
    assert_eq!(p.settings().base_urls, ["http://h/"]);
}
