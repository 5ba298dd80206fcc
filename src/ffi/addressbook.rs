//! `provision_addressbook_t` and the calls of the addressbook part
//! (docs/addressbook.md).
//!
//! A fetched (or stored) addressbook reaches C as an opaque, immutable
//! snapshot shared by `Arc`, as outcomes are: it owns its strings, so it
//! stays valid and unchanged until `provision_addressbook_free`, whatever
//! the handle or other threads do (`provision_free` included).

use super::handle::{handle, Handle};
use super::{arc_clone, arc_release, arg_str, call, create, guard};
use crate::addressbook::Addressbook;
use libc::{c_char, c_int};
use std::ffi::CString;
use std::ptr;
use std::sync::Arc;

/// An opaque, immutable snapshot of an addressbook as a server sent it: the
/// `<addressbook>` document and its number of contacts. Made by
/// `provision_addressbook_fetch` and `provision_addressbook_add`, released by
/// `provision_addressbook_free`; valid and unchanged until then, whatever any
/// thread does meanwhile (`provision_free` of its handle included). May be
/// read from any thread at the same time.
pub struct AddressbookSnapshot {
    book: Arc<Addressbook>,
    xml: CString,
}

impl AddressbookSnapshot {
    fn new(book: Arc<Addressbook>) -> Arc<AddressbookSnapshot> {
        // Checked documents hold no NUL, so this keeps every byte.
        Arc::new(AddressbookSnapshot { xml: super::c_text(&book.xml), book })
    }
}

/// A reference to the snapshot behind `b`, for one call.
///
/// # Safety
/// `b` is NULL or a snapshot not freed yet.
unsafe fn snapshot(b: *const AddressbookSnapshot) -> Option<Arc<AddressbookSnapshot>> {
    arc_clone(b, "the addressbook").ok()
}

/// Fetches the addressbook (`GET BASE + "addressbook"`) from the base URLs in
/// turn, as `provision_run` fetches the configuration: same credentials,
/// fallback, redirect policy, size cap and `<error>` handling. A `304 Not
/// Modified` to the last fetch's validators gives that addressbook again.
/// Never deferred by an active call; never touches the configuration, its
/// outcome, the local config or the cache.
///
/// Returns: PROVISION_OK with a new snapshot in `*out`;
/// PROVISION_ERR_RESTRICTED, without a request, when `use_addressbook` is 0
/// in the current settings (including those a `<provision>` section
/// brought); PROVISION_ERR_CREDENTIALS as `provision_run`;
/// PROVISION_ERR_SERVER (the server's `<error>` text) or PROVISION_ERR_FETCH
/// (each URL and why) when no URL served; PROVISION_ERR_ARGUMENT for a NULL
/// `p` or `out`. `*out` is NULL after a failure.
/// Ownership: the caller owns `*out`; release it with
/// `provision_addressbook_free`.
/// Lifetime: `*out` until `provision_addressbook_free`, also after
/// `provision_free` of the handle.
/// Threads: any, concurrently with every other call on `p` (a run in
/// progress included: neither waits for the other). Blocks for the requests.
///
/// # Safety
/// `p` is NULL or a live handle; `out` is NULL or points to writable storage
/// for a pointer.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_fetch(p: *mut Handle, out: *mut *mut AddressbookSnapshot) -> c_int {
    call(|| create(out, || Ok(AddressbookSnapshot::new(handle(p)?.core.addressbook_fetch()?))))
}

/// The whole `<addressbook>` document of `b` (UTF-8 XML). For the `stored`
/// of `provision_addressbook_add`, an `<addressbook>` holding the one stored
/// contact with its `<id>`.
///
/// Returns: never NULL for a snapshot; NULL for NULL.
/// Ownership: the snapshot's; do not free.
/// Lifetime: until `provision_addressbook_free(b)`.
/// Threads: any.
///
/// # Safety
/// `b` is NULL or a snapshot not freed yet.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_xml(b: *const AddressbookSnapshot) -> *const c_char {
    // The pointer is into the snapshot, which the caller's reference keeps.
    guard(ptr::null(), || snapshot(b).map_or(ptr::null(), |s| s.xml.as_ptr()))
}

/// Returns: the number of `<contact>` elements of `b` (children of its
/// root); 0 for NULL.
/// Threads: any.
///
/// # Safety
/// `b` is NULL or a snapshot not freed yet.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_count(b: *const AddressbookSnapshot) -> usize {
    guard(0, || snapshot(b).map_or(0, |s| s.book.contacts))
}

