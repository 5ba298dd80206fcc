//! Enterprise networks (issue 12) against real loopback servers: client
//! certificates (mutual TLS), an HTTP proxy that wants credentials, extra
//! request headers and the vendor's URL templates.

mod common;

use common::proxy::Proxy;
use common::tls::{serve_tls, Ca};
use common::{provision_xml, serve, serve_ok, Reply, Request, ANSWER};
use provision::{LogRecord, Provisioner, Status};
use std::sync::{Arc, Mutex};

const NO_AUTH: &str = "<use_authentication>0</use_authentication>";

fn provisioner(urls: &[String]) -> Provisioner {
    Provisioner::from_xml(&provision_xml(urls, NO_AUTH, "accounts")).unwrap()
}

/// Every record a run hands to the logger.
fn logged(p: &Provisioner) -> Arc<Mutex<Vec<LogRecord>>> {
    let records = Arc::new(Mutex::new(Vec::new()));
    let sink = records.clone();
    p.set_logger(Some(Arc::new(move |r: &LogRecord| sink.lock().unwrap().push(r.clone()))));
    records
}

// ---- client certificates -------------------------------------------------

struct Mtls {
    _dir: tempfile::TempDir,
    dir: std::path::PathBuf,
    ca_pem: std::path::PathBuf,
    clients: Ca,
    server: common::Server,
}

/// An https server that requires a client certificate from `clients`.
fn mtls_server() -> Mtls {
    let dir = tempfile::tempdir().unwrap();
    let (servers, clients) = (Ca::new("server CA"), Ca::new("client CA"));
    let ca_pem = dir.path().join("ca.pem");
    servers.write_pem(&ca_pem);
    let config = servers.server_config_requiring_client(&["127.0.0.1"], &clients);
    let server = serve_tls(config, |_| Reply::ok(ANSWER));
    Mtls { dir: dir.path().to_owned(), _dir: dir, ca_pem, clients, server }
}

#[test]
fn a_server_that_requires_a_client_certificate_gets_one() {
    let m = mtls_server();
    let fallback = serve_ok(ANSWER);
    let p = provisioner(&[m.server.url("/"), fallback.url("/")]);
    p.set_ca_file(Some(&m.ca_pem)).unwrap();

    // Without a certificate: the next URL serves, and the reason is named.
    let records = logged(&p);
    assert_eq!(p.run(None).unwrap().source_url, fallback.url("/"));
    let first = records.lock().unwrap()[0].clone();
    assert_eq!(first.status, Status::PROVISION_ERR_FETCH);
    assert!(first.message.contains("requires a client certificate"), "{}", first.message);

    let files = m.clients.client_files(&m.dir, "phone-1");
    p.set_client_cert(Some(&files.chain), Some(&files.key)).unwrap();
    assert_eq!(p.run(None).unwrap().source_url, m.server.url("/"));
    assert_eq!(m.server.requests().len(), 1, "only the run with a certificate got through");

    // Removed again: back to failing over.
    p.set_client_cert(None, None).unwrap();
    assert_eq!(p.run(None).unwrap().source_url, fallback.url("/"));
}

#[test]
fn a_certificate_from_another_ca_is_refused_by_the_server() {
    let m = mtls_server();
    let stranger = Ca::new("stranger CA").client_files(&m.dir, "stranger");
    let p = provisioner(&[m.server.url("/")]);
    p.set_ca_file(Some(&m.ca_pem)).unwrap();
    p.set_client_cert(Some(&stranger.chain), Some(&stranger.key)).unwrap();
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH);
    assert!(err.message.contains("refused the client certificate"), "{err}");
}

