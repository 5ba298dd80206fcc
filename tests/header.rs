//! include/provision.h is what cbindgen writes from the sources: this test
//! fails on a stale header, and `make header` (this test with
//! PROVISION_WRITE_HEADER=1) writes it.
//!
//! cbindgen is a dev-dependency pinned to one release (Cargo.toml, and
//! Cargo.lock): its output may change between releases, and the committed
//! header must not change with whoever happens to regenerate it. An
//! ordinary `cargo build` never writes into the source tree.

use std::path::Path;

/// The version macros, from the crate's version: the one source of truth
/// for the header, `provision_version()` and the SONAME.
fn version_macros() -> String {
    format!(
        "\n/* The version of this header; provision_version() gives the library's. */\n\
         #define PROVISION_VERSION_MAJOR {}\n#define PROVISION_VERSION_MINOR {}\n\
         #define PROVISION_VERSION_PATCH {}\n#define PROVISION_VERSION \"{}\"\n",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION"),
    )
}

fn generate(crate_dir: &Path) -> Vec<u8> {
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can read the crate");
    let mut header = Vec::new();
    bindings.write(&mut header);
    header
}

#[test]
fn the_committed_header_is_what_cbindgen_writes() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = crate_dir.join("include").join("provision.h");
    let fresh = generate(crate_dir);
    if std::env::var_os("PROVISION_WRITE_HEADER").is_some() {
        if std::fs::read(&path).ok().as_deref() != Some(&fresh[..]) {
            std::fs::write(&path, &fresh).expect("include/provision.h is writable");
        }
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(committed == fresh, "include/provision.h is stale: run `make header` and commit it");
}
