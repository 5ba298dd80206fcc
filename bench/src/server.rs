//! The loopback HTTP server the end-to-end timings talk to: HTTP/1.1 with
//! keep-alive (as an operator's server would be), one thread per
//! connection, every answer prepared in advance so that the server costs
//! the same few microseconds for every contestant.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct Server {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Server {
    /// Connections accepted so far: with keep-alive, one per client.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

/// Serves `routes` (path without query -> body) as `application/xml`;
/// anything else is a 404. Listening when it returns.
pub fn serve(routes: HashMap<String, Vec<u8>>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().unwrap().port();
    let responses: Arc<HashMap<String, Vec<u8>>> = Arc::new(
        routes
            .into_iter()
            .map(|(path, body)| {
                let mut response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                response.extend_from_slice(&body);
                (path, response)
            })
            .collect(),
    );
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::Relaxed);
            let responses = responses.clone();
            std::thread::spawn(move || connection(stream, &responses));
        }
    });
    Server { port, accepted }
}

fn connection(stream: TcpStream, responses: &HashMap<String, Vec<u8>>) {
    // One write per answer, so Nagle's algorithm has nothing to hold back.
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split(' ').nth(1).unwrap_or("").split('?').next().unwrap_or("").to_owned();
        // Skip the headers; a GET has no body.
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
        }
        let written = match responses.get(&path) {
            Some(response) => writer.write_all(response),
            None => writer.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
        };
        if written.is_err() {
            return;
        }
    }
}

/// A loopback port that refuses connections: bound, never listening, held
/// while the value lives so nothing else takes it.
pub struct DeadPort {
    _socket: std::os::fd::OwnedFd,
    pub port: u16,
}

impl DeadPort {
    pub fn new() -> DeadPort {
        use std::os::fd::FromRawFd;
        // SAFETY: plain socket calls on a socket this value then owns.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket");
            let owned = std::os::fd::OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len), 0, "bind");
            assert_eq!(libc::getsockname(fd, &mut addr as *mut _ as *mut libc::sockaddr, &mut len), 0);
            DeadPort { _socket: owned, port: u16::from_be(addr.sin_port) }
        }
    }
}
