//! ElementTree and lxml, run by bench/peers.py.

use crate::timing::Stats;
use crate::Options;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers.py")
}

/// Fails unless both peers' outputs for every size in `dir` are C14N-equal
/// to the expected document.
pub fn check(o: &Options, dir: &Path) -> Result<(), String> {
    let status = Command::new(&o.python)
        .arg(script())
        .arg("check")
        .arg(dir)
        .args(o.sizes.iter().map(|n| n.to_string()))
        .status()
        .map_err(|e| format!("{}: {e}", o.python))?;
    if !status.success() {
        return Err("ElementTree or lxml disagrees with the library (see above)".into());
    }
    Ok(())
}

/// The command that reports the peak RSS of one `which` merge of size `n`.
pub fn rss_command(o: &Options, dir: &Path, n: usize, which: &str) -> Command {
    let mut cmd = Command::new(&o.python);
    cmd.arg(script()).args(["rss", dir.to_str().unwrap(), &n.to_string(), which]);
    cmd
}

/// ElementTree's and lxml's timings for one size, from bench/peers.py.
pub fn samples(
    o: &Options,
    dir: &Path,
    n: usize,
    rounds: usize,
    versions: &mut Vec<(String, String)>,
) -> Result<Vec<(String, Stats)>, String> {
    let out = Command::new(&o.python)
        .arg(script())
        .args(["time", dir.to_str().unwrap(), &rounds.to_string(), &n.to_string()])
        .output()
        .map_err(|e| format!("{}: {e}", o.python))?;
    if !out.status.success() {
        return Err(format!("peers.py time: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let mut stats: BTreeMap<String, Stats> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        match line.split(' ').collect::<Vec<_>>()[..] {
            ["version", name, value] if !versions.iter().any(|(n, _)| n == name) => {
                versions.push((name.to_owned(), value.to_owned()));
            }
            ["sample", name, _, seconds] => {
                let seconds = seconds.parse().map_err(|e| format!("peers.py: {line}: {e}"))?;
                stats.entry(name.to_owned()).or_default().samples.push(seconds);
            }
            _ => {}
        }
    }
    Ok(stats.into_iter().collect())
}
