//! The addressbook part: the operator's phonebook, fetched from and changed
//! on the same server as the configuration (protocol: docs/addressbook.md).
//!
//! It shares the configuration's transport (agent, authentication, redirect
//! policy, size caps, `<error>` handling: `fetch.rs`) and its settings, but
//! never its state: no merge, no local config, no cache, no run lock, and no
//! call-active gate (the user asked for it now).
//!
//! A manipulation (add, update, delete) is never sent twice: it goes to the
//! base URL that served the last fetch first, and moves on only when a
//! connection failed before the request could have reached a server.

use crate::error::{Error, Result, Status};
use crate::fetch::{self, Credentials, Failure, Method, Tally, Unanswered, Validators, QUERY_VALUE};
use crate::limits::{MAX_CONTACT_BYTES, MAX_CONTACT_ID_BYTES};
use crate::provision_file::Settings;
use crate::provisioner::{PartInputs, Provisioner};
use crate::xml::{self, Scan, XmlError};
use percent_encoding::utf8_percent_encode;
use std::sync::{Arc, Mutex, MutexGuard};
use ureq::http::StatusCode;

/// An addressbook as a server sent it: an `<addressbook>` document of
/// `<contact>` elements. Immutable; shared by `Arc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressbook {
    /// The whole document, as received (checked UTF-8 XML without NUL).
    pub xml: String,
    /// The number of `<contact>` children of the root.
    pub contacts: usize,
    /// The base URL that served it, as written in the provision file.
    pub base_url: String,
}

/// A remote manipulation, as `<restrictions>` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manipulation {
    Add,
    Update,
    Delete,
}

impl Manipulation {
    pub fn name(self) -> &'static str {
        match self {
            Manipulation::Add => "add",
            Manipulation::Update => "update",
            Manipulation::Delete => "delete",
        }
    }
}

/// What the part remembers between calls.
#[derive(Default)]
pub(crate) struct Memory {
    /// The last fetched addressbook, for conditional requests.
    kept: Option<Kept>,
    /// The base URL that served the last successful fetch: manipulations go there.
    served_by: Option<String>,
}

struct Kept {
    book: Arc<Addressbook>,
    validators: Validators,
    /// Another user's `304` must not hand out this user's addressbook: the
    /// credentials sent, and those a URL template filled in.
    asked_as: (Option<Credentials>, Option<Credentials>),
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// RESTRICTED unless the settings allow `what` (None: fetching).
pub fn check_allowed(settings: &Settings, what: Option<Manipulation>) -> Result<()> {
    let restricted = |message: String| Err(Error::new(Status::PROVISION_ERR_RESTRICTED, message));
    if !settings.addressbook.use_addressbook {
        return restricted("the provision file does not use the remote addressbook (<use_addressbook> is 0)".into());
    }
    match what {
        Some(m) if settings.addressbook.restrictions.iter().any(|r| r == m.name()) => restricted(format!(
            "the provision file restricts the addressbook manipulation '{}' (<restrictions>{}</restrictions>)",
            m.name(),
            settings.addressbook.restrictions.join(",")
        )),
        _ => Ok(()),
    }
}

impl Provisioner {
    /// Fetches `BASE + "addressbook"` from the base URLs in turn, as the
    /// configuration is fetched. A `304` to the validators of the last
    /// fetch hands out that addressbook again.
    pub fn addressbook_fetch(&self) -> Result<Arc<Addressbook>> {
        let PartInputs { settings, credentials, template_credentials, fetcher, log } = self.part_inputs()?;
        check_allowed(&settings, None)?;
        let asked_as = (credentials, template_credentials);
        let kept = {
            let memory = lock(&self.addressbook);
            memory.kept.as_ref().filter(|k| k.asked_as == asked_as).map(|k| (k.book.clone(), k.validators.clone()))
        };
        let auth = fetcher.auth(&settings, asked_as.0.as_ref(), asked_as.1.as_ref());
        let targets = fetcher.targets(&settings.base_urls, "addressbook", asked_as.1.as_ref())?;
        let mut tally = Tally::new(&auth, log.as_ref());
        for target in &targets {
            let Some((attempt, url)) = tally.start(target) else { continue };
            let base = target.base;
            let validators = kept.as_ref().filter(|(book, _)| book.base_url == base).map(|(_, v)| v);
            let answer = fetcher.exchange(Method::Get, fetch::with_auth_query(url, &auth), &auth, validators);
            let fetch::Exchanged { status, body: bytes, validators: got, retry_after, .. } = match answer {
                Ok(answer) => answer,
                Err(u) => {
                    tally.failed(attempt, Failure::Other(u.reason), None);
                    continue;
                }
            };
            if let (StatusCode::NOT_MODIFIED, Some((book, _))) =
                (status, kept.as_ref().filter(|_| validators.is_some()))
            {
                tally.succeeded(attempt, "ok, not modified (304)".into());
                lock(&self.addressbook).served_by = Some(base.to_owned());
                return Ok(book.clone());
            }
            match read_addressbook(status, bytes) {
                Ok((text, contacts)) => {
                    tally.succeeded(attempt, format!("ok, {contacts} contacts, {} bytes", text.len()));
                    let book = Arc::new(Addressbook { xml: text, contacts, base_url: base.to_owned() });
                    let mut memory = lock(&self.addressbook);
                    memory.served_by = Some(base.to_owned());
                    memory.kept = Some(Kept { book: book.clone(), validators: got, asked_as });
                    return Ok(book);
                }
                Err(failure) => {
                    tally.failed(attempt, failure, retry_after);
                }
            }
        }
        Err(tally.error())
    }

