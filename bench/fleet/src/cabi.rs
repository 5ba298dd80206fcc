//! The C ABI of libprovision.so, opened as a C program would open it: the
//! few functions a fleet of softphones calls.

use libc::{c_char, c_int, c_uint, c_void};
use libloading::Library;
use std::ffi::{CStr, CString};
use std::path::Path;

type LoadXml = unsafe extern "C" fn(*const c_char, *mut *mut c_void) -> c_int;
type StartRefresh = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_void, *mut c_void) -> c_int;
type RefreshNow = unsafe extern "C" fn(*mut c_void, c_uint) -> c_int;
type Free = unsafe extern "C" fn(*mut c_void);
type Text = unsafe extern "C" fn() -> *const c_char;

pub struct Lib {
    load_xml: LoadXml,
    start_refresh: StartRefresh,
    refresh_now: RefreshNow,
    free: Free,
    last_error: Text,
    version: Text,
    _lib: Library,
}

impl Lib {
    pub fn open(path: &Path) -> Result<Lib, String> {
        // SAFETY: the library is ours; the types are those of include/provision.h.
        unsafe {
            let lib = Library::new(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let sym = |name: &[u8]| -> Result<*const c_void, String> {
                lib.get::<*const c_void>(name)
                    .map(|s| *s)
                    .map_err(|e| format!("{}: {e}", String::from_utf8_lossy(name)))
            };
            Ok(Lib {
                load_xml: std::mem::transmute::<*const c_void, LoadXml>(sym(b"provision_load_xml")?),
                start_refresh: std::mem::transmute::<*const c_void, StartRefresh>(sym(b"provision_start_refresh")?),
                refresh_now: std::mem::transmute::<*const c_void, RefreshNow>(sym(b"provision_refresh_now")?),
                free: std::mem::transmute::<*const c_void, Free>(sym(b"provision_free")?),
                last_error: std::mem::transmute::<*const c_void, Text>(sym(b"provision_last_error")?),
                version: std::mem::transmute::<*const c_void, Text>(sym(b"provision_version")?),
                _lib: lib,
            })
        }
    }

    pub fn version(&self) -> String {
        // SAFETY: a static NUL-terminated string.
        unsafe { CStr::from_ptr((self.version)()).to_string_lossy().into_owned() }
    }

    fn failed(&self, what: &str, status: c_int) -> String {
        // SAFETY: never NULL, valid until this thread's next call.
        let message = unsafe { CStr::from_ptr((self.last_error)()).to_string_lossy().into_owned() };
        format!("{what}: status {status}: {message}")
    }

    pub fn load_xml(&self, provision_xml: &str) -> Result<Handle<'_>, String> {
        let text = CString::new(provision_xml).map_err(|e| e.to_string())?;
        let mut ptr = std::ptr::null_mut();
        // SAFETY: a valid string and out pointer.
        match unsafe { (self.load_xml)(text.as_ptr(), &mut ptr) } {
            0 => Ok(Handle { lib: self, ptr }),
            status => Err(self.failed("provision_load_xml", status)),
        }
    }
}

/// One softphone's handle; freeing it stops and joins its worker.
pub struct Handle<'a> {
    lib: &'a Lib,
    ptr: *mut c_void,
}

// SAFETY: the C handle may be used from any thread (include/provision.h).
unsafe impl Send for Handle<'_> {}
unsafe impl Sync for Handle<'_> {}

impl Handle<'_> {
    /// The refresh worker, without a local config or a callback.
    pub fn start_refresh(&self) -> Result<(), String> {
        // SAFETY: a live handle; NULL path, callback and userdata are allowed.
        match unsafe { (self.lib.start_refresh)(self.ptr, std::ptr::null(), std::ptr::null(), std::ptr::null_mut()) } {
            0 => Ok(()),
            status => Err(self.lib.failed("provision_start_refresh", status)),
        }
    }

    pub fn refresh_now(&self, max_delay_ms: u32) -> Result<(), String> {
        // SAFETY: a live handle.
        match unsafe { (self.lib.refresh_now)(self.ptr, max_delay_ms) } {
            0 => Ok(()),
            status => Err(self.lib.failed("provision_refresh_now", status)),
        }
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        // SAFETY: freed once, here.
        unsafe { (self.lib.free)(self.ptr) }
    }
}