#[test]
fn bad_client_certificate_files_are_refused_and_change_nothing() {
    let m = mtls_server();
    let one = m.clients.client_files(&m.dir, "one");
    let two = m.clients.client_files(&m.dir, "two");
    let p = provisioner(&[m.server.url("/")]);
    p.set_ca_file(Some(&m.ca_pem)).unwrap();
    p.set_client_cert(Some(&one.chain), Some(&one.key)).unwrap();
    let key_text = std::fs::read_to_string(&two.key).unwrap();
    let key_body = key_text.lines().nth(1).unwrap().to_owned();

    let err = p.set_client_cert(Some(&one.chain), Some(&two.key)).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
    assert!(err.message.contains("does not match") && err.message.contains("two.key"), "{err}");

    let err = p.set_client_cert(Some(&one.key), Some(&one.key)).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
    assert!(err.message.contains("no PEM certificate") && err.message.contains("one.key"), "{err}");

    let err = p.set_client_cert(Some(&one.chain), Some(&one.chain)).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
    assert!(err.message.contains("no private key") && err.message.contains("one.crt"), "{err}");

    // A damaged key: its content is never quoted.
    let damaged = m.dir.join("damaged.key");
    std::fs::write(&damaged, key_text.replace("-----END PRIVATE KEY-----", "")).unwrap();
    let err = p.set_client_cert(Some(&one.chain), Some(&damaged)).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
    assert!(!err.message.contains(&key_body[..20]), "{err}");

    let err = p.set_client_cert(Some(&one.chain), Some(&m.dir.join("absent.key"))).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_IO);
    assert!(err.message.contains("absent.key"), "{err}");
    assert_eq!(p.set_client_cert(Some(&one.chain), None).unwrap_err().status, Status::PROVISION_ERR_ARGUMENT);

    // Read once: replacing the files later changes nothing.
    std::fs::write(&one.key, "gone").unwrap();
    p.run(None).expect("the certificate set before the failures is still presented");
}

/// `openssl` with `args`, its standard output (the tests' one use of the
/// openssl command: rcgen makes neither RSA keys nor traditional PEM).
fn openssl(args: &[&str]) -> String {
    let out = std::process::Command::new("openssl").args(args).output().expect("openssl (.ci/install-deps)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn rsa_and_ec_keys_in_their_traditional_pem_forms_work_too() {
    let m = mtls_server();
    let rsa = openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
    let cases = [
        ("rsa", rcgen::KeyPair::from_pem(&rsa).unwrap(), "-----BEGIN RSA PRIVATE KEY-----"),
        ("ec", rcgen::KeyPair::generate().unwrap(), "-----BEGIN EC PRIVATE KEY-----"),
    ];
    for (name, key, header) in cases {
        let files = m.clients.client_files_for(&m.dir, name, key);
        let key_path = files.key.to_str().unwrap();
        let traditional = openssl(&["pkey", "-in", key_path, "-traditional"]);
        assert!(traditional.starts_with(header), "{name}: {traditional:.40}");
        std::fs::write(&files.key, traditional).unwrap();
        let p = provisioner(&[m.server.url("/")]);
        p.set_ca_file(Some(&m.ca_pem)).unwrap();
        p.set_client_cert(Some(&files.chain), Some(&files.key)).unwrap_or_else(|e| panic!("{name}: {e}"));
        p.run(None).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_eq!(m.server.requests().len(), 2);
}

// ---- proxies -----------------------------------------------------------

#[test]
fn runs_go_through_a_proxy_that_wants_credentials_for_http_and_https() {
    let proxy = Proxy::start(Some(("corp", "proxy-pa55 wörd")));
    let plain = serve_ok(ANSWER);
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("operator CA");
    let ca_pem = dir.path().join("ca.pem");
    ca.write_pem(&ca_pem);
    let https = serve_tls(ca.server_config(&["127.0.0.1"]), |_| Reply::ok(ANSWER));

    for target in [plain.url("/"), https.url("/")] {
        let p = provisioner(&[target.clone()]);
        p.set_ca_file(Some(&ca_pem)).unwrap();
        p.set_proxy(Some(&proxy.url("corp:proxy-pa55%20w%C3%B6rd@"))).unwrap();
        assert_eq!(p.run(None).unwrap().source_url, target);
    }
    let asked = proxy.asked();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(asked.iter().all(|a| a.method == "CONNECT" && a.authorized), "{asked:?}");
    assert_eq!(asked[0].target, format!("127.0.0.1:{}", plain.port));
    assert_eq!(asked[1].target, format!("127.0.0.1:{}", https.port));
}

#[test]
fn a_407_says_whether_credentials_are_wanted_or_refused() {
    let proxy = Proxy::start(Some(("corp", "proxy-pa55 wörd")));
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")]);
    let records = logged(&p);

    p.set_proxy(Some(&proxy.url(""))).unwrap();
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH);
    assert!(err.message.contains("wants credentials") && err.message.contains("407"), "{err}");

    p.set_proxy(Some(&proxy.url("corp:wrong-pa55@"))).unwrap();
    let err = p.run(None).unwrap_err();
    assert!(err.message.contains("refused the credentials"), "{err}");
    assert!(err.message.contains(&proxy.url("corp@")), "names the proxy without its password: {err}");
    assert!(!err.message.contains("wrong-pa55"), "{err}");
    assert!(records.lock().unwrap().iter().all(|r| !r.message.contains("wrong-pa55")));
    assert!(server.requests().is_empty(), "nothing reached the server");

    // "" means no proxy at all.
    p.set_proxy(Some("")).unwrap();
    p.run(None).unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn an_unreachable_proxy_is_named_as_the_cause() {
    let dead = common::DeadPort::new();
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")]);
    p.set_proxy(Some(&format!("http://corp:unreach-pa55@127.0.0.1:{}", dead.port))).unwrap();
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH);
    assert!(err.message.contains(&format!("through the proxy http://corp@127.0.0.1:{}", dead.port)), "{err}");
    assert!(!err.message.contains("unreach-pa55"), "{err}");
}

#[test]
fn bad_proxy_urls_are_arguments_and_never_repeated() {
    let p = provisioner(&["http://127.0.0.1:1/".to_owned()]);
    for bad in ["socks5://u:s3cret@h:1", "http://u:s3cret@h", "u:s3cret@h:1", "http://u:s3cret@h:1/x"] {
        let err = p.set_proxy(Some(bad)).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_ARGUMENT, "{bad}");
        assert!(!err.message.contains("s3cret"), "{err}");
    }
}

