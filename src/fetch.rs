//! Asking the base URLs, in order, for `BASE + "configuration"`.
//!
//! Every way a URL can fail (transport, TLS, HTTP status, a body that is not
//! XML, an `<error>` answer, an answer without any significant section) moves
//! on to the next URL; the final error says what happened at each one.
//!
//! Around each request: the proxy (`proxy.rs`), the client certificate
//! (`tls.rs`), the host's extra headers (`headers.rs`) and URL templates
//! (`template.rs`), all fixed for a run when it takes its fetcher.

use crate::digest;
use crate::error::{Error, Result, Status};
use crate::headers::ExtraHeaders;
use crate::log::{self, Record, Sink};
use crate::provision_file::{AuthType, Settings};
use crate::proxy::{self, ProxySetting};
use crate::redact::{self, Scrubber};
use crate::retry_after::RetryAfter;
use crate::template::{self, Variables};
use crate::tls::{self, ClientIdentity};
use crate::xml::{self, Scan};
use base64::Engine as _;
use percent_encoding::utf8_percent_encode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use ureq::http::StatusCode;
use url::Url;

pub use crate::limits::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT, MAX_ANSWER_BYTES, MAX_REDIRECTS};
/// Sent unless the host sets its own: operators can tell clients apart in their logs.
pub const DEFAULT_USER_AGENT: &str = concat!("libprovision/", env!("CARGO_PKG_VERSION"));

/// RFC 3986 unreserved characters stay; everything else (`+`, `&`, `=`,
/// spaces, non-ASCII) is percent-encoded.
pub(crate) const QUERY_VALUE: &percent_encoding::AsciiSet = template::UNRESERVED;

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
    /// The first other origin a redirect led to on the way, if one did
    /// (`scheme://host:port`): that origin chose the answer, so its
    /// `<provision>` section is not adopted.
    pub crossed_origin: Option<String>,
    /// Removes what was sent to that URL (the password, its MD5, the Basic
    /// token, the query's secrets) from messages that quote the answer.
    pub scrubber: Scrubber,
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

pub use crate::redact::md5_hex;

/// `base` with `configuration` appended to its path; its query is kept.
pub fn configuration_url(base: &str) -> std::result::Result<Url, String> {
    part_url(base, "configuration")
}

/// `base` with `part` (already percent-encoded where needed, such as
/// `addressbook/ID`) appended to its path; its query is kept.
pub(crate) fn part_url(base: &str, part: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(base).map_err(|e| format!("'{}' is not a URL: {e}", redact::show_url(base)))?;
    Ok(appended(url, part))
}

fn appended(mut url: Url, part: &str) -> Url {
    let mut path = url.path().to_owned();
    if !path.ends_with('/') {
        path.push('/');
    }
    path.push_str(part);
    url.set_path(&path);
    url.set_fragment(None);
    url
}

/// What is sent to every URL, derived once per run.
pub(crate) struct Auth {
    /// `Authorization` header value for `basic`.
    header: Option<String>,
    /// `user=..&password=..` for `url`.
    query: Option<String>,
    /// For `digest`: answered once a server challenges us.
    digest: Option<Credentials>,
    /// Removes the password, its MD5 and the Basic token from what
    /// servers and the transport say.
    scrubber: Scrubber,
}

impl Auth {
    pub(crate) fn new(settings: &Settings, credentials: Option<&Credentials>) -> Auth {
        let mut auth = Auth { header: None, query: None, digest: None, scrubber: Scrubber::new() };
        let Some(c) = credentials.filter(|_| settings.use_authentication) else {
            return auth;
        };
        match settings.authentication_type {
            AuthType::Basic => {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.user, c.password).as_bytes());
                auth.header = Some(format!("Basic {token}"));
            }
            AuthType::Url => {
                let digest = md5_hex(&c.password);
                let user = utf8_percent_encode(&c.user, QUERY_VALUE);
                auth.query = Some(format!("user={user}&password={digest}"));
            }
            AuthType::Digest => auth.digest = Some(c.clone()),
        }
        auth.scrubber.password(&c.user, &c.password);
        auth
    }

    /// Also hides a password a URL template sends, as written and as sent.
    fn hide_template_password(&mut self, password: &str) {
        self.scrubber.secret(password);
        self.scrubber.secret(&template::encode(password));
    }
}

