//! The filter expression language: one language for the headless log (`--filter`), rule
//! `match`es, HAR export, `gomitm report` and the TUI.
//!
//! Parse once, at the edge: [`Filter::parse`] validates everything (keys, numbers, units,
//! regexes, parentheses) and reports a [`FilterError`] pointing at the char that is wrong;
//! [`Filter::matches`] then cannot fail. Pure: reads [`Flow`]s, never changes them, no I/O.
//! The reference is `docs/FILTERS.md`; [`help_text`] is generated from the same key table
//! (`keys::KEYS`) the parser uses.
//!
//! Pipeline: `lexer` (words, operators, quotes) → `parser` (precedence: not > and > or) →
//! `term` (key:value, aliases, bare words) → `values` (one parser per key) → `predicate`
//! (matching one flow field) combined by `expr`.

use std::fmt;
use std::str::FromStr;

use crate::flow::Flow;

mod error;
mod expr;
mod keys;
mod lexer;
mod parser;
mod predicate;
mod term;
mod text;
mod values;

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod match_tests;
#[cfg(test)]
mod parse_tests;

pub use error::FilterError;
pub use keys::help_text;

/// Writes `value` so it reads back as one literal value after `key:` (or after `key:~` for a
/// regex): bare when safe, otherwise in double quotes with `"` and `\` escaped. For code that
/// builds filter text, e.g. `format!("url:~{}", quote(&regex::escape(prefix)))`.
pub fn quote(value: &str) -> String {
    text::quote(value, predicate::OPS)
}

/// A parsed, validated filter expression.
///
/// `Display` writes the canonical form (primary key names, explicit `&`, minimal
/// parentheses), which parses back to an equal `Filter`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: expr::Expr,
}

impl Filter {
    /// Parses and validates `text`; the error points at the problem by char offset.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let chars: Vec<char> = text.chars().collect();
        parser::parse(&chars)
            .map(|expr| Filter { expr })
            .map_err(|problem| problem.into_error(text))
    }

    pub fn matches(&self, flow: &Flow) -> bool {
        self.expr.matches(flow)
    }

    /// Whether any part of the expression depends on the response or on how the flow ended
    /// (status, response headers, size, duration, error, rules fired, `response`), so a
    /// request-side rule cannot decide it yet. Request-only expressions return false.
    pub fn needs_response(&self) -> bool {
        self.expr.needs_response()
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::parse(s)
    }
}
