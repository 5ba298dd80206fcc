//! The environment's proxy, and `""` that bypasses it. A file of its own:
//! the environment is the process's, and this file's one test is the only
//! one in its process that sets it.

mod common;

use common::proxy::Proxy;
use common::{provision_xml, serve_ok, ANSWER};
use provision::Provisioner;

#[test]
fn the_environments_proxy_is_used_unless_the_host_says_none() {
    let proxy = Proxy::start(None);
    let server = serve_ok(ANSWER);
    for name in ["NO_PROXY", "no_proxy", "all_proxy", "HTTP_PROXY", "http_proxy", "https_proxy"] {
        std::env::remove_var(name);
    }
    std::env::set_var("ALL_PROXY", proxy.url(""));
    std::env::set_var("HTTPS_PROXY", proxy.url(""));

    let xml = provision_xml(&[server.url("/")], "<use_authentication>0</use_authentication>", "accounts");
    let p = Provisioner::from_xml(&xml).unwrap();
    p.run(None).unwrap();
    assert_eq!(proxy.asked().len(), 1, "by default the environment's proxy is used");

    p.set_proxy(Some("")).unwrap();
    p.run(None).unwrap();
    assert_eq!(proxy.asked().len(), 1, "\"\" bypasses it");
    assert_eq!(server.requests().len(), 2);

    p.set_proxy(None).unwrap();
    p.run(None).unwrap();
    assert_eq!(proxy.asked().len(), 2, "None goes back to the environment");

    // The environment is read when the setting is made, not by every setter.
    std::env::remove_var("ALL_PROXY");
    std::env::remove_var("HTTPS_PROXY");
    p.set_timeouts(std::time::Duration::from_secs(5), std::time::Duration::from_secs(30)).unwrap();
    p.run(None).unwrap();
    assert_eq!(proxy.asked().len(), 3, "still the proxy read before");
    p.set_proxy(None).unwrap();
    p.run(None).unwrap();
    assert_eq!(proxy.asked().len(), 3, "read again: none now");
    assert_eq!(server.requests().len(), 5);
}
