//! The attempt log and the User-Agent, against real servers on loopback.

mod common;

use common::{provision_xml, serve, serve_ok, DeadPort, Reply, ANSWER};
use provision::fetch::{md5_hex, DEFAULT_USER_AGENT};
use provision::{LogKind, LogRecord as Attempt, Provisioner, Status};
use std::sync::{Arc, Mutex};

const NO_AUTH: &str = "<use_authentication>0</use_authentication>";

fn provisioner(urls: &[String], options: &str) -> Provisioner {
    Provisioner::from_xml(&provision_xml(urls, options, "accounts")).expect("valid provision file")
}

/// A provisioner whose attempts land in the returned list.
fn logged(p: &Provisioner) -> Arc<Mutex<Vec<Attempt>>> {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    p.set_logger(Some(Arc::new(move |a: &Attempt| {
        if a.kind == LogKind::Attempt {
            sink.lock().unwrap().push(a.clone())
        }
    })));
    heard
}

#[test]
fn each_url_tried_is_logged_in_order_with_its_outcome() {
    let dead = DeadPort::new();
    let refusing = serve_ok("<error>Account locked</error>");
    let live = serve_ok(ANSWER);
    let unused = serve_ok(ANSWER);
    let p = provisioner(&[dead.url(), refusing.url("/a/"), live.url("/b"), unused.url("/")], NO_AUTH);
    let heard = logged(&p);
    p.run(None).unwrap();

    let heard = heard.lock().unwrap();
    let seen: Vec<(&str, Status)> = heard.iter().map(|a| (a.url.as_deref().unwrap(), a.status)).collect();
    let urls = [format!("{}configuration", dead.url()), refusing.url("/a/configuration"), live.url("/b/configuration")];
    assert_eq!(
        seen,
        [
            (urls[0].as_str(), Status::PROVISION_ERR_FETCH),
            (urls[1].as_str(), Status::PROVISION_ERR_SERVER),
            (urls[2].as_str(), Status::PROVISION_OK),
        ],
        "the URL after the one that served is not tried"
    );
    assert!(heard[0].message.to_lowercase().contains("refused"), "{:?}", heard[0]);
    assert_eq!(heard[1].message, "server error: Account locked");
    assert_eq!(heard[2].message, format!("ok, {} bytes", ANSWER.len()));
    // Generous: a loopback request takes milliseconds, never a minute.
    assert!(heard.iter().all(|a| a.elapsed_ms() < 60_000), "{heard:?}");
}

#[test]
fn a_failed_run_logs_every_url_as_its_message_describes_it() {
    let dead = DeadPort::new();
    let broken = serve(|_| Reply::xml(500, "oops"));
    let p = provisioner(&[dead.url(), broken.url("/x/")], NO_AUTH);
    let heard = logged(&p);
    let err = p.run(None).unwrap_err();
    let heard = heard.lock().unwrap();
    assert_eq!(heard.len(), 2);
    for attempt in heard.iter() {
        let line = format!("{}: {}", attempt.url.as_deref().unwrap(), attempt.message);
        assert!(err.message.contains(&line), "log line {line:?} not in {err}");
    }
    assert!(heard[1].message.starts_with("HTTP 500"), "{:?}", heard[1]);
}

#[test]
fn log_records_never_hold_credentials() {
    let password = "Tr0ub4dor&amp;3";
    let plain = "Tr0ub4dor&3";
    // A careless server that echoes what it received, Authorization included.
    let echo = serve(|r| {
        let seen = format!("{} {}", r.target, r.header("authorization").unwrap_or_default());
        Reply::xml(401, &format!("<error>denied for {}</error>", seen.replace('&', "&amp;")))
    });
    // Base URLs cannot carry userinfo (tests/leaks.rs); a secret query value is masked.
    let with_secret = echo.url("/?key=hunter2");
    for kind in ["url", "basic"] {
        let options = format!(
            "<use_authentication>1</use_authentication><authentication_type>{kind}</authentication_type>\
             <user>alice</user><password>{password}</password>"
        );
        let p = provisioner(&[echo.url("/"), with_secret.clone()], &options);
        let heard = logged(&p);
        assert_eq!(p.run(None).unwrap_err().status, Status::PROVISION_ERR_SERVER);
        let token = base64_of(&format!("alice:{plain}"));
        for attempt in heard.lock().unwrap().iter() {
            let text = format!("{} {}", attempt.url.as_deref().unwrap(), attempt.message);
            for secret in [plain, &md5_hex(plain), &token, "hunter2"] {
                assert!(!text.contains(secret), "{kind}: {secret:?} in {text}");
            }
            assert!(attempt.message.starts_with("server error: denied for /configuration"), "{kind}: {text}");
        }
    }
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn removing_the_logger_stops_the_records() {
    let live = serve_ok(ANSWER);
    let p = provisioner(&[live.url("/")], NO_AUTH);
    let heard = logged(&p);
    p.run(None).unwrap();
    p.set_logger(None);
    p.run(None).unwrap();
    assert_eq!(heard.lock().unwrap().len(), 1);
    assert_eq!(live.requests().len(), 2);
}

#[test]
fn the_user_agent_is_the_default_until_the_host_sets_its_own() {
    let live = serve_ok(ANSWER);
    let p = provisioner(&[live.url("/")], NO_AUTH);
    p.run(None).unwrap();
    p.set_user_agent(Some("Softphone/2.0 (libprovision)")).unwrap();
    p.run(None).unwrap();
    p.set_user_agent(None).unwrap();
    p.run(None).unwrap();
    let agents: Vec<String> =
        live.requests().iter().map(|r| r.header("user-agent").unwrap_or("(none)").to_owned()).collect();
    assert_eq!(agents, [DEFAULT_USER_AGENT, "Softphone/2.0 (libprovision)", DEFAULT_USER_AGENT]);
    assert_eq!(DEFAULT_USER_AGENT, format!("libprovision/{}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_user_agent_that_would_break_the_header_is_refused_and_the_old_one_kept() {
    let live = serve_ok(ANSWER);
    let p = provisioner(&[live.url("/")], NO_AUTH);
    p.set_user_agent(Some("Mine/1")).unwrap();
    for bad in ["", "a\r\nX-Evil: 1", "caf\u{e9}/1", "tab\there"] {
        let err = p.set_user_agent(Some(bad)).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_ARGUMENT, "{bad:?}");
    }
    p.run(None).unwrap();
    assert_eq!(live.requests()[0].header("user-agent"), Some("Mine/1"));
}
