//! `provision_outcome_t`: immutable snapshots of a run's outcome, and the
//! handle's own accessors, which read through the same snapshots.
//!
//! A snapshot holds the C form of one outcome (its strings made once, when
//! the first reader asks) and is shared by `Arc`: an outcome handed to C
//! holds its own reference, and `provision_config`/`provision_source_url`
//! pin one per thread and handle, so no other thread's call can free what a
//! thread was given.

use super::handle::{handle, Handle};
use super::{arc_clone, arc_into_raw, arc_release, arg_str, guard};
use crate::Outcome;
use libc::{c_char, c_int};
use std::cell::RefCell;
use std::ffi::CString;
use std::ptr;
use std::sync::{Arc, Weak};

/// An opaque, immutable snapshot of the outcome of one successful run: its
/// merged config, source URL and provisioned sections. Made by
/// `provision_last_outcome`, released by `provision_outcome_free`; valid and
/// unchanged until then, whatever any thread does meanwhile (runs, the
/// refresh worker, `provision_free` of its handle). May be read from any
/// thread at the same time.
pub struct OutcomeSnapshot {
    outcome: Arc<Outcome>,
    config: CString,
    source_url: Option<CString>,
    provisioned: CString,
}

impl OutcomeSnapshot {
    pub(crate) fn new(outcome: Arc<Outcome>) -> OutcomeSnapshot {
        // Checked documents hold no NUL: one copy, into a buffer with room
        // for the terminator. (c_text, which escapes a NUL, is the fallback.)
        let c = |text: &str| CString::new(text).unwrap_or_else(|_| super::c_text(text));
        OutcomeSnapshot {
            config: c(&outcome.config),
            source_url: (!outcome.from_cache).then(|| c(&outcome.source_url)),
            provisioned: c(&outcome.provisioned.join(",")),
            outcome,
        }
    }

    /// Whether this is the snapshot of `outcome` (the very same run's).
    pub(crate) fn is_of(&self, outcome: &Arc<Outcome>) -> bool {
        Arc::ptr_eq(&self.outcome, outcome)
    }

    pub(crate) fn config(&self) -> *const c_char {
        self.config.as_ptr()
    }

    fn source_url(&self) -> *const c_char {
        self.source_url.as_ref().map_or(ptr::null(), |url| url.as_ptr())
    }
}

// ------------------------------------------------------------- pins

/// What one thread was last given by `provision_config`/`provision_source_url`
/// on one handle. The `Weak` tells when the handle is gone, so that the pin
/// can be pruned.
struct Pin {
    id: u64,
    handle: Weak<Handle>,
    snapshot: Option<Arc<OutcomeSnapshot>>,
}

thread_local! {
    static PINS: RefCell<Vec<Pin>> = const { RefCell::new(Vec::new()) };
}

/// The handle's current snapshot, pinned for this thread until its next
/// `pin` on the same handle; pins of handles that are gone are dropped.
/// `None` when there is no outcome yet, or no thread-local storage left to
/// pin it in (then nothing may be handed out).
fn pin(h: &Arc<Handle>) -> Option<Arc<OutcomeSnapshot>> {
    let snapshot = h.snapshot()?;
    PINS.try_with(|pins| {
        let mut pins = pins.try_borrow_mut().ok()?;
        pins.retain(|pin| pin.handle.strong_count() > 0);
        match pins.iter_mut().find(|pin| pin.id == h.id) {
            Some(pin) => pin.snapshot = Some(snapshot.clone()),
            None => pins.push(Pin { id: h.id, handle: Arc::downgrade(h), snapshot: Some(snapshot.clone()) }),
        }
        Some(snapshot)
    })
    .ok()
    .flatten()
}

/// Drops this thread's pin on the handle `id` (at `provision_free`).
pub(crate) fn unpin(id: u64) {
    let removed = PINS.try_with(|pins| {
        let mut pins = pins.try_borrow_mut().ok()?;
        let at = pins.iter().position(|pin| pin.id == id)?;
        Some(pins.swap_remove(at))
    });
    // Dropped outside the borrow: a snapshot's drop frees its strings only.
    drop(removed);
}

// ------------------------------------------------------ the handle's readers

/// The merged config of the last successful run (PROVISION_OK or
/// PROVISION_CACHED).
///
/// Returns: NULL before a successful run and for a NULL handle.
/// Ownership: the library's; do not free.
/// Lifetime: until this same thread calls `provision_config` or
/// `provision_source_url` on the same handle again, or `provision_free`.
/// Other threads' calls (runs, the worker, readers) never invalidate it.
/// Threads: any. To keep an outcome across calls, or to hand it to another
/// thread, use `provision_last_outcome`.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_config(p: *const Handle) -> *const c_char {
    guard(ptr::null(), || match handle(p) {
        Ok(h) => pin(&h).map_or(ptr::null(), |s| s.config()),
        Err(_) => ptr::null(),
    })
}

/// The base URL, as written in the provision file, that served the last
/// successful run.
///
/// Returns: NULL before a successful run, when the last-known-good cache
/// served it (PROVISION_CACHED), and for a NULL handle.
/// Ownership and lifetime: as `provision_config`.
/// Threads: any.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_source_url(p: *const Handle) -> *const c_char {
    guard(ptr::null(), || match handle(p) {
        Ok(h) => pin(&h).map_or(ptr::null(), |s| s.source_url()),
        Err(_) => ptr::null(),
    })
}

