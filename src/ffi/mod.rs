//! The C ABI: a thin layer over [`Provisioner`](crate::Provisioner).
//!
//! This module is the one boundary every exported function goes through:
//!
//! - [`call`] (status-returning functions) and [`guard`] (the rest) run the
//!   whole body, the thread's last-error bookkeeping included, inside
//!   `catch_unwind`, so no panic ever unwinds into C. The thread-locals they
//!   use are reached with `try_with`, so a call from a pthread key destructor
//!   (after Rust's thread-locals are gone) gets a status, never an abort.
//! - The `arg_*` helpers are the one path from C strings to Rust: NULL is
//!   "none" only where the function says so, an empty path is ARGUMENT
//!   everywhere, non-UTF-8 is ARGUMENT.
//! - The `arc_*`/[`create`] helpers turn any `Arc<T>` into a C handle and
//!   back, never naming a concrete handle type: each call works on its own
//!   clone, so a handle freed from inside one of its callbacks lives until
//!   the call that made the callback returns.
//!
//! Each C type family has its own file (`handle.rs`, `outcome.rs`,
//! `refresh.rs`, `logger.rs`, `network.rs`, `addressbook.rs`); their doc comments become `include/provision.h`.

mod addressbook;
mod handle;
mod logger;
mod network;
mod outcome;
mod refresh;

pub use addressbook::*;
pub use handle::*;
pub use logger::*;
pub use network::*;
pub use outcome::*;
pub use refresh::*;

use crate::{Error, Result, Status};
use libc::{c_char, c_int};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString};
use std::panic::{self, catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, Once};

/// A poisoned lock only means a panic elsewhere; what the ABI layer guards
/// is replaced whole, so it is still consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ------------------------------------------------------------ last error

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// How deep this thread is inside a boundary: the panic hook keeps quiet there.
    static IN_BOUNDARY: Cell<u32> = const { Cell::new(0) };
}

/// Text for C. It never holds NUL, but a C string must not be cut short if it did.
pub(crate) fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

/// Records the thread's last error. Without thread-locals (a pthread key
/// destructor running after Rust's are gone) there is nowhere to keep it:
/// the status alone tells the caller.
pub(crate) fn set_last_error(message: &str) {
    let message = c_text(message);
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = message);
}

/// The message of the last call on this thread that returned a failure; ""
/// when the last call succeeded.
///
/// Returns: never NULL.
/// Ownership: the library's (the calling thread's); do not free.
/// Lifetime: until this thread's next call into the library.
/// Threads: per thread; any thread. Never contains a password.
#[no_mangle]
pub extern "C" fn provision_last_error() -> *const c_char {
    guard(c"".as_ptr(), || LAST_ERROR.try_with(|e| e.borrow().as_ptr()).unwrap_or(c"".as_ptr()))
}

// -------------------------------------------------------- panic boundary

/// The boundary of every status-returning function: clears the thread's last
/// error, runs `body`, turns a panic into INTERNAL and records the message.
pub(crate) fn call(body: impl FnOnce() -> Result<()>) -> c_int {
    let finish = |result: Result<()>| match result {
        Ok(()) => {
            set_last_error("");
            Status::PROVISION_OK as c_int
        }
        Err(e) => {
            set_last_error(&e.message);
            e.status as c_int
        }
    };
    let internal = Status::PROVISION_ERR_INTERNAL as c_int;
    let run = || {
        forced_panic();
        finish(body())
    };
    match boundary(run) {
        Ok(status) => status,
        // Recording the panic's message allocates: inside a boundary too.
        Err(panic) => boundary(|| finish(Err(internal_error(panic)))).unwrap_or(internal),
    }
}

/// The boundary of the functions that return no status: a panic gives `fallback`.
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    boundary(|| {
        forced_panic();
        body()
    })
    .unwrap_or(fallback)
}

/// Runs `body` with panics caught and kept quiet (see [`quiet_panics`]).
fn boundary<T>(body: impl FnOnce() -> T) -> std::result::Result<T, Box<dyn Any + Send>> {
    quiet_panics();
    let depth = IN_BOUNDARY.try_with(|d| d.replace(d.get() + 1)).ok();
    let result = catch_unwind(AssertUnwindSafe(body));
    if let Some(depth) = depth {
        let _ = IN_BOUNDARY.try_with(|d| d.set(depth));
    }
    result
}

