//! The `<meta name="go-import">` tags of a `?go-get=1` discovery page, parsed the way the go
//! command reads them (up to `<body>` or `</head>`, attributes in any quoting).
//!
//! Pure: a captured [`Response`] in, tags out. Must not diagnose (that is `diagnose`) or link
//! discovery to git fetches (that is `module_report`).

use crate::flow::{header_value, Response};

pub use crate::flow::GoImport;

/// The go-import tags of a discovery response; `None` when the body cannot be judged: not
/// captured, in an encoding gomitm cannot decode, or cut by the capture cap before the end of
/// `<head>`.
pub fn go_imports(resp: &Response) -> Option<Vec<GoImport>> {
    let encoding = header_value(&resp.headers, "content-encoding").unwrap_or("");
    // The go command asks for gzip, so login pages usually arrive compressed.
    let (body, cut) = decoded_body(encoding, &resp.body.data)?;
    if body.is_empty() && resp.body.total > 0 {
        return None;
    }
    let html = String::from_utf8_lossy(&body);
    let (tags, saw_end_of_head) = parse_go_imports(&html);
    if tags.is_empty() && (resp.body.truncated || cut) && !saw_end_of_head {
        return None;
    }
    Some(tags)
}

/// The captured body decoded, and whether decoding stopped early (a capture cut mid-stream
/// still yields what was decoded up to there). `None` for encodings gomitm cannot read.
pub(super) fn decoded_body(encoding: &str, data: &[u8]) -> Option<(Vec<u8>, bool)> {
    use std::io::Read;
    const LIMIT: u64 = 1 << 20;
    let mut out = Vec::new();
    let result = match encoding.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => return Some((data.to_vec(), false)),
        "gzip" | "x-gzip" => flate2::read::GzDecoder::new(data)
            .take(LIMIT)
            .read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(data)
            .take(LIMIT)
            .read_to_end(&mut out),
        _ => return None,
    };
    Some((out, result.is_err()))
}

/// Like the go command: read `<meta>` tags up to `<body>` or `</head>`. Returns the tags and
/// whether the end of the head was seen.
fn parse_go_imports(html: &str) -> (Vec<GoImport>, bool) {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let end = ["<body", "</head"]
        .iter()
        .filter_map(|m| lower.find(m))
        .min();
    let head = &lower[..end.unwrap_or(lower.len())];
    let mut tags = Vec::new();
    let mut from = 0;
    while let Some(i) = head[from..].find("<meta") {
        let start = from + i + "<meta".len();
        let close = head[start..].find('>').map_or(head.len(), |j| start + j);
        let attrs = parse_attrs(&html[start..close]);
        from = close;
        let attr = |name: &str| {
            attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        if !attr("name").is_some_and(|n| n.eq_ignore_ascii_case("go-import")) {
            continue;
        }
        // Go reads 3 fields (4 from Go 1.25, the last a subdirectory) and skips other tags.
        let fields: Vec<&str> = attr("content").unwrap_or("").split_whitespace().collect();
        if let [prefix, vcs, repo, ref rest @ ..] = fields[..] {
            if rest.len() > 1 {
                continue;
            }
            tags.push(GoImport {
                prefix: prefix.into(),
                vcs: vcs.into(),
                repo: repo.into(),
                subdir: rest.first().map(|s| s.to_string()),
            });
        }
    }
    (tags, end.is_some())
}

/// `name="v" name='v' name=v name` → pairs; `&amp;` is the one entity worth decoding in URLs.
fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let skip = |c: char| c.is_whitespace() || c == '/';
    let mut out = Vec::new();
    let mut rest = s.trim_start_matches(skip);
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || skip(c))
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let mut value = "";
        if let Some(after) = rest.strip_prefix('=') {
            (value, rest) = take_value(after.trim_start());
        }
        out.push((name.to_string(), value.replace("&amp;", "&")));
        rest = rest.trim_start_matches(skip);
    }
    out
}

fn take_value(s: &str) -> (&str, &str) {
    match s.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let body = &s[1..];
            match body.find(q) {
                Some(j) => (&body[..j], &body[j + 1..]),
                None => (body, ""),
            }
        }
        _ => {
            let j = s.find(char::is_whitespace).unwrap_or(s.len());
            (&s[..j], &s[j..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_import_tags_are_parsed_like_the_go_command() {
        let resp = |body: &[u8]| Response {
            status: 200,
            body: crate::flow::BodyCapture {
                data: body.to_vec(),
                total: body.len() as u64 + 10,
                truncated: true,
                complete: false,
            },
            ..Response::default()
        };
        let tags = go_imports(&resp(
            b"<HEAD><META content='a.test/x git https://g.test/x?a=1&amp;b=2' NAME=go-import /><meta name=\"go-source\" content=\"a b c d\"></HEAD>",
        ));
        assert_eq!(
            tags,
            Some(vec![GoImport {
                prefix: "a.test/x".into(),
                vcs: "git".into(),
                repo: "https://g.test/x?a=1&b=2".into(),
                subdir: None,
            }])
        );
        let after_body = b"<head></head><body><meta name=go-import content=\"a git b\"></body>";
        assert_eq!(go_imports(&resp(after_body)), Some(vec![]));
        // Cut by the capture cap before the head ended: cannot tell.
        assert_eq!(go_imports(&resp(b"<html><head><title>x")), None);
    }

    #[test]
    fn gzip_pages_are_read_like_plain_ones() {
        use std::io::Write;
        let page = b"<html><head><meta name=\"go-import\" content=\"corp.test/x git https://corp.test/x.git\"></head></html>";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(page).unwrap();
        let data = gz.finish().unwrap();
        let mut resp = crate::flow::Response {
            headers: vec![("content-encoding", "gzip")].into(),
            ..Default::default()
        };
        resp.body.total = data.len() as u64;
        resp.body.data = data;
        let tags = go_imports(&resp).unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].repo, "https://corp.test/x.git");
        resp.headers = vec![("content-encoding", "br")].into();
        assert_eq!(
            go_imports(&resp),
            None,
            "an encoding gomitm cannot read is not judged"
        );
    }
}
