//! `make fleet`: a fleet of softphones against one provisioning server.
//!
//! N handles of the real libprovision.so (its C ABI, each with its own
//! refresh worker, as N phones would run it) refresh against a loopback
//! server that logs every arrival, in scenarios an operator meets: the whole
//! fleet starting together, an outage (503, with and without
//! `Retry-After`), a SIP check-sync (`provision_refresh_now` on every handle
//! at once), and the steady state with conditional GET. Each scenario
//! writes its arrivals (`NAME.csv`) and what happened when (`NAME.json`) to
//! the output folder; `report.py` turns them into figures, plots and the
//! "Fleet" section of BENCHMARKS.md.
//!
//!     provision-fleet --lib target/release/libprovision.so --out build/fleet
//!         [--handles 400] [--rate 4] [--only NAME,NAME]

// The bench's C ABI module, shared: one place that opens the library.
#[path = "../../src/cabi.rs"]
mod cabi;
mod server;

use cabi::{Handle, Lib};
use server::{Mode, Server};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Options {
    lib: PathBuf,
    out: PathBuf,
    handles: usize,
    rate: u64,
    only: Option<Vec<String>>,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        lib: "target/release/libprovision.so".into(),
        out: "build/fleet".into(),
        handles: 400,
        rate: 4,
        only: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--lib" => o.lib = value()?.into(),
            "--out" => o.out = value()?.into(),
            "--handles" => o.handles = value()?.parse().map_err(|e| format!("--handles: {e}"))?,
            "--rate" => o.rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--only" => o.only = Some(value()?.split(',').map(str::to_owned).collect()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// What one scenario does to the fleet and the server, in order.
enum Step {
    /// Wait until this many periods after the start.
    At(f64),
    Server(Mode),
    ChangeConfig,
    /// `provision_refresh_now(h, ms)` on every handle, from one thread.
    RefreshNow(u32),
}

struct Scenario {
    name: &'static str,
    title: &'static str,
    /// Periods the scenario lasts.
    periods: f64,
    steps: Vec<Step>,
}

fn scenarios() -> Vec<Scenario> {
    use Step::*;
    let outage = |name, title, retry_after| Scenario {
        name,
        title,
        periods: 9.0,
        steps: vec![At(2.0), Server(Mode::Down(retry_after)), At(5.0), Server(Mode::Up)],
    };
    vec![
        Scenario { name: "startup", title: "Start-up: every handle started at once", periods: 6.0, steps: vec![] },
        outage("outage", "Outage: 503 for 3 periods, no Retry-After", None),
        outage("outage-ra6", "Outage: 503 for 3 periods, Retry-After: 6", Some(6)),
        outage("outage-ra3", "Outage: 503 for 3 periods, Retry-After: 3", Some(3)),
        Scenario {
            name: "checksync",
            title: "Check-sync: refresh_now, 2 s window, every handle at once",
            periods: 5.0,
            steps: vec![At(2.5), RefreshNow(2000)],
        },
        Scenario {
            name: "steady",
            title: "Steady state, conditional GET; the config changes once",
            periods: 5.0,
            steps: vec![At(2.5), ChangeConfig],
        },
    ]
}

fn provision_xml(port: u16, handle: usize, rate: u64) -> String {
    format!(
        "<provision><base_urls><base_url>http://127.0.0.1:{port}/h/{handle}/</base_url></base_urls>\
         <options><use_authentication>0</use_authentication><refresh_rate>{rate}</refresh_rate></options>\
         <significant_sections>accounts</significant_sections></provision>"
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Runs one scenario: loads the handles, starts them together, follows the
/// steps, frees them (each free stops and joins its worker).
fn run(lib: &Lib, o: &Options, s: &Scenario) -> Result<(), String> {
    let period = Duration::from_secs(o.rate);
    let load_before = load_average();
    let began = Instant::now();
    let server = Server::start(began);
    let fleet: Vec<Handle<'_>> =
        (0..o.handles).map(|i| lib.load_xml(&provision_xml(server.port, i, o.rate))).collect::<Result<_, _>>()?;
    let mut events: Vec<(f64, String)> = Vec::new();
    let since = |at: Instant| (at - began).as_secs_f64();
    let starting = Instant::now();
    for h in &fleet {
        h.start_refresh()?;
    }
    let took = starting.elapsed().as_secs_f64();
    events.push((since(starting), format!("{} handles started (in {:.0} ms)", o.handles, took * 1e3)));
    let start = since(starting);
    for step in &s.steps {
        match step {
            Step::At(periods) => sleep_until(starting + period.mul_f64(*periods)),
            Step::Server(mode) => {
                server.set_mode(*mode);
                let label = match mode {
                    Mode::Up => "server back up".to_owned(),
                    Mode::Down(None) => "server answers 503".to_owned(),
                    Mode::Down(Some(s)) => format!("server answers 503, Retry-After: {s}"),
                };
                events.push((since(Instant::now()), label));
            }
            Step::ChangeConfig => {
                server.change_config();
                events.push((since(Instant::now()), "config changed (new ETag)".to_owned()));
            }
            Step::RefreshNow(ms) => {
                let at = Instant::now();
                for h in &fleet {
                    h.refresh_now(*ms)?;
                }
                let took = Instant::now() - at;
                events.push((
                    since(at),
                    format!("refresh_now({ms} ms) on every handle (in {:.1} ms)", took.as_secs_f64() * 1e3),
                ));
            }
        }
    }
    sleep_until(starting + period.mul_f64(s.periods));
    let end = since(Instant::now());
    drop(fleet);
    let arrivals = server.arrivals();
    drop(server);

    let mut csv = String::from("at,handle,status,request_bytes,answer_bytes\n");
    for a in &arrivals {
        let _ = writeln!(csv, "{:.6},{},{},{},{}", a.at, a.handle, a.status, a.request_bytes, a.answer_bytes);
    }
    write(&o.out.join(format!("{}.csv", s.name)), &csv)?;
    let events: Vec<String> = events.iter().map(|(t, label)| format!("[{t:.6}, {}]", json_string(label))).collect();
    let json = format!(
        "{{\"name\": {}, \"title\": {}, \"handles\": {}, \"rate\": {}, \"start\": {start:.6}, \"end\": {end:.6}, \
         \"events\": [{}], \"load_before\": {}, \"load_after\": {}, \"library\": {}}}\n",
        json_string(s.name),
        json_string(s.title),
        o.handles,
        o.rate,
        events.join(", "),
        json_string(&load_before),
        json_string(&load_average()),
        json_string(&lib.version()),
    );
    write(&o.out.join(format!("{}.json", s.name)), &json)?;
    eprintln!(
        "fleet: {:<11} {} requests in {:.1} s, load {} -> {}",
        s.name,
        arrivals.len(),
        end,
        load_before,
        load_average()
    );
    Ok(())
}

fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Each connection costs two descriptors here (client and server side): a
/// fleet of 400 starting at once needs more than a default soft limit of 1024.
fn raise_file_limit() {
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = options(&args).and_then(|o| {
        raise_file_limit();
        std::fs::create_dir_all(&o.out).map_err(|e| format!("{}: {e}", o.out.display()))?;
        let lib = Lib::open(&o.lib)?;
        for s in scenarios() {
            if o.only.as_ref().is_none_or(|only| only.iter().any(|n| n == s.name)) {
                run(&lib, &o, &s)?;
            }
        }
        Ok(())
    });
    if let Err(e) = outcome {
        eprintln!("fleet: {e}");
        std::process::exit(1);
    }
}
