//! `provision_log_cb`: the host's log hears every base URL tried and every
//! notice (the library never writes to stdout or stderr).

use super::handle::{handle, in_callback, in_callback_scope, Handle};
use super::{c_text, call, lock};
use crate::log::{Kind, Record, Sink};
use crate::Provisioner;
use libc::{c_char, c_int, c_void};
use std::ptr;
use std::sync::{Arc, Condvar, Mutex};

/// What a `provision_log_record_t` is about (its `kind`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// One base URL a run tried: `url`, `status`, `message`, `elapsed_ms`.
    PROVISION_LOG_ATTEMPT = 0,
    /// Something the host should know that fails nothing (a corrupt cache
    /// ignored, a `<provision>` section refused, a cache not written):
    /// `url` is NULL, `status` says what went wrong, `elapsed_ms` is 0.
    PROVISION_LOG_NOTICE = 1,
}

/// One record for the host's log. In 1.x it only grows at its end: never
/// copy it by value or allocate it on the host's side.
#[repr(C)]
pub struct LogRecord {
    /// A `provision_log_kind` value; treat one this version does not know
    /// as a notice.
    pub kind: c_int,
    /// For an attempt, BASE + "configuration" without credentials (no
    /// password in the userinfo, no `url`-type credentials in the query);
    /// NULL for a notice.
    pub url: *const c_char,
    /// For an attempt: PROVISION_OK for the URL that served,
    /// PROVISION_ERR_SERVER for an `<error>` answer, PROVISION_ERR_FETCH for
    /// any other failure. For a notice: the status of what went wrong.
    pub status: c_int,
    /// What happened, as a sentence ("ok, 1234 bytes", "server error: TEXT",
    /// "connection refused"...), scrubbed like error messages: never a
    /// password, its MD5 or a Basic token. Never NULL.
    pub message: *const c_char,
    /// Wall time spent on that URL, redirects included; 0 for a notice.
    pub elapsed_ms: u64,
}

/// Hears each record of the runs on a handle; see `provision_set_logger`.
#[allow(non_camel_case_types)]
pub type provision_log_cb = Option<unsafe extern "C" fn(userdata: *mut c_void, record: *const LogRecord)>;

/// A host's log callback and its pointer.
#[derive(Clone, Copy)]
struct CLogger {
    cb: unsafe extern "C" fn(*mut c_void, *const LogRecord),
    userdata: *mut c_void,
}

/// The one sink a handle gives the core, for the handle's whole life: each
/// record goes to the C logger set at that moment. Replacing the logger
/// waits for a call to the old one under way, so that when
/// `provision_set_logger` returns the old `userdata` (a Python thunk, a C++
/// function object) may go at once.
pub(crate) struct LogSlot {
    /// The handle's id, to mark its log callbacks on their thread.
    id: u64,
    state: Mutex<SlotState>,
    idle: Condvar,
}

#[derive(Default)]
struct SlotState {
    logger: Option<CLogger>,
    /// Calls to a logger under way (runs on a handle take turns: 0 or 1).
    calls: usize,
}

// SAFETY: the contract of provision_set_logger makes the host answerable for
// `userdata` being usable from any thread that runs provision_run.
unsafe impl Send for SlotState {}

impl LogSlot {
    /// A slot for the handle `id`, set as `core`'s sink.
    pub(crate) fn install(id: u64, core: &Provisioner) -> Arc<LogSlot> {
        let slot = Arc::new(LogSlot { id, state: Mutex::new(SlotState::default()), idle: Condvar::new() });
        let sink = slot.clone();
        core.set_logger(Some(Arc::new(move |record: &Record| sink.hear(record)) as Sink));
        slot
    }

    /// Sets the logger; unless `wait` is false, returns once no call to
    /// the one it replaced is under way.
    fn set(&self, logger: Option<CLogger>, wait: bool) {
        let mut state = lock(&self.state);
        state.logger = logger;
        while wait && state.calls > 0 {
            state = self.idle.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn hear(&self, record: &Record) {
        let logger = {
            let mut state = lock(&self.state);
            let Some(logger) = state.logger else { return };
            state.calls += 1;
            logger
        };
        // Counts the call down however it ends.
        struct Done<'a>(&'a LogSlot);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                let mut state = lock(&self.0.state);
                state.calls -= 1;
                if state.calls == 0 {
                    self.0.idle.notify_all();
                }
            }
        }
        let _done = Done(self);
        let kind = match record.kind {
            Kind::Attempt => LogKind::PROVISION_LOG_ATTEMPT,
            Kind::Notice => LogKind::PROVISION_LOG_NOTICE,
        };
        let url = record.url.as_deref().map(c_text);
        let message = c_text(&record.message);
        let c_record = LogRecord {
            kind: kind as c_int,
            url: url.as_ref().map_or(ptr::null(), |u| u.as_ptr()),
            status: record.status as c_int,
            message: message.as_ptr(),
            elapsed_ms: record.elapsed_ms(),
        };
        // SAFETY: `cb` is the host's function, called as its contract says;
        // the strings outlive the call.
        in_callback_scope(self.id, || unsafe { (logger.cb)(logger.userdata, &c_record) });
    }
}

/// Sets the function that hears each base URL a run tries, and each notice,
/// so that they reach the host's own log; NULL `cb` removes it.
///
/// `cb(userdata, record)` is called once per URL tried, in order
/// (PROVISION_LOG_ATTEMPT), and once per notice (PROVISION_LOG_NOTICE); see
/// `provision_log_record_t`. `userdata` is passed untouched.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle.
/// Lifetime: `record` and its strings are valid only during the call. The
/// new logger hears every record made after this returns, runs under way
/// included. When this returns, no call to the logger it replaced is under
/// way and none will be made: its `userdata` may be released at once. (The
/// exception: called from inside the log callback itself, it does not wait
/// for that call, the caller's own.) So it may wait for a callback under
/// way: do not call it holding a lock that the logger waits for.
/// `userdata` must stay usable until the logger is replaced or removed, or
/// until `provision_free` returns.
/// Threads: any, at any time, also while runs are under way. `cb` is called
/// on the thread running the run (the caller of `provision_run`, or the
/// refresh worker), before the run returns, never concurrently for one
/// handle. It must return normally (no longjmp, no C++ exception crossing
/// it). It may call functions on the handle except `provision_run` (which
/// would wait for itself); `provision_free` and `provision_stop_refresh`
/// there only tell the worker to stop (see them).
///
/// # Safety
/// `p` is NULL or a live handle; `cb` is NULL or a function with this
/// signature that may be called as described.
#[no_mangle]
pub unsafe extern "C" fn provision_set_logger(p: *mut Handle, cb: provision_log_cb, userdata: *mut c_void) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.log.set(cb.map(|cb| CLogger { cb, userdata }), !in_callback(h.id));
        Ok(())
    })
}
