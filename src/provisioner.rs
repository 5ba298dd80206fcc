//! The Rust API: one provision file, its credentials, and the outcome of the
//! last successful run. The C ABI in `ffi` is a thin layer over this.
//!
//! A `Provisioner` is shared between threads (the softphone's and, later, a
//! refresh worker's), so every method takes `&self`. Runs are serialised by
//! `run_lock`; the state lock is held only to copy inputs out and to publish
//! an outcome, never across a network request, so accessors stay instant
//! while a slow server is being asked.
//!
//! The lifecycle (issue "Lifecycle") adds: a call-active gate that defers
//! runs and that a refresh worker (`refresh`) waits on; conditional requests
//! from the last answer's validators; a last-known-good cache; and the
//! adoption of a server's `<provision>` section.

use crate::cache;
use crate::error::{Error, Result, Status};
use crate::fetch::{Condition, Credentials, FetchConfig, Fetched, Fetcher, Validators, DEFAULT_USER_AGENT};
#[cfg(doc)]
use crate::headers::ExtraHeaders;
use crate::log::{self, Record, Sink};
use crate::merge::{self, Doc};
use crate::provision_file::{AuthType, Settings};
use crate::provision_section;
use crate::proxy::ProxySetting;
use crate::read_file::read_document;
use crate::store;
#[cfg(doc)]
use crate::template::Variables;
use crate::tls;
use crate::xml::Scan;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a successful run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The local config with the provisioned sections of the answer merged in.
    pub config: String,
    /// The base URL that served the answer, as written in the provision file
    /// except for secrets (see [`crate::redact::show_url`]): it is shown.
    pub source_url: String,
    /// Significant sections that the answer contained, in the provision file's order.
    pub provisioned: Vec<String>,
    /// Served from the last-known-good cache (then `source_url` is empty).
    pub from_cache: bool,
}

/// What one attempt gave: the outcome now in place, whether its config
/// differs from the one before, and, when every URL failed and the cache
/// served, why the URLs failed (status PROVISION_CACHED).
#[derive(Debug, Clone)]
pub struct Report {
    pub outcome: Arc<Outcome>,
    pub changed: bool,
    pub cached: Option<Error>,
}

/// The last answer a server gave, kept for conditional requests: a `304`
/// means "merge this again".
struct Kept {
    base_url: String,
    body: String,
    scan: Scan,
    validators: Validators,
    /// The credentials it was asked with (sent, and filled into a URL
    /// template): another user's 304 must not reuse it.
    asked_as: (Option<Credentials>, Option<Credentials>),
    /// The other origin a redirect led to, if one did (no adoption then).
    crossed_origin: Option<String>,
    /// What was sent to it, to be kept out of messages quoting the answer.
    scrubber: crate::redact::Scrubber,
}

/// What another part asks with: the current settings (with what a
/// `<provision>` section brought), the credentials to send, the HTTP client
/// and the logger.
pub(crate) struct PartInputs {
    pub settings: Arc<Settings>,
    pub credentials: Option<Credentials>,
    /// For the `[username]` and `[password]` of URL templates.
    pub template_credentials: Option<Credentials>,
    pub fetcher: Arc<Fetcher>,
    pub log: Option<Sink>,
}

/// When runs last succeeded and failed, for the refresh schedule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    pub last_success: Option<Instant>,
    pub last_failure: Option<Instant>,
    /// How long the last run's servers asked to be left alone (`Retry-After`
    /// on a `503` or `429`; the longest when several did), if they did.
    pub retry_after: Option<Duration>,
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
    kept: Option<Arc<Kept>>,
    cache_path: Option<PathBuf>,
    /// The answer the cache file at `cache_path` holds, if written by us.
    cache_holds: Option<Arc<Kept>>,
    history: History,
    log: Option<Sink>,
}

