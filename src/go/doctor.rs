//! `gomitm doctor`'s judgement: which requests to send for the sources the go command would
//! use (every GOPROXY entry, the checksum database, `?go-get=1` and git for a VCS host the
//! user names), each recorded flow turned into a table row with its timings, status, TLS
//! issuer, the proxy in the path and a verdict with the fix, and the table rendered as text
//! or JSON. The settings rows are `doctor_settings`'.
//!
//! Pure: the probes are sent and the flows recorded by `commands::doctor` through a gomitm
//! session; this file takes the plan's inputs and the flows, and returns rows and text.

use serde::Serialize;

use super::codes::Code;
use super::diagnose::DiagnoseContext;
use super::diagnosis::Severity;
pub use super::doctor_row::{IssuerKind, Row, Timings, Verdict};
use super::doctor_settings::{goproxy_entries, gosumdb_usable, sumdb_location, Facts};
use crate::flow::{CertSummary, Flow};

/// The module the GOPROXY and checksum database probes ask about when none is named.
pub const DEFAULT_MODULE: &str = "golang.org/x/text";
/// The version looked up in the checksum database when no list named one.
pub const DEFAULT_VERSION: &str = "v0.14.0";

/// What a probe asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    /// `@v/list` of a GOPROXY entry; `any_error_falls_through` is its `|` separator.
    ProxyList {
        any_error_falls_through: bool,
        last: bool,
    },
    SumdbLatest,
    SumdbLookup,
    Discovery,
    GitRefs,
}

/// One request to send through gomitm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub source: String,
    pub check: String,
    pub kind: ProbeKind,
    pub url: String,
    /// Extra request headers (git's protocol version).
    pub headers: Vec<(String, String)>,
}

/// `--module PATH[@VERSION]` split, and `--vcs HOST[/PATH]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    pub module: String,
    pub version: Option<String>,
    pub vcs: Option<String>,
}

/// go's module path escaping (golang.org/x/mod/module.EscapePath): upper case as `!` + lower.
pub fn escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The first probes: every GOPROXY URL entry's list, the checksum database's `/latest`, and
/// `?go-get=1` on the named VCS host. Rows for entries and skips that send nothing.
pub fn first_probes(f: &Facts, t: &Targets) -> (Vec<Probe>, Vec<Row>) {
    let mut probes = Vec::new();
    let mut rows = Vec::new();
    let private = super::private::PrivatePatterns::from_go_env(
        f.go("GOPRIVATE"),
        f.go("GONOPROXY"),
        f.go("GONOSUMDB"),
    );
    let entries = goproxy_entries(f.goproxy());
    for (i, e) in entries.iter().enumerate() {
        let source = format!("GOPROXY[{}] {}", i + 1, e.value);
        let v = e.value.as_str();
        if !(v.starts_with("https://") || v.starts_with("http://")) {
            if v == "direct" && t.vcs.is_none() {
                let mut row = Row::setting("direct", Verdict::Skipped, "go fetches from each module's own VCS host; name one with --vcs HOST to probe it".into());
                row.source = source;
                rows.push(row);
            }
            continue;
        }
        if private.private_for_proxy(&t.module) {
            let mut row = Row::setting("@v/list", Verdict::Skipped, format!("{} is private (GOPRIVATE/GONOPROXY): go never asks a proxy for it, and neither does doctor", t.module));
            row.source = source;
            rows.push(row);
            continue;
        }
        probes.push(Probe {
            source,
            check: "@v/list".into(),
            kind: ProbeKind::ProxyList {
                any_error_falls_through: e.any_error_falls_through,
                last: e.last,
            },
            url: format!(
                "{}/{}/@v/list",
                v.trim_end_matches('/'),
                escape_path(&t.module)
            ),
            headers: Vec::new(),
        });
    }
    match sumdb_location(f.gosumdb()) {
        Some((name, _)) if !gosumdb_usable(f.gosumdb()) => {
            let mut row = Row::setting("/latest", Verdict::Skipped, "GOSUMDB is malformed (see its settings row): go refuses it before any request, so it is not probed".into());
            row.source = format!("GOSUMDB {name}");
            rows.push(row);
        }
        Some((name, base)) => probes.push(Probe {
            source: format!("GOSUMDB {name}"),
            check: "/latest".into(),
            kind: ProbeKind::SumdbLatest,
            url: format!("{base}/latest"),
            headers: Vec::new(),
        }),
        None => {}
    }
    if let Some(vcs) = &t.vcs {
        let import = vcs.trim_end_matches('/');
        probes.push(Probe {
            source: format!("VCS {}", host_of_import(import)),
            check: "?go-get=1".into(),
            kind: ProbeKind::Discovery,
            url: format!("https://{import}?go-get=1"),
            headers: Vec::new(),
        });
    }
    (probes, rows)
}

