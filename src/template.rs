//! URL templates: the vendor's current scheme, where a base URL holds
//! `[username]`, `[password]` and `[NAME]` placeholders (or `{...}` braces)
//! for the application to fill in.
//!
//! Placeholders are looked for in the path and query of the base URL
//! (never in the host: `[::1]` is an address) before a part (`configuration`,
//! `addressbook/ID`) is appended, so an id is never taken for one; they are replaced
//! by the value percent-encoded as an RFC 3986 unreserved-only string, which
//! is safe anywhere in a path or a query. A literal bracket that is not a
//! placeholder is written percent-encoded (`%5B`, `%7B`).

use crate::error::{Error, Result, Status};
use crate::fetch::Credentials;
use crate::limits::{MAX_VARIABLES, MAX_VARIABLE_BYTES, MAX_VARIABLE_NAME_BYTES as MAX_NAME};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::collections::BTreeMap;
use url::{Position, Url};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The values the host set for placeholders (`provision_set_variable`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Variables(BTreeMap<String, String>);

// Names only: a value may be a token.
impl std::fmt::Debug for Variables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Variables {
    /// Sets (`Some`) or removes (`None`) a variable. ARGUMENT for a name that
    /// is not `[A-Za-z_][A-Za-z0-9_.-]*` (at most 64 bytes), for `username`
    /// and `password` (they come from the credentials), and beyond the bounds.
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<()> {
        if !is_name(name) {
            return Err(Error::argument(format!(
                "'{name}' is not a variable name (a letter or '_', then letters, digits, '_', '.', '-'; at most \
                 {MAX_NAME} bytes)"
            )));
        }
        if name == "username" || name == "password" {
            return Err(Error::argument(format!(
                "[{name}] is filled from the credentials (provision_set_credentials), not from a variable"
            )));
        }
        let Some(value) = value else {
            self.0.remove(name);
            return Ok(());
        };
        let mut next = self.0.clone();
        next.insert(name.to_owned(), value.to_owned());
        let bytes: usize = next.iter().map(|(n, v)| n.len() + v.len()).sum();
        if next.len() > MAX_VARIABLES || bytes > MAX_VARIABLE_BYTES {
            return Err(Error::argument(format!(
                "at most {MAX_VARIABLES} variables of at most {MAX_VARIABLE_BYTES} bytes in all (names and values)"
            )));
        }
        self.0 = next;
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_NAME
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// One placeholder found in a URL: its byte range and its name.
struct Found<'a> {
    start: usize,
    end: usize,
    name: &'a str,
}

/// The placeholders in `text` (a path and query): `[name]`, `{name}`, and
/// `%7Bname%7D` (how the url crate writes braces in a path).
fn placeholders(text: &str) -> Vec<Found<'_>> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let (open, close) = if rest.starts_with('[') {
            ("[", "]")
        } else if rest.starts_with('{') {
            ("{", "}")
        } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case("%7B") {
            ("%7B", "%7D")
        } else {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let inner = &rest[open.len()..];
        let name_len =
            inner.bytes().take_while(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')).count();
        let closed = inner.get(name_len..name_len + close.len()).is_some_and(|c| c.eq_ignore_ascii_case(close));
        match Some(&inner[..name_len]).filter(|name| closed && is_name(name)) {
            Some(name) => {
                let len = open.len() + name.len() + close.len();
                found.push(Found { start: at, end: at + len, name });
                at += len;
            }
            None => at += open.len(),
        }
    }
    found
}

/// Whether `text` is one placeholder and nothing else (then it is no
/// secret, whatever the name of the query parameter it stands for).
pub fn is_placeholder(text: &str) -> bool {
    placeholders(text).first().is_some_and(|p| p.start == 0 && p.end == text.len())
}

/// Whether a base URL (as written) puts the password into the URL.
pub fn sends_password(base: &str) -> bool {
    Url::parse(base).is_ok_and(|url| placeholders(&url[Position::BeforePath..]).iter().any(|p| p.name == "password"))
}

/// A URL with its placeholders filled in: what is requested, what may be
/// shown (`[password]` in place of the password), and what must be
/// scrubbed from messages (the password as it went on the wire).
#[derive(Debug)]
pub struct Filled {
    pub request: Url,
    pub shown: String,
}

/// Fills in the placeholders of `url` (a base URL; `Fetcher::target`
/// appends the part afterwards). CREDENTIALS when `[username]` or `[password]` is used and
/// `credentials` is `None`; FORMAT naming an unknown placeholder.
pub fn fill(url: &Url, variables: &Variables, credentials: Option<&Credentials>) -> Result<Filled> {
    let shown_base = crate::redact::show_url(url.as_str());
    let value = |name: &str| -> Result<(String, String)> {
        let from_credentials = |pick: fn(&Credentials) -> &str| {
            credentials.map(pick).map(str::to_owned).ok_or_else(|| {
                Error::new(
                    Status::PROVISION_ERR_CREDENTIALS,
                    format!(
                        "the base URL {shown_base} needs [{name}], but no credentials are set (neither given nor \
                         in the provision file)"
                    ),
                )
            })
        };
        let value = match name {
            "username" => from_credentials(|c| &c.user)?,
            "password" => {
                let password = from_credentials(|c| &c.password)?;
                return Ok((encode(&password), "[password]".to_owned()));
            }
            name => variables.get(name).map(str::to_owned).ok_or_else(|| {
                Error::format(format!(
                    "the base URL {shown_base} holds the placeholder [{name}], which is neither [username], \
                     [password] nor a variable set with provision_set_variable"
                ))
            })?,
        };
        let encoded = encode(&value);
        Ok((encoded.clone(), encoded))
    };
    let replace = |url: &Url, shown: bool| -> Result<String> {
        let text = url.as_str();
        let from = url[..Position::BeforePath].len();
        let mut out = text[..from].to_owned();
        let mut at = from;
        for p in placeholders(&text[from..]) {
            let (sent, displayed) = value(p.name)?;
            out.push_str(&text[at..from + p.start]);
            out.push_str(if shown { &displayed } else { &sent });
            at = from + p.end;
        }
        out.push_str(&text[at..]);
        Ok(out)
    };
    let request = replace(url, false)?;
    let request =
        Url::parse(&request).map_err(|e| Error::format(format!("{shown_base}: filled in, not a URL: {e}")))?;
    Ok(Filled { request, shown: replace(url, true)? })
}

/// A value as it goes into a URL.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials { user: "bob smith".into(), password: "a&b=c% d é".into() }
    }

    #[test]
    fn both_bracket_styles_are_filled_and_encoded() {
        let mut vars = Variables::default();
        vars.set("version", Some("1.14")).unwrap();
        let url =
            crate::fetch::configuration_url("https://h/p/{username}/?u=[username]&pw=[password]&v={version}").unwrap();
        let filled = fill(&url, &vars, Some(&creds())).unwrap();
        assert_eq!(
            filled.request.as_str(),
            "https://h/p/bob%20smith/configuration?u=bob%20smith&pw=a%26b%3Dc%25%20d%20%C3%A9&v=1.14"
        );
        assert_eq!(filled.shown, "https://h/p/bob%20smith/configuration?u=bob%20smith&pw=[password]&v=1.14");
    }

    #[test]
    fn hosts_and_encoded_brackets_are_not_placeholders() {
        let url = Url::parse("http://[::1]:8080/a%5Bx%5D/configuration?q=[]&r=[1x]").unwrap();
        let filled = fill(&url, &Variables::default(), None).unwrap();
        assert_eq!(filled.request, url);
        assert!(!sends_password("http://[::1]/"));
        assert!(is_placeholder("[password]") && is_placeholder("%7Bpassword%7D") && !is_placeholder("x[password]"));
        assert!(sends_password("http://h/a/{password}/") && !sends_password("http://h/?x=[version]"));
    }

    #[test]
    fn missing_values_are_named() {
        let url = Url::parse("http://h/configuration?u=[password]").unwrap();
        let e = fill(&url, &Variables::default(), None).unwrap_err();
        assert_eq!(e.status, Status::PROVISION_ERR_CREDENTIALS, "{e}");
        let url = Url::parse("http://h/configuration?v={versoin}").unwrap();
        let e = fill(&url, &Variables::default(), Some(&creds())).unwrap_err();
        assert_eq!(e.status, Status::PROVISION_ERR_FORMAT);
        assert!(e.message.contains("[versoin]"), "{e}");
    }

    #[test]
    fn variable_names_and_bounds_are_checked() {
        let mut vars = Variables::default();
        for bad in ["", "1x", "a b", "a]", "password", "username"] {
            assert_eq!(vars.set(bad, Some("v")).unwrap_err().status, Status::PROVISION_ERR_ARGUMENT, "{bad}");
        }
        for i in 0..MAX_VARIABLES {
            vars.set(&format!("v{i}"), Some("x")).unwrap();
        }
        assert!(vars.set("one_more", Some("x")).is_err());
        vars.set("v0", None).unwrap();
        vars.set("one_more", Some("x")).unwrap();
        assert!(vars.set("big", Some(&"x".repeat(MAX_VARIABLE_BYTES))).is_err());
        assert!(!format!("{vars:?}").contains("\"x\""));
    }
}
