//! Hooks for the test suites, compiled only into test builds: this crate's
//! unit tests, and builds with the `test-hooks` cargo feature, which
//! `make test` uses for every suite (Rust, C under valgrind, C++, Python).
//! A release build has none of this, and none of it is exported.
//!
//! - `PROVISION_TEST_MESSAGES=FILE`: every error message the library makes,
//!   every attempt it reports to a host's logger and every line it writes to
//!   stderr is appended to FILE, one per line, so that `make test` can search
//!   all of them for the test passwords (tests/check_secrets.py).
//! - `PROVISION_TEST_PANIC` set (any value): every exported function panics
//!   inside its boundary, which must turn it into PROVISION_ERR_INTERNAL.

use std::cell::Cell;

thread_local! {
    /// The unit tests' switch: per thread, so parallel tests are unaffected.
    static PANIC_HERE: Cell<bool> = const { Cell::new(false) };
}

/// Appends one message or log line to `$PROVISION_TEST_MESSAGES`, if set.
pub fn record(line: &str) {
    #[cfg(feature = "test-hooks")]
    if let Some(path) = std::env::var_os("PROVISION_TEST_MESSAGES") {
        use std::io::Write;
        let line = format!("{}\n", line.replace('\n', "\\n"));
        // One write per line on an O_APPEND file: lines of parallel tests do not mix.
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = file.write_all(line.as_bytes());
        }
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = line;
}

/// Whether the boundary should panic now.
pub fn panic_requested() -> bool {
    PANIC_HERE.get() || (cfg!(feature = "test-hooks") && std::env::var_os("PROVISION_TEST_PANIC").is_some())
}

/// Makes the boundaries of this thread panic (or stop panicking).
#[cfg(test)]
pub fn panic_in_this_thread(on: bool) {
    PANIC_HERE.set(on);
}
