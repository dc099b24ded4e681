//! `gomitm rules check FILE` and `gomitm filters`: validate a rules file, list the filter
//! language.

use crate::cli::{RulesAction, RulesArgs};

pub(crate) fn check_rules(args: RulesArgs) -> anyhow::Result<i32> {
    let RulesAction::Check { file } = args.action;
    match crate::rules::check(&file) {
        Ok(set) => {
            let file = file.display().to_string();
            println!(
                "{}: ok, {} rules",
                crate::terminal_text::terminal_safe(&file),
                set.rules.len()
            );
            Ok(0)
        }
        Err(e) => {
            // `RulesError` makes the file text it quotes safe for the terminal itself.
            eprintln!("{e}");
            Ok(1)
        }
    }
}
