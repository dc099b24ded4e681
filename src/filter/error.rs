//! Filter errors: what went wrong, where (a char offset into the expression) and what was
//! expected there, rendered as the expression with a caret under the problem.
//!
//! Owns only the error type; the lexer, parser and value parsers report a [`Problem`] and the
//! public entry point attaches the input once.

/// A filter expression that does not parse.
///
/// `position` counts chars (not bytes) from the start of `input`, so a caret lines up under
/// the problem even when the expression holds non-ASCII text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}\n{caret}", caret = self.caret())]
pub struct FilterError {
    pub message: String,
    pub position: usize,
    pub expected: String,
    pub input: String,
}

impl FilterError {
    /// The expression, a newline, then a `^` under the problem followed by what was expected.
    pub fn caret(&self) -> String {
        // One column per char: tabs and newlines would break the alignment, so they become
        // spaces in the echoed line.
        let line: String = self
            .input
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let column = self.position.min(line.chars().count());
        format!("{line}\n{}^ expected {}", " ".repeat(column), self.expected)
    }

    /// 1-based column of the problem, for "line:column" style reports.
    pub fn column(&self) -> usize {
        self.position + 1
    }
}

/// An error before the input is attached: used inside the filter module only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub position: usize,
    pub message: String,
    pub expected: String,
}

impl Problem {
    pub fn new(position: usize, message: impl Into<String>, expected: impl Into<String>) -> Self {
        Problem {
            position,
            message: message.into(),
            expected: expected.into(),
        }
    }

    pub fn into_error(self, input: &str) -> FilterError {
        FilterError {
            message: self.message,
            position: self.position,
            expected: self.expected,
            input: input.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_sits_under_the_problem_column() {
        for (input, position, want) in [
            ("hots:x", 0, "hots:x\n^ expected a key"),
            ("host:a &", 8, "host:a &\n        ^ expected a key"),
            ("é hots", 2, "é hots\n  ^ expected a key"),
            ("a\tb", 2, "a b\n  ^ expected a key"),
            ("ab", 99, "ab\n  ^ expected a key"),
        ] {
            let err = Problem::new(position, "bad", "a key").into_error(input);
            assert_eq!(err.caret(), want, "{input:?}");
            assert_eq!(err.to_string(), format!("bad\n{want}"));
        }
    }
}
