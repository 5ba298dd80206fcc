//! The addressbook part against the reference server
//! (examples/addressbook_server.py, run as its own process) and against
//! fault servers: fetch, fallback, auth, 304, `<error>`, the round trips,
//! the restrictions (the server's log proves no request was made), and a
//! manipulation never sent twice.

mod common;

use common::{provision_xml, serve, DeadPort, Reply, Stream, ANSWER};
use provision::addressbook::Addressbook;
use provision::{Provisioner, Status};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-phonebook";
const CONTACT: &str = "<contact>\n  <name>Bob Builder</name>\n  <number type=\"work\">+32 2 555 01 00</number>\n  \
                       <email>bob@example.com</email>\n</contact>";

/// The reference server in its own process; killed on drop.
struct Reference {
    child: Child,
    url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Reference {
    /// Started with `--user alice:PASSWORD`; ready once it printed its URL.
    fn start(base: &str) -> Reference {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.jsonl");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/addressbook_server.py");
        let mut child = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
            .arg(script)
            .args(["--base", base, "--user", &format!("{USER}:{PASSWORD}"), "--log"])
            .arg(&log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the reference server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").expect("the ready line").to_owned();
        Reference { child, url, log, _dir: dir }
    }

    /// `METHOD PATH` of every request so far. The server writes each line
    /// before it answers, so a call that returned has been logged.
    fn requests(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let field = |line: &str, name: &str| {
            let start = line.find(&format!("\"{name}\": \"")).unwrap() + name.len() + 5;
            line[start..].split('"').next().unwrap().to_owned()
        };
        text.lines().map(|l| format!("{} {}", field(l, "method"), field(l, "path"))).collect()
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provision(urls: &[String], auth: &str, addressbook: &str) -> Provisioner {
    let options = format!(
        "<use_authentication>1</use_authentication><authentication_type>{auth}</authentication_type>\
         <user>{USER}</user><password>{PASSWORD}</password>"
    );
    let xml = provision_xml(urls, &options, "accounts,provision")
        .replace("</provision>", &format!("<addressbook>{addressbook}</addressbook></provision>"));
    Provisioner::from_xml(&xml).unwrap()
}

const ALLOWED: &str = "<use_addressbook>1</use_addressbook><restrictions></restrictions>";

/// The text of every `<name>` in a document, in order.
fn names(book: &Addressbook) -> Vec<String> {
    book.xml.split("<name>").skip(1).map(|s| s.split("</name>").next().unwrap().to_owned()).collect()
}

fn stored_id(book: &Addressbook) -> String {
    book.xml.split("<id>").nth(1).and_then(|s| s.split("</id>").next()).unwrap().to_owned()
}

#[test]
fn round_trip_against_the_reference_server_after_a_dead_url() {
    let server = Reference::start("/zoiper/");
    let dead = DeadPort::new();
    let p = provision(&[dead.url(), server.url.clone()], "basic", ALLOWED);

    let empty = p.addressbook_fetch().unwrap();
    assert_eq!((empty.contacts, empty.base_url.as_str()), (0, server.url.as_str()));
    assert!(empty.xml.contains("<addressbook"), "{}", empty.xml);

    let stored = p.addressbook_add(CONTACT).unwrap();
    assert_eq!(stored.contacts, 1);
    let id = stored_id(&stored);
    assert!(
        !id.is_empty() && stored.xml.starts_with("<?xml") && stored.xml.contains("<addressbook>"),
        "{}",
        stored.xml
    );
    p.addressbook_add("<contact><name>Carol</name><number type=\"mobile\">+1</number></contact>").unwrap();

    let book = p.addressbook_fetch().unwrap();
    assert_eq!((book.contacts, names(&book)), (2, vec!["Bob Builder".to_owned(), "Carol".to_owned()]));

    p.addressbook_update(&id, "<contact><name>Robert Builder</name><company>ACME</company></contact>").unwrap();
    let book = p.addressbook_fetch().unwrap();
    assert_eq!(names(&book), ["Robert Builder", "Carol"]);
    assert!(book.xml.contains("<company>ACME</company>"), "{}", book.xml);

    p.addressbook_delete(&id).unwrap();
    let book = p.addressbook_fetch().unwrap();
    assert_eq!((book.contacts, names(&book)), (1, vec!["Carol".to_owned()]));

    let err = p.addressbook_delete(&id).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_SERVER, "{err}");
    assert_eq!(err.message, format!("no contact '{id}'"));

    // A manipulation is sent once; nothing touched the configuration part.
    let path = |m: &str, p: &str| format!("{m} /zoiper/{p}");
    assert_eq!(
        server.requests(),
        [
            path("GET", "addressbook"),
            path("POST", "addressbook"),
            path("POST", "addressbook"),
            path("GET", "addressbook"),
            path("PUT", &format!("addressbook/{id}")),
            path("GET", "addressbook"),
            path("DELETE", &format!("addressbook/{id}")),
            path("GET", "addressbook"),
            path("DELETE", &format!("addressbook/{id}")),
        ]
    );
    assert!(p.last().is_none());
}

#[test]
fn url_authentication_and_a_wrong_password_give_the_servers_error() {
    let server = Reference::start("/");
    let p = provision(std::slice::from_ref(&server.url), "url", ALLOWED);
    assert_eq!(p.addressbook_fetch().unwrap().contacts, 0);
    p.set_credentials(USER, "not-the-password").unwrap();
    for err in [p.addressbook_fetch().unwrap_err(), p.addressbook_add(CONTACT).unwrap_err()] {
        assert_eq!(err.status, Status::PROVISION_ERR_SERVER, "{err}");
        assert_eq!(err.message, "Wrong username or password.");
    }
    assert_eq!(server.requests(), ["GET", "GET", "POST"].map(|m| format!("{m} /addressbook?user={USER}&password=***")));
}

#[test]
fn an_unchanged_addressbook_is_answered_304_and_handed_out_again() {
    let server = Reference::start("/");
    let p = provision(std::slice::from_ref(&server.url), "basic", ALLOWED);
    p.addressbook_add(CONTACT).unwrap();
    let first = p.addressbook_fetch().unwrap();
    let again = p.addressbook_fetch().unwrap();
    assert!(Arc::ptr_eq(&first, &again), "a 304 hands out the kept addressbook");
    // Another user's 304 must not reuse it: that fetch is unconditional.
    let etags = Arc::new(Mutex::new(Vec::new()));
    let seen = etags.clone();
    let spy = serve(move |r| {
        seen.lock().unwrap().push(r.header("if-none-match").map(str::to_owned));
        Reply::Http {
            status: 200,
            headers: vec![("ETag".into(), "\"e1\"".into())],
            body: b"<addressbook><contact><id>1</id><name>A</name></contact></addressbook>".to_vec(),
        }
    });
    let q = provision(&[spy.url("/")], "basic", ALLOWED);
    let book = q.addressbook_fetch().unwrap();
    q.addressbook_fetch().unwrap();
    q.set_credentials("mallory", "other").unwrap();
    q.addressbook_fetch().unwrap();
    assert_eq!(book.contacts, 1);
    assert_eq!(*etags.lock().unwrap(), [None, Some("\"e1\"".to_owned()), None]);
}

#[test]
fn error_answers_and_bad_answers_move_on_then_report() {
    let refusing = serve(|_| Reply::xml(403, "<error>No phonebook for this account</error>"));
    let wrong_root = serve(|_| Reply::ok(ANSWER));
    let server = Reference::start("/");
    let p = provision(&[refusing.url("/"), wrong_root.url("/"), server.url.clone()], "basic", ALLOWED);
    assert_eq!(p.addressbook_fetch().unwrap().base_url, server.url);

    let p = provision(&[wrong_root.url("/"), refusing.url("/")], "basic", ALLOWED);
    let err = p.addressbook_fetch().unwrap_err();
    assert_eq!((err.status, err.message.as_str()), (Status::PROVISION_ERR_SERVER, "No phonebook for this account"));
    let p = provision(&[wrong_root.url("/")], "basic", ALLOWED);
    let err = p.addressbook_fetch().unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH);
    assert!(err.message.contains("/addressbook: the answer (root <options>) is not an <addressbook>"), "{err}");
}

#[test]
fn restricted_manipulations_make_no_request() {
    let server = Reference::start("/");
    for restricted in ["add", "update", "delete"] {
        let settings = format!("<use_addressbook>1</use_addressbook><restrictions>{restricted}</restrictions>");
        let p = provision(std::slice::from_ref(&server.url), "basic", &settings);
        let err = match restricted {
            "add" => p.addressbook_add(CONTACT).unwrap_err(),
            "update" => p.addressbook_update("1", CONTACT).unwrap_err(),
            _ => p.addressbook_delete("1").unwrap_err(),
        };
        assert_eq!(err.status, Status::PROVISION_ERR_RESTRICTED, "{err}");
        assert!(err.message.contains(&format!("'{restricted}'")), "{err}");
        // Still allowed: fetching, which the log shows as the only request.
        p.addressbook_fetch().unwrap();
    }
    assert_eq!(server.requests(), ["GET /addressbook"; 3]);

    let p = provision(std::slice::from_ref(&server.url), "basic", "<use_addressbook>0</use_addressbook>");
    let errors = [
        p.addressbook_fetch().map(drop).unwrap_err(),
        p.addressbook_add(CONTACT).map(drop).unwrap_err(),
        p.addressbook_update("1", CONTACT).unwrap_err(),
        p.addressbook_delete("1").unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err.status, Status::PROVISION_ERR_RESTRICTED, "{err}");
        assert!(err.message.contains("<use_addressbook> is 0"), "{err}");
    }
    // The file without an <addressbook> section: not used either.
    let plain = provision_xml(std::slice::from_ref(&server.url), "", "accounts");
    let err = Provisioner::from_xml(&plain).unwrap().addressbook_fetch().unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_RESTRICTED);
    assert_eq!(server.requests().len(), 3, "no request after the three fetches");
}

