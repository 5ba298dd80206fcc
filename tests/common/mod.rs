//! Real servers on 127.0.0.1 for the integration tests.
//!
//! `serve` answers every request with what a closure says, including
//! malformed HTTP, so the same server injects faults. It listens before it
//! returns: tests never wait or sleep for it.

#![allow(dead_code)]

pub mod proxy;
pub mod tls;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// When the server had read it: gaps between requests show back-off.
    pub at: std::time::Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }
}

/// What the server sends back.
pub enum Reply {
    /// A complete response with a body.
    Http { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// These bytes, as they are, then close.
    Raw(Vec<u8>),
    /// Whatever the closure does with the connection (faults), then close.
    With(Fault),
}

/// What a fault-injecting reply does with the connection.
pub type Fault = Box<dyn FnOnce(&mut dyn Stream) + Send>;

/// A server's side of a connection, plain or TLS; `tcp` reaches the socket
/// under it (to reset it, to time a read).
pub trait Stream: Read + Write + Send {
    fn tcp(&self) -> &TcpStream;
}

impl Stream for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

/// Turns an accepted connection into a stream (a TLS handshake), or drops it.
pub type Wrap = dyn Fn(TcpStream) -> Option<Box<dyn Stream>> + Send + Sync;

impl Reply {
    pub fn xml(status: u16, body: &str) -> Reply {
        Reply::Http {
            status,
            headers: vec![("Content-Type".into(), "application/xml".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn ok(body: &str) -> Reply {
        Reply::xml(200, body)
    }

    pub fn redirect(location: &str) -> Reply {
        Reply::Http { status: 302, headers: vec![("Location".into(), location.into())], body: Vec::new() }
    }
}

type Responder = dyn Fn(&Request) -> Reply + Send + Sync;

pub struct Server {
    pub port: u16,
    /// `http` or `https`.
    pub scheme: &'static str,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a server on an ephemeral loopback port.
pub fn serve(responder: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
    serve_wrapped("http", Box::new(|s| Some(Box::new(s))), responder)
}

/// As `serve`, with each connection first passed through `wrap`.
pub fn serve_wrapped(
    scheme: &'static str,
    wrap: Box<Wrap>,
    responder: impl Fn(&Request) -> Reply + Send + Sync + 'static,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let responder: Arc<Responder> = Arc::new(responder);
    let thread = {
        let (requests, stop) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Some(mut stream) = stream.ok().and_then(&wrap) {
                    handle(&mut *stream, &*responder, &requests);
                }
            }
        })
    };
    Server { port, scheme, requests, stop, thread: Some(thread) }
}

/// A server that answers every request with the same body and status 200.
pub fn serve_ok(body: &str) -> Server {
    let body = body.to_owned();
    serve(move |_| Reply::ok(&body))
}

fn handle(stream: &mut dyn Stream, responder: &Responder, requests: &Mutex<Vec<Request>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let request = loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(_)) = parsed.parse(&buf) {
            break Request {
                target: parsed.path.unwrap_or_default().to_owned(),
                headers: parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
                    .collect(),
                at: std::time::Instant::now(),
            };
        }
    };
    requests.lock().unwrap().push(request.clone());
    let bytes = match responder(&request) {
        Reply::Raw(bytes) => bytes,
        Reply::With(fault) => return fault(stream),
        Reply::Http { status, headers, body } => {
            let mut head =
                format!("HTTP/1.1 {status} Status\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&body);
            bytes
        }
    };
    let _ = stream.write_all(&bytes);
    let _ = stream.flush();
}

impl Server {
    /// `SCHEME://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://127.0.0.1:{}{path}", self.scheme, self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A loopback port that refuses connections: bound, never listening, and
/// held for the life of the value so no other test can take it.
pub struct DeadPort {
    fd: libc::c_int,
    pub port: u16,
}

impl DeadPort {
    pub fn new() -> DeadPort {
        // SAFETY: plain socket calls on a socket this value owns.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len), 0);
            let mut len = len;
            assert_eq!(libc::getsockname(fd, &mut addr as *mut _ as *mut libc::sockaddr, &mut len), 0);
            DeadPort { fd, port: u16::from_be(addr.sin_port) }
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for DeadPort {
    fn drop(&mut self) {
        // SAFETY: the fd is ours and closed once.
        unsafe { libc::close(self.fd) };
    }
}

/// A provision file listing `urls`, with `options` inside `<options>` and
/// `sections` as the significant sections.
pub fn provision_xml(urls: &[String], options: &str, sections: &str) -> String {
    let urls: String = urls.iter().map(|u| format!("<base_url>{u}</base_url>")).collect();
    format!(
        "<provision>\n  <base_urls>{urls}</base_urls>\n  <options>{options}</options>\n  \
         <significant_sections>{sections}</significant_sections>\n</provision>\n"
    )
}

/// A typical answer: accounts and codecs (significant in most tests) and
/// audio (usually not).
pub const ANSWER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<options>\n  \
<accounts><account><username>srv-user</username><host>sip.example.net</host></account></accounts>\n  \
<codecs><codec id=\"8\" priority=\"1\"/></codecs>\n  \
<audio><volume>99</volume></audio>\n</options>\n";
