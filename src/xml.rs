//! Checked, byte-positioned reading of XML documents.
//!
//! Everything the library reads (provision files, local configs, answers)
//! goes through [`Checked`], so one place decides what "well-formed" means:
//! UTF-8 only, one root element, no text outside it, balanced tags, valid
//! attributes, and no DOCTYPE, so no entity is ever expanded beyond the five
//! predefined ones and character references. Beyond what quick-xml checks,
//! it refuses what XML 1.0 forbids and a strict parser (expat, libxml2)
//! would refuse: characters outside the Char production, names outside the
//! Name production (as expat reads it), `--` in comments, `]]>` in text, an
//! XML declaration anywhere but at the start, attributes without blanks
//! between them, and references to characters that are not Chars. A softphone
//! may read what the library writes with any of them (docs/security.md).
//!
//! [`Scan`] keeps only byte spans (root tags and the root's element children,
//! the *sections*); the merge copies those spans, which keeps every byte it
//! does not replace exactly as it was.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

pub use crate::limits::{MAX_ATTRIBUTES, MAX_DEPTH, MAX_SECTIONS, MAX_TAG_BYTES};
use crate::xml_names;

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
    /// Bytes up to here hold only XML characters.
    chars_checked: usize,
    /// Where `]]>` starts in the checked bytes not yet read. It ends every
    /// CDATA section and may stand in comments and attribute values, never
    /// in text.
    cdata_ends: VecDeque<usize>,
    /// Up to here, `cdata_ends` may miss some (more than `MAX_CDATA_ENDS` in
    /// a stretch): text is searched instead.
    cdata_ends_unknown_until: usize,
    /// Events read so far: an XML declaration must be the first.
    events: usize,
}

