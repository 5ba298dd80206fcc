//! The boundary's own tests: every exported function under a forced panic,
//! and the helpers.

use super::*;
use crate::test_hooks::panic_in_this_thread;
use std::ptr;

const PROVISION_XML: &CStr = c"<provision><base_urls><base_url>http://127.0.0.1:9/</base_url></base_urls>\
    <significant_sections>accounts</significant_sections></provision>";

fn last_error() -> String {
    unsafe { CStr::from_ptr(provision_last_error()) }.to_string_lossy().into_owned()
}

/// Every exported function, called while its boundary is made to panic:
/// statuses are INTERNAL with a message, accessors give their fallback,
/// and the process and the handle live on.
#[test]
fn a_panic_in_any_exported_function_is_internal_and_the_process_lives_on() {
    let internal = Status::PROVISION_ERR_INTERNAL as c_int;
    let mut p: *mut Handle = ptr::null_mut();
    unsafe {
        assert_eq!(provision_load_xml(PROVISION_XML.as_ptr(), &mut p), 0);
        let mut slot: *mut Handle = ptr::null_mut();
        let out: *mut *mut Handle = &mut slot;
        let dir = tempfile::tempdir().unwrap();
        let file = CString::new(dir.path().join("c.xml").to_str().unwrap()).unwrap();

        let mut exercised: Vec<&str> = Vec::new();
        let mut status = |name: &'static str, f: &dyn Fn() -> c_int| {
            panic_in_this_thread(true);
            let got = f();
            panic_in_this_thread(false);
            assert_eq!(got, internal, "{name}");
            assert!(
                last_error().starts_with("internal error (a bug in libprovision): forced panic"),
                "{name}: {}",
                last_error()
            );
            exercised.push(name);
        };
        status("provision_load", &|| provision_load(file.as_ptr(), out));
        status("provision_load_xml", &|| provision_load_xml(PROVISION_XML.as_ptr(), out));
        status("provision_set_credentials", &|| provision_set_credentials(p, c"u".as_ptr(), c"pw".as_ptr()));
        status("provision_set_timeouts", &|| provision_set_timeouts(p, 1, 1));
        status("provision_set_ca_file", &|| provision_set_ca_file(p, ptr::null()));
        status("provision_run", &|| provision_run(p, ptr::null()));
        status("provision_store_local", &|| provision_store_local(p, c"<o/>".as_ptr(), file.as_ptr()));
        status("provision_set_call_active", &|| provision_set_call_active(p, 1));
        status("provision_start_refresh", &|| provision_start_refresh(p, ptr::null(), None, ptr::null_mut()));
        status("provision_stop_refresh", &|| provision_stop_refresh(p));
        status("provision_refresh_now", &|| provision_refresh_now(p, 0));
        status("provision_set_logger", &|| provision_set_logger(p, None, ptr::null_mut()));
        status("provision_set_cache", &|| provision_set_cache(p, ptr::null()));
        status("provision_save", &|| provision_save(p, file.as_ptr()));
        status("provision_set_user_agent", &|| provision_set_user_agent(p, ptr::null()));
        status("provision_set_client_cert", &|| provision_set_client_cert(p, ptr::null(), ptr::null()));
        status("provision_set_proxy", &|| provision_set_proxy(p, ptr::null()));
        status("provision_set_header", &|| provision_set_header(p, c"X-A".as_ptr(), c"b".as_ptr()));
        status("provision_set_variable", &|| provision_set_variable(p, c"version".as_ptr(), c"1".as_ptr()));
        let mut book: *mut AddressbookSnapshot = ptr::null_mut();
        let book_out: *mut *mut AddressbookSnapshot = &mut book;
        status("provision_addressbook_fetch", &|| provision_addressbook_fetch(p, book_out));
        status("provision_addressbook_add", &|| provision_addressbook_add(p, c"<contact/>".as_ptr(), book_out));
        status("provision_addressbook_update", &|| {
            provision_addressbook_update(p, c"1".as_ptr(), c"<contact/>".as_ptr())
        });
        status("provision_addressbook_delete", &|| provision_addressbook_delete(p, c"1".as_ptr()));
        panic_in_this_thread(true);
        assert!(provision_addressbook_xml(book).is_null() && provision_addressbook_count(book) == 0);
        provision_addressbook_free(book);
        panic_in_this_thread(false);
        assert!(book.is_null());
        exercised.extend(["provision_addressbook_xml", "provision_addressbook_count", "provision_addressbook_free"]);

        // An outcome to read while panicking: a cache-served one, made from a
        // cache file, since the one base URL is dead.
        let cache = CString::new(dir.path().join("cache.xml").to_str().unwrap()).unwrap();
        std::fs::write(dir.path().join("cache.xml"), "<options><accounts><account/></accounts></options>").unwrap();
        assert_eq!(provision_set_cache(p, cache.as_ptr()), 0);
        assert_eq!(provision_set_timeouts(p, 1000, 1000), 0);
        assert_eq!(provision_run(p, ptr::null()), Status::PROVISION_CACHED as c_int, "{}", last_error());
        let o = provision_last_outcome(p);
        assert!(!o.is_null());

        panic_in_this_thread(true);
        assert!(provision_config(p).is_null());
        assert!(provision_source_url(p).is_null());
        assert_eq!(provision_is_provisioned(p, c"accounts".as_ptr()), 0);
        assert!(provision_last_outcome(p).is_null());
        assert!(provision_outcome_config(o).is_null());
        assert!(provision_outcome_source_url(o).is_null());
        assert!(provision_outcome_provisioned(o).is_null());
        assert_eq!(provision_outcome_is_provisioned(o, c"accounts".as_ptr()), 0);
        assert_eq!(provision_outcome_from_cache(o), 0);
        assert_eq!(CStr::from_ptr(provision_last_error()), c"");
        provision_outcome_free(o); // the fallback: nothing freed, nothing crashed
        provision_free(p);
        panic_in_this_thread(false);
        exercised.extend(["provision_config", "provision_source_url", "provision_is_provisioned"]);
        exercised.extend(["provision_last_outcome", "provision_outcome_config", "provision_outcome_source_url"]);
        exercised.extend(["provision_outcome_provisioned", "provision_outcome_is_provisioned"]);
        exercised.extend(["provision_outcome_from_cache", "provision_outcome_free"]);
        exercised.extend(["provision_last_error", "provision_free"]);
        panic_in_this_thread(true);
        let version = CStr::from_ptr(provision_version());
        assert_eq!(CStr::from_ptr(provision_status_name(0)), c"PROVISION_UNKNOWN");
        panic_in_this_thread(false);
        assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"), "the fallback is the version too");
        exercised.extend(["provision_version", "provision_status_name"]);

        // The outcome survived the panics too.
        assert_eq!(provision_outcome_from_cache(o), 1);
        assert_eq!(provision_outcome_is_provisioned(o, c"accounts".as_ptr()), 1);
        assert_eq!(CStr::from_ptr(provision_outcome_provisioned(o)), c"accounts");
        provision_outcome_free(o);

        // The handle still works after all those panics.
        assert_eq!(provision_set_timeouts(p, 100, 100), 0);
        assert_eq!(provision_store_local(p, c"<o/>".as_ptr(), file.as_ptr()), 0);
        assert_eq!(std::fs::read_to_string(dir.path().join("c.xml")).unwrap(), "<o/>");
        provision_free(p);

        // Every function of the header is covered.
        let header = include_str!("../../include/provision.h");
        let mut declared: Vec<&str> = header
            .lines()
            .filter(|l| !l.trim_start().starts_with(['/', '*']))
            .filter_map(|l| l.split_once('(').map(|(head, _)| head))
            .filter_map(|head| head.split_whitespace().last())
            .map(|name| name.trim_start_matches('*'))
            .filter(|name| name.starts_with("provision_"))
            .collect();
        declared.sort();
        exercised.sort();
        assert_eq!(declared, exercised, "add new exported functions to this test");
    }
}

