//! Writes include/provision.h with cbindgen. The header is committed so that
//! users need no Rust tooling to read it; `make check-header` fails when the
//! committed copy differs from what this writes.
//!
//! Also gives the cdylib its SONAME, libprovision.so.MAJOR, from the ABI
//! version in Cargo.toml (`[package.metadata.capi.library] version`).

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=src/error.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=Cargo.toml");
    set_soname(&crate_dir);

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");
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

/// Programs linked against the library record `libprovision.so.MAJOR`, so
/// an ABI break (a new major) never loads under an old program. ELF only:
/// other platforms name their libraries differently.
fn set_soname(crate_dir: &std::path::Path) {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(os.as_str(), "macos" | "ios" | "windows") {
        return;
    }
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).expect("Cargo.toml is readable");
    let manifest = toml::Value::Table(manifest.parse().expect("Cargo.toml is TOML"));
    let version = ["package", "metadata", "capi", "library", "version"]
        .iter()
        .try_fold(&manifest, |value, key| value.get(key))
        .and_then(toml::Value::as_str)
        .expect("Cargo.toml sets [package.metadata.capi.library] version");
    let major = version.split('.').next().expect("a version has a major");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libprovision.so.{major}");
}