#[test]
fn restrictions_follow_a_provision_section_the_server_sent() {
    let server = Reference::start("/");
    let section = format!(
        "<provision><base_urls><base_url>{}</base_url></base_urls>\
         <options><use_authentication>1</use_authentication><user>{USER}</user><password>{PASSWORD}</password></options>\
         <significant_sections>accounts,provision</significant_sections>\
         <addressbook><use_addressbook>1</use_addressbook><restrictions>delete</restrictions></addressbook></provision>",
        server.url
    );
    let answer = ANSWER.replace("</options>\n", &format!("{section}</options>\n"));
    let config = serve(move |_| Reply::ok(&answer));
    let p = provision(&[config.url("/")], "basic", "<use_addressbook>0</use_addressbook>");
    assert_eq!(p.addressbook_fetch().unwrap_err().status, Status::PROVISION_ERR_RESTRICTED);
    p.run(None).unwrap();
    // Now the server's settings: used, at its URL, delete restricted.
    let stored = p.addressbook_add(CONTACT).unwrap();
    let err = p.addressbook_delete(&stored_id(&stored)).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_RESTRICTED, "{err}");
    assert_eq!(server.requests(), ["POST /addressbook"]);
    assert_eq!(config.requests().len(), 1, "the addressbook never asks the configuration's server");
}

