//! The C ABI: a thin layer over [`Provisioner`].
//!
//! Every exported function runs its body through one of two panic
//! boundaries ([`call`] for status-returning functions, [`guard`] for the
//! rest), so no panic ever unwinds into C, and takes its pointers through the
//! `arg_*`/`handle*` helpers, so a NULL or a non-UTF-8 string is an ARGUMENT
//! status, never a crash. The doc comments here become `include/provision.h`.

mod addressbook;

use crate::log::{Kind, Record};
use crate::refresh::Refresher;
use crate::{Error, Outcome, Provisioner, Result, Status};
use libc::{c_char, c_int, c_uint, c_void};
use std::any::Any;
use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// An opaque provisioning handle: one provision file, its credentials and
/// the outcome of the last successful run. Create it with `provision_load`
/// or `provision_load_xml`, release it with `provision_free`. Calls on one
/// handle may come from any thread; `provision_free` must be the last.
pub struct Provision {
    core: Arc<Provisioner>,
    handed: Mutex<Handed>,
    refresh: Mutex<Option<Refresher>>,
}

/// C copies of the outcome last handed out. They change only when an
/// accessor is called again, so a pointer stays valid until the next call
/// on the handle even if another thread provisions in the meantime.
#[derive(Default)]
struct Handed {
    outcome: Option<Arc<Outcome>>,
    config: Option<CString>,
    source_url: Option<CString>,
}

impl Provision {
    fn new(core: Provisioner) -> Provision {
        Provision { core: Arc::new(core), handed: Mutex::new(Handed::default()), refresh: Mutex::new(None) }
    }

    /// The handed-out copies, brought up to date with the last outcome.
    fn handed(&self) -> MutexGuard<'_, Handed> {
        let last = self.core.last();
        let mut handed = lock(&self.handed);
        let same = match (&handed.outcome, &last) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            // Checked documents hold no NUL, so these conversions succeed.
            handed.config = last.as_ref().and_then(|o| CString::new(o.config.as_str()).ok());
            let served = last.as_ref().filter(|o| !o.from_cache);
            handed.source_url = served.and_then(|o| CString::new(o.source_url.as_str()).ok());
            handed.outcome = last;
        }
        handed
    }
}

/// A poisoned lock only means a panic elsewhere; what it guards is replaced
/// whole, so it is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Text for C. It never holds NUL, but a C string must not be cut short if it did.
fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

fn set_last_error(message: &str) {
    let message = c_text(message);
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
}

/// The boundary of every status-returning function: clears the thread's last
/// error, runs `body`, turns a panic into INTERNAL and records the message.
fn call(body: impl FnOnce() -> Result<()>) -> c_int {
    set_last_error("");
    let result = catch_unwind(AssertUnwindSafe(|| {
        forced_panic();
        body()
    }))
    .unwrap_or_else(|panic| Err(internal(panic)));
    match result {
        Ok(()) => Status::PROVISION_OK as c_int,
        Err(e) => {
            set_last_error(&e.message);
            e.status as c_int
        }
    }
}

/// The boundary of the accessors: a panic gives `fallback`.
fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(|| {
        forced_panic();
        body()
    }))
    .unwrap_or(fallback)
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

fn internal(panic: Box<dyn Any + Send>) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::new(Status::PROVISION_ERR_INTERNAL, format!("internal error (a bug in libprovision): {what}"))
}

/// A required string argument.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives `'a`.
unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::argument(format!("{name} is NULL")));
    }
    CStr::from_ptr(ptr).to_str().map_err(|_| Error::argument(format!("{name} is not UTF-8")))
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`arg_str`].
unsafe fn arg_opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        arg_str(ptr, name).map(Some)
    }
}

/// # Safety
/// `p` is NULL or a live handle from `provision_load*`.
unsafe fn handle<'a>(p: *const Provision) -> Result<&'a Provision> {
    p.as_ref().ok_or_else(|| Error::argument("the handle is NULL"))
}