// ---- extra headers -----------------------------------------------------

#[test]
fn extra_headers_reach_the_base_url_and_never_another_origin() {
    let other = serve_ok(ANSWER);
    let elsewhere = other.url("/configuration");
    let server = serve(
        move |r: &Request| {
            if r.path() == "/hop/configuration" {
                Reply::redirect(&elsewhere)
            } else {
                Reply::ok(ANSWER)
            }
        },
    );
    let p = provisioner(&[server.url("/")]);
    p.set_header("X-Device-Id", Some("phone-42")).unwrap();
    p.set_header("X-Operator-Token", Some("hdr-t0ken-secret")).unwrap();
    p.run(None).unwrap();
    let seen = &server.requests()[0];
    assert_eq!(seen.header("X-Device-Id"), Some("phone-42"));
    assert_eq!(seen.header("X-Operator-Token"), Some("hdr-t0ken-secret"));

    // After a redirect to another origin, none of them goes.
    let hop = provisioner(&[server.url("/hop/")]);
    hop.set_header("X-Operator-Token", Some("hdr-t0ken-secret")).unwrap();
    let records = logged(&hop);
    hop.run(None).unwrap();
    let redirected = &other.requests()[0];
    assert_eq!(redirected.header("X-Operator-Token"), None);
    assert_eq!(server.requests()[1].header("X-Operator-Token"), Some("hdr-t0ken-secret"));
    assert!(records.lock().unwrap().iter().all(|r| !r.message.contains("hdr-t0ken")));

    // Removed: no longer sent.
    p.set_header("X-Operator-Token", None).unwrap();
    p.run(None).unwrap();
    let last = server.requests().pop().unwrap();
    assert_eq!(last.header("X-Operator-Token"), None);
    assert_eq!(last.header("X-Device-Id"), Some("phone-42"));
}

#[test]
fn reserved_and_invalid_headers_are_refused() {
    let p = provisioner(&["http://127.0.0.1:1/".to_owned()]);
    for name in ["Authorization", "HOST", "If-None-Match", "Proxy-Authorization", "User-Agent", "X Y", "X\r\nY"] {
        assert_eq!(p.set_header(name, Some("v")).unwrap_err().status, Status::PROVISION_ERR_ARGUMENT, "{name:?}");
    }
    let err = p.set_header("X-Token", Some("v\r\nInjected: yes")).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_ARGUMENT);
    assert!(!err.message.contains("Injected"), "{err}");
}

// ---- URL templates -----------------------------------------------------

const TEMPLATE_USER: &str = "bob & co";
/// `&`, `=`, `%`, a space and non-ASCII: each breaks a URL unless encoded.
const TEMPLATE_PASSWORD: &str = "p&w=1% ü tmpl";

