//! Issue 10, section 2: passwords leave only where they are meant to. A base
//! URL with credentials is refused; a server that echoes the password inside
//! a longer word, its MD5 or the Basic token finds none of them in the
//! messages or log records; secret query parameters show as `***`.

mod common;

use common::{provision_xml, serve, DeadPort, Reply, ANSWER};
use provision::fetch::md5_hex;
use provision::{LogRecord, Provisioner, Status};
use std::sync::{Arc, Mutex};

const NO_AUTH: &str = "<use_authentication>0</use_authentication>";

fn auth_options(kind: &str, user: &str, password: &str) -> String {
    format!(
        "<use_authentication>1</use_authentication><authentication_type>{kind}</authentication_type>\
         <user>{user}</user><password>{password}</password>"
    )
}

/// Every record (attempts and notices) the provisioner reports.
fn logged(p: &Provisioner) -> Arc<Mutex<Vec<LogRecord>>> {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    p.set_logger(Some(Arc::new(move |r: &LogRecord| sink.lock().unwrap().push(r.clone()))));
    heard
}

/// Neither `S3cret` (bob's password in these tests), its MD5 in either case
/// nor the Basic token, padded or not, is in `all`.
fn assert_no_trace_of_s3cret(all: &str, kind: &str) {
    for secret in ["S3cret".to_owned(), md5_hex("S3cret"), md5_hex("S3cret").to_uppercase(), "Ym9iOlMzY3JldA".into()] {
        assert!(!all.contains(&secret), "{kind}: {secret} in {all}");
    }
}

/// Everything a host could show: the error message and every log record.
fn shown(err: Option<&provision::Error>, heard: &Mutex<Vec<LogRecord>>) -> String {
    let mut all = err.map(|e| e.message.clone()).unwrap_or_default();
    for r in heard.lock().unwrap().iter() {
        all.push_str(&format!("\n{} {}", r.url.as_deref().unwrap_or("notice"), r.message));
    }
    all
}

#[test]
fn a_base_url_with_credentials_is_refused_when_the_provision_file_is_read() {
    for url in ["http://bob:pw-in-url@127.0.0.1:9/", "http://bob@127.0.0.1:9/", "https://:pw-in-url@127.0.0.1/"] {
        let text = provision_xml(&[url.to_owned()], NO_AUTH, "accounts");
        let err = Provisioner::from_xml(&text).err().expect("refused");
        assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{url}: {err}");
        assert!(err.message.contains("<user>") && err.message.contains("<password>"), "{err}");
        assert!(err.message.contains("line 2") && err.message.contains("<base_url>"), "{err}");
        assert!(!err.message.contains("pw-in-url"), "{err}");
    }
}

#[test]
fn a_base_url_with_credentials_in_a_provision_section_is_refused_and_sends_nothing() {
    let elsewhere = serve(|_| Reply::ok(ANSWER));
    let host = elsewhere.url("/").replace("http://", "http://bob:pw-in-url@");
    let section = provision_xml(&[host], NO_AUTH, "accounts,provision");
    let answer = ANSWER.replace("</options>", &format!("{}</options>", section.trim()));
    let server = serve(move |_| Reply::ok(&answer));
    let p = Provisioner::from_xml(&provision_xml(&[server.url("/")], NO_AUTH, "accounts,provision")).unwrap();
    let heard = logged(&p);
    let before = p.settings();
    p.run(None).expect("a refused section does not fail the run");
    assert_eq!(p.settings(), before, "not adopted");
    p.run(None).unwrap();
    assert_eq!(server.requests().len(), 2, "both runs asked the first server");
    assert!(elsewhere.requests().is_empty(), "nothing, and no Authorization, went to the URL with userinfo");
    let notices: Vec<_> = heard.lock().unwrap().iter().filter(|r| r.url.is_none()).cloned().collect();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert_eq!(notices[0].status, Status::PROVISION_ERR_FORMAT);
    assert!(notices[0].message.contains("<password>") && !notices[0].message.contains("pw-in-url"), "{notices:?}");
}

#[test]
fn a_password_echoed_inside_a_word_as_md5_or_as_basic_token_is_scrubbed() {
    let password = "S3cret";
    for kind in ["basic", "url"] {
        // The server echoes what it got (header and query) and the password glued to other text.
        let server = serve(move |r| {
            let echo = format!(
                "bad login xS3cret-pwy for {} {} {}",
                r.target,
                r.header("authorization").unwrap_or_default(),
                md5_hex("S3cret").to_uppercase()
            );
            Reply::xml(403, &format!("<error>{}</error>", echo.replace('&', "&amp;")))
        });
        let dead = DeadPort::new();
        let p = Provisioner::from_xml(&provision_xml(
            &[server.url("/"), dead.url()],
            &auth_options(kind, "bob", password),
            "accounts",
        ))
        .unwrap();
        let heard = logged(&p);
        let err = p.run(None).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_SERVER, "{kind}: {err}");
        assert!(err.message.contains("bad login x***-pwy"), "{kind}: {err}");
        assert_no_trace_of_s3cret(&shown(Some(&err), &heard), kind);
    }
}

