//! `Provisioner::run` against real servers on loopback: fallback,
//! authentication, server errors and the merge with a real local file.

mod common;

use common::{provision_xml, serve, serve_ok, DeadPort, Reply, ANSWER};
use provision::fetch::md5_hex;
use provision::{Provisioner, Status};
use std::fs;

const NO_AUTH: &str = "<use_authentication>0</use_authentication>";

fn provisioner(urls: &[String], options: &str, sections: &str) -> Provisioner {
    Provisioner::from_xml(&provision_xml(urls, options, sections)).expect("valid provision file")
}

fn auth_options(kind: &str, user: &str, password: &str) -> String {
    format!(
        "<use_authentication>1</use_authentication><user_input_authentication>0</user_input_authentication>\
         <authentication_type>{kind}</authentication_type><user>{user}</user><password>{password}</password>"
    )
}

#[test]
fn a_dead_first_url_falls_back_to_the_next() {
    let dead = DeadPort::new();
    let live = serve_ok(ANSWER);
    let second = live.url("/prov");
    let p = provisioner(&[dead.url(), second.clone()], NO_AUTH, "accounts");
    let outcome = p.run(None).unwrap();
    assert_eq!(outcome.source_url, second, "as written in the provision file");
    let requests = live.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].target, "/prov/configuration");
}

#[test]
fn every_kind_of_bad_answer_moves_on_to_the_next_url() {
    let bad_answers: Vec<(&str, Reply)> = vec![
        ("HTTP 500", Reply::xml(500, ANSWER)),
        ("HTTP 404", Reply::xml(404, "not here")),
        ("not well-formed", Reply::ok("<options><accounts></options>")),
        ("not well-formed", Reply::ok("")),
        ("none of the significant sections", Reply::ok("<html><body>Log in to the hotspot</body></html>")),
        ("server error", Reply::ok("<error>busy</error>")),
    ];
    for (reason, reply) in bad_answers {
        let reply = std::sync::Mutex::new(Some(reply));
        let bad = serve(move |_| reply.lock().unwrap().take().unwrap_or(Reply::ok("")));
        let good = serve_ok(ANSWER);
        let p = provisioner(&[bad.url("/"), good.url("/")], NO_AUTH, "accounts");
        let outcome = p.run(None).unwrap_or_else(|e| panic!("{reason}: {e}"));
        assert_eq!(outcome.source_url, good.url("/"), "{reason}");
        assert_eq!(bad.requests().len(), 1, "{reason}");
    }
}

#[test]
fn when_every_url_fails_the_message_names_each_one_and_why() {
    let dead = DeadPort::new();
    let broken = serve(|_| Reply::xml(500, "oops"));
    let p = provisioner(&[dead.url(), broken.url("/x/")], NO_AUTH, "accounts");
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH);
    let dead_url = format!("{}configuration", dead.url());
    assert!(err.message.contains(&dead_url), "{err}");
    assert!(err.message.contains(&format!("{}configuration: HTTP 500", broken.url("/x/"))), "{err}");
}

#[test]
fn an_error_answer_is_shown_exactly_whatever_the_http_status() {
    for status in [200, 401, 403] {
        let server =
            serve(move |_| Reply::xml(status, "<error code=\"1\">\n  Wrong username &amp; password\n</error>"));
        let p = provisioner(&[server.url("/")], NO_AUTH, "accounts");
        let err = p.run(None).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_SERVER, "HTTP {status}");
        assert_eq!(err.message, "Wrong username & password");
    }
}

#[test]
fn the_last_error_text_wins_and_dead_urls_do_not_hide_it() {
    let dead = DeadPort::new();
    let first = serve_ok("<error>first</error>");
    let second = serve_ok("<error>second</error>");
    let p = provisioner(&[first.url("/"), dead.url(), second.url("/")], NO_AUTH, "accounts");
    let err = p.run(None).unwrap_err();
    assert_eq!((err.status, err.message.as_str()), (Status::PROVISION_ERR_SERVER, "second"));
}

#[test]
fn without_authentication_nothing_is_sent() {
    let server = serve_ok(ANSWER);
    let options = "<use_authentication>0</use_authentication><user>alice</user><password>pw</password>";
    let p = provisioner(&[server.url("/?a=1")], options, "accounts");
    p.run(None).unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.target, "/configuration?a=1");
}

