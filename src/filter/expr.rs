//! The expression tree: predicates combined with not, and, or — how it matches a flow,
//! whether it needs the response, and its canonical text.
//!
//! Display writes the fewest parentheses that parse back to the same tree (precedence:
//! not > and > or), so `Filter` round-trips through its text.

use std::fmt;

use crate::flow::Flow;

use super::predicate::Predicate;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Pred(Predicate),
    Not(Box<Expr>),
    /// Two or more terms; the parser flattens `a & (b & c)` into one list.
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    pub fn matches(&self, flow: &Flow) -> bool {
        match self {
            Expr::Pred(p) => p.matches(flow),
            Expr::Not(e) => !e.matches(flow),
            Expr::And(items) => items.iter().all(|e| e.matches(flow)),
            Expr::Or(items) => items.iter().any(|e| e.matches(flow)),
        }
    }

    pub fn needs_response(&self) -> bool {
        match self {
            Expr::Pred(p) => p.needs_response(),
            Expr::Not(e) => e.needs_response(),
            Expr::And(items) | Expr::Or(items) => items.iter().any(Expr::needs_response),
        }
    }

    /// Combines two or more items, flattening nested lists of the same operator.
    pub fn join(mut items: Vec<Expr>, and: bool) -> Expr {
        if items.len() == 1 {
            if let Some(only) = items.pop() {
                return only;
            }
        }
        let mut flat = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Expr::And(inner) if and => flat.extend(inner),
                Expr::Or(inner) if !and => flat.extend(inner),
                other => flat.push(other),
            }
        }
        if and {
            Expr::And(flat)
        } else {
            Expr::Or(flat)
        }
    }

    /// Binding strength: a child binding looser than (or as loose as) its parent needs
    /// parentheses.
    fn strength(&self) -> u8 {
        match self {
            Expr::Or(_) => 0,
            Expr::And(_) => 1,
            Expr::Not(_) | Expr::Pred(_) => 2,
        }
    }

    fn fmt_child(&self, f: &mut fmt::Formatter<'_>, parent: u8) -> fmt::Result {
        if self.strength() <= parent {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }

    fn fmt_list(f: &mut fmt::Formatter<'_>, items: &[Expr], sep: &str, me: u8) -> fmt::Result {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(sep)?;
            }
            item.fmt_child(f, me)?;
        }
        Ok(())
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Pred(p) => write!(f, "{p}"),
            Expr::Not(e) => {
                f.write_str("!")?;
                e.fmt_child(f, 1)
            }
            Expr::And(items) => Expr::fmt_list(f, items, " & ", 1),
            Expr::Or(items) => Expr::fmt_list(f, items, " | ", 0),
        }
    }
}
