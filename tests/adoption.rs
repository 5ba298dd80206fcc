//! Issue 10, section 1: a `<provision>` section never downgrades the handle.
//! Each refusal leaves the settings as they were, is a logger notice, and
//! does not fail the run (its config still merges); the server the section
//! pointed at never hears from the client.

mod common;

use common::tls::{serve_tls, Ca};
use common::{provision_xml, serve, serve_ok, DeadPort, Reply, Server, ANSWER};
use provision::{LogRecord, Provisioner, Settings, Status};
use std::sync::{Arc, Mutex};

const SECTIONS: &str = "accounts,provision";
const PASSWORD: &str = "digest-Pa55 wörd";

fn options(use_auth: bool, kind: &str) -> String {
    format!(
        "<use_authentication>{}</use_authentication><authentication_type>{kind}</authentication_type>\
         <user>alice</user><password>{PASSWORD}</password>",
        u8::from(use_auth)
    )
}

/// ANSWER with a `<provision>` section moving to `urls` with `options`.
fn moving_answer(urls: &[String], options: &str) -> String {
    let section = provision_xml(urls, options, SECTIONS);
    ANSWER.replace("</options>\n", &format!("  {}</options>\n", section.trim().replace('&', "&amp;")))
}

/// Every notice the provisioner reports.
fn notices(p: &Provisioner) -> Arc<Mutex<Vec<LogRecord>>> {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    p.set_logger(Some(Arc::new(move |r: &LogRecord| {
        if r.url.is_none() {
            sink.lock().unwrap().push(r.clone())
        }
    })));
    heard
}

/// A CA for the test, its PEM file, and an HTTPS server it signed.
struct Https {
    _dir: tempfile::TempDir,
    pem: std::path::PathBuf,
    ca: Ca,
}

impl Https {
    fn new() -> Https {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("operator CA");
        let pem = dir.path().join("ca.pem");
        ca.write_pem(&pem);
        Https { _dir: dir, pem, ca }
    }

    fn serve(&self, respond: impl Fn(&common::Request) -> Reply + Send + Sync + 'static) -> Server {
        serve_tls(self.ca.server_config(&["127.0.0.1"]), respond)
    }
}

/// Runs `p` twice and checks the refusal: the settings stay, both runs
/// succeed from `first` with the answer merged, `target` gets nothing, and
/// one notice per run says why (`why` in its message, no password).
fn assert_refused(p: &Provisioner, first: &Server, target: &Server, why: &str) {
    assert_refused_after(p, first, 1, target, why)
}

/// As `assert_refused`, for a first server asked `per_run` times a run (a Digest challenge first).
fn assert_refused_after(p: &Provisioner, first: &Server, per_run: usize, target: &Server, why: &str) {
    let heard = notices(p);
    let before = p.settings();
    for run in 1..=2 {
        let outcome = p.run(None).unwrap_or_else(|e| panic!("run {run}: a refused section fails nothing: {e}"));
        assert!(outcome.config.contains("srv-user"), "the config still merges");
        assert_eq!(p.settings(), before, "run {run}: the settings stay");
    }
    assert_eq!(first.requests().len(), 2 * per_run, "both runs asked the first server");
    assert!(target.requests().is_empty(), "the section's server never hears from us");
    let heard = heard.lock().unwrap();
    assert_eq!(heard.len(), 2, "{heard:?}");
    assert_eq!(heard[0].status, Status::PROVISION_ERR_FORMAT);
    assert!(heard[0].message.contains("is not adopted") && heard[0].message.contains(why), "{heard:?}");
    assert!(!heard[0].message.contains(PASSWORD), "{heard:?}");

    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("provision.conf");
    p.save(&saved).unwrap();
    assert_eq!(Settings::load(&saved).unwrap(), *before, "provision_save keeps the old settings");
}

