//! Digest authentication (RFC 7616) against a loopback server that issues
//! its own nonces and checks every response independently of the library.

mod common;

use common::{provision_xml, serve, serve_ok, Reply, Request, ANSWER};
use md5::Md5;
use provision::{Provisioner, Status};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const USER: &str = "alice";
const PASSWORD: &str = "digest-Pa55 wörd";
const REALM: &str = "prov@example.test";

fn options(user: &str, password: &str) -> String {
    format!(
        "<use_authentication>1</use_authentication><authentication_type>digest</authentication_type>\
         <user>{user}</user><password>{password}</password>"
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(algorithm: &str, data: &str) -> String {
    match algorithm {
        "MD5" => hex(&Md5::digest(data)),
        "SHA-256" => hex(&Sha256::digest(data)),
        other => panic!("the test server does not know {other}"),
    }
}

/// The fields of `Digest a="b", c=d`, as a server reads them.
fn fields(header: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = header.strip_prefix("Digest ").expect("a Digest header");
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().trim_start_matches(',').trim().to_owned();
        rest = &rest[eq + 1..];
        let value = if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"').unwrap();
            let v = q[..end].to_owned();
            rest = &q[end + 1..];
            v
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let v = rest[..end].to_owned();
            rest = &rest[end..];
            v
        };
        out.insert(name, value);
    }
    out
}

/// A server that challenges with `algorithm` and serves ANSWER only to a
/// correct response to a nonce it issued and that was not used before.
struct Checker {
    algorithm: &'static str,
    issued: Mutex<Vec<String>>,
    counter: AtomicUsize,
}

impl Checker {
    fn reply(&self, request: &Request) -> Reply {
        if let Some(header) = request.header("authorization") {
            if self.valid(header, &request.target) {
                return Reply::ok(ANSWER);
            }
        }
        let nonce = format!("nonce-{}", self.counter.fetch_add(1, Ordering::SeqCst));
        self.issued.lock().unwrap().push(nonce.clone());
        let challenge = format!(
            "Digest realm=\"{REALM}\", qop=\"auth\", algorithm={}, nonce=\"{nonce}\", opaque=\"op-7\"",
            self.algorithm
        );
        Reply::Http {
            status: 401,
            headers: vec![("WWW-Authenticate".into(), challenge), ("Content-Type".into(), "text/plain".into())],
            body: b"who are you?".to_vec(),
        }
    }

    fn valid(&self, header: &str, target: &str) -> bool {
        let f = fields(header);
        let Some(at) = self.issued.lock().unwrap().iter().position(|n| Some(n) == f.get("nonce")) else {
            return false;
        };
        self.issued.lock().unwrap().remove(at); // one use per nonce
        let a = self.algorithm;
        let ha1 = hash(a, &format!("{USER}:{REALM}:{PASSWORD}"));
        let ha2 = hash(a, &format!("GET:{target}"));
        let expected = hash(a, &format!("{ha1}:{}:{}:{}:auth:{ha2}", f["nonce"], f["nc"], f["cnonce"]));
        f["username"] == USER
            && f["realm"] == REALM
            && f["uri"] == target
            && f["qop"] == "auth"
            && f["algorithm"] == a
            && f["opaque"] == "op-7"
            && f["response"] == expected
    }
}

fn digest_server(algorithm: &'static str) -> common::Server {
    let checker = Checker { algorithm, issued: Mutex::new(Vec::new()), counter: AtomicUsize::new(0) };
    serve(move |r| checker.reply(r))
}

fn provisioner(urls: &[String], options: &str) -> Provisioner {
    Provisioner::from_xml(&provision_xml(urls, options, "accounts")).unwrap()
}

#[test]
fn md5_and_sha256_challenges_are_answered_without_sending_the_password() {
    for algorithm in ["MD5", "SHA-256"] {
        let server = digest_server(algorithm);
        let p = provisioner(&[server.url("/p/?site=2")], &options(USER, PASSWORD));
        p.run(None).unwrap_or_else(|e| panic!("{algorithm}: {e}"));
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "{algorithm}: challenge, then answer");
        assert_eq!(requests[0].header("authorization"), None, "nothing before the challenge");
        let answer = requests[1].header("authorization").unwrap();
        assert!(answer.starts_with("Digest ") && answer.contains(&format!("algorithm={algorithm}")), "{answer}");
        assert_eq!(requests[1].target, "/p/configuration?site=2");
        for r in &requests {
            let seen = format!("{} {:?}", r.target, r.headers);
            assert!(!seen.contains(PASSWORD) && !seen.contains("Pa55"), "{algorithm}: {seen}");
        }
    }
}

#[test]
fn a_wrong_password_fails_that_url_once_and_falls_back() {
    let server = digest_server("SHA-256");
    let good = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/"), good.url("/")], &options(USER, "wrong"));
    assert_eq!(p.run(None).unwrap().source_url, good.url("/"));
    assert_eq!(server.requests().len(), 2, "one answer per challenge, no retry loop");

    let p = provisioner(&[server.url("/")], &options(USER, "wrong"));
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH);
    assert!(err.message.contains("HTTP 401"), "{err}");
}

#[test]
fn a_challenge_that_cannot_be_answered_says_why() {
    let server = serve(|_| Reply::Http {
        status: 401,
        headers: vec![(
            "WWW-Authenticate".into(),
            "Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=SHA-512-256".into(),
        )],
        body: Vec::new(),
    });
    let p = provisioner(&[server.url("/")], &options(USER, PASSWORD));
    let err = p.run(None).unwrap_err();
    assert!(err.message.contains("SHA-512-256"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_challenge_from_another_origin_is_not_answered() {
    let elsewhere = digest_server("MD5");
    let target = elsewhere.url("/configuration");
    let hop = serve(move |_| Reply::redirect(&target));
    let p = provisioner(&[hop.url("/")], &options(USER, PASSWORD));
    assert_eq!(p.run(None).unwrap_err().status, Status::PROVISION_ERR_FETCH);
    let requests = elsewhere.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("authorization"), None);
}

#[test]
fn a_server_that_does_not_challenge_gets_no_credentials() {
    let open = serve_ok(ANSWER);
    let p = provisioner(&[open.url("/")], &options(USER, PASSWORD));
    p.run(None).unwrap();
    assert_eq!(open.requests()[0].header("authorization"), None);
}
