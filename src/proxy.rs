//! Which HTTP proxy requests go through (`provision_set_proxy`).
//!
//! Three settings: the environment's (`ALL_PROXY`, `HTTPS_PROXY`,
//! `HTTP_PROXY`, `NO_PROXY`, as ureq reads them, read once when the setting
//! is made: another setter that rebuilds the client does not read them again), none at all (even when the environment names one), or an explicit
//! `http://[user:password@]host:port`. Through a proxy, http and https
//! targets alike are reached with `CONNECT` (ureq's way): the proxy never sees
//! an https request, and sees the plain request to an http target only as
//! tunnelled bytes.

use crate::error::{Error, Result};
use url::Url;

/// What the host said about proxies.
#[derive(Clone, PartialEq, Eq)]
pub enum ProxySetting {
    /// The environment's proxy, if it names one, read when the setting was
    /// made (the handle's creation, or `set_proxy(None)`): the default.
    Environment(Option<ureq::Proxy>),
    /// No proxy, whatever the environment says.
    Off,
    Explicit(ProxyUrl),
}

impl Default for ProxySetting {
    fn default() -> Self {
        ProxySetting::Environment(ureq::Proxy::try_from_env())
    }
}

// Never a password: the proxies are shown as `http://user@host:port`.
impl std::fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxySetting::Environment(proxy) => {
                write!(f, "Environment({:?})", proxy.as_ref().map(shown_ureq_proxy))
            }
            ProxySetting::Off => f.write_str("Off"),
            ProxySetting::Explicit(url) => write!(f, "Explicit({})", url.shown()),
        }
    }
}

/// An explicit proxy URL. `Debug` never shows its password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(Url);

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyUrl({})", self.shown())
    }
}

impl ProxySetting {
    /// `None`: the environment's; `""`: none; else an explicit proxy URL,
    /// ARGUMENT when it is not `http://[user:password@]host:port`.
    pub fn parse(text: Option<&str>) -> Result<ProxySetting> {
        match text {
            None => Ok(ProxySetting::default()),
            Some("") => Ok(ProxySetting::Off),
            Some(text) => ProxyUrl::parse(text).map(ProxySetting::Explicit),
        }
    }

    /// The proxy an agent goes through.
    pub fn agent_proxy(&self) -> Option<ureq::Proxy> {
        match self {
            ProxySetting::Environment(proxy) => proxy.clone(),
            ProxySetting::Off => None,
            ProxySetting::Explicit(url) => Some(url.to_ureq()),
        }
    }
}

impl ProxyUrl {
    pub fn parse(text: &str) -> Result<ProxyUrl> {
        // Messages about a bad proxy URL never repeat it: it may hold a password.
        let bad = |why: &str| Error::argument(format!("the proxy URL {why}: give http://[user:password@]host:port"));
        let url = Url::parse(text).map_err(|e| bad(&format!("is not a URL ({e})")))?;
        if url.scheme() != "http" {
            return Err(bad(&format!("has the scheme '{}', only http proxies are supported", url.scheme())));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("has no host"));
        }
        // The url crate forgets an explicit default port (`:80`): look at the text.
        let authority = text.split_once("://").map_or("", |(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""));
        let host_port = authority.rsplit('@').next().unwrap_or("");
        let has_port =
            host_port.rsplit_once(':').is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !has_port {
            return Err(bad("names no port"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("has a path, query or fragment"));
        }
        if url.password().is_some() && url.username().is_empty() {
            return Err(bad("has a password without a user name"));
        }
        Ok(ProxyUrl(url))
    }

    /// The proxy as it may appear in a message: no password.
    pub fn shown(&self) -> String {
        shown_proxy(&self.0)
    }

    fn to_ureq(&self) -> ureq::Proxy {
        // The url crate keeps user and password percent-encoded, which is
        // what ureq decodes (once); the host is already checked.
        ureq::Proxy::new(self.0.as_str()).expect("a checked http proxy URL")
    }
}

