//! The proxy, the I/O shell: `server` (accept loop, client connections), `connect` (CONNECT,
//! TLS interception, tunnels), `exchange` (one request upstream and back, rules applied),
//! `flow_cell` (a flow in progress, finished exactly once), `record` (hyper's heads → the
//! flow record), `context` (what every task shares), `local_file` (files rules answer with), `interrupt` (the cut at shutdown), `upgrade` (WebSocket and other HTTP/1.1 upgrades), `own_addr` (which addresses reach
//! gomitm's own socket: loops), `dial`/`route`/`target`/`upstream` (how and where upstream
//! connections are made), `recording`/`served` (a HAR answering in the upstream's place). This file only declares and re-exports.

pub mod auth;
pub mod body;
mod client_conn;
mod connect;
mod context;
mod counted;
pub mod dial;
pub mod error;
mod exchange;
mod flow_cell;
mod hashing;
mod hooks;
mod interrupt;
pub mod limits;
pub mod live_rules;
mod local_file;
mod own_addr;
mod prefixed;
mod record;
pub mod recording;
pub mod route;
mod served;
mod server;
mod shaping;
pub mod target;
mod upgrade;
pub mod upstream;
mod watched;

pub use context::{is_own_address, Ctx, ProxyOptions};
pub use record::REPLAY_HEADER;
pub use server::serve;
