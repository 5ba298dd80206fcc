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
//! - [`around_open`]: a test's code run just before and just after the
//!   library opens a file it reads ([`crate::links::open`]), where another
//!   user would swap a link in: a race made deterministic.

use std::cell::{Cell, RefCell};
use std::path::Path;

/// When an [`around_open`] hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenStep {
    /// The links were checked; the file is about to be opened.
    BeforeOpen,
    /// The file is open; the links are about to be checked again.
    AfterOpen,
}

type OpenHook = Box<dyn FnMut(OpenStep, &Path)>;

thread_local! {
    /// The unit tests' switch: per thread, so parallel tests are unaffected.
    static PANIC_HERE: Cell<bool> = const { Cell::new(false) };
    /// This thread's [`around_open`] hook.
    static AROUND_OPEN: RefCell<Option<OpenHook>> = const { RefCell::new(None) };
}

/// Runs `hook` at each [`OpenStep`] of the reads this thread makes (`None`
/// removes it).
pub fn around_open(hook: Option<OpenHook>) {
    AROUND_OPEN.with(|h| *h.borrow_mut() = hook);
}

/// Where the library calls the hook.
pub(crate) fn open_step(step: OpenStep, path: &Path) {
    AROUND_OPEN.with(|h| {
        if let Some(hook) = h.borrow_mut().as_mut() {
            hook(step, path);
        }
    });
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
