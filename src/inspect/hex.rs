//! Binary bodies as a `hexdump -C` listing: offset, 16 bytes in two groups of 8, ASCII column.
//!
//! Pure formatting of bytes the caller already chose; how much to show is the caller's
//! decision. Repeated lines are not folded into `*` (a display can scroll; offsets stay
//! obvious).

/// The `hexdump -C` lines for `data`, starting at offset 0. When `whole` is true the final
/// line is the total length, as `hexdump` prints it.
pub(super) fn hex_lines(data: &[u8], whole: bool) -> Vec<String> {
    let mut lines: Vec<String> = data
        .chunks(16)
        .enumerate()
        .map(|(i, chunk)| hex_line(i * 16, chunk))
        .collect();
    if whole && !data.is_empty() {
        lines.push(format!("{:08x}", data.len()));
    }
    lines
}

fn hex_line(offset: usize, chunk: &[u8]) -> String {
    let mut line = format!("{offset:08x} ");
    for i in 0..16 {
        if i % 8 == 0 {
            line.push(' ');
        }
        match chunk.get(i) {
            Some(b) => line.push_str(&format!("{b:02x} ")),
            None => line.push_str("   "),
        }
    }
    line.push_str(" |");
    line.extend(chunk.iter().map(|&b| {
        if b.is_ascii_graphic() || b == b' ' {
            char::from(b)
        } else {
            '.'
        }
    }));
    line.push('|');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected text taken from `hexdump -C` (util-linux) on the same bytes.
    #[test]
    fn matches_hexdump_c_layout() {
        let got = hex_lines(b"hello world, this is a hexdump test!\n", true);
        assert_eq!(
            got,
            [
                "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  |hello world, thi|",
                "00000010  73 20 69 73 20 61 20 68  65 78 64 75 6d 70 20 74  |s is a hexdump t|",
                "00000020  65 73 74 21 0a                                    |est!.|",
                "00000025",
            ]
        );
        assert_eq!(
            hex_lines(b"abc", true),
            [
                "00000000  61 62 63                                          |abc|",
                "00000003"
            ]
        );
    }

    #[test]
    fn non_printable_bytes_become_dots_and_partial_dumps_have_no_length_line() {
        let got = hex_lines(&[0x00, 0x1b, 0x7f, 0xff, b'~', b' '], false);
        assert_eq!(
            got,
            ["00000000  00 1b 7f ff 7e 20                                 |....~ |"]
        );
        assert!(hex_lines(&[], true).is_empty());
    }
}