/// Releases a snapshot. NULL is a no-op.
///
/// Lifetime: the strings `provision_addressbook_xml` gave for `b` end here.
/// Threads: any; it must be the last use of `b`.
///
/// # Safety
/// `b` is NULL or a snapshot from this library not freed before.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_free(b: *mut AddressbookSnapshot) {
    guard((), || arc_release(b))
}

/// Adds a contact: `POST BASE + "addressbook"` with `contact_xml`, one
/// `<contact>` element without `<id>` (docs/addressbook.md).
///
/// Never sent twice: it goes first to the base URL that served the last
/// successful fetch, then to the others in order, moving on only when the
/// connection failed before the request could have reached a server. When
/// the connection broke or timed out after sending, the outcome is unknown:
/// PROVISION_ERR_FETCH says so (fetch the addressbook to see).
///
/// Returns: PROVISION_OK, and when `stored` is not NULL the server's answer
/// in `*stored` as a one-contact addressbook, from which the new id can be
/// read; PROVISION_ERR_RESTRICTED, without a request, when `use_addressbook`
/// is 0 or `add` is in `restrictions` (current settings);
/// PROVISION_ERR_FORMAT, without a request, when `contact_xml` is not one
/// well-formed `<contact>` without `<id>` of at most 64 KiB (the message
/// gives line and column); PROVISION_ERR_CREDENTIALS; PROVISION_ERR_SERVER
/// with the server's `<error>` text; PROVISION_ERR_FETCH otherwise;
/// PROVISION_ERR_ARGUMENT for a NULL `p` or `contact_xml`. `*stored` is
/// NULL after a failure.
/// Ownership: `contact_xml` is read during the call only; the caller owns
/// `*stored` (release it with `provision_addressbook_free`).
/// Lifetime: `*stored` as a fetched snapshot.
/// Threads: as `provision_addressbook_fetch`.
///
/// # Safety
/// `p` is NULL or a live handle; `contact_xml` is NULL or a NUL-terminated
/// string; `stored` is NULL or points to writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_add(
    p: *mut Handle,
    contact_xml: *const c_char,
    stored: *mut *mut AddressbookSnapshot,
) -> c_int {
    call(|| {
        if let Some(stored) = stored.as_mut() {
            *stored = ptr::null_mut();
        }
        let h = handle(p)?;
        let book = h.core.addressbook_add(arg_str(contact_xml, "contact_xml")?)?;
        if !stored.is_null() {
            create(stored, || Ok(AddressbookSnapshot::new(book)))?;
        }
        Ok(())
    })
}

/// Replaces contact `contact_id` with `contact_xml`: `PUT BASE +
/// "addressbook/ID"`, the id percent-encoded as one path segment.
/// `contact_xml` is one `<contact>`; an `<id>` in it, if any, must equal
/// `contact_id`. Never sent twice, as `provision_addressbook_add`.
///
/// Returns: as `provision_addressbook_add` (RESTRICTED when `update` is
/// restricted), and PROVISION_ERR_ARGUMENT for a NULL or empty
/// `contact_id`, one over 1024 bytes, or "." and "..".
/// Ownership: the strings are read during the call only.
/// Threads: as `provision_addressbook_fetch`.
///
/// # Safety
/// `p` is NULL or a live handle; `contact_id` and `contact_xml` are NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_update(
    p: *mut Handle,
    contact_id: *const c_char,
    contact_xml: *const c_char,
) -> c_int {
    call(|| {
        let h = handle(p)?;
        let id = arg_str(contact_id, "contact_id")?;
        h.core.addressbook_update(id, arg_str(contact_xml, "contact_xml")?)
    })
}

/// Deletes contact `contact_id`: `DELETE BASE + "addressbook/ID"`. Never
/// sent twice, as `provision_addressbook_add`.
///
/// Returns: as `provision_addressbook_update` (RESTRICTED when `delete` is
/// restricted).
/// Ownership: `contact_id` is read during the call only.
/// Threads: as `provision_addressbook_fetch`.
///
/// # Safety
/// `p` is NULL or a live handle; `contact_id` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_delete(p: *mut Handle, contact_id: *const c_char) -> c_int {
    call(|| handle(p)?.core.addressbook_delete(arg_str(contact_id, "contact_id")?))
}