/// Takes the request (the server has read it), then hangs up without a word.
fn hang_up() -> Reply {
    Reply::With(Box::new(|_: &mut dyn Stream| {}))
}

/// Reads until the client hangs up (it times out), answering nothing.
fn silence() -> Reply {
    Reply::With(Box::new(|s: &mut dyn Stream| {
        let _ = s.tcp().set_read_timeout(Some(Duration::from_secs(20)));
        while matches!(s.read(&mut [0u8; 4096]), Ok(n) if n > 0) {}
    }))
}

#[test]
fn a_post_that_may_have_arrived_is_never_sent_again() {
    let server = Reference::start("/");
    for (fault, says) in [(hang_up as fn() -> Reply, ""), (silence, "timed out")] {
        let first = serve(move |_| fault());
        let p = provision(&[first.url("/"), server.url.clone()], "basic", ALLOWED);
        p.set_timeouts(Duration::from_millis(1000), Duration::from_millis(400)).unwrap();
        let err = p.addressbook_add(CONTACT).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_FETCH, "{err}");
        assert!(err.message.contains(says) && err.message.contains("is unknown"), "{err}");
        assert!(err.message.starts_with(&first.url("/addressbook: ")), "{err}");
        assert!(!err.message.contains(PASSWORD));
        assert_eq!(first.requests().len(), 1);
        let err = p.addressbook_update("7", CONTACT).unwrap_err();
        assert!(err.message.contains("is unknown"), "{err}");
        assert_eq!(first.requests().len(), 2);
    }
    assert!(server.requests().is_empty(), "the second URL got nothing: {:?}", server.requests());
}

