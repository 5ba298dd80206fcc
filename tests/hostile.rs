//! Hostile documents: answers that try entity expansion, other encodings or
//! resource exhaustion fail their URL; a malformed local config or provision
//! file is refused and changes nothing.

mod common;

use common::{provision_xml, serve, serve_ok, Reply, ANSWER};
use provision::{Provisioner, Status};
use std::fs;

const NO_AUTH: &str = "<use_authentication>0</use_authentication>";

fn provisioner(urls: &[String]) -> Provisioner {
    Provisioner::from_xml(&provision_xml(urls, NO_AUTH, "accounts")).unwrap()
}

/// Hostile bodies, each with what the failure must say.
fn hostile_answers() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE options [\n <!ENTITY lol \"lol\">\n \
                  <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n\
                  <options><accounts>&lol2;</accounts></options>";
    let external =
        "<!DOCTYPE options [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><options><accounts>&xxe;</accounts></options>";
    let mut latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><options><accounts>J".to_vec();
    latin1.extend_from_slice(&[0xfc]); // 'ü' in Latin-1
    latin1.extend_from_slice(b"rgen</accounts></options>");
    let undeclared_latin1 = latin1.split_off(latin1.iter().position(|&b| b == b'>').unwrap() + 1);
    let deep = format!("<options><accounts>{}{}</accounts></options>", "<a>".repeat(5000), "</a>".repeat(5000));
    let huge = format!("<options><accounts v=\"{}\"/></options>", "x".repeat(100_000));
    vec![
        ("billion laughs", laughs.into(), "DOCTYPE"),
        ("external entity", external.into(), "DOCTYPE"),
        ("undeclared entity", b"<options><accounts>&xxe;</accounts></options>".to_vec(), "unknown entity &xxe;"),
        ("entity in an attribute", b"<options><accounts a=\"&xxe;\"/></options>".to_vec(), "attribute value"),
        ("declared Latin-1", latin1, "ISO-8859-1"),
        ("undeclared Latin-1", undeclared_latin1, "not valid UTF-8"),
        ("UTF-16", "\u{feff}<options/>".encode_utf16().flat_map(u16::to_le_bytes).collect(), "UTF-16"),
        ("NUL", b"<options><accounts>\0</accounts></options>".to_vec(), "NUL"),
        ("deep nesting", deep.into(), "nested deeper"),
        ("huge attribute", huge.into(), "start tag longer"),
    ]
}

#[test]
fn hostile_answers_fail_their_url_and_say_why() {
    let good = serve_ok(ANSWER);
    for (name, body, reason) in hostile_answers() {
        let hostile = serve(move |_| Reply::Http {
            status: 200,
            headers: vec![("Content-Type".into(), "application/xml".into())],
            body: body.clone(),
        });
        let outcome = provisioner(&[hostile.url("/"), good.url("/")]).run(None).unwrap();
        assert_eq!(outcome.source_url, good.url("/"), "{name}");
        assert!(!outcome.config.contains("lol") && !outcome.config.contains("rgen"), "{name}");

        let err = provisioner(&[hostile.url("/")]).run(None).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_FETCH, "{name}");
        assert!(err.message.contains(reason), "{name}: {err}");
    }
}

#[test]
fn a_malformed_local_config_changes_nothing_and_stores_nothing() {
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")]);
    let before = p.run(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("Config.xml");
    let malformed: Vec<(&str, Vec<u8>)> = vec![
        ("unclosed", b"<options>\n  <audio>\n</options>".to_vec()),
        ("two roots", b"<options/><options/>".to_vec()),
        ("DOCTYPE", b"<!DOCTYPE o [<!ENTITY a \"b\">]><options>&a;</options>".to_vec()),
        ("Latin-1", b"<?xml version=\"1.0\" encoding=\"latin1\"?><options/>".to_vec()),
        ("invalid UTF-8", b"<options>\xff</options>".to_vec()),
        ("empty", Vec::new()),
    ];
    for (name, bytes) in malformed {
        fs::write(&local, &bytes).unwrap();
        let err = p.run(Some(&local)).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{name}: {err}");
        assert!(err.message.contains("Config.xml"), "{name}: {err}");
        assert_eq!(p.last(), Some(before.clone()), "{name}: the last outcome stays");
        assert_eq!(fs::read(&local).unwrap(), bytes, "{name}: the file is untouched");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "{name}: nothing else was written");
    }
    assert_eq!(server.requests().len(), 1, "no request for a run that could not merge");
}

