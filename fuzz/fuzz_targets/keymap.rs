#![no_main]
//! `cargo fuzz run keymap`: see `rolo::fuzz::keymap`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::keymap(data));
