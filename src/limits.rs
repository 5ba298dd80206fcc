//! Every size, depth, count and time bound of the library, in one place, so
//! that a reviewer sees what a hostile server, file or host can cost, and so
//! that no module imports another just for a number.

use std::time::Duration;

/// Answers larger than this (after decompression) fail their URL: a phone
/// must not be made to hold an endless body. 32 MiB is about 40 000 accounts.
pub const MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;
/// Provision files and CA files: a few kB in practice (a whole system CA
/// bundle is about 200 kB).
pub const MAX_SMALL_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Local configs and the cache: twice the answer cap, so a config that holds
/// a whole answer and the user's own sections still fits.
pub const MAX_DOCUMENT_BYTES: u64 = 2 * MAX_ANSWER_BYTES;

/// Elements nested deeper than this are refused. Configs are a few levels
/// deep; the bound keeps a hostile document from costing a deep tree (and a
/// deep recursive drop) in the provision file parser.
pub const MAX_DEPTH: usize = 100;
/// Start tags longer than this (name and attributes) are refused: no real
/// config carries a 64 KiB attribute, and it bounds the attribute checks,
/// whose duplicate test is quadratic in the number of attributes.
pub const MAX_TAG_BYTES: usize = 64 * 1024;
/// At most this many attributes on one element, for the same reason.
pub const MAX_ATTRIBUTES: usize = 256;
/// At most this many elements directly inside the root (the *sections*, of
/// which a real config has a few dozen; accounts nest inside `<accounts>`).
/// The scan keeps a few words per section and the merge is linear in their
/// number: the bound keeps that under 4 MB, whatever a document's shape.
pub const MAX_SECTIONS: usize = 100_000;

/// Redirects followed per URL before it counts as failed.
pub const MAX_REDIRECTS: usize = 5;
/// Default time to establish a connection (TCP and TLS handshake).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time for a whole request, body included.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