fn host_of_import(import: &str) -> &str {
    import.split('/').next().unwrap_or(import)
}

/// The probes that depend on the first answers: one checksum database lookup (of the version
/// named, else the newest the first good list gave, else [`DEFAULT_VERSION`] for the default
/// module) and git `info/refs` of the repository the go-import tag named, on the VCS host.
pub fn second_probes(
    f: &Facts,
    t: &Targets,
    first_flows: &[(Probe, Option<&Flow>)],
) -> (Vec<Probe>, Vec<Row>) {
    let mut probes = Vec::new();
    let mut rows = Vec::new();
    let private = super::private::PrivatePatterns::from_go_env(
        f.go("GOPRIVATE"),
        f.go("GONOPROXY"),
        f.go("GONOSUMDB"),
    );
    let sumdb = sumdb_location(f.gosumdb()).filter(|_| gosumdb_usable(f.gosumdb()));
    if let Some((name, base)) = sumdb {
        let listed = first_flows.iter().find_map(|(p, flow)| {
            matches!(p.kind, ProbeKind::ProxyList { .. })
                .then_some(())
                .and_then(|_| newest_listed(flow.as_deref()?))
        });
        let version = t
            .version
            .clone()
            .or(listed)
            .or_else(|| (t.module == DEFAULT_MODULE).then(|| DEFAULT_VERSION.to_string()));
        let source = format!("GOSUMDB {name}");
        match version {
            _ if private.private_for_sumdb(&t.module) => {
                let mut row = Row::setting("/lookup", Verdict::Skipped, format!("{} is private (GOPRIVATE/GONOSUMDB): go never looks it up, and neither does doctor", t.module));
                row.source = source;
                rows.push(row);
            }
            Some(v) => probes.push(Probe {
                source,
                check: "/lookup".into(),
                kind: ProbeKind::SumdbLookup,
                url: format!(
                    "{base}/lookup/{}@{}",
                    escape_path(&t.module),
                    escape_path(&v)
                ),
                headers: Vec::new(),
            }),
            None => {
                let mut row = Row::setting("/lookup", Verdict::Skipped, format!("no version of {} to look up (no list answered; name one with --module PATH@VERSION)", t.module));
                row.source = source;
                rows.push(row);
            }
        }
    }
    if let Some(vcs) = &t.vcs {
        let host = host_of_import(vcs.trim_end_matches('/'));
        let discovery = first_flows
            .iter()
            .find(|(p, _)| p.kind == ProbeKind::Discovery)
            .and_then(|(_, f)| *f);
        let tag = discovery
            .and_then(|flow| flow.response.as_ref())
            .and_then(super::discovery::go_imports)
            .and_then(|tags| tags.into_iter().find(|t| t.vcs == "git"));
        let source = format!("VCS {host}");
        match tag {
            Some(tag) if crate::flow::url_host(&tag.repo).eq_ignore_ascii_case(host) => {
                probes.push(Probe {
                    source,
                    check: "git info/refs".into(),
                    kind: ProbeKind::GitRefs,
                    url: format!(
                        "{}/info/refs?service=git-upload-pack",
                        tag.repo.trim_end_matches('/')
                    ),
                    headers: vec![("Git-Protocol".into(), "version=2".into())],
                });
            }
            Some(tag) => {
                let mut row = Row::setting("git info/refs", Verdict::Skipped, format!("the go-import tag points at {}, another host than the one named: doctor probes only the host you name (--vcs)", tag.repo));
                row.source = source;
                rows.push(row);
            }
            None => {
                let mut row = Row::setting(
                    "git info/refs",
                    Verdict::Skipped,
                    "no git go-import tag to follow".into(),
                );
                row.source = source;
                rows.push(row);
            }
        }
    }
    (probes, rows)
}

