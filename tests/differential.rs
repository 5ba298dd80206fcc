//! What the library accepts, a strict parser accepts (issue 10, section 4).
//!
//! A large generated corpus (the fuzz seeds, documents built from pieces
//! that include every construct XML 1.0 forbids, and byte-level mutations of
//! both) goes through the library's checked scan and through libexpat
//! (tests/strict/expat.rs). Whatever the library accepts as an answer or a
//! local config, the merge it writes, the local file `store_local` writes and
//! the provision file `provision_save` writes must all be well-formed for
//! expat. The library may refuse more (a DOCTYPE, custom entities).
//!
//! Why expat, through dlopen: it is the parser a softphone is most likely to
//! use (directly or through Python), it is on every machine that runs the
//! Python suite, and it costs `make test` no compile (a Rust XML crate would
//! add a dependency tree to every test build).

#[path = "strict/expat.rs"]
mod expat;

use provision::merge::{merge, strip, Doc};
use provision::provision_section::to_xml;
use provision::xml::{self, Scan};
use provision::Settings;

/// A fixed xorshift: the same corpus on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Pieces of markup, valid and not: names, attributes, text, comments,
/// instructions, references, and each thing issue 10 found accepted.
const PIECES: &[&str] = &[
    "<a>",
    "</a>",
    "<b>",
    "</b>",
    "<a/>",
    "<b x='1'/>",
    "<c y=\"2\" z='3'>",
    "</c>",
    "<accounts>",
    "</accounts>",
    "text",
    " ",
    "\n  ",
    "\r\n",
    "\t",
    "&amp;",
    "&lt;",
    "&#65;",
    "&#x263A;",
    "&#x85;",
    "&#xFFFD;",
    "&#x1;",
    "&#xFFFE;",
    "&#0;",
    "&#xD800;",
    "&nbsp;",
    "&",
    "<!-- c -->",
    "<!-- a -- b -->",
    "<!-- x --->",
    "<!---->",
    "<![CDATA[<raw>]]>",
    "<![CDATA[]]]]>",
    "]]>",
    "]]",
    ">",
    "<?pi x?>",
    "<?xml-stylesheet href='x'?>",
    "<?xml version=\"1.0\"?>",
    "<?XML x?>",
    "<?xml?>",
    "<d a='1'b='2'/>",
    "<d a='1' b='2'/>",
    "<e\u{D7}/>",
    "<\u{C0}\u{B7}/>",
    "<\u{B7}/>",
    "<f \u{E9}='1'/>",
    "<\u{4E00}/>",
    "<\u{10000}/>",
    "<\u{0E01}/>",
    "\u{1}",
    "\u{1F}",
    "\u{7F}",
    "\u{85}",
    "\u{FFFE}",
    "\u{FFFF}",
    "\u{10FFFF}",
    "\u{FEFF}",
    "é",
    "<g h='&#x1;'/>",
    "<g h='&#9;&#xA;'/>",
    "<g h=']]>'/>",
    "<g h='<'/>",
    "<!DOCTYPE a>",
    "<h:i xmlns:h='u'/>",
    "<a:b:c/>",
    "</a >",
    "<j\n/>",
    "<k l = \"m\" />",
    "'",
    "\"",
    "=",
];

const PROLOGS: &[&str] = &[
    "",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
    "<?xml version='1.0'?>",
    "<?xml version=\"1.0\" encoding=\"utf8\" standalone='no' ?>\n",
    "\u{FEFF}",
    "\u{FEFF}<?xml version=\"1.0\"?>",
    "<!-- mine -->\n",
    "<?xml-stylesheet href=\"http://evil/x.xsl\"?>\n",
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
    "\n<?xml version=\"1.0\"?>",
];