/// # Safety
/// `out` is NULL or points to writable storage for a handle pointer.
unsafe fn create(out: *mut *mut Provision, make: impl FnOnce() -> Result<Provisioner>) -> c_int {
    call(|| {
        let out = out.as_mut().ok_or_else(|| Error::argument("out is NULL"))?;
        *out = ptr::null_mut();
        *out = Box::into_raw(Box::new(Provision::new(make()?)));
        Ok(())
    })
}

/// Reads and validates the provision file at `provision_path` and stores a
/// new handle in `*out` (NULL after a failure).
///
/// Returns PROVISION_OK; PROVISION_ERR_NOT_FOUND when the file does not exist
/// (provisioning is off); PROVISION_ERR_IO when it cannot be read (a folder,
/// no permission); PROVISION_ERR_FORMAT when it is malformed (the message
/// names the file, line and element) or larger than 4 MiB;
/// PROVISION_ERR_ARGUMENT for NULL or non-UTF-8 arguments.
///
/// # Safety
/// `provision_path` is NULL or a NUL-terminated string; `out` is NULL or
/// points to writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn provision_load(provision_path: *const c_char, out: *mut *mut Provision) -> c_int {
    create(out, || {
        let path = arg_str(provision_path, "provision_path")?;
        Provisioner::load(Path::new(path))
    })
}

/// As `provision_load`, from the text of a provision file held in memory.
///
/// # Safety
/// As `provision_load`.
#[no_mangle]
pub unsafe extern "C" fn provision_load_xml(provision_xml: *const c_char, out: *mut *mut Provision) -> c_int {
    create(out, || Provisioner::from_xml(arg_str(provision_xml, "provision_xml")?))
}

/// Releases a handle and every string it handed out. NULL is a no-op.
/// A refresh worker is stopped first, as by `provision_stop_refresh`. It may
/// be called from inside the refresh callback (then the worker ends when the
/// callback returns); the handle must not be used after it.
///
/// # Safety
/// `p` is NULL or a handle from `provision_load*` not freed before.
#[no_mangle]
pub unsafe extern "C" fn provision_free(p: *mut Provision) {
    guard((), || {
        if !p.is_null() {
            drop(Box::from_raw(p));
        }
    })
}

/// Sets the credentials to send, overriding the file's `user`/`password`.
/// Required before `provision_run` when `user_input_authentication` is 1.
/// With `basic` authentication a user name containing ':' is
/// PROVISION_ERR_ARGUMENT (RFC 7617 cannot carry it).
/// The password is kept in memory only and never appears in a message.
///
/// # Safety
/// `p` is NULL or a live handle; `user` and `password` are NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn provision_set_credentials(
    p: *mut Provision,
    user: *const c_char,
    password: *const c_char,
) -> c_int {
    call(|| {
        let h = handle(p)?;
        let user = arg_str(user, "user")?;
        let password = arg_str(password, "password")?;
        h.core.set_credentials(user, password)
    })
}

/// Sets the timeouts of every later request on this handle: `connect_ms`
/// to establish a connection (TCP and TLS handshake), `total_ms` for the
/// whole request including the body. A URL that takes longer fails and the
/// next one is tried. Defaults: 5000 and 30000.
///
/// Returns PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle or a zero
/// value.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_set_timeouts(p: *mut Provision, connect_ms: c_uint, total_ms: c_uint) -> c_int {
    call(|| {
        let ms = |v: c_uint| Duration::from_millis(u64::from(v));
        handle(p)?.core.set_timeouts(ms(connect_ms), ms(total_ms))
    })
}