#[test]
fn manipulations_go_to_the_url_that_served_the_fetch() {
    let refusing = serve(|r| match r.path() {
        "/addressbook" => Reply::xml(503, "<error>Phonebook offline</error>"),
        _ => Reply::xml(500, "<error>unexpected</error>"),
    });
    let server = Reference::start("/");
    let p = provision(&[refusing.url("/"), server.url.clone()], "basic", ALLOWED);
    p.addressbook_fetch().unwrap();
    p.addressbook_add(CONTACT).unwrap();
    assert_eq!(refusing.requests().len(), 1, "only the fetch went to the first URL");
    assert_eq!(server.requests(), ["GET /addressbook", "POST /addressbook"]);

    // With no fetch yet, the first URL that answers takes it, and its refusal is final.
    let q = provision(&[refusing.url("/"), server.url.clone()], "basic", ALLOWED);
    let err = q.addressbook_add(CONTACT).unwrap_err();
    assert_eq!((err.status, err.message.as_str()), (Status::PROVISION_ERR_SERVER, "Phonebook offline"));
    assert_eq!(refusing.requests().len(), 2);
    assert_eq!(server.requests().len(), 2, "a refusal is an answer: not sent elsewhere");
}

#[test]
fn ids_are_percent_encoded_and_checked() {
    let seen = serve(|_| Reply::Http { status: 204, headers: Vec::new(), body: Vec::new() });
    let p = provision(&[seen.url("/base/?tenant=7")], "basic", ALLOWED);
    p.addressbook_delete("a/b c?#%é").unwrap();
    p.addressbook_update("x y", "<contact><id>x y</id><name>X</name></contact>").unwrap();
    let targets: Vec<_> = seen.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/base/addressbook/a%2Fb%20c%3F%23%25%C3%A9?tenant=7", "/base/addressbook/x%20y?tenant=7"]);
    for bad in ["", ".", ".."] {
        assert_eq!(p.addressbook_delete(bad).unwrap_err().status, Status::PROVISION_ERR_ARGUMENT);
    }
    assert_eq!(seen.requests().len(), 2);
}

