//! Gives the cdylib its SONAME, libprovision.so.MAJOR, from the crate's
//! version (docs/ABI.md). Nothing else: the header is written by
//! `make header` (tests/header.rs), never by a build, so that a build never
//! writes into the source tree.

/// Programs linked against the library record `libprovision.so.MAJOR`, so
/// an ABI break (a new major) never loads under an old program. ELF only:
/// other platforms name their libraries differently.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(os.as_str(), "macos" | "ios" | "windows") {
        return;
    }
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libprovision.so.{major}");
}
