//! The Rust API: one provision file, its credentials, and the outcome of the
//! last successful run. The C ABI in `ffi` is a thin layer over this.
//!
//! A `Provisioner` is shared between threads (the softphone's and, later, a
//! refresh worker's), so every method takes `&self`. Runs are serialised by
//! `run_lock`; the state lock is held only to copy inputs out and to publish
//! an outcome, never across a network request, so accessors stay instant
//! while a slow server is being asked.

use crate::error::{Error, Result, Status};
use crate::fetch::{Credentials, Fetcher, DEFAULT_USER_AGENT};
use crate::log::Sink;
use crate::merge::{self, Doc};
use crate::provision_file::{AuthType, Settings};
use crate::store;
use crate::xml::{self, Scan};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// What a successful run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The local config with the provisioned sections of the answer merged in.
    pub config: String,
    /// The base URL that served the answer, as written in the provision file.
    pub source_url: String,
    /// Significant sections that the answer contained, in the provision file's order.
    pub provisioned: Vec<String>,
}

impl Outcome {
    pub fn is_provisioned(&self, section: &str) -> bool {
        self.provisioned.iter().any(|s| s == section)
    }
}

/// Everything a run reads or writes, behind one lock.
struct State {
    settings: Arc<Settings>,
    credentials: Option<Credentials>,
    fetcher: Arc<Fetcher>,
    last: Option<Arc<Outcome>>,
    log: Option<Sink>,
}

pub struct Provisioner {
    state: Mutex<State>,
    run_lock: Mutex<()>,
}

/// A poisoned lock only means another thread panicked while holding it; the
/// state is replaced whole under the lock, so it is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Provisioner {
    pub fn new(settings: Settings) -> Provisioner {
        Provisioner {
            state: Mutex::new(State {
                settings: Arc::new(settings),
                credentials: None,
                fetcher: Arc::new(Fetcher::default()),
                last: None,
                log: None,
            }),
            run_lock: Mutex::new(()),
        }
    }

    /// Reads a provision file (`provision.conf`).
    pub fn load(path: &Path) -> Result<Provisioner> {
        Settings::load(path).map(Provisioner::new)
    }

    /// Parses a provision file held in memory.
    pub fn from_xml(text: &str) -> Result<Provisioner> {
        Settings::parse(text, "provision XML").map(Provisioner::new)
    }

    pub fn settings(&self) -> Arc<Settings> {
        lock(&self.state).settings.clone()
    }

    /// The user's own credentials; they take precedence over the file's.
    pub fn set_credentials(&self, user: &str, password: &str) -> Result<()> {
        let mut state = lock(&self.state);
        if state.settings.authentication_type == AuthType::Basic && user.contains(':') {
            return Err(Error::argument(
                "the user name contains ':', which Basic authentication (RFC 7617) cannot carry",
            ));
        }
        state.credentials = Some(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        });
        Ok(())
    }

    /// Where runs report each URL they try (see [`crate::log`]); `None`
    /// stops reporting. A run already under way keeps the sink it started with.
    pub fn set_logger(&self, log: Option<Sink>) {
        lock(&self.state).log = log;
    }

    /// The `User-Agent` header of later requests; `None` restores
    /// `libprovision/VERSION`. Only printable ASCII is taken: a control
    /// character would end the header early, and other bytes are not portable
    /// in a header value.
    pub fn set_user_agent(&self, user_agent: Option<&str>) -> Result<()> {
        let user_agent = user_agent.unwrap_or(DEFAULT_USER_AGENT);
        if user_agent.is_empty() || !user_agent.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return Err(Error::argument("the user agent must be non-empty printable ASCII"));
        }
        let mut state = lock(&self.state);
        state.fetcher = Arc::new(state.fetcher.with_user_agent(user_agent));
        Ok(())
    }

    /// The outcome of the last successful run, if any.
    pub fn last(&self) -> Option<Arc<Outcome>> {
        lock(&self.state).last.clone()
    }

    /// Provisions: checks the local config, asks the base URLs in turn and
    /// merges the first usable answer. A failed run changes nothing.
    pub fn run(&self, local_config: Option<&Path>) -> Result<Arc<Outcome>> {
        let _one_run_at_a_time = lock(&self.run_lock);
        let (settings, credentials, fetcher, log) = {
            let state = lock(&self.state);
            let credentials = effective_credentials(&state.settings, state.credentials.as_ref())?;
            (state.settings.clone(), credentials, state.fetcher.clone(), state.log.clone())
        };
        // The local file is checked first: a broken one must not cost a request.
        let local = local_config.map(read_local).transpose()?.flatten();
        let answer = fetcher.first_answer(&settings, credentials.as_ref(), log.as_ref())?;

        let provisioned: Vec<String> = settings
            .significant_sections
            .iter()
            .filter(|s| answer.scan.has_section(s))
            .cloned()
            .collect();
        let answer_doc = Doc {
            text: &answer.body,
            scan: &answer.scan,
        };
        let local_doc = local.as_ref().map(|(text, scan)| Doc { text, scan });
        let outcome = Arc::new(Outcome {
            config: merge::merge(local_doc, answer_doc, &provisioned),
            source_url: answer.base_url,
            provisioned,
        });
        lock(&self.state).last = Some(outcome.clone());
        Ok(outcome)
    }

    /// Writes `config` (by default the merged config of the last run) to the
    /// local config file without the sections the last run provisioned:
    /// those belong to the server and are fetched again next time.
    pub fn store_local(&self, config: Option<&str>, path: &Path) -> Result<()> {
        let last = self.last();
        let (text, source) = match (config, &last) {
            (Some(text), _) => (text, "config_xml"),
            (None, Some(last)) => (last.config.as_str(), "the merged config"),
            (None, None) => {
                return Err(Error::argument("no config given and no successful run yet"));
            }
        };
        let scan = Scan::new(text).map_err(|e| Error::format(format!("{source}: {e}")))?;
        let local = merge::strip(Doc { text, scan: &scan }, |name| {
            last.as_ref().is_some_and(|l| l.is_provisioned(name))
        });
        store::write_atomically(path, &local)
    }
}

/// Credentials to send, if any. With `user_input_authentication` the user
/// must have given them: the file's preset ones are for the other mode.
fn effective_credentials(settings: &Settings, given: Option<&Credentials>) -> Result<Option<Credentials>> {
    if settings.user_input_authentication && given.is_none() {
        return Err(Error::new(
            Status::PROVISION_ERR_CREDENTIALS,
            "user_input_authentication is 1: ask the user and set credentials before provisioning",
        ));
    }
    if !settings.use_authentication {
        return Ok(None);
    }
    let credentials = given.cloned().unwrap_or_else(|| Credentials {
        user: settings.user.clone(),
        password: settings.password.clone(),
    });
    if credentials.user.is_empty() {
        return Err(Error::new(
            Status::PROVISION_ERR_CREDENTIALS,
            "use_authentication is 1 but no user name is set (<user> is empty and none was given)",
        ));
    }
    Ok(Some(credentials))
}

/// A local config as text and layout; `None` when the file does not exist.
fn read_local(path: &Path) -> Result<Option<(String, Scan)>> {
    let shown = path.display();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("{shown}: cannot read the local config: {e}"))),
    };
    let bad = |e: xml::XmlError| Error::format(format!("{shown}: {e}"));
    let text = xml::decode(bytes).map_err(bad)?;
    let scan = Scan::new(&text).map_err(bad)?;
    Ok(Some((text, scan)))
}