#[test]
fn malformed_contacts_are_format_errors_without_a_request() {
    let seen = serve(|_| Reply::ok("<contact><id>1</id></contact>"));
    let p = provision(&[seen.url("/")], "basic", ALLOWED);
    let cases = [
        ("<contact>\n  <name>Bob</nam>\n</contact>", "line 2, column"),
        ("<contact><name>Bob</name></contact><contact/>", "line 1, column"),
        ("<person><name>Bob</name></person>", "must be <contact>"),
        ("<contact>\n<id>4</id><name>Bob</name></contact>", "line 2, column 1"),
        ("<!DOCTYPE contact [<!ENTITY x \"y\">]><contact/>", "line 1"),
    ];
    for (xml, says) in cases {
        let err = p.addressbook_add(xml).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{xml}: {err}");
        assert!(err.message.starts_with("contact_xml: ") && err.message.contains(says), "{xml}: {err}");
    }
    let err = p.addressbook_update("4", "<contact><id>5</id><name>Bob</name></contact>").unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{err}");
    let big = format!("<contact><note>{}</note></contact>", "n".repeat(provision::limits::MAX_CONTACT_BYTES));
    assert!(p.addressbook_add(&big).unwrap_err().message.contains("over the bound"));
    assert!(seen.requests().is_empty());
}

#[test]
fn an_add_answer_without_the_new_id_says_the_id_is_unknown() {
    for answer in ["<contact><name>B</name></contact>", "<ok/>", ""] {
        let body = answer.to_owned();
        let server = serve(move |_| Reply::xml(201, &body));
        let p = provision(&[server.url("/")], "basic", ALLOWED);
        let err = p.addressbook_add(CONTACT).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_FETCH, "{err}");
        assert!(err.message.contains("probably stored"), "{err}");
    }
}

#[test]
fn the_addressbook_is_not_deferred_and_leaves_the_configuration_alone() {
    let server = Reference::start("/");
    let p = provision(std::slice::from_ref(&server.url), "basic", ALLOWED);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.xml");
    p.set_cache(Some(&cache));
    p.set_call_active(true);
    p.addressbook_add(CONTACT).unwrap();
    assert_eq!(p.addressbook_fetch().unwrap().contacts, 1);
    assert!(p.last().is_none() && !cache.exists());
    assert_eq!(p.run(None).unwrap_err().status, Status::PROVISION_ERR_DEFERRED);
}

#[test]
fn an_untrusted_certificate_sends_nothing_so_the_next_url_takes_the_post() {
    let ca = common::tls::Ca::new("operator CA");
    let https = common::tls::serve_tls(ca.server_config(&["127.0.0.1"]), |_| Reply::ok(ANSWER));
    let server = Reference::start("/");
    let p = provision(&[https.url("/"), server.url.clone()], "basic", ALLOWED);
    let stored = p.addressbook_add(CONTACT).unwrap();
    assert_eq!(stored.base_url, server.url);
    assert!(https.requests().is_empty());
    assert_eq!(server.requests(), ["POST /addressbook"]);
}

#[test]
fn a_manipulation_follows_307_but_not_a_redirect_that_would_drop_its_body() {
    let elsewhere = serve(|_| Reply::xml(201, "<contact><id>9</id><name>Bob Builder</name></contact>"));
    let target = elsewhere.url("/other/addressbook");
    let keeps = serve(move |_| Reply::Http {
        status: 307,
        headers: vec![("Location".into(), target.clone())],
        body: Vec::new(),
    });
    let p = provision(&[keeps.url("/")], "basic", ALLOWED);
    assert_eq!(p.addressbook_add(CONTACT).unwrap().xml.matches("<id>9</id>").count(), 1);
    let followed = elsewhere.requests();
    assert_eq!(followed.len(), 1);
    assert_eq!(followed[0].header("content-length"), Some(CONTACT.len().to_string().as_str()), "the body came along");
    assert_eq!(followed[0].header("authorization"), None, "credentials stay with their origin");

    let server = Reference::start("/");
    let target = format!("{}addressbook", server.url);
    let drops = serve(move |_| Reply::redirect(&target));
    let p = provision(&[drops.url("/"), server.url.clone()], "basic", ALLOWED);
    let err = p.addressbook_add(CONTACT).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH, "{err}");
    assert!(err.message.contains("redirected the POST with HTTP 302") && err.message.contains("not followed"), "{err}");
    assert!(server.requests().is_empty(), "neither the Location nor the next URL got it");
}

