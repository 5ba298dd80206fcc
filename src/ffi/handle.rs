//! `provision_t`: the handle, its life (load, free) and its settings.

use super::logger::LogSlot;
use super::outcome::{unpin, OutcomeSnapshot};
use super::{arc_clone, arc_release, arg_opt_path, arg_opt_str, arg_path, arg_str, call, create, guard, lock};
use crate::refresh::Refresher;
use crate::{Error, Outcome, Provisioner, Result};
use libc::{c_char, c_int, c_uint};
use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An opaque provisioning handle: one provision file, its credentials, its
/// settings and the outcome of the last successful run. Made by
/// `provision_load` or `provision_load_xml`, released by `provision_free`.
/// Every function taking one may be called from any thread at the same time.
pub struct Handle {
    /// Unique for the process's life (never reused, unlike an address): the
    /// key of per-thread state such as the strings `provision_config` pins.
    pub(crate) id: u64,
    pub(crate) core: Arc<Provisioner>,
    pub(crate) refresh: Mutex<Option<Refresher>>,
    /// Set by `provision_free`: a run whose logger freed the handle stops
    /// (and joins) the worker before it returns.
    released: AtomicBool,
    /// Where the core's records go: the host's current log callback.
    pub(crate) log: Arc<LogSlot>,
    /// The C form of the last outcome, made once per outcome and shared by
    /// every reader: a multi-megabyte config is not copied per call.
    snapshot: Mutex<Option<Arc<OutcomeSnapshot>>>,
}

/// One log callback under way on this thread: a frame on the stack of
/// [`in_callback_scope`], linked to the one it is nested in.
struct CallbackFrame {
    id: u64,
    outer: *const CallbackFrame,
}

thread_local! {
    /// The innermost log callback this thread is running now. A plain
    /// pointer, without a destructor: a thread-local with one, first used from
    /// a pthread key destructor (after glibc ran those), would never be freed.
    static IN_CALLBACK: Cell<*const CallbackFrame> = const { Cell::new(ptr::null()) };
}

impl Handle {
    fn new(core: Provisioner) -> Arc<Handle> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Arc::new(Handle {
            id,
            log: LogSlot::install(id, &core),
            core: Arc::new(core),
            refresh: Mutex::new(None),
            released: AtomicBool::new(false),
            snapshot: Mutex::new(None),
        })
    }

    /// The snapshot of the last successful run, if any.
    pub(crate) fn snapshot(&self) -> Option<Arc<OutcomeSnapshot>> {
        self.core.last().map(|last| self.snapshot_of(&last))
    }

    /// The snapshot of `outcome`: the shared one when it is the last made.
    pub(crate) fn snapshot_of(&self, outcome: &Arc<Outcome>) -> Arc<OutcomeSnapshot> {
        let mut cached = lock(&self.snapshot);
        match cached.as_ref() {
            Some(snapshot) if snapshot.is_of(outcome) => snapshot.clone(),
            _ => {
                let snapshot = Arc::new(OutcomeSnapshot::new(outcome.clone()));
                *cached = Some(snapshot.clone());
                snapshot
            }
        }
    }

    /// Stops the refresh worker, if one runs, and joins it, except where a
    /// join would wait for this very thread: on the worker itself (inside
    /// the refresh callback) and inside this handle's log callback (the run
    /// that calls it may hold up the worker). There the worker is only told
    /// to stop, and kept, so that a later stop, the free of the last
    /// reference or another thread joins it.
    pub(crate) fn stop_worker(&self) {
        let stopped = {
            let mut slot = lock(&self.refresh);
            match slot.as_ref() {
                Some(worker) if worker.is_worker_thread() || self.in_callback() => {
                    worker.signal_stop();
                    None
                }
                _ => slot.take(),
            }
        };
        drop(stopped); // joins, outside the lock: the callback may use the handle
    }

    pub(crate) fn in_callback(&self) -> bool {
        in_callback(self.id)
    }
}