/// A panic caught at the boundary becomes PROVISION_ERR_INTERNAL with its
/// message; the default hook would also print it and a backtrace to the
/// host's stderr, which the library never writes to. This hook keeps quiet
/// for panics inside a boundary and on the refresh worker (which catches its
/// own), and hands every other panic to the hook it replaced. A cdylib has
/// its own copy of std, so a host's hooks are not touched.
fn quiet_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let inside = IN_BOUNDARY.try_with(|d| d.get() > 0).unwrap_or(true);
            if !inside && !crate::refresh::on_worker_thread() {
                previous(info);
            }
        }));
    });
}

/// Test builds only (see `test_hooks`): a panic inside the boundary on
/// demand, to prove the boundary holds. Nothing in a release build.
#[inline(always)]
fn forced_panic() {
    #[cfg(any(test, feature = "test-hooks"))]
    if crate::test_hooks::panic_requested() {
        panic!("forced panic (a test build's PROVISION_TEST_PANIC)");
    }
}

fn internal_error(panic: Box<dyn Any + Send>) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::new(Status::PROVISION_ERR_INTERNAL, format!("internal error (a bug in libprovision): {what}"))
}

// ------------------------------------------------------------- arguments

/// A required string argument.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::argument(format!("{name} is NULL")));
    }
    CStr::from_ptr(ptr).to_str().map_err(|_| Error::argument(format!("{name} is not UTF-8")))
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        arg_str(ptr, name).map(Some)
    }
}

/// A required path: NULL and "" are ARGUMENT.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_path<'a>(ptr: *const c_char, name: &str) -> Result<&'a Path> {
    arg_opt_path(ptr, name)?.ok_or_else(|| Error::argument(format!("{name} is NULL")))
}

/// An optional path: NULL is `None`, "" is ARGUMENT (it names no file, and
/// reading it as "none" would hide a caller's bug).
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_opt_path<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a Path>> {
    match arg_opt_str(ptr, name)? {
        Some("") => Err(Error::argument(format!("{name} is empty"))),
        path => Ok(path.map(Path::new)),
    }
}

// --------------------------------------------------------------- handles

/// A C handle's own reference to an `Arc<T>`: the pointer C holds.
pub(crate) fn arc_into_raw<T>(value: Arc<T>) -> *mut T {
    Arc::into_raw(value).cast_mut()
}

/// A clone of the `Arc` behind a handle, for the duration of one call:
/// the handle's object lives until the call returns, even if the handle is
/// freed meanwhile (from a callback, or by a racing thread).
///
/// # Safety
/// `ptr` is NULL or a pointer from [`arc_into_raw`] whose reference was not
/// released yet.
pub(crate) unsafe fn arc_clone<T>(ptr: *const T, what: &str) -> Result<Arc<T>> {
    if ptr.is_null() {
        return Err(Error::argument(format!("{what} is NULL")));
    }
    Arc::increment_strong_count(ptr);
    Ok(Arc::from_raw(ptr))
}

/// Releases the handle's own reference; NULL is a no-op.
///
/// # Safety
/// As [`arc_clone`]; `ptr` is not used afterwards.
pub(crate) unsafe fn arc_release<T>(ptr: *const T) {
    if !ptr.is_null() {
        drop(Arc::from_raw(ptr));
    }
}

/// The body of a constructor: `*out` is NULL until `make` succeeds, then the
/// new handle. A NULL `out` is ARGUMENT before anything is made.
///
/// # Safety
/// `out` is NULL or points to writable storage for a pointer.
pub(crate) unsafe fn create<T>(out: *mut *mut T, make: impl FnOnce() -> Result<Arc<T>>) -> Result<()> {
    let out = out.as_mut().ok_or_else(|| Error::argument("out is NULL"))?;
    *out = std::ptr::null_mut();
    *out = arc_into_raw(make()?);
    Ok(())
}

// -------------------------------------------------------------- statics

/// The library's version, "MAJOR.MINOR.PATCH": the same text as
/// `PROVISION_VERSION` in the header it was built with.
///
/// Returns: never NULL.
/// Ownership: static; do not free.
/// Lifetime: the process's.
/// Threads: any.
#[no_mangle]
pub extern "C" fn provision_version() -> *const c_char {
    let version = concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast();
    guard(version, || version)
}

/// The name of a status, as in this header: "PROVISION_ERR_FETCH" for
/// PROVISION_ERR_FETCH; "PROVISION_UNKNOWN" for a value this version does
/// not know (treat it as a failure).
///
/// Returns: never NULL.
/// Ownership: static; do not free.
/// Lifetime: the process's.
/// Threads: any.
#[no_mangle]
pub extern "C" fn provision_status_name(status: c_int) -> *const c_char {
    let unknown = c"PROVISION_UNKNOWN".as_ptr();
    guard(unknown, || Status::from_c(status).map_or(unknown, |known| known.c_name().as_ptr()))
}

#[cfg(test)]
mod tests;
