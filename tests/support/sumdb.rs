//! A real, signed Go checksum database (the protocol of `sum.golang.org`), small enough to
//! build in memory for the tests' fixture.
//!
//! It follows golang.org/x/mod: `sumdb/dirhash` (the `h1:` hashes), `sumdb/tlog` (record and
//! node hashes, the tree hash, tiles of height 8 and their paths), `sumdb/note` (verifier keys
//! and Ed25519-signed notes) and `sumdb/server.go` (the `/lookup/`, `/tile/` and `/latest`
//! endpoints). Like the fixture, it depends only on external crates, never on `gomitm`.
#![allow(dead_code)]
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Read as _;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::digest::{digest, Context, SHA256};
use ring::signature::{Ed25519KeyPair, KeyPair as _};

/// Height of every tile the database serves (the go command asks for height 8).
pub const TILE_HEIGHT: u32 = 8;

type Hash = [u8; 32];

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    for p in parts {
        ctx.update(p);
    }
    ctx.finish().as_ref().try_into().expect("32-byte digest")
}

/// dirhash `Hash1`: for each file in sorted order the line `<sha256 hex>  <name>\n`, then
/// `h1:` + base64(sha256(all lines)).
pub fn hash1(files: &[(String, Vec<u8>)]) -> String {
    let mut sorted: Vec<&(String, Vec<u8>)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut summary = String::new();
    for (name, data) in sorted {
        assert!(!name.contains('\n'), "dirhash: file name with a newline");
        let hex: String = digest(&SHA256, data)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        summary.push_str(&format!("{hex}  {name}\n"));
    }
    format!("h1:{}", B64.encode(sha256(&[summary.as_bytes()])))
}

/// dirhash `HashZip(zip, Hash1)`: `Hash1` over every entry of the zip, named as in the zip
/// (`<module>@<version>/<file>`).
pub fn h1_zip(zip: &[u8]) -> String {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("h1_zip: not a zip file");
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("h1_zip: zip entry");
        let mut data = Vec::new();
        f.read_to_end(&mut data).expect("h1_zip: read zip entry");
        files.push((f.name().to_string(), data));
    }
    hash1(&files)
}

/// The `/go.mod` hash of a go.sum line: `Hash1` over the single file `go.mod`.
pub fn h1_mod(go_mod: &[u8]) -> String {
    hash1(&[("go.mod".to_string(), go_mod.to_vec())])
}

/// One module version in the database, with whatever hashes the caller wants it to vouch for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Module path, unescaped (`example.test/Upper`).
    pub module: String,
    pub version: String,
    /// `h1:` hash of the module zip.
    pub zip_h1: String,
    /// `h1:` hash of the go.mod file.
    pub mod_h1: String,
}

impl Record {
    pub fn new(module: &str, version: &str, zip_h1: &str, mod_h1: &str) -> Record {
        Record {
            module: module.to_string(),
            version: version.to_string(),
            zip_h1: zip_h1.to_string(),
            mod_h1: mod_h1.to_string(),
        }
    }

    /// The record text: the two go.sum lines.
    pub fn text(&self) -> String {
        let Record {
            module: m,
            version: v,
            zip_h1,
            mod_h1,
        } = self;
        format!("{m} {v} {zip_h1}\n{m} {v}/go.mod {mod_h1}\n")
    }
}

/// tlog `RecordHash`: SHA-256(0x00 || data).
pub fn record_hash(data: &[u8]) -> Hash {
    sha256(&[&[0x00], data])
}

/// tlog `NodeHash`: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[0x01], left, right])
}

/// A tile as in tlog: height `h`, level `l` (-1 for record data), index `n`, width `w`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    pub h: u32,
    pub l: i64,
    pub n: u64,
    pub w: u64,
}

impl Tile {
    /// tlog `Tile.Path`: `tile/H/L/[xNNN/...]NNN[.p/W]`.
    pub fn path(&self) -> String {
        let mut n = self.n;
        let mut n_str = format!("{:03}", n % 1000);
        while n >= 1000 {
            n /= 1000;
            n_str = format!("x{:03}/{n_str}", n % 1000);
        }
        let p = if self.w != 1 << self.h {
            format!(".p/{}", self.w)
        } else {
            String::new()
        };
        let l = if self.l == -1 {
            "data".to_string()
        } else {
            self.l.to_string()
        };
        format!("tile/{}/{l}/{n_str}{p}", self.h)
    }