/// Runs `f`, a log callback of the handle `id`, marked as such on this thread.
pub(crate) fn in_callback_scope<R>(id: u64, f: impl FnOnce() -> R) -> R {
    struct Scope(Option<*const CallbackFrame>);
    impl Drop for Scope {
        fn drop(&mut self) {
            if let Some(outer) = self.0 {
                let _ = IN_CALLBACK.try_with(|head| head.set(outer));
            }
        }
    }
    let frame = CallbackFrame { id, outer: IN_CALLBACK.try_with(Cell::get).unwrap_or(ptr::null()) };
    // The frame outlives its place in the list: the scope unlinks it first.
    let _scope = Scope(IN_CALLBACK.try_with(|head| head.replace(&frame)).ok());
    f()
}

/// Whether this thread is inside a log callback of the handle `id`.
pub(crate) fn in_callback(id: u64) -> bool {
    let mut frame = IN_CALLBACK.try_with(Cell::get).unwrap_or(ptr::null());
    // SAFETY: each frame in the list lives on this thread's stack until its
    // scope, which ends after every frame nested in it, unlinks it.
    while let Some(f) = unsafe { frame.as_ref() } {
        if f.id == id {
            return true;
        }
        frame = f.outer;
    }
    false
}

impl Drop for Handle {
    /// The last reference: the worker goes before anything else (a
    /// `Refresher` joins when dropped, or, on the worker's own thread, lets it
    /// end when its callback returns).
    fn drop(&mut self) {
        let worker = self.refresh.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        match worker {
            // Freed from a log callback (of the worker's attempt): a worker
            // waiting for that attempt's turn cannot be joined here.
            Some(worker) if self.in_callback() => worker.detach(),
            worker => drop(worker),
        }
    }
}

/// A clone of the handle for one call.
///
/// # Safety
/// `p` is NULL or a live handle.
pub(crate) unsafe fn handle(p: *const Handle) -> Result<Arc<Handle>> {
    arc_clone(p, "the handle")
}

/// Reads and validates the provision file at `provision_path` and stores a
/// new handle in `*out`.
///
/// Returns: PROVISION_OK; PROVISION_ERR_NOT_FOUND when the file does not
/// exist (provisioning is off); PROVISION_ERR_IO when it cannot be read (a
/// folder, no permission); PROVISION_ERR_FORMAT when it is malformed (the
/// message names the file, line and element) or larger than 4 MiB;
/// PROVISION_ERR_ARGUMENT for a NULL, empty or non-UTF-8 path or a NULL `out`.
/// Ownership: `*out` is the caller's, released with `provision_free`; it is
/// NULL after a failure.
/// Threads: any.
///
/// # Safety
/// `provision_path` is NULL or a NUL-terminated string; `out` is NULL or
/// points to writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn provision_load(provision_path: *const c_char, out: *mut *mut Handle) -> c_int {
    call(|| create(out, || Ok(Handle::new(Provisioner::load(arg_path(provision_path, "provision_path")?)?))))
}

/// As `provision_load`, from the text of a provision file held in memory.
///
/// Returns: as `provision_load`, without the file errors; PROVISION_ERR_FORMAT
/// names "provision XML" instead of a file.
/// Ownership: as `provision_load`; `provision_xml` stays the caller's.
/// Threads: any.
///
/// # Safety
/// As `provision_load`.
#[no_mangle]
pub unsafe extern "C" fn provision_load_xml(provision_xml: *const c_char, out: *mut *mut Handle) -> c_int {
    call(|| create(out, || Ok(Handle::new(Provisioner::from_xml(arg_str(provision_xml, "provision_xml")?)?))))
}

/// Releases the caller's handle. NULL is a no-op.
///
/// First the refresh worker is stopped and, from any other thread than its
/// own, joined: no refresh callback runs after this returns. Then the
/// handle is released; what it holds is freed once the calls whose
/// callbacks are under way (a run whose logger freed it) have returned. A
/// call on another thread may not overlap this one: it could take the
/// handle just after it was freed (see Threads). Strings from `provision_config`/`provision_source_url` are
/// invalid after this; outcomes from `provision_last_outcome` stay valid
/// until `provision_outcome_free`.
///
/// Inside the handle's own refresh callback it tells the worker to stop and
/// returns at once; the worker ends, and the handle goes, when the callback
/// returns. Inside the handle's log callback it tells the worker to stop and
/// returns; the run that called the logger goes on, joins the worker before
/// it returns (unless it is the worker's own attempt, which is its last),
/// and the handle goes then. In both, the callback must not use `p` after.
/// Wherever it is called from, no record reaches the logger after it
/// returns (but the one under way, if it is called from the logger): the
/// logger's `userdata` may go once that callback returns.
///
/// Returns: nothing.
/// Ownership: `p` is the library's again; never use it after.
/// Threads: any, once per handle, after every other call on `p` has
/// returned or from inside one of its callbacks.
///
/// # Safety
/// `p` is NULL or a handle from `provision_load*` not freed before.
#[no_mangle]
pub unsafe extern "C" fn provision_free(p: *mut Handle) {
    guard((), || {
        if let Ok(h) = handle(p) {
            h.released.store(true, Ordering::SeqCst);
            h.stop_worker();
            // No record reaches the host's logger after this returns (the
            // call it is made from aside): a worker's attempt that goes on,
            // with no run returning to tell when it ends, would otherwise
            // leave the host no moment at which its userdata may go.
            h.log.remove(!h.in_callback());
            unpin(h.id);
            arc_release(p);
        }
    })
}