#[test]
fn basic_authentication_sends_utf8_credentials() {
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], &auth_options("basic", "alice", "pä ss:1"), "accounts");
    p.run(None).unwrap();
    // base64("alice:pä ss:1") of the UTF-8 bytes.
    assert_eq!(server.requests()[0].header("authorization"), Some("Basic YWxpY2U6cMOkIHNzOjE="));
}

#[test]
fn url_authentication_adds_user_and_md5_to_the_base_query() {
    let server = serve_ok(ANSWER);
    let p =
        provisioner(&[server.url("/p/?site=3&amp;x=%2B")], &auth_options("url", "a+b&amp;c d", "s3cret"), "accounts");
    p.run(None).unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.path(), "/p/configuration");
    assert_eq!(request.query().unwrap(), format!("site=3&x=%2B&user=a%2Bb%26c%20d&password={}", md5_hex("s3cret")));
    assert_eq!(request.header("authorization"), None);
}

#[test]
fn user_input_authentication_needs_credentials_before_any_request() {
    let server = serve_ok(ANSWER);
    let options = "<use_authentication>1</use_authentication><user_input_authentication>1</user_input_authentication>\
                   <user>preset</user><password>preset</password>";
    let p = provisioner(&[server.url("/")], options, "accounts");
    assert_eq!(p.run(None).unwrap_err().status, Status::PROVISION_ERR_CREDENTIALS);
    assert!(server.requests().is_empty());

    p.set_credentials("typed", "by user").unwrap();
    p.run(None).unwrap();
    // base64("typed:by user")
    assert_eq!(server.requests()[0].header("authorization"), Some("Basic dHlwZWQ6YnkgdXNlcg=="));
}

#[test]
fn set_credentials_override_the_files() {
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], &auth_options("url", "file-user", "file-pw"), "accounts");
    p.set_credentials("bob", "pw2").unwrap();
    p.run(None).unwrap();
    let query = server.requests()[0].query().unwrap().to_owned();
    assert_eq!(query, format!("user=bob&password={}", md5_hex("pw2")));
}

#[test]
fn the_merge_keeps_the_local_file_and_takes_provisioned_sections() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("Config.xml");
    let local_text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- written by the user -->\n<options version=\"3\">\n  \
                      <general><lang>en</lang></general>\n  <accounts><account><username>local</username></account></accounts>\n  \
                      <audio><volume>10</volume></audio>\n</options>\n";
    fs::write(&local, local_text).unwrap();
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], NO_AUTH, "accounts,codecs,diagnostics");
    let outcome = p.run(Some(&local)).unwrap();

    let expected = local_text
        .replace(
            "<accounts><account><username>local</username></account></accounts>",
            "<accounts><account><username>srv-user</username><host>sip.example.net</host></account></accounts>",
        )
        .replace("</audio>\n</options>", "</audio>\n  <codecs><codec id=\"8\" priority=\"1\"/></codecs>\n</options>");
    assert_eq!(outcome.config, expected);
    assert_eq!(outcome.provisioned, ["accounts", "codecs"], "diagnostics was not in the answer");
    assert_eq!(fs::read_to_string(&local).unwrap(), local_text, "run never writes the local file");
}

#[test]
fn without_a_local_file_the_result_is_the_answers_provisioned_sections() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], NO_AUTH, "codecs");
    let outcome = p.run(Some(&dir.path().join("absent.xml"))).unwrap();
    assert_eq!(
        outcome.config,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<options>\n  <codecs><codec id=\"8\" priority=\"1\"/></codecs>\n</options>\n"
    );
}

#[test]
fn a_bad_local_config_fails_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("Config.xml");
    fs::write(&local, "<options>\n  <general>\n</options>").unwrap();
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], NO_AUTH, "accounts");
    let err = p.run(Some(&local)).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
    assert!(err.message.contains("Config.xml") && err.message.contains("line 3"), "{err}");

    let err = p.run(Some(dir.path())).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_IO, "a folder is not a config: {err}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_failed_run_keeps_the_previous_outcome() {
    let flaky = std::sync::atomic::AtomicUsize::new(0);
    let server = serve(move |_| match flaky.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
        0 => Reply::ok(ANSWER),
        _ => Reply::xml(503, "down"),
    });
    let p = provisioner(&[server.url("/")], NO_AUTH, "accounts");
    let first = p.run(None).unwrap();
    assert_eq!(p.run(None).unwrap_err().status, Status::PROVISION_ERR_FETCH);
    assert_eq!(p.last(), Some(first));
}

