//! One run: documents, output checks, then every timing.

use crate::cabi;
use crate::floor;
use crate::gen;
use crate::library::*;
use crate::machine;
use crate::peers;
use crate::server;
use crate::timing::{run_rounds, Contestant, Stats};
use crate::{path_of, write_file, Options, Results};
use provision::fetch::MAX_ANSWER_BYTES;
use provision::merge::{self, Doc};
use provision::xml::{self, Scan};
use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;

pub fn measure(o: &Options, dir: &Path, r: &mut Results) -> Result<(), String> {
    let sig = significant();
    eprintln!("generating documents for N = {:?}", o.sizes);
    let cases: Vec<(usize, gen::Docs)> = o.sizes.iter().map(|&n| (n, gen::generate(n))).collect();
    for (n, d) in &cases {
        write_file(&path_of(dir, "local", *n), &d.local)?;
        write_file(&path_of(dir, "answer", *n), &d.answer)?;
        write_file(&path_of(dir, "expected", *n), &d.expected)?;
        r.bytes.insert(*n, (d.local.len(), d.answer.len()));
    }

    // Outputs first: nothing is timed until every contestant agrees.
    for (n, d) in &cases {
        if lib_merge(&d.local, &d.answer, &sig)? != d.expected {
            return Err(format!("N={n}: the library's merge is not the expected document"));
        }
        let mut streamed = Vec::new();
        lib_merge_to(&d.local, &d.answer, &sig, &mut streamed)?;
        if streamed != d.expected.as_bytes() {
            return Err(format!("N={n}: the library's merge_to did not write the expected document"));
        }
    }
    eprintln!("checked: the library's merge (Rust API) is the expected document, byte for byte");

    let lib = cabi::Lib::open(&o.lib)?;
    let routes = cases.iter().map(|(n, d)| (format!("/n{n}/configuration"), d.answer.clone().into_bytes()));
    let server = server::serve(routes.collect::<HashMap<_, _>>());
    let dead = server::DeadPort::new();
    let base = |n: usize| format!("http://127.0.0.1:{}/n{n}/", server.port);
    let dead_base = format!("http://127.0.0.1:{}/", dead.port);
    let mut handles = BTreeMap::new();
    for (n, d) in &cases {
        let handle = lib.load_xml(&provision_xml(&[base(*n)]))?;
        let local = CString::new(path_of(dir, "local", *n).to_str().unwrap()).unwrap();
        match handle.run(&local) {
            Ok(()) if handle.config() == Some(d.expected.as_bytes()) => {
                handles.insert(*n, (handle, local));
            }
            Ok(()) => return Err(format!("N={n}: provision_run's config is not the expected document")),
            Err(e) if d.answer.len() as u64 > MAX_ANSWER_BYTES => {
                r.c_abi_refused.insert(*n, e);
            }
            Err(e) => return Err(format!("N={n}: {e}")),
        }
    }
    eprintln!("checked: provision_run (C ABI, loopback) gives the expected document");

    peers::check(o, dir)?;

    let agent = agent();
    for (n, d) in &cases {
        eprintln!("timing merges, N = {n}");
        let rounds = if *n >= 100_000 { o.rounds.div_ceil(2).max(3) } else { o.rounds };
        let url = request_url(&base(*n));
        let mut reused = Vec::new();
        let mut reused_part = Vec::new();
        let (local_scan, answer_scan, provisioned) = scan_both(&d.local, &d.answer, &sig)?;
        let local_doc = Doc { text: &d.local, scan: &local_scan };
        let answer_doc = Doc { text: &d.answer, scan: &answer_scan };
        let answer = d.answer.as_str();
        let (floor_version, floor_read) = floor::VERSIONS[0];
        let mut contestants = vec![
            Contestant::new("library", || {
                black_box(lib_merge(&d.local, &d.answer, &sig).unwrap());
            }),
            // Right after the library in each round: the pair the 1.3x
            // target compares round by round.
            Contestant::new(format!("quick-xml {floor_version}"), move || {
                black_box(floor_read(answer));
            }),
            Contestant::new("library-reused", || {
                reused.clear();
                lib_merge_to(&d.local, &d.answer, &sig, &mut reused).unwrap();
                black_box(&reused);
            }),
            // Where the time goes.
            Contestant::new("part: check_text", || {
                black_box(xml::check_text(d.local.as_bytes()).unwrap());
                black_box(xml::check_text(d.answer.as_bytes()).unwrap());
            }),
            Contestant::new("part: scan answer", || {
                black_box(Scan::new(&d.answer).unwrap());
            }),
            Contestant::new("part: scan local", || {
                black_box(Scan::new(&d.local).unwrap());
            }),
            Contestant::new("part: merge", || {
                black_box(merge::merge(Some(local_doc), answer_doc, &provisioned));
            }),
            Contestant::new("part: merge_to", || {
                reused_part.clear();
                merge::merge_to(&mut reused_part, Some(local_doc), answer_doc, &provisioned).unwrap();
                black_box(&reused_part);
            }),
        ];
        for (version, read) in &floor::VERSIONS[1..] {
            contestants.push(Contestant::new(format!("quick-xml {version}"), move || {
                black_box(read(answer));
            }));
        }
        if let Some((handle, local)) = handles.get(n) {
            // A C caller runs, then takes the config: both are timed.
            contestants.push(Contestant::wall("c-abi", move || {
                handle.run(local).unwrap();
                black_box(handle.config().map(<[u8]>::len));
            }));
            let (agent, url) = (&agent, url.as_str());
            contestants.push(Contestant::wall("get", move || {
                black_box(bare_get(agent, url).unwrap());
            }));
        }
        run_rounds(&mut contestants, rounds);
        let mut stats: BTreeMap<String, Stats> = contestants.into_iter().map(|c| (c.name, c.stats)).collect();
        for (name, samples) in peers::samples(o, dir, *n, rounds, &mut r.versions)? {
            stats.insert(name, samples);
        }
        r.merge.insert(*n, stats);
    }

    // End to end: a small answer, where the fixed costs show.
    let e2e_n = *o.sizes.iter().find(|&&n| n >= 10).unwrap_or(&o.sizes[0]);
    eprintln!("timing end to end, N = {e2e_n}");
    let (live, local) = handles.get(&e2e_n).ok_or("the end-to-end case did not run")?;
    let dead_first = lib.load_xml(&provision_xml(&[dead_base.clone(), base(e2e_n)]))?;
    dead_first.run(local)?;
    let url = request_url(&base(e2e_n));
    let mut contestants = vec![
        Contestant::wall("get", || {
            black_box(bare_get(&agent, &url).unwrap());
        }),
        Contestant::wall("run", || live.run(local).unwrap()),
        Contestant::wall("run-dead-first", || dead_first.run(local).unwrap()),
    ];
    run_rounds(&mut contestants, o.e2e_rounds);
    r.e2e = contestants.into_iter().map(|c| (c.name, c.stats)).collect();
    r.e2e_n = e2e_n;
    r.e2e_answer_bytes = r.bytes[&e2e_n].1;
    drop(handles);
    drop(dead_first);

    eprintln!("a local config with many copies of a provisioned section");
    r.copies = many_copies(o.rounds);

    let rss_n = *o.sizes.last().unwrap();
    eprintln!("peak RSS, N = {rss_n}");
    r.rss_n = rss_n;
    r.rss_answer_bytes = r.bytes[&rss_n].1;
    r.rss = peak_rss(o, dir, rss_n)?;

    r.so_bytes = std::fs::metadata(&o.lib).map_err(|e| e.to_string())?.len();
    r.so_stripped_bytes = machine::stripped_size(&o.lib, dir)?;
    r.versions.splice(0..0, machine::versions(&lib.version()));
    Ok(())
}

