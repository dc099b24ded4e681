//! HTTP/1.1 `Upgrade` (WebSocket, and any other protocol switch) passed through: the request
//! keeps its `Connection: upgrade` and `Upgrade` headers (which `exchange` otherwise strips as
//! hop-by-hop), the upstream's `101 Switching Protocols` goes back as it came, and once both
//! sides have switched their bytes are copied each way, counted, and nothing of them kept.
//! The flow holds the handshake and, when the connection closes, the byte counts (as a
//! tunnel's, `tunnel.bytes_up`/`bytes_down`) and the duration. Messages are not parsed.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Request, Response, Version};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::counted::ReadCounted;
use super::flow_cell::FlowCell;
use crate::flow::ErrorClass;
use crate::store::Store;

/// What the client asked to switch to, with hyper's handle on its side of the connection.
pub struct ClientUpgrade {
    protocol: HeaderValue,
    on: OnUpgrade,
}

/// Whether `req` asks for a protocol switch (HTTP/1.1, `Connection` naming `upgrade`, an
/// `Upgrade` header); if so, take hyper's handle on the client connection.
pub fn requested<B>(req: &mut Request<B>) -> Option<ClientUpgrade> {
    if req.version() != Version::HTTP_11 {
        return None;
    }
    let names_upgrade = req
        .headers()
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    let protocol = req.headers().get(http::header::UPGRADE)?.clone();
    if !names_upgrade {
        return None;
    }
    Some(ClientUpgrade {
        protocol,
        on: hyper::upgrade::on(req),
    })
}

impl ClientUpgrade {
    /// Put back what hop-by-hop stripping removed, so the upstream sees the request to switch.
    pub fn restore_request_headers(&self, headers: &mut HeaderMap) {
        headers.insert(
            http::header::CONNECTION,
            HeaderValue::from_static("upgrade"),
        );
        headers.insert(http::header::UPGRADE, self.protocol.clone());
    }
}

/// The switch headers of the upstream's 101, to give back to the client after hop-by-hop
/// stripping (`restore`).
pub fn switch_headers(headers: &HeaderMap) -> Vec<(http::HeaderName, HeaderValue)> {
    [http::header::CONNECTION, http::header::UPGRADE]
        .into_iter()
        .filter_map(|n| headers.get(&n).cloned().map(|v| (n, v)))
        .collect()
}

/// The upstream agreed (101): relay the two connections once both have switched, finishing
/// the flow when they close.
pub fn relay<B>(
    client: ClientUpgrade,
    upstream: &mut Response<B>,
    cell: Arc<FlowCell>,
    store: Arc<Store>,
) {
    let upstream_on = hyper::upgrade::on(upstream);
    tokio::spawn(async move {
        let (up, down) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let copied = async {
            let (c, u) = tokio::try_join!(client.on, upstream_on)
                .map_err(|e| format!("the protocol switch failed: {e}"))?;
            let mut c = ReadCounted::new(TokioIo::new(c), up.clone());
            let mut u = ReadCounted::new(TokioIo::new(u), down.clone());
            match tokio::io::copy_bidirectional(&mut c, &mut u).await {
                // A TLS peer that closes without close_notify (common once a WebSocket has
                // said goodbye) has still closed the connection.
                Err(e) if e.kind() != io::ErrorKind::UnexpectedEof => {
                    Err(format!("the upgraded connection failed: {e}"))
                }
                _ => Ok(()),
            }
        };
        let error = tokio::select! {
            biased;
            r = copied => r.err().map(|e| (ErrorClass::UpstreamReset, e)),
            () = store.interrupted() => Some((
                ErrorClass::Interrupted,
                "gomitm stopped while the upgraded connection was open".to_string(),
            )),
        };
        cell.finish_upgraded(
            up.load(Ordering::Relaxed),
            down.load(Ordering::Relaxed),
            error,
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_http11_request_naming_upgrade_in_connection_is_a_switch() {
        let ws = || {
            Request::get("http://a.test/ws")
                .header("connection", "keep-alive, Upgrade")
                .header("upgrade", "websocket")
                .body(())
                .unwrap()
        };
        let up = requested(&mut ws()).expect("a WebSocket handshake");
        let mut h = HeaderMap::new();
        up.restore_request_headers(&mut h);
        assert_eq!(h["upgrade"], "websocket");
        assert_eq!(h["connection"], "upgrade");
        let mut no_connection = ws();
        no_connection.headers_mut().remove("connection");
        assert!(requested(&mut no_connection).is_none());
        let mut h2 = ws();
        *h2.version_mut() = Version::HTTP_2;
        assert!(requested(&mut h2).is_none());
    }
}
