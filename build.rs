//! Writes include/provision.h with cbindgen. The header is committed so that
//! users need no Rust tooling to read it; `make check-header` fails when the
//! committed copy differs from what this writes.
//!
//! Also gives the cdylib its SONAME, libprovision.so.MAJOR, from the crate's
//! version (docs/ABI.md).

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=src/error.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=Cargo.toml");
    set_soname();

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can read the crate");
    // Only touch the file when it changes, so builds do not dirty the tree.
    let header = crate_dir.join("include").join("provision.h");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    if std::fs::read(&header).ok().as_deref() != Some(&generated[..]) {
        std::fs::create_dir_all(header.parent().expect("has a folder")).expect("include/ is writable");
        std::fs::write(&header, generated).expect("include/provision.h is writable");
    }
}

/// The version macros, from the crate's version: the one source of truth
/// for the header, `provision_version()` and the SONAME.
fn version_macros() -> String {
    let part = |name: &str| std::env::var(name).expect("set by cargo");
    format!(
        "\n/* The version of this header; provision_version() gives the library's. */\n\
         #define PROVISION_VERSION_MAJOR {}\n#define PROVISION_VERSION_MINOR {}\n\
         #define PROVISION_VERSION_PATCH {}\n#define PROVISION_VERSION \"{}\"\n",
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
        part("CARGO_PKG_VERSION"),
    )
}

/// Programs linked against the library record `libprovision.so.MAJOR`, so
/// an ABI break (a new major) never loads under an old program. ELF only:
/// other platforms name their libraries differently.
fn set_soname() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(os.as_str(), "macos" | "ios" | "windows") {
        return;
    }
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libprovision.so.{major}");
}