/// Sets the credentials to send, overriding the file's `user`/`password`.
/// Required before `provision_run` when `user_input_authentication` is 1.
/// The password is kept in memory only and never appears in a message.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT for NULL or non-UTF-8
/// arguments, or, with `basic` authentication, a user name containing ':'
/// (RFC 7617 cannot carry it).
/// Ownership: the strings stay the caller's (copied).
/// Threads: any; a run already under way keeps the credentials it started with.
///
/// # Safety
/// `p` is NULL or a live handle; `user` and `password` are NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn provision_set_credentials(
    p: *mut Handle,
    user: *const c_char,
    password: *const c_char,
) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.set_credentials(arg_str(user, "user")?, arg_str(password, "password")?)
    })
}

/// Sets the timeouts of every later request on this handle: `connect_ms`
/// to establish a connection (TCP and TLS handshake), `total_ms` for the
/// whole request including the body. A URL that takes longer fails and the
/// next one is tried. Defaults: 5000 and 30000.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle or a
/// zero value.
/// Threads: any; a run already under way keeps its timeouts.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_set_timeouts(p: *mut Handle, connect_ms: c_uint, total_ms: c_uint) -> c_int {
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
/// Returns: PROVISION_OK; PROVISION_ERR_IO when the file cannot be read;
/// PROVISION_ERR_FORMAT when it holds no PEM certificate or is larger than
/// 4 MiB; PROVISION_ERR_ARGUMENT for a NULL handle or an empty or non-UTF-8
/// path. After a failure the trusted certificates are unchanged.
/// Ownership: `pem_path` stays the caller's.
/// Threads: any; a run already under way keeps its trust.
///
/// # Safety
/// `p` is NULL or a live handle; `pem_path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn provision_set_ca_file(p: *mut Handle, pem_path: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.set_ca_file(arg_opt_path(pem_path, "pem_path")?)
    })
}

/// Provisions: reads the local config at `local_config_path` (NULL or a
/// missing file: none), asks each base URL in turn for BASE + "configuration",
/// and merges the first usable answer into the local config. Nothing is
/// written to disk; see `provision_store_local`.
///
/// While a call is active (`provision_set_call_active`) it returns
/// PROVISION_ERR_DEFERRED at once and makes no request. When every URL
/// fails and a cache is set (`provision_set_cache`) and holds sections, they
/// are merged instead and it returns PROVISION_CACHED: the config is usable,
/// the outcome's source URL is NULL and the last error still says why each
/// URL failed. A later run asks the URL that served the last answer with
/// `If-None-Match`/`If-Modified-Since` from its `ETag`/`Last-Modified`;
/// `304 Not Modified` is success with that answer merged again. When
/// `provision` is significant, a valid `<provision>` section in the answer
/// replaces the handle's settings (base URLs, options, significant
/// sections) from the next run on.
///
/// Returns: PROVISION_OK or PROVISION_CACHED (a new outcome is in place, see
/// `provision_last_outcome`); PROVISION_ERR_CREDENTIALS before any request
/// when credentials are needed and missing; PROVISION_ERR_FORMAT or
/// PROVISION_ERR_IO for a bad local config (malformed, unreadable or larger
/// than 64 MiB; nothing is fetched); PROVISION_ERR_SERVER when a server
/// answered `<error>` (the last error is exactly its text, to show the
/// user); PROVISION_ERR_FETCH when every URL failed otherwise (the last
/// error lists each URL and why); PROVISION_ERR_ARGUMENT for a NULL handle
/// or an empty or non-UTF-8 path, and from inside the handle's own log
/// callback (the run that called it holds the handle's turn: it would wait
/// for itself). A failed run leaves the previous outcome in place.
/// Ownership: `local_config_path` stays the caller's.
/// Threads: any; runs on one handle (the worker's included) take turns.
/// The logger is called on this thread before it returns.
///
/// # Safety
/// `p` is NULL or a live handle; `local_config_path` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn provision_run(p: *mut Handle, local_config_path: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        if h.in_callback() {
            // The run that called the logger holds the handle's turn: this
            // one would wait for it for ever.
            return Err(Error::argument(
                "provision_run from inside the handle's own log callback would wait for itself: run after it returns",
            ));
        }
        let result = h.core.run(arg_opt_path(local_config_path, "local_config_path")?).map(drop);
        if h.released.load(Ordering::SeqCst) {
            // Freed by the logger of this run, which could not join the
            // worker: no refresh callback may follow this return.
            h.stop_worker();
        }
        result
    })
}

