//! Text measured in terminal cells, not chars: a wide CJK character or an emoji takes two
//! cells, a combining mark none. Fitting text to a width with an ellipsis that says something
//! was cut, at the end, the start (hosts: the registrable end matters) or the middle (module
//! paths: the module's start and the version's end matter).
//!
//! Pure string arithmetic; `view`, `panes` and `detail` call it.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Cells `text` takes on a terminal.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// The longest prefix of `text` that fits in `cells`.
fn take_prefix(text: &str, cells: usize) -> &str {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += char_width(c);
        if used > cells {
            return &text[..i];
        }
    }
    text
}

/// The longest suffix of `text` that fits in `cells`.
fn take_suffix(text: &str, cells: usize) -> &str {
    let mut used = 0;
    for (i, c) in text.char_indices().rev() {
        used += char_width(c);
        if used > cells {
            return &text[i + c.len_utf8()..];
        }
    }
    text
}

/// `text` in at most `cells`, cut at the end with `…`.
pub fn fit_end(text: &str, cells: usize) -> String {
    if width(text) <= cells {
        return text.to_string();
    }
    if cells == 0 {
        return String::new();
    }
    format!("{}…", take_prefix(text, cells - 1))
}

/// `text` in at most `cells`, cut at the start with `…`.
pub fn fit_start(text: &str, cells: usize) -> String {
    if width(text) <= cells {
        return text.to_string();
    }
    if cells == 0 {
        return String::new();
    }
    format!("…{}", take_suffix(text, cells - 1))
}

/// `text` in at most `cells`, cut in the middle with `…`: both ends stay readable.
pub fn fit_middle(text: &str, cells: usize) -> String {
    if width(text) <= cells {
        return text.to_string();
    }
    if cells < 2 {
        return fit_end(text, cells);
    }
    let room = cells - 1;
    let tail = room / 2;
    let head = room - tail;
    format!("{}…{}", take_prefix(text, head), take_suffix(text, tail))
}

/// Splits `text` into lines of at most `cells`, at spaces when a space is in the second half
/// of the line, else mid-word (a word longer than the line). Nothing is lost.
pub fn wrap(text: &str, cells: usize) -> Vec<String> {
    let cells = cells.max(1);
    let mut out = Vec::new();
    let mut rest = text;
    while width(rest) > cells {
        let head = take_prefix(rest, cells);
        // A space just after the cut ends the word exactly at the edge.
        let next_is_space = rest[head.len()..].starts_with(' ');
        let cut = if next_is_space {
            head.len()
        } else {
            match head.rfind(' ') {
                Some(i) if width(&head[..i]) > cells / 2 => i,
                _ => head
                    .len()
                    .max(rest.chars().next().map_or(1, char::len_utf8)),
            }
        };
        out.push(rest[..cut].trim_end().to_string());
        rest = &rest[cut..];
        rest = rest.strip_prefix(' ').unwrap_or(rest);
    }
    out.push(rest.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_cells() {
        assert_eq!(width("日本"), 4);
        assert_eq!(width("a🦀"), 3);
        assert_eq!(fit_end("日本語のパス", 7), "日本語…");
        assert_eq!(width(&fit_end("日本語のパス", 7)), 7);
        assert_eq!(fit_start("storage.googleapis.com", 12), "…gleapis.com");
        assert_eq!(
            fit_middle("golang.org/x/text@v0.14.0", 15),
            "golang.…v0.14.0"
        );
        assert_eq!(fit_end("abc", 3), "abc");
    }

    #[test]
    fn wrap_prefers_spaces_and_measures_cells() {
        assert_eq!(wrap("abc def ghi", 7), vec!["abc def", "ghi"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("日本語日本語", 5), vec!["日本", "語日", "本語"]);
        assert_eq!(wrap("", 4), vec![""]);
    }
}