fn peak_rss(o: &Options, dir: &Path, n: usize) -> Result<Vec<(String, u64)>, String> {
    let kib = |cmd: &mut Command| -> Result<u64, String> {
        let out = cmd.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|e| format!("{cmd:?}: {e}"))
    };
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let file = |what| path_of(dir, what, n);
    let mut rss = vec![("an idle process (this binary)".to_owned(), kib(Command::new(&me).arg("rss-idle"))?)];
    for (mode, label) in [
        ("rss", "library, `merge`: read both files, merge into a String, write it"),
        ("rss-stream", "library, `merge_to`: read both files, merge straight into the output file"),
    ] {
        let merged = dir.join("merged.xml");
        rss.push((
            label.to_owned(),
            kib(Command::new(&me).arg(mode).arg(file("local")).arg(file("answer")).arg(&merged))?,
        ));
        if std::fs::read(&merged).map_err(|e| e.to_string())?
            != std::fs::read(file("expected")).map_err(|e| e.to_string())?
        {
            return Err(format!("{mode}: the merged file is not the expected document"));
        }
    }
    for (name, label) in [("lxml", "lxml"), ("et", "ElementTree")] {
        let rss_kib = kib(&mut peers::rss_command(o, dir, n, name))?;
        rss.push((format!("{label}: the same merge in Python"), rss_kib));
    }
    Ok(rss)
}

/// The merge of a local config holding `n` copies of a provisioned section
/// (and as many of an unprovisioned one between them) with an answer holding
/// `n` copies too: linear in `n` since issue 10 (it was quadratic: 10 000
/// copies 0.17 s, 40 000 copies 3.93 s).
fn many_copies(rounds: usize) -> Vec<(usize, Stats)> {
    let sig = vec!["accounts".to_string()];
    [10_000, 20_000, 40_000]
        .into_iter()
        .map(|n| {
            let local = format!("<options>{}\n</options>", "\n  <accounts><a>mine</a></accounts><audio/>".repeat(n));
            let answer = format!("<options>{}\n</options>", "\n  <accounts><a>server</a></accounts>".repeat(n));
            let mut c = [Contestant::new("copies", || {
                black_box(lib_merge(&local, &answer, &sig).unwrap());
            })];
            run_rounds(&mut c, rounds.div_ceil(3).max(3));
            let [c] = c;
            (n, c.stats)
        })
        .collect()
}
