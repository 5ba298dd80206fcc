//! HTTPS against real TLS servers on loopback whose certificates come from
//! a CA made for the test: the system's store alone does not trust it, an
//! added CA file does, and a certificate for another host never passes.

mod common;

use common::tls::{serve_tls, Ca};
use common::{provision_xml, serve, serve_ok, Reply, ANSWER};
use provision::{Provisioner, Status};

const NO_AUTH: &str = "<use_authentication>0</use_authentication>";

fn provisioner(urls: &[String]) -> Provisioner {
    Provisioner::from_xml(&provision_xml(urls, NO_AUTH, "accounts")).unwrap()
}

/// A CA made for the test and its certificate as a PEM file in a temp folder
/// (kept alive by the returned guard).
fn operator_ca() -> (tempfile::TempDir, Ca, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("operator CA");
    let pem = dir.path().join("ca.pem");
    ca.write_pem(&pem);
    (dir, ca, pem)
}

#[test]
fn an_unknown_ca_fails_and_the_next_url_is_tried() {
    let ca = Ca::new("operator CA");
    let https = serve_tls(ca.server_config(&["127.0.0.1"]), |_| Reply::ok(ANSWER));
    let fallback = serve_ok(ANSWER);
    let p = provisioner(&[https.url("/"), fallback.url("/")]);
    assert_eq!(p.run(None).unwrap().source_url, fallback.url("/"));
    assert!(https.requests().is_empty(), "no request is sent over an unverified connection");

    let alone = provisioner(&[https.url("/")]);
    let err = alone.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH);
    assert!(err.message.contains(&https.url("/configuration")), "{err}");
    assert!(err.message.to_lowercase().contains("certificate"), "says why: {err}");
}

#[test]
fn an_added_ca_is_trusted() {
    let (_dir, ca, pem) = operator_ca();
    let https = serve_tls(ca.server_config(&["127.0.0.1"]), |_| Reply::ok(ANSWER));
    let p = provisioner(&[https.url("/")]);
    p.set_ca_file(Some(&pem)).unwrap();
    assert_eq!(p.run(None).unwrap().source_url, https.url("/"));
    assert_eq!(https.requests().len(), 1);

    // Back to the system's store alone: the CA is no longer trusted.
    p.set_ca_file(None).unwrap();
    assert_eq!(p.run(None).unwrap_err().status, Status::PROVISION_ERR_FETCH);
}

#[test]
fn a_certificate_for_another_host_fails_even_from_a_trusted_ca() {
    let (_dir, ca, pem) = operator_ca();
    let https = serve_tls(ca.server_config(&["prov.example.net"]), |_| Reply::ok(ANSWER));
    let fallback = serve_ok(ANSWER);
    let p = provisioner(&[https.url("/"), fallback.url("/")]);
    p.set_ca_file(Some(&pem)).unwrap();
    assert_eq!(p.run(None).unwrap().source_url, fallback.url("/"));
    assert!(https.requests().is_empty());

    let alone = provisioner(&[https.url("/")]);
    alone.set_ca_file(Some(&pem)).unwrap();
    let err = alone.run(None).unwrap_err();
    assert!(err.message.contains("not valid for name \"127.0.0.1\""), "{err}");
}

#[test]
fn https_never_redirects_to_http() {
    let (_dir, ca, pem) = operator_ca();
    let plain = serve_ok(ANSWER);
    let target = plain.url("/configuration");
    let https = serve_tls(ca.server_config(&["127.0.0.1"]), move |_| Reply::redirect(&target));
    let p = provisioner(&[https.url("/")]);
    p.set_ca_file(Some(&pem)).unwrap();
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH);
    assert!(err.message.contains("refused a redirect from https to http"), "{err}");
    assert_eq!(https.requests().len(), 1);
    assert!(plain.requests().is_empty(), "the downgraded URL is never asked");

    // https to https is fine.
    let https_target = serve_tls(ca.server_config(&["127.0.0.1"]), |_| Reply::ok(ANSWER));
    let target = https_target.url("/configuration");
    let hop = serve_tls(ca.server_config(&["127.0.0.1"]), move |_| Reply::redirect(&target));
    let p = provisioner(&[hop.url("/")]);
    p.set_ca_file(Some(&pem)).unwrap();
    p.run(None).unwrap();
    assert_eq!(https_target.requests().len(), 1);
}

#[test]
fn a_bad_ca_file_is_refused_and_changes_nothing() {
    let (dir, ca, pem) = operator_ca();
    let https = serve_tls(ca.server_config(&["127.0.0.1"]), |_| Reply::ok(ANSWER));
    let p = provisioner(&[https.url("/")]);
    p.set_ca_file(Some(&pem)).unwrap();

    let err = p.set_ca_file(Some(&dir.path().join("absent.pem"))).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_IO);
    assert!(err.message.contains("absent.pem"), "{err}");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let err = p.set_ca_file(Some(&junk)).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FORMAT);
    assert!(err.message.contains("junk.pem"), "{err}");

    p.run(None).expect("the CA set before the failures is still trusted");
}

#[test]
fn plain_http_servers_are_unaffected_by_a_ca_file() {
    let (_dir, _ca, pem) = operator_ca();
    let plain = serve(|_| Reply::ok(ANSWER));
    let p = provisioner(&[plain.url("/")]);
    p.set_ca_file(Some(&pem)).unwrap();
    p.run(None).unwrap();
}