#[test]
fn each_url_an_addressbook_call_tries_reaches_the_logger() {
    let server = Reference::start("/");
    let dead = DeadPort::new();
    let p = provision(&[dead.url(), server.url.clone()], "basic", ALLOWED);
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    p.set_logger(Some(Arc::new(move |r: &provision::LogRecord| {
        sink.lock().unwrap().push((r.url.clone().unwrap_or_default(), r.status));
    })));
    p.addressbook_fetch().unwrap();
    p.addressbook_add(CONTACT).unwrap();
    let want = [
        (format!("{}addressbook", dead.url()), Status::PROVISION_ERR_FETCH),
        (format!("{}addressbook", server.url), Status::PROVISION_OK),
        (format!("{}addressbook", server.url), Status::PROVISION_OK),
    ];
    assert_eq!(*heard.lock().unwrap(), want, "the POST went straight to the URL that served the fetch");
}

/// A server with a thread per connection: `configuration` is answered only
/// once `release` is sent, `addressbook` at once.
fn held_configuration_server(arrived: std::sync::mpsc::Sender<()>, release: std::sync::mpsc::Receiver<()>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/", listener.local_addr().unwrap().port());
    let release = Arc::new(Mutex::new(release));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (arrived, release) = (arrived.clone(), release.clone());
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let body = if head.starts_with(b"GET /configuration") {
                    let _ = arrived.send(());
                    let _ = release.lock().unwrap().recv();
                    ANSWER.to_owned()
                } else {
                    "<addressbook><contact><id>1</id><name>A</name></contact></addressbook>".to_owned()
                };
                let reply =
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = stream.write_all(reply.as_bytes());
            });
        }
    });
    url
}

#[test]
fn a_fetch_does_not_wait_for_a_run_in_progress() {
    let (arrived_tx, arrived) = std::sync::mpsc::channel();
    let (release, release_rx) = std::sync::mpsc::channel();
    let url = held_configuration_server(arrived_tx, release_rx);
    let p = Arc::new(provision(&[url], "basic", ALLOWED));
    let running = {
        let p = p.clone();
        std::thread::spawn(move || p.run(None).map(|o| o.provisioned.clone()))
    };
    arrived.recv().unwrap(); // the run is now waiting for its answer
    assert_eq!(p.addressbook_fetch().unwrap().contacts, 1, "fetched while the run waits");
    release.send(()).unwrap();
    assert_eq!(running.join().unwrap().unwrap(), ["accounts"]);
}

// ---- what the addressbook shares with the configuration's transport --------

const TEMPLATE_USER: &str = "bob & co";
/// `&`, `=`, `%`, a space and non-ASCII: each breaks a URL unless encoded.
const TEMPLATE_PASSWORD: &str = "p&w=1% ü book";
const ENCODED_PASSWORD: &str = "p%26w%3D1%25%20%C3%BC%20book";

fn records(p: &Provisioner) -> Arc<Mutex<Vec<provision::LogRecord>>> {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    p.set_logger(Some(Arc::new(move |r: &provision::LogRecord| sink.lock().unwrap().push(r.clone()))));
    heard
}

/// A provision file without `use_authentication`, whose base URL is `base`.
fn unauthenticated(base: &str) -> Provisioner {
    let xml = provision_xml(&[base.replace('&', "&amp;")], "", "accounts")
        .replace("</provision>", &format!("<addressbook>{ALLOWED}</addressbook></provision>"));
    Provisioner::from_xml(&xml).unwrap()
}

