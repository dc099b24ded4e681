//! `--proxy-auth USER:PASS`: every proxy request (absolute-form `http://` and `CONNECT`) must
//! carry `Proxy-Authorization: Basic` with these credentials, compared in constant time.
//! A refused attempt becomes a `refused` flow and a 407 with `Proxy-Authenticate`; an admitted
//! request loses its `Proxy-Authorization` header before anything records it, so gomitm's own
//! credentials never reach a flow, a log line, a HAR file or an upstream.
//!
//! Owns the credentials type (parsed from the command line here, so `cli` stays free of
//! crypto) and the admission check; requests to gomitm itself (`/ca.pem`) are not its business.

use std::net::SocketAddr;

use base64::Engine;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};

use super::body::ProxyBody;
use super::error::error_response;
use super::record::{fail_now, request_flow};
use crate::flow::{ErrorClass, Flow, FlowKind, TunnelStats};
use crate::store::Store;

/// The credentials clients must present. `Debug` hides the password: `ProxyArgs` is `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyAuth {
    user: String,
    pass: String,
}

impl std::fmt::Debug for ProxyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyAuth")
            .field("user", &self.user)
            .field("pass", &"<hidden>")
            .finish()
    }
}

/// Why a request was not admitted. None of the variants carries what the client offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Missing,
    NotBasic,
    Wrong,
}

impl Denied {
    fn reason(self) -> &'static str {
        match self {
            Denied::Missing => {
                "proxy authentication required: the client sent no Proxy-Authorization header"
            }
            Denied::NotBasic => {
                "proxy authentication required: the client's Proxy-Authorization is not \
                 Basic with user:password"
            }
            Denied::Wrong => {
                "proxy authentication failed: wrong user name or password in Proxy-Authorization"
            }
        }
    }
}

impl ProxyAuth {
    /// `USER:PASS`: split at the first `:` (a password may contain more); neither may be empty.
    pub fn parse(s: &str) -> Result<ProxyAuth, String> {
        let Some((user, pass)) = s.split_once(':') else {
            return Err("expected USER:PASS (a colon between user name and password)".into());
        };
        if user.is_empty() || pass.is_empty() {
            return Err("expected USER:PASS with a non-empty user name and password".into());
        }
        if s.chars().any(char::is_control) {
            return Err("USER:PASS must not contain control characters".into());
        }
        Ok(ProxyAuth {
            user: user.to_string(),
            pass: pass.to_string(),
        })
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// `user:pass` percent-encoded for the userinfo of a proxy URL, as go and curl decode it.
    pub fn userinfo(&self) -> String {
        format!(
            "{}:{}",
            encode_userinfo(&self.user),
            encode_userinfo(&self.pass)
        )
    }

    /// The `Proxy-Authorization` value that admits a client (gomitm's own replays).
    pub fn basic_authorization(&self) -> String {
        let pair = format!("{}:{}", self.user, self.pass);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// `http://host:port` → `http://user:pass@host:port`; a URL that already has credentials,
    /// or is not `scheme://…`, is returned unchanged.
    pub fn proxy_url(&self, url: &str) -> String {
        let Some((scheme, rest)) = url.split_once("://") else {
            return url.to_string();
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if rest[..authority_end].contains('@') {
            return url.to_string();
        }
        format!("{scheme}://{}@{rest}", self.userinfo())
    }

    /// Admit a request whose `Proxy-Authorization` carries these credentials.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Denied> {
        let value = headers
            .get(http::header::PROXY_AUTHORIZATION)
            .ok_or(Denied::Missing)?;
        let offered = basic_credentials(value.as_bytes()).ok_or(Denied::NotBasic)?;
        let expected = format!("{}:{}", self.user, self.pass);
        if same_secret(&offered, expected.as_bytes()) {
            Ok(())
        } else {
            Err(Denied::Wrong)
        }
    }
}

/// `Basic <base64>` (scheme in any case) → the decoded `user:pass` bytes.
fn basic_credentials(value: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()
}

/// Compare digests so the time taken depends neither on where the inputs first differ nor on
/// their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let da = ring::digest::digest(&ring::digest::SHA256, a);
    let db = ring::digest::digest(&ring::digest::SHA256, b);
    da.as_ref()
        .iter()
        .zip(db.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn encode_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a refusal is recorded, and the address to name in the 407's advice.
pub(super) struct Gate<'a> {
    pub auth: Option<&'a ProxyAuth>,
    pub store: &'a Store,
    pub listen_addr: SocketAddr,
}

/// The hook in `route`: `None` admits the request (its `Proxy-Authorization` removed), `Some`
/// is the 407 to send, after recording the attempt as a `refused` flow.
pub(super) fn admit<B>(
    gate: Gate<'_>,
    peer: SocketAddr,
    req: &mut Request<B>,
) -> Option<Response<ProxyBody>> {
    let auth = gate.auth?;
    let verdict = auth.check(req.headers());
    // gomitm's credentials are not part of the traffic: never recorded, never forwarded.
    req.headers_mut().remove(http::header::PROXY_AUTHORIZATION);
    let denied = verdict.err()?;
    gate.store.add(refused_flow(peer, req, denied));
    let text = format!(
        "gomitm: {}\ngomitm: this gomitm was started with --proxy-auth; put the credentials in \
         the proxy URL: HTTPS_PROXY=http://USER:PASS@{}\n",
        denied.reason(),
        gate.listen_addr
    );
    let mut resp = error_response(StatusCode::PROXY_AUTHENTICATION_REQUIRED, text);
    resp.headers_mut().insert(
        http::header::PROXY_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"gomitm\""),
    );
    Some(resp)
}

fn refused_flow<B>(peer: SocketAddr, req: &Request<B>, denied: Denied) -> Flow {
    let mut flow = request_flow(req, req.uri().to_string(), Some(peer.to_string().into()));
    if flow.kind == FlowKind::Tunnel {
        flow.tunnel = Some(TunnelStats::default());
    }
    fail_now(&mut flow, ErrorClass::Refused, denied.reason().to_string());
    flow
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> ProxyAuth {
        ProxyAuth::parse("alice:s3cr:t").unwrap()
    }

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::PROXY_AUTHORIZATION,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    fn basic(userpass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(userpass)
        )
    }

