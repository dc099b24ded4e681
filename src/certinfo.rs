//! An upstream's certificate chain, summarised for the record: the leaf's subject, issuer and
//! expiry, and whether the chain ends at one of Mozilla's public roots (`webpki-roots`).
//!
//! A chain the system trusts that does not end at a public root was signed by a locally
//! installed CA — in practice a corporate TLS-inspection proxy. Pure: DER in, data out; the
//! dialer calls it after the handshake, and never fails a connection because of it.

use rustls_pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use crate::flow::CertSummary;

/// The summary of `chain` as the server sent it (leaf first); `None` when there is no
/// certificate or the leaf cannot be parsed.
pub fn summarize_chain(chain: &[CertificateDer<'_>]) -> Option<CertSummary> {
    let (_, leaf) = X509Certificate::from_der(chain.first()?.as_ref()).ok()?;
    let last = chain
        .last()
        .and_then(|der| X509Certificate::from_der(der.as_ref()).ok())
        .map(|(_, c)| c);
    let (root, public_root) = match &last {
        Some(c) => (
            name_text(c.issuer()),
            is_public_root_name(c.issuer().as_raw()),
        ),
        None => (
            name_text(leaf.issuer()),
            is_public_root_name(leaf.issuer().as_raw()),
        ),
    };
    let issuer_org = leaf
        .issuer()
        .iter_organization()
        .next()
        .and_then(|o| o.as_str().ok())
        .map(str::to_string);
    let summary = CertSummary {
        subject: name_text(leaf.subject()),
        issuer: name_text(leaf.issuer()),
        issuer_org,
        not_after: rfc3339(&leaf.validity().not_after),
        chain_len: chain.len(),
        root,
        public_root: Some(public_root),
    };
    Some(summary)
}

/// The subject of a certificate as `summarize_chain` names CAs (its common name, else the
/// whole name), so that a CA given with `--extra-root` can be recognised as a chain's root.
pub fn subject_name(der: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    Some(name_text(cert.subject()))
}

/// Whether a DER-encoded X.501 name (with or without its SEQUENCE header) is the subject
/// of one of Mozilla's root CAs. Names, not keys: the sent chain rarely includes the root.
pub fn is_public_root_name(name_der: &[u8]) -> bool {
    let inner = strip_der_header(name_der).unwrap_or(name_der);
    webpki_roots::TLS_SERVER_ROOTS.iter().any(|anchor| {
        let subject: &[u8] = anchor.subject.as_ref();
        subject == inner || subject == name_der
    })
}

/// The value of a DER TLV (its tag and length removed), if it is well formed.
fn strip_der_header(der: &[u8]) -> Option<&[u8]> {
    let len_byte = *der.get(1)?;
    let (len, start) = if len_byte < 0x80 {
        (usize::from(len_byte), 2)
    } else {
        let n = usize::from(len_byte & 0x7f);
        let bytes = der.get(2..2 + n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    der.get(start..start + len)
}

/// The common name, else the whole name as text.
fn name_text(name: &X509Name<'_>) -> String {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map_or_else(|| name.to_string(), str::to_string)
}

fn rfc3339(t: &x509_parser::time::ASN1Time) -> String {
    t.to_datetime()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(cn: &str, org: &str) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(vec!["h.test".to_string()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, org);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn a_private_ca_is_not_a_public_root() {
        let der = self_signed("Corp Inspection CA", "Corp");
        let s = summarize_chain(&[der]).unwrap();
        assert_eq!(s.subject, "Corp Inspection CA");
        assert_eq!(s.issuer, "Corp Inspection CA");
        assert_eq!(s.issuer_org.as_deref(), Some("Corp"));
        assert_eq!(s.chain_len, 1);
        assert_eq!(s.public_root, Some(false));
        assert!(s.is_local_ca());
        assert!(s.not_after.contains('T'), "{}", s.not_after);
        assert!(s.describe().contains("TLS-inspection"), "{}", s.describe());
    }

    #[test]
    fn every_mozilla_root_name_is_recognised_with_or_without_its_header() {
        for anchor in webpki_roots::TLS_SERVER_ROOTS.iter().take(20) {
            let inner: &[u8] = anchor.subject.as_ref();
            assert!(is_public_root_name(inner));
            let mut with_header = vec![0x30];
            if inner.len() < 0x80 {
                with_header.push(inner.len() as u8);
            } else {
                with_header.extend([0x82, (inner.len() >> 8) as u8, inner.len() as u8]);
            }
            with_header.extend_from_slice(inner);
            assert!(is_public_root_name(&with_header));
        }
        assert!(!is_public_root_name(&[0x30, 0x00]));
    }

    #[test]
    fn nothing_to_summarise_is_none() {
        assert!(summarize_chain(&[]).is_none());
        assert!(summarize_chain(&[CertificateDer::from(vec![1, 2, 3])]).is_none());
    }
}
