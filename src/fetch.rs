//! Asking the base URLs, in order, for `BASE + "configuration"`.
//!
//! Every way a URL can fail (transport, TLS, HTTP status, a body that is not
//! XML, an `<error>` answer, an answer without any significant section) moves
//! on to the next URL; the final error says what happened at each one.

use crate::digest;
use crate::error::{Error, Result, Status};
use crate::log::{self, Record, Sink};
use crate::provision_file::{AuthType, Settings};
use crate::tls;
use crate::xml::{self, Scan};
use base64::Engine as _;
use md5::{Digest, Md5};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::time::{Duration, Instant};
use ureq::http::StatusCode;
use url::Url;

pub use crate::limits::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT, MAX_ANSWER_BYTES, MAX_REDIRECTS};
/// Sent unless the host sets its own: operators can tell clients apart in their logs.
pub const DEFAULT_USER_AGENT: &str = concat!("libprovision/", env!("CARGO_PKG_VERSION"));

/// RFC 3986 unreserved characters stay; everything else (`+`, `&`, `=`,
/// spaces, non-ASCII) is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A user name and password. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// A usable answer: well-formed, 2xx, not `<error>`, with at least one
/// significant section.
#[derive(Debug)]
pub struct Answer {
    /// The base URL that served it, as written in the provision file.
    pub base_url: String,
    pub body: String,
    pub scan: Scan,
    /// Its `ETag` and `Last-Modified`, for the next request's conditions.
    pub validators: Validators,
}

/// The cache validators of an answer. Sent back (as `If-None-Match` and
/// `If-Modified-Since`) only to the base URL that served it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What the base URLs gave.
#[derive(Debug)]
pub enum Fetched {
    Answer(Answer),
    /// `304 Not Modified` from the base URL the validators came from.
    NotModified,
}

/// The validators to send to one base URL (the one that served them).
#[derive(Debug, Clone, Copy)]
pub struct Condition<'a> {
    pub base_url: &'a str,
    pub validators: &'a Validators,
}

/// How one URL failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered `<error>text</error>` (any HTTP status).
    Server(String),
    /// Anything else, as a sentence.
    Other(String),
}

/// The lowercase hex MD5 that the `url` authentication type sends.
pub fn md5_hex(password: &str) -> String {
    Md5::digest(password.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `base` with `configuration` appended to its path; its query is kept.
pub fn configuration_url(base: &str) -> std::result::Result<Url, String> {
    let mut url = Url::parse(base).map_err(|e| format!("'{base}' is not a URL: {e}"))?;
    let mut path = url.path().to_owned();
    if !path.ends_with('/') {
        path.push('/');
    }
    path.push_str("configuration");
    url.set_path(&path);
    url.set_fragment(None);
    Ok(url)
}

/// What is sent to every URL, derived once per run.
struct Auth {
    /// `Authorization` header value for `basic`.
    header: Option<String>,
    /// `user=..&password=..` for `url`.
    query: Option<String>,
    /// For `digest`: answered once a server challenges us.
    digest: Option<Credentials>,
    /// What we derived from the password (Basic token, MD5): long and
    /// unmistakable, so every occurrence in a message goes.
    derived: Vec<String>,
    /// The password itself, which a careless server may echo.
    password: String,
}

impl Auth {
    fn new(settings: &Settings, credentials: Option<&Credentials>) -> Auth {
        let mut auth = Auth { header: None, query: None, digest: None, derived: Vec::new(), password: String::new() };
        let Some(c) = credentials.filter(|_| settings.use_authentication) else {
            return auth;
        };
        match settings.authentication_type {
            AuthType::Basic => {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.user, c.password).as_bytes());
                auth.header = Some(format!("Basic {token}"));
                auth.derived.push(token);
            }
            AuthType::Url => {
                let digest = md5_hex(&c.password);
                let user = utf8_percent_encode(&c.user, QUERY_VALUE);
                auth.query = Some(format!("user={user}&password={digest}"));
                auth.derived.push(digest);
            }
            AuthType::Digest => auth.digest = Some(c.clone()),
        }
        auth.password = c.password.clone();
        auth
    }

    /// Hides credentials in text that came from outside (a server's words, a
    /// transport error). The password is replaced only where it stands as a
    /// whole word: replacing every substring would garble the message and,
    /// by where the stars fall, reveal a short password.
    fn scrub(&self, message: String) -> String {
        let message = self.derived.iter().fold(message, |m, s| m.replace(s.as_str(), "***"));
        replace_whole(&message, &self.password, "***")
    }
}

