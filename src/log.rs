//! What the host's own log hears: one record per base URL tried.
//!
//! A run reports each attempt, in order, to the sink set with
//! [`Provisioner::set_logger`](crate::Provisioner::set_logger), on the thread
//! doing the run and before the run returns. Records carry only what error
//! messages may carry: the URL without credentials and a scrubbed outcome.

use crate::error::Status;
use std::sync::Arc;
use std::time::Duration;

/// One base URL tried by a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// `BASE + "configuration"` as it may be shown: no password in its
    /// userinfo, no `url`-type credentials in its query.
    pub url: String,
    /// `PROVISION_OK` for the URL that served, `PROVISION_ERR_SERVER` for an
    /// `<error>` answer, `PROVISION_ERR_FETCH` for any other failure.
    pub status: Status,
    /// What happened, as a sentence (for a failure, the same words the run's
    /// error message uses for this URL).
    pub outcome: String,
    /// Wall time spent on this URL, redirects and body included.
    pub elapsed: Duration,
}

impl Attempt {
    /// `elapsed` in whole milliseconds, as the C and Python callbacks get it.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX)
    }
}

/// Where attempts go. Shared with the thread doing a run, hence `Send + Sync`.
pub type Sink = Arc<dyn Fn(&Attempt) + Send + Sync>;