impl<'a> Checked<'a> {
    pub fn new(text: &'a str) -> Self {
        let offset = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
        Checked {
            reader: Reader::from_str(&text[offset..]),
            bytes: text.as_bytes(),
            offset,
            open: 0,
            root_seen: false,
            chars_checked: 0,
            cdata_ends: VecDeque::new(),
            cdata_ends_unknown_until: 0,
            events: 0,
        }
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
            if span.end > self.chars_checked {
                self.check_chars(start, span.end)?;
            }
            match self.check(event, start, span.end)? {
                Some(depth) if depth <= max_depth => visit(Item { event, span, depth })?,
                Some(_) => {}
                None => return Ok(()),
            }
        }
    }

    /// Checks the characters (the Char production) up to `end` at least,
    /// a chunk at a time just ahead of the reader: the bytes are then in the
    /// cache when it reads them, and a document costs one trip from memory.
    /// `start` is where the event being read starts: the `]]>` before it
    /// are behind, and their positions are dropped.
    #[inline(never)]
    fn check_chars(&mut self, start: usize, end: usize) -> Result<(), XmlError> {
        const CHUNK: usize = 64 * 1024;
        while self.cdata_ends.front().is_some_and(|&at| at < start) {
            self.cdata_ends.pop_front();
        }
        let to = end.max(self.chars_checked + CHUNK).min(self.bytes.len());
        let range = self.chars_checked..to;
        match scan_chars(self.bytes, range, &mut self.cdata_ends) {
            Err(at) => return Err(self.error(at, not_a_char(self.bytes, at))),
            Ok(true) => self.cdata_ends_unknown_until = to,
            Ok(false) => {}
        }
        self.chars_checked = to;
        Ok(())
    }

    /// Checks one event; its depth, or `None` at the end of a complete document.
    #[inline(always)]
    fn check(&mut self, event: &Event<'a>, start: usize, end: usize) -> Result<Option<usize>, XmlError> {
        let mut depth = self.open;
        self.events += 1;
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
            Event::Text(t) => {
                if self.open == 0 && !is_blank(t) {
                    return Err(self.error(start, "text outside the root element"));
                }
                if start < self.cdata_ends_unknown_until {
                    if let Some(at) = memchr::memmem::find(t, b"]]>") {
                        return Err(self.error(start + at, "']]>' in text (write ']]&gt;')"));
                    }
                }
                // Text ends at `<` or `&`: a `]]>` that starts in it ends in it.
                while self.cdata_ends.front().is_some_and(|&at| at < start) {
                    self.cdata_ends.pop_front();
                }
                if let Some(&at) = self.cdata_ends.front().filter(|&&at| at < end) {
                    return Err(self.error(at, "']]>' in text (write ']]&gt;')"));
                }
            }
            Event::Comment(c) => {
                // Rare in answers, and most have no '-' at all.
                if memchr::memchr(b'-', c).is_some() {
                    check_comment(c).map_err(|at| self.error(start + "<!--".len() + at, "'--' inside a comment"))?;
                }
            }
            Event::PI(_) => self.check_pi(start, end)?,
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
                if start != self.offset || self.events != 1 {
                    return Err(
                        self.error(start, "an XML declaration is allowed only at the very start of the document")
                    );
                }
                check_declaration(&self.bytes[start..end]).map_err(|at| {
                    self.error(
                        start + at,
                        "the XML declaration is not well-formed (<?xml version=\"1.0\" encoding=\"UTF-8\"?>)",
                    )
                })?;
                if let Some(Ok(encoding)) = d.encoding() {
                    let encoding = String::from_utf8_lossy(&encoding).into_owned();
                    // Only the name XML 1.0 gives it: expat does not know `utf8`.
                    if !encoding.eq_ignore_ascii_case("utf-8") {
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

    /// A processing instruction: its target is a name, and not `xml` in any
    /// case (reserved; `<?xml ...?>` itself comes as a declaration).
    #[cold]
    fn check_pi(&self, start: usize, end: usize) -> Result<(), XmlError> {
        let inner = &self.bytes[start + 2..end - 2];
        let target_len = inner.iter().position(|&b| is_blank_byte(b)).unwrap_or(inner.len());
        let target = &inner[..target_len];
        if target.eq_ignore_ascii_case(b"xml") {
            return Err(self.error(start, "an XML declaration is allowed only at the very start of the document"));
        }
        check_name(target).map_err(|m| self.error(start, format!("processing instruction target {m}")))
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
        full_attribute_check(e).map_err(|m| self.error(start, m))
    }
}

/// The full attribute check: quick-xml's checked iterator, our limits, names
/// and the references in values, and blanks between attributes (quick-xml
/// takes `a='1'b='2'`, which XML 1.0 does not).
fn full_attribute_check(e: &BytesStart<'_>) -> Result<(), String> {
    for (i, attribute) in e.attributes().enumerate() {
        if i == MAX_ATTRIBUTES {
            return Err(format!("more than {MAX_ATTRIBUTES} attributes on one element"));
        }
        let attribute = attribute.map_err(|err| format!("bad attribute: {err}"))?;
        check_name(attribute.key.as_ref()).map_err(|m| format!("attribute {m}"))?;
        // Only the predefined entities and references to Chars, as in text.
        attribute.unescape_value().map_err(|err| format!("bad attribute value: {err}"))?;
        check_value_references(&attribute.value).map_err(|m| format!("bad attribute value: {m}"))?;
        if attribute.value.contains(&b'<') {
            return Err("'<' in an attribute value".into());
        }
    }
    if !attributes_separated(e.attributes_raw()) {
        return Err("attributes must be separated by whitespace".into());
    }
    Ok(())
}

/// Whether every attribute value's closing quote is followed by a blank or
/// the end of the tag, in attributes that quick-xml has already parsed.
fn attributes_separated(raw: &[u8]) -> bool {
    let n = raw.len();
    let mut i = 0;
    loop {
        while i < n && is_blank_byte(raw[i]) {
            i += 1;
        }
        // Up to the value's opening quote; the value up to its closing one.
        let Some(open) = raw[i..].iter().position(|&b| b == b'"' || b == b'\'') else { return true };
        i += open;
        let Some(close) = memchr::memchr(raw[i], &raw[i + 1..]) else { return true };
        i += close + 2;
        if i < n && !is_blank_byte(raw[i]) {
            return false;
        }
    }
}

/// The references in an attribute value, which quick-xml has already
/// resolved: each must also name a Char.
fn check_value_references(value: &[u8]) -> Result<(), String> {
    let mut rest = value;
    while let Some(amp) = memchr::memchr(b'&', rest) {
        let after = &rest[amp + 1..];
        let Some(semi) = memchr::memchr(b';', after) else { return Ok(()) };
        check_reference_name(&after[..semi])?;
        rest = &after[semi + 1..];
    }
    Ok(())
}

/// A reference by what stands between `&` and `;`.
fn check_reference_name(name: &[u8]) -> Result<(), String> {
    let shown = || String::from_utf8_lossy(name).into_owned();
    let Some(number) = name.strip_prefix(b"#") else {
        return match std::str::from_utf8(name).ok().and_then(quick_xml::escape::resolve_predefined_entity) {
            Some(_) => Ok(()),
            None => Err(format!("unknown entity &{}; (only the predefined entities are allowed)", shown())),
        };
    };
    let (digits, radix) = match number.strip_prefix(b"x") {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    let value = std::str::from_utf8(digits)
        .ok()
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|d| u32::from_str_radix(d, radix).ok());
    match value.and_then(char::from_u32) {
        Some(c) if is_xml_char(c) => Ok(()),
        _ => Err(format!("invalid character reference &{}; (not an XML character)", shown())),
    }
}

/// The Char production of XML 1.0.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The offset of a `--` in a comment's text, or of a `-` ending it (`--->`).
#[cold]
fn check_comment(text: &[u8]) -> Result<(), usize> {
    if let Some(at) = memchr::memmem::find(text, b"--") {
        return Err(at);
    }
    match text.last() {
        Some(b'-') => Err(text.len() - 1),
        _ => Ok(()),
    }
}

/// An XML declaration, `<?xml` to `?>`, by the XMLDecl production: version
/// `1.x` first, then optionally an encoding name and `standalone`, each
/// after a blank. The offset of what is wrong.
#[cold]
fn check_declaration(decl: &[u8]) -> Result<(), usize> {
    let end = decl.len() - "?>".len();
    let mut i = "<?xml".len();
    let blanks = |i: &mut usize| {
        let from = *i;
        while *i < end && is_blank_byte(decl[*i]) {
            *i += 1;
        }
        *i > from
    };
    let mut seen = 0;
    for (name, valid) in [
        (
            "version",
            (|v: &[u8]| v.len() > 2 && v.starts_with(b"1.") && v[2..].iter().all(u8::is_ascii_digit))
                as fn(&[u8]) -> bool,
        ),
        ("encoding", |v: &[u8]| {
            v.first().is_some_and(u8::is_ascii_alphabetic)
                && v.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        }),
        ("standalone", |v: &[u8]| v == b"yes" || v == b"no"),
    ] {
        let at = i;
        if !blanks(&mut i) || !decl[i..end].starts_with(name.as_bytes()) {
            if seen == 0 {
                return Err(at);
            }
            i = at;
            continue;
        }
        i += name.len();
        blanks(&mut i);
        if i == end || decl[i] != b'=' {
            return Err(i);
        }
        i += 1;
        blanks(&mut i);
        let quote = match decl.get(i) {
            Some(&q @ (b'"' | b'\'')) if i < end => q,
            _ => return Err(i),
        };
        let Some(len) = decl[i + 1..end].iter().position(|&b| b == quote) else { return Err(i) };
        if !valid(&decl[i + 1..i + 1 + len]) {
            return Err(i + 1);
        }
        i += len + 2;
        seen += 1;
    }
    blanks(&mut i);
    if i == end {
        Ok(())
    } else {
        Err(i)
    }
}

/// The characters of `bytes[range]` that XML 1.0 does not allow (the Char
/// production): C0 controls other than tab, LF and CR, and U+FFFE and
/// U+FFFF (UTF-8 has no surrogates); the position of the first. Also
/// appends where `]]>` starts to `cdata_ends`, as long as it holds fewer than
/// `MAX_CDATA_ENDS` (else says `true`: some are missing). Sixteen bytes at a
/// time with SSE2 (on every x86-64): this touches every byte of every answer.
/// A bound on the positions of `]]>` kept ahead of the reader (a few KiB).
const MAX_CDATA_ENDS: usize = 1024;

fn scan_chars(bytes: &[u8], range: Range<usize>, cdata_ends: &mut VecDeque<usize>) -> Result<bool, usize> {
    let mut missed = false;
    // Every position this is given is a control character, `]` or 0xEF.
    let mut examine = |pos: usize| -> Result<(), usize> {
        match bytes[pos] {
            b']' if bytes[pos + 1..].starts_with(b"]>") => {
                if cdata_ends.len() < MAX_CDATA_ENDS {
                    cdata_ends.push_back(pos);
                } else {
                    missed = true;
                }
            }
            0xEF if matches!(bytes.get(pos + 1..pos + 3), Some([0xBF, 0xBE | 0xBF])) => return Err(pos),
            b if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') => return Err(pos),
            _ => {}
        }
        Ok(())
    };
    let Range { start: mut i, end } = range;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        i = unsafe { avx2_blocks(bytes, i, end, &mut examine)? };
    }
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86-64; every load reads 16 bytes at
        // `i`, with `i + 16 <= end <= bytes.len()`.
        unsafe {
            let max_control = _mm_set1_epi8(0x1F);
            let (tab, lf, cr) = (_mm_set1_epi8(b'\t' as i8), _mm_set1_epi8(b'\n' as i8), _mm_set1_epi8(b'\r' as i8));
            let (bracket, ef) = (_mm_set1_epi8(b']' as i8), _mm_set1_epi8(0xEFu8 as i8));
            while i + 16 <= end {
                let x = _mm_loadu_si128(bytes.as_ptr().add(i).cast());
                let control = _mm_cmpeq_epi8(_mm_max_epu8(x, max_control), max_control);
                let blank =
                    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, tab), _mm_cmpeq_epi8(x, lf)), _mm_cmpeq_epi8(x, cr));
                let rare = _mm_or_si128(_mm_cmpeq_epi8(x, bracket), _mm_cmpeq_epi8(x, ef));
                let mut mask = _mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(blank, control), rare)) as u32;
                while mask != 0 {
                    examine(i + mask.trailing_zeros() as usize)?;
                    mask &= mask - 1;
                }
                i += 16;
            }
        }
    }
    while i < end {
        if matches!(bytes[i], 0..=0x1F | b']' | 0xEF) {
            examine(i)?;
        }
        i += 1;
    }
    Ok(missed)
}

