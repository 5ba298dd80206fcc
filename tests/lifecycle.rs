//! The lifecycle against real servers on loopback: the refresh worker, calls
//! that defer provisioning, back-off, prompt stop, the `<provision>` section,
//! the last-known-good cache and conditional requests.
//!
//! Time matters here, so assertions are on counts, orders and bounds that
//! cannot flake (a gap at least as long as the schedule guarantees), never
//! on how fast something happened. Periods are 1 s; waits for callbacks are
//! generous timeouts that only bound a failing test.

mod common;

use common::{provision_xml, serve, serve_ok, DeadPort, Reply, Server, ANSWER};
use provision::provisioner::Report;
use provision::refresh::Refresher;
use provision::{LogRecord, Provisioner, Result, Settings, Status};
use std::fs;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Long enough for any attempt on loopback; only a broken test waits it out.
const PATIENCE: Duration = Duration::from_secs(30);

const OTHER_ANSWER: &str = "<options><accounts><account><username>moved-user</username></account></accounts></options>";

fn options(refresh_rate: u64) -> String {
    format!("<use_authentication>0</use_authentication><refresh_rate>{refresh_rate}</refresh_rate>")
}

fn provisioner(urls: &[String], refresh_rate: u64, sections: &str) -> Arc<Provisioner> {
    Arc::new(Provisioner::from_xml(&provision_xml(urls, &options(refresh_rate), sections)).unwrap())
}

/// What a callback saw, sent to the test thread.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    status: Status,
    changed: bool,
    config: Option<String>,
}

fn seen(result: &Result<Report>) -> Seen {
    match result {
        Ok(r) => Seen {
            status: r.cached.as_ref().map_or(Status::PROVISION_OK, |e| e.status),
            changed: r.changed,
            config: Some(r.outcome.config.clone()),
        },
        Err(e) => Seen { status: e.status, changed: false, config: None },
    }
}

/// A worker whose callbacks arrive on the returned channel.
fn start(p: &Arc<Provisioner>) -> (Refresher, Receiver<Seen>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let worker = Refresher::start(p.clone(), None, Box::new(move |r| drop(tx.lock().unwrap().send(seen(r))))).unwrap();
    (worker, rx)
}

fn next(rx: &Receiver<Seen>) -> Seen {
    rx.recv_timeout(PATIENCE).expect("a callback in time")
}

fn gaps(server: &Server) -> Vec<Duration> {
    let times: Vec<Instant> = server.requests().iter().map(|r| r.at).collect();
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn a_period_of_one_second_refreshes_repeatedly() {
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], 1, "accounts");
    let (mut worker, rx) = start(&p);
    for _ in 0..3 {
        assert_eq!(next(&rx).status, Status::PROVISION_OK);
    }
    worker.stop();
    let made = 3 + rx.try_iter().count();
    // The worker has ended, callback and all: nothing can come any more.
    assert_eq!(rx.recv_timeout(PATIENCE), Err(std::sync::mpsc::RecvTimeoutError::Disconnected));
    // One request per callback, and at most one more whose attempt was
    // under way when stop came (its callback is not made).
    let requests = server.requests().len();
    assert!(requests == made || requests == made + 1, "{requests} requests, {made} callbacks");
    // Without a run before, the first attempt is at once; then a fresh
    // period (at least half the rate, so that a fleet spreads), then steady
    // ones (within 10% of the rate).
    let gaps = gaps(&server);
    assert!(gaps[0] >= Duration::from_millis(500), "{gaps:?}");
    assert!(gaps[1..].iter().all(|g| *g >= Duration::from_millis(900)), "{gaps:?}");
}

