//! Checked, byte-positioned reading of XML documents.
//!
//! Everything the library reads (provision files, local configs, answers)
//! goes through [`Checked`], so one place decides what "well-formed" means:
//! UTF-8 only, one root element, no text outside it, balanced tags, valid
//! attributes, and no DOCTYPE, so no entity is ever expanded beyond the five
//! predefined ones and character references.
//!
//! [`Scan`] keeps only byte spans (root tags and the root's element children,
//! the *sections*); the merge copies those spans, which keeps every byte it
//! does not replace exactly as it was.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;
use std::fmt;
use std::ops::Range;

pub use crate::limits::{MAX_ATTRIBUTES, MAX_DEPTH, MAX_TAG_BYTES};

/// Where and why a document is not acceptable. Line and column are 1-based;
/// the column counts characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl XmlError {
    pub(crate) fn at(bytes: &[u8], pos: usize, message: impl Into<String>) -> Self {
        let before = &bytes[..pos.min(bytes.len())];
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        // Count characters, not bytes: skip UTF-8 continuation bytes.
        let column = before[line_start..].iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1;
        XmlError { line, column, message: message.into() }
    }
}

/// Takes the bytes of a file or an answer as a document: UTF-8 (validated
/// once, here) without NUL, since the result crosses the C ABI as a C string.
pub fn decode(bytes: Vec<u8>) -> Result<String, XmlError> {
    check_nul(&bytes)?;
    String::from_utf8(bytes).map_err(|e| not_utf8(e.as_bytes(), e.utf8_error()))
}

/// As [`decode`], for bytes that stay where they are (a buffer the caller
/// owns, a mapped file): the same checks, no copy.
pub fn check_text(bytes: &[u8]) -> Result<&str, XmlError> {
    check_nul(bytes)?;
    std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e))
}

fn check_nul(bytes: &[u8]) -> Result<(), XmlError> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(XmlError::at(bytes, 0, "the document is UTF-16 (byte order mark): it must be UTF-8"));
    }
    // memchr, not a byte loop: this pass touches every byte of an answer.
    match memchr::memchr(0, bytes) {
        Some(pos) => Err(XmlError::at(bytes, pos, "the document contains a NUL character")),
        None => Ok(()),
    }
}

fn not_utf8(bytes: &[u8], e: std::str::Utf8Error) -> XmlError {
    XmlError::at(bytes, e.valid_up_to(), "the document is not valid UTF-8")
}

/// One event of a checked document with its byte span and its depth: the
/// root element is at depth 0, its children (and text directly inside it)
/// at depth 1. An end tag has the depth of its element.
pub struct Item<'e, 'a> {
    pub event: &'e Event<'a>,
    pub span: Range<usize>,
    pub depth: usize,
}

/// A quick-xml reader that rejects what we do not accept.
pub struct Checked<'a> {
    reader: Reader<&'a [u8]>,
    bytes: &'a [u8],
    /// Bytes before what the reader reads: a UTF-8 byte order mark, which
    /// quick-xml would otherwise skip without counting it in its positions.
    offset: usize,
    open: usize,
    root_seen: bool,
}

