//! Terms: one word (plus, for `~x` aliases, the word after it) → a [`Predicate`].
//!
//! Decides between `key:value`, a flag (`tunnel`), a mitmproxy alias and a bare word, and
//! applies the checks every key shares (missing value, `~` on a key without regex, operators
//! inside a plain value) before handing the value to the key's own parser.

use super::error::Problem;
use super::keys::{find_key, key_list, suggest, Arg, KeySpec};
use super::lexer::{text, Sc};
use super::predicate::{Predicate, OPS};
use super::text::Text;
use super::values::Value;

pub(crate) const TERM: &str = "a filter term such as host:proxy.golang.org";

/// A word in term position that is not an alias.
pub(crate) fn word(word: &[Sc], pos: usize, end: usize) -> Result<Predicate, Problem> {
    if let Some(colon) = key_colon(word) {
        let name = text(&word[..colon]);
        let value = &word[colon + 1..];
        if let Some(key) = find_key(&name) {
            let at = value.first().map_or(word[colon].pos + 1, |s| s.pos);
            return keyed(key, value, false, at);
        }
        // A near-miss of a real key (`stauts:500`) is a typo, not a host:port to search for.
        if !looks_like_address(value) || suggest(&name).is_some() {
            return Err(unknown_key(&name, pos));
        }
    }
    if let Some(key) = flag(word) {
        return keyed(key, &[], false, end);
    }
    bare(word, pos)
}

/// Builds `key` from its value chars. `regex` is preset by regex aliases (`~d`); otherwise a
/// leading unquoted `~` turns it on.
pub(crate) fn keyed(
    key: &KeySpec,
    chars: &[Sc],
    regex: bool,
    at: usize,
) -> Result<Predicate, Problem> {
    if let (Arg::Flag, Some(first)) = (key.arg, chars.first()) {
        let message = format!("'{}' takes no value", key.name);
        return Err(Problem::new(
            first.pos,
            message,
            "an operator or the end of the filter",
        ));
    }
    if key.arg == Arg::Required && chars.is_empty() {
        let message = format!("missing value for '{}'", key.name);
        let expected = format!("{} right after the colon", key.expected);
        return Err(Problem::new(at, message, expected));
    }
    let (chars, regex, at) = match chars.split_first() {
        Some((tilde, rest)) if !regex && tilde.c == '~' && !tilde.quoted => {
            if !key.regex {
                let message = format!("'{}' does not take a regex", key.name);
                return Err(Problem::new(tilde.pos, message, key.expected));
            }
            (rest, true, rest.first().map_or(tilde.pos + 1, |s| s.pos))
        }
        _ => (chars, regex, at),
    };
    if !regex {
        check_operators(chars, key.forbid)?;
    }
    (key.build)(&Value { chars, regex, at })
}

/// Index of the colon of `key:value`: the first unquoted colon after one or more unquoted
/// ASCII letters.
fn key_colon(word: &[Sc]) -> Option<usize> {
    let colon = word.iter().position(|s| s.c == ':' && !s.quoted)?;
    let prefix = &word[..colon];
    let is_key = !prefix.is_empty()
        && prefix
            .iter()
            .all(|s| !s.quoted && s.c.is_ascii_alphabetic());
    is_key.then_some(colon)
}

/// `https://…`, `localhost:8080` and `localhost:8080/x` are bare words, not unknown keys.
fn looks_like_address(value: &[Sc]) -> bool {
    let digits = value.iter().take_while(|s| s.c.is_ascii_digit()).count();
    let port = digits > 0 && value.get(digits).is_none_or(|s| s.c == '/');
    let scheme = value.len() >= 2 && value[0].c == '/' && value[1].c == '/';
    port || scheme
}

fn unknown_key(name: &str, pos: usize) -> Problem {
    let hint = suggest(name).map_or(String::new(), |s| format!(" (did you mean '{s}'?)"));
    Problem::new(pos, format!("unknown key '{name}'{hint}"), key_list())
}

/// A flag key (or one whose value is optional) written without a colon: `tunnel`, `error`.
fn flag(word: &[Sc]) -> Option<&'static KeySpec> {
    if word.iter().any(|s| s.quoted) {
        return None;
    }
    find_key(&text(word)).filter(|k| k.arg != Arg::Required)
}

/// A bare word matches anywhere in the URL.
fn bare(word: &[Sc], pos: usize) -> Result<Predicate, Problem> {
    if word.is_empty() {
        return Err(Problem::new(pos, "empty quoted string", TERM));
    }
    check_operators(word, OPS)?;
    Ok(Predicate::Url(Text::Contains(text(word))))
}

fn check_operators(chars: &[Sc], forbid: &[char]) -> Result<(), Problem> {
    match chars.iter().find(|s| !s.quoted && forbid.contains(&s.c)) {
        Some(s) => Err(Problem::new(
            s.pos,
            format!("'{}' inside a value", s.c),
            "spaces around operators (host:a & status:404) or quotes around the value",
        )),
        None => Ok(()),
    }
}