/// The vendor's way: credentials and version from the query; `<error>`
/// (echoing what it got, as careless servers do) on a mismatch.
fn template_server() -> common::Server {
    serve(|r| {
        let query: Vec<(String, String)> =
            url::form_urlencoded::parse(r.query().unwrap_or("").as_bytes()).into_owned().collect();
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        match (get("user"), get("password"), get("version")) {
            (Some(TEMPLATE_USER), Some(TEMPLATE_PASSWORD), Some("1.14")) if r.path().ends_with("/addressbook") => {
                Reply::ok("<addressbook><contact><id>1</id><name>A</name></contact></addressbook>")
            }
            (Some(TEMPLATE_USER), Some(TEMPLATE_PASSWORD), Some("1.14")) => {
                Reply::xml(404, &format!("<error>no such contact at {}</error>", r.path()))
            }
            (_, password, _) => Reply::ok(&format!("<error>wrong password {}</error>", password.unwrap_or(""))),
        }
    })
}

#[test]
fn a_templated_base_url_is_filled_for_the_addressbook_and_shows_only_the_placeholder() {
    let server = template_server();
    let base = server.url("/prov?user=[username]&password=[password]&version=[version]");
    let p = unauthenticated(&base);
    p.set_credentials(TEMPLATE_USER, TEMPLATE_PASSWORD).unwrap();
    p.set_variable("version", Some("1.14")).unwrap();
    let heard = records(&p);

    let book = p.addressbook_fetch().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((book.contacts, book.base_url.as_str()), (1, base.as_str()), "the template, as written");
    let sent = &server.requests()[0];
    assert_eq!(sent.path(), "/prov/addressbook");
    assert_eq!(sent.query(), Some(format!("user=bob%20%26%20co&password={ENCODED_PASSWORD}&version=1.14").as_str()));

    // An id that looks like a placeholder is the contact's, never filled.
    let err = p.addressbook_delete("{password}").unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_SERVER, "{err}");
    assert_eq!(server.requests()[1].path(), "/prov/addressbook/%7Bpassword%7D");

    // A wrong password echoed by the server is scrubbed.
    p.set_credentials(TEMPLATE_USER, "other pa55 book").unwrap();
    let err = p.addressbook_fetch().unwrap_err();
    assert_eq!(err.message, "wrong password ***", "{err}");

    let heard = heard.lock().unwrap();
    assert_eq!(heard.len(), 3, "{heard:?}");
    for r in heard.iter() {
        let url = r.url.as_deref().unwrap();
        assert!(url.contains("password=[password]&version=1.14"), "{url}");
        for secret in [TEMPLATE_PASSWORD, ENCODED_PASSWORD, "other pa55 book", "other%20pa55%20book"] {
            assert!(!url.contains(secret) && !r.message.contains(secret), "{r:?}");
        }
    }
}