    /// tlog `ParseTilePath` (without the leading `/`), including its round-trip check.
    pub fn parse(path: &str) -> Option<Tile> {
        let mut f: Vec<&str> = path.split('/').collect();
        if f.len() < 4 || f[0] != "tile" {
            return None;
        }
        let h: u32 = f[1].parse().ok().filter(|h| (1..=30).contains(h))?;
        let is_data = f[2] == "data";
        let l: i64 = if is_data {
            -1
        } else {
            f[2].parse().ok().filter(|l| *l >= 0)?
        };
        let mut w: u64 = 1 << h;
        let dot_p = f[f.len() - 2];
        let trimmed;
        if let Some(prefix) = dot_p.strip_suffix(".p") {
            let ww: u64 = f[f.len() - 1].parse().ok()?;
            if ww == 0 || ww >= w {
                return None;
            }
            w = ww;
            trimmed = prefix.to_string();
            let len = f.len();
            f[len - 2] = &trimmed;
            f.truncate(len - 1);
        }
        let mut n: u64 = 0;
        for s in &f[3..] {
            let nn: u64 = s.strip_prefix('x').unwrap_or(s).parse().ok()?;
            // (A `+5` parses, as with Go's Atoi; the round trip below rejects it.)
            if nn >= 1000 {
                return None;
            }
            n = n.checked_mul(1000)?.checked_add(nn)?;
        }
        let t = Tile { h, l, n, w };
        (t.path() == path).then_some(t)
    }
}

/// A signed Go checksum database over a fixed list of records (IDs 0, 1, ... in order).
pub struct SumDb {
    name: String,
    key: Ed25519KeyPair,
    key_hash: u32,
    records: Vec<Record>,
    /// `levels[l][i]`: the hash of the complete subtree of 2^l records starting at i * 2^l.
    levels: Vec<Vec<Hash>>,
    /// The signed tree head (`/latest`).
    signed: Vec<u8>,
}

impl SumDb {
    /// A database named `name` (the GOSUMDB key name) whose Ed25519 key is derived from the
    /// name, so the same name always yields the same verifier key.
    pub fn new(name: &str, records: Vec<Record>) -> SumDb {
        let seed = sha256(&[b"gomitm fixture checksum database key\n", name.as_bytes()]);
        SumDb::new_with_records(name, seed, records)
    }

    /// A database with the Ed25519 private key `seed`, vouching for exactly `records` (whatever
    /// their hashes: pass wrong ones for a lying database).
    pub fn new_with_records(name: &str, seed: [u8; 32], records: Vec<Record>) -> SumDb {
        assert!(
            !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace),
            "invalid note name {name:?}"
        );
        let key = Ed25519KeyPair::from_seed_unchecked(&seed).expect("Ed25519 seed");
        let mut alg_key = vec![0x01];
        alg_key.extend_from_slice(key.public_key().as_ref());
        let kh = sha256(&[name.as_bytes(), b"\n", &alg_key]);
        let key_hash = u32::from_be_bytes([kh[0], kh[1], kh[2], kh[3]]);
        let mut levels = vec![records
            .iter()
            .map(|r| record_hash(r.text().as_bytes()))
            .collect::<Vec<Hash>>()];
        while levels.last().expect("level 0").len() >= 2 {
            let next: Vec<Hash> = levels
                .last()
                .expect("a level")
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        let mut db = SumDb {
            name: name.to_string(),
            key,
            key_hash,
            records,
            levels,
            signed: Vec::new(),
        };
        let tree = format!(
            "go.sum database tree\n{}\n{}\n",
            db.size(),
            B64.encode(db.tree_hash())
        );
        db.signed = db.sign_note(&tree).into_bytes();
        db
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Number of records (the tree size).
    pub fn size(&self) -> u64 {
        self.records.len() as u64
    }

    /// The note verifier key: `<name>+<key hash, 8 hex digits>+<base64(0x01 || public key)>`,
    /// the GOSUMDB value without a URL.
    pub fn verifier_key(&self) -> String {
        let mut alg_key = vec![0x01];
        alg_key.extend_from_slice(self.key.public_key().as_ref());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_hash,
            B64.encode(alg_key)
        )
    }

