//! The C ABI of the addressbook part: `provision_addressbook_*`.
//!
//! A fetched (or stored) addressbook reaches C as an opaque, immutable
//! snapshot that owns its strings: whatever the handle or other threads do
//! afterwards, it stays as it was until `provision_addressbook_free`.

use super::{arg_str, call, guard, handle, Provision};
use crate::addressbook::Addressbook;
use crate::{Error, Result};
use libc::{c_char, c_int};
use std::ffi::CString;
use std::ptr;
use std::sync::Arc;

/// An addressbook as a server sent it: an immutable snapshot of the
/// `<addressbook>` document and its number of contacts. Got from
/// `provision_addressbook_fetch` or `provision_addressbook_add`, released
/// with `provision_addressbook_free`. Its strings are valid until then,
/// whatever happens to the handle. It may be read from any number of
/// threads at once; freeing it must be the last use.
pub struct ProvisionAddressbook {
    book: Arc<Addressbook>,
    xml: CString,
}

impl ProvisionAddressbook {
    fn into_raw(book: Arc<Addressbook>) -> *mut ProvisionAddressbook {
        // Checked documents hold no NUL; c_text keeps it whole if one did.
        let xml = super::c_text(&book.xml);
        Box::into_raw(Box::new(ProvisionAddressbook { book, xml }))
    }
}

/// Stores a snapshot in `*out` (cleared first, so it is NULL after a failure).
///
/// # Safety
/// `out` is NULL or points to writable storage for a pointer.
unsafe fn deliver(out: *mut *mut ProvisionAddressbook, fetch: impl FnOnce() -> Result<Arc<Addressbook>>) -> Result<()> {
    let out = out.as_mut().ok_or_else(|| Error::argument("out is NULL"))?;
    *out = ptr::null_mut();
    *out = ProvisionAddressbook::into_raw(fetch()?);
    Ok(())
}

/// Fetches the addressbook (`GET BASE + "addressbook"`, docs/addressbook.md)
/// from the base URLs in turn, as `provision_run` fetches the configuration
/// (same credentials, fallback, redirect policy, size cap), and stores a new
/// snapshot in `*out` (NULL after a failure). A `304 Not Modified` to the
/// last fetch's validators gives a snapshot of that addressbook again.
///
/// Returns PROVISION_OK; PROVISION_ERR_RESTRICTED, without a request, when
/// `use_addressbook` is 0 in the current settings; PROVISION_ERR_CREDENTIALS
/// as `provision_run`; PROVISION_ERR_SERVER (the server's `<error>` text)
/// or PROVISION_ERR_FETCH (each URL and why) when no URL served;
/// PROVISION_ERR_ARGUMENT for a NULL `p` or `out`.
///
/// Ownership: the caller owns `*out` and releases it with
/// `provision_addressbook_free`. Never deferred by an active call; never
/// touches the configuration, its outcome, the local config or the cache.
/// Threads: any thread, concurrently with other calls on `p` (a running
/// `provision_run` included); it blocks for the requests.
///
/// # Safety
/// `p` is NULL or a live handle; `out` is NULL or points to writable storage
/// for a pointer.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_fetch(p: *mut Provision, out: *mut *mut ProvisionAddressbook) -> c_int {
    call(|| deliver(out, || handle(p)?.core.addressbook_fetch()))
}

/// The whole `<addressbook>` document of `b` (UTF-8 XML); NULL when `b` is
/// NULL. For `provision_addressbook_add`'s `stored`, an `<addressbook>`
/// holding the one stored contact with its `<id>`.
///
/// Ownership and lifetime: owned by `b`, valid until
/// `provision_addressbook_free(b)`. Threads: any.
///
/// # Safety
/// `b` is NULL or a live snapshot.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_xml(b: *const ProvisionAddressbook) -> *const c_char {
    guard(ptr::null(), || b.as_ref().map_or(ptr::null(), |b| b.xml.as_ptr()))
}

