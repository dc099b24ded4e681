//! `gomitm diff A.har B.har`.

use crate::cli::DiffArgs;

pub(crate) fn run_diff(_args: &DiffArgs) -> anyhow::Result<i32> {
    anyhow::bail!("not yet")
}
