//! Tests for `decode`: round trips through real encoders (flate2, brotli), stacked encodings,
//! truncated and corrupt input, and the decompression-bomb cap.

use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::{Compression, GzBuilder};

use super::*;

pub(in crate::inspect) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub(in crate::inspect) fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub(in crate::inspect) fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub(in crate::inspect) fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn encs(header: &str) -> Vec<String> {
    content_encodings(Some(header))
}

const TEXT: &[u8] =
    b"{\"Version\":\"v0.14.0\",\"Time\":\"2023-10-26T17:01:51Z\"} and some more text \
to make compression worth it, worth it, worth it, worth it.";

#[test]
fn header_lists_encodings_in_applied_order() {
    assert_eq!(encs(" Deflate , gzip"), ["deflate", "gzip"]);
    assert_eq!(encs("identity"), Vec::<String>::new());
    assert!(content_encodings(None).is_empty());
}

#[test]
fn gzip_zlib_raw_deflate_and_brotli_round_trip() {
    for (header, encoded) in [
        ("gzip", gzip(TEXT)),
        ("x-gzip", gzip(TEXT)),
        ("deflate", zlib(TEXT)),
        ("deflate", raw_deflate(TEXT)),
        ("br", brotli(TEXT)),
    ] {
        let d = decode(&encoded, &encs(header), 1 << 20, false);
        assert_eq!(&*d.data, TEXT, "{header}");
        assert_eq!(d.applied, [header], "{header}");
        assert!(d.notes.is_empty() && !d.partial, "{header}: {:?}", d.notes);
    }
}

#[test]
fn stacked_encodings_are_undone_last_first() {
    let both = gzip(&brotli(TEXT));
    let d = decode(&both, &encs("br, gzip"), 1 << 20, false);
    assert_eq!(&*d.data, TEXT);
    assert_eq!(d.applied, ["gzip", "br"]);
    let gz_then_zlib = zlib(&gzip(TEXT));
    let d = decode(&gz_then_zlib, &encs("gzip, deflate"), 1 << 20, false);
    assert_eq!(&*d.data, TEXT);
}

#[test]
fn gzip_with_optional_header_fields_and_several_members() {
    let mut e = GzBuilder::new()
        .filename("go.mod")
        .comment("a comment")
        .extra(vec![1, 2, 3])
        .write(Vec::new(), Compression::fast());
    e.write_all(b"first ").unwrap();
    let mut data = e.finish().unwrap();
    data.extend(gzip(b"second"));
    let d = decode(&data, &encs("gzip"), 1 << 20, false);
    assert_eq!(&*d.data, b"first second");
    assert!(d.notes.is_empty());
}

#[test]
fn a_truncated_capture_decodes_as_far_as_it_goes() {
    let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    for (header, encoded) in [("gzip", gzip(&big)), ("br", brotli(&big))] {
        let cut = &encoded[..encoded.len() / 2];
        let d = decode(cut, &encs(header), 8 << 20, true);
        assert!(d.partial, "{header}");
        assert!(!d.data.is_empty() && d.data.len() < big.len(), "{header}");
        assert!(big[..d.data.len()] == *d.data, "{header}: a correct prefix");
        assert_eq!(d.notes, ["decoded as far as the capture goes"], "{header}");
        let d = decode(cut, &encs(header), 8 << 20, false);
        assert_eq!(
            d.notes,
            [format!("{header} stream ends early: decoded part shown")]
        );
    }
}

#[test]
fn corrupt_data_falls_back_to_the_raw_bytes_with_a_note() {
    let plain = b"{\"already\": \"decoded by the HAR producer\"}";
    let d = decode(plain, &encs("gzip"), 1 << 20, false);
    assert_eq!(&*d.data, plain);
    assert!(d.applied.is_empty());
    assert_eq!(
        d.notes,
        ["not gzip data (reads as plain text): shown as received"]
    );
    for header in ["br", "deflate"] {
        let d = decode(plain, &encs(header), 1 << 20, false);
        assert_eq!(&*d.data, plain);
        assert_eq!(
            d.notes,
            [format!(
                "not {header} data (reads as plain text): shown as received"
            )]
        );
    }
    let d = decode(&[0x80, 0x81, 0x00, 0x01], &encs("gzip"), 1 << 20, false);
    assert_eq!(
        d.notes,
        ["not gzip data (no gzip magic): shown as received"]
    );

    let mut bad_body = gzip(TEXT);
    bad_body[10] ^= 0xff;
    bad_body[11] ^= 0xff;
    let d = decode(&bad_body, &encs("gzip"), 1 << 20, false);
    assert!(
        d.notes.len() == 1 && d.notes[0].contains("gzip"),
        "{:?}",
        d.notes
    );
}

#[test]
fn corruption_in_the_middle_keeps_the_part_before_it() {
    let big: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_be_bytes()).collect();
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(&big).unwrap();
    // A sync flush ends on a byte boundary; 0xff there starts a block of the reserved type 3.
    e.flush().unwrap();
    let mut data = e.get_ref().clone();
    data.extend([0xff, 0xff, 0xff]);
    let d = decode(&data, &encs("deflate"), 8 << 20, false);
    assert!(d.partial);
    assert!(big == *d.data, "everything before the damage is decoded");
    assert_eq!(d.notes.len(), 1);
    assert!(
        d.notes[0].starts_with("deflate data corrupt after 390.6KiB decoded ("),
        "{:?}",
        d.notes
    );
}

#[test]
fn a_decompression_bomb_stops_at_the_cap() {
    let zeros = vec![0u8; 64 << 20];
    let cap = 4 << 20;
    for (header, bomb) in [("gzip", gzip(&zeros)), ("br", brotli(&zeros))] {
        assert!(bomb.len() < 1 << 20, "{header}: the bomb is small");
        let d = decode(&bomb, &encs(header), cap, false);
        assert_eq!(d.data.len(), cap, "{header}");
        assert!(d.partial);
        assert_eq!(d.notes, ["decoded output cut at 4.0MiB"], "{header}");
    }
    let nested = gzip(&gzip(&zeros));
    let d = decode(&nested, &encs("gzip, gzip"), cap, false);
    assert!(d.data.len() <= cap);
}

#[test]
fn unsupported_encodings_leave_the_bytes_alone() {
    let d = decode(b"(zstd frame)", &encs("zstd"), 1 << 20, false);
    assert_eq!(&*d.data, b"(zstd frame)");
    assert_eq!(d.notes, ["zstd encoding not supported: shown as received"]);
}

#[test]
fn inflate_count_measures_without_keeping() {
    let data = raw_deflate(TEXT);
    let run = inflate_count(&data, 1 << 20);
    assert_eq!(run.end, End::Complete);
    assert_eq!(
        (run.produced, run.consumed),
        (TEXT.len() as u64, data.len())
    );
    assert!(run.out.is_empty());
    assert_eq!(inflate_count(&data, 10).end, End::Capped);
}

#[test]
fn garbage_never_panics() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let samples = [gzip(TEXT), zlib(TEXT), brotli(TEXT)];
    for round in 0..300 {
        let mut data = samples[round % 3].clone();
        let flips = next() % 4 + 1;
        for _ in 0..flips {
            let i = (next() as usize) % data.len();
            data[i] = next() as u8;
        }
        data.truncate((next() as usize) % (data.len() + 1));
        for header in ["gzip", "deflate", "br", "br, gzip"] {
            let d = decode(&data, &encs(header), 1 << 16, round % 2 == 0);
            assert!(d.data.len() <= 1 << 16);
        }
    }
}
