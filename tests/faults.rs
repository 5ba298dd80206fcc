//! A fault-injecting server: every way a provisioning server can misbehave,
//! each followed by a healthy URL that must then be used, and all of them at
//! once, where the final error must name every URL and what went wrong.

mod common;

use common::{provision_xml, serve, serve_ok, DeadPort, Reply, Server, Stream, ANSWER};
use provision::fetch::MAX_ANSWER_BYTES;
use provision::{Provisioner, Status};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const NO_AUTH: &str = "<use_authentication>0</use_authentication>";
const CONNECT_MS: u32 = 1000;
const TOTAL_MS: u32 = 1500;

/// Accepts the request, then says nothing until the client gives up.
fn silence() -> Reply {
    Reply::With(Box::new(|s: &mut dyn Stream| {
        let _ = s.tcp().set_read_timeout(Some(Duration::from_secs(20)));
        let _ = s.read(&mut [0u8; 64]); // returns when the client hangs up
    }))
}

/// A valid head, then one byte of body every 100 ms.
fn trickle() -> Reply {
    Reply::With(Box::new(|s: &mut dyn Stream| {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", ANSWER.len());
        if s.write_all(head.as_bytes()).is_err() {
            return;
        }
        for byte in ANSWER.bytes().take(300) {
            if s.write_all(&[byte]).and_then(|_| s.flush()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }))
}

/// Half of the promised body, then a clean close.
fn truncated() -> Reply {
    let half = &ANSWER.as_bytes()[..ANSWER.len() / 2];
    let mut bytes = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", ANSWER.len()).into_bytes();
    bytes.extend_from_slice(half);
    Reply::Raw(bytes)
}

/// Half of the body, then a TCP reset (SO_LINGER 0).
fn reset() -> Reply {
    Reply::With(Box::new(|s: &mut dyn Stream| {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", ANSWER.len());
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&ANSWER.as_bytes()[..ANSWER.len() / 2]);
        let _ = s.flush();
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: a valid socket and a correctly sized option value.
        unsafe {
            libc::setsockopt(
                s.tcp().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &linger as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }))
}

/// A body that never ends (no length, chunks until the client hangs up),
/// bounded here only so that the server stops by itself.
fn endless() -> Reply {
    Reply::With(Box::new(|s: &mut dyn Stream| {
        if s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n<options>")
            .is_err()
        {
            return;
        }
        let chunk = vec![b' '; 64 * 1024];
        let limit = 2 * MAX_ANSWER_BYTES as usize;
        let mut sent = 0;
        while sent < limit && s.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
    }))
}

/// A small gzip body that inflates beyond the cap.
fn gzip_bomb() -> Reply {
    use flate2::{write::GzEncoder, Compression};
    let mut member = GzEncoder::new(Vec::new(), Compression::best());
    member.write_all(&vec![b' '; 1 << 20]).unwrap();
    let member = member.finish().unwrap();
    let megabytes = (MAX_ANSWER_BYTES >> 20) as usize + 8;
    let body: Vec<u8> = member.iter().copied().cycle().take(member.len() * megabytes).collect();
    assert!(body.len() < 2 << 20, "small on the wire: {} bytes", body.len());
    Reply::Http {
        status: 200,
        headers: vec![("Content-Encoding".into(), "gzip".into()), ("Content-Type".into(), "application/xml".into())],
        body,
    }
}

/// The whole answer, with a Content-Length that cuts it short.
fn short_content_length() -> Reply {
    let mut bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\nConnection: close\r\n\r\n".to_vec();
    bytes.extend_from_slice(ANSWER.as_bytes());
    Reply::Raw(bytes)
}

fn status(code: u16, body: &'static str) -> impl Fn() -> Reply {
    move || Reply::xml(code, body)
}

/// A misbehaving server, the reason its URL must be reported with, and
/// whether it answered `<error>` (which the user is shown instead).
struct Fault {
    name: &'static str,
    reply: Box<dyn Fn() -> Reply + Send + Sync>,
    reason: &'static str,
    server_error: bool,
}

fn fault(name: &'static str, reply: impl Fn() -> Reply + Send + Sync + 'static, reason: &'static str) -> Fault {
    Fault { name, reply: Box::new(reply), reason, server_error: false }
}

fn faults() -> Vec<Fault> {
    let redirect_loop =
        || Reply::Http { status: 301, headers: vec![("Location".into(), "/configuration".into())], body: Vec::new() };
    let mut all = vec![
        fault("accept then silence", silence, "timed out"),
        fault("trickle", trickle, "timed out"),
        fault("truncated body", truncated, "closed before the whole answer arrived"),
        fault("reset mid-body", reset, "closed before the whole answer arrived"),
        fault("301 loop", redirect_loop, "more than 5 redirects"),
        fault("401", status(401, "who are you"), "HTTP 401"),
        fault("403", status(403, ""), "HTTP 403"),
        fault("500", status(500, "<html>oops</html>"), "HTTP 500"),
        fault("empty 200", status(200, ""), "not well-formed"),
        fault(
            "HTML 200",
            status(200, "<html><body><p>Sign in to the hotspot</p></body></html>"),
            "none of the significant sections",
        ),
        fault("endless body", endless, "larger than"),
        fault("gzip bomb", gzip_bomb, "larger than"),
        fault("wrong Content-Length", short_content_length, "not well-formed"),
    ];
    for code in [401, 403, 500] {
        all.push(Fault {
            name: "an <error> answer",
            reply: Box::new(move || Reply::xml(code, "<error>Account locked</error>")),
            reason: "server error: Account locked",
            server_error: true,
        });
    }
    all
}

fn start(reply: Box<dyn Fn() -> Reply + Send + Sync>) -> Server {
    serve(move |_| reply())
}

fn provisioner(urls: &[String]) -> Provisioner {
    let p = Provisioner::from_xml(&provision_xml(urls, NO_AUTH, "accounts")).unwrap();
    p.set_timeouts(Duration::from_millis(CONNECT_MS.into()), Duration::from_millis(TOTAL_MS.into())).unwrap();
    p
}

/// Far more than the timeouts set, far less than the defaults (30 s): a
/// bound that shows the timeout applied without timing anything finely.
const GENEROUS: Duration = Duration::from_secs(15);

#[test]
fn each_fault_falls_back_to_a_healthy_second_url() {
    let dead = DeadPort::new();
    let good = serve_ok(ANSWER);
    let p = provisioner(&[dead.url(), good.url("/")]);
    assert_eq!(p.run(None).unwrap().source_url, good.url("/"), "refused");

    for Fault { name, reply, .. } in faults() {
        let bad = start(reply);
        let p = provisioner(&[bad.url("/"), good.url("/")]);
        let started = Instant::now();
        let outcome = p.run(None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(outcome.source_url, good.url("/"), "{name}");
        assert!(!bad.requests().is_empty(), "{name}: the bad server was asked");
        assert!(started.elapsed() < GENEROUS, "{name}: took {:?}", started.elapsed());
    }
}

#[test]
fn when_all_fail_the_error_names_every_url_and_its_reason() {
    let dead = DeadPort::new();
    let mut servers = Vec::new();
    let mut expected = vec![(format!("{}configuration", dead.url()), "Connection refused")];
    for Fault { reply, reason, .. } in faults().into_iter().filter(|f| !f.server_error) {
        let server = start(reply);
        expected.push((server.url("/configuration"), reason));
        servers.push(server);
    }
    let mut urls = vec![dead.url()];
    urls.extend(servers.iter().map(|s| s.url("/")));
    let err = provisioner(&urls).run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_FETCH, "{err}");
    let parts: Vec<&str> = err.message.trim_start_matches("no base URL succeeded: ").split("; ").collect();
    assert_eq!(parts.len(), expected.len(), "{err}");
    for (part, (url, reason)) in parts.iter().zip(&expected) {
        assert!(part.starts_with(&format!("{url}: ")), "in order: {part}");
        assert!(part.contains(reason), "{url} should say '{reason}': {part}");
    }
}

#[test]
fn error_answers_in_an_all_bad_list_are_shown_to_the_user() {
    let mut servers: Vec<Server> = faults().into_iter().map(|f| start(f.reply)).collect();
    let last = servers.len() - 1;
    servers.rotate_left(last); // an <error> server first, then the rest
    let urls: Vec<String> = servers.iter().map(|s| s.url("/")).collect();
    let err = provisioner(&urls).run(None).unwrap_err();
    assert_eq!((err.status, err.message.as_str()), (Status::PROVISION_ERR_SERVER, "Account locked"));
}

#[test]
fn zero_timeouts_are_refused() {
    let p = provisioner(&["http://127.0.0.1/".into()]);
    for (connect, total) in [(0, 1000), (1000, 0)] {
        let err = p.set_timeouts(Duration::from_millis(connect), Duration::from_millis(total)).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_ARGUMENT);
    }
}
