//! Writes include/provision.h with cbindgen. The header is committed so that
//! users need no Rust tooling to read it; `make check-header` fails when the
//! committed copy differs from what this writes.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=src/error.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");

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
