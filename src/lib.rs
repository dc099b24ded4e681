//! gomitm: a debugging MITM forward proxy that understands the Go toolchain's traffic.
//!
//! Architecture (see docs/ARCHITECTURE.md):
//! - `flow`   — the record of one exchange or tunnel; plain data, the leaf everything reads.
//! - `store`  — the bounded flow store (`flows`) and the observer seam (`observer`): every flow
//!   is announced once when added and finished exactly once, in order per flow, with a
//!   sequence number; a lagging observer is told how many events it missed.
//! - `proxy`  — the I/O shell: accept loop (`server`), CONNECT/TLS interception (`connect`),
//!   one exchange (`exchange`, `flow_cell`), hyper's heads → flows (`record`), upstream pool.
//! - `session` — the running proxy `proxy` and `run` share: `Config` validated once from the
//!   command line (`setup`), start/observe/finish (`lifecycle`), signals (`shutdown`).
//! - `commands` — the subcommands other than `run`; `app` only dispatches to them.
//! - `run`    — `gomitm run -- CMD` (settings, the child teed through a pipe or pty, the
//!   summary with its verdict) and `gomitm report`.
//! - `log`, `tui` — observers: a line (or JSON object) per finished flow; the terminal UI.
//! - `ca`     — the local CA on disk and per-host leaf certificates.
//! - `certinfo` — an upstream's certificate chain summarised (issuer, expiry, public root?); pure.
//! - `go`     — Go-awareness: classify requests, judge answers (status, content, h1: hashes),
//!   read go's own error lines and settings, and give the run's verdict; pure.
//! - `filter` — filter expressions: parse (caret errors), Display, matches(&Flow); pure.
//! - `rules`  — rules file and CLI quick forms → validated `RuleSet`; which rules apply; pure.
//! - `har`    — HAR 1.2 to and from flows; pure.
//! - `report` — the summary and timeline as a self-contained HTML page and as Markdown; pure.
//! - `redact` — the one redaction every output applies (secret headers and parameters, URL
//!   userinfo, URLs in headers and messages; `redact_flow`); pure, reads only `flow`.
//! - `inspect` — bodies made readable (decompress, pretty-print, hex, zip listing); pure.
//! - `terminal_text` — the one rule for text written to a terminal (`terminal_safe`): controls,
//!   DEL, C1 and bidi/zero-width format characters shown as visible stand-ins; pure, a leaf.
//! - `units`  — sizes and durations as people read them (`3.1MiB`, `412ms`); pure.
//! - `output_file` — files written for the user: replaced by rename, checked at start-up.
//! - `cli`    — command-line types, every value parsed into its type here, once.
//! - `version` — the `--version` text (package version, commit hash and date); pure, shared
//!   with `build.rs`.
//! - `otel`   — `--otlp`: flows as OpenTelemetry spans (`mapping`, pure), the observer, the
//!   bounded export queue and the OTLP/HTTP exporter (`export`), one trace per `run` (`trace`).
//!
//! Dependencies run one way (no circle between files; `tests/architecture.rs` checks it):
//! main → app → {commands, run} → session → {proxy, store, log, tui, har, otel};
//! otel → {store, go, redact, flow};
//! proxy → {ca, certinfo, rules, store, go, flow}; log, tui → {store, filter, har, units, flow};
//! go → {flow, units, inspect, redact}; rules → {filter, flow}; har → {flow, redact};
//! log → redact; store, certinfo, redact → flow;
//! flow, units, terminal_text and ca → nothing internal. Only `proxy` writes to the store.
//! Adding an observer: a file with `impl store::Observer`, one `attach` line in
//! `session/lifecycle.rs`.

pub mod app;
pub mod ca;
pub mod certinfo;
pub mod cli;
pub mod commands;
pub mod filter;
pub mod flow;
pub mod go;
pub mod har;
pub mod inspect;
pub mod log;
pub mod otel;
pub mod output_file;
pub mod proxy;
pub mod redact;
pub mod replay;
pub mod report;
pub mod rules;
pub mod run;
pub mod session;
pub mod store;
pub mod terminal_text;
pub mod tui;
pub mod units;
pub mod version;