/// `text` with each occurrence of `word` that is not part of a longer
/// alphanumeric run replaced by `with`.
fn replace_whole(text: &str, word: &str, with: &str) -> String {
    if word.is_empty() {
        return text.to_owned();
    }
    let is_word_char = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back().or_else(|| out.chars().next_back());
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        let glued_before = is_word_char(before) && word.starts_with(char::is_alphanumeric);
        let glued_after = is_word_char(after) && word.ends_with(char::is_alphanumeric);
        let whole = !glued_before && !glued_after;
        out.push_str(if whole { with } else { word });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// A URL as it may appear in a message: without a password in its userinfo.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    url.to_string()
}

/// How the HTTP client is set up: one value, changed by the handle's setters
/// (`set_timeouts`, `set_ca_file`), from which a [`Fetcher`] is built whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    pub connect_timeout: Duration,
    /// The whole request, from connecting to the last byte of the body.
    pub total_timeout: Duration,
    /// Certificates (DER) trusted in addition to the system's store: an
    /// operator's private CA. Empty: the system's store alone.
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            extra_roots: Vec::new(),
        }
    }
}

/// The HTTP side: one agent per handle, so connections are reused across runs.
/// A clone shares the agent (and its connection pool).
#[derive(Clone)]
pub struct Fetcher {
    agent: ureq::Agent,
    config: FetchConfig,
    user_agent: String,
}

