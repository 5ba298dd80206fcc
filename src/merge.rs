//! Section-level merge of a local config with an answer, on byte spans.
//!
//! The result is the local document with each provisioned section replaced by
//! the answer's copy of it, byte for byte. Nothing is parsed into a tree and
//! re-serialized, so the user's comments, attributes and layout survive, and
//! the cost is one read of each document plus one copy.

use crate::xml::{Scan, Section};

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
/// - Each provisioned section replaces all its local occurrences, at the
///   place of the first one; other local occurrences go with their indentation.
/// - Provisioned sections the local document lacks go before its root's end
///   tag, indented like the local document's last section.
/// - Without a local document the answer is its own local document, less
///   its non-provisioned sections: the same rule groups a repeated section
///   at its first place, so that merging the result again changes nothing.
pub fn merge(local: Option<Doc<'_>>, answer: Doc<'_>, provisioned: &[String]) -> String {
    match local {
        Some(local) => splice(local, answer, provisioned, false),
        None => splice(answer, answer, provisioned, true),
    }
}

/// The merge proper; `drop_others` also takes out the local document's
/// non-provisioned sections.
fn splice(local: Doc<'_>, answer: Doc<'_>, provisioned: &[String], drop_others: bool) -> String {
    let is_provisioned = |name: &str| provisioned.iter().any(|p| p == name);
    let mut out = String::with_capacity(local.text.len() + answer.text.len());
    let mut cursor = 0;
    let mut placed: Vec<&str> = Vec::new();
    for section in &local.scan.sections {
        if !is_provisioned(&section.name) {
            if drop_others {
                out.push_str(&local.text[cursor..section.lead]);
                cursor = section.span.end;
            }
            continue;
        }
        if placed.contains(&section.name.as_str()) {
            out.push_str(&local.text[cursor..section.lead]);
        } else {
            out.push_str(&local.text[cursor..section.span.start]);
            let replacements = answer.scan.sections.iter().filter(|s| s.name == section.name);
            for (i, replacement) in replacements.enumerate() {
                if i > 0 {
                    out.push_str(local.lead(section));
                }
                out.push_str(answer.span(replacement));
            }
            placed.push(&section.name);
        }
        cursor = section.span.end;
    }

    // Grouped by name, in the order names first appear in the answer, as the
    // in-place rule groups them: a second merge then changes nothing.
    let mut missing: Vec<&Section> = Vec::new();
    for s in &answer.scan.sections {
        if is_provisioned(&s.name) && !placed.contains(&s.name.as_str()) && !missing.iter().any(|m| m.name == s.name) {
            missing.extend(answer.scan.sections.iter().filter(|c| c.name == s.name));
        }
    }
    if missing.is_empty() {
        out.push_str(&local.text[cursor..]);
        return out;
    }
    let indent = match local.scan.sections.last() {
        Some(last) if last.lead < last.span.start => local.lead(last),
        _ => "\n",
    };
    match &local.scan.root_end {
        Some(_) => {
            let at = local.scan.root_end_lead.max(cursor);
            out.push_str(&local.text[cursor..at]);
            for s in &missing {
                out.push_str(indent);
                out.push_str(answer.span(s));
            }
            out.push_str(&local.text[at..]);
        }
        None => {
            // `<options/>`: open it up into `<options>…</options>`.
            let empty = &local.text[local.scan.root_start.clone()];
            out.push_str(&local.text[cursor..local.scan.root_start.start]);
            out.push_str(empty.trim_end_matches('>').trim_end_matches('/').trim_end());
            out.push('>');
            for s in &missing {
                out.push_str(indent);
                out.push_str(answer.span(s));
            }
            out.push_str(&format!("\n</{}>", local.scan.root_name));
            out.push_str(&local.text[local.scan.root_start.end..]);
        }
    }
    out
}

/// The document without the sections `remove` selects, each taken out with
/// its indentation. Everything else is kept byte for byte.
pub fn strip(doc: Doc<'_>, remove: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(doc.text.len());
    let mut cursor = 0;
    for section in doc.scan.sections.iter().filter(|s| remove(&s.name)) {
        out.push_str(&doc.text[cursor..section.lead]);
        cursor = section.span.end;
    }
    out.push_str(&doc.text[cursor..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(local: Option<&str>, answer: &str, provisioned: &[&str]) -> String {
        let provisioned: Vec<String> = provisioned.iter().map(|s| s.to_string()).collect();
        let answer_scan = Scan::new(answer).unwrap();
        let answer = Doc { text: answer, scan: &answer_scan };
        match local {
            Some(text) => {
                let scan = Scan::new(text).unwrap();
                merge(Some(Doc { text, scan: &scan }), answer, &provisioned)
            }
            None => merge(None, answer, &provisioned),
        }
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
        assert_eq!(run(Some("<options a='1' />"), ANSWER, &["codecs"]), "<options a='1'>\n<codecs>srv</codecs>\n</options>");
    }

    #[test]
    fn without_local_the_answer_keeps_only_provisioned_sections() {
        assert_eq!(
            run(None, ANSWER, &["codecs", "accounts"]),
            "<options>\n <accounts><account>srv</account></accounts>\n <codecs>srv</codecs>\n</options>"
        );
    }

    #[test]
    fn without_local_repeated_sections_are_grouped_so_a_second_merge_changes_nothing() {
        let answer = "<o>\n  <x>1</x><!-- c --><y/>\n  <x>2</x>\n</o>";
        let once = run(None, answer, &["x"]);
        assert_eq!(once, "<o>\n  <x>1</x>\n  <x>2</x><!-- c -->\n</o>");
        assert_eq!(run(Some(&once), answer, &["x"]), once);
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
