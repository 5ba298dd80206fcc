//! Section-level merge of a local config with an answer, on byte spans.
//!
//! The result is the local document with each provisioned section replaced by
//! the answer's copy of it, byte for byte. Nothing is parsed into a tree and
//! re-serialized, so the user's comments, attributes and layout survive, and
//! the cost is one read of each document plus one copy.

use crate::xml::{Scan, Section};
use std::io::Write;

/// A document and its scan, read together.
#[derive(Clone, Copy)]
pub struct Doc<'a> {
    pub text: &'a str,
    pub scan: &'a Scan,
}

impl<'a> Doc<'a> {
    fn span(&self, s: &Section) -> &'a str {
        &self.text[s.span.clone()]
    }

    /// The blank text just before a section (its indentation).
    fn lead(&self, s: &Section) -> &'a str {
        &self.text[s.lead..s.span.start]
    }
}

/// Merges `answer` into `local`. `provisioned` are the section names taken
/// from the answer (significant and present in it).
///
/// - The answer's copies of a provisioned section take the places of the
///   local copies, in order: the first answer copy replaces the first local
///   one, and so on. Extra answer copies follow the last local copy with its
///   indentation; extra local copies go with their indentation. Merging the
///   result again therefore replaces every copy by itself: nothing changes.
/// - Provisioned sections the local document lacks go before its root's end
///   tag, indented like the local document's last section.
/// - Without a local document the result is the answer without its
///   non-provisioned sections.
pub fn merge(local: Option<Doc<'_>>, answer: Doc<'_>, provisioned: &[String]) -> String {
    let mut out = String::with_capacity(local.map_or(0, |l| l.text.len()) + answer.text.len());
    merge_pieces(local, answer, provisioned, &mut |piece| out.push_str(piece));
    out
}

/// As [`merge`], written to `out` piece by piece instead of built in memory:
/// a large merge written to a file then needs no second copy of the answer,
/// and one into a reused buffer no fresh pages for the kernel to zero.
pub fn merge_to(
    out: &mut impl Write,
    local: Option<Doc<'_>>,
    answer: Doc<'_>,
    provisioned: &[String],
) -> std::io::Result<()> {
    let mut written = Ok(());
    merge_pieces(local, answer, provisioned, &mut |piece| {
        if written.is_ok() {
            written = out.write_all(piece.as_bytes());
        }
    });
    written
}

/// The merge as the consecutive pieces of its result.
fn merge_pieces(local: Option<Doc<'_>>, answer: Doc<'_>, provisioned: &[String], put: &mut impl FnMut(&str)) {
    let is_provisioned = |name: &str| provisioned.iter().any(|p| p == name);
    let Some(local) = local else {
        return strip_pieces(answer, |name| !is_provisioned(name), put);
    };

    let mut cursor = 0;
    for (i, section) in local.scan.sections.iter().enumerate() {
        if !is_provisioned(&section.name) {
            continue;
        }
        let before = local.scan.sections[..i].iter().filter(|s| s.name == section.name).count();
        let last = !local.scan.sections[i + 1..].iter().any(|s| s.name == section.name);
        let mut copies = answer.scan.sections.iter().filter(|s| s.name == section.name);
        match copies.nth(before) {
            Some(copy) => {
                put(&local.text[cursor..section.span.start]);
                put(answer.span(copy));
                if last {
                    for extra in copies {
                        put(local.lead(section));
                        put(answer.span(extra));
                    }
                }
            }
            None => put(&local.text[cursor..section.lead]),
        }
        cursor = section.span.end;
    }

    let missing: Vec<&Section> =
        answer.scan.sections.iter().filter(|s| is_provisioned(&s.name) && !local.scan.has_section(&s.name)).collect();
    if missing.is_empty() {
        put(&local.text[cursor..]);
        return;
    }
    let indent = match local.scan.sections.last() {
        Some(last) if last.lead < last.span.start => local.lead(last),
        _ => "\n",
    };
    match &local.scan.root_end {
        Some(_) => {
            let at = local.scan.root_end_lead.max(cursor);
            put(&local.text[cursor..at]);
            for s in &missing {
                put(indent);
                put(answer.span(s));
            }
            put(&local.text[at..]);
        }
        None => {
            // `<options/>`: open it up into `<options>…</options>`.
            let empty = &local.text[local.scan.root_start.clone()];
            put(&local.text[cursor..local.scan.root_start.start]);
            let open = empty.strip_suffix("/>").unwrap_or(empty);
            put(open.trim_end());
            put(">");
            for s in &missing {
                put(indent);
                put(answer.span(s));
            }
            put(&format!("\n</{}>", local.scan.root_name));
            put(&local.text[local.scan.root_start.end..]);
        }
    }
}

/// The document without the sections `remove` selects, each taken out with
/// its indentation. Everything else is kept byte for byte.
pub fn strip(doc: Doc<'_>, remove: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(doc.text.len());
    strip_pieces(doc, remove, &mut |piece| out.push_str(piece));
    out
}

