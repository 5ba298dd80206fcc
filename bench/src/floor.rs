//! The floor: quick-xml reading every event of the answer and nothing else,
//! for each release considered. Any parser-based merge costs at least this.

use std::hint::black_box;

macro_rules! bare_read {
    ($name:ident, $krate:ident) => {
        pub fn $name(text: &str) -> usize {
            let mut reader = $krate::Reader::from_str(text);
            let mut events = 0;
            loop {
                // Looked at in place: moving the event out of the Result
                // costs a store-forwarding stall whose size varies between
                // releases with the layout of their error type.
                let result = reader.read_event();
                match &result {
                    Ok($krate::events::Event::Eof) => return events,
                    Ok(event) => {
                        black_box(event);
                        events += 1;
                    }
                    Err(e) => panic!("the answer is not well-formed: {e}"),
                }
            }
        }
    };
}

bare_read!(read_037, qx037);
bare_read!(read_038, qx038);
bare_read!(read_039, qx039);
bare_read!(read_040, qx040);
bare_read!(read_041, qx041);
bare_read!(read_042, qx042);

/// Reads a whole document, returning how many events it had.
pub type BareRead = fn(&str) -> usize;

/// `(version, reader)`, the library's pinned version first.
pub const VERSIONS: &[(&str, BareRead)] = &[
    ("0.39.4", read_039),
    ("0.37.5", read_037),
    ("0.38.4", read_038),
    ("0.40.1", read_040),
    ("0.41.0", read_041),
    ("0.42.0", read_042),
];