#[test]
fn secret_query_parameters_are_shown_as_stars_in_messages_log_records_and_the_outcome() {
    let server = serve(|r| {
        let target = r.target.replace('&', "&amp;");
        match r.query().is_some_and(|q| q.contains("fail")) {
            true => Reply::xml(500, &format!("<error>no such thing: {target}</error>")),
            false => Reply::ok(ANSWER),
        }
    });
    let dead = DeadPort::new();
    let failing = server.url("/a/?username=u&password=verysecret&mode=fail&sip_pwd=pw2long");
    let dead_url = format!("{}?api_key=k3y-value", dead.url());
    let serving = server.url("/b/?username=u&Password=verysecret&token=t0ken-value&site=7");
    let p = Provisioner::from_xml(&provision_xml(
        &[dead_url, failing, serving].map(|u| u.replace('&', "&amp;")),
        NO_AUTH,
        "accounts",
    ))
    .unwrap();
    let heard = logged(&p);
    let outcome = p.run(None).unwrap();
    assert_eq!(outcome.source_url, server.url("/b/?username=u&Password=***&token=***&site=7"));
    let urls: Vec<String> = heard.lock().unwrap().iter().filter_map(|r| r.url.clone()).collect();
    assert_eq!(
        urls,
        [
            format!("{}configuration?api_key=***", dead.url()),
            server.url("/a/configuration?username=u&password=***&mode=fail&sip_pwd=***"),
            server.url("/b/configuration?username=u&Password=***&token=***&site=7"),
        ]
    );
    let all = shown(None, &heard);
    assert!(all.contains("no such thing: /a/configuration?username=u&password=***"), "{all}");
    for secret in ["verysecret", "pw2long", "k3y-value", "t0ken-value"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
    // The same URLs in the message of a failed run.
    let p = Provisioner::from_xml(&provision_xml(
        &[server.url("/a/?password=verysecret&amp;mode=fail")],
        NO_AUTH,
        "accounts",
    ))
    .unwrap();
    let err = p.run(None).unwrap_err();
    assert!(!err.message.contains("verysecret"), "{err}");
}

#[test]
fn a_malformed_base_url_is_named_without_its_secrets() {
    let text = provision_xml(&["http://[::1/?password=verysecret".into()], NO_AUTH, "accounts");
    let err = Provisioner::from_xml(&text).err().expect("refused");
    assert!(err.message.contains("password=***") && !err.message.contains("verysecret"), "{err}");
    // A password holding '/', '?' or '#' written raw into userinfo: the
    // parser takes the first of them as the end of the authority and fails
    // on a "port", so the URL is shown whole in the message that refuses it.
    for url in
        ["http://bob:pw/verysecret@127.0.0.1/", "http://bob:pw?verysecret@127.0.0.1/", "http://bob:pw#verysecret@h/"]
    {
        let err = Provisioner::from_xml(&provision_xml(&[url.into()], NO_AUTH, "accounts")).err().expect("refused");
        assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{err}");
        assert!(err.message.contains("'http://bob:***@") && !err.message.contains("verysecret"), "{url}: {err}");
    }
}

#[test]
fn a_password_echoed_in_a_provision_section_is_scrubbed_from_the_refusal_notice() {
    // The `<provision>` section is text from outside too: the notice that
    // refuses it quotes what the server wrote (a bad refresh_rate, a bad
    // authentication_type, a plain-http URL), echoed request and all.
    let password = "S3cret";
    for (kind, bad) in [
        ("basic", "<refresh_rate>xS3cret-pwy {auth}</refresh_rate>"),
        ("url", "<authentication_type>{target}</authentication_type>"),
    ] {
        let server = serve(move |r| {
            let echo = bad
                .replace("{auth}", r.header("authorization").unwrap_or_default())
                .replace("{target}", &format!("{} {}", r.target, md5_hex("S3cret").to_uppercase()));
            let options = format!("<use_authentication>1</use_authentication>{echo}");
            let section = provision_xml(&["http://127.0.0.1:9/".into()], &options, "accounts,provision");
            Reply::ok(&ANSWER.replace("</options>\n", &format!("{}</options>\n", section.trim().replace('&', "&amp;"))))
        });
        let p = Provisioner::from_xml(&provision_xml(
            &[server.url("/")],
            &auth_options(kind, "bob", password),
            "accounts,provision",
        ))
        .unwrap();
        let heard = logged(&p);
        p.run(None).expect("a refused section does not fail the run");
        let all = shown(None, &heard);
        assert!(all.contains("current settings stay"), "{kind}: {all}");
        assert_no_trace_of_s3cret(&all, kind);
    }
}

#[test]
fn a_basic_token_echoed_without_its_padding_or_percent_encoded_is_scrubbed() {
    // "Ym9iOlMzY3JldA" decodes to bob:S3cret as well as the padded token
    // does; a server that reflects headers into a URL writes `%3D%3D`.
    let server = serve(move |r| {
        let token = r.header("authorization").unwrap_or_default().trim_start_matches("Basic ").to_owned();
        let echo = format!("denied ?auth={} raw={}", token.replace('=', "%3D"), token.trim_end_matches('='));
        Reply::xml(403, &format!("<error>{echo}</error>"))
    });
    let p =
        Provisioner::from_xml(&provision_xml(&[server.url("/")], &auth_options("basic", "bob", "S3cret"), "accounts"))
            .unwrap();
    let heard = logged(&p);
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_SERVER, "{err}");
    assert!(err.message.contains("denied ?auth=***"), "{err}");
    assert_no_trace_of_s3cret(&shown(Some(&err), &heard), "basic");
}

#[test]
fn a_query_secret_echoed_form_decoded_is_scrubbed() {
    // A form decoder (PHP's $_GET, Python's parse_qs) reads '+' as a space:
    // the server knows `?password=very+secret%21` as "very secret!".
    let server = serve(|_| Reply::xml(403, "<error>wrong password 'very secret!' for u</error>"));
    let url = server.url("/?username=u&amp;password=very+secret%21");
    let p = Provisioner::from_xml(&provision_xml(&[url], NO_AUTH, "accounts")).unwrap();
    let heard = logged(&p);
    let err = p.run(None).unwrap_err();
    assert!(err.message.contains("wrong password '***' for u"), "{err}");
    let all = shown(Some(&err), &heard);
    assert!(!all.contains("very secret") && !all.contains("very+secret"), "{all}");
}
