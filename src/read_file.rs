//! Reading the files the library is pointed at, with a bound on their size.
//!
//! A provision file, a local config, a cache or a CA file named by mistake
//! (`/dev/zero`, a runaway log, a disk image) must cost an error naming it,
//! never the host's memory. Pipes still work (`<(curl ...)` as a provision
//! file): the bound is on what is read, not on what the file claims to be.

use crate::error::Error;
use crate::xml::{self, Scan};
use std::fmt;
use std::io::Read;
use std::path::Path;

pub use crate::limits::{MAX_DOCUMENT_BYTES, MAX_SMALL_FILE_BYTES};

#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// More than this many bytes: refused without reading the rest.
    TooLarge(u64),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }

    /// The library's error for `what` ("the local config") at `shown`:
    /// FORMAT for a file over its bound (what it holds is wrong), IO when it
    /// cannot be read.
    pub fn for_file(self, shown: impl fmt::Display, what: &str) -> Error {
        match self {
            ReadError::TooLarge(_) => Error::format(format!("{shown}: {what} is {self}")),
            ReadError::Io(_) => Error::io(format!("{shown}: cannot read {what}: {self}")),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => e.fmt(f),
            ReadError::TooLarge(limit) => write!(f, "larger than {} MiB", limit / (1024 * 1024)),
        }
    }
}

/// The whole file, or `TooLarge` as soon as it holds more than `limit`
/// bytes. A symlink someone else planted in a world-writable sticky folder
/// is not followed ([`crate::links::open`]).
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = crate::links::open(path).map_err(ReadError::Io)?;
    // The size a regular file claims sizes the buffer (as `fs::read` does);
    // devices and pipes claim 0 and grow it as they are read.
    let claimed = file.metadata().map_or(0, |m| m.len()).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(claimed).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

/// A document file (`what` names it in messages) as text and layout;
/// `None` when the file does not exist.
pub(crate) fn read_document(path: &Path, what: &str) -> crate::Result<Option<(String, Scan)>> {
    let shown = path.display();
    let bytes = match read_file(path, MAX_DOCUMENT_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.for_file(shown, what)),
    };
    let bad = |e: xml::XmlError| Error::format(format!("{shown}: {e}"));
    let text = xml::decode(bytes).map_err(bad)?;
    let scan = Scan::new(&text).map_err(bad)?;
    Ok(Some((text, scan)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_bound_is_refused_and_one_at_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_file(&path, 5).unwrap(), b"12345");
        let err = read_file(&path, 4).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge(4)), "{err:?}");
        assert!(read_file(&dir.path().join("absent"), 5).unwrap_err().is_not_found());
    }

    #[test]
    fn an_endless_device_is_refused_after_the_bound() {
        let err = read_file(Path::new("/dev/zero"), 1024 * 1024).unwrap_err();
        assert_eq!(err.to_string(), "larger than 1 MiB");
    }
}
