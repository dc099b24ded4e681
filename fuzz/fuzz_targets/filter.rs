//! cargo fuzz target `filter`: the body is `targets::filter`, shared with tests/fuzz_smoke.rs.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::filter(data));
