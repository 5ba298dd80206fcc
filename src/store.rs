//! Writing the local config so that a crash or a full disk never leaves the
//! user with a torn or empty file.

use crate::error::{Error, Result};
use crate::links;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The mode a written file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Always 0600, whatever the file had: the cache and a saved provision
    /// file hold passwords and are the library's own.
    Private,
    /// The user's own file (the local config): the mode its owner gave it,
    /// minus group and other write (and setuid, setgid, sticky bits); 0600
    /// for a new file or one that belongs to another user (planted in a
    /// shared folder).
    OwnersMode,
}

/// Replaces `path` with `contents` atomically: a temp file in the same folder
/// (created 0600, given its final mode before any data, and that mode is
/// never group- or world-writable), fsync, rename, fsync of the folder. A
/// symlink keeps pointing where it did and its target is replaced, except a
/// link that someone else planted in a world-writable sticky folder
/// ([`links::resolve`]), which is refused.
pub fn write_atomically(path: &Path, contents: &str, mode: Mode) -> Result<()> {
    let shown = path.display();
    let (target, existing) = links::resolve(path).map_err(|e| Error::io(format!("{shown}: {e}")))?;
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |what: &str, e: std::io::Error| Error::io(format!("{shown}: {what}: {e}"));

    // The metadata the links were checked with, not a second lookup, which
    // would follow a link swapped in since (a planted 0666 file replaced by
    // a link to a 0644 file of the caller's would make the new file 0644).
    let existing = match existing {
        Ok(meta) if meta.is_dir() => return Err(Error::io(format!("{shown}: is a folder"))),
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail("cannot inspect", e)),
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let caller = unsafe { libc::geteuid() };
    let final_mode = match (mode, existing) {
        (Mode::OwnersMode, Some(meta)) if meta.uid() == caller => meta.mode() & 0o755,
        _ => 0o600,
    };
    // tempfile creates the file with mode 0600 and removes it if we fail.
    let mut temp = tempfile::Builder::new()
        .prefix(".provision-")
        .tempfile_in(&folder)
        .map_err(|e| fail("cannot create a temporary file in its folder", e))?;
    if final_mode != 0o600 {
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(final_mode))
            .map_err(|e| fail("cannot keep the file's mode", e))?;
    }
    temp.write_all(contents.as_bytes()).map_err(|e| fail("cannot write", e))?;
    temp.as_file().sync_all().map_err(|e| fail("cannot sync", e))?;
    temp.persist(&target).map_err(|e| fail("cannot replace", e.error))?;
    // The rename is durable only once the folder's entry is on disk too.
    if let Ok(dir) = fs::File::open(&folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_files_are_private_and_an_owners_mode_kept_without_group_or_other_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.xml");
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        write_atomically(&path, "<a/>", Mode::OwnersMode).unwrap();
        assert_eq!(mode(&path), 0o600);
        for (had, kept) in [(0o640, 0o640), (0o666, 0o644), (0o4775, 0o755), (0o400, 0o400)] {
            fs::set_permissions(&path, fs::Permissions::from_mode(had)).unwrap();
            write_atomically(&path, "<b/>", Mode::OwnersMode).unwrap();
            assert_eq!(fs::read_to_string(&path).unwrap(), "<b/>");
            assert_eq!(mode(&path), kept, "{had:o}");
            fs::set_permissions(&path, fs::Permissions::from_mode(had)).unwrap();
            write_atomically(&path, "<c/>", Mode::Private).unwrap();
            assert_eq!(mode(&path), 0o600, "{had:o}");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
    }

    #[test]
    fn a_symlink_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.xml");
        let link = dir.path().join("link.xml");
        fs::write(&real, "<old/>").unwrap();
        std::os::unix::fs::symlink("real.xml", &link).unwrap();
        write_atomically(&link, "<new/>", Mode::OwnersMode).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "<new/>");
    }

    #[test]
    fn a_missing_folder_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomically(&dir.path().join("nope/config.xml"), "<a/>", Mode::Private).unwrap_err();
        assert_eq!(err.status, crate::Status::PROVISION_ERR_IO);
        assert!(err.message.contains("nope/config.xml"), "{err}");
    }
}