/// How the HTTP client is set up: one value, changed by the handle's setters
/// (`set_timeouts`, `set_ca_file`, `set_client_cert`, `set_proxy`), from
/// which a [`Fetcher`] is built whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    pub connect_timeout: Duration,
    /// The whole request, from connecting to the last byte of the body.
    pub total_timeout: Duration,
    /// Certificates (DER) trusted in addition to the system's store: an
    /// operator's private CA. Empty: the system's store alone.
    pub extra_roots: Vec<Vec<u8>>,
    /// Presented when a server asks for a client certificate.
    pub client_identity: Option<ClientIdentity>,
    pub proxy: ProxySetting,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            extra_roots: Vec::new(),
            client_identity: None,
            proxy: ProxySetting::default(),
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
    /// Sent to the base URLs' own origins only.
    headers: Arc<ExtraHeaders>,
    /// For the placeholders of URL templates.
    variables: Arc<Variables>,
}

/// A base URL ready to ask for one part: filled in (templates) and as it
/// may be shown.
pub(crate) struct Target<'a> {
    /// As written in the provision file.
    pub base: &'a str,
    /// `BASE + part` filled in, or why it is not a URL.
    url: std::result::Result<Url, String>,
    /// `redact::show_url` of it, with `[password]` for a template's password.
    pub shown: String,
}

impl Default for Fetcher {
    fn default() -> Self {
        Self::new(FetchConfig::default())
    }
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Fetcher {
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(tls::root_certs(&config.extra_roots))
            .client_cert(config.client_identity.as_ref().map(|c| c.cert().clone()))
            .build();
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
            .proxy(config.proxy.agent_proxy())
            .build()
            .new_agent();
        Fetcher {
            agent,
            config,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            headers: Arc::default(),
            variables: Arc::default(),
        }
    }

    /// A new fetcher from `config`, sending what this one sends (user agent,
    /// extra headers, variables).
    pub fn rebuilt(&self, config: FetchConfig) -> Fetcher {
        Fetcher { headers: self.headers.clone(), variables: self.variables.clone(), ..Fetcher::new(config) }
            .with_user_agent(&self.user_agent)
    }

    pub fn headers(&self) -> &ExtraHeaders {
        &self.headers
    }

    /// This fetcher (sharing its connections), sending `headers`.
    pub fn with_headers(&self, headers: ExtraHeaders) -> Fetcher {
        Fetcher { headers: Arc::new(headers), ..self.clone() }
    }

    pub fn variables(&self) -> &Variables {
        &self.variables
    }

