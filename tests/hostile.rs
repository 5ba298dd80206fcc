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
