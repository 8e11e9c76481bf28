#![no_main]
//! `cargo fuzz run query`: see `rolo::fuzz::query`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::query(data));