impl Default for Fetcher {
    fn default() -> Self {
        Self::new(FetchConfig::default())
    }
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Fetcher {
        let tls = ureq::tls::TlsConfig::builder().root_certs(tls::root_certs(&config.extra_roots)).build();
        let agent = ureq::Agent::config_builder()
            // Statuses and redirects are ours to judge: an `<error>` body may
            // come with a 401, and redirects must not leak credentials.
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.total_timeout))
            .user_agent(DEFAULT_USER_AGENT)
            .accept("application/xml, text/xml;q=0.9, */*;q=0.1")
            .tls_config(tls)
            .build()
            .new_agent();
        Fetcher { agent, config, user_agent: DEFAULT_USER_AGENT.to_owned() }
    }

    /// What this fetcher was built from; a setter changes a copy and builds
    /// anew (keeping the user agent: `with_user_agent`).
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// The `User-Agent` this fetcher sends.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// This fetcher, sending `user_agent` instead of the default.
    pub fn with_user_agent(&self, user_agent: &str) -> Fetcher {
        Fetcher { user_agent: user_agent.to_owned(), ..self.clone() }
    }

    /// Tries each base URL in turn; the first usable answer wins. Each
    /// attempt is reported to `log`, scrubbed like the error messages.
    /// `condition`'s validators go to its base URL, whose `304 Not Modified`
    /// then counts as its answer.
    pub fn first_fetched(
        &self,
        settings: &Settings,
        credentials: Option<&Credentials>,
        condition: Option<Condition<'_>>,
        log: Option<&Sink>,
    ) -> Result<Fetched> {
        let auth = Auth::new(settings, credentials);
        let mut failures = Vec::new();
        let mut server_error = None;
        for base in &settings.base_urls {
            let validators = condition.filter(|c| c.base_url == base).map(|c| c.validators);
            let started = Instant::now();
            match self.try_url(base, settings, &auth, validators) {
                Ok((shown, fetched)) => {
                    let outcome = match &fetched {
                        Fetched::Answer(answer) => format!("ok, {} bytes", answer.body.len()),
                        Fetched::NotModified => "ok, not modified (304)".to_owned(),
                    };
                    report(log, shown, Status::PROVISION_OK, outcome, started);
                    return Ok(fetched);
                }
                Err((shown, failure)) => {
                    let (status, reason) = match failure {
                        Failure::Server(text) => {
                            let text = auth.scrub(text);
                            server_error = Some(text.clone());
                            (Status::PROVISION_ERR_SERVER, format!("server error: {text}"))
                        }
                        Failure::Other(reason) => (Status::PROVISION_ERR_FETCH, auth.scrub(reason)),
                    };
                    failures.push(format!("{shown}: {reason}"));
                    report(log, shown, status, reason, started);
                }
            }
        }
        Err(match server_error {
            Some(text) => Error::new(Status::PROVISION_ERR_SERVER, text),
            None => Error::new(Status::PROVISION_ERR_FETCH, format!("no base URL succeeded: {}", failures.join("; "))),
        })
    }

    /// One base URL. Returns the URL as it may be shown (no credentials)
    /// with what it answered, or with what went wrong.
    fn try_url(
        &self,
        base: &str,
        settings: &Settings,
        auth: &Auth,
        validators: Option<&Validators>,
    ) -> std::result::Result<(String, Fetched), (String, Failure)> {
        let url = configuration_url(base).map_err(|m| (base.to_owned(), Failure::Other(m)))?;
        let shown = shown(&url);
        let fail = |f: Failure| (shown.clone(), f);
        let mut request_url = url.clone();
        if let Some(creds) = &auth.query {
            let query = match url.query() {
                Some(q) if !q.is_empty() => format!("{q}&{creds}"),
                _ => creds.clone(),
            };
            request_url.set_query(Some(&query));
        }
        let (status, bytes, got) = self.get(request_url, auth, validators).map_err(|m| fail(Failure::Other(m)))?;
        if status == StatusCode::NOT_MODIFIED && validators.is_some() {
            return Ok((shown, Fetched::NotModified));
        }
        let text = xml::decode(bytes);
        let scan = text.as_ref().map_err(Clone::clone).and_then(|t| Scan::new(t));
        if let (Ok(text), Ok(scan)) = (&text, &scan) {
            if scan.root_name == "error" {
                let message = xml::root_text(text).map(|t| t.trim().to_owned());
                return Err(fail(Failure::Server(message.unwrap_or_default())));
            }
        }
        if !status.is_success() {
            return Err(fail(Failure::Other(format!("HTTP {status}"))));
        }
        let (body, scan) = match (text, scan) {
            (Ok(body), Ok(scan)) => (body, scan),
            (Err(e), _) | (_, Err(e)) => {
                return Err(fail(Failure::Other(format!("the answer is not well-formed XML: {e}"))));
            }
        };
        if !settings.significant_sections.iter().any(|s| scan.has_section(s)) {
            return Err(fail(Failure::Other(format!(
                "the answer (root <{}>) holds none of the significant sections",
                scan.root_name
            ))));
        }
        Ok((shown, Fetched::Answer(Answer { base_url: base.to_owned(), body, scan, validators: got })))
    }

    /// GET with our redirect policy: a few hops at most, never from https to
    /// http, and credentials only to the origin they were meant for. Also
    /// returns the answer's validators.
    fn get(
        &self,
        mut url: Url,
        auth: &Auth,
        validators: Option<&Validators>,
    ) -> std::result::Result<(StatusCode, Vec<u8>, Validators), String> {
        let origin = url.origin();
        for _ in 0..=MAX_REDIRECTS {
            let ours = url.origin() == origin;
            let mut response = self.send(&url, auth.header.as_deref().filter(|_| ours), validators)?;
            if let Some(credentials) = auth.digest.as_ref().filter(|_| ours && response.status() == 401) {
                if let Some(header) = digest_answer(&response, &url, credentials)? {
                    response = self.send(&url, Some(&header), validators)?;
                }
            }
            let status = response.status();
            let location = response.headers().get("location").and_then(|v| v.to_str().ok());
            if let (true, Some(location)) = (status.is_redirection(), location) {
                let next = url.join(location).map_err(|e| format!("bad redirect Location: {e}"))?;
                if url.scheme() == "https" && next.scheme() != "https" {
                    return Err(format!("refused a redirect from https to {}", next.scheme()));
                }
                url = next;
                continue;
            }
            let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let got = Validators { etag: header("etag"), last_modified: header("last-modified") };
            let body = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_vec().map_err(describe)?;
            return Ok((status, body, got));
        }
        Err(format!("more than {MAX_REDIRECTS} redirects"))
    }

    fn send(
        &self,
        url: &Url,
        authorization: Option<&str>,
        validators: Option<&Validators>,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, String> {
        let mut request = self.agent.get(url.as_str()).header("User-Agent", &self.user_agent);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header("If-None-Match", etag);
            }
            if let Some(date) = &v.last_modified {
                request = request.header("If-Modified-Since", date);
            }
        }
        request.call().map_err(describe)
    }
}

