//! The refresh worker and the call gate: `provision_start_refresh`,
//! `provision_stop_refresh`, `provision_refresh_now`, `provision_set_call_active`.

use super::handle::{handle, Handle};
use super::{arg_opt_path, call, lock, set_last_error};
use crate::provisioner::Report;
use crate::refresh::Refresher;
use crate::{Error, Result, Status};
use libc::{c_char, c_int, c_uint, c_void};
use std::ptr;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Called by the refresh worker, on its own thread, after each attempt:
/// `status` is what `provision_run` would have returned, `changed` is 1 when
/// the merged config differs from the one before the attempt, `config` is
/// the merged config for PROVISION_OK and PROVISION_CACHED (NULL otherwise),
/// valid only during the call (`provision_last_outcome` keeps it). Inside
/// the callback `provision_last_error()` gives the attempt's message. The
/// callback may call any function on the handle, `provision_stop_refresh`
/// and `provision_free` included (see them).
#[allow(non_camel_case_types)]
pub type provision_refresh_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, status: c_int, changed: c_int, config: *const c_char)>;

/// The host's callback and its pointer, moved to the worker thread.
struct HostCallback {
    cb: provision_refresh_cb,
    userdata: *mut c_void,
    /// Not a strong reference: the handle owns the worker, not the reverse.
    handle: Weak<Handle>,
}

// SAFETY: the host gave the pointer to be used from the worker thread, which
// is what `provision_start_refresh` documents; the library never reads it.
unsafe impl Send for HostCallback {}

impl HostCallback {
    fn report(&self, result: &Result<Report>) {
        let Some(cb) = self.cb else { return };
        // Held for the callback's duration: a provision_free inside it
        // leaves the last reference here, released when it returns.
        let Some(h) = self.handle.upgrade() else { return };
        let (status, changed, snapshot) = match result {
            Ok(report) => {
                let status = report.cached.as_ref().map_or(Status::PROVISION_OK, |e| e.status);
                set_last_error(report.cached.as_ref().map_or("", |e| e.message.as_str()));
                (status, report.changed, Some(h.snapshot_of(&report.outcome)))
            }
            Err(e) => {
                set_last_error(&e.message);
                (e.status, false, None)
            }
        };
        let config = snapshot.as_ref().map_or(ptr::null(), |s| s.config());
        // SAFETY: the host's function, called as its type says; `config`
        // outlives the call.
        unsafe { cb(self.userdata, status as c_int, c_int::from(changed), config) };
    }
}

