//! Proxy failures: their error class, and the readable 502/504 a client gets for them.
//!
//! The first line of every error body names the failing hop and the cause; the `go` command
//! prints a text/plain body under `server response:`, so this text reaches the user's terminal.

use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};

use super::body::ProxyBody;
use crate::flow::ErrorClass;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProxyError {
    #[error("dns lookup of {host} failed: {reason}")]
    Dns { host: String, reason: String },
    #[error("connecting to {addr} failed: {reason}")]
    Connect { addr: String, reason: String },
    #[error("connecting to {addr} timed out after {after:?}")]
    ConnectTimeout { addr: String, after: Duration },
    #[error("TLS handshake with upstream {host} failed: {reason}")]
    UpstreamTls { host: String, reason: String },
    #[error("upstream {host} closed or reset the connection: {reason}")]
    UpstreamReset { host: String, reason: String },
    #[error("upstream {host} did not answer within {after:?}")]
    UpstreamTimeout { host: String, after: Duration },
    #[error("upstream proxy {proxy} refused CONNECT {target}: {reason}")]
    UpstreamProxy {
        proxy: String,
        target: String,
        reason: String,
    },
    #[error("bad request: {0}")]
    Protocol(String),
    #[error("upstream {host} broke the HTTP protocol: {reason}")]
    UpstreamProtocol { host: String, reason: String },
    #[error("{0}")]
    Refused(String),
    /// gomitm's own failure (a rule's answer it could not build): not the client's fault.
    #[error("{0}")]
    Internal(String),
    #[error("{client} already has {limit} connections open to gomitm")]
    TooManyConnections { client: String, limit: usize },
    /// The client's request body failed while it was forwarded: the client's doing, never
    /// the upstream's, whatever the upstream connection then reported.
    #[error("the client's request body {}: {reason}", if *.malformed { "was malformed" } else { "broke off (the client went away mid-body)" })]
    ClientBody { malformed: bool, reason: String },
}

impl ProxyError {
    pub fn class(&self) -> ErrorClass {
        match self {
            ProxyError::Dns { .. } => ErrorClass::Dns,
            ProxyError::Connect { .. } => ErrorClass::Connect,
            ProxyError::ConnectTimeout { .. } => ErrorClass::ConnectTimeout,
            ProxyError::UpstreamTls { .. } => ErrorClass::UpstreamTls,
            ProxyError::UpstreamReset { .. } => ErrorClass::UpstreamReset,
            ProxyError::UpstreamTimeout { .. } => ErrorClass::UpstreamTimeout,
            ProxyError::UpstreamProxy { .. } => ErrorClass::UpstreamProxy,
            ProxyError::Protocol(_) | ProxyError::UpstreamProtocol { .. } => ErrorClass::Protocol,
            ProxyError::Refused(_) | ProxyError::TooManyConnections { .. } => ErrorClass::Refused,
            ProxyError::Internal(_) => ErrorClass::Internal,
            ProxyError::ClientBody {
                malformed: true, ..
            } => ErrorClass::Protocol,
            ProxyError::ClientBody {
                malformed: false, ..
            } => ErrorClass::ClientAbort,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::ConnectTimeout { .. } | ProxyError::UpstreamTimeout { .. } => {
                StatusCode::GATEWAY_TIMEOUT
            }
            ProxyError::Protocol(_) | ProxyError::ClientBody { .. } => StatusCode::BAD_REQUEST,
            ProxyError::Refused(_) => StatusCode::FORBIDDEN,
            ProxyError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ProxyError::TooManyConnections { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_GATEWAY,
        }
    }

    /// A second paragraph for the error body: what usually causes this and what to change.
    fn hint(&self) -> &'static str {
        match self {
            ProxyError::Dns { .. } => {
                "gomitm could not resolve the host. Check the name, your DNS, or point it at an \
                 address with --resolve HOST=IP:PORT."
            }
            ProxyError::Connect { .. } | ProxyError::ConnectTimeout { .. } => {
                "Nothing accepted the connection. Check that the server is up and the port is \
                 right; behind a corporate proxy use --upstream-proxy URL."
            }
            ProxyError::UpstreamTls { .. } => {
                "If the upstream certificate is untrusted because a corporate TLS inspection \
                 proxy sits in between, pass its CA with --extra-root FILE.pem \
                 (--insecure-upstream skips the check; debugging only). If the server does not \
                 speak TLS on that port, check the URL's scheme and port."
            }
            ProxyError::UpstreamReset { .. } => {
                "The upstream server dropped the connection. Retry; if it persists, check the \
                 server's logs."
            }
            ProxyError::UpstreamTimeout { .. } => {
                "The upstream server accepted the request but sent nothing back in time \
                 (--upstream-timeout SECS sets the limit). The go command itself would wait \
                 forever here."
            }
            ProxyError::UpstreamProxy { .. } => {
                "The proxy given with --upstream-proxy refused the tunnel. Check its address \
                 and credentials (http://user:pass@host:port)."
            }
            ProxyError::Protocol(_) => "The request could not be parsed or forwarded.",
            ProxyError::UpstreamProtocol { .. } => {
                "The upstream server's answer was not valid HTTP. Check that the URL's scheme and \
                 port are right."
            }
            ProxyError::Refused(_) => "gomitm refused this request.",
            ProxyError::Internal(_) => {
                "This is gomitm's own failure, not the server's: check the rules in force \
                 (gomitm rules check FILE); if they are fine, please report it."
            }
            ProxyError::TooManyConnections { .. } => {
                "Close idle connections, or raise the limit with --max-conns-per-client N \
                 (0 = no limit)."
            }
            ProxyError::ClientBody { .. } => {
                "The request body did not arrive whole (bad chunked encoding, fewer bytes than \
                 its Content-Length, or a reset stream); the upstream server is not at fault."
            }
        }
    }

