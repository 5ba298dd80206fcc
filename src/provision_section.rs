//! The `<provision>` section: a server that sends one (when `provision` is
//! significant) moves the handle to its settings, and `to_xml` writes the
//! handle's settings back as a provision file so that the move survives a
//! restart.
//!
//! The text reads back to the same settings: `Settings::parse(&to_xml(s))`
//! equals `s` for every valid `s`.

use crate::error::Status;
use crate::log::{self, Record, Sink};
use crate::merge::Doc;
use crate::provision_file::{AuthType, Settings};
use crate::redact::{show_url, Scrubber};
use std::fmt::Write as _;

/// Where an answer came from, as far as adoption cares.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// A server's answer to `base_url`; `crossed` is the first other origin
    /// a redirect led to on the way, if one did; `sent` scrubs what was
    /// sent to it (the server may echo it in the section, which notices quote).
    Server { base_url: &'a str, crossed: Option<&'a str>, sent: &'a Scrubber },
    /// The last-known-good cache.
    Cache,
}

/// The settings of the answer's `<provision>` section, when `provision` is
/// significant, the answer has a valid one and the move it asks for is
/// allowed (see [`check_move`]). A section that is invalid or not allowed
/// is reported to `log` as a notice and ignored: the handle keeps settings
/// that work, and the run goes on.
///
/// Never adopted: a section from the cache (whoever can write the cache
/// file must not be able to move the client) or from an answer that came
/// through a redirect to another origin (that origin chose it, and the next
/// run would hand it the credentials the redirect kept from it).
pub fn adoptable(settings: &Settings, answer: Doc<'_>, origin: Origin<'_>, log: Option<&Sink>) -> Option<Settings> {
    if !settings.is_significant("provision") {
        return None;
    }
    let section = answer.scan.sections.iter().find(|s| s.name == "provision")?;
    let from = match origin {
        Origin::Server { base_url, .. } => format!("the <provision> section from {}", show_url(base_url)),
        Origin::Cache => "the cached <provision> section".to_owned(),
    };
    let refuse = |why: &str| {
        let message = format!("{from} is not adopted: {why}; the current settings stay");
        log::emit(log, Record::notice(Status::PROVISION_ERR_FORMAT, message));
        None
    };
    let sent = match origin {
        Origin::Cache => return refuse("settings are adopted only from a server's answer, never from the cache"),
        Origin::Server { crossed: Some(other), .. } => {
            return refuse(&format!("the answer came through a redirect to another origin ({other})"));
        }
        Origin::Server { crossed: None, sent, .. } => sent,
    };
    let new = match Settings::parse_from_outside(&answer.text[section.span.clone()], &from, sent) {
        Ok(new) => new,
        Err(e) => {
            log::emit(log, Record::notice(e.status, format!("{e}; the current settings stay")));
            return None;
        }
    };
    match check_move(settings, &new) {
        Ok(()) => Some(new),
        Err(why) => refuse(&sent.scrub(why)),
    }
}

/// Whether a handle may move from `current` to `new` settings: never to a
/// weaker transport (once any current base URL is https, every new one must
/// be), never to a weaker authentication (see [`strength`]), never to URL
/// templates that send the password when the current base URLs do not.
pub fn check_move(current: &Settings, new: &Settings) -> Result<(), String> {
    let is_https = |url: &String| url::Url::parse(url).is_ok_and(|u| u.scheme() == "https");
    if current.base_urls.iter().any(is_https) {
        if let Some(plain) = new.base_urls.iter().find(|u| !is_https(u)) {
            return Err(format!("'{}' is not https, and the current base URLs use https", show_url(plain)));
        }
    }
    // A [password] template puts the password into the URL, readable in
    // every access log whatever the authentication: weaker than any kind.
    let sends_password = |s: &Settings| s.base_urls.iter().any(|u| crate::template::sends_password(u));
    if sends_password(new) && !sends_password(current) {
        return Err(
            "its base URLs would put the password into the URL ([password]), and the current ones do not".to_owned()
        );
    }
    let (was, now) = (strength(current), strength(new));
    if now.0 < was.0 {
        return Err(format!("it would weaken authentication from {} to {}", was.1, now.1));
    }
    Ok(())
}