/// The vendor's example server: `username`, plain `password` and `version`
/// from the query, `<error>` with HTTP 200 on a mismatch.
fn vendor_server() -> common::Server {
    serve(|r: &Request| {
        let query: Vec<(String, String)> =
            url::form_urlencoded::parse(r.query().unwrap_or("").as_bytes()).into_owned().collect();
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        match (get("username"), get("password"), get("version")) {
            (None | Some(""), _, _) => Reply::ok("<error>No username</error>"),
            (Some(TEMPLATE_USER), Some(TEMPLATE_PASSWORD), Some("1.14")) => Reply::ok(ANSWER),
            (Some(TEMPLATE_USER), Some(_), _) => Reply::ok("<error>Wrong password</error>"),
            _ => Reply::ok("<error>Unknown user</error>"),
        }
    })
}

fn template_provisioner(base: &str, options: &str) -> Provisioner {
    Provisioner::from_xml(&provision_xml(&[base.replace('&', "&amp;")], options, "accounts")).unwrap()
}

#[test]
fn a_template_sends_the_credentials_the_vendors_server_reads() {
    let server = vendor_server();
    for template in [
        "/script?username=[username]&password=[password]&version=[version]",
        "/script?username={username}&password={password}&version={version}",
    ] {
        let base = server.url(template);
        let p = template_provisioner(&base, NO_AUTH);
        p.set_credentials(TEMPLATE_USER, TEMPLATE_PASSWORD).unwrap();
        p.set_variable("version", Some("1.14")).unwrap();
        let records = logged(&p);
        let outcome = p.run(None).unwrap_or_else(|e| panic!("{template}: {e}"));
        assert_eq!(outcome.source_url, base, "the template, as written");
        let seen = server.requests().pop().unwrap();
        assert_eq!(seen.path(), "/script/configuration");
        assert!(seen.query().unwrap().contains("password=p%26w%3D1%25%20%C3%BC%20tmpl"), "{seen:?}");
        let records = records.lock().unwrap();
        let url = records[0].url.as_deref().unwrap();
        assert!(url.contains("password=[password]") && url.contains("username=bob%20%26%20co"), "{url}");
    }
}

#[test]
fn a_template_uses_the_files_own_credentials_whatever_use_authentication_says() {
    let server = vendor_server();
    let options = "<use_authentication>0</use_authentication><user_input_authentication>0</user_input_authentication>\
                   <user>bob &amp; co</user><password>p&amp;w=1% ü tmpl</password>";
    let p = template_provisioner(&server.url("/?username=[username]&password=[password]&version=[version]"), options);
    p.set_variable("version", Some("1.14")).unwrap();
    p.run(None).unwrap();
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.requests()[0].header("Authorization"), None, "use_authentication 0: no header");
}

#[test]
fn a_wrong_password_is_the_servers_error_without_the_password() {
    let server = vendor_server();
    let p = template_provisioner(&server.url("/?username=[username]&password=[password]&version=1.14"), NO_AUTH);
    p.set_credentials(TEMPLATE_USER, "wrong-tmpl-pw").unwrap();
    let records = logged(&p);
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_SERVER);
    assert_eq!(err.message, "Wrong password");
    for r in records.lock().unwrap().iter() {
        let url = r.url.as_deref().unwrap_or("");
        assert!(!url.contains("wrong-tmpl-pw") && !r.message.contains("wrong-tmpl-pw"), "{r:?}");
    }
}

#[test]
fn a_template_without_credentials_or_with_an_unknown_placeholder_asks_nothing() {
    let server = vendor_server();
    let p = template_provisioner(&server.url("/?username=[username]&password=[password]"), NO_AUTH);
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_CREDENTIALS, "{err}");
    assert!(err.message.contains("[username]"), "{err}");

    let p = template_provisioner(&server.url("/?username=[username]&version=[versoin]"), NO_AUTH);
    p.set_credentials(TEMPLATE_USER, TEMPLATE_PASSWORD).unwrap();
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT, "{err}");
    assert!(err.message.contains("[versoin]"), "{err}");
    assert!(server.requests().is_empty());

    // Setting it makes the same file work.
    p.set_variable("versoin", Some("1.14")).unwrap();
    assert_eq!(p.run(None).unwrap_err().status, Status::PROVISION_ERR_SERVER, "asked now");
}

#[test]
fn a_plain_url_auth_file_cannot_reach_the_vendors_server_but_a_template_can() {
    // Issue 12's finding, kept as a test: `url` sends user= and an MD5.
    let server = vendor_server();
    let options = "<use_authentication>1</use_authentication><user_input_authentication>0</user_input_authentication>\
                   <authentication_type>url</authentication_type><user>bob</user><password>preset</password>";
    let p = template_provisioner(&server.url("/"), options);
    assert_eq!(p.run(None).unwrap_err().message, "No username");
}