#[test]
fn a_hostile_provision_file_is_refused() {
    let base = provision_xml(&["http://127.0.0.1/".into()], NO_AUTH, "accounts");
    let cases = [
        base.replace("<provision>", "<!DOCTYPE p [<!ENTITY u \"http://evil/\">]><provision>"),
        base.replace("http://127.0.0.1/", "&u;"),
        base.replace("<options>", &format!("<options>{}{}", "<x>".repeat(200), "</x>".repeat(200))),
    ];
    for text in cases {
        let err = Provisioner::from_xml(&text).err().expect("refused");
        assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{err}");
    }
}

#[test]
fn a_local_config_with_a_byte_order_mark_merges_cleanly() {
    // Found by fuzzing: spans after a BOM were 3 bytes short, which would
    // have cut the user's file in the wrong places.
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("Config.xml");
    let text = "\u{feff}<options>\n  <accounts>old</accounts>\n  <audio>mine</audio>\n</options>\n";
    fs::write(&local, text).unwrap();
    let server = serve_ok(&format!("\u{feff}{ANSWER}"));
    let outcome = provisioner(&[server.url("/")]).run(Some(&local)).unwrap();
    let accounts = "<accounts><account><username>srv-user</username><host>sip.example.net</host></account></accounts>";
    assert_eq!(outcome.config, text.replace("<accounts>old</accounts>", accounts));
}

#[test]
fn an_endless_or_oversized_file_is_refused_by_its_size() {
    // /dev/zero never ends: read whole, it would take the host's memory.
    let endless = std::path::Path::new("/dev/zero");
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")]);
    let err = p.run(Some(endless)).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{err}");
    assert_eq!(err.message, "/dev/zero: the local config is larger than 64 MiB");
    assert!(server.requests().is_empty(), "no request for a run that could not merge");

    let err = Provisioner::load(endless).err().expect("refused");
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{err}");
    assert_eq!(err.message, "/dev/zero: the provision file is larger than 4 MiB");

    let err = p.set_ca_file(Some(endless)).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{err}");
    assert_eq!(err.message, "/dev/zero: the CA file is larger than 4 MiB");

    // A regular file one byte over the bound (sparse: no disk used).
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("provision.conf");
    fs::File::create(&big).unwrap().set_len(4 * 1024 * 1024 + 1).unwrap();
    let err = Provisioner::load(&big).err().expect("refused");
    assert!(err.message.ends_with("provision.conf: the provision file is larger than 4 MiB"), "{err}");
}

/// Issue 10, section 4: what XML 1.0 forbids, each as an answer, a local
/// config and a provision file, with the words and line of the refusal.
fn not_xml_1_0() -> Vec<(&'static str, String, &'static str)> {
    let doc = |inside: &str| format!("<options>\n  <accounts>{inside}</accounts>\n</options>\n");
    vec![
        ("-- in a comment", doc("<!-- a -- b -->"), "'--'"),
        ("]]> in text", doc("x ]]> y"), "']]>'"),
        ("raw U+0001", doc("\u{1}"), "U+0001"),
        ("U+FFFE", doc("\u{FFFE}"), "U+FFFE"),
        ("&#x1;", doc("&#x1;"), "&#x1;"),
        ("a late XML declaration", doc("<?xml version=\"1.0\"?>"), "declaration"),
        ("attributes without a blank", doc("<a b='1'c='2'/>"), "separated by whitespace"),
        ("U+00D7 in a name", doc("<a\u{D7}/>"), "not an XML name"),
    ]
}

