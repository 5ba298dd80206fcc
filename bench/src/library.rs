//! The library and its HTTP client as contestants: the merge through the
//! Rust API, the provision file the C ABI runs, the bare GET.

use crate::gen;
use provision::fetch::{configuration_url, md5_hex, DEFAULT_USER_AGENT, MAX_ANSWER_BYTES};
use provision::merge::{self, Doc};
use provision::xml::Scan;
use std::time::Duration;

/// The library's merge through its Rust API, from the two documents' text
/// to the merged text: both scans (every well-formedness check) and the copy.
/// Like the floor, it starts from `&str`; what checking raw bytes first
/// (`xml::check_text`: UTF-8, no NUL) adds is timed on its own.
pub fn lib_merge(local: &str, answer: &str, significant: &[String]) -> Result<String, String> {
    let (local_scan, answer_scan, provisioned) = scan_both(local, answer, significant)?;
    Ok(merge::merge(
        Some(Doc { text: local, scan: &local_scan }),
        Doc { text: answer, scan: &answer_scan },
        &provisioned,
    ))
}

/// The same, written with `merge_to` into `out`: what a caller that reuses
/// its buffer, or writes straight to a file, pays.
pub fn lib_merge_to(
    local: &str,
    answer: &str,
    significant: &[String],
    out: &mut impl std::io::Write,
) -> Result<(), String> {
    let (local_scan, answer_scan, provisioned) = scan_both(local, answer, significant)?;
    merge::merge_to(
        out,
        Some(Doc { text: local, scan: &local_scan }),
        Doc { text: answer, scan: &answer_scan },
        &provisioned,
    )
    .map_err(|e| e.to_string())
}

pub fn scan_both(local: &str, answer: &str, significant: &[String]) -> Result<(Scan, Scan, Vec<String>), String> {
    let local_scan = Scan::new(local).map_err(|e| format!("local: {e}"))?;
    let answer_scan = Scan::new(answer).map_err(|e| format!("answer: {e}"))?;
    let provisioned = significant.iter().filter(|s| answer_scan.has_section(s)).cloned().collect();
    Ok((local_scan, answer_scan, provisioned))
}

pub fn significant() -> Vec<String> {
    gen::SIGNIFICANT.split(',').map(String::from).collect()
}

const USER: &str = "bench";
const PASSWORD: &str = "s3cret";

/// A provision file asking `urls` in turn, with `url` authentication so
/// that the request carries the query a real deployment sends.
pub fn provision_xml(urls: &[String]) -> String {
    let urls: String = urls.iter().map(|u| format!("<base_url>{u}</base_url>")).collect();
    format!(
        "<provision><base_urls>{urls}</base_urls><options><use_authentication>1</use_authentication>\
         <user_input_authentication>0</user_input_authentication><authentication_type>url</authentication_type>\
         <user>{USER}</user><password>{PASSWORD}</password><refresh_rate>0</refresh_rate></options>\
         <significant_sections>{}</significant_sections></provision>",
        gen::SIGNIFICANT
    )
}

/// The library's HTTP client as the library configures it (src/fetch.rs),
/// for the bare GET that is the floor of a run.
pub fn agent() -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_global(Some(Duration::from_secs(30)))
        .user_agent(DEFAULT_USER_AGENT)
        .accept("application/xml, text/xml;q=0.9, */*;q=0.1")
        .tls_config(tls)
        .build()
        .new_agent()
}

pub fn bare_get(agent: &ureq::Agent, url: &str) -> Result<usize, String> {
    // The library names itself on each request (a host may set its own name).
    let request = agent.get(url).header("User-Agent", DEFAULT_USER_AGENT);
    let mut response = request.call().map_err(|e| e.to_string())?;
    let body = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_vec().map_err(|e| e.to_string())?;
    Ok(body.len())
}

/// The URL `provision_run` requests for `base`: `configuration` appended,
/// user and MD5 of the password in the query.
pub fn request_url(base: &str) -> String {
    let mut url = configuration_url(base).expect("a valid base URL");
    url.set_query(Some(&format!("user={USER}&password={}", md5_hex(PASSWORD))));
    url.to_string()
}
