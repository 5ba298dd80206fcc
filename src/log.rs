//! What the host's own log hears: one record per base URL tried, and a
//! notice for each thing the host should know that fails nothing (a corrupt
//! cache ignored, a `<provision>` section refused, a cache not updated).
//!
//! A run reports its records, in order, to the sink set with
//! [`Provisioner::set_logger`](crate::Provisioner::set_logger), on the thread
//! doing the run and before the run returns. Records carry only what error
//! messages may carry: URLs without credentials and scrubbed messages. The
//! library never writes to stdout or stderr: this is its only voice besides
//! statuses and messages.

use crate::error::Status;
use std::sync::Arc;
use std::time::Duration;

/// What a [`Record`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One base URL tried by a run.
    Attempt,
    /// Something the host should know that fails nothing.
    Notice,
}

/// One thing a run tells the host's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: Kind,
    /// For an attempt, `BASE + "configuration"` as it may be shown
    /// ([`crate::redact::show_url`]): no `url`-type credentials, secret
    /// query values as `***`. `None` for a notice.
    pub url: Option<String>,
    /// For an attempt: `PROVISION_OK` for the URL that served,
    /// `PROVISION_ERR_SERVER` for an `<error>` answer, `PROVISION_ERR_FETCH`
    /// for any other failure. For a notice: the status of what went wrong
    /// (`PROVISION_ERR_FORMAT` for a corrupt cache, `PROVISION_ERR_IO` for a
    /// cache not written...), although the run itself does not fail.
    pub status: Status,
    /// What happened, as a sentence (for a failed attempt, the same words the
    /// run's error message uses for this URL).
    pub message: String,
    /// Wall time spent on this URL, redirects and body included; zero for a notice.
    pub elapsed: Duration,
}

impl Record {
    pub fn attempt(url: String, status: Status, message: String, elapsed: Duration) -> Record {
        Record { kind: Kind::Attempt, url: Some(url), status, message, elapsed }
    }

    pub fn notice(status: Status, message: String) -> Record {
        Record { kind: Kind::Notice, url: None, status, message, elapsed: Duration::ZERO }
    }

    /// `elapsed` in whole milliseconds, as the C and Python callbacks get it.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX)
    }
}

/// Where records go. Shared with the thread doing a run, hence `Send + Sync`.
pub type Sink = Arc<dyn Fn(&Record) + Send + Sync>;

/// Hands `record` to the host's log, if it has one.
pub fn emit(log: Option<&Sink>, record: Record) {
    // Every record a host could receive, for the password search of `make test`.
    #[cfg(any(test, feature = "test-hooks"))]
    crate::test_hooks::record(&format!("log: {}: {}", record.url.as_deref().unwrap_or("notice"), record.message));
    if let Some(log) = log {
        log(&record);
    }
}
