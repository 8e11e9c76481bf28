#![no_main]
//! `cargo fuzz run frame`: see `rolo::fuzz::frame` (the wire protocol's frame decoder).
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::frame(data));
