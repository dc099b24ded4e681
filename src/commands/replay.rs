//! `gomitm replay FILE.har`: the recorded requests chosen (`--flow`, `--filter`), sent again
//! through gomitm (a session started for the purpose, or a running one with `--proxy`), and
//! each answer printed beside the recording's. Redacted header values are never sent: they
//! are named, and taken from `--header` or `GOMITM_REPLAY_<NAME>` when given.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use crate::cli::{ProxyArgs, ReplayArgs};
use crate::flow::{Flow, FlowKind};
use crate::go::private::PrivatePatterns;
use crate::replay::compare::{self, Verdict};
use crate::replay::{Endpoint, ReplayRequest};
use crate::session::{Config, GoFacts, Mode, Session};
use crate::terminal_text::terminal_safe;

/// The environment variable a redacted header's value may come from.
pub fn env_name(header: &str) -> String {
    let upper: String = header
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("GOMITM_REPLAY_{upper}")
}

pub(crate) async fn run_replay(args: ReplayArgs) -> anyhow::Result<i32> {
    let mut flows = crate::run::read_har(&args.har)?;
    crate::run::classify_imported(&mut flows);
    let chosen: Vec<Flow> = flows
        .into_iter()
        .filter(|f| f.kind == FlowKind::Http)
        .filter(|f| args.flow.is_none_or(|id| f.id == id))
        .filter(|f| args.filter.as_ref().is_none_or(|x| x.matches(f)))
        .collect();
    if chosen.is_empty() {
        anyhow::bail!(
            "no request in {} to replay{}",
            args.har.display(),
            match (args.flow, &args.filter) {
                (Some(id), _) => format!(" with id {id}"),
                (None, Some(f)) => format!(" matches the filter {f}"),
                (None, None) => String::new(),
            }
        );
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    let (endpoint, session) = match &args.proxy {
        Some(url) => (running_gomitm(url, &args, timeout).await?, None),
        None => {
            let session = own_session(&args).await?;
            (session.replay_endpoint(timeout), Some(session))
        }
    };
    println!(
        "gomitm replay: {} request{} from {} through gomitm at {} (recorded → replayed)",
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" },
        terminal_safe(&args.har.display().to_string()),
        endpoint.proxy
    );
    let mut counts = [0usize; 3];
    for flow in &chosen {
        let (result, notes) = match ReplayRequest::from_flow(flow) {
            Ok(mut req) => {
                let notes = fill_in(&mut req, &args.header, |n| std::env::var(n).ok());
                (
                    crate::replay::send(&endpoint, &req, Some(flow.id)).await,
                    notes,
                )
            }
            Err(e) => (Err(e), Vec::new()),
        };
        let (text, verdict) = compare::line(flow, &result);
        println!("{text}");
        for note in notes {
            println!("    {}", terminal_safe(&note));
        }
        counts[match verdict {
            Verdict::Same => 0,
            Verdict::Different => 1,
            Verdict::Failed => 2,
        }] += 1;
    }
    println!(
        "gomitm replay: {} same status, {} different, {} failed",
        counts[0], counts[1], counts[2]
    );
    if let Some(session) = session {
        session.finish().await.har_written()?;
    }
    Ok(if counts[1] + counts[2] > 0 { 1 } else { 0 })
}

/// Apply `--header` overrides, and fill in (or leave out) the headers the recording
/// redacted. Returns what the user should know, one line each.
pub fn fill_in(
    req: &mut ReplayRequest,
    given: &[(String, String)],
    env: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let redacted = req.redacted_headers();
    for (name, value) in given {
        req.set_header(name, value);
    }
    let mut notes = Vec::new();
    for name in redacted {
        let var = env_name(&name);
        if given.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            notes.push(format!(
                "{name}: redacted in the recording; sent from --header"
            ));
        } else if let Some(value) = env(&var).filter(|v| !v.is_empty()) {
            req.set_header(&name, &value);
            notes.push(format!(
                "{name}: redacted in the recording; sent from ${var}"
            ));
        } else {
            req.remove_header(&name);
            notes.push(format!(
                "{name}: redacted in the recording, not sent (give it with --header '{name}: …' \
                 or ${var})"
            ));
        }
    }
    if req.url.contains(crate::redact::REDACTED) {
        notes.push("the URL was redacted in the recording and is sent as recorded".into());
    }
    notes
}

