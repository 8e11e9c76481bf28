#![no_main]
//! `cargo fuzz run csv_mapping`: see `rolo::fuzz::csv_mapping`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::csv_mapping(data));