/// Trusts the certificates in the PEM file at `pem_path` (an operator's
/// private CA) for HTTPS, in addition to the system's trust store; NULL
/// goes back to the system's store alone (the default). The file is read
/// during this call; host names are always verified.
///
/// Returns PROVISION_OK; PROVISION_ERR_IO when the file cannot be read;
/// PROVISION_ERR_FORMAT when it holds no PEM certificate or is larger than
/// 4 MiB; PROVISION_ERR_ARGUMENT
/// for a NULL handle or a non-UTF-8 path. After a failure the trusted
/// certificates are unchanged.
///
/// # Safety
/// `p` is NULL or a live handle; `pem_path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn provision_set_ca_file(p: *mut Provision, pem_path: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        let path = arg_opt_str(pem_path, "pem_path")?;
        h.core.set_ca_file(path.map(Path::new))
    })
}

/// Provisions: reads the local config at `local_config_path` (NULL or a
/// missing file: none), asks each base URL in turn for BASE + "configuration",
/// and merges the first usable answer into the local config. Nothing is
/// written to disk; see `provision_store_local`.
///
/// Returns PROVISION_OK; PROVISION_ERR_CREDENTIALS before any request when
/// credentials are needed and missing; PROVISION_ERR_FORMAT or
/// PROVISION_ERR_IO for a bad local config (malformed, unreadable or larger
/// than 64 MiB; nothing is fetched);
/// PROVISION_ERR_SERVER when a server answered `<error>` (the last error is
/// exactly its text, to show the user); PROVISION_ERR_FETCH when every URL
/// failed otherwise (the last error lists each URL and why). A failed run
/// leaves the previous outcome in place.
///
/// While a call is active (`provision_set_call_active`) it returns
/// PROVISION_ERR_DEFERRED at once and makes no request. When every URL
/// fails and a cache is set (`provision_set_cache`) and holds sections, they
/// are merged instead and it returns PROVISION_CACHED: the config is usable,
/// `provision_source_url` is NULL and the last error still says why each URL
/// failed. A later run asks the URL that served the last answer with
/// `If-None-Match`/`If-Modified-Since` from its `ETag`/`Last-Modified`;
/// `304 Not Modified` is success with that answer merged again. When
/// `provision` is significant, a valid `<provision>` section in the answer
/// replaces the handle's settings (base URLs, options, significant
/// sections) from the next run on.
///
/// # Safety
/// `p` is NULL or a live handle; `local_config_path` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn provision_run(p: *mut Provision, local_config_path: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        let local = arg_opt_str(local_config_path, "local_config_path")?;
        h.core.run(local.map(Path::new)).map(drop)
    })
}

/// The merged config of the last successful run, or NULL before one (or for
/// a NULL handle). Owned by the handle.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_config(p: *const Provision) -> *const c_char {
    guard(ptr::null(), || match p.as_ref() {
        Some(h) => h.handed().config.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
        None => ptr::null(),
    })
}

/// The base URL, as written in the provision file, that served the last
/// successful run; NULL before one, and when the last-known-good cache
/// served it (PROVISION_CACHED). Owned by the handle.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_source_url(p: *const Provision) -> *const c_char {
    guard(ptr::null(), || match p.as_ref() {
        Some(h) => h.handed().source_url.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
        None => ptr::null(),
    })
}

/// 1 if the last successful run provisioned `section` (it is significant and
/// the answer held it), else 0, also for NULL arguments.
///
/// # Safety
/// `p` is NULL or a live handle; `section` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn provision_is_provisioned(p: *const Provision, section: *const c_char) -> c_int {
    guard(0, || {
        let (Ok(h), Ok(section)) = (handle(p), arg_str(section, "section")) else {
            return 0;
        };
        let provisioned = h.core.last().is_some_and(|l| l.is_provisioned(section));
        c_int::from(provisioned)
    })
}

