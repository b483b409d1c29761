//! Replays every stored fuzz case (`fuzz/corpus/TARGET/*`, the seeds taken from
//! `fixtures/` and what the coverage-guided campaigns of `fuzz/run.sh` kept) through the
//! same target bodies, without the instrumented build: a case that once crashed the
//! tool stays fixed.

use std::path::Path;

#[test]
fn every_stored_fuzz_case_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut cases = 0;
    for (name, target) in quant_session::fuzz::TARGETS {
        let dir = root.join(name);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        assert!(!entries.is_empty(), "no corpus for {name}");
        for path in entries {
            let data = std::fs::read(&path).unwrap();
            let run = std::panic::catch_unwind(|| target(&data));
            assert!(run.is_ok(), "{name}: {} fails", path.display());
            cases += 1;
        }
    }
    assert!(cases > 0);
}
