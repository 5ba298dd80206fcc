//! The Rust API: one provision file, its credentials, and the outcome of the
//! last successful run. The C ABI in `ffi` is a thin layer over this.

use crate::error::{Error, Result, Status};
use crate::fetch::{Credentials, Fetcher};
use crate::merge::{self, Doc};
use crate::provision_file::{AuthType, Settings};
use crate::store;
use crate::xml::{self, Scan};
use std::path::Path;

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

pub struct Provisioner {
    settings: Settings,
    credentials: Option<Credentials>,
    fetcher: Fetcher,
    last: Option<Outcome>,
}

impl Provisioner {
    pub fn new(settings: Settings) -> Provisioner {
        Provisioner {
            settings,
            credentials: None,
            fetcher: Fetcher::default(),
            last: None,
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

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The user's own credentials; they take precedence over the file's.
    pub fn set_credentials(&mut self, user: &str, password: &str) -> Result<()> {
        if self.settings.authentication_type == AuthType::Basic && user.contains(':') {
            return Err(Error::argument(
                "the user name contains ':', which Basic authentication (RFC 7617) cannot carry",
            ));
        }
        self.credentials = Some(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        });
        Ok(())
    }

    /// The outcome of the last successful run, if any.
    pub fn last(&self) -> Option<&Outcome> {
        self.last.as_ref()
    }

    /// Provisions: checks the local config, asks the base URLs in turn and
    /// merges the first usable answer. A failed run changes nothing.
    pub fn run(&mut self, local_config: Option<&Path>) -> Result<&Outcome> {
        let credentials = self.effective_credentials()?;
        // The local file is checked first: a broken one must not cost a request.
        let local = local_config.map(read_local).transpose()?.flatten();
        let answer = self.fetcher.first_answer(&self.settings, credentials.as_ref())?;

        let provisioned: Vec<String> = self
            .settings
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
        let config = merge::merge(local_doc, answer_doc, &provisioned);
        Ok(self.last.insert(Outcome {
            config,
            source_url: answer.base_url,
            provisioned,
        }))
    }

    /// Credentials to send, if any. With `user_input_authentication` the user
    /// must have given them: the file's preset ones are for the other mode.
    fn effective_credentials(&self) -> Result<Option<Credentials>> {
        if self.settings.user_input_authentication && self.credentials.is_none() {
            return Err(Error::new(
                Status::PROVISION_ERR_CREDENTIALS,
                "user_input_authentication is 1: ask the user and set credentials before provisioning",
            ));
        }
        if !self.settings.use_authentication {
            return Ok(None);
        }
        let credentials = self.credentials.clone().unwrap_or_else(|| Credentials {
            user: self.settings.user.clone(),
            password: self.settings.password.clone(),
        });
        if credentials.user.is_empty() {
            return Err(Error::new(
                Status::PROVISION_ERR_CREDENTIALS,
                "use_authentication is 1 but no user name is set (<user> is empty and none was given)",
            ));
        }
        Ok(Some(credentials))
    }

    /// Writes `config` (by default the merged config of the last run) to the
    /// local config file without the sections the last run provisioned:
    /// those belong to the server and are fetched again next time.
    pub fn store_local(&self, config: Option<&str>, path: &Path) -> Result<()> {
        let (text, source) = match (config, &self.last) {
            (Some(text), _) => (text, "config_xml"),
            (None, Some(last)) => (last.config.as_str(), "the merged config"),
            (None, None) => {
                return Err(Error::argument("no config given and no successful run yet"));
            }
        };
        let scan = Scan::new(text).map_err(|e| Error::format(format!("{source}: {e}")))?;
        let provisioned = self.last.as_ref().map_or(&[][..], |l| &l.provisioned[..]);
        let local = merge::strip(Doc { text, scan: &scan }, |name| provisioned.iter().any(|p| p == name));
        store::write_atomically(path, &local)
    }
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