#[test]
fn a_panic_message_of_any_type_is_reported() {
    let status = call(|| std::panic::panic_any(42u8));
    assert_eq!(status, Status::PROVISION_ERR_INTERNAL as c_int);
    assert_eq!(last_error(), "internal error (a bug in libprovision): unknown panic");
    assert_eq!(call(|| Ok(())), 0);
    assert_eq!(last_error(), "", "a success clears it");
}

/// Every status of the header has its name, and nothing else has one.
#[test]
fn status_names_are_the_header_names() {
    let header = include_str!("../../include/provision.h");
    let statuses = header.split("typedef enum provision_status {").nth(1).unwrap().split('}').next().unwrap();
    let mut seen = 0;
    for line in statuses.lines().map(str::trim).filter(|l| l.starts_with("PROVISION_")) {
        let (name, value) = line.trim_end_matches(',').split_once(" = ").unwrap();
        let value: c_int = value.parse().unwrap();
        assert_eq!(unsafe { CStr::from_ptr(provision_status_name(value)) }.to_str().unwrap(), name);
        seen += 1;
    }
    assert_eq!(seen, Status::ALL.len(), "Status::ALL lists every status");
    for unknown in [-1, 99, c_int::MAX, c_int::MIN] {
        assert_eq!(unsafe { CStr::from_ptr(provision_status_name(unknown)) }, c"PROVISION_UNKNOWN");
    }
}

