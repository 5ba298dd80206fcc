//! Crash safety and permissions of `store_local`: a process killed with
//! SIGKILL while storing leaves the old or the new document, never a torn
//! one; new files are private; an unwritable folder is an IO error that
//! keeps the old file.
//!
//! The killed process and the unprivileged one are examples/store_child.rs,
//! which `cargo test` builds with the examples, told what to do by its
//! environment.

mod common;

use provision::{Provisioner, Status};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::{env, fs};

const KILLS: usize = 100;

fn provisioner() -> Provisioner {
    Provisioner::from_xml(
        "<provision><base_urls><base_url>http://127.0.0.1/</base_url></base_urls>\
         <significant_sections>accounts</significant_sections></provision>",
    )
    .unwrap()
}

/// A config large enough that a write takes a while, so kills land mid-write.
fn document(tag: &str) -> String {
    let entries: String = (0..4000).map(|i| format!("\n  <entry id=\"{i}\">{tag}-{i:05}</entry>")).collect();
    format!("<?xml version=\"1.0\"?>\n<options>\n  <general>{entries}\n  </general>\n</options>\n")
}

/// examples/store_child, built by `cargo test` beside this test's binary
/// (target/<profile>/deps/ -> target/<profile>/examples/).
fn child_exe() -> PathBuf {
    let deps = env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let exe = deps.parent().unwrap().join("examples").join("store_child");
    assert!(
        exe.exists(),
        "{} is missing: `cargo test` builds it, or `cargo build --examples` when running one test target",
        exe.display()
    );
    exe
}

/// The child, with `vars` set.
fn child(vars: &[(&str, &Path)]) -> Command {
    let mut command = Command::new(child_exe());
    for (k, v) in vars {
        command.env(k, v);
    }
    command
}

#[test]
fn a_killed_store_leaves_the_old_or_the_new_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Config.xml");
    let (old, new) = (document("old"), document("new"));
    let mut seen = [0usize; 2];
    for round in 0..KILLS {
        fs::write(&path, &old).unwrap();
        let mut process =
            child(&[("PROVISION_STORE_LOOP", &path)]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        // Kill while the child is in the next store after 1 to 4 done ones,
        // so both documents are seen and the kill lands mid-write.
        let stores = 1 + round % 4;
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let done = lines.by_ref().filter(|l| l.as_ref().is_ok_and(|l| l == "<stored>")).take(stores).count();
        assert_eq!(done, stores, "round {round}: the child stopped storing");
        process.kill().unwrap(); // SIGKILL
        process.wait().unwrap();

        let text = fs::read_to_string(&path).unwrap();
        match text {
            t if t == old => seen[0] += 1,
            t if t == new => seen[1] += 1,
            t => panic!("round {round}: a torn document of {} bytes", t.len()),
        }
    }
    // Temp files of killed writes may remain (nothing runs on SIGKILL); they
    // never replace the config. At most one per kill.
    let litter = fs::read_dir(dir.path()).unwrap().count() - 1;
    println!("after {KILLS} kills: {} old, {} new, {litter} temp files left", seen[0], seen[1]);
    assert!(seen[0] > 0 && seen[1] > 0, "kills landed at different points of the loop");
    assert!(litter <= KILLS, "{litter} leftovers");
}

#[test]
fn new_files_are_0600_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Config.xml");
    // SAFETY: umask is process-wide; this binary's other tests write no files
    // in the meantime that depend on it.
    let previous = unsafe { libc::umask(0) };
    let result = provisioner().store_local(Some("<options/>"), &path);
    unsafe { libc::umask(previous) };
    result.unwrap();
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);

    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    provisioner().store_local(Some("<options><a/></options>"), &path).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644, "an existing mode is kept");
}

#[test]
fn an_unwritable_folder_is_an_io_error_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("ro");
    fs::create_dir(&folder).unwrap();
    let path = folder.join("Config.xml");
    fs::write(&path, "<options><old/></options>").unwrap();
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o555)).unwrap();

    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        let err = provisioner().store_local(Some("<options><new/></options>"), &path).unwrap_err();
        assert_eq!(err.status, Status::PROVISION_ERR_IO, "{err}");
    } else {
        // Root writes anywhere: run the store as `nobody`, from a copy of the
        // child that `nobody` may execute wherever the build tree lives.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let exe: PathBuf = dir.path().join("store-test");
        fs::copy(child_exe(), &exe).unwrap();
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        let mut command = Command::new(&exe);
        command.env("PROVISION_UNWRITABLE", &path).uid(65534).gid(65534);
        // A process another test forks at the moment of the copy inherits the
        // copy's open file until it execs: "Text file busy" then only means
        // "again in a moment".
        let mut tries = 0;
        let output = loop {
            match command.output() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => tries += 1,
                other => break other.unwrap(),
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("IO: "),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), "<options><old/></options>");
    assert_eq!(fs::read_dir(&folder).unwrap().count(), 1, "no temp file left");
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The modes after a write: issue 10, section 3.
fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_cache_and_a_saved_provision_file_are_always_0600_and_a_local_config_loses_group_and_other_write() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, saved, local) =
        (dir.path().join("cache.xml"), dir.path().join("p.conf"), dir.path().join("Config.xml"));
    for path in [&cache, &saved, &local] {
        fs::write(path, "<options/>").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o666)).unwrap();
    }
    let server = common::serve_ok("<options><accounts><password>sip-pw</password></accounts></options>");
    let p = Provisioner::from_xml(&common::provision_xml(
        &[server.url("/")],
        "<use_authentication>0</use_authentication>",
        "accounts",
    ))
    .unwrap();
    p.set_cache(Some(&cache));
    p.run(None).unwrap();
    assert!(fs::read_to_string(&cache).unwrap().contains("sip-pw"));
    assert_eq!(mode(&cache), 0o600, "the cache");
    p.save(&saved).unwrap();
    assert_eq!(mode(&saved), 0o600, "the saved provision file");
    p.store_local(None, &local).unwrap();
    assert_eq!(mode(&local), 0o644, "the local config: its owner's mode minus group and other write");
}

#[test]
fn a_file_being_written_is_never_group_or_world_writable() {
    // The child is stopped in its first write by RLIMIT_FSIZE (SIGXFSZ), so
    // its temp file stays on disk with the mode it had while being written.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Config.xml");
    fs::write(&path, "<options/>").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    let mut command = child(&[("PROVISION_STORE_LOOP", &path)]);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let small = libc::rlimit { rlim_cur: 4096, rlim_max: 4096 };
            let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_FSIZE, &small);
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
            Ok(())
        });
    }
    let status = command.status().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGXFSZ), "{status:?}");
    let temps: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".provision-"))
        .collect();
    assert_eq!(temps.len(), 1, "the write was stopped in its temp file");
    assert_eq!(fs::metadata(&temps[0]).unwrap().len(), 4096, "mid-write");
    assert_eq!(mode(&temps[0]), 0o644, "while being written: the final mode, without group or other write");
    assert_eq!(fs::read_to_string(&path).unwrap(), "<options/>", "the config is untouched");
}