impl<'a> Checked<'a> {
    pub fn new(text: &'a str) -> Self {
        let offset = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
        Checked { reader: Reader::from_str(&text[offset..]), bytes: text.as_bytes(), offset, open: 0, root_seen: false }
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> XmlError {
        XmlError::at(self.bytes, pos, message)
    }

    /// Reads the whole document, checking it as it goes, and hands each
    /// event no deeper than `max_depth` to `visit`, in document order.
    //
    // Shaped for speed, as profiling showed:
    // - events are looked at where quick-xml wrote them, never moved out of
    //   its `Result` (that move stalled on store forwarding: a quarter of the
    //   scan);
    // - one non-generic loop holds the only call to `read_event`, so the
    //   compiler inlines quick-xml's reader into it as into a bare read loop;
    // - `visit` is called through `dyn` only for the events it asked for: the
    //   scan wants the root's children, not the thousands of elements inside.
    #[inline(never)]
    pub fn for_each(
        mut self,
        max_depth: usize,
        visit: &mut dyn FnMut(Item<'_, 'a>) -> Result<(), XmlError>,
    ) -> Result<(), XmlError> {
        // quick-xml would skip a second one uncounted too; past the first
        // it is just a character outside the root element.
        if self.bytes[self.offset..].starts_with("\u{feff}".as_bytes()) {
            return Err(self.error(self.offset, "text outside the root element (a second byte order mark)"));
        }
        loop {
            let start = self.offset + self.reader.buffer_position() as usize;
            let result = self.reader.read_event();
            let event = match &result {
                Ok(event) => event,
                Err(e) => {
                    let pos = self.offset + self.reader.error_position() as usize;
                    return Err(self.error(pos, e.to_string()));
                }
            };
            let span = start..self.offset + self.reader.buffer_position() as usize;
            match self.check(event, start, span.end)? {
                Some(depth) if depth <= max_depth => visit(Item { event, span, depth })?,
                Some(_) => {}
                None => return Ok(()),
            }
        }
    }

    /// Checks one event; its depth, or `None` at the end of a complete document.
    #[inline(always)]
    fn check(&mut self, event: &Event<'a>, start: usize, end: usize) -> Result<Option<usize>, XmlError> {
        let mut depth = self.open;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                if self.open == 0 {
                    if self.root_seen {
                        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                        return Err(self.error(start, format!("a second root element <{name}>")));
                    }
                    self.root_seen = true;
                }
                if end - start > MAX_TAG_BYTES {
                    return Err(self.error(start, format!("a start tag longer than {MAX_TAG_BYTES} bytes")));
                }
                check_name(e.name().as_ref()).map_err(|m| self.error(start, format!("element {m}")))?;
                self.check_attributes(e, start)?;
                if matches!(event, Event::Start(_)) {
                    if self.open >= MAX_DEPTH {
                        return Err(self.error(start, format!("elements nested deeper than {MAX_DEPTH} levels")));
                    }
                    self.open += 1;
                }
            }
            Event::End(_) => {
                // quick-xml has already matched the name against the open tag.
                self.open -= 1;
                depth = self.open;
            }
            Event::Text(t) if self.open == 0 && !is_blank(t) => {
                return Err(self.error(start, "text outside the root element"));
            }
            Event::CData(_) if self.open == 0 => {
                return Err(self.error(start, "CDATA outside the root element"));
            }
            Event::GeneralRef(r) => {
                if self.open == 0 {
                    return Err(self.error(start, "a reference outside the root element"));
                }
                check_reference(r).map_err(|m| self.error(start, m))?;
            }
            Event::DocType(_) => {
                return Err(self.error(start, "a DOCTYPE is not allowed (entities are never declared or expanded)"));
            }
            Event::Decl(d) => {
                if let Some(Ok(encoding)) = d.encoding() {
                    let encoding = String::from_utf8_lossy(&encoding).into_owned();
                    if !encoding.eq_ignore_ascii_case("utf-8") && !encoding.eq_ignore_ascii_case("utf8") {
                        return Err(self.error(
                            start,
                            format!("declared encoding '{encoding}' is not supported: the document must be UTF-8"),
                        ));
                    }
                }
            }
            Event::Eof => {
                if !self.root_seen {
                    return Err(self.error(start, "no root element"));
                }
                if self.open > 0 {
                    let open = self.open;
                    return Err(self.error(start, format!("the document ends with {open} element(s) not closed")));
                }
                return Ok(None);
            }
            _ => {}
        }
        Ok(Some(depth))
    }

    #[inline(always)]
    fn check_attributes(&self, e: &BytesStart<'_>, start: usize) -> Result<(), XmlError> {
        let raw = e.attributes_raw();
        if raw.is_empty() || attributes_surely_valid(raw) {
            return Ok(());
        }
        self.attribute_error(e, start)
    }

    /// The full check, and the words of the message: quick-xml's checked
    /// iterator, our limits, names and the references in values.
    #[cold]
    #[inline(never)]
    fn attribute_error(&self, e: &BytesStart<'_>, start: usize) -> Result<(), XmlError> {
        for (i, attribute) in e.attributes().enumerate() {
            if i == MAX_ATTRIBUTES {
                return Err(self.error(start, format!("more than {MAX_ATTRIBUTES} attributes on one element")));
            }
            let attribute = attribute.map_err(|err| self.error(start, format!("bad attribute: {err}")))?;
            check_name(attribute.key.as_ref()).map_err(|m| self.error(start, format!("attribute {m}")))?;
            // Only the predefined entities and character references, as in text.
            attribute.unescape_value().map_err(|err| self.error(start, format!("bad attribute value: {err}")))?;
            if attribute.value.contains(&b'<') {
                return Err(self.error(start, "'<' in an attribute value"));
            }
        }
        Ok(())
    }
}

