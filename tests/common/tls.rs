//! HTTPS test servers: a CA made at test time (rcgen) and servers whose
//! certificate it signed, for any host names.

use super::{serve_wrapped, Reply, Request, Server, Stream};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A certificate authority that exists only for one test.
pub struct Ca {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    /// Writes the CA's certificate as a PEM file.
    pub fn write_pem(&self, path: &Path) {
        std::fs::write(path, &self.pem).unwrap();
    }

    /// A server configuration whose certificate names `hosts` (DNS names or IPs).
    pub fn server_config(&self, hosts: &[&str]) -> Arc<ServerConfig> {
        let (chain, key) = self.server_cert(hosts);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        Arc::new(config)
    }

    /// A server certificate for `hosts` (DNS names or IPs) and its key.
    fn server_cert(&self, hosts: &[&str]) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let names: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names).unwrap().signed_by(&key, &self.issuer).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (vec![CertificateDer::from(cert.der().to_vec())], key)
    }
}

/// A TLS connection that says goodbye properly when dropped.
struct Tls(StreamOwned<ServerConnection, TcpStream>);

impl Read for Tls {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Tls {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Stream for Tls {
    fn tcp(&self) -> &TcpStream {
        &self.0.sock
    }
}

impl Drop for Tls {
    fn drop(&mut self) {
        self.0.conn.send_close_notify();
        let _ = self.0.flush();
    }
}

/// An HTTPS server on loopback. A client that rejects the certificate ends
/// the handshake and is never seen as a request.
pub fn serve_tls(config: Arc<ServerConfig>, responder: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
    let wrap = move |tcp: TcpStream| -> Option<Box<dyn Stream>> {
        // A client that stalls mid-handshake must not hold the server forever.
        tcp.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let mut stream = StreamOwned::new(ServerConnection::new(config.clone()).ok()?, tcp);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock).ok()?;
        }
        Some(Box::new(Tls(stream)))
    };
    serve_wrapped("https", Box::new(wrap), responder)
}

/// A client certificate issued by a test CA, as PEM files in a temp folder.
pub struct ClientFiles {
    pub chain: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

impl Ca {
    /// A server configuration that requires a client certificate signed by `clients`.
    pub fn server_config_requiring_client(&self, hosts: &[&str], clients: &Ca) -> Arc<ServerConfig> {
        let (chain, key) = self.server_cert(hosts);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(clients.der())).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .unwrap();
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap();
        Arc::new(config)
    }

    /// The CA's certificate, DER.
    pub fn der(&self) -> Vec<u8> {
        rustls::pki_types::pem::PemObject::from_pem_slice(self.pem.as_bytes())
            .map(|c: CertificateDer<'static>| c.to_vec())
            .unwrap()
    }

    /// A client certificate for `name` and its PKCS#8 key, written to `dir`.
    pub fn client_files(&self, dir: &Path, name: &str) -> ClientFiles {
        self.client_files_for(dir, name, KeyPair::generate().unwrap())
    }

    /// A client certificate for `name` carrying `key`, and the key (PKCS#8), written to `dir`.
    pub fn client_files_for(&self, dir: &Path, name: &str, key: KeyPair) -> ClientFiles {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let files = ClientFiles { chain: dir.join(format!("{name}.crt")), key: dir.join(format!("{name}.key")) };
        std::fs::write(&files.chain, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    }
}
