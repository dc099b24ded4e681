//! The subcommands other than `run`, one file each: `proxy` (and `open`), `ca` (and `env`),
//! `rules` (`rules check`), `meta` (`version`, `completions`, `man`), `doctor`
//! (`gomitm doctor`, with `doctor_probe`, the probes' client side),
//! `serve` (`gomitm serve FILE.har`), `diff` (`gomitm diff A.har B.har`), `replay` (`replay FILE.har`).

pub mod ca;
pub mod diff;
pub mod doctor;
mod doctor_probe;
pub mod meta;
pub mod proxy;
pub mod replay;
pub mod rules;
pub mod serve;