    /// Adds a contact: `POST BASE + "addressbook"` with one `<contact>`
    /// without `<id>`. Returns the contact the server stored, with its id,
    /// as a one-contact addressbook.
    pub fn addressbook_add(&self, contact_xml: &str) -> Result<Arc<Addressbook>> {
        let inputs = self.part_inputs()?;
        check_allowed(&inputs.settings, Some(Manipulation::Add))?;
        check_contact(contact_xml, None)?;
        let sent = self.manipulate(&inputs, "addressbook", Method::Post(contact_xml))?;
        stored_contact(sent)
    }

    /// Replaces contact `id`: `PUT BASE + "addressbook/ID"` with one `<contact>`.
    pub fn addressbook_update(&self, id: &str, contact_xml: &str) -> Result<()> {
        let inputs = self.part_inputs()?;
        check_allowed(&inputs.settings, Some(Manipulation::Update))?;
        let part = contact_path(id)?;
        check_contact(contact_xml, Some(id))?;
        self.manipulate(&inputs, &part, Method::Put(contact_xml)).map(drop)
    }

    /// Deletes contact `id`: `DELETE BASE + "addressbook/ID"`.
    pub fn addressbook_delete(&self, id: &str) -> Result<()> {
        let inputs = self.part_inputs()?;
        check_allowed(&inputs.settings, Some(Manipulation::Delete))?;
        let part = contact_path(id)?;
        self.manipulate(&inputs, &part, Method::Delete).map(drop)
    }

