//! The benchmark's load client: HTTP/1.1 keep-alive over TLS, straight to the upstream or
//! through an HTTP proxy by CONNECT (trusting the proxy's CA).
//!
//! Modes, each printing one JSON object on stdout:
//! - `rps`: N connections, each made and warmed by one request before the clock starts, then
//!   as many requests as fit in the budget (count and time); requests/s and p50/p99 latency.
//! - `body`: one big body on one warmed connection; MB/s (10^6 bytes per second).
//! - `hosts`: M host names never seen before, one after another: connect (CONNECT + TLS) and
//!   one request each, then the same again to the now-known host; median times.
//! - `mix`: the soak load: small, large, 4xx, upstream resets, upstream closes and client
//!   aborts, by weight; counts per outcome.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Longest wait for one connection set-up or one small request before it counts as failed.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(clap::Args, Clone)]
struct TargetArgs {
    /// The upstream, 127.0.0.1:PORT; its port goes into the CONNECT authority.
    #[arg(long)]
    upstream: SocketAddr,
    /// Host name for SNI, Host and CONNECT.
    #[arg(long, default_value = "bench.test")]
    host: String,
    /// The proxy (an HTTP proxy on 127.0.0.1); without it the client goes straight to the upstream.
    #[arg(long)]
    proxy: Option<SocketAddr>,
    /// The CA to trust: the upstream's when direct, the MITM CA through a proxy.
    #[arg(long)]
    ca: PathBuf,
}

#[derive(Subcommand)]
enum Mode {
    Rps {
        #[command(flatten)]
        target: TargetArgs,
        #[arg(long, default_value = "/1k")]
        path: String,
        #[arg(short = 'c', long, default_value_t = 16)]
        concurrency: usize,
        #[arg(short = 'n', long, default_value_t = 20_000)]
        requests: i64,
        #[arg(short = 't', long, default_value_t = 10.0)]
        seconds: f64,
    },
    Body {
        #[command(flatten)]
        target: TargetArgs,
        #[arg(long)]
        path: String,
        #[arg(short = 't', long, default_value_t = 300.0)]
        seconds: f64,
    },
    Hosts {
        #[command(flatten)]
        target: TargetArgs,
        /// Names are `<prefix><i>.bench.test`, i = 1..=count (three digits).
        #[arg(long, default_value = "new")]
        prefix: String,
        #[arg(long, default_value_t = 50)]
        count: usize,
    },
    Mix {
        #[command(flatten)]
        target: TargetArgs,
        /// PATH=WEIGHT,…; a path starting `abort:` is read for one chunk, then the client hangs up.
        #[arg(long)]
        mix: String,
        #[arg(short = 'c', long, default_value_t = 32)]
        concurrency: usize,
        #[arg(short = 'n', long, default_value_t = 500_000)]
        requests: i64,
        #[arg(short = 't', long, default_value_t = 1800.0)]
        seconds: f64,
    },
}

fn main() -> Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Runtime::new()?;
    let out = rt.block_on(async move {
        match args.mode {
            Mode::Rps {
                target,
                path,
                concurrency,
                requests,
                seconds,
            } => {
                rps(
                    Arc::new(Target::new(target)?),
                    path,
                    concurrency,
                    requests,
                    seconds,
                )
                .await
            }
            Mode::Body {
                target,
                path,
                seconds,
            } => body(Target::new(target)?, &path, seconds).await,
            Mode::Hosts {
                target,
                prefix,
                count,
            } => hosts(Target::new(target)?, &prefix, count).await,
            Mode::Mix {
                target,
                mix,
                concurrency,
                requests,
                seconds,
            } => {
                let mix = Arc::new(parse_mix(&mix)?);
                soak_mix(
                    Arc::new(Target::new(target)?),
                    mix,
                    concurrency,
                    requests,
                    seconds,
                )
                .await
            }
        }
    })?;
    println!("{out}");
    // Connection tasks may still be winding down; the figures are out, so leave now.
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

struct Target {
    args: TargetArgs,
    tls: TlsConnector,
}

type Sender = SendRequest<Empty<Bytes>>;

impl Target {
    fn new(args: TargetArgs) -> Result<Target> {
        let cfg = gomitm_bench::client_config(&args.ca, &[b"http/1.1"])?;
        Ok(Target {
            args,
            tls: TlsConnector::from(Arc::new(cfg)),
        })
    }

    fn authority(&self, host: &str) -> String {
        format!("{host}:{}", self.args.upstream.port())
    }

    /// A ready HTTP/1.1 connection to `host`: TCP, CONNECT if proxied, TLS, h1 handshake.
    async fn connect(&self, host: &str) -> Result<Sender> {
        tokio::time::timeout(STEP_TIMEOUT, self.connect_inner(host))
            .await
            .map_err(|_| anyhow!("connection set-up to {host} timed out"))?
    }

