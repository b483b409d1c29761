//! Fuzz target `wrapped`: the body is `quant_session::fuzz::wrapped`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/wrapped/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quant_session::fuzz::wrapped(data));