#[test]
fn refresh_rate_zero_or_a_second_worker_is_refused() {
    let server = serve_ok(ANSWER);
    let once = provisioner(&[server.url("/")], 0, "accounts");
    let err = Refresher::start(once, None, Box::new(|_| {})).err().unwrap();
    assert_eq!(err.status, Status::PROVISION_ERR_ARGUMENT);
    assert!(err.message.contains("refresh_rate"), "{err}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_call_blocks_every_request_and_hang_up_triggers_exactly_one() {
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], 1, "accounts");
    p.run(None).unwrap();
    p.set_call_active(true);
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_DEFERRED);
    let (mut worker, rx) = start(&p);
    // Two and a half periods during the call: nothing is asked, nothing reported.
    assert!(rx.recv_timeout(Duration::from_millis(2500)).is_err());
    assert_eq!(server.requests().len(), 1, "only the run before the call");

    p.set_call_active(false);
    assert_eq!(next(&rx).status, Status::PROVISION_OK);
    assert_eq!(next(&rx).status, Status::PROVISION_OK);
    worker.stop();
    // One attempt at hang-up for all the missed periods: the one after it
    // keeps to the period instead of catching up.
    let gaps = gaps(&server);
    assert!(gaps[1] >= Duration::from_millis(900), "{gaps:?}");
}

#[test]
fn failures_back_off_exponentially_within_the_period() {
    let server = serve(|_| Reply::xml(503, "busy"));
    let p = provisioner(&[server.url("/")], 60, "accounts");
    let (mut worker, rx) = start(&p);
    for _ in 0..3 {
        assert_eq!(next(&rx).status, Status::PROVISION_ERR_FETCH);
    }
    worker.stop();
    let gaps = gaps(&server);
    // 1 s, then 2 s, each less up to 25%: the ranges do not overlap.
    assert!(gaps[0] >= Duration::from_millis(750), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(1500), "{gaps:?}");
    assert!(gaps[1] > gaps[0], "{gaps:?}");
    assert!(gaps.iter().all(|g| *g < Duration::from_secs(60)), "retries come before the period");
}

#[test]
fn stop_is_prompt_during_a_period_and_during_a_backoff() {
    let up = Arc::new(AtomicBool::new(true));
    let server = serve({
        let up = up.clone();
        move |_| if up.load(Ordering::SeqCst) { Reply::ok(ANSWER) } else { Reply::xml(503, "down") }
    });
    let p = provisioner(&[server.url("/")], 3600, "accounts");
    p.run(None).unwrap();
    let (mut worker, _rx) = start(&p);
    let asked = Instant::now();
    worker.stop();
    assert!(asked.elapsed() < Duration::from_secs(10), "not an hour's wait");
    assert!(!worker.is_running());

    up.store(false, Ordering::SeqCst);
    let _ = p.run(None).unwrap_err();
    // The plan after a failure: a back-off, then 2 s, 4 s... The third
    // back-off is at least 3 s long; stop during it.
    let (mut worker, rx) = start(&p);
    assert_eq!(next(&rx).status, Status::PROVISION_ERR_FETCH);
    assert_eq!(next(&rx).status, Status::PROVISION_ERR_FETCH);
    let asked = Instant::now();
    worker.stop();
    assert!(asked.elapsed() < Duration::from_secs(3), "the back-off is not waited out");
    assert_eq!(server.requests().len(), 4, "two runs by hand, two by the worker");
}

#[test]
fn stop_from_inside_the_callback_does_not_deadlock() {
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], 1, "accounts");
    let slot: Arc<Mutex<Option<Refresher>>> = Arc::new(Mutex::new(None));
    let calls = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel();
    let callback = {
        let (slot, calls, tx) = (slot.clone(), calls.clone(), Mutex::new(tx));
        move |_: &Result<Report>| {
            calls.fetch_add(1, Ordering::SeqCst);
            if let Some(worker) = slot.lock().unwrap().as_mut() {
                worker.stop(); // on the worker's own thread: signals only
            }
            let _ = tx.lock().unwrap().send(());
        }
    };
    // Held while starting, so that the first callback finds the worker.
    let mut held = slot.lock().unwrap();
    *held = Some(Refresher::start(p.clone(), None, Box::new(callback)).unwrap());
    drop(held);
    rx.recv_timeout(PATIENCE).unwrap();
    let worker = slot.lock().unwrap().take();
    drop(worker); // joins: the worker ended after its callback returned
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn the_callback_sees_changed_only_on_real_change() {
    let count = AtomicUsize::new(0);
    let server = serve(move |_| match count.fetch_add(1, Ordering::SeqCst) {
        0 | 1 => Reply::ok(ANSWER),
        _ => Reply::ok(OTHER_ANSWER),
    });
    let p = provisioner(&[server.url("/")], 1, "accounts");
    let (mut worker, rx) = start(&p);
    let changes: Vec<bool> = (0..4).map(|_| next(&rx).changed).collect();
    worker.stop();
    assert_eq!(changes, [true, false, true, false]);
    assert!(p.last().unwrap().config.contains("moved-user"));
}

