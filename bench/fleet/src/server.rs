//! The operator's server, on loopback: answers each handle's
//! `GET /h/ID/configuration` as the scenario says (up, with an ETag and
//! `304` for a matching `If-None-Match`; or down, `503` with or without
//! `Retry-After`) and logs every arrival with the bytes each way.
//!
//! One thread per connection and `Connection: close`: every refresh is a
//! new connection, as it is in the field, where a period (an hour, a day) is
//! far longer than any server's keep-alive.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// An operator's answer: a few accounts' worth of config, about 1 kB.
const CONFIG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<options>\n  <accounts>\n    \
<account><username>phone-user</username><host>sip.example.net</host>\
<transport>tls</transport><expires>600</expires></account>\n  </accounts>\n  <codecs>\
<codec id=\"8\" priority=\"1\"/><codec id=\"0\" priority=\"2\"/><codec id=\"9\" priority=\"3\"/></codecs>\n  \
<provision_version>VERSION</provision_version>\n</options>\n";

/// What the server does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Up,
    /// `503`, with `Retry-After: seconds` when given.
    Down(Option<u32>),
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// Seconds since the scenario began, when the request's head was read.
    pub at: f64,
    pub handle: u32,
    pub status: u16,
    pub request_bytes: usize,
    pub answer_bytes: usize,
}

struct Shared {
    began: Instant,
    mode: Mutex<Mode>,
    /// The config's version: its ETag is `"vN"`.
    version: AtomicU32,
    log: Mutex<Vec<Arrival>>,
    stop: AtomicBool,
}

pub struct Server {
    pub port: u16,
    shared: Arc<Shared>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Listening when it returns; times are counted from `began`.
    pub fn start(began: Instant) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            began,
            mode: Mutex::new(Mode::Up),
            version: AtomicU32::new(1),
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let accept = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let shared = shared.clone();
                        std::thread::spawn(move || answer(stream, &shared));
                    }
                }
            })
        };
        Server { port, shared, accept: Some(accept) }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// The operator changes the config: every handle fetches it again once.
    pub fn change_config(&self) {
        self.shared.version.fetch_add(1, Ordering::SeqCst);
    }

    pub fn arrivals(&self) -> Vec<Arrival> {
        self.shared.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn answer(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
        if head.len() > 16 * 1024 {
            return;
        }
    }
    let at = shared.began.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&head);
    let Some(handle) = handle_of(&text) else { return };
    let etag = format!("\"v{}\"", shared.version.load(Ordering::SeqCst));
    let mode = *shared.mode.lock().unwrap();
    let (status, bytes) = match mode {
        Mode::Down(retry_after) => {
            let retry = retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
            let head = format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n{retry}\
                 Connection: close\r\n\r\nbusy"
            );
            (503, head.into_bytes())
        }
        Mode::Up if if_none_match(&text) == Some(etag.as_str()) => {
            (304, format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n").into_bytes())
        }
        Mode::Up => {
            let body = CONFIG.replace("VERSION", &shared.version.load(Ordering::SeqCst).to_string());
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nETag: {etag}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            (200, [head.into_bytes(), body.into_bytes()].concat())
        }
    };
    let _ = stream.write_all(&bytes);
    let _ = stream.shutdown(Shutdown::Write);
    shared.log.lock().unwrap().push(Arrival {
        at,
        handle,
        status,
        request_bytes: head.len(),
        answer_bytes: bytes.len(),
    });
}

/// `17` from `GET /h/17/configuration HTTP/1.1`.
fn handle_of(head: &str) -> Option<u32> {
    let target = head.lines().next()?.split(' ').nth(1)?;
    target.strip_prefix("/h/")?.strip_suffix("/configuration")?.parse().ok()
}

fn if_none_match(head: &str) -> Option<&str> {
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("if-none-match").then(|| value.trim())
    })
}
