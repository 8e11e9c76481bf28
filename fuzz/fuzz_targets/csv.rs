#![no_main]
//! `cargo fuzz run csv`: see `rolo::fuzz::csv`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::csv(data));
