//! gomitm: a debugging MITM forward proxy that understands the Go toolchain's traffic.
//!
//! Architecture (see docs/ARCHITECTURE.md):
//! - `flow`   — the record of one exchange or tunnel; plain data, read by everything else.
//! - `filter` — filter expressions: parse (caret errors), Display, matches(&Flow); pure.
//! - `rules`  — rules file and CLI quick forms → validated `RuleSet`; which rules apply; pure.
//! - `store`  — bounded flow store + event broadcast (notify, then pull).
//! - `proxy`  — the I/O shell: accept loop, CONNECT/TLS interception, exchange, upstream pool.
//! - `ca`     — the local CA on disk and per-host leaf certificates.
//! - `certinfo` — an upstream's certificate chain summarised (issuer, expiry, public root?); pure.
//! - `go`     — Go-awareness: classify requests, judge answers (status, content, h1: hashes),
//!   read go's own error lines and settings, and give the run's verdict; pure.
//! - `har`    — HAR 1.2 to and from flows, redaction; pure.
//! - `inspect` — bodies made readable (decompress, pretty-print, hex, zip listing); pure.
//! - `log`    — headless observer: a line (or JSON object) per finished flow.
//! - `tui`    — terminal UI observer: live flow table, detail view, filter, HAR export/open.
//! - `units`  — sizes and durations as people read them (`3.1MiB`, `412ms`); pure.
//! - `cli`    — command-line types; `app` — composition root used by `main`.
//! - `run`    — `gomitm run -- CMD` (settings, the child teed through a pipe or pty, the
//!   summary with its verdict) and `gomitm report`.
//!
//! Dependencies run one way: app → everything; proxy → {ca, store, go, flow};
//! log → {store, flow, har}; tui → {store, flow, filter, go, har, inspect};
//! log, tui, go, inspect → units; har, go, store → flow; flow and units → nothing.

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
pub mod proxy;
pub mod rules;
pub mod run;
pub mod session;
pub mod store;
pub mod tui;
pub mod units;