/// The newest release of a 2xx `@v/list` answer, else its newest pre-release (go's own
/// preference for `@latest`; numbers compared, pre-release tags not).
fn newest_listed(flow: &Flow) -> Option<String> {
    let resp = flow
        .response
        .as_ref()
        .filter(|r| (200..300).contains(&r.status))?;
    let text = String::from_utf8_lossy(&resp.body.data);
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('v') && !l.contains(char::is_whitespace))
        .max_by_key(|v| version_key(v))
        .map(str::to_string)
}

fn version_key(v: &str) -> (bool, Vec<u64>) {
    let core = v.trim_start_matches('v');
    let (nums, pre) = match core.split_once(['-', '+']) {
        Some((n, _)) => (n, true),
        None => (core, false),
    };
    (
        !pre,
        nums.split('.').map(|n| n.parse().unwrap_or(0)).collect(),
    )
}

/// What the judge of a probe's flow needs besides the flow.
pub struct JudgeCtx<'a> {
    pub diagnose: DiagnoseContext<'a>,
    /// Names of the CAs given with `--extra-root`.
    pub extra_root_names: &'a [String],
    /// The proxy the probe's host goes through, as the route says (for rows without a flow).
    pub via: Option<String>,
}

/// The row of a probe, from the flow gomitm recorded for it (`None`: the request never reached
/// gomitm's record, `client_error` says why).
pub fn judge(
    probe: &Probe,
    flow: Option<&Flow>,
    client_error: Option<&str>,
    ctx: &JudgeCtx<'_>,
) -> Row {
    let mut row = Row::setting(&probe.check, Verdict::Ok, String::new());
    row.source = probe.source.clone();
    row.url = Some(crate::redact::redact_url(&probe.url));
    row.via = Some(ctx.via.clone().unwrap_or_else(|| "direct".into()));
    let Some(flow) = flow else {
        row.verdict = Verdict::Fail;
        row.detail = format!(
            "the probe did not get through gomitm: {}",
            client_error.unwrap_or("no flow was recorded")
        );
        return row;
    };
    row.flow_id = Some(flow.id);
    row.timings = Some(Timings {
        dns_ms: flow.timings.dns_ms,
        connect_ms: flow.timings.connect_ms,
        tls_ms: flow.timings.tls_ms,
        first_byte_ms: flow.timings.wait_ms,
    });
    if let Some(p) = &flow.connection.upstream.via_upstream_proxy {
        row.via = Some(crate::redact::redact_url(p));
    }
    row.status = flow.response.as_ref().map(|r| r.status);
    row.error = flow.error.as_ref().map(|e| e.class.as_str().to_string());
    if let Some(cert) = flow.connection.upstream.server_cert.as_deref() {
        let kind = issuer_kind(cert, ctx.extra_root_names);
        row.issuer = Some(cert.issuer.clone());
        row.issuer_kind = Some(kind);
    }
    let diagnosis =
        super::diagnose::diagnose(flow, &ctx.diagnose).filter(|d| d.code != Code::TlsInspection);
    match diagnosis {
        Some(d) => {
            row.verdict = match d.severity {
                Severity::Error => Verdict::Fail,
                Severity::Warning => Verdict::Warn,
                Severity::Info => Verdict::Info,
            };
            row.code = Some(d.code);
            row.detail = d.cause;
            row.fix = Some(d.fix);
        }
        None => fallback(probe, flow, &mut row),
    }
    // The module was named (or is the well-known default): a source without it is broken
    // for this check, even though go would fall through to the next entry after ','.
    if row.code == Some(Code::ModuleNotFound) && matches!(probe.kind, ProbeKind::ProxyList { .. }) {
        row.verdict = Verdict::Fail;
    }
    if row.verdict == Verdict::Fail {
        if let ProbeKind::ProxyList {
            any_error_falls_through: false,
            last: false,
        } = probe.kind
        {
            let not_found = matches!(row.status, Some(404 | 410));
            if !not_found {
                let fix = row.fix.take().unwrap_or_default();
                row.fix = Some(format!("{fix}; the ',' after this GOPROXY entry means go stops here on this error ('|' would try the next entry)"));
            }
        }
    }
    if row.verdict <= Verdict::Info && row.issuer_kind == Some(IssuerKind::TlsInspection) {
        let root = flow
            .connection
            .upstream
            .server_cert
            .as_deref()
            .map_or("", |c| c.root.as_str());
        row.verdict = Verdict::Warn;
        row.code = Some(Code::TlsInspection);
        row.detail = format!("answered, but the certificate chain ends at {root}: not a public CA, and not one given with --extra-root, so a TLS-inspection proxy re-signs this traffic");
        row.fix = Some("go and git must trust that CA too (system store, SSL_CERT_FILE, GIT_SSL_CAINFO); if you did not expect inspection, ask your network team".into());
    }
    row
}