/// Returns: 1 if the last successful run provisioned `section` (it is
/// significant and the answer held it), else 0, also for NULL arguments.
/// Threads: any.
///
/// # Safety
/// `p` is NULL or a live handle; `section` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn provision_is_provisioned(p: *const Handle, section: *const c_char) -> c_int {
    guard(0, || {
        let (Ok(h), Ok(section)) = (handle(p), arg_str(section, "section")) else {
            return 0;
        };
        c_int::from(h.core.last().is_some_and(|last| last.is_provisioned(section)))
    })
}

// ---------------------------------------------------------------- outcomes

/// A snapshot of the outcome of the handle's last successful run
/// (PROVISION_OK or PROVISION_CACHED).
///
/// Returns: NULL before a successful run and for a NULL handle.
/// Ownership: the caller's; release it with `provision_outcome_free`.
/// Lifetime: until `provision_outcome_free`, also after `provision_free`
/// of the handle; it never changes (a later run makes a new outcome).
/// Threads: any; the outcome may be read from any thread at the same time.
///
/// # Safety
/// `p` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn provision_last_outcome(p: *const Handle) -> *mut OutcomeSnapshot {
    guard(ptr::null_mut(), || match handle(p) {
        Ok(h) => h.snapshot().map_or(ptr::null_mut(), arc_into_raw),
        Err(_) => ptr::null_mut(),
    })
}

/// A reference to the snapshot behind `o`, for one call.
///
/// # Safety
/// `o` is NULL or an outcome not freed yet.
unsafe fn outcome(o: *const OutcomeSnapshot) -> Option<Arc<OutcomeSnapshot>> {
    arc_clone(o, "the outcome").ok()
}

/// The merged config of the outcome.
///
/// Returns: never NULL for an outcome; NULL for NULL.
/// Ownership: the outcome's; do not free.
/// Lifetime: until `provision_outcome_free(o)`.
/// Threads: any.
///
/// # Safety
/// `o` is NULL or an outcome not freed yet.
#[no_mangle]
pub unsafe extern "C" fn provision_outcome_config(o: *const OutcomeSnapshot) -> *const c_char {
    // The pointer is into the snapshot, which the caller's reference keeps.
    guard(ptr::null(), || outcome(o).map_or(ptr::null(), |s| s.config()))
}

/// The base URL, as written in the provision file, that served the outcome.
///
/// Returns: NULL when the last-known-good cache served it (PROVISION_CACHED),
/// and for NULL.
/// Ownership and lifetime: as `provision_outcome_config`.
/// Threads: any.
///
/// # Safety
/// `o` is NULL or an outcome not freed yet.
#[no_mangle]
pub unsafe extern "C" fn provision_outcome_source_url(o: *const OutcomeSnapshot) -> *const c_char {
    guard(ptr::null(), || outcome(o).map_or(ptr::null(), |s| s.source_url()))
}

/// The significant sections the outcome provisioned, comma-separated, in the
/// order of the provision file's `significant_sections` (e.g.
/// "accounts,codecs"); "" when none.
///
/// Returns: never NULL for an outcome; NULL for NULL.
/// Ownership and lifetime: as `provision_outcome_config`.
/// Threads: any.
///
/// # Safety
/// `o` is NULL or an outcome not freed yet.
#[no_mangle]
pub unsafe extern "C" fn provision_outcome_provisioned(o: *const OutcomeSnapshot) -> *const c_char {
    guard(ptr::null(), || outcome(o).map_or(ptr::null(), |s| s.provisioned.as_ptr()))
}

/// Returns: 1 if the outcome provisioned `section`, else 0, also for NULL
/// arguments.
/// Threads: any.
///
/// # Safety
/// `o` is NULL or an outcome not freed yet; `section` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn provision_outcome_is_provisioned(o: *const OutcomeSnapshot, section: *const c_char) -> c_int {
    guard(0, || {
        let (Some(s), Ok(section)) = (outcome(o), arg_str(section, "section")) else {
            return 0;
        };
        c_int::from(s.outcome.is_provisioned(section))
    })
}

/// Returns: 1 if the last-known-good cache served the outcome (the run
/// returned PROVISION_CACHED), 0 if a server did, and 0 for NULL.
/// Threads: any.
///
/// # Safety
/// `o` is NULL or an outcome not freed yet.
#[no_mangle]
pub unsafe extern "C" fn provision_outcome_from_cache(o: *const OutcomeSnapshot) -> c_int {
    guard(0, || outcome(o).map_or(0, |s| c_int::from(s.outcome.from_cache)))
}

/// Releases an outcome and its strings. NULL is a no-op.
///
/// Returns: nothing.
/// Ownership: `o` is the library's again; never use it or its strings after.
/// Threads: any, once per outcome, after every other call on it has returned.
///
/// # Safety
/// `o` is NULL or an outcome from `provision_last_outcome` not freed before.
#[no_mangle]
pub unsafe extern "C" fn provision_outcome_free(o: *mut OutcomeSnapshot) {
    guard((), || arc_release(o))
}
