#![no_main]
//! `cargo fuzz run json`: see `rolo::fuzz::json`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::json(data));
