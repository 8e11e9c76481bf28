#![no_main]
//! `cargo fuzz run detect`: see `rolo::fuzz::detect`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::detect(data));