/// Statuses `diagnose` leaves alone (a bare `/latest` is not classified as a Go request).
fn fallback(probe: &Probe, flow: &Flow, row: &mut Row) {
    let Some(status) = row.status else {
        row.verdict = Verdict::Fail;
        row.detail = flow
            .error
            .as_ref()
            .map_or_else(|| "no answer".to_string(), |e| e.message.clone());
        return;
    };
    if (200..300).contains(&status) {
        row.detail = match probe.kind {
            ProbeKind::ProxyList { .. } => {
                let n = flow.response.as_ref().map_or(0, |r| {
                    String::from_utf8_lossy(&r.body.data)
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .count()
                });
                format!("{n} versions listed")
            }
            ProbeKind::SumdbLatest => "signed tree head served".into(),
            ProbeKind::SumdbLookup => "record served".into(),
            ProbeKind::Discovery => "go-import tag served".into(),
            ProbeKind::GitRefs => "git smart HTTP answered".into(),
        };
        return;
    }
    row.verdict = Verdict::Fail;
    let (code, what) = match probe.kind {
        ProbeKind::ProxyList { .. } if status >= 500 => {
            (Code::ProxyServerError, "the module proxy")
        }
        ProbeKind::ProxyList { .. } => (Code::ProxyHttpError, "the module proxy"),
        ProbeKind::SumdbLatest | ProbeKind::SumdbLookup => {
            (Code::SumdbUnavailable, "the checksum database")
        }
        ProbeKind::Discovery => (Code::DiscoveryError, "the VCS host"),
        ProbeKind::GitRefs => (Code::GitServerError, "the git server"),
    };
    row.code = Some(code);
    row.detail = format!("{what} answered {status}");
    row.fix = Some(match probe.kind {
        ProbeKind::SumdbLatest | ProbeKind::SumdbLookup => "check GOSUMDB's URL; behind a proxy that cannot reach it, GOSUMDB must name a reachable mirror (or use GOPROXY's /sumdb/ support)".into(),
        _ => format!("see {}", code.doc_link()),
    });
}

