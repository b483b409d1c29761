//! What must hold for every input: no panic on any bytes, the same events whatever the
//! chunking, and every reported position pointing at the right place of the original
//! input.

use proptest::prelude::*;
use quant_session::event::{EventKind, Marker};
use quant_session::rule::RuleOptions;
use quant_session::scan::{ScanOptions, Scanner, scan_all};
use quant_session::session::Machine;
use quant_session::sink::{Flow, Item, Sink};

/// Pieces real and hostile transcripts are made of.
const PIECES: &[&str] = &[
    "SESSION_START: researcher-2026-11-23T10:15:30.123456",
    "SESSION_START: ",
    "SESSION_COMPLETE: researcher-2026-11-23T10:15:30.123456",
    "PATTERN_FILES_READ: what-works.md, what-fails.md",
    "TASK_START: h-1",
    "TASK_COMPLETE: h-1",
    "TASK_COMPLTE: h-1",
    "SUBAGENT_SPAWN: @quant-x",
    "SUBAGENT_COMPLETE: @quant-x",
    "FILES_CREATED: ",
    "-1",
    "1844674407370955161600",
    "DURATION: 1 day, 99:99:99",
    "DURATION: 0:45:12.5",
    "@sigma-distiller: go",
    "Output files: ",
    "Strategies: x",
    "DISTILLATION_COMPLETE",
    "PATTERNS_UPDATED: a.md (+2 entries)",
    "TASKS_COMPLETED: 3",
    "HYPOTHESES_QUEUED: 1",
    "STRATEGIES_PRODUCED: 0",
    "\n",
    "\r\n",
    "\r",
    "\x1b[",
    "\x1b[32m",
    "\x1b]0;t\x07",
    "\x1b",
    "```",
    "`",
    "  ",
    "\t",
    "\u{9b}",
    "é",
];

fn transcript() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => proptest::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

struct Count(usize);

impl Sink for Count {
    type Error = std::convert::Infallible;

    fn push(&mut self, _input: &str, item: Item<'_>) -> Result<Flow, Self::Error> {
        if let Item::Finding(_) = item {
            self.0 += 1;
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_scan_and_check_without_panic(input in transcript()) {
        let mut machine = Machine::new(RuleOptions::default());
        let mut sink = Count(0);
        for e in scan_all(&input, ScanOptions::default_text()) {
            let Ok(_) = machine.event("x", &e, &mut sink);
        }
        let Ok(_) = machine.finish("x", 0, &mut sink);
    }

    #[test]
    fn chunking_does_not_change_the_events(input in transcript(), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let whole = scan_all(&input, ScanOptions::default_text());
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (input.len() + 1)).collect();
        cuts.sort_unstable();
        let mut scanner = Scanner::new(ScanOptions::default_text());
        let mut pieces = Vec::new();
        let mut sink = |e| pieces.push(e);
        let mut last = 0;
        for c in cuts.into_iter().chain([input.len()]) {
            scanner.feed(&input[last..c], &mut sink);
            last = c;
        }
        scanner.finish(&mut sink);
        prop_assert_eq!(whole, pieces);
    }

    #[test]
    fn positions_point_into_the_original_input(input in transcript()) {
        for e in scan_all(&input, ScanOptions::default_text()) {
            let positions = match &e.kind {
                EventKind::Malformed(m) => vec![e.at, m.at],
                _ => vec![e.at],
            };
            for at in positions {
                let offset = at.offset as usize;
                prop_assert!(offset <= input.len());
                let before = &input[..offset];
                let newlines = before.iter().filter(|&&b| b == b'\n').count();
                prop_assert_eq!(at.line, newlines as u64 + 1);
                let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                prop_assert_eq!(at.column, (offset - line_start) as u64 + 1);
            }
            // The keyword starts at the position, once escape sequences are removed
            // (a CSI may sit inside a word: `TASK\x1b[0m_START:`).
            let raw = &input[e.at.offset as usize..];
            let line_end = raw.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(raw.len());
            let (mut rest, mut map) = (Vec::new(), Vec::new());
            quant_session::frame::clean(&raw[..line_end], &mut rest, &mut map);
            match &e.kind {
                EventKind::Marker(Marker::DistillationOutputFiles { .. }) => prop_assert!(rest.starts_with(b"Output files:")),
                EventKind::Marker(Marker::DistillationStrategies { .. }) => prop_assert!(rest.starts_with(b"Strategies:")),
                EventKind::Marker(m) => prop_assert!(rest.starts_with(m.keyword().word().as_bytes())),
                EventKind::Malformed(m) if !m.keyword.starts_with('@') => prop_assert!(rest.starts_with(m.keyword.as_bytes())),
                EventKind::Malformed(_) => {}
                EventKind::Unknown { word, .. } => prop_assert!(rest.starts_with(word.as_bytes())),
                // A marker behind a prefix: the position is its keyword's.
                EventKind::Prefixed { .. } => prop_assert!(quant_session::grammar::Keyword::ALL.iter().any(|k| rest.starts_with(k.word().as_bytes()))),
                // An envelope's time: at the marker that follows it (checked there).
                EventKind::Envelope(_) => {}
                EventKind::WorkerExit { .. }
                | EventKind::Clock(_)
                | EventKind::SubagentRun { .. }
                | EventKind::ActionsVisible { .. }
                | EventKind::ToolCall { .. }
                | EventKind::ToolDone { .. }
                | EventKind::Usage(_)
                | EventKind::RateLimited { .. } => prop_assert!(false, "no stream-json in text mode"),
                // Only a run that replays keeps what was said.
                EventKind::Said(_) => prop_assert!(false, "nothing said without a replay"),
            }
        }
    }
}

/// Every agent-CLI shape of the scripted session (Claude Code stream-json and session
/// file, Gemini stream-json and chat file, Codex exec and rollout).
const AGENT_SHAPES: &[&str] = &[
    "stream-json",
    "transcript",
    "gemini",
    "gemini-chat",
    "gemini-json",
    "codex",
    "codex-rollout",
];

fn shape(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/shapes/session.{name}.log",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The events of `input` fed in pieces cut at `cuts`.
fn chunked(input: &[u8], cuts: &[usize]) -> Vec<quant_session::event::Event> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut events = Vec::new();
    let mut scanner = Scanner::new(ScanOptions::default());
    let mut sink = |e| events.push(e);
    let mut from = 0;
    for cut in cuts.into_iter().chain(std::iter::once(input.len())) {
        scanner.feed(&input[from..cut.max(from)], &mut sink);
        from = cut.max(from);
    }
    scanner.finish(&mut sink);
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_agent_cli_shape_gives_the_same_events_however_it_is_chunked(
        which in 0..AGENT_SHAPES.len(),
        cuts in proptest::collection::vec(any::<usize>(), 0..24),
    ) {
        let input = shape(AGENT_SHAPES[which]);
        let whole = scan_all(&input, ScanOptions::default());
        prop_assert!(!whole.is_empty());
        prop_assert_eq!(chunked(&input, &cuts), whole);
    }
}

#[test]
fn every_agent_cli_shape_gives_the_same_events_byte_by_byte() {
    for name in AGENT_SHAPES {
        let input = shape(name);
        let cuts: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            chunked(&input, &cuts),
            scan_all(&input, ScanOptions::default()),
            "{name}"
        );
    }
}