/// `scan_chars` 64 bytes at a time, for the CPUs that have AVX2 (most):
/// each byte is classified by two table lookups (`vpshufb`) on its nibbles,
/// half the instructions of the SSE2 comparisons. Returns where it stopped
/// (fewer than 64 bytes before `end`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2_blocks(
    bytes: &[u8],
    mut i: usize,
    end: usize,
    examine: &mut impl FnMut(usize) -> Result<(), usize>,
) -> Result<usize, usize> {
    use std::arch::x86_64::*;
    // Bits: 1 = a control below 0x10 other than tab, LF, CR; 2 = 0x10 to
    // 0x1F; 4 = `]` (0x5D); 8 = 0xEF. A byte is looked at when the entry of
    // its low nibble and that of its high nibble share a bit.
    const LOW: [i8; 16] = [3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 3, 3, 6, 3, 11];
    const HIGH: [i8; 16] = [1, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0];
    let table = |t: [i8; 16]| {
        _mm256_setr_epi8(
            t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13], t[14], t[15], t[0],
            t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13], t[14], t[15],
        )
    };
    let (low, high, nibble, zero) = (table(LOW), table(HIGH), _mm256_set1_epi8(0x0F), _mm256_setzero_si256());
    let flagged = |x: __m256i| {
        let lo = _mm256_shuffle_epi8(low, _mm256_and_si256(x, nibble));
        let hi = _mm256_shuffle_epi8(high, _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble));
        !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(lo, hi), zero)) as u32)
    };
    while i + 64 <= end {
        // SAFETY: two loads of 32 bytes at `i`, with `i + 64 <= end <= bytes.len()`.
        let (a, b) = unsafe {
            (_mm256_loadu_si256(bytes.as_ptr().add(i).cast()), _mm256_loadu_si256(bytes.as_ptr().add(i + 32).cast()))
        };
        let mut mask = u64::from(flagged(a)) | u64::from(flagged(b)) << 32;
        while mask != 0 {
            examine(i + mask.trailing_zeros() as usize)?;
            mask &= mask - 1;
        }
        i += 64;
    }
    Ok(i)
}