#[test]
fn an_https_digest_handle_is_not_moved_to_plain_http_basic() {
    // The report's reproduction: the next run sent Basic with the password in clear.
    let plain = serve_ok(ANSWER);
    let answer = moving_answer(&[plain.url("/")], &options(true, "basic"));
    let https = Https::new();
    let first = https.serve(move |r| match r.header("authorization") {
        Some(a) if a.starts_with("Digest ") => Reply::ok(&answer),
        _ => Reply::Http {
            status: 401,
            headers: vec![(
                "WWW-Authenticate".into(),
                "Digest realm=\"prov\", qop=\"auth\", algorithm=SHA-256, nonce=\"n1\"".into(),
            )],
            body: Vec::new(),
        },
    });
    let p = Provisioner::from_xml(&provision_xml(&[first.url("/")], &options(true, "digest"), SECTIONS)).unwrap();
    p.set_ca_file(Some(&https.pem)).unwrap();
    let heard = notices(&p);
    p.run(None).unwrap();
    assert_eq!(p.settings().base_urls, [first.url("/")]);
    assert!(plain.requests().is_empty());
    assert!(first.requests().iter().all(|r| !r.header("authorization").unwrap_or_default().starts_with("Basic")));
    let heard = heard.lock().unwrap();
    assert!(heard[0].message.contains("is not https"), "{heard:?}");
}

#[test]
fn the_transport_never_goes_from_https_to_http() {
    let https = Https::new();
    let plain = serve_ok(ANSWER);
    let other_https = https.serve(|_| Reply::ok(ANSWER));
    // Same authentication, one new URL of two on plain http.
    let answer = moving_answer(&[other_https.url("/"), plain.url("/")], &options(false, "basic"));
    let first = https.serve(move |_| Reply::ok(&answer));
    let dead = DeadPort::new();
    let p = Provisioner::from_xml(&provision_xml(&[dead.url(), first.url("/")], &options(false, "basic"), SECTIONS))
        .unwrap();
    p.set_ca_file(Some(&https.pem)).unwrap();
    assert_refused(&p, &first, &plain, &format!("'{}' is not https", plain.url("/")));
    assert!(other_https.requests().is_empty());
}

#[test]
fn authentication_never_weakens() {
    // digest > basic > url > none: each step down is refused, on https so
    // that the transport rule is not what refuses it.
    let https = Https::new();
    let cases = [
        ((true, "digest"), (true, "basic"), "from 'digest' to 'basic'"),
        ((true, "digest"), (true, "url"), "from 'digest' to 'url'"),
        ((true, "basic"), (true, "url"), "from 'basic' to 'url'"),
        ((true, "digest"), (false, "digest"), "from 'digest' to none"),
        ((true, "url"), (false, "basic"), "from 'url' to none"),
    ];
    for ((was_on, was), (now_on, now), why) in cases {
        let target = https.serve(|_| Reply::ok(ANSWER));
        let answer = moving_answer(&[target.url("/")], &options(now_on, now));
        let first = https.serve(move |r| match (was, r.header("authorization")) {
            ("digest", None) => Reply::Http {
                status: 401,
                headers: vec![("WWW-Authenticate".into(), "Digest realm=\"p\", qop=\"auth\", nonce=\"n\"".into())],
                body: Vec::new(),
            },
            _ => Reply::ok(&answer),
        });
        let p = Provisioner::from_xml(&provision_xml(&[first.url("/")], &options(was_on, was), SECTIONS)).unwrap();
        p.set_ca_file(Some(&https.pem)).unwrap();
        assert_refused_after(&p, &first, if was == "digest" { 2 } else { 1 }, &target, why);
    }
}

#[test]
fn a_move_that_keeps_or_strengthens_is_adopted() {
    let https = Https::new();
    let cases = [
        // Plain http may move to https; none may turn authentication on; equal stays equal.
        ((false, "basic"), (true, "url"), false),
        ((true, "url"), (true, "digest"), true),
        ((true, "basic"), (true, "basic"), true),
    ];
    for ((was_on, was), (now_on, now), to_https) in cases {
        let target = match to_https {
            true => https.serve(|_| Reply::ok(ANSWER)),
            false => serve_ok(ANSWER),
        };
        let answer = moving_answer(&[target.url("/")], &options(now_on, now));
        let first = serve_ok(&answer);
        let p = Provisioner::from_xml(&provision_xml(&[first.url("/")], &options(was_on, was), SECTIONS)).unwrap();
        p.run(None).unwrap();
        assert_eq!(p.settings().base_urls, [target.url("/")], "{was} -> {now}");
    }
}

