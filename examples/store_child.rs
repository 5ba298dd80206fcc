//! Not an example for users: the child process of tests/store.rs, built by
//! `cargo test` with the other examples. It stores as the test asks through
//! its environment, so that the test can SIGKILL it mid-write
//! (`PROVISION_STORE_LOOP`) or run it as an unprivileged user
//! (`PROVISION_UNWRITABLE`).

use provision::{Provisioner, Status};
use std::env;
use std::path::Path;

/// A config large enough that a write takes a while, so kills land mid-write.
/// tests/store.rs builds the same two documents to compare against.
fn document(tag: &str) -> String {
    let entries: String = (0..4000).map(|i| format!("\n  <entry id=\"{i}\">{tag}-{i:05}</entry>")).collect();
    format!("<?xml version=\"1.0\"?>\n<options>\n  <general>{entries}\n  </general>\n</options>\n")
}

fn main() {
    if let Some(path) = env::var_os("PROVISION_STORE_LOOP") {
        let docs = [document("old"), document("new")];
        // The atomic write itself (what store_local ends with), so that kills
        // land in it rather than in the parse before it.
        for i in 0..100_000 {
            provision::store::write_atomically(Path::new(&path), &docs[i % 2], provision::store::Mode::OwnersMode)
                .unwrap();
            println!("\n<stored>");
        }
    } else if let Some(path) = env::var_os("PROVISION_UNWRITABLE") {
        let provisioner = Provisioner::from_xml(
            "<provision><base_urls><base_url>http://127.0.0.1/</base_url></base_urls>\
             <significant_sections>accounts</significant_sections></provision>",
        )
        .unwrap();
        let err = provisioner.store_local(Some("<options><new/></options>"), Path::new(&path)).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_IO, "{err}");
        assert!(err.message.contains("Config.xml"), "{err}");
        println!("IO: {err}");
    } else {
        eprintln!("store_child: run by tests/store.rs, with PROVISION_STORE_LOOP or PROVISION_UNWRITABLE set");
        std::process::exit(2);
    }
}