/// A document: a prolog, a root, sections made of pieces, an epilogue.
fn generated(rng: &mut Rng) -> String {
    let mut doc = rng.pick(PROLOGS).to_owned();
    let root = rng.pick(&["options", "config", "o"]);
    let attrs = rng.pick(&["", " v=\"3\"", " xmlns=\"urn:evil\" admin=\"1\"", " a='&lt;'"]);
    doc.push_str(&format!("<{root}{attrs}>"));
    for _ in 0..rng.below(6) {
        let name = rng.pick(&["accounts", "codecs", "audio", "provision"]);
        doc.push_str(rng.pick(&["\n  ", "", "\n\t", " text "]));
        doc.push_str(&format!("<{name}>"));
        for _ in 0..rng.below(5) {
            doc.push_str(rng.pick(PIECES));
        }
        doc.push_str(&format!("</{name}>"));
    }
    doc.push_str(&format!("\n</{root}>"));
    doc.push_str(rng.pick(&["", "\n", "\n<!-- end -->\n", "<?pi?>"]));
    doc
}

/// A byte-level change: a piece inserted, bytes removed or replaced.
fn mutated(rng: &mut Rng, doc: &[u8]) -> Vec<u8> {
    let mut out = doc.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(3) {
            0 => {
                let piece = rng.pick(PIECES).as_bytes().to_vec();
                out.splice(at..at, piece);
            }
            1 => {
                let end = (at + 1 + rng.below(4)).min(out.len());
                out.drain(at.min(end)..end);
            }
            _ => {
                let byte = [b'<', b'>', b'-', b']', b'&', b';', b'\'', b'"', b'=', b' ', 1, 0x7f][rng.below(12)];
                if at < out.len() {
                    out[at] = byte;
                }
            }
        }
    }
    out
}