#[test]
fn an_answer_that_came_through_a_redirect_to_another_origin_is_not_adopted() {
    let target = serve_ok(ANSWER);
    let answer = moving_answer(&[target.url("/")], &options(true, "basic"));
    let elsewhere = serve_ok(&answer);
    let to = elsewhere.url("/x/configuration");
    let first = serve(move |_| Reply::redirect(&to));
    let p = Provisioner::from_xml(&provision_xml(&[first.url("/")], &options(true, "basic"), SECTIONS)).unwrap();
    assert_refused(&p, &first, &target, &format!("redirect to another origin ({})", elsewhere.url("")));
    assert!(
        elsewhere.requests().iter().all(|r| r.header("authorization").is_none()),
        "the other origin got no credentials"
    );

    // A redirect within the same origin is no reason to refuse.
    let same = serve(move |r| match r.path() {
        "/configuration" => Reply::redirect("/moved/configuration"),
        _ => Reply::ok(&answer),
    });
    let p = Provisioner::from_xml(&provision_xml(&[same.url("/")], &options(true, "basic"), SECTIONS)).unwrap();
    p.run(None).unwrap();
    assert_eq!(p.settings().base_urls, [target.url("/")]);
}

#[test]
fn a_provision_section_in_the_cache_is_never_adopted() {
    // Whoever can write the cache file must not be able to move the client.
    let target = serve_ok(ANSWER);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.xml");
    std::fs::write(&cache, moving_answer(&[target.url("/")], &options(true, "basic"))).unwrap();
    let dead = DeadPort::new();
    let p = Provisioner::from_xml(&provision_xml(&[dead.url()], &options(true, "basic"), SECTIONS)).unwrap();
    p.set_cache(Some(&cache));
    let heard = notices(&p);
    let before = p.settings();
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_CACHED, "{err}");
    assert!(p.last().unwrap().config.contains("srv-user"), "the cache still serves");
    assert_eq!(p.settings(), before);
    assert_eq!(p.run(None).unwrap_err().status, Status::PROVISION_CACHED);
    assert!(target.requests().is_empty());
    let heard = heard.lock().unwrap();
    assert!(heard.iter().any(|n| n.message.contains("cached <provision> section is not adopted")), "{heard:?}");
}

#[test]
fn at_most_16_base_urls_in_a_provision_file_or_section() {
    let urls = |n: usize| (0..n).map(|i| format!("http://127.0.0.1:{}/", 1000 + i)).collect::<Vec<_>>();
    assert!(Provisioner::from_xml(&provision_xml(&urls(16), &options(false, "basic"), SECTIONS)).is_ok());
    let err = Provisioner::from_xml(&provision_xml(&urls(17), &options(false, "basic"), SECTIONS)).err().unwrap();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
    assert!(err.message.contains("more than 16 base URLs") && err.message.contains("<base_url>"), "{err}");

    let never = serve_ok(ANSWER);
    let mut many = urls(16);
    many.push(never.url("/"));
    let first = serve_ok(&moving_answer(&many, &options(false, "basic")));
    let p = Provisioner::from_xml(&provision_xml(&[first.url("/")], &options(false, "basic"), SECTIONS)).unwrap();
    let heard = notices(&p);
    let before = p.settings();
    p.run(None).unwrap();
    assert_eq!(p.settings(), before);
    assert!(never.requests().is_empty());
    assert!(heard.lock().unwrap()[0].message.contains("more than 16 base URLs"));
}

#[test]
fn an_answer_that_left_the_origin_and_came_back_is_not_adopted() {
    // first -> elsewhere -> first again: the last hop is on the URL's own
    // origin, but the other origin chose where it led (and what it asks).
    let target = serve_ok(ANSWER);
    let answer = moving_answer(&[target.url("/")], &options(true, "basic"));
    let first_url = Arc::new(Mutex::new(String::new()));
    let back = first_url.clone();
    let elsewhere = serve(move |_| Reply::redirect(&format!("{}chosen/configuration", back.lock().unwrap())));
    let to = elsewhere.url("/x/configuration");
    let first = serve(move |r| match r.path() {
        "/configuration" => Reply::redirect(&to),
        _ => Reply::ok(&answer),
    });
    *first_url.lock().unwrap() = first.url("/");
    let p = Provisioner::from_xml(&provision_xml(&[first.url("/")], &options(true, "basic"), SECTIONS)).unwrap();
    assert_refused_after(&p, &first, 2, &target, &format!("redirect to another origin ({})", elsewhere.url("")));
    assert!(first.requests().iter().any(|r| r.path() == "/chosen/configuration"), "the answer came from the origin");
}
