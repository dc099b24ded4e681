//! The CI smoke run of the fuzz targets, without cargo-fuzz or a nightly toolchain: every
//! committed seed and regression input, then a few thousand deterministic mutations of them
//! per target, through the very functions the cargo-fuzz binaries call (`fuzz/targets.rs`).
//! Real coverage-guided fuzzing is `cargo fuzz run` (docs/FUZZING.md); this keeps the
//! targets compiling and their known inputs passing on every CI run, in seconds.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../fuzz/targets.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Mutated inputs per target.
const MUTATIONS: usize = 20_000;
/// Bound on each target's mutation loop, whatever the machine.
const TIME_BUDGET: Duration = Duration::from_secs(20);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Seeds (`corpus/T/seed-*`) and found crashes (`regressions/T/*`), sorted by path.
fn committed_inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let seeds = fuzz_dir().join("corpus").join(target);
    let regressions = fuzz_dir().join("regressions").join(target);
    for (dir, only_seeds) in [(seeds, true), (regressions, false)] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.map_while(Result::ok).map(|e| e.path()) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // libFuzzer adds its finds to corpus/T/ on a developer's machine; not those.
            if path.is_file() && (!only_seeds || name.starts_with("seed-")) {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Dictionary tokens (`dict/T.dict`, libFuzzer's `"token"` lines with `\xNN` escapes).
fn dictionary(target: &str) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(fuzz_dir().join("dict").join(format!("{target}.dict")))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix('"').map(unescape))
        .collect()
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (b'\\', Some(b'x')) if i + 3 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 4;
            }
            (b'\\', Some(&c)) => {
                out.push(c);
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// xorshift64*: deterministic, so a failure here reproduces on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One libFuzzer-style mutation: flip, insert, delete, duplicate, splice or insert a token.
fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>], dict: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.next() as u8),
            2 if !out.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if !dict.is_empty() => {
                let token = &dict[rng.below(dict.len())];
                out.splice(at..at, token.iter().copied());
            }
            4 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            5 if !out.is_empty() => {
                let i = rng.below(out.len());
                let end = (i + 1 + rng.below(16)).min(out.len());
                let chunk = out[i..end].to_vec();
                out.splice(at..at, chunk);
            }
            _ => out.insert(at, b"\"\\()&|!~:=<>*%@?#/\n "[rng.below(20)]),
        }
    }
    out
}

fn run_one(name: &str, f: fn(&[u8]), input: &[u8], origin: &str) {
    if catch_unwind(AssertUnwindSafe(|| f(input))).is_err() {
        let keep = std::env::temp_dir().join(format!("gomitm-fuzz-{name}-failure"));
        let _ = std::fs::write(&keep, input);
        panic!(
            "fuzz target {name} failed on {origin}: {:?} (bytes saved to {}; reproduce with \
             cargo fuzz run {name} {})",
            String::from_utf8_lossy(input),
            keep.display(),
            keep.display()
        );
    }
}

#[test]
fn committed_seeds_and_regressions_pass_every_target() {
    for (name, f) in targets::TARGETS {
        let inputs = committed_inputs(name);
        assert!(
            inputs.len() >= 2,
            "{name}: expected seed files in fuzz/corpus/{name}/"
        );
        for (path, data) in &inputs {
            run_one(name, f, data, &path.display().to_string());
        }
    }
}

#[test]
fn thousands_of_mutated_inputs_pass_every_target() {
    let mut total = 0;
    for (i, (name, f)) in targets::TARGETS.into_iter().enumerate() {
        let seeds: Vec<Vec<u8>> = committed_inputs(name).into_iter().map(|(_, d)| d).collect();
        let dict = dictionary(name);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
        let started = Instant::now();
        let mut current = seeds.first().cloned().unwrap_or_default();
        let mut done = 0;
        while done < MUTATIONS && started.elapsed() < TIME_BUDGET {
            // Walk away from a seed for a while, then start again from another one.
            if done % 16 == 0 && !seeds.is_empty() {
                current = seeds[rng.below(seeds.len())].clone();
            }
            current = mutate(&mut rng, &current, &seeds, &dict);
            current.truncate(8 * 1024);
            run_one(name, f, &current, &format!("mutation {done}"));
            done += 1;
        }
        assert!(
            done >= 500,
            "{name}: only {done} inputs within {TIME_BUDGET:?}"
        );
        total += done;
    }
    eprintln!("fuzz smoke: {total} mutated inputs");
}

#[test]
fn the_mutator_is_deterministic_and_changes_inputs() {
    let seeds = vec![b"host:a".to_vec()];
    let run = || {
        let mut rng = Rng(42);
        (0..50)
            .map(|_| {
                mutate(
                    &mut rng,
                    b"host:a & status:404",
                    &seeds,
                    &[b"url:".to_vec()],
                )
            })
            .collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    assert!(
        a.iter()
            .filter(|m| m.as_slice() != b"host:a & status:404")
            .count()
            > 40
    );
    assert_eq!(unescape(r#"a\x0ab\"c"#), b"a\nb\"c".to_vec());
}
