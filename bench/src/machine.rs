//! What the figures were measured on, and with what.

use std::path::Path;
use std::process::Command;

#[derive(Default)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub date: String,
    pub load_before: String,
    pub load_after: String,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn command(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The 1-, 5- and 15-minute load averages.
pub fn load_average() -> String {
    read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

impl Machine {
    pub fn now() -> Machine {
        let cpuinfo = read("/proc/cpuinfo");
        let field = |name: &str| {
            cpuinfo
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let mut cpu = field("model name");
        if cpuinfo.contains(" hypervisor") {
            cpu.push_str(" (virtual machine)");
        }
        let memory_kib: f64 = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: memory_kib / 1024.0 / 1024.0,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            date: command("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            load_before: load_average(),
            load_after: String::new(),
        }
    }
}

/// This process's peak resident set size, in KiB.
pub fn peak_rss_kib() -> u64 {
    read("/proc/self/status")
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The size of `lib` once stripped of symbols and debug sections, as a
/// distribution ships it.
pub fn stripped_size(lib: &Path, scratch: &Path) -> Result<u64, String> {
    let out = scratch.join("libprovision.stripped.so");
    let status = Command::new("strip")
        .arg("--strip-all")
        .arg("-o")
        .arg(&out)
        .arg(lib)
        .status()
        .map_err(|e| format!("strip: {e}"))?;
    if !status.success() {
        return Err(format!("strip {} failed", lib.display()));
    }
    Ok(std::fs::metadata(&out).map_err(|e| e.to_string())?.len())
}

/// The version of `package` that the library's own Cargo.lock resolves.
fn locked(package: &str) -> String {
    let lock = read(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"));
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"") {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return v.trim_end_matches('"').to_owned();
            }
        }
    }
    "?".into()
}

pub fn versions(library: &str) -> Vec<(String, String)> {
    vec![
        ("libprovision".into(), format!("{library} (release profile: LTO, 1 codegen unit)")),
        ("rustc".into(), command("rustc", &["-V"])),
        ("quick-xml (library)".into(), locked("quick-xml")),
        ("ureq".into(), locked("ureq")),
    ]
}
