//! BENCHMARKS.md: the figures of one run, the targets, and the notes that
//! explain them (bench/NOTES.md, written by hand, appended as is).

use crate::timing::Stats;
use crate::Results;
use std::fmt::Write;

fn time(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.2} s", s)
    }
}

fn span(st: &Stats) -> String {
    format!("{} [{} – {}]", time(st.median()), time(st.min()), time(st.max()))
}

fn mb_s(bytes: usize, seconds: f64) -> f64 {
    bytes as f64 / seconds / 1e6
}

fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

fn megabytes(bytes: u64) -> String {
    match bytes {
        0..=999 => format!("{bytes} B"),
        1_000..=999_999 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{:.2} MB", bytes as f64 / 1e6),
    }
}

struct Target {
    what: String,
    measured: String,
    held: bool,
}

impl Results {
    fn input(&self, n: usize) -> usize {
        let (l, a) = self.bytes[&n];
        l + a
    }

    fn median(&self, n: usize, who: &str) -> Option<f64> {
        self.stats(n, who).map(Stats::median)
    }

    fn stats(&self, n: usize, who: &str) -> Option<&Stats> {
        self.merge.get(&n)?.get(who)
    }

    /// `who` against the floor, round by round (see `Stats::paired_ratio`).
    fn paired_to_floor(&self, n: usize, who: &str) -> Option<f64> {
        Some(self.stats(n, who)?.paired_ratio(self.stats(n, &self.floor_name())?))
    }

    fn floor_name(&self) -> String {
        let v = self.versions.iter().find(|(k, _)| k == "quick-xml (library)").map_or("?", |(_, v)| v.as_str());
        format!("quick-xml {v}")
    }

    fn version(&self, name: &str) -> &str {
        self.versions.iter().find(|(k, _)| k == name).map_or("?", |(_, v)| v.as_str())
    }

    fn targets(&self) -> Vec<Target> {
        let mut t = Vec::new();
        let floor = self.floor_name();
        for n in self.sizes.iter().copied().filter(|&n| n >= 10_000) {
            let Some(lib) = self.median(n, "library") else { continue };
            // `merge` decides; `merge_to` into a reused buffer is shown beside it.
            let reused = self.median(n, "library-reused").unwrap_or(f64::NAN);
            let rate = mb_s(self.input(n), lib);
            t.push(Target {
                what: format!("merge ≥ 500 MB/s, N = {}", count(n)),
                measured: format!("{rate:.0} MB/s (`merge_to`: {:.0})", mb_s(self.input(n), reused)),
                held: rate >= 500.0,
            });
            for (who, label, need) in [("lxml", "lxml", 6.0), ("et", "ElementTree", 40.0)] {
                if let Some(peer) = self.median(n, who) {
                    let x = peer / lib;
                    t.push(Target {
                        what: format!("merge ≥ {need:.0}x faster than {label}, N = {}", count(n)),
                        measured: format!("{x:.1}x (`merge_to`: {:.1}x)", peer / reused),
                        held: x >= need,
                    });
                }
            }
            if let (Some(read), Some(x)) = (self.median(n, &floor), self.paired_to_floor(n, "library")) {
                let reused_x = self.paired_to_floor(n, "library-reused").unwrap_or(f64::NAN);
                t.push(Target {
                    what: format!("merge ≤ 1.3x the time of {floor}'s bare read, N = {}", count(n)),
                    measured: format!(
                        "{x:.2}x round by round (`merge_to`: {reused_x:.2}x); ratio of the medians {:.2}x",
                        lib / read
                    ),
                    held: x <= 1.3,
                });
            }
        }
        let rates: Vec<f64> = self
            .sizes
            .iter()
            .filter(|&&n| n >= 1_000)
            .filter_map(|&n| self.median(n, "library").map(|m| mb_s(self.input(n), m)))
            .collect();
        if rates.len() > 1 {
            let (lo, hi) = rates.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
            t.push(Target {
                what: "throughput flat from 1 000 to the largest N (slowest ≥ 0.8x fastest)".into(),
                measured: format!("{lo:.0} to {hi:.0} MB/s ({:.2}x)", lo / hi),
                held: lo / hi >= 0.8,
            });
        }
        for (prefix, api) in [("library, `merge`", "`merge`"), ("library, `merge_to`", "`merge_to` to a file")] {
            if let Some((_, kib)) = self.rss.iter().find(|(w, _)| w.starts_with(prefix)) {
                let x = (*kib * 1024) as f64 / self.rss_answer_bytes as f64;
                t.push(Target {
                    what: format!("peak RSS merging N = {} ≤ 2.2x the answer's size, {api}", count(self.rss_n)),
                    measured: format!(
                        "{x:.2}x ({} for a {} answer)",
                        megabytes(kib * 1024),
                        megabytes(self.rss_answer_bytes as u64)
                    ),
                    held: x <= 2.2,
                });
            }
        }
        if let (Some(get), Some(run), Some(dead)) =
            (self.e2e.get("get"), self.e2e.get("run"), self.e2e.get("run-dead-first"))
        {
            let x = run.paired_ratio(get);
            t.push(Target {
                what: format!("provision_run of {} accounts ≤ 1.2x a bare GET", self.e2e_n),
                measured: format!(
                    "{x:.2}x round by round; ratio of the medians {:.2}x ({} vs {})",
                    run.median() / get.median(),
                    time(run.median()),
                    time(get.median())
                ),
                held: x <= 1.2,
            });
            let extra = dead.median() - run.median();
            t.push(Target {
                what: "a refused first URL adds < 0.5 ms".into(),
                measured: time(extra),
                held: extra < 0.5e-3,
            });
        }
        t
    }
}

