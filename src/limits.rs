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

/// Base URLs in a provision file or a `<provision>` section. Each is a
/// request with the user's credentials; real files list one to three. A
/// hostile section must not turn a phone into a million-request scanner.
pub const MAX_BASE_URLS: usize = 16;
/// A contact given to the addressbook's add or update: one `<contact>` is a
/// few hundred bytes; 64 KiB leaves room for a long note and stops a host
/// from sending a whole document as one contact.
pub const MAX_CONTACT_BYTES: usize = 64 * 1024;
/// A contact id given to update or delete, before percent-encoding: ids are
/// the server's keys, short in practice.
pub const MAX_CONTACT_ID_BYTES: usize = 1024;

/// Redirects followed per URL before it counts as failed.
pub const MAX_REDIRECTS: usize = 5;
/// Default time to establish a connection (TCP and TLS handshake).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time for a whole request, body included.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Extra request headers a host may set (`provision_set_header`): a device
/// id, a version, a token. More would be a misuse, and every byte is sent
/// with every request.
pub const MAX_EXTRA_HEADERS: usize = 32;
/// Their names and values together, in bytes: well under the 16 KiB to
/// 64 KiB request-head limits of common servers and proxies.
pub const MAX_EXTRA_HEADER_BYTES: usize = 8 * 1024;
/// URL template variables a host may set (`provision_set_variable`).
pub const MAX_VARIABLES: usize = 32;
/// The longest variable (and placeholder) name.
pub const MAX_VARIABLE_NAME_BYTES: usize = 64;
/// Their names and values together, in bytes (before percent-encoding,
/// which may triple them): URLs beyond 8 KiB are refused by many servers.
pub const MAX_VARIABLE_BYTES: usize = 2 * 1024;