/// How well the credentials are kept from the network, and its name:
/// `digest` (the password never leaves) > `basic` (the password, readable on
/// plain http) > `url` (its unsalted MD5 in the query, which also lands in
/// the server's and proxies' logs) > no authentication.
///
/// `use_authentication` 0 ranks lowest although it sends nothing: if
/// turning authentication off counted as strong, a chain of sections could
/// walk a `digest` handle down to `basic` through "off". Turning it on, in
/// any kind, is a strengthening.
pub fn strength(settings: &Settings) -> (u8, &'static str) {
    match (settings.use_authentication, settings.authentication_type) {
        (false, _) => (0, "none (use_authentication 0)"),
        (true, AuthType::Url) => (1, "'url'"),
        (true, AuthType::Basic) => (2, "'basic'"),
        (true, AuthType::Digest) => (3, "'digest'"),
    }
}

/// The provision file for `settings`, in the layout of the vendor's guide.
pub fn to_xml(settings: &Settings) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<provision>\n  <base_urls>\n");
    for url in &settings.base_urls {
        let _ = writeln!(out, "    <base_url>{}</base_url>", escape(url));
    }
    out.push_str("  </base_urls>\n  <options>\n");
    let auth_type = match settings.authentication_type {
        AuthType::Basic => "basic",
        AuthType::Url => "url",
        AuthType::Digest => "digest",
    };
    let options = [
        ("use_authentication", flag(settings.use_authentication).to_owned()),
        ("user_input_authentication", flag(settings.user_input_authentication).to_owned()),
        ("authentication_type", auth_type.to_owned()),
        ("user", escape(&settings.user)),
        ("password", escape(&settings.password)),
        ("refresh_rate", settings.refresh_rate.to_string()),
    ];
    for (name, value) in options {
        let _ = writeln!(out, "    <{name}>{value}</{name}>");
    }
    let _ = write!(
        out,
        "  </options>\n  <significant_sections>{}</significant_sections>\n  <addressbook>\n    \
         <use_addressbook>{}</use_addressbook>\n    <restrictions>{}</restrictions>\n  </addressbook>\n</provision>\n",
        settings.significant_sections.join(","),
        flag(settings.addressbook.use_addressbook),
        settings.addressbook.restrictions.join(","),
    );
    out
}

fn flag(value: bool) -> &'static str {
    if value {
        "1"
    } else {
        "0"
    }
}

/// Character data that reads back byte for byte: markup characters become
/// entities, and carriage returns and other control characters become
/// character references (a reader folds a raw `\r` into `\n`).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "&#x{:X};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision_file::Addressbook;

    fn round_trip(settings: &Settings) {
        let text = to_xml(settings);
        let back = Settings::parse(&text, "saved").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(&back, settings, "{text}");
    }

    fn settings() -> Settings {
        Settings {
            base_urls: vec!["https://prov.example.net/a/?site=7&x=%2B".into(), "http://[::1]:8080/".into()],
            use_authentication: true,
            user_input_authentication: false,
            authentication_type: AuthType::Url,
            user: " alice & <bob> ".into(),
            password: "p\r\nä \"'\t]]> &amp;".into(),
            refresh_rate: 3600,
            significant_sections: vec!["accounts".into(), "provision".into(), "codecs".into()],
            addressbook: Addressbook { use_addressbook: true, restrictions: vec!["update".into()] },
        }
    }

    #[test]
    fn what_is_saved_parses_back_to_the_same_settings() {
        round_trip(&settings());
        let mut s = settings();
        s.authentication_type = AuthType::Basic;
        s.user = String::new();
        s.password = "\u{1}\u{7f}trailing \n".into();
        s.use_authentication = false;
        s.user_input_authentication = true;
        s.refresh_rate = 0;
        s.addressbook = Addressbook::default();
        round_trip(&s);
    }

    #[test]
    fn the_seeds_provision_file_survives_a_save() {
        let text = "<provision><base_urls><base_url>http://www.attractel.com/</base_url></base_urls>\
                    <options><use_authentication>1</use_authentication><refresh_rate>60</refresh_rate></options>\
                    <significant_sections>general,accounts</significant_sections></provision>";
        round_trip(&Settings::parse(text, "seed").unwrap());
    }
}
