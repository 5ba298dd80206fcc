//! Extra request headers set by the host (`provision_set_header`): a device
//! id, the app's version, a token an operator's server requires. Sent to the
//! origin of each base URL only (never after a redirect to another origin),
//! never logged: values may be secrets.

use crate::error::{Error, Result};
use crate::limits::{MAX_EXTRA_HEADERS, MAX_EXTRA_HEADER_BYTES};

/// Names the library sets itself, or that change how the message is framed
/// or routed: a host setting them would break authentication, caching or
/// the connection. Compared case-insensitively; `Proxy-*` and `Sec-*` too.
const RESERVED: &[&str] = &[
    "accept",
    "accept-encoding",
    "authorization",
    "connection",
    "content-length",
    "content-encoding",
    "expect",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "keep-alive",
    "range",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
];

/// The extra headers, in the order set. `Debug` shows names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExtraHeaders(Vec<(String, String)>);

impl std::fmt::Debug for ExtraHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(n, _)| n)).finish()
    }
}

impl ExtraHeaders {
    /// Sets (`Some`, replacing a header of the same name in any case) or
    /// removes (`None`) a header. ARGUMENT for a reserved name, a name that
    /// is not an HTTP token, a value with a control character (CR, LF, NUL...)
    /// and beyond the bounds. Messages never repeat the value.
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<()> {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(Error::argument(format!(
                "'{}' is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
                name.escape_default()
            )));
        }
        let lower = name.to_ascii_lowercase();
        if RESERVED.contains(&lower.as_str()) || lower.starts_with("proxy-") || lower.starts_with("sec-") {
            let hint = match lower.as_str() {
                "user-agent" => ": use provision_set_user_agent",
                "authorization" => ": use provision_set_credentials",
                l if l.starts_with("proxy-") => ": give proxy credentials in provision_set_proxy",
                _ => "",
            };
            return Err(Error::argument(format!("the header {name} is set by the library, not by the host{hint}")));
        }
        let mut next = self.0.clone();
        next.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        if let Some(value) = value {
            // HTAB, visible ASCII and (obs-text) bytes above 0x7F: RFC 9110 field-value.
            if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err(Error::argument(format!(
                    "the value of the header {name} holds a control character (CR, LF, NUL...)"
                )));
            }
            next.push((name.to_owned(), value.to_owned()));
        }
        let bytes: usize = next.iter().map(|(n, v)| n.len() + v.len()).sum();
        if next.len() > MAX_EXTRA_HEADERS || bytes > MAX_EXTRA_HEADER_BYTES {
            return Err(Error::argument(format!(
                "at most {MAX_EXTRA_HEADERS} extra headers of at most {MAX_EXTRA_HEADER_BYTES} bytes in all \
                 (names and values)"
            )));
        }
        self.0 = next;
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn reserved_and_invalid_headers_are_refused() {
        let mut h = ExtraHeaders::default();
        for name in ["Authorization", "host", "Content-Length", "If-None-Match", "Proxy-Authorization", "Connection"] {
            let e = h.set(name, Some("x")).unwrap_err();
            assert_eq!(e.status, Status::PROVISION_ERR_ARGUMENT, "{name}");
        }
        for name in ["", "X Y", "X:Y", "X\r\nY", "X\0", "Ä"] {
            assert!(h.set(name, Some("x")).is_err(), "{name:?}");
        }
        for value in ["a\r\nInjected: 1", "a\nb", "a\0b", "a\x7f"] {
            let e = h.set("X-Token", Some(value)).unwrap_err();
            assert!(!e.message.contains("Injected"), "{e}");
        }
        assert_eq!(h, ExtraHeaders::default(), "nothing was taken");
    }

    #[test]
    fn headers_replace_remove_and_are_bounded() {
        let mut h = ExtraHeaders::default();
        h.set("X-Device", Some("one")).unwrap();
        h.set("x-device", Some("two\tthree é")).unwrap();
        assert_eq!(h.iter().collect::<Vec<_>>(), [("x-device", "two\tthree é")]);
        h.set("X-DEVICE", None).unwrap();
        assert_eq!(h.iter().count(), 0);
        for i in 0..MAX_EXTRA_HEADERS {
            h.set(&format!("X-{i}"), Some("v")).unwrap();
        }
        assert!(h.set("X-More", Some("v")).is_err());
        assert!(h.set("X-0", Some(&"v".repeat(MAX_EXTRA_HEADER_BYTES))).is_err());
        assert!(!format!("{h:?}").contains("\"v\""));
    }
}
