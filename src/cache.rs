//! The last-known-good cache: the provisioned sections of the last good
//! answer, kept on disk so that a phone started while every server is down
//! still has its accounts.
//!
//! The file is the answer's root with only those sections (what a merge
//! without a local config gives), so it is a config an admin can read, and
//! reading it back is the same checked scan as for any answer.

use crate::error::{Error, Result, Status};
use crate::log::{self, Record, Sink};
use crate::merge::{self, Doc};
use crate::read_file::read_document;
use crate::store;
use crate::xml::Scan;
use std::path::Path;

/// Writes the `provisioned` sections of `answer` to `path`: atomically, mode
/// 0600 always (it holds SIP passwords).
pub fn store(path: &Path, answer: Doc<'_>, provisioned: &[String]) -> Result<()> {
    let sections = merge::strip(answer, |name| !provisioned.iter().any(|p| p == name));
    store::write_atomically(path, &sections, store::Mode::Private)
}

/// The cached document and its layout; `None` when there is no cache file.
/// A file that cannot be read or is not a well-formed document is an error
/// naming the file, which the caller reports and otherwise ignores.
pub fn load(path: &Path) -> Result<Option<(String, Scan)>> {
    read_document(path, "the cache")
}

/// The cached document, if there is a usable one: with at least one section
/// that `wanted` accepts. A corrupt or useless cache is reported to `log` as
/// a notice and ignored: it must never stop a run.
pub fn load_usable(path: &Path, wanted: impl Fn(&str) -> bool, log: Option<&Sink>) -> Option<(String, Scan)> {
    match load(path) {
        Ok(Some(doc)) if doc.1.sections.iter().any(|s| wanted(&s.name)) => Some(doc),
        Ok(Some(_)) => {
            let why = format!("{}: the last-known-good cache holds no significant section; ignored", path.display());
            log::emit(log, Record::notice(Status::PROVISION_ERR_FORMAT, why));
            None
        }
        Ok(None) => None,
        Err(e) => {
            let why = format!("the last-known-good cache is corrupt or unreadable; ignored: {e}");
            log::emit(log, Record::notice(e.status, why));
            None
        }
    }
}

/// The status of a run that the cache served, with why the URLs failed.
pub fn served_from(why: Error) -> Error {
    Error::new(Status::PROVISION_CACHED, format!("served from the last-known-good cache: {}", why.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_the_provisioned_sections_are_kept_privately_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.xml");
        let answer = "<options>\n  <accounts><a/></accounts>\n  <audio/>\n  <codecs/>\n</options>\n";
        let scan = Scan::new(answer).unwrap();
        let doc = Doc { text: answer, scan: &scan };
        store(&path, doc, &["accounts".into(), "codecs".into()]).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (text, scan) = load(&path).unwrap().unwrap();
        assert_eq!(text, "<options>\n  <accounts><a/></accounts>\n  <codecs/>\n</options>\n");
        assert!(scan.has_section("accounts") && !scan.has_section("audio"));
    }

    #[test]
    fn a_missing_cache_is_none_and_a_corrupt_one_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.xml");
        assert!(load(&path).unwrap().is_none());
        std::fs::write(&path, "<options><accounts></options>").unwrap();
        let err = load(&path).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
        assert!(err.message.contains("cache.xml") && err.message.contains("line 1"), "{err}");
    }
}
