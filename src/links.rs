//! Following symlinks as the kernel's `fs.protected_symlinks` does, also
//! where it is off and where the library reads the links itself.
//!
//! In a world-writable sticky folder (`/tmp`, a shared 1777 folder holding
//! configs) any user can plant a link named like the file a root or other
//! process is about to write: the write would land wherever the link points
//! (`/etc/passwd`, a file the planter can read). A link there is followed
//! only when its owner is the caller or the folder's owner; elsewhere
//! links are followed as usual.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Links followed before giving up, as the kernel's `ELOOP` bound.
const MAX_HOPS: usize = 40;

/// Opens tried by [`open`] while the file keeps changing under it.
const OPEN_TRIES: usize = 3;

/// The file `path` finally names, following the links at its end (so that a
/// symlinked config stays a symlink and its target is replaced), refusing a
/// link that [`check`] refuses; with that file's own metadata (not a link's)
/// as it was when the links were checked, or why there is none (`NotFound`
/// for a new file). A caller deciding by it (the mode to keep) must not look
/// the path up again: a link swapped in meanwhile would be followed unchecked.
pub fn resolve(path: &Path) -> io::Result<(PathBuf, io::Result<fs::Metadata>)> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_HOPS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                check(&current, &meta)?;
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) => parent.join(link),
                    None => link,
                };
            }
            meta => return Ok((current, meta)),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Opens `path` to read it, following only links that [`check`] allows,
/// also when its entry changes meanwhile. The kernel opens the path as
/// given (a `/dev/fd/N` pipe has no other path), between two checks: links
/// are checked, the file opened, and the links checked again, which must
/// lead to the very file opened. A link that the entry's owner swaps in
/// after the first check is still there at the second (refused) or was
/// swapped out again (then the file opened is not the one the path names:
/// tried again, a few times, since a writer replacing the file atomically
/// also does that, then refused).
pub fn open(path: &Path) -> io::Result<fs::File> {
    for _ in 0..OPEN_TRIES {
        resolve(path).map(drop)?;
        #[cfg(any(test, feature = "test-hooks"))]
        crate::test_hooks::open_step(crate::test_hooks::OpenStep::BeforeOpen, path);
        let file = fs::File::open(path)?;
        #[cfg(any(test, feature = "test-hooks"))]
        crate::test_hooks::open_step(crate::test_hooks::OpenStep::AfterOpen, path);
        let opened = file.metadata()?;
        match resolve(path)?.1 {
            Ok(now) if (now.dev(), now.ino()) == (opened.dev(), opened.ino()) => return Ok(file),
            // A link into /proc (`/dev/fd/N` of a pipe or a socket) names no
            // file to compare; what it opens is no file another user could
            // not have given us themselves.
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    && (opened.file_type().is_fifo() || opened.file_type().is_socket()) =>
            {
                return Ok(file)
            }
            _ => continue,
        }
    }
    Err(io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{}: the file changed while it was being opened ({OPEN_TRIES} times): not read", path.display()),
    ))
}

/// Refuses the link `link` (whose own metadata is `meta`) when it sits in a
/// world-writable sticky folder and belongs neither to the caller nor to
/// the folder's owner.
fn check(link: &Path, meta: &fs::Metadata) -> io::Result<()> {
    let folder = match link.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder_meta = fs::metadata(folder)?;
    let sticky_and_world_writable = folder_meta.mode() & 0o1002 == 0o1002;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let caller = unsafe { libc::geteuid() };
    if sticky_and_world_writable && meta.uid() != caller && meta.uid() != folder_meta.uid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "refused to follow the symlink {} (owner uid {}) in the world-writable sticky folder {}: \
                 there only links of the folder's owner or of this process's user are followed",
                link.display(),
                meta.uid(),
                folder.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, FromRawFd};

    fn read(path: &Path) -> String {
        let mut text = String::new();
        open(path).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn dev_fd_names_of_a_pipe_and_of_a_file_are_read() {
        // `<(curl ...)` as a provision file: a link into /proc naming no
        // file ("pipe:[N]"), which the second check cannot compare.
        let mut fds = [0; 2];
        // SAFETY: pipe fills two new descriptors; each is then owned by one
        // File, which closes it.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let (reader, mut writer) = unsafe { (fs::File::from_raw_fd(fds[0]), fs::File::from_raw_fd(fds[1])) };
        writer.write_all(b"<piped/>").unwrap();
        drop(writer);
        assert_eq!(read(Path::new(&format!("/dev/fd/{}", reader.as_raw_fd()))), "<piped/>");

        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f.xml"), "<file/>").unwrap();
        let file = fs::File::open(dir.path().join("f.xml")).unwrap();
        assert_eq!(read(Path::new(&format!("/dev/fd/{}", file.as_raw_fd()))), "<file/>");
    }

    #[test]
    fn a_file_replaced_between_the_open_and_the_second_check_is_tried_again() {
        // A writer replacing the file atomically (store_local in another
        // thread) makes the two differ once: the next try reads the new one.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.xml");
        fs::write(&path, "<old/>").unwrap();
        let replaced = std::cell::Cell::new(false);
        let path2 = path.clone();
        crate::test_hooks::around_open(Some(Box::new(move |step, _| {
            if step == crate::test_hooks::OpenStep::AfterOpen && !replaced.replace(true) {
                fs::write(path2.with_extension("tmp"), "<new/>").unwrap();
                fs::rename(path2.with_extension("tmp"), &path2).unwrap();
            }
        })));
        let text = read(&path);
        crate::test_hooks::around_open(None);
        assert_eq!(text, "<new/>");
    }
}