/// An XML name, by the ASCII part of the Name production (non-ASCII
/// characters are let through): quick-xml takes any bytes up to a blank or
/// `/>` as a name, which would let `<a/ />` open as `<a/>` and close as
/// `</a/>` after a merge.
#[inline(always)]
fn check_name(name: &[u8]) -> Result<(), String> {
    // A table lookup per byte: this runs for every element of every answer.
    let ok = name.first().is_some_and(|&b| class_of(b) == NAME_START) && name.iter().all(|&b| is_name_byte(b));
    if ok {
        Ok(())
    } else {
        Err(not_a_name(name))
    }
}

#[cold]
#[inline(never)]
fn not_a_name(name: &[u8]) -> String {
    format!("name '{}' is not an XML name", String::from_utf8_lossy(name).escape_debug())
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| is_blank_byte(b))
}

/// Whether quick-xml's checked attribute iterator accepts every attribute
/// in `raw` (a start tag after its name), decided without its per-tag key
/// list allocation, which made attribute checking a third of a scan's cost.
/// It follows quick-xml's grammar step by step (`key = "value"`, either
/// quote, blanks around `=`, keys unique, at most 8 of them), with our own
/// rules (keys are XML names; values without references or `<`); `false`
/// means "ask the full check", so this can only ever save time, never
/// change a verdict. One pass over each key and each value: this runs for
/// every attribute of every answer.
fn attributes_surely_valid(raw: &[u8]) -> bool {
    const MAX_KEYS: usize = 8;
    let mut keys = [(0usize, 0usize); MAX_KEYS];
    let mut count = 0;
    let n = raw.len();
    let class = |i: usize| class_of(raw[i]);
    let mut i = 0;
    loop {
        while i < n && class(i) == BLANK {
            i += 1;
        }
        if i == n {
            return true;
        }
        // The key, an XML name, ends at a blank or `=`; any other byte
        // (a `<`, a quote, a missing `=`) is for the full check to name.
        let key_start = i;
        if class(i) != NAME_START {
            return false;
        }
        i += 1;
        while i < n && is_name_byte(raw[i]) {
            i += 1;
        }
        let key = &raw[key_start..i];
        while i < n && class(i) == BLANK {
            i += 1;
        }
        if i == n || class(i) != EQUALS || count == MAX_KEYS {
            return false;
        }
        // Keys are short and mostly differ in their first byte: test that
        // before comparing them whole (a call to memcmp each).
        if keys[..count].iter().any(|&(s, e)| raw[s] == key[0] && &raw[s..e] == key) {
            return false;
        }
        keys[count] = (key_start, key_start + key.len());
        count += 1;
        i += 1;
        while i < n && class(i) == BLANK {
            i += 1;
        }
        let quote = match raw.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return false,
        };
        i += 1;
        // Up to the closing quote; a reference or a '<' in the value: the
        // full check decides.
        loop {
            match raw.get(i) {
                Some(&b) if b == quote => break,
                Some(b'&' | b'<') | None => return false,
                Some(_) => i += 1,
            }
        }
        i += 1;
    }
}

const OTHER: u8 = 0;
const NAME_START: u8 = 1;
const NAME_ONLY: u8 = 2;
const BLANK: u8 = 3;
const EQUALS: u8 = 4;
/// Byte classes of names and of the attribute grammar, a table lookup per
/// byte instead of several comparisons. Letters, `_`, `:` and non-ASCII may
/// start a name; digits, `-` and `.` may follow.
static BYTE_CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        class[b] = if c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80 {
            NAME_START
        } else if c.is_ascii_digit() || c == b'-' || c == b'.' {
            NAME_ONLY
        } else if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            BLANK
        } else if c == b'=' {
            EQUALS
        } else {
            OTHER
        };
        b += 1;
    }
    class
};

