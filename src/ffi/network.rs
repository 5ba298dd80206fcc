//! The C functions of issue 12: client certificates, proxies, extra headers
//! and URL template variables. Each takes effect from the next run on (the
//! refresh worker's too); a run under way keeps what it started with.

use super::handle::{handle, Handle};
use super::{arg_opt_path, arg_opt_str, arg_str, call};
use libc::{c_char, c_int};

/// Presents the certificate chain in the PEM file `cert_chain_pem_path`
/// (the client's certificate first, then intermediates) and the private key
/// in the PEM file `key_pem_path` (PKCS#8, RSA or EC; not encrypted) to https
/// servers that ask for a client certificate (mutual TLS). Both NULL removes
/// them. The files are read during this call and never again: the library
/// keeps no path.
///
/// Returns: PROVISION_OK; PROVISION_ERR_IO when a file cannot be read;
/// PROVISION_ERR_FORMAT when the chain file holds no certificate, the key file
/// no key (or more than one), or the key does not match the certificate (the
/// message says which, and never quotes the key file); PROVISION_ERR_ARGUMENT
/// for a NULL handle, only one of the two paths, an empty or non-UTF-8 path.
/// After a failure the previous certificate (or none) stays.
///
/// Ownership: the strings stay the caller's; nothing is kept of them but copies.
/// Threads: any, at any time; from the next run on (the refresh worker's
/// too); a run already under way keeps what it started with.
///
/// # Safety
/// `p` is NULL or a live handle; each path is NULL or a NUL-terminated string,
/// read during the call only.
#[no_mangle]
pub unsafe extern "C" fn provision_set_client_cert(
    p: *mut Handle,
    cert_chain_pem_path: *const c_char,
    key_pem_path: *const c_char,
) -> c_int {
    call(|| {
        let h = handle(p)?;
        let chain = arg_opt_path(cert_chain_pem_path, "cert_chain_pem_path")?;
        let key = arg_opt_path(key_pem_path, "key_pem_path")?;
        h.core.set_client_cert(chain, key)
    })
}

/// Sets the proxy of later requests. NULL: the environment's (`ALL_PROXY`,
/// `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, read during this call; a new
/// handle reads them when it is made), the default; `""`: no proxy, even when the environment names one;
/// `http://[user:password@]host:port`: that HTTP proxy (user and password
/// percent-encoded), reached with CONNECT for https and http targets alike.
/// A proxy answering 407 fails the URL with PROVISION_ERR_FETCH and a message
/// saying that it wants credentials or refused those given. The proxy's
/// password never appears in a message or log record.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle, a
/// non-UTF-8 string or a URL of another form (the message does not repeat it).
/// After a failure the previous setting stays.
///
/// Ownership: the strings stay the caller's; nothing is kept of them but copies.
/// Threads: any, at any time; from the next run on (the refresh worker's
/// too); a run already under way keeps what it started with.
///
/// # Safety
/// `p` is NULL or a live handle; `proxy_url` is NULL or a NUL-terminated
/// string, read during the call only.
#[no_mangle]
pub unsafe extern "C" fn provision_set_proxy(p: *mut Handle, proxy_url: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.set_proxy(arg_opt_str(proxy_url, "proxy_url")?)
    })
}

/// Sends the header `name: value` with every later request to the base URLs'
/// own origins (never after a redirect to another origin, never logged);
/// setting a name again replaces it (names compare case-insensitively);
/// `value` NULL removes it.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle or name, a
/// name the library owns (`Authorization`, `Host`, `Content-Length`,
/// `If-None-Match`, `If-Modified-Since`, `Proxy-*`, `Connection`,
/// `User-Agent`, ... see docs/network.md), a name that is not an HTTP token, a
/// value holding CR, LF or another control character, or beyond 32 headers or
/// 8 KiB of names and values in all. The message never repeats the value.
/// After a failure the headers are unchanged.
///
/// Ownership: the strings stay the caller's; nothing is kept of them but copies.
/// Threads: any, at any time; from the next run on (the refresh worker's
/// too); a run already under way keeps what it started with.
///
/// # Safety
/// `p` is NULL or a live handle; `name` is NULL or a NUL-terminated string;
/// `value` is NULL or a NUL-terminated string; both read during the call only.
#[no_mangle]
pub unsafe extern "C" fn provision_set_header(p: *mut Handle, name: *const c_char, value: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.set_header(arg_str(name, "name")?, arg_opt_str(value, "value")?)
    })
}

/// Sets the value that replaces the placeholder `[name]` (or `{name}`) of URL
/// templates in base URLs, percent-encoded; `value` NULL removes it. A run
/// whose base URL holds a placeholder that is neither `[username]`,
/// `[password]` nor a variable fails with PROVISION_ERR_FORMAT naming it,
/// before any request.
///
/// Returns: PROVISION_OK; PROVISION_ERR_ARGUMENT for a NULL handle or name, a
/// name that is not a letter or `_` followed by letters, digits, `_`, `.`,
/// `-` (at most 64 bytes), `username` or `password` (they come from the
/// credentials), a non-UTF-8 value, or beyond 32 variables or 2 KiB in all.
/// After a failure the variables are unchanged.
///
/// Ownership: the strings stay the caller's; nothing is kept of them but copies.
/// Threads: any, at any time; from the next run on (the refresh worker's
/// too); a run already under way keeps what it started with.
///
/// # Safety
/// `p` is NULL or a live handle; `name` is NULL or a NUL-terminated string;
/// `value` is NULL or a NUL-terminated string; both read during the call only.
#[no_mangle]
pub unsafe extern "C" fn provision_set_variable(p: *mut Handle, name: *const c_char, value: *const c_char) -> c_int {
    call(|| {
        let h = handle(p)?;
        h.core.set_variable(arg_str(name, "name")?, arg_opt_str(value, "value")?)
    })
}
