//! libprovision: provisions a softphone from an operator's web server, as
//! described by a Zoiper-style provision file.
//!
//! The core is plain Rust ([`Provisioner`]); [`ffi`] exposes it as a C ABI.
//! See README.md for the contract and the decisions behind it.

pub mod addressbook;
pub(crate) mod cache;
pub(crate) mod digest;
pub mod error;
pub mod fetch;
pub mod ffi;
pub(crate) mod headers;
pub mod limits;
pub mod links;
pub mod log;
pub mod merge;
pub mod provision_file;
pub(crate) mod provision_section;
pub mod provisioner;
pub(crate) mod proxy;
pub(crate) mod read_file;
pub mod redact;
pub mod refresh;
pub mod retry_after;
pub mod store;
pub(crate) mod template;
#[cfg(any(test, feature = "test-hooks"))]
#[doc(hidden)]
pub mod test_hooks;
pub(crate) mod tls;
pub mod xml;

pub use error::{Error, Result, Status};
pub use log::{Kind as LogKind, Record as LogRecord};
pub use provision_file::{AuthType, Settings};
pub use provisioner::{Outcome, Provisioner};