#[cold]
fn not_a_char(bytes: &[u8], pos: usize) -> String {
    let c = std::str::from_utf8(&bytes[pos..]).ok().and_then(|s| s.chars().next());
    let code = c.map_or(u32::from(bytes[pos]), u32::from);
    format!("character U+{code:04X} is not allowed in XML (write no control characters but tab, LF and CR, nor U+FFFE/U+FFFF)")
}

/// An XML name, by the Name production as expat reads it (non-ASCII
/// characters from the tables of `xml_names`): quick-xml takes any bytes up
/// to a blank or `/>` as a name, which would let `<a/ />` open as `<a/>` and
/// close as `</a/>` after a merge.
#[inline(always)]
fn check_name(name: &[u8]) -> Result<(), String> {
    // A table lookup per byte: this runs for every element of every answer.
    // Non-ASCII bytes fail it and go to the full check.
    let ok = name.first().is_some_and(|&b| class_of(b) == NAME_START) && name.iter().all(|&b| is_name_byte(b));
    if ok {
        Ok(())
    } else {
        check_unicode_name(name)
    }
}

#[cold]
#[inline(never)]
fn check_unicode_name(name: &[u8]) -> Result<(), String> {
    let is_in = |table: &[(u32, u32)], c: char| {
        let c = u32::from(c);
        table
            .binary_search_by(|&(low, high)| {
                if high < c {
                    std::cmp::Ordering::Less
                } else if low > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    };
    let start = |c: char| if c.is_ascii() { class_of(c as u8) == NAME_START } else { is_in(&xml_names::NAME_START, c) };
    let follow = |c: char| if c.is_ascii() { is_name_byte(c as u8) } else { is_in(&xml_names::NAME_CHAR, c) };
    let mut chars = std::str::from_utf8(name).unwrap_or("\u{0}").chars();
    if chars.next().is_some_and(start) && chars.all(follow) {
        Ok(())
    } else {
        Err(format!("name '{}' is not an XML name", String::from_utf8_lossy(name).escape_debug()))
    }
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
        // A blank or the end must follow (`a='1'b='2'` is not XML).
        if i < n && class(i) != BLANK {
            return false;
        }
    }
}

const OTHER: u8 = 0;
const NAME_START: u8 = 1;
const NAME_ONLY: u8 = 2;
const BLANK: u8 = 3;
const EQUALS: u8 = 4;
/// Byte classes of names and of the attribute grammar, a table lookup per
/// byte instead of several comparisons. Letters, `_` and `:` may start a
/// name; digits, `-` and `.` may follow; a name with non-ASCII characters
/// fails this fast test and takes the full one (`check_unicode_name`).
static BYTE_CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        class[b] = if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
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
        matches!(r.resolve_char_ref(), Ok(Some(c)) if is_xml_char(c))
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
            Ok(Some(c)) if is_xml_char(c) => Ok(c.to_string()),
            _ => Err(format!("invalid character reference &{name}; (not an XML character)")),
        };
    }
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| format!("unknown entity &{name}; (only the predefined entities are allowed)"))
}

