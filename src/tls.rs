//! What HTTPS trusts.
//!
//! By default: the platform verifier, i.e. the system's trust store as the
//! distribution and the administrator keep it, never a list compiled into
//! the library. With an operator's private CA added
//! (`provision_set_ca_file`), the system's roots (read by
//! rustls-native-certs, as the platform verifier does on Linux) plus that
//! CA's certificates, verified by webpki. Host names are always checked.

use crate::error::{Error, Result};
use crate::read_file::{read_file, MAX_SMALL_FILE_BYTES};
use std::path::Path;
use ureq::tls::{parse_pem, Certificate, PemItem, RootCerts};

/// The roots for a fetcher: the platform verifier alone, or the system's
/// roots plus `extra` (DER certificates).
pub fn root_certs(extra: &[Vec<u8>]) -> RootCerts {
    if extra.is_empty() {
        return RootCerts::PlatformVerifier;
    }
    // An unreadable system store still leaves the operator's CA: the phone
    // can reach the server it was configured for.
    let system = rustls_native_certs::load_native_certs().certs;
    let system = system.into_iter().map(|der| Certificate::from_der(der.as_ref()).to_owned());
    let extra = extra.iter().map(|der| Certificate::from_der(der).to_owned());
    RootCerts::from(system.chain(extra))
}

/// The certificates (DER) of a PEM file; at least one, or it is refused.
pub fn load_ca_file(path: &Path) -> Result<Vec<Vec<u8>>> {
    let shown = path.display();
    let pem = read_file(path, MAX_SMALL_FILE_BYTES).map_err(|e| e.for_file(&shown, "the CA file"))?;
    let mut certs = Vec::new();
    for item in parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert.der().to_vec()),
            Ok(_) => {}
            Err(e) => return Err(Error::format(format!("{shown}: not a PEM file: {e}"))),
        }
    }
    if certs.is_empty() {
        return Err(Error::format(format!("{shown}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)")));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_ca_comes_on_top_of_the_system_roots() {
        let system = rustls_native_certs::load_native_certs().certs.len();
        let RootCerts::Specific(roots) = root_certs(&[vec![1, 2, 3]]) else {
            panic!("an added CA needs explicit roots");
        };
        assert_eq!(roots.len(), system + 1);
        assert!(system > 0, "the system store (ca-certificates) should not be empty");
        assert!(matches!(root_certs(&[]), RootCerts::PlatformVerifier));
    }
}