/// Writes `config_xml` (NULL: the merged config of the last run) to
/// `local_config_path` without the sections the last successful run
/// provisioned. The write is atomic (temp file, fsync, rename); a new file
/// gets mode 0600, an existing one keeps its mode.
///
/// Returns PROVISION_OK; PROVISION_ERR_FORMAT when `config_xml` is malformed;
/// PROVISION_ERR_IO when the file cannot be written (the old one is kept);
/// PROVISION_ERR_ARGUMENT for NULL arguments, or NULL `config_xml` before any
/// successful run.
///
/// # Safety
/// `p` is NULL or a live handle; the strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn provision_store_local(
    p: *const Provision,
    config_xml: *const c_char,
    local_config_path: *const c_char,
) -> c_int {
    call(|| {
        let h = handle(p)?;
        let config = arg_opt_str(config_xml, "config_xml")?;
        let path = arg_str(local_config_path, "local_config_path")?;
        h.core.store_local(config, Path::new(path))
    })
}

/// The message of the last call on this thread that returned a failure; ""
/// when the last call succeeded. Never NULL. Owned by the thread, valid until
/// its next call into the library. Never contains a password.
#[no_mangle]
pub extern "C" fn provision_last_error() -> *const c_char {
    guard(c"".as_ptr(), || LAST_ERROR.with(|e| e.borrow().as_ptr()))
}

/// The library's version, e.g. "0.1.0". Static.
#[no_mangle]
pub extern "C" fn provision_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Tells the library whether any call is up (`active` non-zero) or none is
/// (0). While a call is up, `provision_run` returns PROVISION_ERR_DEFERRED
/// and the refresh worker makes no request; a refresh that fell due during
/// the call runs once right after `provision_set_call_active(p, 0)`.
/// A request already under way when the call starts is finished.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_set_call_active(p: *mut Provision, active: c_int) -> c_int {
    call(|| {
        handle(p)?.core.set_call_active(active != 0);
        Ok(())
    })
}

/// Called by the refresh worker, on its own thread, after each attempt:
/// `status` is what `provision_run` would have returned, `changed` is 1 when
/// the merged config differs from the one before the attempt, `config` is
/// the merged config for PROVISION_OK and PROVISION_CACHED (NULL otherwise),
/// valid only during the call. Inside the callback `provision_last_error()`
/// gives the attempt's message. The callback may call any function on the
/// handle, including `provision_stop_refresh` and `provision_free`.
#[allow(non_camel_case_types)]
pub type provision_refresh_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, status: c_int, changed: c_int, config: *const c_char)>;

/// The host's callback and its pointer, moved to the worker thread.
struct HostCallback {
    cb: provision_refresh_cb,
    userdata: *mut c_void,
}

// SAFETY: the host gave the pointer to be used from the worker thread, which
// is what `provision_start_refresh` documents; the library never reads it.
unsafe impl Send for HostCallback {}

impl HostCallback {
    fn report(&self, result: &Result<crate::provisioner::Report>) {
        let Some(cb) = self.cb else { return };
        let (status, changed, config) = match result {
            Ok(report) => {
                let status = report.cached.as_ref().map_or(Status::PROVISION_OK, |e| e.status);
                set_last_error(report.cached.as_ref().map_or("", |e| e.message.as_str()));
                (status, report.changed, CString::new(report.outcome.config.as_str()).ok())
            }
            Err(e) => {
                set_last_error(&e.message);
                (e.status, false, None)
            }
        };
        let config_ptr = config.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        // SAFETY: the host's function, called as its type says; `config`
        // outlives the call.
        unsafe { cb(self.userdata, status as c_int, c_int::from(changed), config_ptr) };
    }
}

