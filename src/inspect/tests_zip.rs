//! Tests for `zip`: module zips made with the `zip` crate as the module proxy serves them, Go
//! archive/zip-style archives (data descriptors) built by hand, truncated captures, Zip64, and
//! hostile structures that must end in a note.

use std::io::{Cursor, Write};

use ::zip::write::SimpleFileOptions;
use ::zip::{CompressionMethod, ZipWriter};

use super::*;
use crate::inspect::decode::tests::raw_deflate;

pub(in crate::inspect) const GO_MOD: &[u8] =
    b"module example.com/m\n\ngo 1.21\n\nrequire golang.org/x/mod v0.14.0\n";
const M_GO: &[u8] =
    b"package m\n\n// Hello says hello.\nfunc Hello() string { return \"hello\" }\n";

/// A module zip as proxy.golang.org serves it: every file under `<module>@<version>/`, deflated.
pub(in crate::inspect) fn module_zip(options: SimpleFileOptions) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let files: [(&str, &[u8]); 4] = [
        (
            "example.com/m@v1.0.0/LICENSE",
            b"MIT License\n\nCopyright (c) 2024\n",
        ),
        ("example.com/m@v1.0.0/go.mod", GO_MOD),
        ("example.com/m@v1.0.0/m.go", M_GO),
        ("example.com/m@v1.0.0/internal/x/x.go", b"package x\n"),
    ];
    for (name, data) in files {
        w.start_file(name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub(in crate::inspect) fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

/// Go's archive/zip layout: flag bit 3, zero sizes in the local header, a data descriptor with
/// signature after each file's data. `zip64`: the central directory says 0xffffffff and the
/// sizes are in a Zip64 extra field, and the end records are the Zip64 ones.
fn go_style_zip(files: &[(&str, &[u8])], zip64: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let offset = out.len() as u32;
        let packed = raw_deflate(data);
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend([20, 0, 8, 0, 8, 0, 0, 0, 0, 0]); // version, flags, method, time, date
        out.extend([0u8; 12]); // crc, sizes: in the descriptor
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name.as_bytes());
        out.extend(&packed);
        out.extend(0x0807_4b50u32.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((packed.len() as u32).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());

        let mut extra = Vec::new();
        let (csize, usize_) = if zip64 {
            extra.extend(1u16.to_le_bytes());
            extra.extend(16u16.to_le_bytes());
            extra.extend((data.len() as u64).to_le_bytes());
            extra.extend((packed.len() as u64).to_le_bytes());
            (u32::MAX, u32::MAX)
        } else {
            (packed.len() as u32, data.len() as u32)
        };
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend([20, 0, 20, 0, 8, 0, 8, 0, 0, 0, 0, 0]);
        central.extend(0u32.to_le_bytes());
        central.extend(csize.to_le_bytes());
        central.extend(usize_.to_le_bytes());
        central.extend((name.len() as u16).to_le_bytes());
        central.extend((extra.len() as u16).to_le_bytes());
        central.extend([0u8; 8]); // comment length, disk, internal and external attributes
        central.extend([0u8; 2]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
        central.extend(extra);
    }
    let cd_offset = out.len();
    out.extend(&central);
    let count = files.len() as u16;
    if zip64 {
        let record = out.len();
        out.extend(0x0606_4b50u32.to_le_bytes());
        out.extend(44u64.to_le_bytes());
        out.extend([45, 0, 45, 0]);
        out.extend([0u8; 8]);
        out.extend(u64::from(count).to_le_bytes());
        out.extend(u64::from(count).to_le_bytes());
        out.extend((central.len() as u64).to_le_bytes());
        out.extend((cd_offset as u64).to_le_bytes());
        out.extend(0x0706_4b50u32.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((record as u64).to_le_bytes());
        out.extend(1u32.to_le_bytes());
    }
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    let (n, size, off) = if zip64 {
        (0xffff, u32::MAX, u32::MAX)
    } else {
        (count, central.len() as u32, cd_offset as u32)
    };
    out.extend(n.to_le_bytes());
    out.extend(n.to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend(off.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

const FILES: [(&str, &[u8]); 3] = [
    (
        "golang.org/x/mod@v0.14.0/LICENSE",
        b"Copyright 2009 The Go Authors.\n",
    ),
    (
        "golang.org/x/mod@v0.14.0/go.mod",
        b"module golang.org/x/mod\n\ngo 1.18\n",
    ),
    ("golang.org/x/mod@v0.14.0/zip/zip.go", b"package zip\n"),
];

fn names(listing: &Listing) -> Vec<&str> {
    listing.entries.iter().map(|e| e.name.as_str()).collect()
}

#[test]
fn a_module_zip_lists_from_its_central_directory() {
    let data = module_zip(deflated());
    let listing = list(&data).unwrap();
    assert!(listing.from_central);
    assert_eq!(listing.declared, Some(4));
    assert!(listing.notes.is_empty(), "{:?}", listing.notes);
    assert_eq!(
        names(&listing),
        [
            "example.com/m@v1.0.0/LICENSE",
            "example.com/m@v1.0.0/go.mod",
            "example.com/m@v1.0.0/m.go",
            "example.com/m@v1.0.0/internal/x/x.go"
        ]
    );
    let go = &listing.entries[1];
    assert_eq!(
        (go.size, go.method, go.cut),
        (Some(GO_MOD.len() as u64), 8, false)
    );
    let m = go_mod(&data, &listing).unwrap();
    assert_eq!(m.name, "example.com/m@v1.0.0/go.mod");
    assert_eq!(m.text, GO_MOD);
    assert_eq!(m.note, None);
}

#[test]
fn stored_and_zip64_entries_from_the_zip_crate() {
    let stored =
        module_zip(SimpleFileOptions::default().compression_method(CompressionMethod::Stored));
    let listing = list(&stored).unwrap();
    assert_eq!(listing.entries[1].method, 0);
    assert_eq!(go_mod(&stored, &listing).unwrap().text, GO_MOD);

    let wide = module_zip(deflated().large_file(true));
    let listing = list(&wide).unwrap();
    assert_eq!(listing.entries.len(), 4);
    assert_eq!(listing.entries[2].size, Some(M_GO.len() as u64));
    assert_eq!(go_mod(&wide, &listing).unwrap().text, GO_MOD);
}

#[test]
fn go_archive_zip_layout_with_data_descriptors() {
    for zip64 in [false, true] {
        let data = go_style_zip(&FILES, zip64);
        let listing = list(&data).unwrap();
        assert!(listing.from_central, "zip64={zip64}");
        assert_eq!(names(&listing), FILES.map(|f| f.0), "zip64={zip64}");
        assert_eq!(listing.entries[0].size, Some(FILES[0].1.len() as u64));
        let m = go_mod(&data, &listing).unwrap();
        assert_eq!(m.text, FILES[1].1, "zip64={zip64}");
    }
}

#[test]
fn without_the_central_directory_the_local_headers_are_walked() {
    let data = go_style_zip(&FILES, false);
    let central = data.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let listing = list(&data[..central + 10]).unwrap();
    assert!(!listing.from_central);
    assert_eq!(names(&listing), FILES.map(|f| f.0));
    assert_eq!(listing.entries[1].size, Some(FILES[1].1.len() as u64));
    assert!(
        listing.notes[0].contains("may be incomplete"),
        "{:?}",
        listing.notes
    );
    assert_eq!(go_mod(&data, &listing).unwrap().text, FILES[1].1);

    let from_crate = module_zip(deflated());
    let central = from_crate
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .unwrap();
    let listing = list(&from_crate[..central]).unwrap();
    assert_eq!(listing.entries.len(), 4);
    assert_eq!(
        go_mod(&from_crate[..central], &listing).unwrap().text,
        GO_MOD
    );
}

#[test]
fn a_capture_cut_inside_an_entry_marks_it_cut() {
    let data = go_style_zip(&FILES, false);
    let second = data
        .windows(4)
        .skip(1)
        .position(|w| w == b"PK\x03\x04")
        .unwrap()
        + 1;
    let cut = &data[..second + 30 + FILES[1].0.len() + 3];
    let listing = list(cut).unwrap();
    assert_eq!(
        names(&listing),
        FILES[..2].iter().map(|f| f.0).collect::<Vec<_>>()
    );
    assert!(listing.entries[1].cut);
    assert_eq!(listing.entries[1].size, None);
    let m = go_mod(cut, &listing).unwrap();
    assert_eq!(m.note.as_deref(), Some("cut by the capture"));
}

#[test]
fn only_the_module_root_go_mod_is_the_go_mod() {
    assert!(is_module_go_mod("golang.org/x/mod@v0.14.0/go.mod"));
    assert!(is_module_go_mod("m@v1.0.0/go.mod"));
    assert!(!is_module_go_mod("example.com/m@v1.0.0/sub/go.mod"));
    assert!(!is_module_go_mod("go.mod"));
    assert!(!is_module_go_mod("example.com/m@v1.0.0/go.mod.bak"));
}

#[test]
fn not_a_zip_is_none_and_hostile_structures_end_in_notes() {
    assert!(list(b"not found: example.com/m@v9.9.9: invalid version").is_none());
    assert!(list(b"").is_none());
    assert!(list(b"PK\x03\x04").unwrap().entries.is_empty());

    // An end record that claims 65535 entries in a directory that has one.
    let mut data = module_zip(deflated());
    let eocd = data.len() - 22;
    data[eocd + 8..eocd + 12].copy_from_slice(&[0xfe, 0xff, 0xfe, 0xff]);
    let listing = list(&data).unwrap();
    assert_eq!(listing.entries.len(), 4);
    assert!(
        listing.notes[0].contains("ends after 4 of 65534"),
        "{:?}",
        listing.notes
    );

    // Offsets pointing outside the data.
    let mut data = module_zip(deflated());
    let eocd = data.len() - 22;
    data[eocd + 16..eocd + 20].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(list(&data).is_some());
}

#[test]
fn stored_entries_with_descriptors_stop_the_walk_with_a_note() {
    let mut data = go_style_zip(&FILES, false);
    data[8] = 0; // method: store, but the sizes are only after the data
    let central = data.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let listing = list(&data[..central]).unwrap();
    assert_eq!(listing.entries.len(), 1);
    assert!(
        listing
            .notes
            .iter()
            .any(|n| n.contains("cannot find where")),
        "{:?}",
        listing.notes
    );
}

#[test]
fn mutated_archives_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let samples = [
        module_zip(deflated()),
        go_style_zip(&FILES, true),
        go_style_zip(&FILES, false),
    ];
    for round in 0..400 {
        let mut data = samples[round % samples.len()].clone();
        for _ in 0..(next() % 6 + 1) {
            let i = (next() as usize) % data.len();
            data[i] = next() as u8;
        }
        if round % 3 == 0 {
            data.truncate((next() as usize) % (data.len() + 1));
        }
        if let Some(listing) = list(&data) {
            assert!(listing.entries.len() <= MAX_ENTRIES);
            let _ = go_mod(&data, &listing);
        }
    }
}
