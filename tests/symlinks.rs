//! Issue 10, section 3: another local user (`nobody`) plants symlinks in a
//! world-writable sticky folder holding the local config, the cache and the
//! provision file. The library follows no link there unless it belongs to
//! the caller or to the folder's owner (what `fs.protected_symlinks`
//! enforces, which the library's own link resolution bypassed).
//!
//! As CI does, these run as root and plant the links as `nobody` (a child
//! `ln` that setuid's); under another user they are skipped, saying why.

mod common;

use common::{provision_xml, serve_ok, DeadPort, ANSWER};
use provision::{LogRecord, Provisioner, Status};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

macro_rules! root_only {
    () => {
        if !is_root() {
            eprintln!("skipped: planting another user's symlink needs root (run as root, as CI does)");
            return;
        }
    };
}

/// `ln -s target link`, run as `nobody`.
fn plant_as_nobody(target: &Path, link: &Path) {
    let status = Command::new("ln").arg("-s").arg(target).arg(link).uid(NOBODY).gid(NOBODY).status().unwrap();
    assert!(status.success(), "ln as nobody");
    assert_eq!(fs::symlink_metadata(link).unwrap().uid(), NOBODY);
}

/// A temp folder (kept by the guard) with `shared` (1777, root's), and
/// `fake-etc/passwd` (0644, root's): what a planted link aims at.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir(dir.path().join("shared")).unwrap();
        fs::set_permissions(dir.path().join("shared"), fs::Permissions::from_mode(0o1777)).unwrap();
        fs::create_dir(dir.path().join("fake-etc")).unwrap();
        fs::write(dir.path().join("fake-etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        fs::set_permissions(dir.path().join("fake-etc/passwd"), fs::Permissions::from_mode(0o644)).unwrap();
        Scene { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn assert_passwd_untouched(&self) {
        let passwd = self.path("fake-etc/passwd");
        assert_eq!(fs::read_to_string(&passwd).unwrap(), "root:x:0:0:root:/root:/bin/sh\n");
        assert_eq!(fs::metadata(&passwd).unwrap().mode() & 0o7777, 0o644);
    }
}

fn provisioner(urls: &[String]) -> Provisioner {
    Provisioner::from_xml(&provision_xml(urls, "<use_authentication>0</use_authentication>", "accounts")).unwrap()
}

fn assert_refused_link(err: &provision::Error, name: &str) {
    assert_eq!(err.status, Status::PROVISION_ERR_IO, "{err}");
    assert!(err.message.contains("refused to follow the symlink") && err.message.contains(name), "{err}");
}

#[test]
fn a_planted_link_to_a_system_file_is_neither_written_nor_read_as_the_local_config() {
    root_only!();
    let scene = Scene::new();
    let config = scene.path("shared/Config.xml");
    plant_as_nobody(&scene.path("fake-etc/passwd"), &config);

    let p = provisioner(&[DeadPort::new().url()]);
    let err = p.store_local(Some("<options><accounts>sip-secret</accounts></options>"), &config).unwrap_err();
    assert_refused_link(&err, "Config.xml");
    scene.assert_passwd_untouched();
    assert!(fs::symlink_metadata(&config).unwrap().file_type().is_symlink(), "the link is left alone");

    // Nor is it read (here it would be /etc/passwd parsed as a config).
    let err = p.run(Some(&config)).unwrap_err();
    assert_refused_link(&err, "Config.xml");
}

#[test]
fn a_planted_link_as_the_cache_gets_no_file_with_the_password() {
    root_only!();
    let scene = Scene::new();
    let loot = scene.path("loot");
    fs::create_dir(&loot).unwrap();
    std::os::unix::fs::chown(&loot, Some(NOBODY), Some(NOBODY)).unwrap();
    let cache = scene.path("shared/cache.xml");
    plant_as_nobody(&loot.join("stolen.xml"), &cache);

    let server = serve_ok(ANSWER);
    let p = provisioner(&[server.url("/")]);
    p.set_cache(Some(&cache));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    p.set_logger(Some(Arc::new(move |r: &LogRecord| sink.lock().unwrap().push(r.message.clone()))));
    p.run(None).expect("a cache not written fails nothing");
    assert!(!loot.join("stolen.xml").exists(), "no file was created through the link");
    assert_eq!(fs::read_dir(&loot).unwrap().count(), 0);
    let heard = heard.lock().unwrap();
    assert!(heard.iter().any(|m| m.contains("cache was not updated") && m.contains("refused to follow")), "{heard:?}");
}

#[test]
fn a_planted_link_as_the_saved_provision_file_is_refused() {
    root_only!();
    let scene = Scene::new();
    let saved = scene.path("shared/provision.conf");
    plant_as_nobody(&scene.path("fake-etc/passwd"), &saved);
    let err = provisioner(&["http://127.0.0.1:9/".into()]).save(&saved).unwrap_err();
    assert_refused_link(&err, "provision.conf");
    scene.assert_passwd_untouched();
}

#[test]
fn links_of_the_caller_or_of_the_folders_owner_are_followed() {
    root_only!();
    let scene = Scene::new();
    // The caller's own link in the shared folder.
    let mine = scene.path("shared/mine.xml");
    std::os::unix::fs::symlink(scene.path("fake-etc/mine.xml"), &mine).unwrap();
    let p = provisioner(&["http://127.0.0.1:9/".into()]);
    p.store_local(Some("<options/>"), &mine).unwrap();
    assert_eq!(fs::read_to_string(scene.path("fake-etc/mine.xml")).unwrap(), "<options/>");

    // nobody's link in nobody's own sticky folder.
    let theirs = scene.path("theirs");
    fs::create_dir(&theirs).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o1777)).unwrap();
    std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).unwrap();
    plant_as_nobody(&scene.path("fake-etc/theirs.xml"), &theirs.join("Config.xml"));
    p.store_local(Some("<options/>"), &theirs.join("Config.xml")).unwrap();
    assert_eq!(fs::read_to_string(scene.path("fake-etc/theirs.xml")).unwrap(), "<options/>");

    // And nobody's link in a folder that is not world-writable and sticky.
    let plain = scene.path("plain");
    fs::create_dir(&plain).unwrap();
    fs::set_permissions(&plain, fs::Permissions::from_mode(0o777)).unwrap();
    plant_as_nobody(&scene.path("fake-etc/plain.xml"), &plain.join("Config.xml"));
    p.store_local(Some("<options/>"), &plain.join("Config.xml")).unwrap();
    assert_eq!(fs::read_to_string(scene.path("fake-etc/plain.xml")).unwrap(), "<options/>", "written through");
    assert!(fs::symlink_metadata(plain.join("Config.xml")).unwrap().file_type().is_symlink(), "still a link");
}

