//! The released `libprovision.so`, opened as a C program would open it, so
//! that the C ABI is timed exactly as packagers ship it. The fleet simulator
//! (bench/fleet) uses this module too, for its handles' refresh workers.

// Each of its two users (`make bench`, `make fleet`) calls a part of it.
#![allow(dead_code)]

use libc::{c_char, c_int, c_uint, c_void};
use libloading::Library;
use std::ffi::{CStr, CString};
use std::path::Path;

type LoadXml = unsafe extern "C" fn(*const c_char, *mut *mut c_void) -> c_int;
type Run = unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
type Accessor = unsafe extern "C" fn(*const c_void) -> *const c_char;
type Free = unsafe extern "C" fn(*mut c_void);
type LastError = unsafe extern "C" fn() -> *const c_char;
type StartRefresh = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_void, *mut c_void) -> c_int;
type RefreshNow = unsafe extern "C" fn(*mut c_void, c_uint) -> c_int;

pub struct Lib {
    load_xml: LoadXml,
    run: Run,
    config: Accessor,
    free: Free,
    last_error: LastError,
    version: LastError,
    start_refresh: StartRefresh,
    refresh_now: RefreshNow,
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
                run: std::mem::transmute::<*const c_void, Run>(sym(b"provision_run")?),
                config: std::mem::transmute::<*const c_void, Accessor>(sym(b"provision_config")?),
                free: std::mem::transmute::<*const c_void, Free>(sym(b"provision_free")?),
                last_error: std::mem::transmute::<*const c_void, LastError>(sym(b"provision_last_error")?),
                version: std::mem::transmute::<*const c_void, LastError>(sym(b"provision_version")?),
                start_refresh: std::mem::transmute::<*const c_void, StartRefresh>(sym(b"provision_start_refresh")?),
                refresh_now: std::mem::transmute::<*const c_void, RefreshNow>(sym(b"provision_refresh_now")?),
                _lib: lib,
            })
        }
    }

    pub fn version(&self) -> String {
        // SAFETY: a static NUL-terminated string.
        unsafe { CStr::from_ptr((self.version)()).to_string_lossy().into_owned() }
    }

    fn last_error(&self) -> String {
        // SAFETY: never NULL, valid until this thread's next call.
        unsafe { CStr::from_ptr((self.last_error)()).to_string_lossy().into_owned() }
    }

    pub fn load_xml(&self, provision_xml: &str) -> Result<Handle<'_>, String> {
        let text = CString::new(provision_xml).unwrap();
        let mut ptr = std::ptr::null_mut();
        // SAFETY: valid string and out pointer.
        match unsafe { (self.load_xml)(text.as_ptr(), &mut ptr) } {
            0 => Ok(Handle { lib: self, ptr }),
            status => Err(format!("provision_load_xml: status {status}: {}", self.last_error())),
        }
    }
}

pub struct Handle<'a> {
    lib: &'a Lib,
    ptr: *mut c_void,
}

// SAFETY: the C handle may be used from any thread (include/provision.h).
unsafe impl Send for Handle<'_> {}
unsafe impl Sync for Handle<'_> {}

impl Handle<'_> {
    pub fn run(&self, local_config: &CStr) -> Result<(), String> {
        // SAFETY: a live handle and a valid string.
        match unsafe { (self.lib.run)(self.ptr, local_config.as_ptr()) } {
            0 => Ok(()),
            status => Err(format!("provision_run: status {status}: {}", self.lib.last_error())),
        }
    }

    /// The refresh worker, without a local config or a callback.
    pub fn start_refresh(&self) -> Result<(), String> {
        // SAFETY: a live handle; NULL path, callback and userdata are allowed.
        let status =
            unsafe { (self.lib.start_refresh)(self.ptr, std::ptr::null(), std::ptr::null(), std::ptr::null_mut()) };
        match status {
            0 => Ok(()),
            status => Err(format!("provision_start_refresh: status {status}: {}", self.lib.last_error())),
        }
    }

    pub fn refresh_now(&self, max_delay_ms: u32) -> Result<(), String> {
        // SAFETY: a live handle.
        match unsafe { (self.lib.refresh_now)(self.ptr, max_delay_ms) } {
            0 => Ok(()),
            status => Err(format!("provision_refresh_now: status {status}: {}", self.lib.last_error())),
        }
    }

    /// The merged config of the last run, as the handle hands it out.
    pub fn config(&self) -> Option<&[u8]> {
        // SAFETY: NULL or a string owned by the handle, valid until its next call.
        unsafe {
            let p = (self.lib.config)(self.ptr);
            (!p.is_null()).then(|| CStr::from_ptr(p).to_bytes())
        }
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        // SAFETY: freed once, here.
        unsafe { (self.lib.free)(self.ptr) }
    }
}