    async fn connect_inner(&self, host: &str) -> Result<Sender> {
        let addr = self.args.proxy.unwrap_or(self.args.upstream);
        let mut tcp = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        tcp.set_nodelay(true)?;
        if self.args.proxy.is_some() {
            connect_tunnel(&mut tcp, &self.authority(host)).await?;
        }
        let name = ServerName::try_from(host.to_string())?;
        let tls = self.tls.connect(name, tcp).await.context("TLS handshake")?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped or the peer hangs up.
            let _ = conn.await;
        });
        Ok(sender)
    }

    fn request(&self, host: &str, path: &str) -> Result<Request<Empty<Bytes>>> {
        Ok(Request::get(path)
            .header(hyper::header::HOST, self.authority(host))
            .body(Empty::new())?)
    }
}

/// Sends CONNECT and reads the proxy's answer head; anything but 200 is an error.
async fn connect_tunnel(tcp: &mut TcpStream, authority: &str) -> Result<()> {
    let req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    tcp.write_all(req.as_bytes()).await?;
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    // Byte by byte: nothing after the head may be consumed, it belongs to TLS.
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte).await? == 0 {
            bail!("proxy closed the connection during CONNECT");
        }
        head.push(byte[0]);
        if head.len() > 16 * 1024 {
            bail!("CONNECT answer head too long");
        }
    }
    let status_line = String::from_utf8_lossy(&head);
    let status_line = status_line.lines().next().unwrap_or("");
    if status_line.split_whitespace().nth(1) != Some("200") {
        bail!("CONNECT {authority} answered {status_line:?}");
    }
    Ok(())
}

/// What one request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A 2xx with its whole body.
    Ok,
    /// A complete non-2xx answer.
    Status,
    /// The answer head arrived but the body was cut off.
    BodyError,
    /// No answer at all (connection closed or failed).
    NoResponse,
    /// The client hung up after the first chunk, on purpose.
    Aborted,
}

/// One request on `sender`; returns the outcome and the body bytes read.
async fn fetch(sender: &mut Sender, req: Request<Empty<Bytes>>, abort: bool) -> (Outcome, u64) {
    if sender.ready().await.is_err() {
        return (Outcome::NoResponse, 0);
    }
    let resp = match sender.send_request(req).await {
        Ok(resp) => resp,
        Err(_) => return (Outcome::NoResponse, 0),
    };
    let ok = resp.status().is_success();
    let mut body = resp.into_body();
    let mut bytes = 0u64;
    loop {
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    bytes += data.len() as u64;
                    if abort {
                        return (Outcome::Aborted, bytes);
                    }
                }
            }
            Some(Err(_)) => return (Outcome::BodyError, bytes),
        }
    }
    (if ok { Outcome::Ok } else { Outcome::Status }, bytes)
}

async fn fetch_timed(
    sender: &mut Sender,
    req: Request<Empty<Bytes>>,
    abort: bool,
) -> (Outcome, u64) {
    tokio::time::timeout(STEP_TIMEOUT, fetch(sender, req, abort))
        .await
        .unwrap_or((Outcome::NoResponse, 0))
}

// ------------------------------------------------------------------ rps