    /// Sends one manipulation: to the base URL that served the last fetch,
    /// then the others in order, moving on only while nothing could have
    /// reached a server. Returns the accepting answer and its base URL.
    fn manipulate(&self, inputs: &PartInputs, part: &str, method: Method<'_>) -> Result<Sent> {
        let PartInputs { settings, credentials, template_credentials, fetcher, log } = inputs;
        let auth = fetcher.auth(settings, credentials.as_ref(), template_credentials.as_ref());
        let targets = fetcher.targets(&settings.base_urls, part, template_credentials.as_ref())?;
        let served_by = lock(&self.addressbook).served_by.clone();
        let preferred = targets.iter().find(|t| served_by.as_deref() == Some(t.base));
        let order = preferred.into_iter().chain(targets.iter().filter(|t| served_by.as_deref() != Some(t.base)));
        let mut tally = Tally::new(&auth, log.as_ref());
        for target in order {
            let Some((attempt, url)) = tally.start(target) else { continue };
            let fetch::Exchanged { status, body: bytes, .. } =
                match fetcher.exchange(method, fetch::with_auth_query(url, &auth), &auth, None) {
                    Ok(answer) => answer,
                    Err(Unanswered { reason, unsent: true }) => {
                        tally.failed(attempt, Failure::Other(format!("{reason} (not sent)")), None);
                        continue;
                    }
                    Err(Unanswered { reason, unsent: false }) => {
                        let why = format!(
                            "{reason}, after the {} could have reached the server: whether it was carried out is \
                         unknown (fetch the addressbook to see); it is not sent again",
                            method.name()
                        );
                        let quoted = tally.failed(attempt, Failure::Other(why), None);
                        return Err(Error::new(Status::PROVISION_ERR_FETCH, quoted));
                    }
                };
            // The server answered: whatever it said, no other URL is asked.
            let shown = attempt.shown.clone();
            return match fetch::judge(status, bytes) {
                Ok(document) => {
                    tally.succeeded(attempt, format!("ok, {} accepted (HTTP {status})", method.name()));
                    Ok(Sent { base_url: target.base.to_owned(), shown, document })
                }
                Err(failure) => {
                    tally.failed(attempt, failure, None);
                    Err(tally.error())
                }
            };
        }
        Err(tally.error())
    }
}

/// An accepted manipulation's answer.
struct Sent {
    base_url: String,
    shown: String,
    /// The 2xx body as a document, or why it is not one.
    document: std::result::Result<(String, Scan), String>,
}

/// A fetch answer judged: an `<addressbook>` document, with its contact count.
fn read_addressbook(status: StatusCode, bytes: Vec<u8>) -> std::result::Result<(String, usize), Failure> {
    let (text, scan) =
        fetch::judge(status, bytes)?.map_err(|e| Failure::Other(format!("the answer is not well-formed XML: {e}")))?;
    if scan.root_name != "addressbook" {
        return Err(Failure::Other(format!("the answer (root <{}>) is not an <addressbook>", scan.root_name)));
    }
    let contacts = scan.sections.iter().filter(|s| s.name == "contact").count();
    Ok((text, contacts))
}

/// The server's answer to an add, as a one-contact addressbook. It must be
/// the stored `<contact>` (or an `<addressbook>` holding just it) with a
/// non-empty `<id>`; anything else leaves the new id unknown.
fn stored_contact(sent: Sent) -> Result<Arc<Addressbook>> {
    let unknown = |why: String| {
        Error::new(
            Status::PROVISION_ERR_FETCH,
            format!(
                "{}: the server accepted the contact but {why}: it is probably stored, with an id we do not know \
                 (fetch the addressbook to see)",
                sent.shown
            ),
        )
    };
    let (text, scan) = sent.document.as_ref().map_err(|e| unknown(format!("its answer is not a document ({e})")))?;
    let contact = match scan.root_name.as_str() {
        "contact" => {
            let end = scan.root_end.as_ref().map_or(scan.root_start.end, |e| e.end);
            &text[scan.root_start.start..end]
        }
        "addressbook" => match scan.sections.iter().filter(|s| s.name == "contact").collect::<Vec<_>>()[..] {
            [one] => &text[one.span.clone()],
            ref many => return Err(unknown(format!("its <addressbook> answer holds {} contacts, not 1", many.len()))),
        },
        other => return Err(unknown(format!("it answered <{other}>, not the stored <contact>"))),
    };
    let id = contact_id(contact).map_err(|e| unknown(format!("its <contact> is unreadable ({e})")))?;
    if id.as_deref().is_none_or(str::is_empty) {
        return Err(unknown("its <contact> has no <id>".into()));
    }
    let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<addressbook>\n  {contact}\n</addressbook>\n");
    Ok(Arc::new(Addressbook { xml, contacts: 1, base_url: sent.base_url }))
}

/// The trimmed text of a contact's `<id>` child, if it has one.
fn contact_id(contact: &str) -> std::result::Result<Option<String>, XmlError> {
    let scan = Scan::new(contact)?;
    match scan.sections.iter().find(|s| s.name == "id") {
        Some(id) => Ok(Some(xml::root_text(&contact[id.span.clone()])?.trim().to_owned())),
        None => Ok(None),
    }
}

/// Checks a contact the host gives: one well-formed `<contact>` element
/// within [`MAX_CONTACT_BYTES`]; to add (`id` None) without `<id>`, to
/// update with none or the same one. FORMAT with the line and column.
pub fn check_contact(contact_xml: &str, id: Option<&str>) -> Result<()> {
    let bad = |m: String| Error::format(format!("contact_xml: {m}"));
    if contact_xml.len() > MAX_CONTACT_BYTES {
        return Err(bad(format!("{} bytes, over the bound of {MAX_CONTACT_BYTES} bytes", contact_xml.len())));
    }
    let text = xml::check_text(contact_xml.as_bytes()).map_err(|e| bad(e.to_string()))?;
    let scan = Scan::new(text).map_err(|e| bad(e.to_string()))?;
    let at = |pos: usize, m: String| bad(XmlError::at(text.as_bytes(), pos, m).to_string());
    if scan.root_name != "contact" {
        return Err(at(
            scan.root_start.start,
            format!("the root element is <{}>: it must be <contact>", scan.root_name),
        ));
    }
    let ids: Vec<_> = scan.sections.iter().filter(|s| s.name == "id").collect();
    if let Some(second) = ids.get(1) {
        return Err(at(second.span.start, "<id> appears more than once".into()));
    }
    match (ids.first(), id) {
        (Some(given), None) => Err(at(given.span.start, "a contact to add has no <id>: the server assigns it".into())),
        (Some(given), Some(id)) => {
            let text = xml::root_text(&text[given.span.clone()]).map_err(|e| bad(e.to_string()))?;
            if text.trim() != id {
                return Err(at(
                    given.span.start,
                    format!("<id> is '{}' but the contact updated is '{id}'", text.trim()),
                ));
            }
            Ok(())
        }
        (None, _) => Ok(()),
    }
}

/// `addressbook/ID` with the id percent-encoded as one path segment.
pub fn contact_path(id: &str) -> Result<String> {
    if id.is_empty() {
        return Err(Error::argument("the contact id is empty"));
    }
    if id.len() > MAX_CONTACT_ID_BYTES {
        return Err(Error::argument(format!("the contact id is over {MAX_CONTACT_ID_BYTES} bytes")));
    }
    // URLs resolve these as path steps (even percent-encoded), so they
    // cannot name a contact.
    if id == "." || id == ".." {
        return Err(Error::argument(format!("'{id}' cannot be a contact id: a URL path would resolve it")));
    }
    Ok(format!("addressbook/{}", utf8_percent_encode(id, QUERY_VALUE)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_encoded_segment() {
        assert_eq!(contact_path("17").unwrap(), "addressbook/17");
        assert_eq!(contact_path("a/b c?d#e%").unwrap(), "addressbook/a%2Fb%20c%3Fd%23e%25");
        assert_eq!(contact_path("é.x").unwrap(), "addressbook/%C3%A9.x");
        let url = fetch::part_url("http://h/p/?k=1", &contact_path("../x").unwrap()).unwrap();
        assert_eq!(url.as_str(), "http://h/p/addressbook/..%2Fx?k=1");
        for bad in ["", ".", ".."] {
            assert_eq!(contact_path(bad).unwrap_err().status, Status::PROVISION_ERR_ARGUMENT);
        }
    }

    #[test]
    fn contacts_are_checked_with_line_and_column() {
        assert!(check_contact("<contact><name>A</name></contact>", None).is_ok());
        assert!(check_contact("<contact><id>7</id><name>A</name></contact>", Some("7")).is_ok());
        let message = |xml: &str, id| check_contact(xml, id).unwrap_err().message;
        let m = message("<contact>\n  <name>A</nom>\n</contact>", None);
        assert!(m.contains("line 2, column"), "{m}");
        let m = message("<?xml version=\"1.0\"?>\n<person/>", None);
        assert!(m.contains("line 2, column 1") && m.contains("<contact>"), "{m}");
        let m = message("<contact>\n <id>7</id></contact>", None);
        assert!(m.contains("line 2, column 2") && m.contains("assigns"), "{m}");
        let m = message("<contact><id>8</id></contact>", Some("7"));
        assert!(m.contains("'8'") && m.contains("'7'"), "{m}");
        let m = message("<contact/><contact/>", None);
        assert!(m.contains("line 1"), "{m}");
        let big = format!("<contact><note>{}</note></contact>", "x".repeat(MAX_CONTACT_BYTES));
        assert_eq!(check_contact(&big, None).unwrap_err().status, Status::PROVISION_ERR_FORMAT);
    }
}