    /// This fetcher (sharing its connections), filling templates from `variables`.
    pub fn with_variables(&self, variables: Variables) -> Fetcher {
        Fetcher { variables: Arc::new(variables), ..self.clone() }
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
    /// then counts as its answer. `credentials` are
    /// sent as `authentication_type` says; `template_credentials` fill the
    /// `[username]` and `[password]` of URL templates. Before any request:
    /// CREDENTIALS when a template needs credentials and there are none,
    /// FORMAT when one holds an unknown placeholder.
    /// Also returns the longest wait that a failed URL's server asked for
    /// (`Retry-After` on a `503` or `429`), for the refresh schedule; the run
    /// itself still moves on to the next URL.
    pub fn first_fetched(
        &self,
        settings: &Settings,
        credentials: Option<&Credentials>,
        template_credentials: Option<&Credentials>,
        condition: Option<Condition<'_>>,
        log: Option<&Sink>,
    ) -> (Result<Fetched>, Option<Duration>) {
        let auth = self.auth(settings, credentials, template_credentials);
        let targets = match self.targets(&settings.base_urls, "configuration", template_credentials) {
            Ok(targets) => targets,
            Err(e) => return (Err(e), None),
        };
        let mut tally = Tally::new(&auth, log);
        for target in &targets {
            let Some((attempt, url)) = tally.start(target) else { continue };
            let validators = condition.filter(|c| c.base_url == target.base).map(|c| c.validators);
            let mut asked = None;
            match self.try_url(target.base, url, settings, &auth, validators, &mut asked) {
                Ok(mut fetched) => {
                    let outcome = match &fetched {
                        Fetched::Answer(answer) => format!("ok, {} bytes", answer.body.len()),
                        Fetched::NotModified => "ok, not modified (304)".to_owned(),
                    };
                    let scrubber = tally.succeeded(attempt, outcome);
                    if let Fetched::Answer(answer) = &mut fetched {
                        answer.scrubber = scrubber;
                    }
                    return (Ok(fetched), tally.longest_asked());
                }
                Err(failure) => {
                    tally.failed(attempt, failure, asked);
                }
            }
        }
        let longest_asked = tally.longest_asked();
        (Err(tally.error()), longest_asked)
    }

    /// What goes with every request of one pass over the base URLs:
    /// `credentials` sent as `authentication_type` says, and a scrubber
    /// that also knows a template's password (`template_credentials`) and
    /// the proxy's.
    pub(crate) fn auth(
        &self,
        settings: &Settings,
        credentials: Option<&Credentials>,
        template_credentials: Option<&Credentials>,
    ) -> Auth {
        let mut auth = Auth::new(settings, credentials);
        if let Some(c) = template_credentials {
            auth.hide_template_password(&c.password);
        }
        if let Some((user, password)) = proxy::credentials(self.agent.config().proxy()) {
            auth.scrubber.password(user, password);
        }
        auth
    }

    /// Each of `bases` ready to ask for `part` (`configuration`,
    /// `addressbook`, `addressbook/ID`): before any request, CREDENTIALS
    /// when a template needs credentials and `credentials` is None, FORMAT
    /// when one holds an unknown placeholder. A base URL that is no URL is
    /// the failure of its attempt, not of the pass.
    pub(crate) fn targets<'a>(
        &self,
        bases: &'a [String],
        part: &str,
        credentials: Option<&Credentials>,
    ) -> Result<Vec<Target<'a>>> {
        bases.iter().map(|base| self.target(base, part, credentials)).collect()
    }

    /// A base URL filled in, with `part` appended, and as it may be shown.
    /// Only the base URL is a template: `part` may hold a contact id that
    /// looks like a placeholder (`%7Bpassword%7D`), which must stay as it is.
    fn target<'a>(&self, base: &'a str, part: &str, credentials: Option<&Credentials>) -> Result<Target<'a>> {
        let url = match part_url(base, "") {
            Ok(url) => url,
            Err(why) => return Ok(Target { base, url: Err(why), shown: redact::show_url(base).into_owned() }),
        };
        let filled = template::fill(&url, &self.variables, credentials)?;
        // The shown form parses as it did before filling: a `[password]`
        // stands where a placeholder stood.
        let shown = Url::parse(&filled.shown)
            .map(|shown| appended(shown, part).to_string())
            .map_err(|e| Error::format(format!("{}: filled in, not a URL: {e}", redact::show_url(&filled.shown))))?;
        Ok(Target { base, url: Ok(appended(filled.request, part)), shown: redact::show_url(&shown).into_owned() })
    }

    /// One base URL (`url`: its `configuration`, filled in): what it
    /// answered, or what went wrong; `asked` gets what a `503` or `429`
    /// said in `Retry-After`.
    fn try_url(
        &self,
        base: &str,
        url: &Url,
        settings: &Settings,
        auth: &Auth,
        validators: Option<&Validators>,
        asked: &mut Option<RetryAfter>,
    ) -> std::result::Result<Fetched, Failure> {
        let Exchanged { status, body: bytes, validators: got, crossed: crossed_origin, retry_after } =
            self.get(with_auth_query(url, auth), auth, validators).map_err(Failure::Other)?;
        *asked = retry_after;
        if status == StatusCode::NOT_MODIFIED && validators.is_some() {
            return Ok(Fetched::NotModified);
        }
        let (body, scan) =
            judge(status, bytes)?.map_err(|e| Failure::Other(format!("the answer is not well-formed XML: {e}")))?;
        if !settings.significant_sections.iter().any(|s| scan.has_section(s)) {
            return Err(Failure::Other(format!(
                "the answer (root <{}>) holds none of the significant sections",
                scan.root_name
            )));
        }
        Ok(Fetched::Answer(Answer {
            base_url: base.to_owned(),
            body,
            scan,
            validators: got,
            crossed_origin,
            scrubber: Scrubber::new(),
        }))
    }

    /// GET with our redirect policy: a few hops at most, never from https to
    /// http, and credentials only to the origin they were meant for. Also
    /// returns the answer's validators, the first other origin a redirect
    /// led to, if any, and the `Retry-After` of a `503` or `429`.
    fn get(&self, url: Url, auth: &Auth, validators: Option<&Validators>) -> std::result::Result<Exchanged, String> {
        self.exchange(Method::Get, url, auth, validators).map_err(|u| u.reason)
    }

    /// One request with the redirect policy of `get`. A request with a body
    /// follows only 307 and 308, which keep method and body and say the
    /// server did not act on it; other redirects of it fail.
    pub(crate) fn exchange(
        &self,
        method: Method<'_>,
        mut url: Url,
        auth: &Auth,
        validators: Option<&Validators>,
    ) -> std::result::Result<Exchanged, Unanswered> {
        let origin = url.origin();
        let mut crossed = None;
        for _ in 0..=MAX_REDIRECTS {
            let ours = url.origin() == origin;
            let send = |authorization: Option<&str>| {
                self.send(method, &url, ours, authorization, validators).map_err(|e| self.unanswered(&url, e))
            };
            let mut response = send(auth.header.as_deref().filter(|_| ours))?;
            if let Some(credentials) = auth.digest.as_ref().filter(|_| ours && response.status() == 401) {
                if let Some(header) = digest_answer(&response, &url, credentials)? {
                    response = send(Some(&header))?;
                }
            }
            let status = response.status();
            let location = response.headers().get("location").and_then(|v| v.to_str().ok());
            if let (true, Some(location)) = (status.is_redirection(), location) {
                if !matches!(method, Method::Get) && !matches!(status.as_u16(), 307 | 308) {
                    return Err(format!(
                        "the server redirected the {} with HTTP {status}, which would drop its body: not followed",
                        method.name()
                    )
                    .into());
                }
                let next = url.join(location).map_err(|e| format!("bad redirect Location: {e}"))?;
                if url.scheme() == "https" && next.scheme() != "https" {
                    return Err(format!("refused a redirect from https to {}", next.scheme()).into());
                }
                if crossed.is_none() && next.origin() != origin {
                    crossed = Some(next.origin().ascii_serialization());
                }
                url = next;
                continue;
            }
            let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let validators = Validators { etag: header("etag"), last_modified: header("last-modified") };
            let busy = matches!(status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS);
            let retry_after =
                header("retry-after").filter(|_| busy).and_then(|v| RetryAfter::parse(&v, SystemTime::now()));
            let body = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_vec();
            // The request was sent: whatever failed now, it may have been acted on.
            let body = body.map_err(|e| Unanswered { unsent: false, ..self.unanswered(&url, e) })?;
            return Ok(Exchanged { status, body, validators, crossed, retry_after });
        }
        Err(format!("more than {MAX_REDIRECTS} redirects").into())
    }

    /// One request. `ours`: `url` has the base URL's origin, so the host's
    /// extra headers go too.
    fn send(
        &self,
        method: Method<'_>,
        url: &Url,
        ours: bool,
        authorization: Option<&str>,
        validators: Option<&Validators>,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        // Generic over the builder's body state, which differs by method.
        fn headers<B>(
            mut request: ureq::RequestBuilder<B>,
            user_agent: &str,
            extra: Option<&ExtraHeaders>,
            authorization: Option<&str>,
            validators: Option<&Validators>,
        ) -> ureq::RequestBuilder<B> {
            request = request.header("User-Agent", user_agent);
            for (name, value) in extra.into_iter().flat_map(ExtraHeaders::iter) {
                request = request.header(name, value);
            }
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
            request
        }
        let extra = Some(&*self.headers).filter(|_| ours);
        let ua = self.user_agent.as_str();
        let xml = "application/xml; charset=utf-8";
        match method {
            Method::Get => headers(self.agent.get(url.as_str()), ua, extra, authorization, validators).call(),
            Method::Delete => headers(self.agent.delete(url.as_str()), ua, extra, authorization, validators).call(),
            Method::Post(body) => headers(self.agent.post(url.as_str()), ua, extra, authorization, validators)
                .header("Content-Type", xml)
                .send(body),
            Method::Put(body) => headers(self.agent.put(url.as_str()), ua, extra, authorization, validators)
                .header("Content-Type", xml)
                .send(body),
        }
    }

    /// A request that got no answer, described, and whether it could have
    /// reached a server.
    fn unanswered(&self, url: &Url, e: ureq::Error) -> Unanswered {
        let unsent = unsent(&e);
        Unanswered { reason: self.through_proxy(url, self.describe(e)), unsent }
    }

    /// A transport failure on the way to `url`, naming the proxy it went
    /// through, if any: a refused connection is the proxy's then, not the
    /// server's, and an admin must know which to look at.
    fn through_proxy(&self, url: &Url, message: String) -> String {
        let Some(proxy) = self.agent.config().proxy() else {
            return message;
        };
        let bypassed = ureq::http::Uri::try_from(url.as_str()).is_ok_and(|uri| proxy.is_no_proxy(&uri));
        if bypassed || message.starts_with("the proxy ") {
            return message;
        }
        format!("{message} (through the proxy {})", proxy::shown_ureq_proxy(proxy))
    }

    /// A transport error as a short sentence.
    fn describe(&self, e: ureq::Error) -> String {
        let proxy = self.agent.config().proxy();
        match e {
            ureq::Error::ConnectProxyFailed(reason) => proxy::refusal(proxy, &reason),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                "the connection closed before the whole answer arrived".to_owned()
            }
            ureq::Error::Io(io) => tls::explain(&io.to_string(), self.config.client_identity.is_some()),
            ureq::Error::Tls(why) => tls::explain(why, self.config.client_identity.is_some()),
            ureq::Error::Rustls(e) => tls::explain(&format!("rustls: {e}"), self.config.client_identity.is_some()),
            ureq::Error::Timeout(ureq::Timeout::Global) => "timed out (the whole request took too long)".to_owned(),
            ureq::Error::Timeout(ureq::Timeout::Connect) => "timed out while connecting".to_owned(),
            ureq::Error::Timeout(t) => format!("timed out ({t})"),
            ureq::Error::BodyExceedsLimit(limit) => format!("the answer is larger than {limit} bytes"),
            other => other.to_string(),
        }
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
pub(crate) fn report(log: Option<&Sink>, url: String, status: Status, outcome: String, started: Instant) {
    log::emit(log, Record::attempt(url, status, outcome, started.elapsed()));
}