/// Writes `config_xml` (NULL: the merged config of the last run) to
/// `local_config_path` without the sections the last successful run
/// provisioned. The write is atomic (temp file, fsync, rename); a new file
/// gets mode 0600, an existing one keeps its owner's mode without group or
/// other write.
///
/// Returns: PROVISION_OK; PROVISION_ERR_FORMAT when `config_xml` is
/// malformed; PROVISION_ERR_IO when the file cannot be written (the old one
/// is kept); PROVISION_ERR_ARGUMENT for a NULL handle, a NULL or empty path,
/// or a NULL `config_xml` before any successful run.
/// Ownership: the strings stay the caller's.
/// Threads: any.
///
/// # Safety
/// `p` is NULL or a live handle; the strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn provision_store_local(
    p: *const Handle,
    config_xml: *const c_char,
    local_config_path: *const c_char,
) -> c_int {
    call(|| {
        let h = handle(p)?;
        let config = arg_opt_str(config_xml, "config_xml")?;
        h.core.store_local(config, arg_path(local_config_path, "local_config_path")?)
    })
}

/// Keeps a last-known-good cache at `cache_path` (NULL: none): after each
/// successful run the answer's provisioned sections are written there
/// (atomically, always mode 0600), and when every URL fails they
/// are merged instead (PROVISION_CACHED). A cache that cannot be read or is
/// corrupt is ignored, never fatal: the logger hears a PROVISION_LOG_NOTICE.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle or an
/// empty or non-UTF-8 path.
/// Ownership: `cache_path` stays the caller's (copied).
/// Threads: any.
///
/// # Safety
/// `p` is NULL or a live handle; `cache_path` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn provision_set_cache(p: *mut Handle, cache_path: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.set_cache(arg_opt_path(cache_path, "cache_path")?);
        Ok(())
    })
}

/// Writes the handle's current settings, including what a server's
/// `<provision>` section changed, as a provision file at `provision_path`:
/// atomically, always mode 0600 (it may hold a password). Credentials
/// from `provision_set_credentials` are not written.
///
/// Returns: PROVISION_OK; PROVISION_ERR_IO when it cannot be written (the
/// old file is kept); PROVISION_ERR_ARGUMENT for a NULL handle or a NULL,
/// empty or non-UTF-8 path.
/// Ownership: `provision_path` stays the caller's.
/// Threads: any.
///
/// # Safety
/// `p` is NULL or a live handle; `provision_path` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn provision_save(p: *const Handle, provision_path: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.save(arg_path(provision_path, "provision_path")?)
    })
}

/// Sets the `User-Agent` header of the requests of later runs; NULL
/// restores the default, "libprovision/" followed by `provision_version()`.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle, or a
/// value that is empty or holds anything but printable ASCII.
/// Ownership: `user_agent` stays the caller's (copied).
/// Threads: any; a run already under way keeps its User-Agent.
///
/// # Safety
/// `p` is NULL or a live handle; `user_agent` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn provision_set_user_agent(p: *mut Handle, user_agent: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.set_user_agent(arg_opt_str(user_agent, "user_agent")?)
    })
}
