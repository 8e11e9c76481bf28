#![no_main]
//! `cargo fuzz run theme`: see `rolo::fuzz::theme`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::theme(data));
