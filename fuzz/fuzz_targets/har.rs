//! cargo fuzz target `har`: the body is `targets::har`, shared with tests/fuzz_smoke.rs.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::har(data));
