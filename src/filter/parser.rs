//! Parser: tokens → [`Expr`], by recursive descent over
//!
//! ```text
//! filter  := or
//! or      := and (("|" | "or") and)*
//! and     := unary (("&" | "and")? unary)*        juxtaposition is "and"
//! unary   := ("!" | "not") unary | primary
//! primary := "(" or ")" | alias [WORD] | WORD
//! ```
//!
//! Terms are built by `term`; this file owns only structure and its errors (empty filter,
//! trailing operator, unbalanced parentheses, nesting limit).

use super::error::Problem;
use super::expr::Expr;
use super::keys::{alias_list, find_alias, Arg};
use super::lexer::{lex, text, Sc, Tok, Token};
use super::predicate::Predicate;
use super::term::{self, TERM};

/// Deeper nesting is refused rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 100;

pub(crate) fn parse(chars: &[char]) -> Result<Expr, Problem> {
    let tokens = lex(chars)?;
    if tokens.is_empty() {
        return Err(Problem::new(0, "empty filter", TERM));
    }
    let mut parser = Parser {
        chars,
        tokens,
        next: 0,
        depth: 0,
    };
    let expr = parser.or()?;
    match parser.tokens.get(parser.next) {
        None => Ok(expr),
        Some(t) => Err(Problem::new(
            t.pos,
            format!("unbalanced {}", parser.describe(t)),
            "an operator or the end of the filter",
        )),
    }
}

struct Parser<'a> {
    chars: &'a [char],
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.next).map(|t| &t.tok)
    }

    fn or(&mut self) -> Result<Expr, Problem> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.next += 1;
            items.push(self.and()?);
        }
        Ok(Expr::join(items, false))
    }

    fn and(&mut self) -> Result<Expr, Problem> {
        let mut items = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Tok::And) => self.next += 1,
                Some(Tok::Not | Tok::LParen | Tok::Word(_)) => {}
                _ => break,
            }
            items.push(self.unary()?);
        }
        Ok(Expr::join(items, true))
    }

    fn unary(&mut self) -> Result<Expr, Problem> {
        match self.tokens.get(self.next) {
            Some(t) if t.tok == Tok::Not => {
                let pos = t.pos;
                self.next += 1;
                self.nested(pos, |p| p.unary())
                    .map(|e| Expr::Not(Box::new(e)))
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, Problem> {
        let Some(token) = self.tokens.get(self.next).cloned() else {
            return Err(self.missing_term());
        };
        self.next += 1;
        match &token.tok {
            Tok::LParen => self.nested(token.pos, |p| p.group(token.pos)),
            Tok::Word(word) if starts_alias(word) => self.alias(word, &token).map(Expr::Pred),
            Tok::Word(word) => term::word(word, token.pos, token.end).map(Expr::Pred),
            _ => Err(Problem::new(
                token.pos,
                format!("unexpected {}", self.describe(&token)),
                TERM,
            )),
        }
    }

    /// After `(` at `open`: the inner expression and its `)`.
    fn group(&mut self, open: usize) -> Result<Expr, Problem> {
        if let Some(close) = self.tokens.get(self.next).filter(|t| t.tok == Tok::RParen) {
            return Err(Problem::new(close.pos, "empty parentheses", TERM));
        }
        let inner = self.or()?;
        if self.peek() != Some(&Tok::RParen) {
            return Err(Problem::new(open, "unclosed '('", "a matching ')'"));
        }
        self.next += 1;
        Ok(inner)
    }

    /// `~d proxy.golang.org`: the alias, then (if its key needs one) the next word as value.
    fn alias(&mut self, word: &[Sc], token: &Token) -> Result<Predicate, Problem> {
        let name = text(word);
        let Some((key, alias)) = find_alias(&name) else {
            let message = format!("unknown filter '{name}'");
            return Err(Problem::new(token.pos, message, alias_list()));
        };
        if key.arg != Arg::Required {
            return term::keyed(key, &[], false, token.end);
        }
        match self.tokens.get(self.next).cloned() {
            Some(Token {
                tok: Tok::Word(value),
                pos,
                ..
            }) => {
                self.next += 1;
                term::keyed(key, &value, alias.regex, pos)
            }
            other => {
                let at = other.map_or(self.chars.len(), |t| t.pos);
                let message = format!("missing value after '{}'", alias.name);
                Err(Problem::new(at, message, key.expected))
            }
        }
    }

    fn nested<T>(
        &mut self,
        pos: usize,
        f: impl FnOnce(&mut Self) -> Result<T, Problem>,
    ) -> Result<T, Problem> {
        if self.depth >= MAX_DEPTH {
            let expected = format!("at most {MAX_DEPTH} levels of '!' and '('");
            return Err(Problem::new(pos, "filter nested too deeply", expected));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// The input ended where a term was expected.
    fn missing_term(&self) -> Problem {
        let end = self.chars.len();
        match self.next.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some(prev) => Problem::new(end, format!("nothing after {}", self.describe(prev)), TERM),
            None => Problem::new(end, "empty filter", TERM),
        }
    }

    fn describe(&self, token: &Token) -> String {
        let written: String = self
            .chars
            .get(token.pos..token.end)
            .unwrap_or_default()
            .iter()
            .collect();
        format!("'{written}'")
    }
}

fn starts_alias(word: &[Sc]) -> bool {
    word.first().is_some_and(|s| s.c == '~' && !s.quoted)
}