    /// note `Sign` with this database's key: `text` (ending in a newline), a blank line, and
    /// `— <name> <base64(key hash || signature)>`.
    pub fn sign_note(&self, text: &str) -> String {
        assert!(text.ends_with('\n'), "a note's text ends with a newline");
        let sig = self.key.sign(text.as_bytes());
        let mut raw = self.key_hash.to_be_bytes().to_vec();
        raw.extend_from_slice(sig.as_ref());
        format!("{text}\n\u{2014} {} {}\n", self.name, B64.encode(raw))
    }

    /// The signed tree head served at `/latest`.
    pub fn signed_tree(&self) -> &[u8] {
        &self.signed
    }

    /// tlog `TreeHash` of the whole tree: the complete subtrees left to right, folded from
    /// the right with `node_hash` (RFC 6962's Merkle tree hash).
    pub fn tree_hash(&self) -> Hash {
        let n = self.size();
        if n == 0 {
            return sha256(&[]);
        }
        let mut parts = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if n & (1 << level) != 0 {
                parts.push(self.levels[level as usize][(start >> level) as usize]);
                start += 1 << level;
            }
        }
        let mut h = parts.pop().expect("n > 0");
        while let Some(left) = parts.pop() {
            h = node_hash(&left, &h);
        }
        h
    }

    /// ID of `module@version`, if recorded.
    pub fn lookup(&self, module: &str, version: &str) -> Option<u64> {
        self.records
            .iter()
            .position(|r| r.module == module && r.version == version)
            .map(|i| i as u64)
    }

    /// The tile's bytes, if the tree is big enough to have all of it.
    pub fn tile(&self, t: &Tile) -> Option<Vec<u8>> {
        let start = t.n.checked_mul(1 << t.h)?;
        let end = start.checked_add(t.w)?;
        if t.l == -1 {
            let records = self.records.get(start as usize..end as usize)?;
            // Data tiles hold formatted records without their ID line.
            return Some(
                records
                    .iter()
                    .flat_map(|r| format!("{}\n", r.text()).into_bytes())
                    .collect(),
            );
        }
        let level = usize::try_from(t.l).ok()?.checked_mul(t.h as usize)?;
        let hashes = self.levels.get(level)?.get(start as usize..end as usize)?;
        Some(hashes.concat())
    }

    /// Answers a request for `path` (relative to the database's base URL) like
    /// golang.org/x/mod/sumdb's server: `(status, content type, body)`, or `None` when the path
    /// is not a checksum-database endpoint at all.
    pub fn respond(&self, path: &str) -> Option<(u16, &'static str, Vec<u8>)> {
        const TEXT: &str = "text/plain; charset=UTF-8";
        if let Some(what) = path.strip_prefix("/lookup/") {
            let decoded = percent_decode(what).unwrap_or_else(|| what.to_string());
            let Some((m, v)) = decoded.rsplit_once('@') else {
                return Some((400, TEXT, b"invalid module@version syntax\n".to_vec()));
            };
            let (Some(module), Some(version)) = (unescape_case(m), unescape_case(v)) else {
                return Some((400, TEXT, b"invalid escaped module path\n".to_vec()));
            };
            let Some(id) = self.lookup(&module, &version) else {
                let msg = format!("not found: {module}@{version}\n");
                return Some((404, TEXT, msg.into_bytes()));
            };
            let mut body = format!("{id}\n{}\n", self.records[id as usize].text()).into_bytes();
            body.extend_from_slice(&self.signed);
            return Some((200, TEXT, body));
        }
        if path == "/latest" {
            return Some((200, TEXT, self.signed.clone()));
        }
        if let Some(rest) = path.strip_prefix('/').filter(|p| p.starts_with("tile/")) {
            let Some(t) = Tile::parse(rest) else {
                return Some((400, TEXT, b"invalid tile syntax\n".to_vec()));
            };
            return Some(match self.tile(&t) {
                Some(data) if t.l == -1 => (200, TEXT, data),
                Some(data) => (200, "application/octet-stream", data),
                None => (404, TEXT, format!("not found: {rest}\n").into_bytes()),
            });
        }
        None
    }
}

/// Go's case encoding of module paths and versions: `!x` stands for `X`.
fn unescape_case(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '!' {
            out.push(
                chars
                    .next()
                    .filter(char::is_ascii_lowercase)?
                    .to_ascii_uppercase(),
            );
        } else if c.is_ascii_uppercase() {
            return None;
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Decodes `%XX` escapes; `None` for a bad escape or bytes that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
