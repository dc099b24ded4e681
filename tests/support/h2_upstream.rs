//! An HTTP/2-only TLS upstream on 127.0.0.1 that misbehaves on request, written with the `h2`
//! crate so it can send what a hyper server will not: a GOAWAY in the middle of a request, a
//! GOAWAY after a response, and RST_STREAM before the head or halfway through a body.
//!
//! Its certificate names `h2.test`. Routes:
//! - `/ok`: 200 `ok from h2`.
//! - `/goaway-after`: 200, with a graceful GOAWAY sent before the body: the connection takes
//!   no new streams.
//! - `/goaway-now`: no answer; the connection sends GOAWAY(INTERNAL_ERROR) and closes.
//! - `/rst-before-head`: RST_STREAM(INTERNAL_ERROR) instead of a response.
//! - `/rst-mid-body`: 200 announcing [`RST_ANNOUNCED`] bytes, [`RST_SENT`] of them, then
//!   RST_STREAM(INTERNAL_ERROR).
//! - `/refuse-once`: the first time, RST_STREAM(REFUSED_STREAM) instead of a response (the
//!   stream was not processed); afterwards like `/ok`.
//!
//! With [`H2Upstream::goaway_on_first_connection`], the first connection answers its first
//! request with GOAWAY(last-stream-id 0, NO_ERROR) — the stream is above it, so provably not
//! processed — and closes; it is spoken by hand, since the `h2` server always counts an
//! accepted stream as processed. Its requests are not in [`H2Upstream::seen`].
//!
//! Like the main fixture it has its own CA and depends on no gomitm code.
#![allow(dead_code)]
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use h2::Reason;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

pub const RST_ANNOUNCED: u64 = 50_000;
pub const RST_SENT: u64 = 5_000;

/// One request as the server saw it: which connection (1, 2, …) and which path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub conn: u64,
    pub path: String,
}

#[derive(Default)]
struct State {
    seen: Mutex<Vec<Seen>>,
    connections: AtomicU64,
    refused: AtomicBool,
    goaway_first: AtomicBool,
}

pub struct H2Upstream {
    pub addr: std::net::SocketAddr,
    /// The CA to trust (gomitm's `--extra-root`).
    pub ca_pem: PathBuf,
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

impl H2Upstream {
    pub fn start() -> H2Upstream {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ca_pem_text, config) = tls_config();
        let ca_pem = dir.path().join("h2-upstream-ca.pem");
        std::fs::write(&ca_pem, ca_pem_text).expect("write CA");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("h2-upstream")
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(State::default());
        runtime.spawn(accept(
            listener,
            TlsAcceptor::from(Arc::new(config)),
            state.clone(),
        ));
        H2Upstream {
            addr,
            ca_pem,
            state,
            runtime: Some(runtime),
            _dir: dir,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// From now on the first connection refuses its first stream with a GOAWAY below it.
    pub fn goaway_on_first_connection(&self) {
        self.state.goaway_first.store(true, Ordering::SeqCst);
    }

    /// TLS connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }
}

impl Drop for H2Upstream {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn tls_config() -> (String, rustls::ServerConfig) {
    let key = || KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let now = time::OffsetDateTime::now_utc();
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "gomitm h2 upstream CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(30);
    let ca_key = key();
    let ca_pem = ca.self_signed(&ca_key).expect("CA").pem();
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(vec!["h2.test".to_string()]).expect("SANs");
    leaf.extended_key_usages
        .push(ExtendedKeyUsagePurpose::ServerAuth);
    leaf.not_before = now - time::Duration::days(1);
    leaf.not_after = now + time::Duration::days(30);
    let leaf_key = key();
    let leaf = leaf.signed_by(&leaf_key, &issuer).expect("leaf");
    let provider = gomitm::ca::tls_provider();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("cert");
    config.alpn_protocols = vec![b"h2".to_vec()];
    (ca_pem, config)
}

async fn accept(listener: TcpListener, acceptor: TlsAcceptor, state: Arc<State>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (acceptor, state) = (acceptor.clone(), state.clone());
        tokio::spawn(async move {
            let Ok(Ok(tls)) =
                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
            else {
                return;
            };
            let id = state.connections.fetch_add(1, Ordering::SeqCst) + 1;
            if id == 1 && state.goaway_first.load(Ordering::SeqCst) {
                goaway_below_first_stream(tls).await;
            } else {
                serve(tls, id, state).await;
            }
        });
    }
}

/// What a stream handler asks of its connection.
enum Shutdown {
    Graceful,
    Abrupt(Reason),
}

async fn serve<T>(io: T, conn_id: u64, state: Arc<State>)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Ok(mut conn) = h2::server::handshake(io).await else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    loop {
        tokio::select! {
            next = conn.accept() => match next {
                Some(Ok((req, respond))) => {
                    let path = req.uri().path().to_string();
                    state.seen.lock().unwrap().push(Seen { conn: conn_id, path: path.clone() });
                    let refuse = path == "/refuse-once" && !state.refused.swap(true, Ordering::SeqCst);
                    tokio::spawn(answer(path, refuse, respond, tx.clone()));
                }
                _ => break,
            },
            Some(cmd) = rx.recv() => match cmd {
                Shutdown::Graceful => conn.graceful_shutdown(),
                Shutdown::Abrupt(reason) => conn.abrupt_shutdown(reason),
            },
        }
    }
}

/// HTTP/2 by hand, just enough: the client's preface and SETTINGS, then a GOAWAY with
/// last-stream-id 0 for its first HEADERS, then the connection closes.
async fn goaway_below_first_stream<T>(mut io: T)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];
    const SETTINGS_ACK: [u8; 9] = [0, 0, 0, 4, 1, 0, 0, 0, 0];
    const GOAWAY_BELOW_1: [u8; 17] = [0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut preface = [0u8; 24];
    if io.read_exact(&mut preface).await.is_err() || io.write_all(&SETTINGS).await.is_err() {
        return;
    }
    let _ = io.flush().await;
    loop {
        let mut head = [0u8; 9];
        if io.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; len];
        if io.read_exact(&mut payload).await.is_err() {
            return;
        }
        match (head[3], head[4]) {
            (4, flags) if flags & 1 == 0 => {
                let _ = io.write_all(&SETTINGS_ACK).await;
                let _ = io.flush().await;
            }
            (1, _) => {
                let _ = io.write_all(&GOAWAY_BELOW_1).await;
                let _ = io.flush().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = io.shutdown().await;
                return;
            }
            _ => {}
        }
    }
}

