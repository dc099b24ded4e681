//! `gomitm rules check FILE` and `gomitm filters`: validate a rules file, list the filter
//! language.

use crate::cli::{RulesAction, RulesArgs};

pub(crate) fn check_rules(args: RulesArgs) -> anyhow::Result<i32> {
    let RulesAction::Check { file } = args.action;
    match crate::rules::check(&file) {
        Ok(set) => {
            println!("{}: ok, {} rules", file.display(), set.rules.len());
            Ok(0)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(1)
        }
    }
}
