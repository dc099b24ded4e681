//! Diagnosis of failures below HTTP (DNS, connect, TLS on either side, resets, timeouts,
//! cut bodies, refusals): the error class decides, the Go kind sharpens the fix.
//!
//! Pure, like `diagnose`, which calls `network::diagnose` only for flows that carry an error;
//! the types are `diagnosis`'s. Must not judge HTTP answers or relate flows to each other.

use super::codes::Code;
use super::diagnosis::{subject, DiagnoseContext, Diagnosis, Os, Severity};
use crate::flow::{ClientTool, ErrorClass, Flow, FlowError};

/// Failures below HTTP (and cut bodies): the error class decides, the Go kind sharpens the fix.
pub(super) fn diagnose(flow: &Flow, err: &FlowError, ctx: &DiagnoseContext) -> Diagnosis {
    let host = flow.host();
    let msg = &err.message;
    match err.class {
        ErrorClass::ClientTls => client_untrusted(flow, ctx),
        ErrorClass::UpstreamTls => upstream_tls(host, msg),
        ErrorClass::Connect | ErrorClass::ConnectTimeout => connect(flow, err),
        ErrorClass::UpstreamReset | ErrorClass::UpstreamTimeout => broken_answer(flow, err),
        ErrorClass::Dns => Diagnosis::new(
            Code::Dns,
            Severity::Error,
            format!("the host {host} does not resolve ({msg})"),
            format!("check {} and your DNS or VPN{}; gomitm --resolve {host}=IP:PORT tests against a chosen address", where_named(flow), direct_note(flow)),
        ),
        ErrorClass::UpstreamProxy => Diagnosis::new(
            Code::UpstreamProxy,
            Severity::Error,
            format!("the upstream proxy refused the tunnel to {host}: {msg}"),
            format!("check --upstream-proxy (address, and credentials as http://user:pass@host:port) and that the proxy allows {host}"),
        ),
        ErrorClass::ClientAbort => Diagnosis::new(
            Code::ClientAbort,
            Severity::Info,
            format!("the client went away before {} finished (go interrupted, or it gave up)", what(flow)),
            "nothing to fix unless the client was not meant to stop".into(),
        ),
        ErrorClass::Protocol => Diagnosis::new(Code::Protocol, Severity::Warning, msg.clone(), protocol_fix(msg)),
        ErrorClass::Refused => Diagnosis::new(
            Code::Refused,
            Severity::Warning,
            format!("gomitm refused the request itself: {msg}"),
            refused_fix(msg),
        ),
        ErrorClass::Interrupted => Diagnosis::new(
            Code::Interrupted,
            Severity::Info,
            format!("gomitm was stopped before {} finished; the record ends where it was cut", what(flow)),
            "nothing to fix: the proxy was shut down (Ctrl-C, SIGTERM, or the end of the command), not the network".into(),
        ),
        ErrorClass::Internal => Diagnosis::new(
            Code::Internal,
            Severity::Error,
            format!("gomitm itself failed: {msg}"),
            "a bug in gomitm or in the rules in force, not in the client or its settings: check \
             the rules with `gomitm rules check FILE`, else report it with gomitm's stderr"
                .into(),
        ),
    }
}

/// gomitm refuses for several reasons; each has its own remedy.
fn refused_fix(msg: &str) -> String {
    if msg.contains("proxy authentication") {
        "put gomitm's --proxy-auth credentials in the proxy URL: \
         HTTPS_PROXY=http://USER:PASS@HOST:PORT"
            .into()
    } else if msg.contains("connections open to gomitm") {
        "the client keeps too many connections open; raise --max-conns-per-client, or look for \
         a client that opens connections without closing them"
            .into()
    } else if msg.contains("rule") {
        "fix the rule named in the flow (docs/RULES.md)".into()
    } else {
        "check that GOPROXY, GOSUMDB or the import path do not point back at gomitm's own address"
            .into()
    }
}

/// The upstream was reached but its answer broke off or never came.
fn broken_answer(flow: &Flow, err: &FlowError) -> Diagnosis {
    let (host, what) = (flow.host(), what(flow));
    if err.class == ErrorClass::UpstreamTimeout {
        return Diagnosis::new(
            Code::UpstreamTimeout,
            Severity::Error,
            format!("{host} stalled on {what}: {}", err.message),
            "check the upstream server; gomitm's limit is --upstream-timeout SECS, and without gomitm the go command would hang: it has no timeout of its own".into(),
        );
    }
    match &flow.response {
        Some(r) => Diagnosis::new(
            Code::Truncated,
            Severity::Error,
            format!("the response from {host} for {what} was cut short after {} bytes", r.body.total),
            "retry; if it repeats, check the upstream server (go prints 'unexpected EOF' or 'stream error … INTERNAL_ERROR')".into(),
        ),
        None => Diagnosis::new(
            Code::UpstreamReset,
            Severity::Error,
            format!("{host} closed the connection before answering {what}"),
            "retry; check the server and anything in between (load balancer, corporate proxy)".into(),
        ),
    }
}

