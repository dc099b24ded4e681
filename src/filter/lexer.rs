//! Lexer: filter text → operators, parentheses and words.
//!
//! A word runs to whitespace or to a `)` that closes nothing inside it, so `&`, `|` and
//! balanced parentheses inside a value (`kind:zip|mod`, `url:~(a|b)`) stay part of it;
//! operators between terms need spaces or parentheses around them. Quotes (`"…"`, `'…'`)
//! may appear anywhere in a word, shell-style. Every char keeps its offset in the input and
//! whether it was quoted, so later stages can point at it and treat quoted text literally.
//! Knows nothing about keys or values.

use super::error::Problem;

/// One char of a word: the char, its char offset in the input, and whether it was quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sc {
    pub c: char,
    pub pos: usize,
    pub quoted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Not,
    And,
    Or,
    Word(Vec<Sc>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Char offsets of the token in the input: `pos..end`.
    pub pos: usize,
    pub end: usize,
}

pub(crate) fn lex(chars: &[char]) -> Result<Vec<Token>, Problem> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, end) = match c {
            '(' => (Tok::LParen, i + 1),
            ')' => (Tok::RParen, i + 1),
            '!' => (Tok::Not, i + 1),
            '&' => (Tok::And, doubled(chars, i)),
            '|' => (Tok::Or, doubled(chars, i)),
            _ => word(chars, i)?,
        };
        tokens.push(Token { tok, pos: i, end });
        i = end;
    }
    Ok(tokens)
}

/// `&&` and `||` are accepted as `&` and `|` for people used to C-like languages.
fn doubled(chars: &[char], i: usize) -> usize {
    if chars.get(i + 1) == chars.get(i) {
        i + 2
    } else {
        i + 1
    }
}

fn word(chars: &[char], start: usize) -> Result<(Tok, usize), Problem> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            break;
        }
        if c == '"' || c == '\'' {
            i = quoted(chars, i, &mut out)?;
            continue;
        }
        if c == '(' {
            depth += 1;
        } else if c == ')' {
            if depth == 0 {
                break;
            }
            depth -= 1;
        }
        out.push(Sc {
            c,
            pos: i,
            quoted: false,
        });
        i += 1;
    }
    Ok((keyword(&out).unwrap_or(Tok::Word(out)), i))
}

/// Reads a quoted segment starting at the quote `chars[open]`; returns the offset after the
/// closing quote. Inside, only `\<quote>` and `\\` are escapes, so regex escapes such as
/// `"\d+"` need no doubling.
fn quoted(chars: &[char], open: usize, out: &mut Vec<Sc>) -> Result<usize, Problem> {
    let quote = chars[open];
    let mut i = open + 1;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(Problem::new(
                open,
                "unterminated quoted string",
                format!("a closing {quote}"),
            ));
        };
        if c == quote {
            return Ok(i + 1);
        }
        let escaped = c == '\\' && matches!(chars.get(i + 1), Some(&n) if n == quote || n == '\\');
        if escaped {
            i += 1;
        }
        out.push(Sc {
            c: chars[i],
            pos: i,
            quoted: true,
        });
        i += 1;
    }
}

/// `and`, `or` and `not` (any case, unquoted) are operators; quoted they are plain words.
fn keyword(word: &[Sc]) -> Option<Tok> {
    if word.iter().any(|s| s.quoted) || word.len() > 3 {
        return None;
    }
    let text: String = word.iter().map(|s| s.c.to_ascii_lowercase()).collect();
    match text.as_str() {
        "and" => Some(Tok::And),
        "or" => Some(Tok::Or),
        "not" => Some(Tok::Not),
        _ => None,
    }
}

/// The text of a word, quotes removed.
pub(crate) fn text(word: &[Sc]) -> String {
    word.iter().map(|s| s.c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<String> {
        let chars: Vec<char> = input.chars().collect();
        let tokens = lex(&chars).unwrap_or_default();
        tokens
            .iter()
            .map(|t| match &t.tok {
                Tok::Word(w) => format!("w[{}]@{}", text(w), t.pos),
                other => format!("{other:?}@{}", t.pos),
            })
            .collect()
    }

    #[test]
    fn splits_operators_words_and_parentheses() {
        for (input, want) in [
            ("a & b", vec!["w[a]@0", "And@2", "w[b]@4"]),
            ("a&&b", vec!["w[a&&b]@0"]),
            (
                "(a)|!b",
                vec!["LParen@0", "w[a]@1", "RParen@2", "Or@3", "Not@4", "w[b]@5"],
            ),
            ("a || b", vec!["w[a]@0", "Or@2", "w[b]@5"]),
            ("kind:zip|mod", vec!["w[kind:zip|mod]@0"]),
            (
                "(url:~(a|b))",
                vec!["LParen@0", "w[url:~(a|b)]@1", "RParen@11"],
            ),
            ("x AND not y", vec!["w[x]@0", "And@2", "Not@6", "w[y]@10"]),
            ("\"and\" 'a b'", vec!["w[and]@0", "w[a b]@6"]),
            ("h:\"a \\\" \\\\ \\d\"", vec!["w[h:a \" \\ \\d]@0"]),
            ("''", vec!["w[]@0"]),
        ] {
            assert_eq!(kinds(input), want, "{input:?}");
        }
    }

    #[test]
    fn quoted_chars_are_marked_and_keep_their_offsets() {
        let chars: Vec<char> = "u:\"a\"b".chars().collect();
        let tokens = lex(&chars).unwrap_or_default();
        let Some(Tok::Word(w)) = tokens.first().map(|t| &t.tok) else {
            panic!("no word: {tokens:?}");
        };
        let marks: Vec<(char, usize, bool)> = w.iter().map(|s| (s.c, s.pos, s.quoted)).collect();
        assert_eq!(
            marks,
            vec![
                ('u', 0, false),
                (':', 1, false),
                ('a', 3, true),
                ('b', 5, false)
            ]
        );
    }

    #[test]
    fn unterminated_quote_points_at_the_opening_quote() {
        for (input, position) in [("url:\"abc", 4), ("a 'b", 2), ("\"x\\\"", 0)] {
            let chars: Vec<char> = input.chars().collect();
            let err = lex(&chars).err().map(|p| p.position);
            assert_eq!(err, Some(position), "{input:?}");
        }
    }
}