/// `http://user@host:port` for a proxy ureq uses (the environment's or ours).
pub fn shown_ureq_proxy(proxy: &ureq::Proxy) -> String {
    let user = proxy.username().map(|u| format!("{u}@")).unwrap_or_default();
    format!("http://{user}{}:{}", proxy.host(), proxy.port())
}

fn shown_proxy(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    url.as_str().trim_end_matches('/').to_owned()
}

/// A proxy's user name and password, when it has a password: what
/// `Proxy-Authorization` carries, to be scrubbed from messages.
pub fn credentials(proxy: Option<&ureq::Proxy>) -> Option<(&str, &str)> {
    let proxy = proxy?;
    let password = proxy.password().filter(|p| !p.is_empty())?;
    Some((proxy.username().unwrap_or_default(), password))
}

/// A proxy's refusal to open the tunnel, as a sentence. `reason` is ureq's
/// ("proxy server responded 407/407").
pub fn refusal(proxy: Option<&ureq::Proxy>, reason: &str) -> String {
    let shown = proxy.map(shown_ureq_proxy).unwrap_or_else(|| "the proxy".to_owned());
    let status = reason.rsplit(' ').next().and_then(|s| s.split('/').next()).unwrap_or("");
    let has_credentials = proxy.is_some_and(|p| p.username().is_some() || p.password().is_some());
    match status {
        "407" if has_credentials => {
            format!("the proxy {shown} refused the credentials given (HTTP 407 Proxy Authentication Required)")
        }
        "407" => format!(
            "the proxy {shown} wants credentials (HTTP 407 Proxy Authentication Required): \
             give them as http://user:password@host:port"
        ),
        "" => format!("the proxy {shown} failed: {reason}"),
        status => format!("the proxy {shown} refused to connect to the server (HTTP {status})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_are_checked_without_repeating_them() {
        assert!(matches!(ProxySetting::parse(None).unwrap(), ProxySetting::Environment(_)));
        assert_eq!(ProxySetting::parse(Some("")).unwrap(), ProxySetting::Off);
        let url = ProxyUrl::parse("http://bob:s%40cret@127.0.0.1:3128").unwrap();
        assert_eq!(url.shown(), "http://bob@127.0.0.1:3128");
        assert!(!format!("{url:?}").contains("cret"));
        let proxy = url.to_ureq();
        assert_eq!(proxy.password(), Some("s@cret"));
        assert_eq!(shown_ureq_proxy(&proxy), "http://bob@127.0.0.1:3128");
        for bad in ["socks5://h:1", "http://h", "http://h:1/path", "ftp://x:1", "bob:pw@host", "http://:pw@h:1"] {
            let e = ProxySetting::parse(Some(bad)).unwrap_err();
            assert_eq!(e.status, crate::Status::PROVISION_ERR_ARGUMENT, "{bad}");
            assert!(!e.message.contains("pw"), "{e}");
        }
        assert!(ProxyUrl::parse("http://h:80").is_ok());
        assert!(ProxyUrl::parse("http://[::1]:3128").is_ok());
        assert!(ProxyUrl::parse("http://[::1]").is_err());
        assert!(ProxyUrl::parse("http://u:80@h").is_err(), "a password of digits is no port");
    }

    #[test]
    fn a_407_says_what_the_proxy_wants() {
        let with = ProxyUrl::parse("http://u:p@h:1").unwrap().to_ureq();
        let without = ProxyUrl::parse("http://h:1").unwrap().to_ureq();
        let m = refusal(Some(&without), "proxy server responded 407/407");
        assert!(m.contains("wants credentials") && m.contains("http://h:1"), "{m}");
        let m = refusal(Some(&with), "proxy server responded 407/407");
        assert!(m.contains("refused the credentials") && !m.contains(":p@"), "{m}");
        assert!(refusal(Some(&with), "proxy server responded 403/403").contains("HTTP 403"));
    }
}