/// A session of our own on a free loopback port, configured as `gomitm proxy` would be with
/// the flags replay shares with it.
async fn own_session(args: &ReplayArgs) -> anyhow::Result<Session> {
    /// `ProxyArgs` with every default clap gives it, to set the shared flags on.
    #[derive(Parser)]
    struct Defaults {
        #[command(flatten)]
        proxy: ProxyArgs,
    }
    let mut p = Defaults::try_parse_from(["gomitm"])
        .context("default proxy settings")?
        .proxy;
    p.ca = args.ca.clone();
    p.resolve = args.resolve.clone();
    p.extra_roots = args.extra_roots.clone();
    p.insecure_upstream = args.insecure_upstream;
    p.har_out = args.har_out.clone();
    p.upstream_timeout = args.timeout;
    let go = GoFacts {
        private: PrivatePatterns::none(),
        version: None,
    };
    let cfg = Config::new(&p, Mode::Run, go, false)?;
    Session::start(cfg).await
}

/// `--proxy URL`: its address, credentials, and the CA it intercepts TLS with.
async fn running_gomitm(
    url: &str,
    args: &ReplayArgs,
    timeout: Duration,
) -> anyhow::Result<Endpoint> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("--proxy {url:?} is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        anyhow::bail!("--proxy must be an http:// URL (gomitm's listener), got {url:?}");
    }
    let host = uri
        .host()
        .with_context(|| format!("--proxy {url:?} has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(8080);
    let proxy: SocketAddr = tokio::net::lookup_host((host.as_str(), port))
        .await
        .with_context(|| format!("cannot resolve --proxy host {host:?}"))?
        .next()
        .with_context(|| format!("--proxy host {host:?} has no address"))?;
    let proxy_authorization = uri
        .authority()
        .and_then(|a| a.as_str().rsplit_once('@'))
        .map(|(userinfo, _)| {
            let decoded = percent_encoding::percent_decode_str(userinfo).decode_utf8_lossy();
            use base64::Engine;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(decoded.as_bytes())
            )
        });
    let ca_pem = match &args.ca_cert {
        Some(p) => std::fs::read_to_string(p).with_context(|| {
            format!("cannot read the CA certificate {} (--ca-cert)", p.display())
        })?,
        // The CA a gomitm started with the same --ca-dir (or none) intercepts with.
        None => crate::session::load_ca(&args.ca)?.cert_pem().to_string(),
    };
    Ok(Endpoint {
        proxy,
        ca_pem,
        proxy_authorization,
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_headers_come_from_the_flag_or_the_environment_or_are_left_out() {
        let req = ReplayRequest {
            method: "GET".into(),
            url: "https://a.test/x".into(),
            headers: vec![
                ("Authorization".into(), "REDACTED".into()),
                ("X-Api-Key".into(), "REDACTED".into()),
                ("Cookie".into(), "REDACTED".into()),
                ("Accept".into(), "*/*".into()),
            ],
            body: Vec::new(),
        };
        let mut r = req.clone();
        let given = vec![("authorization".to_string(), "Bearer t".to_string())];
        let env = |n: &str| (n == "GOMITM_REPLAY_X_API_KEY").then(|| "k1".to_string());
        let notes = fill_in(&mut r, &given, env);
        let value = |n: &str| {
            r.headers
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(value("authorization").as_deref(), Some("Bearer t"));
        assert_eq!(value("x-api-key").as_deref(), Some("k1"));
        assert_eq!(value("cookie"), None, "not given: not sent");
        assert!(!r.headers.iter().any(|(_, v)| v.contains("REDACTED")));
        assert!(notes[0].contains("Authorization") && notes[0].contains("--header"));
        assert!(notes[1].contains("$GOMITM_REPLAY_X_API_KEY"), "{notes:?}");
        assert!(notes[2].contains("not sent"), "{notes:?}");
    }
}