/// Starts the handle's refresh worker: a background thread that runs
/// provisioning (as `provision_run(p, local_config_path)`) every
/// `refresh_rate` seconds after the last success, whoever ran it, and calls
/// `cb(userdata, ...)` after each attempt (`cb` may be NULL). Without any
/// run yet the first attempt is at once; after a failed one, after a
/// back-off. After a failure it retries sooner than the period: 1 s, then
/// doubling, capped at `refresh_rate`, each less up to 25% at random. No
/// request is made while a call is active. A server that sets
/// `refresh_rate` to 0 through a `<provision>` section ends the worker.
/// The worker never writes the local config (it does write the cache, if
/// one is set).
///
/// Returns PROVISION_OK; PROVISION_ERR_ARGUMENT when `refresh_rate` is 0,
/// a worker already runs, or for NULL/non-UTF-8 arguments.
///
/// # Safety
/// `p` is NULL or a live handle; `local_config_path` is NULL or a
/// NUL-terminated string; `cb` and `userdata` stay usable from another
/// thread until `provision_stop_refresh` or `provision_free` returns.
#[no_mangle]
pub unsafe extern "C" fn provision_start_refresh(
    p: *mut Provision,
    local_config_path: *const c_char,
    cb: provision_refresh_cb,
    userdata: *mut c_void,
) -> c_int {
    call(|| {
        let h = handle(p)?;
        let local = arg_opt_str(local_config_path, "local_config_path")?.map(std::path::PathBuf::from);
        let host = HostCallback { cb, userdata };
        let replaced = {
            let mut slot = lock(&h.refresh);
            if slot.as_ref().is_some_and(Refresher::is_running) {
                return Err(Error::argument("a refresh worker already runs on this handle"));
            }
            let worker = Refresher::start(h.core.clone(), local, Box::new(move |result| host.report(result)))?;
            slot.replace(worker)
        };
        // A worker that ended or was stopped from its callback: joined here,
        // outside the lock.
        drop(replaced);
        Ok(())
    })
}

/// Receives one record per base URL a run tries; see `provision_set_logger`.
#[allow(non_camel_case_types)]
pub type provision_log_cb = Option<
    unsafe extern "C" fn(
        url: *const c_char,
        status: c_int,
        outcome: *const c_char,
        elapsed_ms: u64,
        userdata: *mut c_void,
    ),
>;

/// A host's log callback and its pointer.
struct CLogger {
    cb: unsafe extern "C" fn(*const c_char, c_int, *const c_char, u64, *mut c_void),
    userdata: *mut c_void,
}

// SAFETY: the contract of provision_set_logger makes the host answerable for
// `userdata` being usable from the thread that runs provision_run.
unsafe impl Send for CLogger {}
unsafe impl Sync for CLogger {}

impl CLogger {
    fn hear(&self, attempt: &Record) {
        if attempt.kind != Kind::Attempt {
            return;
        }
        let (url, outcome) = (c_text(attempt.url.as_deref().unwrap_or("")), c_text(&attempt.message));
        let status = attempt.status as c_int;
        // SAFETY: `cb` is the host's function, called as its contract says.
        unsafe { (self.cb)(url.as_ptr(), status, outcome.as_ptr(), attempt.elapsed_ms(), self.userdata) }
    }
}

/// Sets the function that hears about each base URL a run tries, so that
/// attempts reach the host's own log; NULL `cb` removes it.
///
/// `cb(url, status, outcome, elapsed_ms, userdata)` is called once per URL
/// tried, in order, with:
/// - `url`: BASE + "configuration" without credentials (no password in the
///   userinfo, no `url`-type credentials in the query);
/// - `status`: PROVISION_OK for the URL that served, PROVISION_ERR_SERVER for
///   an `<error>` answer, PROVISION_ERR_FETCH for any other failure;
/// - `outcome`: what happened, as a sentence ("ok, 1234 bytes",
///   "server error: TEXT", "connection refused"...), scrubbed like error
///   messages: never a password, its MD5 or a Basic token;
/// - `elapsed_ms`: the wall time spent on that URL, redirects included;
/// - `userdata`: as given here, untouched.
///
/// Threads: `cb` is called on the thread running `provision_run`, before
/// that call returns; never concurrently for one handle. The strings are
/// valid only during the call. `cb` must return normally (no longjmp, no C++
/// exception crossing it) and must not call `provision_run` or
/// `provision_free` on the same handle. A run already under way keeps the
/// logger it started with; `userdata` must stay valid until the logger is
/// replaced or removed and such a run has returned, or until
/// `provision_free`.
///
/// Returns PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle.
///
/// # Safety
/// `p` is NULL or a live handle; `cb` is NULL or a function with this
/// signature that may be called as described.
#[no_mangle]
pub unsafe extern "C" fn provision_set_logger(p: *mut Provision, cb: provision_log_cb, userdata: *mut c_void) -> c_int {
    call(|| {
        let h = handle(p)?;
        let sink = cb.map(|cb| {
            let logger = CLogger { cb, userdata };
            Arc::new(move |attempt: &Record| logger.hear(attempt)) as crate::log::Sink
        });
        h.core.set_logger(sink);
        Ok(())
    })
}

