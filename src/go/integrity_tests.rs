//! Tests of `integrity` and `integrity_zip`: against hashes the real go command wrote
//! (testdata/README.md), over every chunking, and against zips built here. A child module of
//! `integrity` (`#[path]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::go::integrity_zip::{sorted_h1, Entry, ZipDigest, ZipError, ZipHasher};
use std::io::Write;

const QUOTE_ZIP: &[u8] = include_bytes!("testdata/rsc.io_quote@v1.5.2.zip");
const QUOTE_MOD: &[u8] = include_bytes!("testdata/rsc.io_quote@v1.5.2.mod");
const SAMPLER_ZIP: &[u8] = include_bytes!("testdata/rsc.io_sampler@v1.3.0.zip");
const SAMPLER_MOD: &[u8] = include_bytes!("testdata/rsc.io_sampler@v1.3.0.mod");

/// (zip, module@version/, go's Sum), as `go mod download -json` reported them.
const GO_ZIPS: [(&[u8], &str, &str); 2] = [
    (
        QUOTE_ZIP,
        "rsc.io/quote@v1.5.2/",
        "h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=",
    ),
    (
        SAMPLER_ZIP,
        "rsc.io/sampler@v1.3.0/",
        "h1:7uVkIFmeBqHfdjD+gZwtXXI+RODJ2Wc4O7MPEh/QiW4=",
    ),
];

fn hash_in_chunks(
    data: &[u8],
    prefix: Option<&str>,
    sizes: &mut dyn FnMut() -> usize,
) -> ZipDigest {
    let mut h = ZipHasher::new(prefix.map(str::to_string));
    let mut rest = data;
    while !rest.is_empty() {
        let n = sizes().clamp(1, rest.len());
        h.update(&rest[..n]);
        rest = &rest[n..];
    }
    h.finish()
}

fn hash(data: &[u8], prefix: Option<&str>) -> ZipDigest {
    hash_in_chunks(data, prefix, &mut || usize::MAX)
}

/// A small deterministic generator for chunk sizes (no rand dependency).
fn lcg(seed: u64, max: usize) -> impl FnMut() -> usize {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % max + 1
    }
}

#[test]
fn go_mod_hashes_match_go_sum() {
    assert_eq!(
        mod_hash(QUOTE_MOD),
        "h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0="
    );
    assert_eq!(
        mod_hash(SAMPLER_MOD),
        "h1:T1hPZKmBbMNahiBKFy5HrXp6adAjACjK9JXDnKaTXpA="
    );
    let mut streamed = ModHasher::new();
    for b in SAMPLER_MOD {
        streamed.update(&[*b]);
    }
    assert_eq!(streamed.finish(), mod_hash(SAMPLER_MOD));
}

#[test]
fn module_zips_hash_as_go_does_in_one_chunk() {
    for (zip, prefix, sum) in GO_ZIPS {
        let d = hash(zip, Some(prefix));
        assert_eq!(d.h1.as_deref(), Some(sum), "{prefix}: {:?}", d.not_verified);
        assert_eq!(d.outside_prefix, None);
        assert!(d.files > 3, "{prefix}: {}", d.files);
    }
}

#[test]
fn module_zips_hash_as_go_does_byte_by_byte() {
    for (zip, prefix, sum) in GO_ZIPS {
        let d = hash_in_chunks(zip, Some(prefix), &mut || 1);
        assert_eq!(d.h1.as_deref(), Some(sum), "{prefix}: {:?}", d.not_verified);
    }
}

#[test]
fn module_zips_hash_as_go_does_in_random_chunks() {
    for seed in 0..50 {
        for (zip, prefix, sum) in GO_ZIPS {
            let d = hash_in_chunks(zip, Some(prefix), &mut lcg(seed, 700));
            assert_eq!(
                d.h1.as_deref(),
                Some(sum),
                "seed {seed}: {:?}",
                d.not_verified
            );
        }
    }
}

#[test]
fn every_truncation_is_not_verified() {
    for cut in 0..QUOTE_ZIP.len() {
        let d = hash(&QUOTE_ZIP[..cut], None);
        assert_eq!(d.h1, None, "cut at {cut}");
        assert!(d.not_verified.is_some(), "cut at {cut}");
    }
    let d = hash(&QUOTE_ZIP[..QUOTE_ZIP.len() / 2], None);
    assert!(d.not_verified.unwrap().contains("truncated"));
}

#[test]
fn a_zip_of_another_module_is_noticed() {
    let d = hash(QUOTE_ZIP, Some("rsc.io/quote@v1.5.1/"));
    assert_eq!(
        d.h1.as_deref(),
        Some("h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=")
    );
    assert_eq!(
        d.outside_prefix.as_deref(),
        Some("rsc.io/quote@v1.5.2/LICENSE")
    );
}

