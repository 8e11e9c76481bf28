#![no_main]
//! `cargo fuzz run dates`: see `rolo::fuzz::dates`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::dates(data));