/// Stops the refresh worker and returns once it has stopped: promptly, not
/// after a period or a back-off (an attempt under way is finished first;
/// its callback is not made). No callback is made after it returns. Called
/// from inside the callback it returns at once and the worker ends when the
/// callback returns. PROVISION_OK also when no worker runs.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_stop_refresh(p: *mut Provision) -> c_int {
    call(|| {
        let h = handle(p)?;
        let stopped = {
            let mut slot = lock(&h.refresh);
            match slot.as_ref() {
                // Kept, so that a later stop or free from another thread joins it.
                Some(worker) if worker.is_worker_thread() => {
                    worker.signal_stop();
                    None
                }
                _ => slot.take(),
            }
        };
        drop(stopped); // joins, outside the lock: the callback may use the handle
        Ok(())
    })
}

/// Keeps a last-known-good cache at `cache_path` (NULL: none): after each
/// successful run the answer's provisioned sections are written there
/// (atomically, mode 0600 for a new file), and when every URL fails they
/// are merged instead (PROVISION_CACHED). A cache that cannot be read or is
/// corrupt is ignored with a line on stderr, never fatal.
///
/// # Safety
/// `p` is NULL or a live handle; `cache_path` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn provision_set_cache(p: *mut Provision, cache_path: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        let path = arg_opt_str(cache_path, "cache_path")?;
        if path == Some("") {
            return Err(Error::argument("cache_path is empty"));
        }
        h.core.set_cache(path.map(Path::new));
        Ok(())
    })
}

/// Writes the handle's current settings, including what a server's
/// `<provision>` section changed, as a provision file at `provision_path`:
/// atomically, mode 0600 for a new file (it may hold a password). Credentials
/// from `provision_set_credentials` are not written.
///
/// Returns PROVISION_OK; PROVISION_ERR_IO when it cannot be written (the old
/// file is kept); PROVISION_ERR_ARGUMENT for NULL arguments.
///
/// # Safety
/// `p` is NULL or a live handle; `provision_path` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn provision_save(p: *const Provision, provision_path: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.save(Path::new(arg_str(provision_path, "provision_path")?))
    })
}