/// `url` as requested: with the `url` authentication's query appended.
pub(crate) fn with_auth_query(url: &Url, auth: &Auth) -> Url {
    let mut request_url = url.clone();
    if let Some(creds) = &auth.query {
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&{creds}"),
            _ => creds.clone(),
        };
        request_url.set_query(Some(&query));
    }
    request_url
}

// --- Shared with the addressbook part (src/addressbook.rs): methods with a
// body, whether a failed request could have reached a server, and the
// checks every answer goes through.

/// The request a part makes. The configuration only ever GETs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Method<'a> {
    Get,
    /// With an XML body.
    Post(&'a str),
    /// With an XML body.
    Put(&'a str),
    Delete,
}

impl Method<'_> {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post(_) => "POST",
            Method::Put(_) => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A request that got no answer to judge.
#[derive(Debug, Clone)]
pub(crate) struct Unanswered {
    pub reason: String,
    /// The connection failed before the request could have reached a server
    /// (no address, refused, TLS handshake): trying another URL cannot make
    /// it happen twice. False whenever in doubt.
    pub unsent: bool,
}

impl From<String> for Unanswered {
    fn from(reason: String) -> Unanswered {
        Unanswered { reason, unsent: false }
    }
}

/// Whether a request that failed with `e` cannot have reached a server (no
/// address, refused, TLS handshake): trying another URL cannot make it
/// happen twice. False whenever in doubt.
fn unsent(e: &ureq::Error) -> bool {
    use std::io::ErrorKind::*;
    match e {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::BadUri(_) => true,
        ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => true,
        // Handshake failures: nothing of the request was written yet.
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => true,
        ureq::Error::Io(io) => {
            matches!(io.kind(), ConnectionRefused | AddrNotAvailable | NetworkUnreachable | HostUnreachable | AddrInUse)
                || refused_handshake(io)
        }
        _ => false,
    }
}

/// A TLS handshake that failed on the server's side of it (a certificate
/// we do not trust, nothing in common): rustls reports it inside an
/// `io::Error`, and no byte of the request has been written yet. Errors
/// that can also come after the handshake (alerts, decryption) do not count.
fn refused_handshake(io: &std::io::Error) -> bool {
    use rustls::Error::*;
    let tls = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    tls.is_some_and(|e| {
        matches!(
            e,
            InvalidCertificate(_)
                | NoCertificatesPresented
                | PeerIncompatible(_)
                | InappropriateHandshakeMessage { .. }
                | HandshakeNotComplete
        )
    })
}

/// The attempts of one pass over the base URLs, for every part: each
/// reported to the log as it ends (its URL through `redact::show_url`),
/// scrubbed of the credentials and of its URL's own query secrets, the
/// longest wait a busy server asked for, and the pass's final error.
pub(crate) struct Tally<'a> {
    auth: &'a Auth,
    log: Option<&'a Sink>,
    failures: Vec<String>,
    server_error: Option<String>,
    longest_asked: Option<Duration>,
}