/// The targets, for the terminal.
pub fn summary(r: &Results) -> String {
    let mut s = String::new();
    for t in r.targets() {
        let _ = writeln!(s, "{:5} {} — {}", if t.held { "held" } else { "MISSED" }, t.what, t.measured);
    }
    s
}

/// `text` with the "Fleet" section of the `old` BENCHMARKS.md after it, as
/// it was: `make fleet` writes that one (bench/fleet/report.py) and this run
/// measured none of it.
pub fn keep_fleet_section(mut text: String, old: Option<&str>) -> String {
    const BEGIN: &str = "<!-- fleet: begin";
    const END: &str = "<!-- fleet: end -->";
    let Some(old) = old else { return text };
    if let (Some(begin), Some(end)) = (old.find(BEGIN), old.find(END)) {
        if begin < end {
            text.push('\n');
            text.push_str(&old[begin..end + END.len()]);
            text.push('\n');
        }
    }
    text
}

pub fn render(r: &Results) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let floor = r.floor_name();
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Written by `make bench` on {}. Every figure below comes from that one run; rerun it to \
         compare (absolute times from another machine are not comparable, ratios are more so).\n",
        m.date
    );

    let _ = writeln!(s, "## Machine and versions\n\n| | |\n|---|---|");
    let _ = writeln!(s, "| CPU | {}, {} cores |", m.cpu, m.cores);
    let _ = writeln!(s, "| memory | {:.1} GiB |", m.memory_gib);
    let _ = writeln!(s, "| kernel | Linux {} |", m.kernel);
    let _ = writeln!(s, "| load average (1, 5, 15 min) | {} before, {} after |", m.load_before, m.load_after);
    for (k, v) in &r.versions {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    let _ = writeln!(
        s,
        "| libprovision.so | {} stripped (`strip --strip-all`), {} as built |\n",
        megabytes(r.so_stripped_bytes),
        megabytes(r.so_bytes)
    );

    let _ = writeln!(
        s,
        "## Targets\n\nThroughput and the ratios to lxml and ElementTree come from medians. The library \
         against the floor and `provision_run` against the bare GET are paired comparisons: each round \
         times both back to back, and the figure is the median over rounds of the ratio within a round \
         (on this shared virtual machine the ratio of the two medians moved by up to 0.3x between runs minutes apart; it is \
         shown beside).\n\n| target | measured | |\n|---|---|---|"
    );
    for t in r.targets() {
        let _ = writeln!(s, "| {} | {} | {} |", t.what, t.measured, if t.held { "held" } else { "**missed**" });
    }
    let _ = writeln!(s);

    let _ = writeln!(
        s,
        "## Merge\n\nMedian [fastest – slowest] of the samples; a sample repeats the operation for at least \
         40 ms. MB/s = bytes of both input documents (local config + answer) per second, MB = 10⁶ bytes. \
         Rust contestants are timed in interleaved rounds ({} rounds; half as many, at least 3, for \
         100 000 accounts), Python ones in a separate process with as many rounds.\n",
        r.rounds
    );
    let _ = writeln!(
        s,
        "| N | local + answer | library, Rust API `merge` | MB/s | `merge_to` a reused buffer | MB/s | lxml | ElementTree | {floor} bare read | C ABI `provision_run` + `provision_config` (incl. HTTP) | bare GET of the answer |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for &n in &r.sizes {
        let st = &r.merge[&n];
        let cell = |who: &str| st.get(who).map_or("–".to_owned(), span);
        let lib = st.get("library").map_or(f64::NAN, Stats::median);
        let reused = st.get("library-reused").map_or(f64::NAN, Stats::median);
        let (local, answer) = r.bytes[&n];
        let c_abi = match r.c_abi_refused.get(&n) {
            Some(_) => "refused: over the 32 MiB answer cap".to_owned(),
            None => cell("c-abi"),
        };
        let _ = writeln!(
            s,
            "| {} | {} + {} | {} | {:.0} | {} | {:.0} | {} | {} | {} | {} | {} |",
            count(n),
            megabytes(local as u64),
            megabytes(answer as u64),
            cell("library"),
            mb_s(local + answer, lib),
            cell("library-reused"),
            mb_s(local + answer, reused),
            cell("lxml"),
            cell("et"),
            cell(&floor),
            c_abi,
            cell("get"),
        );
    }
    let _ = writeln!(
        s,
        "\nRatios of medians, and the library against the floor round by round (the median over rounds of \
         the library's sample divided by the floor's sample of the same round, which the targets use):\n"
    );
    let _ = writeln!(
        s,
        "| N | lxml / library | ElementTree / library | library / {floor} read | the same, round by round | `provision_run` − bare GET |\n|---|---|---|---|---|---|"
    );
    for &n in &r.sizes {
        let lib = r.median(n, "library").unwrap_or(f64::NAN);
        let ratio = |who: &str, flip: bool| {
            r.median(n, who).map_or("–".into(), |m| format!("{:.2}x", if flip { lib / m } else { m / lib }))
        };
        let overhead = match (r.median(n, "c-abi"), r.median(n, "get")) {
            (Some(run), Some(get)) => time(run - get),
            _ => "–".into(),
        };
        let paired = r.paired_to_floor(n, "library").map_or("–".into(), |x| format!("{x:.2}x"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {paired} | {} |",
            count(n),
            ratio("lxml", false),
            ratio("et", false),
            ratio(&floor, true),
            overhead
        );
    }

    let parts = [
        ("part: scan answer", "scan of the answer"),
        ("part: scan local", "scan of the local config"),
        ("part: merge", "`merge` (copy into a new String)"),
        ("part: merge_to", "`merge_to` (copy into a reused buffer)"),
        ("part: check_text", "`check_text` of both (UTF-8, no NUL), not in the merge above"),
    ];
    let _ = writeln!(
        s,
        "\nWhere the library's time goes, each part timed alone (median, and in brackets as a multiple of {floor}'s bare read of the answer):\n"
    );
    let _ = writeln!(s, "| N | {} |\n|---|{}", parts.map(|(_, label)| label).join(" | "), "---|".repeat(parts.len()));
    for &n in &r.sizes {
        let read = r.median(n, &floor).unwrap_or(f64::NAN);
        let cells: Vec<String> = parts
            .iter()
            .map(|(who, _)| r.median(n, who).map_or("–".into(), |m| format!("{} ({:.2}x)", time(m), m / read)))
            .collect();
        let _ = writeln!(s, "| {} | {} |", count(n), cells.join(" | "));
    }

    let _ = writeln!(s, "\n## quick-xml releases: bare read of the answer (median, MB/s of the answer)\n");
    let versions: Vec<&str> = crate::floor::VERSIONS.iter().map(|(v, _)| *v).collect();
    let mut sorted = versions.clone();
    sorted.sort();
    let _ = writeln!(s, "| N | {} |\n|---|{}", sorted.join(" | "), "---|".repeat(sorted.len()));
    for &n in &r.sizes {
        let answer = r.bytes[&n].1;
        let cells: Vec<String> = sorted
            .iter()
            .map(|v| {
                r.median(n, &format!("quick-xml {v}"))
                    .map_or("–".into(), |m| format!("{} ({:.0})", time(m), mb_s(answer, m)))
            })
            .collect();
        let _ = writeln!(s, "| {} | {} |", count(n), cells.join(" | "));
    }

    let _ = writeln!(
        s,
        "\n## End to end on loopback ({} accounts, a {} answer)\n\n\
         The same loopback server (HTTP/1.1 keep-alive) and the same ureq configuration as the \
         library; `provision_run` also reads the local config and merges. {} rounds.\n\n\
         | | median [fastest – slowest] | / bare GET |\n|---|---|---|",
        r.e2e_n,
        megabytes(r.e2e_answer_bytes as u64),
        r.e2e.get("get").map_or(0, |g| g.samples.len())
    );
    let get = r.e2e.get("get").map_or(f64::NAN, Stats::median);
    for (who, label) in [
        ("get", "bare GET of the same URL (ureq)"),
        ("run", "`provision_run`"),
        ("run-dead-first", "`provision_run`, first URL refused"),
    ] {
        if let Some(st) = r.e2e.get(who) {
            let _ = writeln!(s, "| {label} | {} | {:.2}x |", span(st), st.median() / get);
        }
    }

    let _ = writeln!(
        s,
        "\n## Peak memory, {} accounts (a {} answer)\n\nPeak RSS (VmHWM) of a separate process.\n\n\
         | process | peak RSS | / answer |\n|---|---|---|",
        count(r.rss_n),
        megabytes(r.rss_answer_bytes as u64)
    );
    for (what, kib) in &r.rss {
        let bytes = kib * 1024;
        let _ = writeln!(s, "| {what} | {} | {:.2}x |", megabytes(bytes), bytes as f64 / r.rss_answer_bytes as f64);
    }

    let _ = writeln!(
        s,
        "\n## The documents\n\nGenerated by bench/src/gen.rs, the same bytes on every machine: a local config of {} \
         (declaration, comments, attributes in both quote styles, a stale `accounts` section, user-only sections) \
         and an answer with N accounts of about {} bytes each (comments, attributes, a character reference, \
         `&amp;`, CDATA, non-ASCII text), plus sections that are not significant. Significant sections: `{}`. \
         Before any time is taken, the library's output (Rust API and C ABI) must equal the expected document \
         byte for byte, and the ElementTree and lxml outputs must be C14N-equal to it.\n",
        megabytes(r.bytes[&r.sizes[0]].0 as u64),
        r.sizes
            .iter()
            .rev()
            .find(|&&n| n >= 1_000)
            .map_or(0, |&n| (r.bytes[&n].1 - r.bytes[&r.sizes[0]].1) / (n - r.sizes[0])),
        crate::gen::SIGNIFICANT
    );
    let _ =
        writeln!(s, "Python {}, lxml {} (libxml2 {}).", r.version("python"), r.version("lxml"), r.version("libxml2"));

    let notes = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/NOTES.md")).unwrap_or_default();
    if !notes.is_empty() {
        let _ = writeln!(s, "\n{notes}");
    }
    s
}