#[test]
fn a_provision_section_moves_the_next_refresh_to_a_second_server_and_is_saved() {
    let second = serve_ok(OTHER_ANSWER);
    let moved = provision_xml(&[second.url("/new/")], &options(1), "accounts,provision");
    let first_answer = format!(
        "<options>\n  <accounts><account><username>srv-user</username></account></accounts>\n  {}\n</options>",
        moved.trim().replace('&', "&amp;")
    );
    let first = serve_ok(&first_answer);
    let p = provisioner(&[first.url("/")], 60, "accounts,provision");
    let (mut worker, rx) = start(&p);
    assert_eq!(next(&rx).status, Status::PROVISION_OK);
    assert_eq!(p.settings().base_urls, [second.url("/new/")], "adopted");
    assert_eq!(p.settings().refresh_rate, 1, "the period too");
    let after = next(&rx);
    worker.stop();
    assert!(after.config.unwrap().contains("moved-user"));
    assert_eq!(p.last().unwrap().source_url, second.url("/new/"));
    assert_eq!(first.requests().len(), 1, "the old server is asked no more");
    assert!(!second.requests().is_empty());

    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("provision.conf");
    p.save(&saved).unwrap();
    assert_eq!(Settings::load(&saved).unwrap(), *p.settings());
}

#[test]
fn an_invalid_or_insignificant_provision_section_is_not_adopted() {
    let bad = "<options><accounts/><provision><base_urls/></provision></options>";
    for (answer, sections) in [(bad, "accounts,provision"), (ANSWER, "accounts")] {
        let server = serve_ok(answer);
        let p = provisioner(&[server.url("/")], 60, sections);
        let before = p.settings();
        p.run(None).unwrap();
        assert_eq!(p.settings(), before);
    }
}

/// A server that is up or down (503) as the test says, with an answer the
/// test can change.
fn switchable(answer: &str) -> (Server, Arc<AtomicBool>, Arc<Mutex<String>>) {
    let up = Arc::new(AtomicBool::new(true));
    let body = Arc::new(Mutex::new(answer.to_owned()));
    let server = serve({
        let (up, body) = (up.clone(), body.clone());
        move |_| match up.load(Ordering::SeqCst) {
            true => Reply::ok(&body.lock().unwrap()),
            false => Reply::xml(503, "down"),
        }
    });
    (server, up, body)
}

#[test]
fn the_cache_serves_a_restart_while_every_server_is_down_and_is_refreshed_when_one_is_back() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.xml");
    let dead = DeadPort::new();
    let (server, up, body) = switchable(ANSWER);
    let urls = [dead.url(), server.url("/")];

    let before = provisioner(&urls, 60, "accounts,codecs");
    before.set_cache(Some(&cache));
    let served = before.run(None).unwrap();
    assert_eq!(fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!fs::read_to_string(&cache).unwrap().contains("<audio>"), "only provisioned sections");

    // The restart, with every server down.
    up.store(false, Ordering::SeqCst);
    let p = provisioner(&urls, 60, "accounts,codecs");
    p.set_cache(Some(&cache));
    let err = p.run(None).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_CACHED);
    assert!(err.message.contains(&dead.url()) && err.message.contains("HTTP 503"), "{err}");
    let last = p.last().unwrap();
    assert_eq!(last.config, served.config);
    assert!(last.from_cache && last.is_provisioned("accounts"));

    // Back with new data: the worker's next try (a back-off after the
    // failure) takes it and writes the cache again.
    *body.lock().unwrap() = OTHER_ANSWER.to_owned();
    up.store(true, Ordering::SeqCst);
    let (mut worker, rx) = start(&p);
    let back = next(&rx);
    worker.stop();
    assert_eq!((back.status, back.changed), (Status::PROVISION_OK, true));
    assert!(fs::read_to_string(&cache).unwrap().contains("moved-user"));
    assert!(!p.last().unwrap().from_cache);
}