/// One attempt under way.
pub(crate) struct Attempt {
    /// The URL as it may be shown.
    pub shown: String,
    /// The pass's scrubber, plus the secrets of this URL's query: a server
    /// may echo those too.
    scrubber: Scrubber,
    started: Instant,
}

impl<'a> Tally<'a> {
    pub(crate) fn new(auth: &'a Auth, log: Option<&'a Sink>) -> Tally<'a> {
        Tally { auth, log, failures: Vec::new(), server_error: None, longest_asked: None }
    }

    /// Starts the attempt at `target`, with the URL to ask; None (the
    /// failure recorded) when its base URL is not a URL.
    pub(crate) fn start<'t>(&mut self, target: &'t Target<'_>) -> Option<(Attempt, &'t Url)> {
        let mut attempt =
            Attempt { shown: target.shown.clone(), scrubber: self.auth.scrubber.clone(), started: Instant::now() };
        match &target.url {
            Ok(url) => {
                for secret in redact::query_secrets(url.as_str()) {
                    attempt.scrubber.secret(&secret);
                }
                Some((attempt, url))
            }
            Err(why) => {
                self.failed(attempt, Failure::Other(why.clone()), None);
                None
            }
        }
    }

    /// Reports the success; returns the attempt's scrubber, for messages
    /// that later quote the answer.
    pub(crate) fn succeeded(&self, attempt: Attempt, outcome: String) -> Scrubber {
        report(self.log, attempt.shown, Status::PROVISION_OK, outcome, attempt.started);
        attempt.scrubber
    }

    /// Reports the failure, with what a busy server `asked`; returns it as
    /// the final error would quote it (`URL: reason`).
    pub(crate) fn failed(&mut self, attempt: Attempt, failure: Failure, asked: Option<RetryAfter>) -> String {
        let (status, mut reason) = match failure {
            Failure::Server(text) => {
                let text = attempt.scrubber.scrub(text);
                self.server_error = Some(text.clone());
                (Status::PROVISION_ERR_SERVER, format!("server error: {text}"))
            }
            Failure::Other(reason) => (Status::PROVISION_ERR_FETCH, attempt.scrubber.scrub(reason)),
        };
        if let Some(asked) = asked {
            reason = format!("{reason}; {}", asked.describe());
            self.longest_asked = self.longest_asked.max(Some(asked.wait));
        }
        let quoted = format!("{}: {reason}", attempt.shown);
        self.failures.push(quoted.clone());
        report(self.log, attempt.shown, status, reason, attempt.started);
        quoted
    }

    /// The longest wait a failed URL's server asked for so far.
    pub(crate) fn longest_asked(&self) -> Option<Duration> {
        self.longest_asked
    }

    /// SERVER with the last `<error>` text if a URL answered one, else
    /// FETCH saying what happened at each URL.
    pub(crate) fn error(self) -> Error {
        match self.server_error {
            Some(text) => Error::new(Status::PROVISION_ERR_SERVER, text),
            None => {
                Error::new(Status::PROVISION_ERR_FETCH, format!("no base URL succeeded: {}", self.failures.join("; ")))
            }
        }
    }
}