/// The `Authorization` answering a 401's Digest challenge, `None` when the
/// server asked for no Digest (the 401 stands), an error when it did but
/// in a way we cannot answer.
fn digest_answer(
    response: &ureq::http::Response<ureq::Body>,
    url: &Url,
    credentials: &Credentials,
) -> std::result::Result<Option<String>, String> {
    let offers = response.headers().get_all("www-authenticate").iter().filter_map(|v| v.to_str().ok());
    let challenge = digest::Challenge::pick(offers)
        .map_err(|why| format!("HTTP 401 with a Digest challenge that cannot be answered: {why}"))?;
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    Ok(challenge.map(|c| c.answer(&credentials.user, &credentials.password, &target, &digest::cnonce())))
}

/// Hands one attempt to the host's log, if it has one.
fn report(log: Option<&Sink>, url: String, status: Status, outcome: String, started: Instant) {
    log::emit(log, Record::attempt(url, status, outcome, started.elapsed()));
}

/// A transport error as a short sentence.
fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the connection closed before the whole answer arrived".to_owned()
        }
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Timeout(ureq::Timeout::Global) => "timed out (the whole request took too long)".to_owned(),
        ureq::Error::Timeout(ureq::Timeout::Connect) => "timed out while connecting".to_owned(),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::BodyExceedsLimit(limit) => format!("the answer is larger than {limit} bytes"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_is_appended_to_the_path() {
        let cases = [
            ("http://h/", "http://h/configuration"),
            ("http://h", "http://h/configuration"),
            ("http://h/prov", "http://h/prov/configuration"),
            ("https://h:8443/a/b/?x=1&y=%2B", "https://h:8443/a/b/configuration?x=1&y=%2B"),
        ];
        for (base, want) in cases {
            assert_eq!(configuration_url(base).unwrap().as_str(), want);
        }
    }

    #[test]
    fn only_whole_words_are_scrubbed() {
        assert_eq!(replace_whole("http://p/ p; pp p", "p", "*"), "http://*/ *; pp *");
        assert_eq!(replace_whole("wrong: s3cret!", "s3cret", "*"), "wrong: *!");
        assert_eq!(replace_whole("x&y=1", "&y", "*"), "x*=1");
        assert_eq!(shown(&Url::parse("http://bob:hunter2@h/").unwrap()), "http://bob@h/");
    }

    #[test]
    fn md5_is_lowercase_hex() {
        assert_eq!(md5_hex("secret"), "5ebe2294ecd0e0f08eab7690d2a6ee69");
    }
}
