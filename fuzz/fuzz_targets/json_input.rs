//! Fuzz target `json_input`: the body is `quant_session::fuzz::json_input`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/json_input/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quant_session::fuzz::json_input(data));