/// How the parts judge an answer: an `<error>` document (any status) is the
/// server's refusal, another status outside 2xx fails the URL, and a 2xx
/// body is returned decoded and scanned, or with why it is not a
/// well-formed document (an empty body, for instance).
pub(crate) fn judge(
    status: StatusCode,
    bytes: Vec<u8>,
) -> std::result::Result<std::result::Result<(String, Scan), String>, Failure> {
    let text = xml::decode(bytes);
    let scan = text.as_ref().map_err(Clone::clone).and_then(|t| Scan::new(t));
    if let (Ok(text), Ok(scan)) = (&text, &scan) {
        if scan.root_name == "error" {
            let message = xml::root_text(text).map(|t| t.trim().to_owned());
            return Err(Failure::Server(message.unwrap_or_default()));
        }
    }
    if !status.is_success() {
        return Err(Failure::Other(format!("HTTP {status}")));
    }
    Ok(match (text, scan) {
        (Ok(body), Ok(scan)) => Ok((body, scan)),
        (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
    })
}

/// What one exchange brought back.
pub(crate) struct Exchanged {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub validators: Validators,
    /// The first other origin a redirect led to, if any.
    pub crossed: Option<String>,
    /// What a `503` or `429` said in `Retry-After`.
    pub retry_after: Option<RetryAfter>,
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
}
