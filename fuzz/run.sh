#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer on stable Rust and runs each one.
#   usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60 s, every target)
# New inputs that reach new coverage are added to fuzz/corpus/TARGET/ (commit the
# interesting ones: tests/fuzz_corpus.rs replays the whole corpus in every `cargo test`);
# a crash is written to fuzz/artifacts/TARGET/ and ends the run with its status.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(framing json_input wrapped checkpoint config)
host="$(rustc -vV | sed -n 's/^host: //p')"
# Coverage instrumentation for libFuzzer without the nightly `-Zsanitizer`; the explicit
# --target keeps build scripts (and proc macros) uninstrumented, or they fail to link.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo build --release --target "$host" --bins
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== $t: ${seconds}s"
  "target/$host/release/$t" "corpus/$t" -max_len=131072 -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="artifacts/$t/" -print_final_stats=1
done