/// Starts the handle's refresh worker: a background thread that runs
/// provisioning (as `provision_run(p, local_config_path)`) about every
/// `refresh_rate` seconds after the last success, whoever ran it, and calls
/// `cb(userdata, ...)` after each attempt (`cb` may be NULL). Without any
/// run yet the first attempt is at once; after a failed one, after a
/// back-off. No request is made while a call is active. A server that sets
/// `refresh_rate` to 0 through a `<provision>` section ends the worker.
/// The worker never writes the local config (it does write the cache, if
/// one is set).
///
/// Schedule, with T = `refresh_rate`. The period is drawn so that phones
/// started together (an office powering up) spread over the period by the
/// end of the first one, while every period keeps a mean of T (one request
/// per phone per T, as an operator plans for):
/// - after the worker's scheduled attempt succeeded following a success:
///   uniform in [0.9 T, 1.1 T];
/// - after any other success (the first one, whoever ran it; the first after
///   failures; one asked by `provision_refresh_now`): T/2 + E, E drawn from
///   the equilibrium distribution of those steady periods (E = U x V, U
///   uniform in [0, 1], V in [0.9 T, 1.1 T] with density proportional to
///   V), so that from T/2 on a handle asks at a constant rate 1/T; the mean
///   is T (1 + 0.01/6), in [0.5 T, 1.6 T].
/// After a failure it retries sooner than the period: 1 s, then doubling,
/// capped at T, each less up to 25% at random. When a server answered
/// `503` or `429` with `Retry-After: R` (seconds or an HTTP-date), the next
/// attempt also waits at least R, uniformly up to 1.5 R, but never more
/// than T (an R at or beyond T waits 0.75 T to T); the run itself still
/// tried the next base URL, and the log record of that URL says what the
/// server asked. docs/fleet.md has the reasoning and the measurements.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT when `refresh_rate` is 0,
/// a worker already runs, or for a NULL handle or an empty or non-UTF-8
/// path.
/// Ownership: `local_config_path` stays the caller's (copied).
/// Lifetime: `cb` and `userdata` must stay usable from the worker thread
/// until `provision_stop_refresh` or `provision_free` returns.
/// Threads: any; `cb` runs on the worker thread, one call at a time.
///
/// # Safety
/// `p` is NULL or a live handle; `local_config_path` is NULL or a
/// NUL-terminated string; `cb` is NULL or a function with this signature.
#[no_mangle]
pub unsafe extern "C" fn provision_start_refresh(
    p: *mut Handle,
    local_config_path: *const c_char,
    cb: provision_refresh_cb,
    userdata: *mut c_void,
) -> c_int {
    call(|| {
        let h = handle(p)?;
        let local = arg_opt_path(local_config_path, "local_config_path")?.map(std::path::Path::to_path_buf);
        let host = HostCallback { cb, userdata, handle: Arc::downgrade(&h) };
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

/// Stops the refresh worker and returns once it has stopped: promptly, not
/// after a period or a back-off (an attempt under way is finished first;
/// its callback is not made). No refresh callback is made after it
/// returns. Called from inside the refresh callback, or inside the
/// handle's log callback, it only tells the worker to stop and returns at
/// once: the worker ends when the callback (or the run) returns, and a later
/// stop, start or free joins it.
///
/// Returns: PROVISION_OK, also when no worker runs; PROVISION_ERR_ARGUMENT
/// for a NULL handle.
/// Threads: any.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_stop_refresh(p: *mut Handle) -> c_int {
    call(|| {
        handle(p)?.stop_worker();
        Ok(())
    })
}

/// Asks the running refresh worker for an attempt after a uniformly random
/// delay in [0, `max_delay_ms`] (0: at once), so that a whole fleet told at
/// once (a SIP `check-sync` NOTIFY) spreads over the window instead of
/// arriving in the same second. The asked attempt replaces the scheduled one
/// (or a back-off), whether that was due sooner or later. While a call is
/// up it waits for hang-up, as scheduled attempts do; it does not come
/// before the end of a server's `Retry-After`. Calls made before that
/// attempt starts coalesce into one (the earliest due time wins); a call
/// made while an attempt runs asks for another. The period after its
/// success is drawn afresh (T/2 + E, see `provision_start_refresh`), so the
/// fleet stays spread over the period afterwards.
///
/// Returns at once: PROVISION_OK; PROVISION_ERR_ARGUMENT when no worker
/// runs on the handle (never started, stopped, or ended by a
/// `refresh_rate` of 0) or for a NULL handle.
/// Threads: any, the refresh and log callbacks included.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_refresh_now(p: *mut Handle, max_delay_ms: c_uint) -> c_int {
    call(|| {
        let h = handle(p)?;
        let slot = lock(&h.refresh);
        match slot.as_ref() {
            Some(worker) => worker.refresh_now(Duration::from_millis(u64::from(max_delay_ms))),
            None => Err(Error::argument("no refresh worker runs on this handle: call provision_start_refresh first")),
        }
    })
}

/// Tells the library whether any call is up (`active` non-zero) or none is
/// (0). While a call is up, `provision_run` returns PROVISION_ERR_DEFERRED
/// and the refresh worker makes no request; a refresh that fell due during
/// the call runs once right after `provision_set_call_active(p, 0)`.
/// A request already under way when the call starts is finished.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle.
/// Threads: any.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_set_call_active(p: *mut Handle, active: c_int) -> c_int {
    call(|| {
        handle(p)?.core.set_call_active(active != 0);
        Ok(())
    })
}
