//! Fuzz target `checkpoint`: the body is `quant_session::fuzz::checkpoint`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/checkpoint/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quant_session::fuzz::checkpoint(data));