/// The number of `<contact>` elements of `b` (children of its root); 0 when
/// `b` is NULL. Threads: any.
///
/// # Safety
/// `b` is NULL or a live snapshot.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_count(b: *const ProvisionAddressbook) -> usize {
    guard(0, || b.as_ref().map_or(0, |b| b.book.contacts))
}

/// Releases a snapshot and its strings. NULL is a no-op. It must be the
/// last use of `b`, on any thread.
///
/// # Safety
/// `b` is NULL or a snapshot from this library not freed before.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_free(b: *mut ProvisionAddressbook) {
    guard((), || {
        if !b.is_null() {
            drop(Box::from_raw(b));
        }
    })
}

/// Adds a contact: `POST BASE + "addressbook"` with `contact_xml`, one
/// `<contact>` element without `<id>` (docs/addressbook.md). When `stored`
/// is not NULL it receives (NULL after a failure) the server's answer as a
/// one-contact addressbook snapshot, from which the new id can be read.
///
/// The request is never sent twice: it goes first to the base URL that
/// served the last successful fetch, and on to the next URL only when the
/// connection failed before it could have reached a server. If the
/// connection broke or timed out after sending, it returns
/// PROVISION_ERR_FETCH with a message saying the outcome is unknown.
///
/// Returns PROVISION_OK; PROVISION_ERR_RESTRICTED, without a request, when
/// `use_addressbook` is 0 or `add` is in `restrictions` (current settings);
/// PROVISION_ERR_FORMAT, without a request, when `contact_xml` is not one
/// well-formed `<contact>` without `<id>` of at most 64 KiB (the message
/// gives line and column); PROVISION_ERR_CREDENTIALS; PROVISION_ERR_SERVER
/// with the server's `<error>` text; PROVISION_ERR_FETCH otherwise;
/// PROVISION_ERR_ARGUMENT for a NULL `p` or `contact_xml`.
///
/// Ownership: `contact_xml` is only read during the call; the caller owns
/// `*stored` (release with `provision_addressbook_free`). Threads: as
/// `provision_addressbook_fetch`.
///
/// # Safety
/// `p` is NULL or a live handle; `contact_xml` is NULL or a NUL-terminated
/// string; `stored` is NULL or points to writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_add(
    p: *mut Provision,
    contact_xml: *const c_char,
    stored: *mut *mut ProvisionAddressbook,
) -> c_int {
    call(|| {
        if let Some(stored) = stored.as_mut() {
            *stored = ptr::null_mut();
        }
        let h = handle(p)?;
        let contact = arg_str(contact_xml, "contact_xml")?;
        let book = h.core.addressbook_add(contact)?;
        if !stored.is_null() {
            deliver(stored, || Ok(book))?;
        }
        Ok(())
    })
}

/// Replaces contact `contact_id` with `contact_xml`: `PUT BASE +
/// "addressbook/ID"`, the id percent-encoded. `contact_xml` is one
/// `<contact>`; an `<id>` in it, if any, must equal `contact_id`.
///
/// Returns as `provision_addressbook_add` (RESTRICTED when `update` is
/// restricted), and PROVISION_ERR_ARGUMENT for an empty `contact_id`, one
/// over 1024 bytes, or "." and "..". Never sent twice, as there.
///
/// # Safety
/// `p` is NULL or a live handle; `contact_id` and `contact_xml` are NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_update(
    p: *mut Provision,
    contact_id: *const c_char,
    contact_xml: *const c_char,
) -> c_int {
    call(|| {
        let h = handle(p)?;
        let id = arg_str(contact_id, "contact_id")?;
        h.core.addressbook_update(id, arg_str(contact_xml, "contact_xml")?)
    })
}

/// Deletes contact `contact_id`: `DELETE BASE + "addressbook/ID"`.
///
/// Returns as `provision_addressbook_update` (RESTRICTED when `delete` is
/// restricted). Never sent twice, as `provision_addressbook_add`.
///
/// # Safety
/// `p` is NULL or a live handle; `contact_id` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn provision_addressbook_delete(p: *mut Provision, contact_id: *const c_char) -> c_int {
    call(|| handle(p)?.core.addressbook_delete(arg_str(contact_id, "contact_id")?))
}
