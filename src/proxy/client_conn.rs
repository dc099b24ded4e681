//! A client connection as gomitm serves it, shared by the listening port and the connections
//! inside intercepted tunnels: hyper's HTTP/1 server with gomitm's limits on a request head,
//! and a connection that failed before a request could be read, recorded as a flow.

use std::net::SocketAddr;
use std::time::Duration;

use hyper_util::rt::TokioTimer;

use super::body;
use super::context::MAX_HEAD_BYTES;
use super::limits::ClientLimits;
use super::record::failure_flow;
use crate::flow::ErrorClass;
use crate::store::Store;

/// The HTTP/1.1 server settings every client connection gets, outside and inside tunnels.
pub(super) fn http1_server(limits: &ClientLimits) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_header_size(MAX_HEAD_BYTES);
    // A request head may carry at most 100 fields (beyond that hyper answers 431; the go
    // command and git send about ten): hyper's default, left unset on purpose. Setting it,
    // even to 100, makes hyper fill its two 100-slot parse arrays element by element for
    // every request head (`smallvec!` instead of an uninitialised inline array), 1.7 k
    // instructions a request. tests/bad_input.rs holds the limit at 100.
    builder
}

/// Connection-level failures that hyper answered itself (malformed request, head too large)
/// and clients that stalled halfway through a request head still become flows; ordinary
/// disconnects and idle connections closed by the header read timeout are only debug-logged.
pub(super) fn record_connection_error(
    store: &Store,
    peer: Option<SocketAddr>,
    e: &hyper::Error,
    partial_head: bool,
    timeout: Option<Duration>,
) {
    if e.is_parse() || e.is_parse_too_large() || e.is_parse_version_h2() {
        let msg = format!(
            "malformed request from the client: {}",
            body::error_chain(e)
        );
        record_failure(store, peer, ErrorClass::Protocol, msg);
    } else if e.is_timeout() && partial_head {
        let after = timeout.unwrap_or_default();
        let msg = format!(
            "the client sent part of a request head, then nothing more for {after:?}: gomitm \
             closed the connection (--header-read-timeout)"
        );
        record_failure(store, peer, ErrorClass::Protocol, msg);
    } else if e.is_timeout() {
        tracing::debug!("idle client connection closed: {e}");
    } else {
        tracing::debug!("client connection ended: {e}");
    }
}

pub(super) fn record_failure(
    store: &Store,
    peer: Option<SocketAddr>,
    class: ErrorClass,
    message: String,
) {
    store.add(failure_flow(peer, class, message));
}