fn seeds(folder: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// The library's verdict on bytes as a document: its text and scan, if accepted.
fn accepted(bytes: &[u8]) -> Option<(String, Scan)> {
    let text = xml::decode(bytes.to_vec()).ok()?;
    let scan = Scan::new(&text).ok()?;
    Some((text, scan))
}

struct Tally {
    expat: expat::Expat,
    documents: usize,
    accepted: usize,
    written: usize,
}

impl Tally {
    /// `what` (accepted or written by the library) must be well-formed for expat.
    fn strict(&mut self, what: &str, doc: &str, from: &[&str]) {
        if let Err(why) = self.expat.check(doc.as_bytes()) {
            panic!("{what} is accepted by the library but not by expat ({why}):\n{doc:?}\nfrom {from:?}");
        }
    }

    /// One local config and one answer, as bytes: each accepted document, and
    /// everything the library writes from them.
    fn pair(&mut self, local: &[u8], answer: &[u8]) {
        self.documents += 2;
        let local = accepted(local);
        if let Some((text, _)) = &local {
            self.accepted += 1;
            self.strict("a local config", text, &[]);
        }
        let Some((answer, answer_scan)) = accepted(answer) else { return };
        self.accepted += 1;
        self.strict("an answer", &answer, &[]);
        // Every other name of the answer is provisioned, so some are not.
        let mut provisioned: Vec<String> = Vec::new();
        for (i, s) in answer_scan.sections.iter().enumerate() {
            if i % 2 == 0 && !provisioned.iter().any(|p| **p == *s.name) {
                provisioned.push(s.name.to_string());
            }
        }
        let answer_doc = Doc { text: &answer, scan: &answer_scan };
        let local_doc = local.as_ref().map(|(text, scan)| Doc { text, scan });
        for local_doc in [local_doc, None] {
            let merged = merge(local_doc, answer_doc, &provisioned);
            let from = [local_doc.map_or("", |d| d.text), answer.as_str()];
            self.strict("a merged config", &merged, &from);
            let scan = Scan::new(&merged).expect("the library reads back what it merged");
            let stored = strip(Doc { text: &merged, scan: &scan }, |n| provisioned.iter().any(|p| p == n));
            self.strict("a stored local config", &stored, &from);
            self.written += 2;
        }
    }

    /// A provision file: accepted, then saved by `provision_save`.
    fn provision_file(&mut self, bytes: &[u8]) {
        self.documents += 1;
        let Ok(text) = xml::decode(bytes.to_vec()) else { return };
        let Ok(settings) = Settings::parse(&text, "generated") else { return };
        self.accepted += 1;
        self.strict("a provision file", &text, &[]);
        let saved = to_xml(&settings);
        self.strict("a saved provision file", &saved, &[&text]);
        self.written += 1;
    }
}

#[test]
fn everything_the_library_accepts_or_writes_expat_accepts() {
    let expat = expat::Expat::load().expect("the strict parser (libexpat) is needed by this test");
    let mut t = Tally { expat, documents: 0, accepted: 0, written: 0 };
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);

    // The fuzz seeds, then mutations of them.
    let answers = seeds("answer");
    let merges: Vec<(Vec<u8>, Vec<u8>)> = seeds("merge")
        .into_iter()
        .filter_map(|d| d.iter().position(|&b| b == 0xff).map(|cut| (d[..cut].to_vec(), d[cut + 1..].to_vec())))
        .collect();
    let provision_files = seeds("provision_file");
    for a in &answers {
        for (l, _) in &merges {
            t.pair(l, a);
        }
    }
    for (l, a) in &merges {
        t.pair(l, a);
    }
    for p in &provision_files {
        t.provision_file(p);
    }
    for _ in 0..3_000 {
        let a = &answers[rng.below(answers.len())];
        let (l, m) = &merges[rng.below(merges.len())];
        let (ml, ma) = (mutated(&mut rng, l), mutated(&mut rng, a));
        t.pair(&ml, &ma);
        let mm = mutated(&mut rng, m);
        t.pair(&ml, &mm);
        let pick = rng.below(provision_files.len());
        let p = mutated(&mut rng, &provision_files[pick]);
        t.provision_file(&p);
    }

    // Generated documents, then mutations of them.
    for _ in 0..6_000 {
        let (l, a) = (generated(&mut rng), generated(&mut rng));
        t.pair(l.as_bytes(), a.as_bytes());
        let (ml, ma) = (mutated(&mut rng, l.as_bytes()), mutated(&mut rng, a.as_bytes()));
        t.pair(&ml, &ma);
    }

    // Provision files whose values hold what a saved file must still carry.
    for value in ["a&amp;b", "&#x85;&#x7F;", "p&#13;w", "\u{85}\u{7F}", "&#x1;", "\u{1}", "&#xFFFE;", "]]>", "x<y"] {
        let file = format!(
            "<provision><base_urls><base_url>http://127.0.0.1/</base_url></base_urls><options>\
             <user>u{value}</user><password>{value}</password></options>\
             <significant_sections>accounts</significant_sections></provision>"
        );
        t.provision_file(file.as_bytes());
    }

    // The corpus must be large, and must exercise both verdicts.
    assert!(t.documents > 30_000, "{} documents", t.documents);
    assert!(t.accepted > 3_000, "only {} of {} documents accepted", t.accepted, t.documents);
    assert!(t.accepted < t.documents / 2, "the corpus is too tame: {} of {} accepted", t.accepted, t.documents);
    assert!(t.written > 3_000, "{} written documents", t.written);
    eprintln!("{} documents, {} accepted, {} written: expat accepts them all", t.documents, t.accepted, t.written);
}

#[test]
fn the_name_tables_agree_with_expat_on_a_sample_of_code_points() {
    let expat = expat::Expat::load().expect("libexpat");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut checked = 0;
    for i in 0..20_000u32 {
        // Every code point below U+0400, then a spread over the rest.
        let code = if i < 0x400 { i } else { (rng.next() % 0x11_0000) as u32 };
        let Some(c) = char::from_u32(code) else { continue };
        for doc in [format!("<{c}/>"), format!("<a{c}/>"), format!("<a {c}='1'/>")] {
            let ours = Scan::new(&doc).is_ok();
            let theirs = expat.check(doc.as_bytes()).is_ok();
            assert!(!ours || theirs, "the library accepts {doc:?}, expat does not");
            if c.is_alphanumeric() && code > 0x7f && theirs {
                assert!(ours, "expat accepts {doc:?}, the library does not: regenerate src/xml_names.rs");
            }
            checked += 1;
        }
    }
    assert!(checked > 40_000);
}