    #[test]
    fn parse_splits_at_the_first_colon_and_rejects_empty_parts() {
        let a = auth();
        assert_eq!((a.user.as_str(), a.pass.as_str()), ("alice", "s3cr:t"));
        for bad in ["alice", ":pw", "alice:", "", "a:b\nc"] {
            assert!(ProxyAuth::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let text = format!("{:?}", auth());
        assert!(text.contains("alice") && !text.contains("s3cr"), "{text}");
    }

    #[test]
    fn check_admits_the_right_credentials_only() {
        let a = auth();
        assert_eq!(a.check(&headers(&basic("alice:s3cr:t"))), Ok(()));
        assert_eq!(
            a.check(&headers(&format!("bAsIc  {}", &basic("alice:s3cr:t")[6..]))),
            Ok(())
        );
        assert_eq!(a.check(&HeaderMap::new()), Err(Denied::Missing));
        for wrong in [
            "alice:s3cr",
            "alice:s3cr:t ",
            "Alice:s3cr:t",
            ":",
            "alice:s3cr:tt",
        ] {
            assert_eq!(
                a.check(&headers(&basic(wrong))),
                Err(Denied::Wrong),
                "{wrong}"
            );
        }
        for not_basic in ["Bearer abc", "Basic !!!", "Basic", "Digest x=1"] {
            assert_eq!(
                a.check(&headers(not_basic)),
                Err(Denied::NotBasic),
                "{not_basic}"
            );
        }
    }

    #[test]
    fn proxy_url_carries_percent_encoded_credentials() {
        let a = ProxyAuth::parse("bob@corp:p@ss w:rd/1").unwrap();
        assert_eq!(
            a.proxy_url("http://127.0.0.1:8080"),
            "http://bob%40corp:p%40ss%20w%3Ard%2F1@127.0.0.1:8080"
        );
        assert_eq!(
            a.proxy_url("http://x:y@127.0.0.1:8080"),
            "http://x:y@127.0.0.1:8080"
        );
        assert_eq!(a.proxy_url("127.0.0.1:8080"), "127.0.0.1:8080");
        // What a client decodes from that URL is what `check` expects.
        let decoded = crate::go::percent_decode(&a.userinfo());
        assert_eq!(a.check(&headers(&basic(&decoded))), Ok(()));
    }

    #[test]
    fn refused_flows_never_carry_the_offered_credentials() {
        let mut req = Request::builder()
            .method("CONNECT")
            .uri("goproxy.test:443")
            .header("proxy-authorization", basic("alice:guess"))
            .header("user-agent", "Go-http-client/1.1")
            .body(())
            .unwrap();
        let denied = auth().check(req.headers()).unwrap_err();
        req.headers_mut().remove(http::header::PROXY_AUTHORIZATION);
        let flow = refused_flow("127.0.0.1:1".parse().unwrap(), &req, denied);
        let json = serde_json::to_string(&flow).unwrap();
        assert!(!json.contains("guess") && !json.contains(&basic("alice:guess")[6..]));
        assert_eq!(flow.kind, FlowKind::Tunnel);
        assert_eq!(flow.tool, Some(crate::flow::ClientTool::Go));
        assert_eq!(flow.error.map(|e| e.class), Some(ErrorClass::Refused));
    }
}