async fn rps(
    t: Arc<Target>,
    path: String,
    c: usize,
    requests: i64,
    seconds: f64,
) -> Result<String> {
    let budget = Arc::new(AtomicI64::new(requests));
    let barrier = Arc::new(tokio::sync::Barrier::new(c + 1));
    let start_at = Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (t, path, budget, barrier) = (t.clone(), path.clone(), budget.clone(), barrier.clone());
        let start_at = start_at.clone();
        tasks.push(tokio::spawn(async move {
            rps_worker(t, path, budget, barrier, start_at, seconds).await
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let _ = start_at.set(start);
    let mut lat = Vec::new();
    let mut errors = 0u64;
    let mut setup_failures = 0u64;
    for task in tasks {
        let w = task.await?;
        lat.extend(w.latencies_us);
        errors += w.errors;
        setup_failures += u64::from(w.setup_failed);
    }
    let secs = start.elapsed().as_secs_f64();
    if lat.is_empty() {
        bail!(
            "no request succeeded ({errors} errors, {setup_failures} connections failed to set up)"
        );
    }
    lat.sort_unstable();
    Ok(json!({
        "mode": "rps",
        "concurrency": c,
        "requests": lat.len(),
        "errors": errors,
        "setup_failures": setup_failures,
        "secs": secs,
        "rps": lat.len() as f64 / secs,
        "p50_ms": percentile(&lat, 0.50),
        "p99_ms": percentile(&lat, 0.99),
    })
    .to_string())
}

fn percentile(sorted_us: &[u32], q: f64) -> f64 {
    let i = ((sorted_us.len() as f64 - 1.0) * q).round() as usize;
    f64::from(sorted_us[i.min(sorted_us.len() - 1)]) / 1000.0
}

struct WorkerResult {
    latencies_us: Vec<u32>,
    errors: u64,
    setup_failed: bool,
}

async fn rps_worker(
    t: Arc<Target>,
    path: String,
    budget: Arc<AtomicI64>,
    barrier: Arc<tokio::sync::Barrier>,
    start_at: Arc<std::sync::OnceLock<Instant>>,
    seconds: f64,
) -> WorkerResult {
    let host = t.args.host.clone();
    let mut result = WorkerResult {
        latencies_us: Vec::with_capacity(4096),
        errors: 0,
        setup_failed: false,
    };
    // Set up and warm before the clock starts: the figure is steady-state keep-alive.
    let mut sender = warm_connection(&t, &host, &path).await;
    barrier.wait().await;
    let deadline =
        start_at.get().copied().unwrap_or_else(Instant::now) + Duration::from_secs_f64(seconds);
    let mut consecutive_errors = 0;
    loop {
        let s = match sender.as_mut() {
            Some(s) => s,
            None => {
                sender = warm_connection(&t, &host, &path).await;
                match sender.as_mut() {
                    Some(s) => s,
                    None => {
                        result.setup_failed = true;
                        return result;
                    }
                }
            }
        };
        if Instant::now() >= deadline || budget.fetch_sub(1, Ordering::Relaxed) <= 0 {
            return result;
        }
        let Ok(req) = t.request(&host, &path) else {
            return result;
        };
        let t0 = Instant::now();
        let (outcome, _) = fetch_timed(s, req, false).await;
        if outcome == Outcome::Ok {
            result
                .latencies_us
                .push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
            consecutive_errors = 0;
        } else {
            result.errors += 1;
            consecutive_errors += 1;
            sender = None;
            if consecutive_errors > 20 {
                return result;
            }
        }
    }
}

/// A connection that has answered one request, or `None` after three failed tries.
async fn warm_connection(t: &Target, host: &str, path: &str) -> Option<Sender> {
    for _ in 0..3 {
        let Ok(mut s) = t.connect(host).await else {
            continue;
        };
        let Ok(req) = t.request(host, path) else {
            return None;
        };
        if fetch_timed(&mut s, req, false).await.0 == Outcome::Ok {
            return Some(s);
        }
    }
    None
}

// ------------------------------------------------------------------ body

async fn body(t: Target, path: &str, seconds: f64) -> Result<String> {
    let host = t.args.host.clone();
    let mut sender = warm_connection(&t, &host, "/1k")
        .await
        .ok_or_else(|| anyhow!("cannot set up a connection"))?;
    let req = t.request(&host, path)?;
    let t0 = Instant::now();
    let (outcome, bytes) = tokio::time::timeout(
        Duration::from_secs_f64(seconds),
        fetch(&mut sender, req, false),
    )
    .await
    .map_err(|_| anyhow!("the body did not arrive within {seconds} s"))?;
    let secs = t0.elapsed().as_secs_f64();
    if outcome != Outcome::Ok {
        bail!("the body failed: {outcome:?} after {bytes} bytes");
    }
    Ok(json!({
        "mode": "body",
        "bytes": bytes,
        "secs": secs,
        "mb_s": bytes as f64 / secs / 1e6,
    })
    .to_string())
}

// ------------------------------------------------------------------ hosts

async fn hosts(t: Target, prefix: &str, count: usize) -> Result<String> {
    // A first connection pays one-time costs (the proxy's lazy set-up) outside the figures.
    let base = t.args.host.clone();
    warm_connection(&t, &base, "/1k")
        .await
        .ok_or_else(|| anyhow!("cannot set up a connection to {base}"))?;
    let mut new_ms = Vec::with_capacity(count);
    let mut known_ms = Vec::with_capacity(count);
    for i in 1..=count {
        let host = format!("{prefix}{i:03}.bench.test");
        new_ms.push(first_response_ms(&t, &host).await?);
        known_ms.push(first_response_ms(&t, &host).await?);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok(json!({
        "mode": "hosts",
        "count": count,
        "new_host_ms": median(&mut new_ms),
        "known_host_ms": median(&mut known_ms),
    })
    .to_string())
}

/// Milliseconds from the first TCP byte to the whole answer of one request on a new connection.
async fn first_response_ms(t: &Target, host: &str) -> Result<f64> {
    let t0 = Instant::now();
    let mut s = t.connect(host).await?;
    let (outcome, _) = fetch_timed(&mut s, t.request(host, "/1k")?, false).await;
    if outcome != Outcome::Ok {
        bail!("request to {host} failed: {outcome:?}");
    }
    Ok(t0.elapsed().as_secs_f64() * 1000.0)
}

// ------------------------------------------------------------------ mix

struct MixEntry {
    path: String,
    abort: bool,
    weight: u32,
}

fn parse_mix(spec: &str) -> Result<Vec<MixEntry>> {
    let mut out = Vec::new();
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let (path, weight) = part
            .rsplit_once('=')
            .ok_or_else(|| anyhow!("mix entry {part:?} is not PATH=WEIGHT"))?;
        let (path, abort) = match path.strip_prefix("abort:") {
            Some(p) => (p, true),
            None => (path, false),
        };
        out.push(MixEntry {
            path: path.to_string(),
            abort,
            weight: weight
                .parse()
                .with_context(|| format!("weight in {part:?}"))?,
        });
    }
    if out.iter().map(|e| e.weight).sum::<u32>() == 0 {
        bail!("the mix has no weight");
    }
    Ok(out)
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    status: AtomicU64,
    body_error: AtomicU64,
    no_response: AtomicU64,
    aborted: AtomicU64,
    bytes: AtomicU64,
    reconnects: AtomicU64,
}

impl Counts {
    fn add(&self, o: Outcome, bytes: u64) {
        let c = match o {
            Outcome::Ok => &self.ok,
            Outcome::Status => &self.status,
            Outcome::BodyError => &self.body_error,
            Outcome::NoResponse => &self.no_response,
            Outcome::Aborted => &self.aborted,
        };
        c.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn total(&self) -> u64 {
        [
            &self.ok,
            &self.status,
            &self.body_error,
            &self.no_response,
            &self.aborted,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }
}

async fn soak_mix(
    t: Arc<Target>,
    mix: Arc<Vec<MixEntry>>,
    c: usize,
    requests: i64,
    seconds: f64,
) -> Result<String> {
    let budget = Arc::new(AtomicI64::new(requests));
    let counts = Arc::new(Counts::default());
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for id in 0..c {
        let (t, mix, budget, counts) = (t.clone(), mix.clone(), budget.clone(), counts.clone());
        tasks.push(tokio::spawn(async move {
            mix_worker(t, mix, budget, counts, deadline, id as u64).await
        }));
    }
    let progress = {
        let counts = counts.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                eprintln!(
                    "loadgen mix: {} requests after {:.0} s",
                    counts.total(),
                    start.elapsed().as_secs_f64()
                );
            }
        })
    };
    for task in tasks {
        task.await?;
    }
    progress.abort();
    let secs = start.elapsed().as_secs_f64();
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    Ok(json!({
        "mode": "mix",
        "requests": counts.total(),
        "secs": secs,
        "rps": counts.total() as f64 / secs,
        "ok": get(&counts.ok),
        "non_2xx": get(&counts.status),
        "body_cut": get(&counts.body_error),
        "no_response": get(&counts.no_response),
        "client_aborts": get(&counts.aborted),
        "reconnects": get(&counts.reconnects),
        "body_bytes": get(&counts.bytes),
    })
    .to_string())
}

async fn mix_worker(
    t: Arc<Target>,
    mix: Arc<Vec<MixEntry>>,
    budget: Arc<AtomicI64>,
    counts: Arc<Counts>,
    deadline: Instant,
    seed: u64,
) {
    let host = t.args.host.clone();
    let total: u32 = mix.iter().map(|e| e.weight).sum();
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut sender: Option<Sender> = None;
    let mut consecutive_setup_failures = 0;
    while Instant::now() < deadline && budget.fetch_sub(1, Ordering::Relaxed) > 0 {
        if sender.is_none() {
            counts.reconnects.fetch_add(1, Ordering::Relaxed);
            match t.connect(&host).await {
                Ok(s) => {
                    sender = Some(s);
                    consecutive_setup_failures = 0;
                }
                Err(e) => {
                    consecutive_setup_failures += 1;
                    if consecutive_setup_failures > 20 {
                        eprintln!("loadgen mix: giving up a worker: {e:#}");
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut pick = (rng % u64::from(total)) as u32;
        let entry = mix
            .iter()
            .find(|e| {
                if pick < e.weight {
                    true
                } else {
                    pick -= e.weight;
                    false
                }
            })
            .unwrap_or(&mix[0]);
        let Some(s) = sender.as_mut() else { continue };
        let Ok(req) = t.request(&host, &entry.path) else {
            return;
        };
        let (outcome, bytes) = fetch_timed(s, req, entry.abort).await;
        counts.add(outcome, bytes);
        if matches!(
            outcome,
            Outcome::BodyError | Outcome::NoResponse | Outcome::Aborted
        ) {
            sender = None;
        }
    }
}