/// Sets the `User-Agent` header of the requests of later runs; NULL
/// restores the default, "libprovision/" followed by `provision_version()`.
///
/// Returns PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle, or a
/// value that is empty or holds anything but printable ASCII.
///
/// # Safety
/// `p` is NULL or a live handle; `user_agent` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn provision_set_user_agent(p: *mut Provision, user_agent: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.set_user_agent(arg_opt_str(user_agent, "user_agent")?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_hooks::panic_in_this_thread;

    const PROVISION_XML: &CStr = c"<provision><base_urls><base_url>http://127.0.0.1:9/</base_url></base_urls>\
        <significant_sections>accounts</significant_sections></provision>";

    fn last_error() -> String {
        unsafe { CStr::from_ptr(provision_last_error()) }.to_string_lossy().into_owned()
    }

    /// Every exported function, called while its boundary is made to panic:
    /// statuses are INTERNAL with a message, accessors give their fallback,
    /// and the process and the handle live on.
    #[test]
    fn a_panic_in_any_exported_function_is_internal_and_the_process_lives_on() {
        let internal = Status::PROVISION_ERR_INTERNAL as c_int;
        let mut p: *mut Provision = ptr::null_mut();
        unsafe {
            assert_eq!(provision_load_xml(PROVISION_XML.as_ptr(), &mut p), 0);
            let mut slot: *mut Provision = ptr::null_mut();
            let out: *mut *mut Provision = &mut slot;
            let dir = tempfile::tempdir().unwrap();
            let file = CString::new(dir.path().join("c.xml").to_str().unwrap()).unwrap();

            let mut exercised: Vec<&str> = Vec::new();
            let mut status = |name: &'static str, f: &dyn Fn() -> c_int| {
                panic_in_this_thread(true);
                let got = f();
                panic_in_this_thread(false);
                assert_eq!(got, internal, "{name}");
                assert!(
                    last_error().starts_with("internal error (a bug in libprovision): forced panic"),
                    "{name}: {}",
                    last_error()
                );
                exercised.push(name);
            };
            status("provision_load", &|| provision_load(file.as_ptr(), out));
            status("provision_load_xml", &|| provision_load_xml(PROVISION_XML.as_ptr(), out));
            status("provision_set_credentials", &|| provision_set_credentials(p, c"u".as_ptr(), c"pw".as_ptr()));
            status("provision_set_timeouts", &|| provision_set_timeouts(p, 1, 1));
            status("provision_set_ca_file", &|| provision_set_ca_file(p, ptr::null()));
            status("provision_run", &|| provision_run(p, ptr::null()));
            status("provision_store_local", &|| provision_store_local(p, c"<o/>".as_ptr(), file.as_ptr()));
            status("provision_set_call_active", &|| provision_set_call_active(p, 1));
            status("provision_start_refresh", &|| provision_start_refresh(p, ptr::null(), None, ptr::null_mut()));
            status("provision_stop_refresh", &|| provision_stop_refresh(p));
            status("provision_set_logger", &|| provision_set_logger(p, None, ptr::null_mut()));
            status("provision_set_cache", &|| provision_set_cache(p, ptr::null()));
            status("provision_save", &|| provision_save(p, file.as_ptr()));
            status("provision_set_user_agent", &|| provision_set_user_agent(p, ptr::null()));

            panic_in_this_thread(true);
            assert!(provision_config(p).is_null());
            assert!(provision_source_url(p).is_null());
            assert_eq!(provision_is_provisioned(p, c"accounts".as_ptr()), 0);
            assert_eq!(CStr::from_ptr(provision_last_error()), c"");
            provision_free(p); // the fallback: nothing freed, nothing crashed
            panic_in_this_thread(false);
            exercised.extend(["provision_config", "provision_source_url", "provision_is_provisioned"]);
            exercised.extend(["provision_last_error", "provision_free"]);
            // A static string: nothing that could panic.
            exercised.push("provision_version");

            // The handle still works after all those panics.
            assert_eq!(provision_set_timeouts(p, 100, 100), 0);
            assert_eq!(provision_store_local(p, c"<o/>".as_ptr(), file.as_ptr()), 0);
            assert_eq!(std::fs::read_to_string(dir.path().join("c.xml")).unwrap(), "<o/>");
            provision_free(p);

            // Every function of the header is covered.
            let header = include_str!("../include/provision.h");
            let mut declared: Vec<&str> = header
                .lines()
                .filter_map(|l| l.split_once('(').map(|(head, _)| head))
                .filter_map(|head| head.split_whitespace().last())
                .map(|name| name.trim_start_matches('*'))
                .filter(|name| name.starts_with("provision_"))
                .collect();
            declared.sort();
            exercised.sort();
            assert_eq!(declared, exercised, "add new exported functions to this test");
        }
    }

    #[test]
    fn a_panic_message_of_any_type_is_reported() {
        let status = call(|| std::panic::panic_any(42u8));
        assert_eq!(status, Status::PROVISION_ERR_INTERNAL as c_int);
        assert_eq!(last_error(), "internal error (a bug in libprovision): unknown panic");
        assert_eq!(call(|| Ok(())), 0);
        assert_eq!(last_error(), "", "a success clears it");
    }
}
