//! cargo fuzz target `rules`: the body is `targets::rules`, shared with tests/fuzz_smoke.rs.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::rules(data));