#[inline(always)]
fn class_of(b: u8) -> u8 {
    BYTE_CLASS[usize::from(b)]
}

#[inline(always)]
fn is_name_byte(b: u8) -> bool {
    matches!(class_of(b), NAME_START | NAME_ONLY)
}

fn is_blank_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// As [`resolve_reference`], without building the text: the scan only
/// needs to know that a reference is acceptable.
fn check_reference(r: &BytesRef<'_>) -> Result<(), String> {
    let known = if r.is_char_ref() {
        matches!(r.resolve_char_ref(), Ok(Some(_)))
    } else {
        std::str::from_utf8(r.as_ref()).is_ok_and(|name| quick_xml::escape::resolve_predefined_entity(name).is_some())
    };
    if known {
        Ok(())
    } else {
        resolve_reference(r).map(drop)
    }
}

/// The text a reference stands for: a character reference or one of the five
/// predefined entities. Anything else is an error, never a lookup.
fn resolve_reference(r: &BytesRef<'_>) -> Result<String, String> {
    let name = String::from_utf8_lossy(r.as_ref()).into_owned();
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            _ => Err(format!("invalid character reference &{name};")),
        };
    }
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| format!("unknown entity &{name}; (only the predefined entities are allowed)"))
}

/// A direct child element of the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// The element itself, from `<` of its start tag to `>` of its end tag.
    pub span: Range<usize>,
    /// Where the blank text just before the element starts: the trailing
    /// whitespace of the text before it (== `span.start` when there is
    /// none). Removing `lead..span.end` removes the section together with
    /// its indentation.
    pub lead: usize,
}

/// The byte layout of a document: its root and its sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub root_name: String,
    /// The root's start tag, or the whole element when it is empty (`<options/>`).
    pub root_start: Range<usize>,
    /// The root's end tag; `None` for an empty root element.
    pub root_end: Option<Range<usize>>,
    /// Start of the blank text before the root's end tag (its `lead`).
    pub root_end_lead: usize,
    pub sections: Vec<Section>,
}