#[test]
fn garbage_and_nothing_are_not_verified() {
    let d = hash(b"<html>not a zip</html>", None);
    assert!(d.not_verified.unwrap().contains("signature"));
    assert_eq!(d.files, 0);
    let d = hash(b"", None);
    assert_eq!(
        d.not_verified.as_deref(),
        Some(&*ZipError::Truncated.to_string())
    );
    let mut flipped = QUOTE_ZIP.to_vec();
    flipped[200] ^= 0x55;
    assert!(
        hash(&flipped, None).h1.is_none(),
        "a damaged byte is caught"
    );
}

/// What `dirhash.HashZip` computes, written the plain way (whole zip in memory).
fn reference_h1(zip: &[u8]) -> String {
    let mut archive = ::zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut files: Vec<(String, [u8; 32])> = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        let mut d = [0u8; 32];
        d.copy_from_slice(ring::digest::digest(&SHA256, &data).as_ref());
        files.push((f.name().to_string(), d));
    }
    files.sort();
    h1(files.iter().map(|(n, d)| (n.as_bytes(), d)))
}

fn build_zip(files: &[(&str, &[u8], ::zip::CompressionMethod)]) -> Vec<u8> {
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, method) in files {
        let opts = ::zip::write::SimpleFileOptions::default().compression_method(*method);
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn stored_and_deflated_entries_of_another_writer_match_the_reference() {
    use ::zip::CompressionMethod::{Deflated, Stored};
    let big: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let zip = build_zip(&[
        ("m@v1/z.txt", b"last by name", Stored),
        ("m@v1/a.go", b"package a\n", Deflated),
        ("m@v1/empty", b"", Stored),
        ("m@v1/big.bin", &big, Deflated),
        ("m@v1/big.raw", &big[..70_000], Stored),
    ]);
    let want = reference_h1(&zip);
    for seed in 0..5 {
        let d = hash_in_chunks(&zip, Some("m@v1/"), &mut lcg(seed, 5000));
        assert_eq!(d.h1.as_deref(), Some(want.as_str()), "{:?}", d.not_verified);
        assert_eq!(d.files, 5);
        assert_eq!(d.outside_prefix, None);
    }
}

#[test]
fn a_stored_entry_without_a_size_is_not_verified() {
    let mut zip = build_zip(&[("m@v1/a", b"abc", ::zip::CompressionMethod::Stored)]);
    zip[6] |= 8; // general-purpose bit 3: sizes in a data descriptor after the data
    let d = hash(&zip, None);
    assert!(
        d.not_verified.unwrap().contains("size"),
        "stored + descriptor"
    );
}

#[test]
fn a_file_name_with_a_newline_gets_gos_own_refusal() {
    let zip = build_zip(&[("m@v1/a\nb", b"x", ::zip::CompressionMethod::Stored)]);
    let d = hash(&zip, None);
    assert_eq!(d.not_verified, Some(ZipError::Newline.to_string()));
}

#[test]
fn other_methods_and_encryption_are_not_verified() {
    let base = build_zip(&[("m@v1/a", b"abc", ::zip::CompressionMethod::Stored)]);
    let mut bzip = base.clone();
    bzip[8] = 12;
    assert!(hash(&bzip, None)
        .not_verified
        .unwrap()
        .contains("method 12"));
    let mut locked = base;
    locked[6] |= 1;
    assert!(hash(&locked, None)
        .not_verified
        .unwrap()
        .contains("encrypted"));
}

#[test]
fn duplicate_names_hash_the_last_entry_as_go_does() {
    let mut a = Context::new(&SHA256);
    a.update(b"second");
    let last = digest32(a);
    let entries = vec![
        Entry {
            name: b"x".as_slice().into(),
            digest: [1; 32],
            crc: 0,
            size: 0,
        },
        Entry {
            name: b"x".as_slice().into(),
            digest: last,
            crc: 0,
            size: 0,
        },
    ];
    assert_eq!(
        sorted_h1(entries),
        h1([(b"x".as_slice(), &last), (b"x", &last)])
    );
}

/// Release-build throughput on a ~50 MB zip:
/// `cargo test --release --lib go::integrity::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut seed = 1u64;
    for i in 0..300 {
        let opts = ::zip::write::SimpleFileOptions::default()
            .compression_method(::zip::CompressionMethod::Deflated);
        w.start_file(format!("m@v1/f{i}.bin"), opts).unwrap();
        // Half random (incompressible), half text-like: module zips are mostly source.
        let mut data = Vec::with_capacity(260_000);
        for _ in 0..32_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            data.extend_from_slice(&seed.to_le_bytes()[..4]);
        }
        for j in 0..10_000 {
            data.extend_from_slice(format!("line {j} of file {i}\n").as_bytes());
        }
        w.write_all(&data).unwrap();
    }
    let zip = w.finish().unwrap().into_inner();
    let start = std::time::Instant::now();
    let d = hash_in_chunks(&zip, None, &mut || 16 * 1024);
    let secs = start.elapsed().as_secs_f64();
    assert!(d.h1.is_some(), "{:?}", d.not_verified);
    println!(
        "ZipHasher: {:.1} MB zip in {secs:.3} s = {:.0} MB/s",
        zip.len() as f64 / 1e6,
        zip.len() as f64 / 1e6 / secs
    );
}
