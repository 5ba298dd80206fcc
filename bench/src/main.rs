//! `make bench`: libprovision's merge and run against what a user would
//! otherwise write, in one run on the same files, with every output checked
//! before any time is reported. Writes BENCHMARKS.md.
//!
//!     provision-bench --lib target/release/libprovision.so --out BENCHMARKS.md
//!     provision-bench --quick ...        fewer rounds and sizes (a smoke run)
//!     provision-bench profile lib|VERSION|run|get N [REPEAT]   one thing, repeated, for a profiler
//!     provision-bench ab N [ROUNDS]      merge and scan against the floor, in-process: an A/B of a change

mod cabi;
mod floor;
mod gen;
mod library;
mod machine;
mod measure;
mod peers;
mod report;
mod server;
mod timing;

use library::*;
use provision::xml;
use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use timing::Stats;

pub struct Options {
    pub lib: PathBuf,
    pub out: PathBuf,
    pub python: String,
    pub sizes: Vec<usize>,
    pub rounds: usize,
    pub e2e_rounds: usize,
}

fn options(args: &[String]) -> Result<Options, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut o = Options {
        lib: manifest.join("../target/release/libprovision.so"),
        out: manifest.join("../BENCHMARKS.md"),
        python: "python3".into(),
        sizes: vec![10, 1_000, 10_000, 100_000],
        rounds: 15,
        e2e_rounds: 31,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--lib" => o.lib = value()?.into(),
            "--out" => o.out = value()?.into(),
            "--python" => o.python = value()?,
            "--rounds" => o.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--quick" => {
                o.sizes = vec![10, 1_000, 10_000];
                o.rounds = 3;
                o.e2e_rounds = 5;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// Everything measured, for the report.
#[derive(Default)]
pub struct Results {
    pub sizes: Vec<usize>,
    /// N -> (local bytes, answer bytes).
    pub bytes: BTreeMap<usize, (usize, usize)>,
    /// N -> contestant -> stats. Contestants: "library", "c-abi", "get",
    /// "lxml", "et", and "quick-xml VERSION".
    pub merge: BTreeMap<usize, BTreeMap<String, Stats>>,
    /// N -> why the C ABI could not run it.
    pub c_abi_refused: BTreeMap<usize, String>,
    /// "get", "run", "run-dead-first".
    pub e2e: BTreeMap<String, Stats>,
    pub e2e_n: usize,
    pub e2e_answer_bytes: usize,
    /// (what, peak RSS in KiB), and the size of the answer merged.
    pub rss: Vec<(String, u64)>,
    pub rss_n: usize,
    pub rss_answer_bytes: usize,
    pub versions: Vec<(String, String)>,
    pub machine: machine::Machine,
    pub so_bytes: u64,
    pub so_stripped_bytes: u64,
    pub rounds: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("rss") => rss_child(&args[1..], false),
        Some("rss-stream") => rss_child(&args[1..], true),
        Some("rss-idle") => {
            println!("{}", machine::peak_rss_kib());
            Ok(())
        }
        Some("profile") => profile(&args[1..]),
        Some("ab") => ab(&args[1..]),
        _ => options(&args).and_then(|o| run(&o)),
    };
    if let Err(e) = outcome {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

/// A process that merges files and reports its peak RSS: what a program
/// merging the largest case needs, measured apart from the bench's own data.
fn rss_child(args: &[String], stream: bool) -> Result<(), String> {
    let [local, answer, out] = args else {
        return Err("rss|rss-stream LOCAL ANSWER OUT".into());
    };
    let read = |p: &String| {
        let bytes = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
        xml::decode(bytes).map_err(|e| format!("{p}: {e}"))
    };
    let (local, answer) = (read(local)?, read(answer)?);
    if stream {
        let file = std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?;
        let mut file = std::io::BufWriter::new(file);
        lib_merge_to(&local, &answer, &significant(), &mut file).map_err(|e| format!("{out}: {e}"))?;
        std::io::Write::flush(&mut file).map_err(|e| format!("{out}: {e}"))?;
    } else {
        let merged = lib_merge(&local, &answer, &significant())?;
        std::fs::write(out, merged).map_err(|e| format!("{out}: {e}"))?;
    }
    println!("{}", machine::peak_rss_kib());
    Ok(())
}

fn profile(args: &[String]) -> Result<(), String> {
    let (what, n, repeat) = match args {
        [what, n] => (what, n, "1"),
        [what, n, repeat] => (what, n, repeat.as_str()),
        _ => return Err("profile lib|VERSION|run|get N [REPEAT]".into()),
    };
    let docs = gen::generate(n.parse().map_err(|e| format!("N: {e}"))?);
    let repeat: usize = repeat.parse().map_err(|e| format!("REPEAT: {e}"))?;
    if what == "run" || what == "get" {
        let server = server::serve(HashMap::from([("/p/configuration".to_string(), docs.answer.into_bytes())]));
        let base = format!("http://127.0.0.1:{}/p/", server.port);
        let local = std::env::temp_dir().join(format!("provision-bench-profile-{}.xml", std::process::id()));
        write_file(&local, &docs.local)?;
        let provisioner =
            provision::Provisioner::from_xml(&provision_xml(std::slice::from_ref(&base))).map_err(|e| e.to_string())?;
        let (agent, url) = (agent(), request_url(&base));
        for _ in 0..repeat {
            if what == "run" {
                black_box(provisioner.run(Some(&local)).map_err(|e| e.to_string())?);
            } else {
                black_box(bare_get(&agent, &url)?);
            }
        }
        let _ = std::fs::remove_file(&local);
        eprintln!("connections accepted: {}", server.connections());
        return Ok(());
    }
    for _ in 0..repeat {
        if what == "lib" {
            black_box(lib_merge(&docs.local, &docs.answer, &significant())?);
        } else {
            let read = floor::VERSIONS.iter().find(|(v, _)| v == what).ok_or("no such version")?.1;
            black_box(read(&docs.answer));
        }
    }
    Ok(())
}

/// The library's merge and its scan of the answer against the floor, in
/// interleaved rounds in one process, compared round by round as the
/// targets of `make bench` are: quicker and steadier than `make bench`
/// for comparing two builds of a change to the scan (run each a few times:
/// code layout alone moves these ratios by a few hundredths).
fn ab(args: &[String]) -> Result<(), String> {
    let (n, rounds) = match args {
        [n] => (n.as_str(), "15"),
        [n, rounds] => (n.as_str(), rounds.as_str()),
        _ => return Err("ab N [ROUNDS]".into()),
    };
    let docs = gen::generate(n.parse().map_err(|e| format!("N: {e}"))?);
    let rounds: usize = rounds.parse().map_err(|e| format!("ROUNDS: {e}"))?;
    let (local, answer, significant) = (&docs.local, &docs.answer, significant());
    let mut contestants = [
        timing::Contestant::new("floor", || {
            black_box(floor::VERSIONS[0].1(answer));
        }),
        timing::Contestant::new("merge", || {
            black_box(lib_merge(local, answer, &significant).unwrap());
        }),
        timing::Contestant::new("scan of the answer", || {
            black_box(xml::Scan::new(answer).unwrap());
        }),
    ];
    timing::run_rounds(&mut contestants, rounds);
    let floor = &contestants[0].stats;
    for c in &contestants {
        println!(
            "{:<20} median {:>10.1} µs  {:.3}x the floor round by round (ratio of the medians {:.3}x)",
            c.name,
            c.stats.median() * 1e6,
            c.stats.paired_ratio(floor),
            c.stats.median() / floor.median()
        );
    }
    Ok(())
}

pub fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(o: &Options) -> Result<(), String> {
    let mut r = Results { sizes: o.sizes.clone(), rounds: o.rounds, ..Results::default() };
    r.machine = machine::Machine::now();
    let dir = std::env::temp_dir().join(format!("provision-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let outcome = measure::measure(o, &dir, &mut r);
    let _ = std::fs::remove_dir_all(&dir);
    outcome?;
    r.machine.load_after = machine::load_average();
    let old = std::fs::read_to_string(&o.out).ok();
    let text = report::keep_fleet_section(report::render(&r), old.as_deref());
    write_file(&o.out, &text)?;
    eprintln!("wrote {}", o.out.display());
    print!("{}", report::summary(&r));
    Ok(())
}

pub fn path_of(dir: &Path, what: &str, n: usize) -> PathBuf {
    dir.join(format!("{what}_{n}.xml"))
}
