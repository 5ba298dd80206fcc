//! Property tests of the byte-span merge over generated local configs and
//! answers: well-formed results, untouched local sections, the answer's
//! bytes for provisioned sections, and a stable store/merge cycle.

use proptest::prelude::*;
use provision::merge::{merge, strip, Doc};
use provision::xml::Scan;

const NAMES: &[&str] = &["general", "accounts", "codecs", "audio", "network", "fax"];

/// One section, `tag` marking whose copy it is (local or answer).
fn section(tag: String) -> impl Strategy<Value = String> {
    (prop::sample::select(NAMES), 0..5usize).prop_map(move |(name, shape)| match shape {
        0 => format!("<{name}/>"),
        1 => format!("<{name}>{tag}</{name}>"),
        2 => format!("<{name} id=\"{tag}\">\n    <item a='1'>x &amp; &#x263A; {tag}</item>\n  </{name}>"),
        3 => format!("<{name}><!-- {tag} --><![CDATA[<raw>]]><y/></{name}>"),
        _ => format!("<{name}>\r\n\t<deep><er><still>{tag}</still></er></deep></{name}>"),
    })
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "",
            "\n",
            "\n  ",
            "\n\t",
            "\r\n  ",
            " <!-- between -->\n  ",
            "\n\n    ",
            "\n  text\n  ",
            "a &amp; b",
            "\n x &#65; \n",
        ][..],
    )
}

/// A document: optional prolog, a root with sections, optional epilogue.
fn document(tag: &'static str) -> impl Strategy<Value = String> {
    let sections = prop::collection::vec((separator(), section(tag.to_owned())), 0..7);
    let prolog = prop::sample::select(&["", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", "<!-- mine -->\n"][..]);
    let root = prop::sample::select(&["options", "config"][..]);
    let attrs = prop::sample::select(&["", " version=\"3\"", " a='&lt;b&gt;'"][..]);
    let epilogue = prop::sample::select(&["", "\n", "\n<!-- end -->\n"][..]);
    (prolog, root, attrs, sections, separator(), epilogue).prop_map(
        |(prolog, root, attrs, sections, last, epilogue)| {
            if sections.is_empty() && last.is_empty() {
                return format!("{prolog}<{root}{attrs}/>{epilogue}");
            }
            let body: String = sections.iter().map(|(sep, s)| format!("{sep}{s}")).collect();
            format!("{prolog}<{root}{attrs}>{body}{last}</{root}>{epilogue}")
        },
    )
}

fn significant() -> impl Strategy<Value = Vec<String>> {
    prop::sample::subsequence(NAMES, 0..=NAMES.len()).prop_map(|v| v.iter().map(|s| s.to_string()).collect())
}

fn merged(local: Option<&str>, answer: &str, provisioned: &[String]) -> String {
    let answer_scan = Scan::new(answer).unwrap();
    let answer = Doc { text: answer, scan: &answer_scan };
    match local {
        Some(text) => {
            let scan = Scan::new(text).unwrap();
            merge(Some(Doc { text, scan: &scan }), answer, provisioned)
        }
        None => merge(None, answer, provisioned),
    }
}

/// What `store_local` writes: the config without the provisioned sections.
fn stored(config: &str, provisioned: &[String]) -> String {
    let scan = Scan::new(config).unwrap();
    strip(Doc { text: config, scan: &scan }, |n| provisioned.iter().any(|p| p == n))
}

/// The bytes of the sections of `text` that `keep` selects, in order.
fn spans(text: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let scan = Scan::new(text).unwrap();
    scan.sections.iter().filter(|s| keep(&s.name)).map(|s| text[s.span.clone()].to_owned()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn merge_properties(local in document("L"), answer in document("A"), significant in significant(), has_local in any::<bool>()) {
        let answer_scan = Scan::new(&answer).unwrap();
        let provisioned: Vec<String> = significant.into_iter().filter(|s| answer_scan.has_section(s)).collect();
        let is_provisioned = |n: &str| provisioned.iter().any(|p| p == n);
        let local = has_local.then_some(local.as_str());
        let m1 = merged(local, &answer, &provisioned);

        // Well-formed.
        prop_assert!(Scan::new(&m1).is_ok(), "not well-formed: {m1}");
        // Provisioned sections are the answer's bytes, all of them, in the answer's order per name.
        for name in &provisioned {
            prop_assert_eq!(spans(&m1, |n| n == name), spans(&answer, |n| n == name));
        }
        // Untouched local sections are byte-identical and in their order.
        if let Some(local) = local {
            prop_assert_eq!(spans(&m1, |n| !is_provisioned(n)), spans(local, |n| !is_provisioned(n)));
        } else {
            prop_assert_eq!(spans(&m1, |n| !is_provisioned(n)), Vec::<String>::new());
        }
        // Merging the result again changes nothing.
        prop_assert_eq!(merged(Some(&m1), &answer, &provisioned), m1.clone());

        // store_local, then merge again: the stored file is a fixed point, and
        // a local file that held no provisioned section gives the same result.
        let s1 = stored(&m1, &provisioned);
        let m2 = merged(Some(&s1), &answer, &provisioned);
        prop_assert_eq!(stored(&m2, &provisioned), s1.clone());
        prop_assert_eq!(merged(Some(&stored(&m2, &provisioned)), &answer, &provisioned), m2.clone());
        if let Some(local) = local {
            if spans(local, is_provisioned).is_empty() {
                prop_assert_eq!(&m2, &m1);
                // ...and store_local gives the local file back, except that an
                // empty root (`<options/>`) stays opened.
                if Scan::new(local).unwrap().root_end.is_some() {
                    prop_assert_eq!(&s1, local);
                }
            }
        }
    }
}
