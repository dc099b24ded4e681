//! The subcommands other than `run`, one file each: `proxy` (and `open`), `ca` (and `env`),
//! `rules` (`rules check`).

pub mod ca;
pub mod proxy;
pub mod rules;