/// A direct child element of the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Shared by every section of that name in the document: a section
    /// costs no allocation of its own.
    pub name: Arc<str>,
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
    /// The names of the sections, once each.
    names: HashSet<Arc<str>>,
}

impl Scan {
    /// Reads the whole document once, checking it as it goes.
    pub fn new(text: &str) -> Result<Scan, XmlError> {
        let mut scan = Scan {
            root_name: String::new(),
            root_start: 0..0,
            root_end: None,
            root_end_lead: 0,
            sections: Vec::new(),
            names: HashSet::new(),
        };
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
                    if scan.sections.len() == MAX_SECTIONS {
                        let message = format!("more than {MAX_SECTIONS} elements directly inside the root element");
                        return Err(XmlError::at(text.as_bytes(), item.span.start, message));
                    }
                    let section = Section { name: scan.intern(e.name().as_ref()), span: item.span.clone(), lead };
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

    /// The shared name: repeated sections (the case that counts) find it
    /// as the last section's, others through the set.
    fn intern(&mut self, name: &[u8]) -> Arc<str> {
        // Names are checked: UTF-8, since the document is.
        let name = std::str::from_utf8(name).unwrap_or_default();
        if let Some(last) = self.sections.last().filter(|s| *s.name == *name) {
            return last.name.clone();
        }
        if let Some(known) = self.names.get(name) {
            return known.clone();
        }
        let new: Arc<str> = Arc::from(name);
        self.names.insert(new.clone());
        new
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.names.contains(name)
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
        let names: Vec<_> = scan.sections.iter().map(|s| &*s.name).collect();
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
        for bad in ["<a//>", "<a><1b/></a>", "<a b@='1'/>", "<a/ >"] {
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
        full_attribute_check(&BytesStart::from_content(format!("e{raw}"), 1)).is_ok()
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
        assert!(Scan::new("<r a = '1'\tb=\"2\" c='3'/>").is_ok());
        let err = Scan::new("<r a = '1'\tb=\"2\"c='3'/>").unwrap_err();
        assert!(err.message.contains("separated by whitespace"), "XML 1.0, stricter than quick-xml: {err}");
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

    /// The message of a refused document, after checking its position.
    fn refused(doc: &str, line: usize, column: usize) -> String {
        let err = Scan::new(doc).expect_err(doc);
        assert_eq!((err.line, err.column), (line, column), "{doc:?}: {err}");
        err.message
    }

    #[test]
    fn what_xml_1_0_forbids_is_refused_with_line_and_column() {
        // The reproductions of issue 10, section 4.
        assert!(refused("<a>\n <!-- a -- b --></a>", 2, 9).contains("'--'"));
        assert!(refused("<a><!-- a ---></a>", 1, 11).contains("'--'"));
        assert!(refused("<a><![CDATA[x]]>\n x ]]> </a>", 2, 4).contains("]]>"));
        assert!(refused(" <a b=']]>'>\n]]></a>", 2, 1).contains("]]>"));
        assert!(refused("<a><!-- ]]> --><![CDATA[]]>]]></a>", 1, 28).contains("]]>"));
        assert!(refused("<a>\n\u{1}</a>", 2, 1).contains("U+0001"));
        assert!(refused("<a>\u{FFFE}</a>", 1, 4).contains("U+FFFE"));
        assert!(refused("<a b='\u{FFFF}'/>", 1, 7).contains("U+FFFF"));
        assert!(refused("<a>\u{1B}</a>", 1, 4).contains("U+001B"));
        assert!(refused("<a>\n&#x1;</a>", 2, 1).contains("&#x1;"));
        assert!(refused("<a>&#65534;</a>", 1, 4).contains("&#65534;"));
        assert!(refused("<a b='&#x1;'/>", 1, 1).contains("&#x1;"));
        assert!(refused("<a>\n <?xml version=\"1.0\"?></a>", 2, 2).contains("declaration"));
        assert!(refused("\n<?xml version=\"1.0\"?><a/>", 2, 1).contains("declaration"));
        assert!(refused("<a><?XmL x?></a>", 1, 4).contains("declaration"));
        assert!(refused("<a b='1'c='2'/>", 1, 1).contains("separated by whitespace"));
        assert!(refused("<a b='1'c='2'>x</a>", 1, 1).contains("separated by whitespace"));
        assert!(refused("<a>\n<b\u{D7}/></a>", 2, 1).contains("not an XML name"));
        assert!(refused("<a><b c\u{D7}='1'/></a>", 1, 4).contains("not an XML name"));
        assert!(refused("<a><\u{B7}b/></a>", 1, 4).contains("not an XML name"));
        assert!(refused("<a><?p\u{D7} x?></a>", 1, 4).contains("not an XML name"));
        assert!(refused("<a\u{16}/>", 1, 3).contains("U+0016"));
        for bad_decl in [
            "<?xml?><a/>",
            "<?xml encoding=\"UTF-8\"?><a/>",
            "<?xml version=\"1.0\"encoding=\"UTF-8\"?><a/>",
            "<?xml version=\"2.0\"?><a/>",
            "<?xml version='1.0' standalone='maybe'?><a/>",
            "<?xml version='1.0' standalone='yes' encoding='UTF-8'?><a/>",
        ] {
            let err = Scan::new(bad_decl).unwrap_err();
            assert!(err.line == 1 && err.message.contains("declaration"), "{bad_decl}: {err}");
        }
    }

    #[test]
    fn what_xml_1_0_allows_is_still_accepted() {
        for good in [
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\" ?>\n<a/>",
            "\u{feff}<?xml version='1.1'?><a/>",
            "<a><!-- a - b --><![CDATA[]]]]><?pi x?><?xml-stylesheet href='x'?></a>",
            "<a b=']]>' c='\t'>]]&gt; ]] > \u{85}\u{7F}\u{FFFD}\u{10FFFF}&#x85;&#xFFFD;&#9;</a>",
            "<\u{C0}\u{B7}\u{4E00} \u{E9}='1'/>",
        ] {
            assert!(Scan::new(good).is_ok(), "{good:?}: {}", Scan::new(good).unwrap_err());
        }
    }

    #[test]
    fn the_char_pass_finds_what_the_byte_loop_finds_at_every_offset() {
        // The SIMD blocks and the tail loop, a bad character at each position.
        let mut ends = VecDeque::new();
        for len in 0..40 {
            for at in 0..len {
                for bad in ["\u{1}", "\u{FFFF}", "\u{1F}"] {
                    let text = format!("{}{bad}{}", "x".repeat(at), "y".repeat(len - at));
                    assert_eq!(scan_chars(text.as_bytes(), 0..text.len(), &mut ends), Err(at), "{text:?}");
                    let from = at.saturating_sub(3);
                    assert_eq!(scan_chars(text.as_bytes(), from..text.len(), &mut ends), Err(at), "{text:?}");
                    assert_eq!(scan_chars(text.as_bytes(), 0..at, &mut ends), Ok(false), "{text:?}");
                }
                let text = format!("{}]]>{}", "\n".repeat(at), "\u{FFFD}".repeat(len - at));
                ends.clear();
                assert_eq!(scan_chars(text.as_bytes(), 0..text.len(), &mut ends), Ok(false));
                assert_eq!(ends, [at], "{text:?}");
            }
        }
        // A document checked in chunks: a bad character far in, and `]]>`
        // in text after many in CDATA.
        let long = format!("<a>{}{}</a>", "<![CDATA[]]>".repeat(30_000), "x".repeat(100_000));
        assert!(Scan::new(&long).is_ok());
        let err = Scan::new(&long.replace("</a>", "\u{1}</a>")).unwrap_err();
        assert_eq!(err.column, long.chars().count() - 3, "{err}");
        let err = Scan::new(&long.replace("</a>", "]]></a>")).unwrap_err();
        assert!(err.message.contains("]]>"), "{err}");
        // More `]]>` than are kept, in a comment then in CDATA: text is searched.
        for filler in ["<!-- ]]>]]>]]>]]>]]>]]>]]>]]>]]>]]>]]>]]> -->", "<![CDATA[]]>"] {
            let doc = format!("<a>{}x</a>", filler.repeat(2 * MAX_CDATA_ENDS));
            assert!(Scan::new(&doc).is_ok());
            let err = Scan::new(&doc.replace("x</a>", "x]]></a>")).unwrap_err();
            assert!(err.message.contains("]]>"), "{err}");
        }
    }

    #[test]
    fn the_char_pass_flags_each_byte_value_as_the_byte_loop_does() {
        // Every byte value at every offset of a 64-byte block and the tail.
        for b in 0..=255u8 {
            for at in [0, 17, 31, 32, 63, 64, 70] {
                let mut bytes = vec![b'x'; 80];
                bytes[at] = b;
                let (mut ends, mut expected_ends) = (VecDeque::new(), VecDeque::new());
                let expected = if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') { Err(at) } else { Ok(false) };
                assert_eq!(scan_chars(&bytes, 0..80, &mut ends), expected, "byte {b:#x} at {at}");
                if b == 0xEF {
                    bytes[at + 1..at + 3].copy_from_slice(&[0xBF, 0xBE]);
                    assert_eq!(scan_chars(&bytes, 0..80, &mut ends), Err(at), "U+FFFE at {at}");
                }
                if b == b']' {
                    bytes[at + 1..at + 3].copy_from_slice(b"]>");
                    expected_ends.push_back(at);
                    assert_eq!(scan_chars(&bytes, 0..80, &mut ends), Ok(false));
                    assert_eq!(ends, expected_ends, "]]> at {at}");
                }
            }
        }
    }

    #[test]
    fn sections_are_bounded_in_number_and_share_their_names() {
        let doc = |n: usize| format!("<a>{}</a>", "<s/>".repeat(n));
        let scan = Scan::new(&doc(MAX_SECTIONS)).unwrap();
        assert!(Arc::ptr_eq(&scan.sections[0].name, &scan.sections[MAX_SECTIONS - 1].name));
        let err = Scan::new(&doc(MAX_SECTIONS + 1)).unwrap_err();
        assert!(err.message.contains("directly inside the root"), "{err}");
        let scan = Scan::new("<a><x/><y/><x/></a>").unwrap();
        assert!(Arc::ptr_eq(&scan.sections[0].name, &scan.sections[2].name));
        assert!(scan.has_section("y") && !scan.has_section("z"));
    }

    #[test]
    fn check_text_borrows_and_checks_like_decode() {
        assert_eq!(check_text(b"<a/>").unwrap(), "<a/>");
        let err = check_text(b"<a>\n  \0</a>").unwrap_err();
        assert_eq!((err.line, err.column, err.message.contains("NUL")), (2, 3, true));
        assert_eq!(check_text(b"<a>\xc3</a>").unwrap_err(), decode(b"<a>\xc3</a>".to_vec()).unwrap_err());
    }
}