async fn answer(
    path: String,
    refuse: bool,
    mut respond: h2::server::SendResponse<Bytes>,
    conn: mpsc::UnboundedSender<Shutdown>,
) {
    let head = |len: u64| {
        http::Response::builder()
            .status(200)
            .header("content-type", "text/plain; charset=utf-8")
            .header("content-length", len)
            .body(())
            .unwrap()
    };
    match path.as_str() {
        "/refuse-once" if refuse => respond.send_reset(Reason::REFUSED_STREAM),
        "/ok" | "/refuse-once" => {
            let body = Bytes::from_static(b"ok from h2\n");
            if let Ok(mut send) = respond.send_response(head(body.len() as u64), false) {
                let _ = send.send_data(body, true);
            }
        }
        "/goaway-after" => {
            // The GOAWAY goes out before the response ends, so the client has it by the time
            // it sends its next request: that one needs a new connection.
            let body = Bytes::from_static(b"ok from h2\n");
            let Ok(mut send) = respond.send_response(head(body.len() as u64), false) else {
                return;
            };
            let _ = conn.send(Shutdown::Graceful);
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = send.send_data(body, true);
        }
        "/goaway-now" => {
            let _ = conn.send(Shutdown::Abrupt(Reason::INTERNAL_ERROR));
            // Keep the stream open: the GOAWAY, not a stream reset, must end it.
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        "/rst-before-head" => respond.send_reset(Reason::INTERNAL_ERROR),
        "/rst-mid-body" => {
            let Ok(mut send) = respond.send_response(head(RST_ANNOUNCED), false) else {
                return;
            };
            let data: Vec<u8> = (0..RST_SENT).map(|i| (i % 251) as u8).collect();
            let _ = send.send_data(Bytes::from(data), false);
            tokio::time::sleep(Duration::from_millis(100)).await;
            send.send_reset(Reason::INTERNAL_ERROR);
        }
        _ => {
            let body = Bytes::from(format!("no route {path}\n"));
            if let Ok(mut send) = respond.send_response(
                http::Response::builder().status(404).body(()).unwrap(),
                false,
            ) {
                let _ = send.send_data(body, true);
            }
        }
    }
}