#[test]
fn store_local_leaves_out_provisioned_sections_and_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("Config.xml");
    fs::write(&local, "<options>\n  <audio>mine</audio>\n</options>").unwrap();
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], NO_AUTH, "accounts,codecs");
    p.run(Some(&local)).unwrap();

    let stored = dir.path().join("new.xml");
    p.store_local(None, &stored).unwrap();
    assert_eq!(fs::read_to_string(&stored).unwrap(), "<options>\n  <audio>mine</audio>\n</options>");
    assert_eq!(fs::metadata(&stored).unwrap().permissions().mode() & 0o777, 0o600);

    // A config edited by the softphone: still no provisioned section stored.
    let edited = "<options>\n  <audio>louder</audio>\n  <accounts/>\n</options>";
    p.store_local(Some(edited), &local).unwrap();
    assert_eq!(fs::read_to_string(&local).unwrap(), "<options>\n  <audio>louder</audio>\n</options>");

    let err = p.store_local(Some("<options>"), &local).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
    assert_eq!(fs::read_to_string(&local).unwrap(), "<options>\n  <audio>louder</audio>\n</options>");
}

#[test]
fn redirects_are_followed_but_credentials_stay_with_their_origin() {
    let other = serve_ok(ANSWER);
    let target = other.url("/elsewhere/configuration");
    let same = serve(move |r| match r.path() {
        "/configuration" => Reply::redirect("/moved/configuration"),
        "/moved/configuration" => Reply::redirect(&target),
        _ => Reply::xml(404, ""),
    });
    let p = provisioner(&[same.url("/")], &auth_options("basic", "alice", "pw"), "accounts");
    p.run(None).unwrap();
    let hops = same.requests();
    assert_eq!(hops.len(), 2);
    assert!(hops.iter().all(|r| r.header("authorization").is_some()), "same origin keeps them");
    assert_eq!(other.requests()[0].header("authorization"), None, "another origin never gets them");
}

#[test]
fn a_redirect_loop_fails_that_url() {
    let looping = serve(|_| Reply::redirect("/configuration"));
    let good = serve_ok(ANSWER);
    let p = provisioner(&[looping.url("/"), good.url("/")], NO_AUTH, "accounts");
    assert_eq!(p.run(None).unwrap().source_url, good.url("/"));
    assert_eq!(looping.requests().len(), 1 + provision::fetch::MAX_REDIRECTS);
}

#[test]
fn no_message_ever_holds_the_password() {
    let password = "Tr0ub4dor&amp;3";
    let plain = "Tr0ub4dor&3";
    // A careless server that echoes what it received.
    let echo = serve(|r| Reply::xml(401, &format!("<error>denied for {}</error>", r.target.replace('&', "&amp;"))));
    let dead = DeadPort::new();
    for kind in ["url", "basic"] {
        let p = provisioner(&[dead.url(), echo.url("/")], &auth_options(kind, "alice", password), "accounts");
        let err = p.run(None).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_SERVER);
        for secret in [plain.to_owned(), md5_hex(plain)] {
            assert!(!err.message.contains(&secret), "{kind}: {err}");
        }
    }
    assert!(echo.requests()[0].target.contains(&md5_hex(plain)), "the server did get the digest");
}

#[test]
fn scrubbing_neither_garbles_messages_nor_reveals_short_passwords() {
    let server = serve_ok("<error>Wrong username or password</error>");
    let p = provisioner(&[server.url("/")], &auth_options("basic", "alice", "a"), "accounts");
    assert_eq!(p.run(None).unwrap_err().message, "Wrong username or password");

    // A password of 4 characters or more goes wherever it occurs (tests/leaks.rs).
    let p = provisioner(&[server.url("/")], &auth_options("basic", "alice", "word"), "accounts");
    assert_eq!(p.run(None).unwrap_err().message, "Wrong username or pass***");
}

#[test]
fn a_colon_in_a_basic_user_name_is_refused() {
    let p = provisioner(&["http://127.0.0.1/".into()], &auth_options("basic", "alice", "pw"), "accounts");
    assert_eq!(p.set_credentials("a:b", "x").unwrap_err().status, Status::PROVISION_ERR_ARGUMENT);
    let err =
        Provisioner::from_xml(&provision_xml(&["http://h/".into()], &auth_options("basic", "a:b", "pw"), "accounts"));
    assert_eq!(err.err().map(|e| e.status), Some(Status::PROVISION_ERR_FORMAT));
}