pub struct Provisioner {
    state: Mutex<State>,
    run_lock: Mutex<()>,
    /// Whether a call is up. A lock of its own, with a condvar that a refresh
    /// worker waits on, so hang-up and stop wake it at once.
    call_active: Mutex<bool>,
    gate_changed: Condvar,
    /// The addressbook part's own memory (src/addressbook.rs): apart from
    /// the run's state, so the two parts never wait on each other.
    pub(crate) addressbook: Mutex<crate::addressbook::Memory>,
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
                kept: None,
                cache_path: None,
                cache_holds: None,
                history: History::default(),
                log: None,
            }),
            run_lock: Mutex::new(()),
            call_active: Mutex::new(false),
            gate_changed: Condvar::new(),
            addressbook: Mutex::default(),
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

    /// What another part (the addressbook) asks with, copied out under the lock.
    pub(crate) fn part_inputs(&self) -> Result<PartInputs> {
        let state = lock(&self.state);
        let credentials = effective_credentials(&state.settings, state.credentials.as_ref())?;
        Ok(PartInputs {
            settings: state.settings.clone(),
            credentials,
            template_credentials: template_credentials(&state.settings, state.credentials.as_ref()),
            fetcher: state.fetcher.clone(),
            log: state.log.clone(),
        })
    }

    /// The user's own credentials; they take precedence over the file's.
    pub fn set_credentials(&self, user: &str, password: &str) -> Result<()> {
        let mut state = lock(&self.state);
        if state.settings.authentication_type == AuthType::Basic && user.contains(':') {
            return Err(Error::argument(
                "the user name contains ':', which Basic authentication (RFC 7617) cannot carry",
            ));
        }
        // The kept answer stays: a 304 reuses it only for the credentials it was asked with.
        state.credentials = Some(Credentials { user: user.to_owned(), password: password.to_owned() });
        Ok(())
    }

    /// Timeouts of every later request: connecting, and the whole request
    /// (connect, TLS, headers and body). Both at least 1 ms.
    pub fn set_timeouts(&self, connect: Duration, total: Duration) -> Result<()> {
        if connect.is_zero() || total.is_zero() {
            return Err(Error::argument("timeouts must be at least 1 ms"));
        }
        self.reconfigure(|c| {
            c.connect_timeout = connect;
            c.total_timeout = total;
        });
        Ok(())
    }

    /// Trusts the certificates of a PEM file (an operator's private CA) in
    /// addition to the system's store; `None` goes back to the system's
    /// store alone. The file is read now, once.
    pub fn set_ca_file(&self, pem: Option<&Path>) -> Result<()> {
        let roots = pem.map(tls::load_ca_file).transpose()?.unwrap_or_default();
        self.reconfigure(|c| c.extra_roots = roots);
        Ok(())
    }

    /// The client certificate chain and private key (PEM files) presented
    /// when an https server asks for one; both `None` removes them. Read
    /// now, once: IO when a file cannot be read, FORMAT when the chain holds
    /// no certificate, the key file no key, or they do not match.
    pub fn set_client_cert(&self, chain: Option<&Path>, key: Option<&Path>) -> Result<()> {
        let identity = match (chain, key) {
            (Some(chain), Some(key)) => Some(tls::load_client_identity(chain, key)?),
            (None, None) => None,
            _ => return Err(Error::argument("give both the certificate chain and the key, or neither")),
        };
        self.reconfigure(|c| c.client_identity = identity);
        Ok(())
    }

    /// The proxy of later requests: `None` the environment's (`ALL_PROXY`,
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, read now), `""` none at
    /// all, else `http://[user:password@]host:port` (ARGUMENT otherwise).
    pub fn set_proxy(&self, proxy_url: Option<&str>) -> Result<()> {
        let proxy = ProxySetting::parse(proxy_url)?;
        self.reconfigure(|c| c.proxy = proxy);
        Ok(())
    }

    /// An extra header for every request to a base URL's origin; `None`
    /// removes it. See [`ExtraHeaders::set`] for what is refused.
    pub fn set_header(&self, name: &str, value: Option<&str>) -> Result<()> {
        let mut state = lock(&self.state);
        let mut headers = state.fetcher.headers().clone();
        headers.set(name, value)?;
        state.fetcher = Arc::new(state.fetcher.with_headers(headers));
        Ok(())
    }

    /// A value for the `[NAME]` placeholders of URL templates; `None`
    /// removes it. See [`Variables::set`] for what is refused.
    pub fn set_variable(&self, name: &str, value: Option<&str>) -> Result<()> {
        let mut state = lock(&self.state);
        let mut variables = state.fetcher.variables().clone();
        variables.set(name, value)?;
        state.fetcher = Arc::new(state.fetcher.with_variables(variables));
        Ok(())
    }

    /// Builds a new fetcher from a changed copy of the current config. A run
    /// in progress keeps the fetcher it started with. The lock is held
    /// throughout so that two setters cannot undo each other.
    fn reconfigure(&self, change: impl FnOnce(&mut FetchConfig)) {
        let mut state = lock(&self.state);
        let mut config = state.fetcher.config().clone();
        change(&mut config);
        state.fetcher = Arc::new(state.fetcher.rebuilt(config));
    }

    /// Where runs report each URL they try and their notices (see
    /// [`crate::log`]); `None` stops reporting. A run already under way keeps the sink it started with.
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
    ///
    /// PROVISION_ERR_DEFERRED, without a request, while a call is active.
    /// When every URL fails and the cache serves, the outcome is in place
    /// (see [`last`](Self::last)) and the error has status PROVISION_CACHED.
    pub fn run(&self, local_config: Option<&Path>) -> Result<Arc<Outcome>> {
        let report = self.attempt(local_config)?;
        match report.cached {
            Some(why) => Err(why),
            None => Ok(report.outcome),
        }
    }

    /// As [`run`](Self::run), telling whether the config changed and
    /// whether the cache served.
    pub fn attempt(&self, local_config: Option<&Path>) -> Result<Report> {
        self.refuse_during_call()?;
        let _one_run_at_a_time = lock(&self.run_lock);
        // A call may have come up while another run held the lock.
        self.refuse_during_call()?;
        let mut retry_after = None;
        let result = self.attempt_locked(local_config, &mut retry_after);
        let now = Some(Instant::now());
        let mut state = lock(&self.state);
        state.history.retry_after = retry_after;
        match &result {
            Ok(report) if report.cached.is_none() => state.history.last_success = now,
            _ => state.history.last_failure = now,
        }
        result
    }

    fn refuse_during_call(&self) -> Result<()> {
        if self.call_active() {
            return Err(Error::new(
                Status::PROVISION_ERR_DEFERRED,
                "a call is active: provisioning waits until it is hung up",
            ));
        }
        Ok(())
    }

    /// One run; `retry_after` gets what the servers asked (see [`History`]).
    fn attempt_locked(&self, local_config: Option<&Path>, retry_after: &mut Option<Duration>) -> Result<Report> {
        let (settings, credentials, fetcher, kept, cache_path, log) = {
            let state = lock(&self.state);
            let credentials = effective_credentials(&state.settings, state.credentials.as_ref())?;
            let asked_as = (credentials, template_credentials(&state.settings, state.credentials.as_ref()));
            let kept = state.kept.clone().filter(|k| k.asked_as == asked_as);
            let cache_path = state.cache_path.clone();
            (state.settings.clone(), asked_as, state.fetcher.clone(), kept, cache_path, state.log.clone())
        };
        // The local file is checked first: a broken one must not cost a request.
        let local = local_config.map(read_local).transpose()?.flatten();
        let condition = kept.as_deref().map(|k| Condition { base_url: &k.base_url, validators: &k.validators });
        let (fetched, asked) =
            fetcher.first_fetched(&settings, credentials.0.as_ref(), credentials.1.as_ref(), condition, log.as_ref());
        *retry_after = asked;
        let (source, cached) = match fetched {
            Ok(Fetched::Answer(answer)) => (
                Source::Server(Arc::new(Kept {
                    base_url: answer.base_url,
                    body: answer.body,
                    scan: answer.scan,
                    validators: answer.validators,
                    asked_as: credentials,
                    crossed_origin: answer.crossed_origin,
                    scrubber: answer.scrubber,
                })),
                None,
            ),
            Ok(Fetched::NotModified) => (Source::Server(kept.expect("a 304 answers our validators")), None),
            Err(e) if matches!(e.status, Status::PROVISION_ERR_SERVER | Status::PROVISION_ERR_FETCH) => {
                match cache_path
                    .as_deref()
                    .and_then(|path| cache::load_usable(path, |s| settings.is_significant(s), log.as_ref()))
                {
                    Some(doc) => (Source::Cache(doc), Some(cache::served_from(e))),
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };

        let answer = source.doc();
        let provisioned: Vec<String> =
            settings.significant_sections.iter().filter(|s| answer.scan.has_section(s)).cloned().collect();
        let local_doc = local.as_ref().map(|(text, scan)| Doc { text, scan });
        let outcome = Outcome {
            config: merge::merge(local_doc, answer, &provisioned),
            source_url: crate::redact::show_url(source.base_url()).into_owned(),
            provisioned,
            from_cache: cached.is_some(),
        };
        let adopted = provision_section::adoptable(&settings, answer, source.origin(), log.as_ref());
        if let (Source::Server(kept), Some(path)) = (&source, &cache_path) {
            self.refresh_cache(kept, path, &outcome.provisioned, log.as_ref());
        }

        let mut state = lock(&self.state);
        let changed = state.last.as_ref().is_none_or(|last| last.config != outcome.config);
        let outcome = match &state.last {
            // The same outcome keeps its Arc, so handed-out copies stay put.
            Some(last) if **last == outcome => last.clone(),
            _ => Arc::new(outcome),
        };
        state.last = Some(outcome.clone());
        if let Source::Server(kept) = source {
            state.kept = Some(kept);
        }
        if let Some(new) = adopted.filter(|new| *new != *state.settings) {
            state.settings = Arc::new(new);
        }
        Ok(Report { outcome, changed, cached })
    }

    /// Writes the cache unless it already holds this answer.
    fn refresh_cache(&self, kept: &Arc<Kept>, path: &Path, provisioned: &[String], log: Option<&Sink>) {
        if lock(&self.state).cache_holds.as_ref().is_some_and(|k| Arc::ptr_eq(k, kept)) {
            return;
        }
        let doc = Doc { text: &kept.body, scan: &kept.scan };
        match cache::store(path, doc, provisioned) {
            Ok(()) => {
                let mut state = lock(&self.state);
                if state.cache_path.as_deref() == Some(path) {
                    state.cache_holds = Some(kept.clone());
                }
            }
            Err(e) => {
                log::emit(log, Record::notice(e.status, format!("the last-known-good cache was not updated: {e}")));
            }
        }
    }

    /// Keeps the provisioned sections of each successful answer at `path`
    /// (None: no cache), and serves them when every URL fails.
    pub fn set_cache(&self, path: Option<&Path>) {
        let mut state = lock(&self.state);
        state.cache_path = path.map(Path::to_path_buf);
        state.cache_holds = None;
    }

    /// Writes the current settings (including what a `<provision>` section
    /// taught) as a provision file, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        store::write_atomically(path, &provision_section::to_xml(&self.settings()), store::Mode::Private)
    }

    /// Says whether a call is up. While one is, runs are DEFERRED.
    pub fn set_call_active(&self, active: bool) {
        *lock(&self.call_active) = active;
        self.gate_changed.notify_all();
    }

    pub fn call_active(&self) -> bool {
        *lock(&self.call_active)
    }

    /// The call-active flag and the condvar notified when it changes or
    /// [`wake`](Self::wake) is called: what a refresh worker waits on.
    pub(crate) fn gate(&self) -> (&Mutex<bool>, &Condvar) {
        (&self.call_active, &self.gate_changed)
    }

    /// Wakes whoever waits on the gate (a refresh worker being stopped).
    pub(crate) fn wake(&self) {
        let _held = lock(&self.call_active);
        self.gate_changed.notify_all();
    }

    pub fn history(&self) -> History {
        lock(&self.state).history
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
        let local =
            merge::strip(Doc { text, scan: &scan }, |name| last.as_ref().is_some_and(|l| l.is_provisioned(name)));
        store::write_atomically(path, &local, store::Mode::OwnersMode)
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
    let credentials = given
        .cloned()
        .unwrap_or_else(|| Credentials { user: settings.user.clone(), password: settings.password.clone() });
    if credentials.user.is_empty() {
        return Err(Error::new(
            Status::PROVISION_ERR_CREDENTIALS,
            "use_authentication is 1 but no user name is set (<user> is empty and none was given)",
        ));
    }
    Ok(Some(credentials))
}

/// Credentials for the `[username]` and `[password]` of URL templates: the
/// user's, or the file's preset ones, whatever `use_authentication` says.
fn template_credentials(settings: &Settings, given: Option<&Credentials>) -> Option<Credentials> {
    given.cloned().or_else(|| {
        let preset = Credentials { user: settings.user.clone(), password: settings.password.clone() };
        Some(preset).filter(|c| !c.user.is_empty() || !c.password.is_empty())
    })
}

/// A local config as text and layout; `None` when the file does not exist.
fn read_local(path: &Path) -> Result<Option<(String, Scan)>> {
    read_document(path, "the local config")
}

/// Where the merged sections came from.
enum Source {
    Server(Arc<Kept>),
    Cache((String, Scan)),
}

impl Source {
    fn doc(&self) -> Doc<'_> {
        match self {
            Source::Server(k) => Doc { text: &k.body, scan: &k.scan },
            Source::Cache((text, scan)) => Doc { text, scan },
        }
    }

    fn origin(&self) -> provision_section::Origin<'_> {
        match self {
            Source::Server(k) => provision_section::Origin::Server {
                base_url: &k.base_url,
                crossed: k.crossed_origin.as_deref(),
                sent: &k.scrubber,
            },
            Source::Cache(_) => provision_section::Origin::Cache,
        }
    }

    fn base_url(&self) -> &str {
        match self {
            Source::Server(k) => &k.base_url,
            Source::Cache(_) => "",
        }
    }
}