#[test]
fn a_local_config_planted_by_another_user_is_replaced_with_mode_0600() {
    // The owner's mode is kept only for the caller's own file: a 0666 file
    // that nobody planted in the shared folder must not make the caller's
    // config (with whatever passwords it holds) readable by all.
    root_only!();
    let scene = Scene::new();
    let config = scene.path("shared/Config.xml");
    fs::write(&config, "<options/>").unwrap();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&config, Some(NOBODY), Some(NOBODY)).unwrap();
    let p = provisioner(&["http://127.0.0.1:9/".into()]);
    p.store_local(Some("<options><accounts>sip-secret</accounts></options>"), &config).unwrap();
    let meta = fs::symlink_metadata(&config).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (0, 0o600), "the caller's file, private");
    assert!(fs::read_to_string(&config).unwrap().contains("sip-secret"));
}

/// Test builds only: the race made deterministic by the library's hook
/// around its opens (`test_hooks::around_open`).
#[cfg(feature = "test-hooks")]
#[test]
fn a_link_swapped_in_between_the_check_and_the_open_is_never_read() {
    // nobody owns provision.conf in the shared folder and swaps it, by
    // rename, for a link to root's private provision file just after the
    // library checked it (and, second round, back again just after the
    // open). A load gets an IO error, never root's file.
    use provision::test_hooks::{around_open, OpenStep};
    root_only!();
    let scene = Scene::new();
    let roots = scene.path("fake-etc/provision.conf");
    fs::write(&roots, provision_xml(&["http://127.0.0.1:2/".into()], "", "accounts")).unwrap();
    fs::set_permissions(&roots, fs::Permissions::from_mode(0o600)).unwrap();
    let path = scene.path("shared/provision.conf");
    let shared = scene.path("shared");
    let as_nobody = move |tmp: &str, make: &dyn Fn(&Path)| {
        let tmp = shared.join(tmp);
        make(&tmp);
        std::os::unix::fs::lchown(&tmp, Some(NOBODY), Some(NOBODY)).unwrap();
        fs::rename(&tmp, shared.join("provision.conf")).unwrap();
    };
    let nobodys = provision_xml(&["http://127.0.0.1:1/".into()], "", "accounts");
    let link = {
        let as_nobody = as_nobody.clone();
        move || as_nobody("link.tmp", &|tmp| std::os::unix::fs::symlink(&roots, tmp).unwrap())
    };
    let plain = move || as_nobody("plain.tmp", &|tmp| fs::write(tmp, &nobodys).unwrap());
    for swap_back in [false, true] {
        plain();
        let (link, plain) = (link.clone(), plain.clone());
        around_open(Some(Box::new(move |step, _| match step {
            OpenStep::BeforeOpen => link(),
            OpenStep::AfterOpen if swap_back => plain(),
            OpenStep::AfterOpen => {}
        })));
        let loaded = provision::Settings::load(&path);
        around_open(None);
        let err = loaded.expect_err("root's private file was read through the swapped-in link");
        assert_eq!(err.status, Status::PROVISION_ERR_IO, "{err}");
        let why = if swap_back { "changed while it was being opened" } else { "refused to follow the symlink" };
        assert!(err.message.contains(why), "{err}");
    }
    plain();
    assert_eq!(provision::Settings::load(&path).unwrap().base_urls, ["http://127.0.0.1:1/"], "unswapped, it reads");
}