#[test]
fn a_corrupt_cache_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.xml");
    let dead = DeadPort::new();
    let p = provisioner(&[dead.url()], 60, "accounts");
    p.set_cache(Some(&cache));
    for corrupt in ["<options><accounts>", "", "<options/>"] {
        fs::write(&cache, corrupt).unwrap();
        let err = p.run(None).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_FETCH, "{corrupt:?}");
    }
    assert!(p.last().is_none());
}

#[test]
fn a_304_keeps_the_config_and_reports_no_change() {
    let server = serve(|r| match r.header("if-none-match") {
        Some("\"v1\"") => Reply::Http { status: 304, headers: vec![], body: vec![] },
        _ => Reply::Http {
            status: 200,
            headers: vec![
                ("ETag".into(), "\"v1\"".into()),
                ("Last-Modified".into(), "Tue, 01 Apr 2025 10:00:00 GMT".into()),
            ],
            body: ANSWER.as_bytes().to_vec(),
        },
    });
    let p = provisioner(&[server.url("/")], 1, "accounts");
    let (mut worker, rx) = start(&p);
    let first = next(&rx);
    let second = next(&rx);
    worker.stop();
    assert_eq!((first.status, first.changed), (Status::PROVISION_OK, true));
    assert_eq!((second.status, second.changed), (Status::PROVISION_OK, false));
    assert_eq!(second.config, first.config);
    let requests = server.requests();
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(requests[1].header("if-modified-since"), Some("Tue, 01 Apr 2025 10:00:00 GMT"));
}

#[test]
fn a_304_that_was_not_asked_for_fails_that_url() {
    let odd = serve(|_| Reply::Http { status: 304, headers: vec![], body: vec![] });
    let good = serve_ok(ANSWER);
    let p = provisioner(&[odd.url("/"), good.url("/")], 0, "accounts");
    assert_eq!(p.run(None).unwrap().source_url, good.url("/"));
}

#[test]
fn refresh_call_toggling_and_runs_from_several_threads_never_tear_the_state() {
    let count = AtomicUsize::new(0);
    let server = serve(move |_| match count.fetch_add(1, Ordering::SeqCst) % 3 {
        0 => Reply::ok(ANSWER),
        1 => Reply::ok(OTHER_ANSWER),
        _ => Reply::xml(503, "busy"),
    });
    let p = provisioner(&[server.url("/")], 1, "accounts");
    let dir = tempfile::tempdir().unwrap();
    p.set_cache(Some(&dir.path().join("cache.xml")));
    let (worker, rx) = start(&p);
    let until = Instant::now() + Duration::from_secs(3);
    let valid = |config: &str| config.contains("srv-user") != config.contains("moved-user");
    std::thread::scope(|s| {
        for i in 0..4 {
            let p = &p;
            s.spawn(move || {
                while Instant::now() < until {
                    match i {
                        0 => p.set_call_active(!p.call_active()),
                        1 => match p.run(None) {
                            Ok(o) => assert!(valid(&o.config)),
                            Err(e) => assert!(matches!(
                                e.status,
                                Status::PROVISION_ERR_DEFERRED | Status::PROVISION_ERR_FETCH | Status::PROVISION_CACHED
                            )),
                        },
                        _ => {
                            if let Some(o) = p.last() {
                                assert!(valid(&o.config) && o.is_provisioned("accounts"));
                                assert_eq!(o.from_cache, o.source_url.is_empty());
                            }
                        }
                    }
                    std::thread::yield_now();
                }
            });
        }
    });
    p.set_call_active(false);
    drop(worker);
    for seen in rx.try_iter() {
        assert!(seen.config.as_deref().is_none_or(valid), "{seen:?}");
    }
    assert!(server.requests().len() >= 2);
}

/// A server that answers every request with `status` and `Retry-After: value`.
fn busy(status: u16, retry_after: &str) -> Server {
    let header = vec![("Retry-After".to_owned(), retry_after.to_owned())];
    serve(move |_| Reply::Http { status, headers: header.clone(), body: b"busy".to_vec() })
}

/// The messages of the log records `p`'s runs make from now on.
fn log_messages(p: &Provisioner) -> Arc<Mutex<Vec<String>>> {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    p.set_logger(Some(Arc::new(move |r: &LogRecord| sink.lock().unwrap().push(r.message.clone()))));
    heard
}

