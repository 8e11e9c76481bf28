#![no_main]
//! `cargo fuzz run text`: see `rolo::fuzz::text`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::text(data));
