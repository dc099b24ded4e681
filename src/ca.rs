//! The local certificate authority: load or create it on disk, and mint leaf certificates.
//!
//! Owns the CA directory (created 0700; refused when group or others can write it), the CA
//! files (`gomitm-ca.pem` 0644, `gomitm-ca-key.pem` 0600, `gomitm-bundle.pem` 0644, modes set
//! whatever the umask, never written through a symlink) and the per-host cache
//! of rustls `ServerConfig`s. The key is read here and nowhere else; it never appears in an
//! error message. Knows nothing about sockets or flows.

use std::collections::HashMap;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, PKCS_ECDSA_P256_SHA256,
};
use rustls::crypto::CryptoProvider;
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::output_file;

pub const CERT_FILE: &str = "gomitm-ca.pem";
pub const KEY_FILE: &str = "gomitm-ca-key.pem";
pub const BUNDLE_FILE: &str = "gomitm-bundle.pem";

/// Leaf certificates live a month: long enough for any debugging session, well inside the
/// 825 days Apple's verifier (used by Go on macOS) accepts.
const LEAF_VALIDITY_DAYS: i64 = 30;
const CA_VALIDITY_DAYS: i64 = 3650;
/// Past this many cached hosts the cache is cleared rather than grown.
const MAX_CACHED_HOSTS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot create CA directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the CA key {path} is readable by group or others (mode {mode:o}); \
         fix it with: chmod 600 {path}"
    )]
    KeyPermissions { path: PathBuf, mode: u32 },
    #[error(
        "the CA directory {path} is writable by group or others (mode {mode:o}): whoever can \
         write there can replace the CA that go and git are told to trust; fix it with: \
         chmod 700 {path}"
    )]
    DirPermissions { path: PathBuf, mode: u32 },
    #[error("{path} holds a certificate but {missing} is missing; remove both to start afresh")]
    HalfPresent { path: PathBuf, missing: PathBuf },
    #[error("the CA in {path} is not usable: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot generate a certificate for {host}: {reason}")]
    Mint { host: String, reason: String },
}

/// The loaded CA: signs leaf certificates on demand and caches a `ServerConfig` per host.
pub struct CertAuthority {
    dir: PathBuf,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    not_after: OffsetDateTime,
    issuer: Issuer<'static, KeyPair>,
    /// One process-wide leaf key: generating a key per host would cost every new host a
    /// keygen, and the leaf key never leaves this process.
    leaf_key: KeyPair,
    provider: Arc<CryptoProvider>,
    cache: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl std::fmt::Debug for CertAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertAuthority")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl CertAuthority {
    /// Load the CA from `dir`, or create it there on first run.
    pub fn load_or_create(dir: &Path) -> Result<CertAuthority, CaError> {
        prepare_dir(dir)?;
        let cert_path = dir.join(CERT_FILE);
        let key_path = dir.join(KEY_FILE);
        match (cert_path.exists(), key_path.exists()) {
            (false, false) => create(dir, &cert_path, &key_path)?,
            (true, false) => {
                return Err(CaError::HalfPresent {
                    path: cert_path,
                    missing: key_path,
                })
            }
            (false, true) => {
                return Err(CaError::HalfPresent {
                    path: key_path,
                    missing: cert_path,
                })
            }
            (true, true) => {}
        }
        load(dir, &cert_path, &key_path)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(CERT_FILE)
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// SHA-256 of the certificate, as colon-separated hex (what trust dialogs show).
    pub fn fingerprint_sha256(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.cert_der.as_ref());
        let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        hex.join(":")
    }

    /// The TLS server configuration to present to a client asking for `host`
    /// (DNS name or IP literal). Cached per host.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, CaError> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(cfg) = self.lock_cache().get(&host) {
            return Ok(cfg.clone());
        }
        let cfg = Arc::new(self.mint(&host)?);
        let mut cache = self.lock_cache();
        if cache.len() >= MAX_CACHED_HOSTS {
            cache.clear();
        }
        cache.insert(host, cfg.clone());
        Ok(cfg)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ServerConfig>>> {
        // A poisoned cache only means another thread panicked mid-insert; the map is fine.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn mint(&self, host: &str) -> Result<ServerConfig, CaError> {
        let err = |reason: String| CaError::Mint {
            host: host.to_string(),
            reason,
        };
        let leaf = leaf_params(host)
            .signed_by(&self.leaf_key, &self.issuer)
            .map_err(|e| err(e.to_string()))?;
        let chain = vec![leaf.der().clone(), self.cert_der.clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let mut cfg = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| err(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| err(e.to_string()))?;
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(cfg)
    }
}