#[test]
fn the_version_is_the_header_version() {
    let header = include_str!("../../include/provision.h");
    let version = unsafe { CStr::from_ptr(provision_version()) }.to_str().unwrap();
    assert!(header.contains(&format!("#define PROVISION_VERSION \"{version}\"\n")));
    let [major, minor, patch] = ["MAJOR", "MINOR", "PATCH"].map(|part| {
        let line = header.lines().find(|l| l.starts_with(&format!("#define PROVISION_VERSION_{part} "))).unwrap();
        line.rsplit(' ').next().unwrap().to_owned()
    });
    assert_eq!(format!("{major}.{minor}.{patch}"), version);
}

/// One rule for paths: NULL is "none" where a function allows it, "" is
/// ARGUMENT everywhere.
#[test]
fn an_empty_path_is_an_argument_error_everywhere() {
    let argument = Status::PROVISION_ERR_ARGUMENT as c_int;
    let mut p: *mut Handle = ptr::null_mut();
    unsafe {
        assert_eq!(provision_load(c"".as_ptr(), &mut p), argument);
        assert!(p.is_null());
        assert_eq!(provision_load_xml(PROVISION_XML.as_ptr(), &mut p), 0);
        let empty = c"".as_ptr();
        for (name, status) in [
            ("provision_run", provision_run(p, empty)),
            ("provision_set_cache", provision_set_cache(p, empty)),
            ("provision_set_ca_file", provision_set_ca_file(p, empty)),
            ("provision_store_local", provision_store_local(p, c"<o/>".as_ptr(), empty)),
            ("provision_save", provision_save(p, empty)),
            ("provision_start_refresh", provision_start_refresh(p, empty, None, ptr::null_mut())),
        ] {
            assert_eq!(status, argument, "{name}");
            assert!(last_error().ends_with("is empty"), "{name}: {}", last_error());
        }
        provision_free(p);
    }
}

/// A call from a thread whose thread-locals are gone (a pthread key
/// destructor, a Rust thread-local's drop) gets a status, never an abort.
#[test]
fn a_call_after_the_threads_locals_are_gone_returns_a_status() {
    use std::sync::atomic::{AtomicI32, Ordering};
    static GOT: AtomicI32 = AtomicI32::new(-1);
    struct CallsOnDrop;
    impl Drop for CallsOnDrop {
        fn drop(&mut self) {
            // SAFETY: NULL is a valid handle argument.
            GOT.store(unsafe { provision_set_call_active(ptr::null_mut(), 1) }, Ordering::SeqCst);
            let _ = provision_last_error();
        }
    }
    thread_local! { static LATE: CallsOnDrop = const { CallsOnDrop }; }
    std::thread::spawn(|| {
        // The library's thread-locals first, this one after: destroyed in
        // whatever order, the call in its drop must not abort.
        set_last_error("x");
        LATE.with(|_| ());
    })
    .join()
    .unwrap();
    assert_eq!(GOT.load(Ordering::SeqCst), Status::PROVISION_ERR_ARGUMENT as c_int);
}