fn strip_pieces(doc: Doc<'_>, remove: impl Fn(&str) -> bool, put: &mut impl FnMut(&str)) {
    let mut cursor = 0;
    for section in doc.scan.sections.iter().filter(|s| remove(&s.name)) {
        put(&doc.text[cursor..section.lead]);
        cursor = section.span.end;
    }
    put(&doc.text[cursor..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `merge`'s result, after checking that `merge_to` writes the same bytes.
    fn run(local: Option<&str>, answer: &str, provisioned: &[&str]) -> String {
        let provisioned: Vec<String> = provisioned.iter().map(|s| s.to_string()).collect();
        let answer_scan = Scan::new(answer).unwrap();
        let answer = Doc { text: answer, scan: &answer_scan };
        let local_scan = local.map(|text| Scan::new(text).unwrap());
        let local = local.zip(local_scan.as_ref()).map(|(text, scan)| Doc { text, scan });
        let merged = merge(local, answer, &provisioned);
        let mut streamed = Vec::new();
        merge_to(&mut streamed, local, answer, &provisioned).unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), merged, "merge_to and merge differ");
        merged
    }

    /// A writer that accepts `room` bytes, then fails.
    struct Full {
        room: usize,
        calls_after_failure: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                self.calls_after_failure += 1;
                return Err(std::io::Error::other("disk full"));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn merge_to_reports_the_first_write_error_and_stops_writing() {
        let local = "<options>\n  <accounts/>\n  <audio>mine</audio>\n</options>";
        let (local_scan, answer_scan) = (Scan::new(local).unwrap(), Scan::new(ANSWER).unwrap());
        let mut out = Full { room: 12, calls_after_failure: 0 };
        let err = merge_to(
            &mut out,
            Some(Doc { text: local, scan: &local_scan }),
            Doc { text: ANSWER, scan: &answer_scan },
            &["accounts".to_string()],
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(out.calls_after_failure, 1, "nothing is written after the first failure");
    }

    const ANSWER: &str = "<options>\n <accounts><account>srv</account></accounts>\n <codecs>srv</codecs>\n <audio>srv</audio>\n</options>";

    #[test]
    fn provisioned_sections_replace_local_ones_in_place() {
        let local = "<?xml version=\"1.0\"?>\n<!-- mine -->\n<options v=\"2\">\n  <accounts><account>mine</account></accounts>\n  <audio>mine</audio>\n</options>\n";
        let merged = run(Some(local), ANSWER, &["accounts"]);
        assert_eq!(
            merged,
            "<?xml version=\"1.0\"?>\n<!-- mine -->\n<options v=\"2\">\n  <accounts><account>srv</account></accounts>\n  <audio>mine</audio>\n</options>\n"
        );
    }

    #[test]
    fn missing_sections_go_before_the_root_end_with_local_indentation() {
        let local = "<options>\n  <audio>mine</audio>\n</options>";
        let merged = run(Some(local), ANSWER, &["accounts", "codecs"]);
        assert_eq!(
            merged,
            "<options>\n  <audio>mine</audio>\n  <accounts><account>srv</account></accounts>\n  <codecs>srv</codecs>\n</options>"
        );
    }

    #[test]
    fn repeated_local_occurrences_all_go() {
        let local = "<o>\n  <codecs>1</codecs>\n  <audio/>\n  <codecs>2</codecs>\n</o>";
        assert_eq!(run(Some(local), ANSWER, &["codecs"]), "<o>\n  <codecs>srv</codecs>\n  <audio/>\n</o>");
    }

    #[test]
    fn an_empty_root_is_opened() {
        assert_eq!(
            run(Some("<options a='1' />"), ANSWER, &["codecs"]),
            "<options a='1'>\n<codecs>srv</codecs>\n</options>"
        );
    }

    #[test]
    fn without_local_the_answer_keeps_only_provisioned_sections() {
        assert_eq!(
            run(None, ANSWER, &["codecs", "accounts"]),
            "<options>\n <accounts><account>srv</account></accounts>\n <codecs>srv</codecs>\n</options>"
        );
    }

    #[test]
    fn repeated_sections_are_replaced_copy_for_copy() {
        let local = "<o>\n  <x>1</x>\n  <y/>\n  <x>2</x>\n  <x>3</x>\n</o>";
        assert_eq!(run(Some(local), "<o><x>a</x><x>b</x></o>", &["x"]), "<o>\n  <x>a</x>\n  <y/>\n  <x>b</x>\n</o>");
        let more = "<o><x>a</x><!-- c --><x>b</x> text <x>c</x></o>";
        let once = run(Some("<o>\n  <x>1</x>\n  <y/>\n</o>"), more, &["x"]);
        assert_eq!(once, "<o>\n  <x>a</x>\n  <x>b</x>\n  <x>c</x>\n  <y/>\n</o>");
        assert_eq!(run(Some(&once), more, &["x"]), once);
        let alone = run(None, more, &["x"]);
        assert_eq!(run(Some(&alone), more, &["x"]), alone, "whatever lies between the copies");
    }

    #[test]
    fn merging_twice_changes_nothing_and_strip_undoes_insertion() {
        let local = "<options>\n  <audio>mine</audio>\n</options>";
        let once = run(Some(local), ANSWER, &["accounts", "codecs"]);
        assert_eq!(run(Some(&once), ANSWER, &["accounts", "codecs"]), once);
        let scan = Scan::new(&once).unwrap();
        let stripped = strip(Doc { text: &once, scan: &scan }, |n| n == "accounts" || n == "codecs");
        assert_eq!(stripped, local);
    }
}
