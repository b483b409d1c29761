//! Generated bad input through the real binary: mutated transcripts (bytes flipped,
//! lines cut, keywords injected with absurd payloads, half escape sequences, NUL, long
//! lines). Whatever the input: no panic, exit 0 or 1, passthrough byte-exact, every
//! reported line and column inside the input.
//!
//! The same generator drives a long in-process fuzz run on stable Rust:
//! `QS_FUZZ_CASES=200000 cargo test --release --test robustness -- --ignored`.

use assert_cmd::Command;
use proptest::prelude::*;
use quant_session::finding::Finding;
use quant_session::pipeline::{Options, Pipeline};
use quant_session::rule::RuleOptions;
use quant_session::sink::{Flow, Item, Sink};

const SEEDS: &[&[u8]] = &[
    include_bytes!("../fixtures/sessions/clean.log"),
    include_bytes!("../fixtures/sessions/seed-session-manager.log"),
    include_bytes!("../fixtures/grammar/ansi-crlf-progress.log"),
    include_bytes!("../fixtures/grammar/every-variant.log"),
    include_bytes!("../fixtures/captures/tmux-pipe-pane-crashed-mid-subagent.log"),
    include_bytes!("../fixtures/shapes/session.stream-json.log"),
    include_bytes!("../fixtures/transcripts/clean-session.log"),
    include_bytes!("../fixtures/stream-json/killed-torn-line.log"),
];

const INJECT: &[&[u8]] = &[
    b"\nFILES_CREATED: -1\n",
    b"\nTASKS_COMPLETED: 1844674407370955161699999\n",
    b"\nDURATION: 1 day, 99:99:99\n",
    b"\nSESSION_START: researcher-9999-99-99T99:99:99\n",
    b"\nTASK_START: \xff\xfe\n",
    b"\x1b[",
    b"\x1b]0;",
    b"\0",
    b"\r",
    b"\nSESSION_START: r-2026-11-23T10:15:30\n",
    b"\nTASK_COMPLETE: h-001\n",
    b"\nSUBAGENT_COMPLETE: @x\n",
    b"\nDISTILLATION_COMPLETE\n",
    b"\\u",
    b"\\ud83d",
    b"\\",
    b"\"",
    b"{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"",
    b"]}}",
    b"[[[[[[[[",
    b"\nSESSION_COMPLETE: other-2026-11-23T10:15:30\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize, usize),
    Inject(usize, usize),
    LongLine(usize, usize),
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let mutation = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), 0usize..200).prop_map(|(i, n)| Mutation::Cut(i, n)),
        (any::<usize>(), 0..INJECT.len()).prop_map(|(i, k)| Mutation::Inject(i, k)),
        (any::<usize>(), 70_000usize..200_000).prop_map(|(i, n)| Mutation::LongLine(i, n)),
    ];
    (0..SEEDS.len(), proptest::collection::vec(mutation, 0..12)).prop_map(|(seed, muts)| {
        let mut v = SEEDS[seed].to_vec();
        for m in muts {
            let at = |i: usize, v: &Vec<u8>| i % (v.len() + 1);
            match m {
                Mutation::Flip(i, b) if !v.is_empty() => {
                    let i = i % v.len();
                    v[i] ^= b;
                }
                Mutation::Flip(..) => {}
                Mutation::Cut(i, n) => {
                    let i = at(i, &v);
                    let end = (i + n).min(v.len());
                    v.drain(i..end);
                }
                Mutation::Inject(i, k) => {
                    let i = at(i, &v);
                    v.splice(i..i, INJECT[k].iter().copied());
                }
                Mutation::LongLine(i, n) => {
                    let i = at(i, &v);
                    v.splice(i..i, std::iter::repeat_n(b'x', n));
                }
            }
        }
        v
    })
}

fn line_lengths(input: &[u8]) -> Vec<usize> {
    input.split(|&b| b == b'\n').map(<[u8]>::len).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn the_binary_survives_mutated_transcripts(input in mutated()) {
        let out = Command::cargo_bin("quant-session")
            .unwrap()
            .args(["check", "--format", "json"])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        prop_assert!(matches!(out.status.code(), Some(0 | 1)), "{:?}", out.status);
        prop_assert!(out.stdout == input, "passthrough differs");
        let lines = line_lengths(&input);
        for l in String::from_utf8(out.stderr).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["kind"] != "diagnostic" {
                continue;
            }
            let line = v["line"].as_u64().unwrap() as usize;
            let column = v["column"].as_u64().unwrap() as usize;
            prop_assert!(line >= 1 && line <= lines.len(), "line {line} of {}", lines.len());
            prop_assert!(column >= 1 && column <= lines[line - 1] + 1, "column {column}");
        }
    }
}

struct Counting(u64);

impl Counting {
    fn check(&mut self, f: &Finding) {
        assert!(f.primary.at.line >= 1);
        self.0 += 1;
    }
}

impl Sink for Counting {
    type Error = std::convert::Infallible;

    fn push(&mut self, _input: &str, item: Item<'_>) -> Result<Flow, Self::Error> {
        match item {
            Item::Finding(f) => self.check(&f),
            Item::SessionEnd(s) => assert!(s.last_line + 1 >= s.start_line),
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

/// The long fuzz run: framing + grammar + state machine in process, random chunking.
#[test]
#[ignore = "long fuzz run; see the module doc"]
fn fuzz_pipeline() {
    let cases: u32 = std::env::var("QS_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(10_000);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    runner
        .run(&(mutated(), 1usize..70_000), |(input, chunk)| {
            let mut pipeline = Pipeline::new(
                "fuzz",
                Options {
                    rules: Some(RuleOptions::default()),
                    ..Options::default()
                },
            );
            let mut sink = Counting(0);
            for c in input.chunks(chunk) {
                let Ok(_) = pipeline.feed(c, &mut sink);
            }
            let Ok(_) = pipeline.finish(&mut sink);
            Ok(())
        })
        .unwrap();
}
