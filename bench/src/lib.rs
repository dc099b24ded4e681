//! Shared pieces of the benchmark binaries: PEM loading and TLS configs.
//!
//! The binaries are `upstream` (the HTTPS origin and Go module proxy), `loadgen` (the load
//! client) and `hudsucker-noop` (the no-op MITM peer). See `bench/run.sh` for how they fit.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// The one crypto provider of the bench: ring (gomitm uses aws-lc-rs; see PERFORMANCE.md).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("read {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parse certificates in {}", path.display()))?;
    if certs.is_empty() {
        bail!("no certificate in {}", path.display());
    }
    Ok(certs)
}

/// A root store holding only the certificates in `ca_pem`.
pub fn roots(ca_pem: &Path) -> Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(ca_pem)? {
        roots.add(cert).context("add trust root")?;
    }
    Ok(roots)
}

/// A TLS client config trusting only `ca_pem`, offering `alpn`.
///
/// Resumption is off so every connection pays a full handshake: the handshake figures then
/// compare like with like whichever peer is in the middle.
pub fn client_config(ca_pem: &Path, alpn: &[&[u8]]) -> Result<rustls::ClientConfig> {
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_root_certificates(roots(ca_pem)?)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    cfg.resumption = rustls::client::Resumption::disabled();
    Ok(cfg)
}

/// The flags of the MITM rows that are not gomitm (`hudsucker-noop`, `h1relay`): the CA to
/// sign leaves with, the upstream's CA, and the one address every host name resolves to.
#[derive(clap::Parser)]
pub struct MitmArgs {
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// The MITM CA certificate (PEM).
    #[arg(long)]
    pub ca_cert: std::path::PathBuf,
    /// The MITM CA key (PEM, PKCS#8).
    #[arg(long)]
    pub ca_key: std::path::PathBuf,
    /// The only root trusted for upstream TLS.
    #[arg(long)]
    pub upstream_ca: std::path::PathBuf,
    /// Every host name resolves to this address.
    #[arg(long, default_value = "127.0.0.1")]
    pub resolve_ip: std::net::IpAddr,
}

/// A TLS server config for one leaf certificate and its PKCS#8 key, offering `alpn`.
pub fn server_config(
    leaf: &rcgen::Certificate,
    key: &rcgen::KeyPair,
    alpn: &[&[u8]],
) -> Result<rustls::ServerConfig> {
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(rustls_pki_types::PrivatePkcs8KeyDer::from(
                key.serialize_der(),
            )),
        )?;
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(cfg)
}
