//! Fuzz target `config`: the body is `quant_session::fuzz::config`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/config/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quant_session::fuzz::config(data));
