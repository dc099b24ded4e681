//! The subcommands other than `run`, one file each: `proxy` (and `open`), `ca` (and `env`),
//! `rules` (`rules check`), `meta` (`version`, `completions`, `man`), `replay` (`replay FILE.har`).

pub mod ca;
pub mod meta;
pub mod proxy;
pub mod replay;
pub mod rules;
