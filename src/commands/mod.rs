//! The subcommands other than `run`, one file each: `proxy` (and `open`), `ca` (and `env`),
//! `rules` (`rules check`), `meta` (`version`, `completions`, `man`), `doctor`
//! (`gomitm doctor`, with `doctor_probe`, the probes' client side).

pub mod ca;
pub mod doctor;
mod doctor_probe;
pub mod meta;
pub mod proxy;
pub mod rules;