/// The bundle is named by its path when the caller knows it (a live proxy or `gomitm run`).
fn client_untrusted(flow: &Flow, ctx: &DiagnoseContext) -> Diagnosis {
    let host = flow
        .connection
        .client
        .client_sni
        .as_deref()
        .unwrap_or(flow.host());
    let tool = flow.tool.map_or("the client", ClientTool::as_str);
    let bundle = ctx.bundle.map_or_else(
        || "<bundle of system roots + gomitm CA>".to_string(),
        |p| p.display().to_string(),
    );
    let fix = match (flow.tool, ctx.os) {
        (Some(ClientTool::Git), _) => format!("GIT_SSL_CAINFO={bundle} (or git config http.sslCAInfo); git does not read SSL_CERT_FILE"),
        (_, Os::Linux) => format!("SSL_CERT_FILE={bundle}; eval \"$(gomitm env)\" sets it"),
        (_, Os::MacOs | Os::Windows) if ctx.go.is_some_and(|v| v.cert_file_everywhere()) => format!("SSL_CERT_FILE={bundle} (Go 1.27+ reads it on macOS and Windows too); eval \"$(gomitm env)\" sets it"),
        (_, Os::MacOs) => "trust the gomitm CA in the Keychain: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain \"$(gomitm ca path)\"; Go 1.18–1.26 ignore SSL_CERT_FILE on macOS (Go 1.27+ reads it)".to_string(),
        (_, Os::Windows) => "import the gomitm CA (gomitm ca path) into the Trusted Root store: certutil -addstore -f ROOT gomitm-ca.pem; Go before 1.27 ignores SSL_CERT_FILE on Windows (Go 1.27+ reads it)".to_string(),
    };
    Diagnosis::new(
        Code::ClientUntrustedCa,
        Severity::Error,
        format!("{tool} rejected gomitm's certificate for {host}: it does not trust the gomitm CA"),
        fix,
    )
}

fn upstream_tls(host: &str, msg: &str) -> Diagnosis {
    let m = msg.to_ascii_lowercase();
    let inspect = "if a corporate TLS inspection proxy sits in between, pass its CA with --extra-root FILE.pem (--insecure-upstream skips the check; debugging only)";
    let (code, cause, fix) = if m.contains("not valid for") || m.contains("name mismatch") {
        (
            Code::UpstreamUntrusted,
            format!("the certificate of {host} is not valid for that name"),
            format!("check the host name in GOPROXY or the import path; {inspect}"),
        )
    } else if m.contains("expired") || m.contains("not valid yet") {
        (
            Code::UpstreamUntrusted,
            format!("the certificate of {host} has expired or is not valid yet"),
            format!("check the server's certificate and this machine's clock; {inspect}"),
        )
    } else if m.contains("certificate") || m.contains("issuer") || m.contains("authority") {
        (Code::UpstreamUntrusted, format!("gomitm does not trust the certificate of {host} (typically a corporate TLS inspection proxy re-signing traffic)"), "pass that CA with --extra-root FILE.pem (--insecure-upstream skips the check; debugging only)".into())
    } else {
        (Code::UpstreamTls, format!("the TLS handshake with {host} failed: {msg}"), format!("check that the URL's scheme and port are right (does the server speak TLS there?); {inspect}"))
    };
    Diagnosis::new(code, Severity::Error, cause, fix)
}

fn connect(flow: &Flow, err: &FlowError) -> Diagnosis {
    let addr = flow
        .connection
        .upstream
        .server_addr
        .clone()
        .unwrap_or_else(|| flow.host().into());
    let (code, cause) = if err.class == ErrorClass::Connect {
        (
            Code::ConnectRefused,
            format!(
                "nothing accepted the connection to {addr} ({})",
                err.message
            ),
        )
    } else {
        (
            Code::ConnectTimeout,
            format!(
                "connecting to {addr} timed out: the host is down or a firewall drops the traffic"
            ),
        )
    };
    let mut fix = format!(
        "check the host and port in {}; behind a corporate proxy start gomitm with --upstream-proxy URL",
        where_named(flow)
    );
    if flow.go.as_ref().is_some_and(|g| g.kind.is_module_proxy()) {
        fix.push_str("; after ',' in GOPROXY a network error does not fall back, '|' does");
    }
    Diagnosis::new(code, Severity::Error, cause, fix)
}

fn protocol_fix(msg: &str) -> String {
    if msg.contains("status line is not valid") {
        "the server's status line breaks HTTP/1.1 and gomitm answered 502 in its place; go's own client reads a reason phrase with a control character in it, so without gomitm this request may have worked: run the command once without gomitm to see go's own result, and report the server to its owner".into()
    } else if msg.contains("HTTP framing") {
        "the server sent a body whose framing breaks HTTP/1.1 (chunk sizes, the line ends after a chunk), which no client can read and a retry of the same server will not change: report it to its owner, or put a healthy proxy first in GOPROXY".into()
    } else if msg.contains("upstream") {
        "check that the URL's scheme and port are right".into()
    } else if msg.contains("TLS") || msg.contains("https://") {
        "use http:// (not https://) in HTTPS_PROXY, e.g. HTTPS_PROXY=http://127.0.0.1:8080".into()
    } else {
        "check the client's proxy settings; GODEBUG=http2client=0 makes go fall back to HTTP/1.1"
            .into()
    }
}

/// A direct fetch (discovery, git) that a module proxy could have made instead.
fn direct_note(flow: &Flow) -> &'static str {
    match flow.go.as_ref().map(|g| g.kind) {
        Some(k) if !k.is_module_proxy() && !k.is_sumdb() => {
            "; go fetched this module directly (GOPROXY=direct, a direct fallback, or GOPRIVATE/GONOPROXY): a GOPROXY entry that can reach it (https://proxy.golang.org, or your company's proxy) avoids the lookup"
        }
        _ => "",
    }
}

/// Which setting names the host, by what the request was.
fn where_named(flow: &Flow) -> &'static str {
    match flow.go.as_ref().map(|g| g.kind) {
        Some(k) if k.is_module_proxy() => "GOPROXY",
        Some(k) if k.is_sumdb() => "GOSUMDB (and GOPROXY)",
        Some(_) => "the import path",
        None => "the URL",
    }
}

fn what(flow: &Flow) -> String {
    match flow.go.as_ref() {
        Some(go) if go.module.is_some() => subject(flow, go),
        _ => flow.request.url.clone(),
    }
}