impl Scan {
    /// Reads the whole document once, checking it as it goes.
    pub fn new(text: &str) -> Result<Scan, XmlError> {
        let mut scan =
            Scan { root_name: String::new(), root_start: 0..0, root_end: None, root_end_lead: 0, sections: Vec::new() };
        // Start of the run of blank text that ends where the next item starts.
        let mut blank_from: Option<usize> = None;
        let mut open_section: Option<Section> = None;
        // Only the root and its children (depth 0 and 1) matter here: the
        // blank text before a child is always the event just before it.
        Checked::new(text).for_each(1, &mut |item| {
            let lead = blank_from.take().unwrap_or(item.span.start);
            match (item.event, item.depth) {
                (Event::Start(e) | Event::Empty(e), 0) => {
                    scan.root_name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    scan.root_start = item.span.clone();
                    scan.root_end_lead = item.span.end;
                }
                (Event::End(_), 0) => {
                    scan.root_end_lead = lead;
                    scan.root_end = Some(item.span.clone());
                }
                (Event::Start(e) | Event::Empty(e), 1) => {
                    let section = Section {
                        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                        span: item.span.clone(),
                        lead,
                    };
                    if matches!(item.event, Event::Start(_)) {
                        open_section = Some(section);
                    } else {
                        scan.sections.push(section);
                    }
                }
                (Event::End(_), 1) => {
                    if let Some(mut section) = open_section.take() {
                        section.span.end = item.span.end;
                        scan.sections.push(section);
                    }
                }
                // The blank end of the text before the next item: all of it
                // when the text is blank, else its trailing whitespace, so
                // that taking a section out with its lead undoes exactly an
                // insertion of indentation and section.
                (Event::Text(t), 1) => {
                    let blank_tail = t.iter().rev().take_while(|&&b| is_blank(&[b])).count();
                    blank_from = Some(if blank_tail == t.len() { lead } else { item.span.end - blank_tail });
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(scan)
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.sections.iter().any(|s| s.name == name)
    }
}

/// All character data inside the root element, in document order, references
/// resolved: the text of an `<error>` answer, whatever markup it holds.
pub fn root_text(text: &str) -> Result<String, XmlError> {
    let mut out = String::new();
    Checked::new(text).for_each(usize::MAX, &mut |item| {
        let at = |m: String| XmlError::at(text.as_bytes(), item.span.start, m);
        match item.event {
            Event::Text(t) => out.push_str(&t.xml10_content().map_err(|e| at(e.to_string()))?),
            Event::CData(t) => out.push_str(&t.decode().map_err(|e| at(e.to_string()))?),
            Event::GeneralRef(r) => out.push_str(&resolve_reference(r).map_err(at)?),
            _ => {}
        }
        Ok(())
    })?;
    Ok(out)
}

/// A small element tree, for documents that are read for their values
/// (provision files, `<error>` answers) rather than copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    /// Character data directly inside the element, references resolved.
    pub text: String,
    pub children: Vec<Element>,
    /// 1-based line of the start tag, for messages.
    pub line: usize,
}

impl Element {
    pub fn parse(text: &str) -> Result<Element, XmlError> {
        let mut stack: Vec<Element> = Vec::new();
        let mut root = None;
        Checked::new(text).for_each(usize::MAX, &mut |item| {
            let bad_text = |e| XmlError::at(text.as_bytes(), item.span.start, format!("{e}"));
            match item.event {
                Event::Start(e) | Event::Empty(e) => {
                    let element = Element {
                        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                        line: XmlError::at(text.as_bytes(), item.span.start, "").line,
                        ..Element::default()
                    };
                    if matches!(item.event, Event::Start(_)) {
                        stack.push(element);
                    } else if let Some(parent) = stack.last_mut() {
                        parent.children.push(element);
                    } else {
                        root = Some(element);
                    }
                }
                Event::End(_) => {
                    let done = stack.pop().expect("the reader balances tags");
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => root = Some(done),
                    }
                }
                Event::Text(t) => {
                    if let Some(current) = stack.last_mut() {
                        current.text.push_str(&t.xml10_content().map_err(bad_text)?);
                    }
                }
                Event::CData(t) => {
                    if let Some(current) = stack.last_mut() {
                        current.text.push_str(&t.decode().map_err(bad_text)?);
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(current) = stack.last_mut() {
                        let resolved =
                            resolve_reference(r).map_err(|m| XmlError::at(text.as_bytes(), item.span.start, m))?;
                        current.text.push_str(&resolved);
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(root.expect("the reader requires a root element"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_records_sections_with_their_indentation() {
        let doc =
            "<?xml version=\"1.0\"?>\n<options a=\"1\">\n  <general/>\n  <accounts><account/></accounts>\n</options>\n";
        let scan = Scan::new(doc).unwrap();
        assert_eq!(scan.root_name, "options");
        let names: Vec<_> = scan.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["general", "accounts"]);
        let accounts = &scan.sections[1];
        assert_eq!(&doc[accounts.span.clone()], "<accounts><account/></accounts>");
        assert_eq!(&doc[accounts.lead..accounts.span.start], "\n  ");
        assert_eq!(&doc[scan.root_end.clone().unwrap()], "</options>");
        assert_eq!(&doc[scan.root_end_lead..scan.root_end.unwrap().start], "\n");
    }

    #[test]
    fn a_byte_order_mark_does_not_shift_the_spans() {
        // Found by the `answer` fuzz target: spans were 3 bytes short.
        let doc = "\u{feff}<options>\n  <accounts>x</accounts>\n</options>";
        let scan = Scan::new(doc).unwrap();
        assert_eq!(&doc[scan.sections[0].span.clone()], "<accounts>x</accounts>");
        assert_eq!(&doc[scan.root_start.clone()], "<options>");
        assert_eq!(&doc[scan.root_end.unwrap()], "</options>");
        assert_eq!(Scan::new("\u{feff}<a>\n<b></c></a>").unwrap_err().column, 4);
        // Found next: a second mark was skipped uncounted as well.
        assert!(Scan::new("\u{feff}\u{feff}<a/>").unwrap_err().message.contains("byte order mark"));
    }

    #[test]
    fn malformed_documents_report_line_and_column() {
        let err = Scan::new("<a>\n  <b></c>\n</a>").unwrap_err();
        assert_eq!((err.line, err.column), (2, 6), "{err}");
        let err = Scan::new("<a/>\n<b/>").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("second root"), "{err}");
        assert!(Scan::new("<a>").is_err());
        assert!(Scan::new("").is_err());
        assert!(Scan::new("<a/>junk").is_err());
    }

    #[test]
    fn doctype_and_custom_entities_are_refused() {
        let bomb = "<!DOCTYPE a [<!ENTITY x \"xx\">]><a>&x;</a>";
        assert!(Scan::new(bomb).unwrap_err().message.contains("DOCTYPE"));
        let err = Scan::new("<a>&x;</a>").unwrap_err();
        assert!(err.message.contains("&x;"), "{err}");
        assert!(Scan::new("<a>&amp;&#65;&#x42;</a>").is_ok());
        let err = Scan::new("<a><b v=\"&x;\"/></a>").unwrap_err();
        assert!(err.message.contains("attribute value"), "{err}");
        assert!(Scan::new("<a><b v=\"&lt;&#65;\"/></a>").is_ok());
        assert!(Scan::new("<a><b v=\"<\"/></a>").is_err());
    }

    #[test]
    fn depth_tag_size_and_attribute_count_are_bounded() {
        let nested = |n: usize| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        assert!(Scan::new(&nested(MAX_DEPTH)).is_ok());
        let err = Scan::new(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(err.message.contains("nested deeper"), "{err}");
        assert!(Element::parse(&nested(1_000_000)).is_err(), "a deep provision file is refused, not built");

        let attribute = |len: usize| format!("<a v=\"{}\"/>", "x".repeat(len));
        assert!(Scan::new(&attribute(60 * 1024)).is_ok());
        let err = Scan::new(&attribute(MAX_TAG_BYTES)).unwrap_err();
        assert!(err.message.contains("start tag longer"), "{err}");
        let many: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}=\"\"")).collect();
        let err = Scan::new(&format!("<a{many}/>")).unwrap_err();
        assert!(err.message.contains("attributes"), "{err}");
        assert!(Scan::new("<a><b x='1' x='2'/></a>").is_err(), "duplicate attributes");
        // Found by the merge fuzz target: quick-xml takes `a/` as a name.
        for bad in ["<a//>", "<a\u{16}/>", "<a><1b/></a>", "<a b@='1'/>", "<a/ >"] {
            assert!(Scan::new(bad).unwrap_err().message.contains("not an XML name"), "{bad}");
        }
        assert!(Scan::new("<ns:a-b.c_d é='1'><_x/></ns:a-b.c_d>").is_ok());
    }

    #[test]
    fn declared_encodings_other_than_utf8_are_refused() {
        let err = Scan::new("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>").unwrap_err();
        assert!(err.message.contains("ISO-8859-1"), "{err}");
        assert!(Scan::new("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>").is_ok());
    }

    #[test]
    fn decode_rejects_invalid_utf8_and_nul() {
        let err = decode(b"<a>\n\xff</a>".to_vec()).unwrap_err();
        assert_eq!((err.line, err.column), (2, 1));
        assert!(decode(b"<a>\0</a>".to_vec()).is_err());
        assert!(decode(b"\xff\xfe<\0a\0/\0>\0".to_vec()).unwrap_err().message.contains("UTF-16"));
    }

    #[test]
    fn root_text_is_in_document_order() {
        let text = root_text("<error code=\"1\"> Wrong <b>user</b> &amp; <![CDATA[bad]]> name </error>").unwrap();
        assert_eq!(text.trim(), "Wrong user & bad name");
    }

    /// The full check (quick-xml's checked iterator plus our rules on names
    /// and values), the reference the fast path must match.
    fn full_check_accepts(raw: &str) -> bool {
        BytesStart::from_content(format!("e{raw}"), 1).attributes().all(|a| {
            a.is_ok_and(|a| {
                check_name(a.key.as_ref()).is_ok() && a.unescape_value().is_ok() && !a.value.contains(&b'<')
            })
        })
    }

    #[test]
    fn the_attribute_fast_path_agrees_with_the_full_check_on_every_short_input() {
        // Every string of up to 6 bytes over the bytes the grammar turns on,
        // a name byte that cannot start a name, and what values may not hold.
        let alphabet = [b'a', b'b', b'=', b'"', b'\'', b' ', b'\n', b'1', b'<', b'&'];
        let mut checked = 0;
        for len in 0..=6u32 {
            for mut code in 0..alphabet.len().pow(len) {
                let mut raw = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    raw.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                let text = String::from_utf8(raw).unwrap();
                assert_eq!(attributes_surely_valid(text.as_bytes()), full_check_accepts(&text), "{text:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 1_111_111);
    }

    #[test]
    fn the_attribute_fast_path_never_accepts_what_the_full_check_refuses() {
        // Longer tags than the exhaustive test reaches: several attributes,
        // repeated keys, references, from pieces drawn by a fixed xorshift.
        let pieces = [
            " ", "\t", "a", "b", "ab", "a1", "-", "=", "'", "\"", "x='y'", "a='1'", "b=\"2\"", "a=\"\"", "&amp;",
            "&zz;", "<",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut agreed_on_accept = 0;
        for _ in 0..200_000 {
            let mut raw = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut draw = state;
            for _ in 0..1 + draw % 8 {
                draw /= 8;
                raw.push_str(pieces[(draw % pieces.len() as u64) as usize]);
                draw /= pieces.len() as u64;
            }
            let fast = attributes_surely_valid(raw.as_bytes());
            assert!(!fast || full_check_accepts(&raw), "{raw:?}");
            agreed_on_accept += usize::from(fast);
        }
        assert!(agreed_on_accept > 10_000, "the pieces rarely form valid attributes: {agreed_on_accept}");
    }

    #[test]
    fn attributes_beyond_the_fast_path_are_still_checked() {
        let many: String = (0..12).map(|i| format!(" a{i}='{i}'")).collect();
        assert!(!attributes_surely_valid(many.as_bytes()), "more keys than the fast path holds");
        assert!(Scan::new(&format!("<r{many}/>")).is_ok());
        let err = Scan::new(&format!("<r{many} a11='x'/>")).unwrap_err();
        assert!(err.message.contains("bad attribute"), "{err}");
        for bad in ["<r a/>", "<r a=1/>", "<r a='1' a='2'/>", "<r a = \"1/>", "<r a='1'b=>x</r>"] {
            let err = Scan::new(bad).unwrap_err();
            assert!(err.message.contains("attribute") || err.message.contains("quote"), "{bad}: {err}");
        }
        assert!(Scan::new("<r a = '1'\tb=\"2\"c='3'/>").is_ok(), "quick-xml's grammar, not stricter");
    }

    #[test]
    fn references_are_checked_without_being_built() {
        for good in ["&lt;", "&gt;", "&amp;", "&apos;", "&quot;", "&#65;", "&#x1F600;"] {
            assert!(Scan::new(&format!("<a>{good}</a>")).is_ok(), "{good}");
        }
        for (bad, says) in [("&nbsp;", "&nbsp;"), ("&#0;", "&#0;"), ("&#xD800;", "&#xD800;")] {
            let err = Scan::new(&format!("<a>\n{bad}</a>")).unwrap_err();
            assert!(err.message.contains(says), "{bad}: {err}");
            assert_eq!(err.line, 2);
        }
    }

    #[test]
    fn check_text_borrows_and_checks_like_decode() {
        assert_eq!(check_text(b"<a/>").unwrap(), "<a/>");
        let err = check_text(b"<a>\n  \0</a>").unwrap_err();
        assert_eq!((err.line, err.column, err.message.contains("NUL")), (2, 3, true));
        assert_eq!(check_text(b"<a>\xc3</a>").unwrap_err(), decode(b"<a>\xc3</a>".to_vec()).unwrap_err());
    }
}
