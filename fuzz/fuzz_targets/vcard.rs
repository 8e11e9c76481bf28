#![no_main]
//! `cargo fuzz run vcard`: see `rolo::fuzz::vcard`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolo::fuzz::vcard(data));
