//! What HTTPS trusts.
//!
//! By default: the platform verifier, i.e. the system's trust store as the
//! distribution and the administrator keep it, never a list compiled into
//! the library. With an operator's private CA added
//! (`provision_set_ca_file`), the system's roots (read by
//! rustls-native-certs, as the platform verifier does on Linux) plus that
//! CA's certificates, verified by webpki. Host names are always checked.
//!
//! And what HTTPS presents: a client certificate chain and its key
//! (`provision_set_client_cert`), for servers that ask for one (mutual TLS).

use crate::error::{Error, Result};
use crate::read_file::{read_file, MAX_SMALL_FILE_BYTES};
use std::path::Path;
use std::sync::Arc;
use ureq::tls::{parse_pem, Certificate, ClientCert, PemItem, PrivateKey, RootCerts};

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

/// A client certificate chain and its private key, checked to belong
/// together. Read once, when set: the library keeps no path that could be
/// swapped later. Two identities are equal only when they are the same
/// loaded value. `Debug` shows neither the key nor the certificates.
#[derive(Clone)]
pub struct ClientIdentity(Arc<ClientCert>);

impl ClientIdentity {
    pub fn cert(&self) -> &ClientCert {
        &self.0
    }
}

impl PartialEq for ClientIdentity {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ClientIdentity {}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientIdentity { .. }")
    }
}

/// Reads a certificate chain (PEM, end-entity first) and its private key
/// (PEM: PKCS#8, RSA or EC). IO when a file cannot be read; FORMAT when the
/// chain holds no certificate, the key file no key (or more than one), or the
/// key does not match the certificate. No message quotes the key file's
/// content, not even a parser's words about it.
pub fn load_client_identity(chain_path: &Path, key_path: &Path) -> Result<ClientIdentity> {
    let (chain_shown, key_shown) = (chain_path.display(), key_path.display());
    let pem = read_file(chain_path, MAX_SMALL_FILE_BYTES)
        .map_err(|e| e.for_file(&chain_shown, "the client certificate file"))?;
    let mut chain = Vec::new();
    for item in parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => chain.push(cert.to_owned()),
            Ok(_) => {}
            Err(e) => return Err(Error::format(format!("{chain_shown}: not a PEM file: {e}"))),
        }
    }
    if chain.is_empty() {
        return Err(Error::format(format!(
            "{chain_shown}: the client certificate file holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        )));
    }

    let pem = read_file(key_path, MAX_SMALL_FILE_BYTES).map_err(|e| e.for_file(&key_shown, "the client key file"))?;
    let mut keys = Vec::new();
    for item in parse_pem(&pem) {
        match item {
            Ok(PemItem::PrivateKey(key)) => keys.push(key.to_owned()),
            Ok(_) => {}
            // The parser's words may quote a line of the key: never shown.
            Err(_) => return Err(Error::format(format!("{key_shown}: the client key file is not a valid PEM file"))),
        }
    }
    let key = match keys.len() {
        1 => keys.pop().expect("one key"),
        0 => {
            return Err(Error::format(format!(
                "{key_shown}: the client key file holds no private key (PEM: PKCS#8, RSA or EC; \
                 an encrypted key must be decrypted first)"
            )))
        }
        n => return Err(Error::format(format!("{key_shown}: the client key file holds {n} private keys, not one"))),
    };
    check_pair(&chain, &key).map_err(|why| Error::format(format!("{key_shown} and {chain_shown}: {why}")))?;
    Ok(ClientIdentity(Arc::new(ClientCert::new_with_certs(&chain, key))))
}

/// A TLS failure as a sentence that names a client certificate's part in
/// it: a server that requires one answers a handshake without one with an
/// alert whose name alone says little to an admin.
pub fn explain(text: &str, has_client_cert: bool) -> String {
    let alert = |name: &str| text.contains(name);
    if alert("CertificateRequired") {
        if has_client_cert {
            return format!("the server refused the client certificate: {text}");
        }
        return format!("the server requires a client certificate and none is set (provision_set_client_cert): {text}");
    }
    // TLS 1.2 servers say only this when a required certificate is missing.
    if !has_client_cert && alert("received fatal alert: HandshakeFailure") {
        return format!(
            "the server ended the handshake (it may require a client certificate, and none is set): {text}"
        );
    }
    let refused = ["BadCertificate", "UnknownCA", "CertificateUnknown", "AccessDenied", "CertificateExpired"];
    if has_client_cert && alert("received fatal alert") && refused.iter().any(|a| alert(a)) {
        return format!("the server refused the client certificate: {text}");
    }
    text.to_owned()
}

/// Whether the key is one rustls can sign with and the first certificate
/// carries its public key: a mismatch found now is a clear error, found in
/// the handshake it would be a server's terse alert.
fn check_pair(chain: &[Certificate<'static>], key: &PrivateKey<'static>) -> std::result::Result<(), String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    // ureq does not export the name of its key kinds: the DER says which it is.
    let key_der = PrivateKeyDer::try_from(key.der())
        .map_err(|_| "the private key is not PKCS#8, RSA or EC".to_owned())?
        .clone_key();
    let chain = chain.iter().map(|c| CertificateDer::from(c.der().to_vec())).collect();
    let provider = rustls::crypto::ring::default_provider();
    match rustls::sign::CertifiedKey::from_der(chain, key_der, &provider) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err("the private key does not match the client certificate (the first one in the chain)".to_owned())
        }
        Err(rustls::Error::InvalidCertificate(e)) => Err(format!("the client certificate cannot be read: {e:?}")),
        Err(_) => Err("the private key is of a kind that cannot be used (PKCS#8, RSA or EC keys are)".to_owned()),
    }
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
