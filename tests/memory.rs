//! Memory stays proportional to the answer (issue 10, section 5): a run's
//! peak RSS grows by less than 3x the answer's size, whatever its shape. A
//! 31 MiB answer of `<a/>` elements made the process grow by 652 MiB.
//!
//! Each shape runs in a child process (this test binary again, one test
//! selected) so that the peak (getrusage's maxrss) is that run's alone.

mod common;

use common::{provision_xml, serve, Reply};
use provision::Provisioner;
use std::io::Write;
use std::process::Command;
use std::sync::Arc;

const SHAPE: &str = "PROVISION_MEMORY_SHAPE";
const ANSWER_BYTES: usize = 31 * 1024 * 1024;

/// An answer of about `ANSWER_BYTES`: `head`, `unit` repeated, `tail`, in
/// one exactly sized buffer (no doubling peak before the measure).
fn answer(head: &str, unit: &str, tail: &str) -> Vec<u8> {
    let n = (ANSWER_BYTES - head.len() - tail.len()) / unit.len();
    let mut out = Vec::with_capacity(head.len() + n * unit.len() + tail.len());
    out.extend_from_slice(head.as_bytes());
    for _ in 0..n {
        out.extend_from_slice(unit.as_bytes());
    }
    out.extend_from_slice(tail.as_bytes());
    out
}

fn shaped(shape: &str) -> Vec<u8> {
    match shape {
        // The reproduction: every element a section.
        "flat" => answer("<options><accounts/>", "<a/>", "</options>"),
        // Every element inside one provisioned section.
        "deep" => answer("<options><accounts>", "<a/>", "</accounts></options>"),
        // As many provisioned copies as the scan keeps, each large.
        "copies" => {
            let filler = "x".repeat(ANSWER_BYTES / 99_000 - "<accounts><a></a></accounts>".len());
            answer("<options>", &format!("<accounts><a>{filler}</a></accounts>"), "</options>")
        }
        // Sections up to the bound, then the rest of the answer in text.
        "mixed" => {
            let mut head = String::from("<options>");
            head.push_str(&"<a/>".repeat(99_990));
            head.push_str("<accounts>");
            answer(&head, "x &amp; y ", "</accounts></options>")
        }
        other => panic!("unknown shape {other}"),
    }
}

fn rss_now() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn max_rss() -> usize {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    usage.ru_maxrss as usize * 1024
}

/// The child: serves the shape from a shared buffer (no copy per request),
/// runs once with a cache, prints the answer's size and the growth.
#[test]
fn child_one_run() {
    let Ok(shape) = std::env::var(SHAPE) else { return };
    let body = Arc::new(shaped(&shape));
    let served = body.clone();
    let server = serve(move |_| {
        let body = served.clone();
        Reply::With(Box::new(move |s| {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(&body));
        }))
    });
    let dir = tempfile::tempdir().unwrap();
    let p = Provisioner::from_xml(&provision_xml(&[server.url("/")], "", "accounts,provision")).unwrap();
    p.set_cache(Some(&dir.path().join("cache.xml")));
    let before = rss_now();
    let result = p.run(None).map(|o| o.config.len());
    let growth = max_rss().saturating_sub(before);
    println!("MEASURE {} {growth} {result:?}", body.len());
}

#[test]
fn a_run_grows_by_less_than_three_times_the_answer_whatever_its_shape() {
    for shape in ["flat", "deep", "copies", "mixed"] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_one_run", "--nocapture", "--test-threads=1"])
            .env(SHAPE, shape)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{shape}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        let line = stdout.split("MEASURE ").nth(1).and_then(|l| l.lines().next());
        let mut words = line.unwrap_or_else(|| panic!("{shape}: {stdout}")).split_whitespace();
        let size: usize = words.next().unwrap().parse().unwrap();
        let growth: usize = words.next().unwrap().parse().unwrap();
        let result = words.collect::<Vec<_>>().join(" ");
        eprintln!(
            "{shape}: a {:.1} MiB answer, the run grew by {:.1} MiB ({:.2}x): {result}",
            mib(size),
            mib(growth),
            growth as f64 / size as f64
        );
        assert!(size > 30 * 1024 * 1024, "{shape}: {size}");
        assert!(growth < 3 * size, "{shape}: the run grew by {:.1} MiB for a {:.1} MiB answer", mib(growth), mib(size));
        // The shapes the bound allows merge; the reproduction is refused.
        assert_eq!(result.starts_with("Ok"), shape != "flat", "{shape}: {result}");
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
