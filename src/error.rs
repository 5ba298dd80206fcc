//! Status codes and the one error type of the crate.
//!
//! The numeric values are part of the C ABI: they are never changed or
//! reused, new statuses only get new numbers.

use std::fmt;

/// Result of every fallible call. `#[repr(C)]` with explicit values because
/// softphones and the Python binding compare against these numbers. The
/// variants carry their C names so that code, header and docs say the same.
/// The C functions return them as `int`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Success.
    PROVISION_OK = 0,
    /// A NULL handle or required string, an empty path, text that is not
    /// UTF-8, a value out of range, or a call the handle's state does not
    /// allow (a refresh worker already runs, nothing to store before a run).
    PROVISION_ERR_ARGUMENT = 1,
    /// The provision file does not exist: provisioning is off.
    PROVISION_ERR_NOT_FOUND = 2,
    /// A file exists but could not be read or written.
    PROVISION_ERR_IO = 3,
    /// A document or file is malformed or too large: the provision file (or
    /// its text), a local config, the config given to store, or a CA file
    /// that holds no PEM certificate; or one of them is over its size bound.
    /// The message names the file or text, and the line and element.
    PROVISION_ERR_FORMAT = 4,
    /// `user_input_authentication` is 1 and no credentials were set.
    PROVISION_ERR_CREDENTIALS = 5,
    /// No URL succeeded and at least one answered `<error>`: the message is its text.
    PROVISION_ERR_SERVER = 6,
    /// No URL succeeded and none answered `<error>`: the message lists each URL and why.
    PROVISION_ERR_FETCH = 7,
    /// A call is active: provisioning waits until hang-up.
    PROVISION_ERR_DEFERRED = 8,
    /// A bug: a panic caught at the ABI boundary.
    PROVISION_ERR_INTERNAL = 9,
    /// Every URL failed and the config was served from the last-known-good
    /// cache: usable, but not fresh. The message says why each URL failed.
    PROVISION_CACHED = 10,
    /// The provision file does not allow this addressbook operation
    /// (`use_addressbook` is 0, or the manipulation is listed in its
    /// `restrictions`): no request was made.
    PROVISION_ERR_RESTRICTED = 11,
}

impl Status {
    /// Every status, for [`from_c`](Self::from_c): a new status goes here too
    /// (the ffi tests check this list against the header).
    pub const ALL: [Status; 12] = [
        Status::PROVISION_OK,
        Status::PROVISION_ERR_ARGUMENT,
        Status::PROVISION_ERR_NOT_FOUND,
        Status::PROVISION_ERR_IO,
        Status::PROVISION_ERR_FORMAT,
        Status::PROVISION_ERR_CREDENTIALS,
        Status::PROVISION_ERR_SERVER,
        Status::PROVISION_ERR_FETCH,
        Status::PROVISION_ERR_DEFERRED,
        Status::PROVISION_ERR_INTERNAL,
        Status::PROVISION_CACHED,
        Status::PROVISION_ERR_RESTRICTED,
    ];

    /// The status with this C value, if this version knows it.
    pub fn from_c(value: i32) -> Option<Status> {
        Self::ALL.into_iter().find(|s| *s as i32 == value)
    }

    /// The status's C name, as in the header.
    pub fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            Status::PROVISION_OK => c"PROVISION_OK",
            Status::PROVISION_ERR_ARGUMENT => c"PROVISION_ERR_ARGUMENT",
            Status::PROVISION_ERR_NOT_FOUND => c"PROVISION_ERR_NOT_FOUND",
            Status::PROVISION_ERR_IO => c"PROVISION_ERR_IO",
            Status::PROVISION_ERR_FORMAT => c"PROVISION_ERR_FORMAT",
            Status::PROVISION_ERR_CREDENTIALS => c"PROVISION_ERR_CREDENTIALS",
            Status::PROVISION_ERR_SERVER => c"PROVISION_ERR_SERVER",
            Status::PROVISION_ERR_FETCH => c"PROVISION_ERR_FETCH",
            Status::PROVISION_ERR_DEFERRED => c"PROVISION_ERR_DEFERRED",
            Status::PROVISION_ERR_INTERNAL => c"PROVISION_ERR_INTERNAL",
            Status::PROVISION_CACHED => c"PROVISION_CACHED",
            Status::PROVISION_ERR_RESTRICTED => c"PROVISION_ERR_RESTRICTED",
        }
    }
}

/// A status and the message a user or an admin can act on. Messages name the
/// file, URL or element at fault and never contain a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        let message = message.into();
        #[cfg(any(test, feature = "test-hooks"))]
        crate::test_hooks::record(&message);
        Error { status, message }
    }

    pub fn argument(message: impl Into<String>) -> Self {
        Self::new(Status::PROVISION_ERR_ARGUMENT, message)
    }

    pub fn format(message: impl Into<String>) -> Self {
        Self::new(Status::PROVISION_ERR_FORMAT, message)
    }

    pub fn io(message: impl Into<String>) -> Self {
        Self::new(Status::PROVISION_ERR_IO, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