#[test]
fn what_xml_1_0_forbids_fails_its_url_and_is_refused_in_a_local_config() {
    let server = serve_ok(ANSWER);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("Config.xml");
    for (name, text, says) in not_xml_1_0() {
        let body = text.clone().into_bytes();
        let hostile = serve(move |_| Reply::Http { status: 200, headers: vec![], body: body.clone() });
        let err = provisioner(&[hostile.url("/")]).run(None).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_FETCH, "{name}");
        assert!(err.message.contains(says) && err.message.contains("line 2"), "{name}: {err}");

        fs::write(&local, &text).unwrap();
        let err = provisioner(&[server.url("/")]).run(Some(&local)).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{name}");
        assert!(err.message.contains("Config.xml: line 2") && err.message.contains(says), "{name}: {err}");
    }
    let file = provision_xml(&["http://127.0.0.1/".into()], "<user>a&#x1;</user>", "accounts");
    let err = Provisioner::from_xml(&file).err().expect("refused");
    assert!(err.message.contains("&#x1;"), "{err}");
}

#[test]
fn without_a_local_config_only_the_root_name_and_the_sections_reach_the_users_file() {
    // The reproduction: a stylesheet instruction, a namespace and an admin
    // attribute on the root, comments and text around the sections.
    let answer = "<?xml version=\"1.0\"?>\n<?xml-stylesheet href=\"http://evil/x.xsl\"?>\n<!-- hi -->\n\
                  <options xmlns=\"urn:evil\" admin=\"1\">\n  <accounts><a>srv</a></accounts>\n  text\n  \
                  <audio>not significant</audio><?pi?>\n</options>\n<!-- bye -->\n";
    let server = serve_ok(answer);
    let dir = tempfile::tempdir().unwrap();
    let (local, cache) = (dir.path().join("Config.xml"), dir.path().join("cache.xml"));
    let p = provisioner(&[server.url("/")]);
    p.set_cache(Some(&cache));
    let fixed =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<options>\n  <accounts><a>srv</a></accounts>\n</options>\n";
    assert_eq!(p.run(Some(&local)).unwrap().config, fixed);
    assert_eq!(fs::read_to_string(&cache).unwrap(), fixed, "the cache holds no more than the merge");
    p.store_local(None, &local).unwrap();
    let stored = fs::read_to_string(&local).unwrap();
    assert_eq!(stored, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<options>\n</options>\n");
    // The next run merges into what was stored, and stays as clean.
    let again = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<options>\n<accounts><a>srv</a></accounts>\n</options>\n";
    assert_eq!(p.run(Some(&local)).unwrap().config, again);
}

#[test]
fn provision_save_writes_only_xml_1_0() {
    // C1 controls and DEL are XML characters: saved as references, read back.
    let file = provision_xml(
        &["http://127.0.0.1/".into()],
        "<use_authentication>1</use_authentication><user>u&#x85;</user><password>p&#x7F;&#13;w]]&gt;</password>",
        "accounts",
    );
    let p = Provisioner::from_xml(&file).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("provision.conf");
    p.save(&saved).unwrap();
    let text = fs::read_to_string(&saved).unwrap();
    assert!(provision::xml::Scan::new(&text).is_ok(), "{text}");
    let back = Provisioner::load(&saved).unwrap().settings();
    assert_eq!((back.user.as_str(), back.password.as_str()), ("u\u{85}", "p\u{7F}\rw]]>"));
}

#[test]
fn a_local_config_with_many_copies_of_a_provisioned_section_merges() {
    // Issue 10, section 5: 40 000 copies took 3.9 s (quadratic). The time is
    // for `make bench`; here the result must be right and whole.
    let server = serve_ok(ANSWER);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("Config.xml");
    let copies = 40_000;
    fs::write(&local, format!("<options>{}\n</options>", "\n  <accounts>mine</accounts>".repeat(copies))).unwrap();
    let outcome = provisioner(&[server.url("/")]).run(Some(&local)).unwrap();
    let config = &outcome.config;
    assert!(config.starts_with("<options>\n  <accounts><account><username>srv-user"), "{}", &config[..80]);
    assert!(!config.contains("mine"), "every extra local copy goes");
}
