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

#[test]
fn a_provision_file_can_come_from_a_pipe() {
    // `python3 -m provision run <(curl ...)`: a FIFO claims no size and is
    // read to its end, within the size bound.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("provision.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            // Opening a FIFO for writing waits for its reader: no race.
            fs::write(
                fifo,
                "<provision><base_urls><base_url>http://piped/</base_url></base_urls>\
                 <significant_sections>accounts</significant_sections></provision>",
            )
            .unwrap();
        })
    };
    let p = Provisioner::load(&fifo).unwrap();
    writer.join().unwrap();
    assert_eq!(p.settings().base_urls, ["http://piped/"]);
}
