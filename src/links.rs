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
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Links followed before giving up, as the kernel's `ELOOP` bound.
const MAX_HOPS: usize = 40;

/// The file `path` finally names, following the links at its end (so that a
/// symlinked config stays a symlink and its target is replaced), refusing a
/// link that [`check`] refuses.
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
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
            _ => return Ok(current),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Checks the links at the end of `path` as [`resolve`] does, for a path
/// the kernel is then left to open (a `/dev/fd/N` pipe has no path to open
/// in its stead).
pub fn check_path(path: &Path) -> io::Result<()> {
    resolve(path).map(drop)
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
