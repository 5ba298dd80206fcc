//! Writing the local config so that a crash or a full disk never leaves the
//! user with a torn or empty file.

use crate::error::{Error, Result};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Replaces `path` with `contents` atomically: a temp file in the same folder
/// (created 0600, as it will hold SIP passwords), fsync, rename, fsync of the
/// folder. An existing file keeps its mode; a symlink keeps pointing where it
/// did and its target is replaced.
pub fn write_atomically(path: &Path, contents: &str) -> Result<()> {
    let shown = path.display();
    let target = resolve_symlinks(path).map_err(|e| Error::io(format!("{shown}: {e}")))?;
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |what: &str, e: std::io::Error| Error::io(format!("{shown}: {what}: {e}"));

    let existing_mode = match fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => return Err(Error::io(format!("{shown}: is a folder"))),
        Ok(meta) => Some(meta.permissions().mode()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail("cannot inspect", e)),
    };
    // tempfile creates the file with mode 0600 and removes it if we fail.
    let mut temp = tempfile::Builder::new()
        .prefix(".provision-")
        .tempfile_in(&folder)
        .map_err(|e| fail("cannot create a temporary file in its folder", e))?;
    if let Some(mode) = existing_mode {
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
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

/// The file a path finally names, so that a symlinked config stays a symlink.
fn resolve_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) => parent.join(link),
                    None => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_files_are_private_and_existing_modes_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.xml");
        write_atomically(&path, "<a/>").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, "<b/>").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "<b/>");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
    }

    #[test]
    fn a_symlink_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.xml");
        let link = dir.path().join("link.xml");
        fs::write(&real, "<old/>").unwrap();
        std::os::unix::fs::symlink("real.xml", &link).unwrap();
        write_atomically(&link, "<new/>").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "<new/>");
    }

    #[test]
    fn a_missing_folder_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomically(&dir.path().join("nope/config.xml"), "<a/>").unwrap_err();
        assert_eq!(err.status, crate::Status::PROVISION_ERR_IO);
        assert!(err.message.contains("nope/config.xml"), "{err}");
    }
}