#[test]
fn a_retry_after_holds_the_worker_back_at_least_that_long_and_the_log_says_what_was_asked() {
    let server = busy(503, "2");
    let p = provisioner(&[server.url("/")], 60, "accounts");
    let heard = log_messages(&p);
    let (mut worker, rx) = start(&p);
    for _ in 0..2 {
        assert_eq!(next(&rx).status, Status::PROVISION_ERR_FETCH);
    }
    worker.stop();
    // Without the header the first back-off is at most 1 s.
    let gaps = gaps(&server);
    assert!(gaps[0] >= Duration::from_secs(2), "{gaps:?}");
    let heard = heard.lock().unwrap();
    assert!(heard[0].contains("503") && heard[0].contains("asks to wait 2 s (Retry-After: 2)"), "{heard:?}");
}

#[test]
fn a_retry_after_beyond_the_period_is_capped_at_the_period() {
    // A day asked with a 1 s period: the worker is back within the period.
    let server = busy(503, "86400");
    let p = provisioner(&[server.url("/")], 1, "accounts");
    let (mut worker, rx) = start(&p);
    for _ in 0..3 {
        assert_eq!(next(&rx).status, Status::PROVISION_ERR_FETCH);
    }
    worker.stop();
    assert!(gaps(&server).iter().all(|g| *g >= Duration::from_millis(750)), "{:?}", gaps(&server));
}

#[test]
fn busy_urls_with_retry_after_still_fall_back_to_the_next_one() {
    let unavailable = busy(503, "30");
    // An HTTP-date in the past: come back now.
    let too_many = busy(429, "Sun, 06 Nov 1994 08:49:37 GMT");
    let good = serve_ok(ANSWER);
    let p = provisioner(&[unavailable.url("/"), too_many.url("/"), good.url("/")], 60, "accounts");
    let heard = log_messages(&p);
    assert_eq!(p.run(None).unwrap().source_url, good.url("/"));
    let heard = heard.lock().unwrap();
    assert!(heard[0].contains("asks to wait 30 s (Retry-After: 30)"), "{heard:?}");
    assert!(heard[1].contains("429") && heard[1].contains("asks to wait 0 s (Retry-After: Sun, 06 Nov"), "{heard:?}");
    assert!(heard[2].starts_with("ok"), "{heard:?}");
    assert_eq!(p.history().retry_after, Some(Duration::from_secs(30)), "the longest wait asked");
}

#[test]
fn refresh_now_asks_at_once_and_needs_a_running_worker() {
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], 3600, "accounts");
    let (mut worker, rx) = start(&p);
    assert_eq!(next(&rx).status, Status::PROVISION_OK);
    worker.refresh_now(Duration::ZERO).unwrap();
    assert_eq!(next(&rx).status, Status::PROVISION_OK, "not an hour later");
    worker.stop();
    assert_eq!(server.requests().len(), 2);
    let err = worker.refresh_now(Duration::ZERO).unwrap_err();
    assert_eq!(err.status, Status::PROVISION_ERR_ARGUMENT);
    assert!(err.message.contains("no refresh worker"), "{err}");
}

#[test]
fn refresh_now_waits_for_hang_up_and_asks_before_the_attempt_coalesce() {
    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")], 3600, "accounts");
    let (mut worker, rx) = start(&p);
    assert_eq!(next(&rx).status, Status::PROVISION_OK);
    p.set_call_active(true);
    for max_delay_ms in [0, 0, 300, 0, 100] {
        worker.refresh_now(Duration::from_millis(max_delay_ms)).unwrap();
    }
    assert!(rx.recv_timeout(Duration::from_millis(1500)).is_err(), "no attempt during the call");
    assert_eq!(server.requests().len(), 1);
    p.set_call_active(false);
    assert_eq!(next(&rx).status, Status::PROVISION_OK, "at hang-up");
    // Five asks made one attempt; the next is a fresh period (half an hour or more) away.
    assert!(rx.recv_timeout(Duration::from_millis(1500)).is_err());
    worker.stop();
    assert_eq!(server.requests().len(), 2);
}
