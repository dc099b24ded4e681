//! cargo fuzz target `classify`: the body is `targets::classify`, shared with tests/fuzz_smoke.rs.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::classify(data));
