//! Rules: the rules file (`--rules FILE`) and the command-line quick forms, parsed once into a
//! validated [`RuleSet`], and the pure decisions of which rules apply to a flow.
//!
//! The model and matching (`RuleSet`, `Rule`, `Action`; `for_request`, `for_response`,
//! `no_intercept`) are `model`'s, loading is `build` (the file) and `quick` (the command-line
//! forms), errors with line and column are `error`'s; this file is the entry points (`load`,
//! `parse`, `from_quick_forms`, `check`) and the public names. It does not touch traffic:
//! applying actions (rewriting headers, sleeping, answering, dialling a mirror) is the proxy's
//! job, and watching the file for changes is the app's. `docs/RULES.md` is the reference for
//! the file format.

mod build;
mod error;
mod model;
mod quick;
mod raw;
mod values;

#[cfg(test)]
mod tests_eval;
#[cfg(test)]
mod tests_load;

use std::path::Path;

pub use error::RulesError;
pub use model::{connect_stub, Action, Body, Phase, Rule, RuleSet};
pub use quick::{QuickForm, QuickForms};
pub use values::{local_file, parse_rate, parse_size, RemoteTarget};

impl RuleSet {
    /// Reads, parses and validates a rules file; relative paths resolve against its directory.
    /// Cheap and side-effect free (safe to call on every change of the file).
    pub fn load(path: &Path) -> Result<RuleSet, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let base_dir = path.parent().unwrap_or(Path::new(""));
        build::parse_file(&text, base_dir, path)
    }

    /// Parses rules from text (errors name the file `<rules>`); relative paths resolve
    /// against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<RuleSet, RulesError> {
        build::parse_file(text, base_dir, Path::new("<rules>"))
    }

    /// Rules from the command-line quick forms (see [`QuickForms`]).
    pub fn from_quick_forms(q: &QuickForms) -> Result<RuleSet, RulesError> {
        quick::build(q)
    }
}

/// `gomitm rules check FILE`: load and validate, nothing else.
pub fn check(path: &Path) -> Result<RuleSet, RulesError> {
    RuleSet::load(path)
}