#[test]
fn a_template_missing_a_value_is_refused_before_any_addressbook_request() {
    let server = template_server();
    let p = unauthenticated(&server.url("/?user=[username]&password=[password]&version=[version]"));
    p.set_variable("version", Some("1.14")).unwrap();
    let no_credentials = [p.addressbook_fetch().unwrap_err(), p.addressbook_add(CONTACT).unwrap_err()];
    for err in no_credentials {
        assert_eq!(err.status, Status::PROVISION_ERR_CREDENTIALS, "{err}");
        assert!(err.message.contains("[username]"), "{err}");
    }
    p.set_credentials(TEMPLATE_USER, TEMPLATE_PASSWORD).unwrap();
    p.set_variable("version", None).unwrap();
    for err in [p.addressbook_fetch().unwrap_err(), p.addressbook_delete("1").unwrap_err()] {
        assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{err}");
        assert!(err.message.contains("[version]"), "{err}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn a_secret_of_the_urls_own_query_is_scrubbed_from_addressbook_messages() {
    let server = serve(|r| Reply::ok(&format!("<error>refused {}</error>", r.query().unwrap_or(""))));
    let p = unauthenticated(&server.url("/?token=tok-s3cret-77"));
    let heard = records(&p);
    for err in [p.addressbook_fetch().unwrap_err(), p.addressbook_add(CONTACT).unwrap_err()] {
        assert_eq!(err.status, Status::PROVISION_ERR_SERVER, "{err}");
        assert_eq!(err.message, "refused token=***", "{err}");
    }
    let heard = heard.lock().unwrap();
    assert_eq!(heard.len(), 2);
    for r in heard.iter() {
        assert_eq!(r.url.as_deref(), Some(server.url("/addressbook?token=***").as_str()));
        assert!(!r.message.contains("tok-s3cret"), "{r:?}");
    }
}

#[test]
fn the_addressbook_goes_through_the_proxy_with_the_hosts_headers_for_its_origin_only() {
    let other = serve(|_| Reply::ok("<addressbook/>"));
    let elsewhere = other.url("/addressbook");
    let server = serve(move |r| match r.path() {
        "/hop/addressbook" => Reply::redirect(&elsewhere),
        // The POST alone has a body.
        "/addressbook" if r.header("Content-Length").is_none() => Reply::ok("<addressbook/>"),
        _ => Reply::ok("<contact><id>9</id><name>Bob Builder</name></contact>"),
    });
    let proxy = common::proxy::Proxy::start(Some(("corp", "proxy-pa55")));
    let p = unauthenticated(&server.url("/"));
    p.set_proxy(Some(&proxy.url("corp:proxy-pa55@"))).unwrap();
    p.set_header("X-Device-Id", Some("phone-42")).unwrap();
    p.addressbook_fetch().unwrap();
    p.addressbook_add(CONTACT).unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| r.header("X-Device-Id") == Some("phone-42")), "{seen:?}");
    let asked = proxy.asked();
    assert!(!asked.is_empty() && asked.iter().all(|a| a.method == "CONNECT" && a.authorized), "{asked:?}");
    assert!(asked.iter().all(|a| a.target == format!("127.0.0.1:{}", server.port)), "{asked:?}");

    let hop = unauthenticated(&server.url("/hop/"));
    hop.set_header("X-Device-Id", Some("phone-42")).unwrap();
    hop.addressbook_fetch().unwrap();
    assert_eq!(server.requests()[2].header("X-Device-Id"), Some("phone-42"));
    assert_eq!(other.requests()[0].header("X-Device-Id"), None, "not sent to another origin");

    // A proxy's password never shows, even when the proxy refuses.
    p.set_proxy(Some(&proxy.url("corp:wrong-pa55@"))).unwrap();
    let heard = records(&p);
    let err = p.addressbook_fetch().unwrap_err();
    assert!(err.message.contains("refused the credentials") && !err.message.contains("wrong-pa55"), "{err}");
    assert!(heard.lock().unwrap().iter().all(|r| !r.message.contains("wrong-pa55")));
}

#[test]
fn the_addressbook_presents_the_client_certificate() {
    use common::tls::{serve_tls, Ca};
    let dir = tempfile::tempdir().unwrap();
    let (servers, clients) = (Ca::new("server CA"), Ca::new("client CA"));
    let ca_pem = dir.path().join("ca.pem");
    servers.write_pem(&ca_pem);
    let config = servers.server_config_requiring_client(&["127.0.0.1"], &clients);
    let server = serve_tls(config, |_| Reply::ok("<addressbook/>"));
    let p = unauthenticated(&server.url("/"));
    p.set_ca_file(Some(&ca_pem)).unwrap();

    let err = p.addressbook_fetch().unwrap_err();
    assert!(err.message.contains("requires a client certificate"), "{err}");
    // TLS 1.3 sends the request before the server's verdict on the
    // certificate, so a manipulation counts as maybe-arrived (not sent again).
    let err = p.addressbook_delete("1").unwrap_err();
    assert!(err.message.contains("requires a client certificate") && err.message.contains("unknown"), "{err}");
    assert!(server.requests().is_empty());

    let files = clients.client_files(dir.path(), "phone-1");
    p.set_client_cert(Some(&files.chain), Some(&files.key)).unwrap();
    assert_eq!(p.addressbook_fetch().unwrap().contacts, 0);
    assert_eq!(server.requests().len(), 1);
}
