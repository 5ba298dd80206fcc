//! The strict parser the differential test and the fuzz targets hold the
//! library to: libexpat (the parser behind Python's `xml.parsers.expat`),
//! loaded at run time, without namespace processing. A plain XML 1.0
//! well-formedness check: what it refuses, a softphone reading the library's
//! files with expat (or libxml2) could not read.
//!
//! Loaded with dlopen rather than linked: it is on every Debian machine with
//! Python (libexpat1), needs no -dev package and no build script, and a
//! `make test` without it says so instead of failing to link.

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void, CStr};

type Create = unsafe extern "C" fn(*const c_char) -> *mut c_void;
type Parse = unsafe extern "C" fn(*mut c_void, *const c_char, c_int, c_int) -> c_int;
type Free = unsafe extern "C" fn(*mut c_void);
type Code = unsafe extern "C" fn(*mut c_void) -> c_int;
type Describe = unsafe extern "C" fn(c_int) -> *const c_char;
type Position = unsafe extern "C" fn(*mut c_void) -> c_ulong;

pub struct Expat {
    create: Create,
    parse: Parse,
    free: Free,
    code: Code,
    describe: Describe,
    line: Position,
    column: Position,
}

impl Expat {
    /// libexpat, or why it cannot be loaded.
    pub fn load() -> Result<Expat, String> {
        // SAFETY: dlopen/dlsym with NUL-terminated names; each symbol is cast
        // to the type libexpat's header (expat.h, 2.x) gives it.
        unsafe {
            let lib = libc::dlopen(c"libexpat.so.1".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            if lib.is_null() {
                return Err("libexpat.so.1 not found (Debian: apt-get install libexpat1)".into());
            }
            let symbol = |name: &CStr| {
                let f = libc::dlsym(lib, name.as_ptr());
                assert!(!f.is_null(), "libexpat has no {name:?}");
                f
            };
            Ok(Expat {
                create: std::mem::transmute::<*mut c_void, Create>(symbol(c"XML_ParserCreate")),
                parse: std::mem::transmute::<*mut c_void, Parse>(symbol(c"XML_Parse")),
                free: std::mem::transmute::<*mut c_void, Free>(symbol(c"XML_ParserFree")),
                code: std::mem::transmute::<*mut c_void, Code>(symbol(c"XML_GetErrorCode")),
                describe: std::mem::transmute::<*mut c_void, Describe>(symbol(c"XML_ErrorString")),
                line: std::mem::transmute::<*mut c_void, Position>(symbol(c"XML_GetCurrentLineNumber")),
                column: std::mem::transmute::<*mut c_void, Position>(symbol(c"XML_GetCurrentColumnNumber")),
            })
        }
    }

    /// Whether `doc` is a well-formed XML document; why not, with expat's
    /// line and column (0-based column), when it is not.
    pub fn check(&self, doc: &[u8]) -> Result<(), String> {
        let len = c_int::try_from(doc.len()).map_err(|_| "document over 2 GiB".to_string())?;
        // SAFETY: a parser of our own, freed before returning; `doc` outlives the call.
        unsafe {
            let parser = (self.create)(std::ptr::null());
            assert!(!parser.is_null(), "XML_ParserCreate failed");
            let ok = (self.parse)(parser, doc.as_ptr().cast(), len, 1) == 1;
            let result = if ok {
                Ok(())
            } else {
                let code = (self.code)(parser);
                let what = CStr::from_ptr((self.describe)(code)).to_string_lossy().into_owned();
                Err(format!(
                    "{what}: line {}, column {}",
                    (self.line)(parser) as c_long,
                    (self.column)(parser) as c_long
                ))
            };
            (self.free)(parser);
            result
        }
    }
}
