//! hudsucker as a no-op MITM proxy: the peer gomitm is measured against.
//!
//! It signs leaves with the CA given (the same ECDSA P-256 CA files as gomitm's), trusts only
//! the bench upstream's CA, and resolves every host name to `--resolve-ip` (the bench's
//! upstream is on 127.0.0.1; the port comes from the CONNECT authority). It records nothing.
//! Prints `hudsucker-noop: listening on 127.0.0.1:PORT`.

use std::future::Future;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::{Context as _, Result};
use clap::Parser;
use hudsucker::certificate_authority::RcgenAuthority;
use hudsucker::rcgen::{Issuer, KeyPair};
use hudsucker::Proxy;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::net::TcpListener;

/// A resolver that answers every name with one address, like gomitm's `--resolve`.
#[derive(Clone)]
struct FixedResolver(IpAddr);

impl tower_service::Service<Name> for FixedResolver {
    type Response = std::iter::Once<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _name: Name) -> Self::Future {
        let addr = SocketAddr::new(self.0, 0);
        Box::pin(async move { Ok(std::iter::once(addr)) })
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = gomitm_bench::MitmArgs::parse();
    let key = std::fs::read_to_string(&args.ca_key).context("read CA key")?;
    let cert = std::fs::read_to_string(&args.ca_cert).context("read CA certificate")?;
    let key = KeyPair::from_pem(&key).context("parse CA key")?;
    let issuer = Issuer::from_ca_cert_pem(&cert, key).context("parse CA certificate")?;
    let ca = RcgenAuthority::new(issuer, 1_000, rustls::crypto::ring::default_provider());

    // hyper-rustls sets ALPN itself from the enabled HTTP versions.
    let tls = gomitm_bench::client_config(&args.upstream_ca, &[])?;
    let mut http = HttpConnector::new_with_resolver(FixedResolver(args.resolve_ip));
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);

    let listener = TcpListener::bind(args.listen).await?;
    println!("hudsucker-noop: listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let proxy = Proxy::builder()
        .with_listener(listener)
        .with_ca(ca)
        .with_http_connector(https)
        .build()
        .context("build the proxy")?;
    proxy.start().await.context("run the proxy")?;
    Ok(())
}