    /// The text/plain body sent to the client. First line: `gomitm: <hop and cause>`, then
    /// the hint. No blank line: the go command prints such a body under `server response:`
    /// but stops at the first blank line (and after 8 lines or 648 bytes).
    pub fn client_body(&self) -> String {
        format!("gomitm: {self}\ngomitm: {}\n", self.hint())
    }

    pub fn to_response(&self) -> Response<ProxyBody> {
        error_response(self.status(), self.client_body())
    }
}

/// A text/plain response from gomitm itself.
pub fn error_response(status: StatusCode, text: String) -> Response<ProxyBody> {
    let body = Full::new(Bytes::from(text))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// Describe a rustls error in the words users search for.
pub fn describe_tls_error(err: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "certificate signed by unknown authority (unknown issuer)".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                format!("certificate is not valid for this name ({c:?})")
            }
            C::Expired | C::ExpiredContext { .. } => "certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "certificate is not valid yet".into(),
            C::Revoked => "certificate is revoked".into(),
            C::BadSignature => "certificate has a bad signature".into(),
            other => format!("invalid certificate: {other:?}"),
        },
        rustls::Error::AlertReceived(alert) => format!("server sent TLS alert {alert:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_504_and_the_rest_502() {
        let t = ProxyError::UpstreamTimeout {
            host: "goproxy.test".into(),
            after: Duration::from_secs(3),
        };
        assert_eq!(t.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(t.class(), ErrorClass::UpstreamTimeout);
        let d = ProxyError::Dns {
            host: "nosuch.test".into(),
            reason: "no such host".into(),
        };
        assert_eq!(d.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(d.class(), ErrorClass::Dns);
    }

    #[test]
    fn body_first_line_names_hop_and_cause() {
        let e = ProxyError::UpstreamTls {
            host: "goproxy.test".into(),
            reason: describe_tls_error(&rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        };
        let body = e.client_body();
        let first = body.lines().next().unwrap_or_default();
        assert!(first.starts_with("gomitm: TLS handshake with upstream goproxy.test failed"));
        assert!(first.contains("unknown authority"), "{first}");
        assert!(body.contains("--extra-root"));
        assert!(
            !body.contains("\n\n"),
            "go stops printing at the first blank line"
        );
        let resp = e.to_response();
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            resp.headers()[http::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
    }
}
