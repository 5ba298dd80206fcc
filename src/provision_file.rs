//! The provision file (`provision.conf`): what to ask, where, and how.
//!
//! Parsing is strict about what it knows (a wrong value is a FORMAT error
//! naming the file, the element and the line) and lenient about what it does
//! not (unknown elements are ignored, so newer files still load).

use crate::error::{Error, Result};
use crate::limits::MAX_BASE_URLS;
use crate::read_file::{read_file, MAX_SMALL_FILE_BYTES};
use crate::redact::{self, Scrubber};
use crate::xml::{self, Element};
use std::path::Path;

/// The section names the vendor's guide lists as valid `significant_sections`.
pub const VALID_SECTIONS: &[&str] = &[
    "general",
    "sip_options",
    "iax_options",
    "rtp_options",
    "stun_options",
    "accounts",
    "audio",
    "transfer",
    "codecs",
    "restrictions",
    "provision",
    "diagnostics",
    "network",
    "fax",
];

const VALID_RESTRICTIONS: &[&str] = &["add", "update", "delete"];

/// How credentials reach the web server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// An `Authorization: Basic` header.
    Basic,
    /// Query parameters `user` and `password` (lowercase hex MD5 of the password).
    Url,
    /// HTTP Digest (RFC 7616, MD5 or SHA-256, qop=auth) once the server
    /// challenges: the password is never sent.
    Digest,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Addressbook {
    pub use_addressbook: bool,
    pub restrictions: Vec<String>,
}

/// A parsed and validated provision file.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// As written in the file (trimmed), tried in order.
    pub base_urls: Vec<String>,
    pub use_authentication: bool,
    pub user_input_authentication: bool,
    pub authentication_type: AuthType,
    pub user: String,
    /// Passed through byte for byte: it may be plain text or the product's own
    /// encoding, which is undocumented and therefore never decoded here.
    pub password: String,
    /// Seconds between provisionings; 0 means once at start-up.
    pub refresh_rate: u64,
    pub significant_sections: Vec<String>,
    pub addressbook: Addressbook,
}

// Hand-written so that a password never reaches a log through `{:?}`.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("base_urls", &self.base_urls.iter().map(|u| redact::show_url(u)).collect::<Vec<_>>())
            .field("use_authentication", &self.use_authentication)
            .field("user_input_authentication", &self.user_input_authentication)
            .field("authentication_type", &self.authentication_type)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("refresh_rate", &self.refresh_rate)
            .field("significant_sections", &self.significant_sections)
            .field("addressbook", &self.addressbook)
            .finish()
    }
}

impl Settings {
    /// Reads and validates a provision file. A missing file is NOT_FOUND
    /// (provisioning is off), not an error of the file.
    pub fn load(path: &Path) -> Result<Settings> {
        let shown = path.display();
        let bytes = match read_file(path, MAX_SMALL_FILE_BYTES) {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => {
                return Err(Error::new(
                    crate::Status::PROVISION_ERR_NOT_FOUND,
                    format!("{shown}: no provision file: provisioning is off"),
                ));
            }
            Err(e) => return Err(e.for_file(shown, "the provision file")),
        };
        let text = xml::decode(bytes).map_err(|e| Error::format(format!("{shown}: {e}")))?;
        Settings::parse(&text, &shown.to_string())
    }

    /// Parses a provision file's text; `source` names it in messages.
    pub fn parse(text: &str, source: &str) -> Result<Settings> {
        Settings::parse_from_outside(text, source, &Scrubber::new())
    }

    /// As [`parse`](Self::parse), for text a server wrote (a `<provision>`
    /// section): its messages quote that text, which may echo what was sent
    /// to it, so `sent` scrubs them before any error exists.
    pub fn parse_from_outside(text: &str, source: &str, sent: &Scrubber) -> Result<Settings> {
        let root = Element::parse(text).map_err(|e| Error::format(sent.scrub(format!("{source}: {e}"))))?;
        Parser { source, sent }.settings(&root)
    }

    /// Whether `section` is one of the significant sections.
    pub fn is_significant(&self, section: &str) -> bool {
        self.significant_sections.iter().any(|s| s == section)
    }
}

struct Parser<'a> {
    source: &'a str,
    sent: &'a Scrubber,
}

