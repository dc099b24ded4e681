//! Git smart HTTP bodies (`application/x-git-*`) as their pkt-lines: the 4-hex-digit length and
//! the payload made printable, flush/delim/response-end packets named, side-band channels
//! told apart, pack data summarised instead of dumped.
//!
//! Parsing only; git's protocol semantics (what a `want` means) are not interpreted here.

use super::text::sanitize;

/// The pkt-line display of `data`, at most `max_lines` lines, and how many packets it has;
/// `None` when `data` does not start with a pkt-line (then it is shown some other way).
pub(super) fn pkt_lines(data: &[u8], max_lines: usize) -> Option<(Vec<String>, usize)> {
    let mut lines = Vec::new();
    let mut packets = 0;
    let mut pos = 0;
    while pos < data.len() {
        let Some(len) = data.get(pos..pos + 4).and_then(parse_len) else {
            break;
        };
        let line = match len {
            0 => "0000 (flush)".to_string(),
            1 => "0001 (delim)".to_string(),
            2 => "0002 (response end)".to_string(),
            3 => break,
            n => {
                let payload = data.get(pos + 4..(pos + n).min(data.len())).unwrap_or(&[]);
                let cut = pos + n > data.len();
                let mut text = format!("{n:04x} {}", describe(payload));
                if cut {
                    text.push_str(" …(cut by the capture)");
                }
                text
            }
        };
        packets += 1;
        if lines.len() < max_lines {
            lines.push(line);
        }
        pos += len.max(4);
    }
    if packets == 0 {
        return None;
    }
    if let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
        let what = if rest.starts_with(b"PACK") {
            "pack data"
        } else {
            "bytes that are not pkt-lines"
        };
        if lines.len() < max_lines {
            lines.push(format!(
                "[{} {what}]",
                crate::units::format_bytes(rest.len() as u64)
            ));
        }
    }
    Some((lines, packets))
}

/// Four lower- or upper-case hex digits.
fn parse_len(digits: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(digits).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    usize::from_str_radix(text, 16).ok()
}

/// Side-band 1 is pack data (shown by size), 2 progress, 3 an error; anything else is text.
fn describe(payload: &[u8]) -> String {
    match payload.split_first() {
        Some((1, rest)) => format!("[band 1: {} of pack data]", plural_bytes(rest.len())),
        Some((2, rest)) => format!("[band 2: progress] {}", printable(rest)),
        Some((3, rest)) => format!("[band 3: error] {}", printable(rest)),
        _ => printable(payload),
    }
}

fn plural_bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// The payload as one display line; its own trailing newline is dropped, other line ends show.
fn printable(payload: &[u8]) -> String {
    let trimmed = payload.strip_suffix(b"\n").unwrap_or(payload);
    sanitize(&String::from_utf8_lossy(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ref_advertisement_is_listed_packet_by_packet() {
        let body = b"001e# service=git-upload-pack\n0000\
005595dcfa3633004da0049d3d0fa03f80589cbcaf31 refs/heads/main\0multi_ack side-band-64k\n0000";
        let (lines, packets) = pkt_lines(body, 100).unwrap();
        assert_eq!(packets, 4);
        assert_eq!(
            lines,
            [
                "001e # service=git-upload-pack",
                "0000 (flush)",
                "0055 95dcfa3633004da0049d3d0fa03f80589cbcaf31 refs/heads/main␀multi_ack side-band-64k",
                "0000 (flush)",
            ]
        );
    }

    #[test]
    fn side_band_pack_progress_and_trailing_pack_are_summarised() {
        let mut body = b"0008NAK\n".to_vec();
        body.extend_from_slice(b"000a\x01PACK\x00");
        body.extend_from_slice(b"0016\x02Counting objects\r");
        body.extend_from_slice(b"000f\x03bad thing\n");
        body.extend_from_slice(b"00010002");
        body.extend_from_slice(b"PACK\x00\x00\x00\x02rest");
        let (lines, packets) = pkt_lines(&body, 100).unwrap();
        assert_eq!(packets, 6);
        assert_eq!(
            lines,
            [
                "0008 NAK",
                "000a [band 1: 5 bytes of pack data]",
                "0016 [band 2: progress] Counting objects␍",
                "000f [band 3: error] bad thing",
                "0001 (delim)",
                "0002 (response end)",
                "[12B pack data]",
            ]
        );
    }

    #[test]
    fn a_cut_packet_says_so_and_non_pkt_data_is_refused() {
        let (lines, _) = pkt_lines(b"0032want 95dcfa36", 10).unwrap();
        assert_eq!(lines, ["0032 want 95dcfa36 …(cut by the capture)"]);
        assert!(pkt_lines(b"PACK\x00\x00\x00\x02", 10).is_none());
        assert!(pkt_lines(b"{\"a\":1}", 10).is_none());
        assert!(pkt_lines(b"0003", 10).is_none());
    }

    #[test]
    fn lines_are_capped_but_packets_counted() {
        let body = b"0000".repeat(50);
        let (lines, packets) = pkt_lines(&body, 3).unwrap();
        assert_eq!((lines.len(), packets), (3, 50));
    }
}