// ---- when settings apply -----------------------------------------------

#[test]
fn a_run_under_way_keeps_the_settings_it_started_with() {
    use std::sync::mpsc;
    let (arrived_tx, arrived) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let (arrived_tx, release_rx) = (Mutex::new(arrived_tx), Mutex::new(release_rx));
    // The first URL holds the run until the test has changed the settings, then fails.
    let slow = serve(move |_| {
        let _ = arrived_tx.lock().unwrap().send(());
        let _ = release_rx.lock().unwrap().recv();
        Reply::xml(500, "busy")
    });
    let second = serve_ok(ANSWER);
    let p = Arc::new(provisioner(&[slow.url("/"), second.url("/?v=[version]")]));
    p.set_header("X-Setting", Some("old")).unwrap();
    p.set_variable("version", Some("1")).unwrap();

    let running = {
        let p = p.clone();
        std::thread::spawn(move || p.run(None))
    };
    arrived.recv().unwrap();
    p.set_header("X-Setting", Some("new")).unwrap();
    p.set_variable("version", Some("2")).unwrap();
    release.send(()).unwrap();
    running.join().unwrap().unwrap();
    let seen = second.requests().pop().unwrap();
    assert_eq!(seen.header("X-Setting"), Some("old"));
    assert_eq!(seen.query(), Some("v=1"));

    // The next run takes the new ones (its first URL released in advance).
    release.send(()).unwrap();
    p.run(None).unwrap();
    let seen = second.requests().pop().unwrap();
    assert_eq!(seen.header("X-Setting"), Some("new"));
    assert_eq!(seen.query(), Some("v=2"));
}

#[test]
fn the_refresh_worker_takes_new_settings_from_its_next_run() {
    use provision::refresh::Refresher;
    use std::sync::mpsc::channel;
    let server = serve_ok(ANSWER);
    let options = format!("{NO_AUTH}<refresh_rate>1</refresh_rate>");
    let p = Arc::new(Provisioner::from_xml(&provision_xml(&[server.url("/")], &options, "accounts")).unwrap());
    p.set_header("X-Round", Some("first")).unwrap();
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let mut worker = Refresher::start(
        p.clone(),
        None,
        Box::new(move |r| {
            let _ = tx.lock().unwrap().send(r.is_ok());
        }),
    )
    .unwrap();
    let patience = std::time::Duration::from_secs(30);
    assert!(rx.recv_timeout(patience).unwrap());
    p.set_header("X-Round", Some("second")).unwrap();
    // A run that had already started when the header changed keeps "first";
    // one of the next few must have "second" (the period is 1 s).
    let rounds = || -> Vec<String> {
        server.requests().iter().map(|r| r.header("X-Round").unwrap_or("(none)").to_owned()).collect()
    };
    for _ in 0..5 {
        assert!(rx.recv_timeout(patience).unwrap());
        if rounds().last().map(String::as_str) == Some("second") {
            break;
        }
    }
    worker.stop();
    let rounds = rounds();
    let switched = rounds.iter().position(|r| r == "second").expect("the worker took the new header");
    assert!(rounds[..switched].iter().all(|r| r == "first") && rounds[switched..].iter().all(|r| r == "second"));
}

#[test]
fn a_provision_section_cannot_move_the_password_into_the_url() {
    let section = provision_xml(
        &["http://127.0.0.1:9/?u=[username]&amp;p=[password]".to_owned()],
        "<use_authentication>1</use_authentication><authentication_type>digest</authentication_type>",
        "accounts,provision",
    );
    let answer = ANSWER.replace("</options>\n", &format!("  {}</options>\n", section.trim()));
    let server = serve_ok(&answer);
    let options = "<use_authentication>1</use_authentication><user_input_authentication>0</user_input_authentication>\
                   <authentication_type>digest</authentication_type><user>bob</user><password>sect-pa55</password>";
    let p = Provisioner::from_xml(&provision_xml(&[server.url("/")], options, "accounts,provision")).unwrap();
    let records = logged(&p);
    p.run(None).unwrap();
    assert_eq!(p.settings().base_urls, [server.url("/")], "the move was refused");
    let records = records.lock().unwrap();
    let notice = records.iter().find(|r| r.url.is_none()).expect("a notice says why");
    assert!(notice.message.contains("[password]"), "{}", notice.message);
}