impl Parser<'_> {
    fn error(&self, element: &Element, message: impl std::fmt::Display) -> Error {
        let message = format!("{}: line {}: <{}>: {message}", self.source, element.line, element.name);
        Error::format(self.sent.scrub(message))
    }

    /// The one child of that name, if any; a repeated element is ambiguous.
    fn single<'e>(&self, parent: &'e Element, name: &str) -> Result<Option<&'e Element>> {
        let mut found = parent.children.iter().filter(|c| c.name == name);
        let first = found.next();
        if let Some(second) = found.next() {
            return Err(self.error(second, format!("appears more than once in <{}>", parent.name)));
        }
        Ok(first)
    }

    fn settings(&self, root: &Element) -> Result<Settings> {
        if root.name != "provision" {
            return Err(self.error(root, "the root element must be <provision>"));
        }
        let mut settings = Settings {
            base_urls: self.base_urls(root)?,
            use_authentication: false,
            user_input_authentication: false,
            authentication_type: AuthType::Basic,
            user: String::new(),
            password: String::new(),
            refresh_rate: 0,
            significant_sections: self.significant_sections(root)?,
            addressbook: Addressbook::default(),
        };
        if let Some(options) = self.single(root, "options")? {
            self.options(options, &mut settings)?;
        }
        if let Some(addressbook) = self.single(root, "addressbook")? {
            settings.addressbook = self.addressbook(addressbook)?;
        }
        Ok(settings)
    }

    fn base_urls(&self, root: &Element) -> Result<Vec<String>> {
        let mut urls = Vec::new();
        if let Some(list) = self.single(root, "base_urls")? {
            for element in list.children.iter().filter(|c| c.name == "base_url") {
                if urls.len() == MAX_BASE_URLS {
                    return Err(self.error(element, format!("more than {MAX_BASE_URLS} base URLs")));
                }
                let url = element.text.trim();
                check_base_url(url).map_err(|m| self.error(element, m))?;
                urls.push(url.to_owned());
            }
        }
        if urls.is_empty() {
            return Err(self.error(root, "no <base_urls>/<base_url>: there is nowhere to provision from"));
        }
        Ok(urls)
    }

    fn significant_sections(&self, root: &Element) -> Result<Vec<String>> {
        let element = self
            .single(root, "significant_sections")?
            .ok_or_else(|| self.error(root, "no <significant_sections>: nothing could be provisioned"))?;
        let sections = self.list(element, VALID_SECTIONS, "section")?;
        if sections.is_empty() {
            return Err(self.error(element, "lists no section: nothing could be provisioned"));
        }
        Ok(sections)
    }

    /// A comma-separated list of known names, trimmed, without repeats.
    fn list(&self, element: &Element, valid: &[&str], what: &str) -> Result<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        for name in element.text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !valid.contains(&name) {
                return Err(self.error(element, format!("unknown {what} '{name}' (valid: {})", valid.join(","))));
            }
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    fn options(&self, options: &Element, settings: &mut Settings) -> Result<()> {
        if let Some(e) = self.single(options, "use_authentication")? {
            settings.use_authentication = self.boolean(e)?;
        }
        if let Some(e) = self.single(options, "user_input_authentication")? {
            settings.user_input_authentication = self.boolean(e)?;
        }
        if let Some(e) = self.single(options, "authentication_type")? {
            settings.authentication_type = match e.text.trim() {
                "basic" => AuthType::Basic,
                "url" => AuthType::Url,
                "digest" => AuthType::Digest,
                other => return Err(self.error(e, format!("'{other}' is not 'basic', 'url' or 'digest'"))),
            };
        }
        if let Some(e) = self.single(options, "user")? {
            if settings.authentication_type == AuthType::Basic && e.text.contains(':') {
                return Err(self.error(e, "contains ':', which Basic authentication (RFC 7617) cannot carry"));
            }
            settings.user = e.text.clone();
        }
        if let Some(e) = self.single(options, "password")? {
            settings.password = e.text.clone();
        }
        if let Some(e) = self.single(options, "refresh_rate")? {
            let text = e.text.trim();
            settings.refresh_rate = text
                .parse()
                .map_err(|_| self.error(e, format!("'{text}' is not a whole number of seconds (0 or more)")))?;
        }
        Ok(())
    }

    fn addressbook(&self, element: &Element) -> Result<Addressbook> {
        let mut addressbook = Addressbook::default();
        if let Some(e) = self.single(element, "use_addressbook")? {
            addressbook.use_addressbook = self.boolean(e)?;
        }
        if let Some(e) = self.single(element, "restrictions")? {
            addressbook.restrictions = self.list(e, VALID_RESTRICTIONS, "restriction")?;
        }
        Ok(addressbook)
    }

    fn boolean(&self, e: &Element) -> Result<bool> {
        match e.text.trim() {
            "1" => Ok(true),
            "0" => Ok(false),
            t if t.eq_ignore_ascii_case("true") => Ok(true),
            t if t.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(self.error(e, format!("'{other}' is not a boolean (0, 1, true or false)"))),
        }
    }
}