fn leaf_params(host: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    // A name that is neither an IP nor a valid DNS name gets no SAN: the client will reject
    // the certificate and that failure is recorded, which is more honest than guessing.
    params.subject_alt_names = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SanType::IpAddress(ip)],
        Err(_) => host
            .to_string()
            .try_into()
            .map(SanType::DnsName)
            .into_iter()
            .collect(),
    };
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, host);
    dn.push(DnType::OrganizationName, "gomitm");
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(LEAF_VALIDITY_DAYS);
    params.serial_number = Some(random_serial());
    params.use_authority_key_identifier_extension = true;
    params
}

fn random_serial() -> rcgen::SerialNumber {
    let mut bytes = [0u8; 16];
    let rng = ring::rand::SystemRandom::new();
    let _ = ring::rand::SecureRandom::fill(&rng, &mut bytes);
    // A positive DER integer: clear the top bit.
    bytes[0] &= 0x7f;
    rcgen::SerialNumber::from_slice(&bytes)
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        format!("gomitm CA ({})", local_host_name()),
    );
    dn.push(DnType::OrganizationName, "gomitm debugging proxy");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
    params.serial_number = Some(random_serial());
    params
}

/// Create the CA directory 0700 whatever the umask, or refuse an existing one that group or
/// others can write: they could swap the CA for their own, or plant a symlink where gomitm
/// writes.
fn prepare_dir(dir: &Path) -> Result<(), CaError> {
    let create_err = |source| CaError::CreateDir {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.exists() {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(create_err)?;
        set_mode(dir, 0o700).map_err(create_err)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir).map_err(create_err)?.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(CaError::DirPermissions {
                path: dir.to_path_buf(),
                mode: mode & 0o777,
            });
        }
    }
    Ok(())
}

/// Set exactly `mode` (the umask only ever removes bits; this also restores them).
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

fn create(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<(), CaError> {
    let invalid = |reason: String| CaError::Invalid {
        path: dir.to_path_buf(),
        reason,
    };
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| invalid(e.to_string()))?;
    let cert = ca_params()
        .self_signed(&key)
        .map_err(|e| invalid(e.to_string()))?;
    write_new(key_path, key.serialize_pem().as_bytes(), 0o600)?;
    write_new(cert_path, cert.pem().as_bytes(), 0o644)
}

