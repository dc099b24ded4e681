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