/// A base URL must be an absolute http(s) URL with a host, and carry no
/// credentials: ureq would send userinfo as `Authorization: Basic` whatever
/// the options say, even with `use_authentication` 0, and to plain http.
fn check_base_url(url: &str) -> std::result::Result<(), String> {
    let shown = redact::show_url(url);
    let parsed = url::Url::parse(url).map_err(|e| format!("'{shown}' is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("'{shown}': only http and https base URLs are supported"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{shown}' has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "'{shown}' carries credentials (user{}@): put them in <options> as <user> and <password>, \
             which authentication_type governs",
            if parsed.password().is_some() { ":password" } else { "" }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "<provision>
  <base_urls><base_url>http://www.attractel.com/</base_url></base_urls>
  <options>
    <use_authentication>1</use_authentication>
    <user_input_authentication>1</user_input_authentication>
    <authentication_type>basic</authentication_type>
    <user></user>
    <password></password>
    <refresh_rate>0</refresh_rate>
  </options>
  <significant_sections>general,sip_options,iax_options,rtp_options,stun_options,accounts,transfer,codecs,restrictions</significant_sections>
  <addressbook>
    <use_addressbook>0</use_addressbook>
    <restrictions>add,update,delete</restrictions>
  </addressbook>
</provision>";

    #[test]
    fn the_guides_example_parses() {
        let s = Settings::parse(SEED, "provision.conf").unwrap();
        assert_eq!(s.base_urls, ["http://www.attractel.com/"]);
        assert!(s.use_authentication && s.user_input_authentication);
        assert_eq!(s.authentication_type, AuthType::Basic);
        assert_eq!(s.significant_sections.len(), 9);
        assert!(s.is_significant("accounts") && !s.is_significant("audio"));
        assert_eq!(s.addressbook.restrictions, ["add", "update", "delete"]);
    }

    fn format_error(text: &str) -> String {
        let err = Settings::parse(text, "p.conf").unwrap_err();
        assert_eq!(err.status, crate::Status::PROVISION_ERR_FORMAT, "{err}");
        err.message
    }

    #[test]
    fn wrong_values_are_named() {
        let m = format_error(&SEED.replace("codecs,", "codecs, videos,"));
        assert!(m.contains("'videos'") && m.contains("p.conf"), "{m}");
        let m = format_error(&SEED.replace("http://www", "ftp://www"));
        assert!(m.contains("ftp://www") && m.contains("<base_url>"), "{m}");
        let m = format_error(&SEED.replace(">basic<", ">digestive<"));
        assert!(m.contains("digestive"), "{m}");
        let m = format_error(&SEED.replace("<refresh_rate>0", "<refresh_rate>-5"));
        assert!(m.contains("-5"), "{m}");
        let m = format_error(&SEED.replace("<use_authentication>1", "<use_authentication>yes"));
        assert!(m.contains("line 4"), "{m}");
        let m = format_error("<provisioning/>");
        assert!(m.contains("<provision>"), "{m}");
        let m = format_error(&SEED.replace("<base_url>http://www.attractel.com/</base_url>", ""));
        assert!(m.contains("base_url"), "{m}");
    }

    #[test]
    fn unknown_elements_are_ignored_and_sections_trimmed() {
        let text = SEED
            .replace("<options>", "<options><future_option>x</future_option>")
            .replace("general,sip_options", " general , sip_options");
        let s = Settings::parse(&text, "p").unwrap();
        assert_eq!(s.significant_sections[0], "general");
    }

    #[test]
    fn debug_output_hides_the_password() {
        let s = Settings::parse(&SEED.replace("<password></password>", "<password>hunter2</password>"), "p").unwrap();
        assert_eq!(s.password, "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let s = Settings::parse(&SEED.replace("attractel.com/", "attractel.com/?pass=hunter2"), "p").unwrap();
        assert!(!format!("{s:?}").contains("hunter2") && format!("{s:?}").contains("?pass=***"));
    }
}