/// A new CA file with exactly `mode` from its first byte (the key is never briefly
/// world-readable), never written through a symlink planted at `path`.
fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), CaError> {
    output_file::write_new(path, data, Some(mode)).map_err(|source| CaError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn check_key_permissions(path: &Path) -> Result<(), CaError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::metadata(path).map_err(|source| CaError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CaError::KeyPermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn load(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<CertAuthority, CaError> {
    check_key_permissions(key_path)?;
    let read = |p: &Path| {
        fs::read_to_string(p).map_err(|source| CaError::Read {
            path: p.to_path_buf(),
            source,
        })
    };
    let cert_pem = read(cert_path)?;
    let key_pem = read(key_path)?;
    // Never echo parser details for the key: they could quote key material.
    let key = KeyPair::from_pem(&key_pem).map_err(|_| CaError::Invalid {
        path: key_path.to_path_buf(),
        reason: "the key file is not a PEM private key".into(),
    })?;
    let invalid = |reason: String| CaError::Invalid {
        path: cert_path.to_path_buf(),
        reason,
    };
    let cert_der = pem_to_der(&cert_pem).ok_or_else(|| invalid("no CERTIFICATE block".into()))?;
    let not_after = x509_parser::parse_x509_certificate(cert_der.as_ref())
        .map_err(|e| invalid(e.to_string()))?
        .1
        .validity()
        .not_after
        .to_datetime();
    let issuer = Issuer::from_ca_cert_der(&cert_der, key).map_err(|e| invalid(e.to_string()))?;
    let leaf_key =
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| invalid(e.to_string()))?;
    Ok(CertAuthority {
        dir: dir.to_path_buf(),
        cert_pem,
        cert_der,
        not_after,
        issuer,
        leaf_key,
        provider: tls_provider(),
        cache: Mutex::new(HashMap::new()),
    })
}

/// The one TLS crypto provider, for every handshake gomitm makes or takes (and the tests'
/// servers): aws-lc-rs, whose default key exchange prefers the post-quantum X25519MLKEM768 as
/// go 1.24+ does, so that traffic through gomitm negotiates what it would direct.
pub fn tls_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn pem_to_der(pem: &str) -> Option<CertificateDer<'static>> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).ok()
}

/// Encode DER certificates as one PEM text (for bundles).
pub fn der_to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Read PEM certificates from a file (for `--extra-root`).
pub fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, CaError> {
    use rustls_pki_types::pem::PemObject;
    let data = fs::read(path).map_err(|source| CaError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<_, _>>()
        .map_err(|e| CaError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(CaError::Invalid {
            path: path.to_path_buf(),
            reason: "no CERTIFICATE block found".into(),
        });
    }
    Ok(certs)
}

/// The system's trusted roots followed by the gomitm CA, as PEM — for `SSL_CERT_FILE`, which
/// replaces Go's bundle on Linux rather than adding to it.
pub fn bundle_pem(ca: &CertAuthority) -> String {
    let mut out = String::new();
    for cert in rustls_native_certs::load_native_certs().certs {
        out.push_str(&der_to_pem(cert.as_ref()));
    }
    out.push_str(&format!("# gomitm CA ({})\n", ca.cert_path().display()));
    out.push_str(ca.cert_pem());
    out
}

/// Write the bundle (0644: it holds only public certificates), replacing what is there.
pub fn write_bundle(ca: &CertAuthority, path: &Path) -> Result<(), CaError> {
    output_file::replace(path, bundle_pem(ca).as_bytes(), Some(0o644)).map_err(|source| {
        CaError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

#[cfg(not(unix))]
fn local_host_name() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "localhost".into())
}

#[cfg(unix)]
fn local_host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length and gethostname NUL-terminates within it.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (tempfile::TempDir, CertAuthority) {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertAuthority::load_or_create(dir.path()).unwrap();
        (dir, ca)
    }

    #[test]
    fn creates_ca_with_private_key_mode_0600_and_reloads_the_same_cert() {
        let (dir, ca) = fresh();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = CertAuthority::load_or_create(dir.path()).unwrap();
        assert_eq!(again.cert_der(), ca.cert_der());
        assert_eq!(again.fingerprint_sha256(), ca.fingerprint_sha256());
        assert!(ca.not_after() > OffsetDateTime::now_utc() + Duration::days(3000));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_group_readable_key_and_says_how_to_fix_it() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, _) = fresh();
        let key = dir.path().join(KEY_FILE);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let err = CertAuthority::load_or_create(dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("chmod 600"), "{err}");
        assert!(!err.contains("PRIVATE KEY"), "{err}");
    }

    #[test]
    fn half_present_ca_is_an_error_not_a_silent_overwrite() {
        let (dir, _) = fresh();
        fs::remove_file(dir.path().join(KEY_FILE)).unwrap();
        let err = CertAuthority::load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, CaError::HalfPresent { .. }), "{err}");
    }

    #[test]
    fn leaf_configs_are_cached_per_host_and_offer_h2() {
        let (_dir, ca) = fresh();
        let a = ca.server_config("goproxy.test").unwrap();
        let b = ca.server_config("GOPROXY.test").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        let ip = ca.server_config("127.0.0.1").unwrap();
        assert!(!Arc::ptr_eq(&a, &ip));
    }

    #[test]
    fn leaf_has_ip_san_for_ip_hosts_and_dns_san_otherwise() {
        let ip = leaf_params("10.1.2.3");
        assert!(matches!(ip.subject_alt_names[0], SanType::IpAddress(_)));
        let dns = leaf_params("proxy.golang.org");
        assert!(matches!(dns.subject_alt_names[0], SanType::DnsName(_)));
        assert_eq!(
            dns.extended_key_usages,
            vec![ExtendedKeyUsagePurpose::ServerAuth]
        );
        assert!(dns.not_after - dns.not_before <= Duration::days(825));
    }

    #[test]
    fn pem_round_trip_and_bundle_ends_with_the_ca() {
        let (_dir, ca) = fresh();
        let pem = der_to_pem(ca.cert_der().as_ref());
        assert_eq!(pem_to_der(&pem).as_ref(), Some(ca.cert_der()));
        let bundle = bundle_pem(&ca);
        assert!(bundle.trim_end().ends_with("-----END CERTIFICATE-----"));
        assert!(bundle.contains(ca.cert_pem()));
    }
}