/// Public root, a CA named with `--extra-root`, or a local CA: TLS inspection. The names of
/// the chain's last issuer are compared: the sent chain rarely includes the root itself.
pub fn issuer_kind(cert: &CertSummary, extra_root_names: &[String]) -> IssuerKind {
    if cert.public_root != Some(false) {
        return IssuerKind::Public;
    }
    if extra_root_names
        .iter()
        .any(|n| *n == cert.root || *n == cert.issuer)
    {
        return IssuerKind::ExtraRoot;
    }
    IssuerKind::TlsInspection
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub go: String,
    pub go_version: String,
    pub proxy: String,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .count()
    }

    /// The same report with every string redacted (URLs, user info, tokens).
    pub fn redacted(&self) -> Report {
        let mut out = self.clone();
        for r in &mut out.rows {
            r.source = crate::redact::redact_text(&r.source);
            r.detail = crate::redact::redact_text(&r.detail);
            r.fix = r.fix.as_deref().map(crate::redact::redact_text);
            r.url = r.url.as_deref().map(crate::redact::redact_url);
            r.via = r.via.as_deref().map(crate::redact::redact_url);
            r.issuer = r.issuer.as_deref().map(crate::redact::redact_text);
        }
        out.go = crate::redact::redact_text(&out.go);
        out
    }

    pub fn render_json(&self) -> String {
        let r = self.redacted();
        let doc = serde_json::json!({
            "go": r.go,
            "go_version": r.go_version,
            "proxy": r.proxy,
            "failed": r.failed(),
            "rows": r.rows,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }

    /// The table, then the detail of every row that is not ok. Each line made terminal-safe.
    pub fn render_text(&self) -> String {
        let r = self.redacted();
        let ms = |v: Option<f64>| v.map_or_else(|| "-".to_string(), crate::units::format_ms);
        let header = [
            "SOURCE",
            "CHECK",
            "DNS",
            "CONNECT",
            "TLS",
            "1ST BYTE",
            "STATUS",
            "TLS ISSUER",
            "VIA",
            "VERDICT",
        ];
        let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
        for row in &r.rows {
            let t = row.timings.clone().unwrap_or_default();
            let status = match (&row.status, &row.error) {
                (Some(s), _) => s.to_string(),
                (None, Some(e)) => e.clone(),
                (None, None) => "-".into(),
            };
            let issuer = match (&row.issuer, row.issuer_kind) {
                (Some(i), Some(IssuerKind::TlsInspection)) => format!("{i} (TLS INSPECTION)"),
                (Some(i), Some(IssuerKind::ExtraRoot)) => format!("{i} (--extra-root)"),
                (Some(i), _) => i.clone(),
                (None, _) => "-".into(),
            };
            let probe = row.flow_id.is_some() || row.url.is_some();
            let cell = |v: Option<f64>| if probe { ms(v) } else { String::new() };
            table.push(vec![
                row.source.clone(),
                row.check.clone(),
                cell(t.dns_ms),
                cell(t.connect_ms),
                cell(t.tls_ms),
                cell(t.first_byte_ms),
                if probe { status } else { String::new() },
                if probe { issuer } else { String::new() },
                row.via.clone().unwrap_or_default(),
                row.verdict.as_str().to_string(),
            ]);
        }
        let cells: Vec<Vec<String>> = table
            .iter()
            .map(|line| {
                line.iter()
                    .map(|c| fit(&crate::terminal_text::terminal_safe(c), 44))
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|l| l[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = format!(
            "gomitm doctor: {} ({}), probes through gomitm on {}\n\n",
            crate::terminal_text::terminal_safe(&r.go),
            crate::terminal_text::terminal_safe(&r.go_version),
            r.proxy
        );
        for line in &cells {
            let mut text = String::new();
            for (i, c) in line.iter().enumerate() {
                text.push_str(c);
                if i + 1 < line.len() {
                    text.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out.push('\n');
        for row in &r.rows {
            let code = row.code.map(|c| format!(" [{c}]")).unwrap_or_default();
            let safe = |s: &str| crate::terminal_text::terminal_safe(s).into_owned();
            out.push_str(&format!(
                "{:<7} {} {}{code}: {}\n",
                row.verdict.as_str(),
                safe(&row.source),
                safe(&row.check),
                safe(&row.detail)
            ));
            if let Some(fix) = &row.fix {
                if row.verdict >= Verdict::Warn {
                    out.push_str(&format!("        fix: {}\n", safe(fix)));
                }
            }
        }
        let failed = r.failed();
        out.push_str(&if failed == 0 {
            "\ndoctor: no check failed\n".to_string()
        } else {
            format!(
                "\ndoctor: {failed} check{} failed (exit 3)\n",
                if failed == 1 { "" } else { "s" }
            )
        });
        out
    }
}

/// At most `max` characters, with an ellipsis.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
#[path = "doctor_tests.rs"]
mod tests;
