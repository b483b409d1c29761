//! Fuzz target `framing`: the body is `quant_session::fuzz::framing`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/framing/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quant_session::fuzz::framing(data));
