//! The running session `gomitm proxy` and `gomitm run` share: `setup` turns the command line
//! into its parts, `lifecycle` owns the running proxy, store and observers, `shutdown` the
//! signals and the drain, `autosave` keeps `--har-out` current while it runs.

mod autosave;
mod lifecycle;
mod setup;
mod shutdown;

pub(crate) use lifecycle::Session;
#[cfg(test)]
pub(crate) use setup::ca_dir;
pub(crate) use setup::{load_ca, Config, GoFacts, Mode};
pub use shutdown::shutdown_signal;
