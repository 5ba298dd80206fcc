//! Section-level merge of a local config with an answer, on byte spans.
//!
//! The result is the local document with each provisioned section replaced by
//! the answer's copy of it, byte for byte. Nothing is parsed into a tree and
//! re-serialized, so the user's comments, attributes and layout survive, and
//! the cost is one read of each document plus one copy.

use crate::xml::{Scan, Section};
use std::collections::{HashMap, HashSet};
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
/// - Without a local document the result is a fixed prolog, the answer's
///   root element without its attributes, and the provisioned sections:
///   nothing else of the answer (no processing instruction, comment or
///   attribute a server chose) reaches the user's file.
///
/// Linear in the number of sections of both documents, however many copies
/// of a section either holds.
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

/// What the merge knows of one provisioned name.
#[derive(Default)]
struct Slot<'a> {
    /// The answer's copies, in order.
    copies: Vec<&'a Section>,
    /// How many of them have been put.
    used: usize,
    /// The local copies: in all, and not yet replaced.
    local: usize,
    local_left: usize,
}

/// The merge as the consecutive pieces of its result.
fn merge_pieces(local: Option<Doc<'_>>, answer: Doc<'_>, provisioned: &[String], put: &mut impl FnMut(&str)) {
    let Some(local) = local else {
        return fresh_pieces(answer, provisioned, put);
    };
    let mut slots: HashMap<&str, Slot<'_>> = provisioned.iter().map(|p| (p.as_str(), Slot::default())).collect();
    for section in &answer.scan.sections {
        if let Some(slot) = slots.get_mut(&*section.name) {
            slot.copies.push(section);
        }
    }
    for section in &local.scan.sections {
        if let Some(slot) = slots.get_mut(&*section.name) {
            slot.local += 1;
            slot.local_left += 1;
        }
    }

    let mut cursor = 0;
    for section in &local.scan.sections {
        let Some(slot) = slots.get_mut(&*section.name) else { continue };
        slot.local_left -= 1;
        match slot.copies.get(slot.used) {
            Some(copy) => {
                put(&local.text[cursor..section.span.start]);
                put(answer.span(copy));
                slot.used += 1;
                if slot.local_left == 0 {
                    for extra in &slot.copies[slot.used..] {
                        put(local.lead(section));
                        put(answer.span(extra));
                    }
                    slot.used = slot.copies.len();
                }
            }
            None => put(&local.text[cursor..section.lead]),
        }
        cursor = section.span.end;
    }

    let is_missing = |s: &&Section| slots.get(&*s.name).is_some_and(|slot| slot.local == 0);
    let mut missing = answer.scan.sections.iter().filter(is_missing).peekable();
    if missing.peek().is_none() {
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
            for s in missing {
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
            for s in missing {
                put(indent);
                put(answer.span(s));
            }
            put("\n</");
            put(&local.scan.root_name);
            put(">");
            put(&local.text[local.scan.root_start.end..]);
        }
    }
}

/// The prolog of a config written without a local one.
pub const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// A new config from the answer alone: [`PROLOG`], the root element by
/// name, and the provisioned sections, each after its indentation in the
/// answer (blank text only).
fn fresh_pieces(answer: Doc<'_>, provisioned: &[String], put: &mut impl FnMut(&str)) {
    put(PROLOG);
    put("<");
    put(&answer.scan.root_name);
    put(">");
    let provisioned: HashSet<&str> = provisioned.iter().map(String::as_str).collect();
    for section in answer.scan.sections.iter().filter(|s| provisioned.contains(&*s.name)) {
        let lead = answer.lead(section);
        put(if lead.is_empty() { "\n" } else { lead });
        put(answer.span(section));
    }
    put("\n</");
    put(&answer.scan.root_name);
    put(">\n");
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
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<options>\n <accounts><account>srv</account></accounts>\n <codecs>srv</codecs>\n</options>\n"
        );
        // Issue 10: nothing of the answer but its root's name and the sections.
        let hostile =
            "<?xml-stylesheet href=\"http://evil/x.xsl\"?>\n<!-- x -->\n<options xmlns=\"urn:evil\" admin=\"1\">\
                       text<?pi?><codecs>srv</codecs><audio/><!-- y --></options>\n<!-- z -->";
        assert_eq!(
            run(None, hostile, &["codecs"]),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<options>\n<codecs>srv</codecs>\n</options>\n"
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
    fn many_copies_merge_in_linear_time() {
        // 40 000 copies took 3.9 s when each looked for its place from the
        // start; a budget of operations rather than of time: the slots are
        // visited once per section, checked by the result being exact.
        let n = 40_000;
        let local = format!("<o>{}\n</o>", "\n  <x>l</x><y/>".repeat(n));
        let answer = format!("<o>{}</o>", "<x>a</x>".repeat(n + 1));
        let merged = run(Some(&local), &answer, &["x"]);
        let expected = format!("<o>{}\n  <x>a</x>\n  <x>a</x><y/>\n</o>", "\n  <x>a</x><y/>".repeat(n - 1));
        assert!(merged == expected, "the merge of {n} copies differs from the expected text");
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
