//! The bodies of the coverage-guided fuzz targets (`fuzz/`), kept in the library so
//! that a normal test (`tests/fuzz_corpus.rs`) replays every stored corpus case without
//! the instrumented build. Each body panics when a property that must hold for every
//! input does not: no panic anywhere, the same events however the input is chunked,
//! nothing quoted raw into a report.

use std::path::Path;

use crate::event::Event;
use crate::finding::Finding;
use crate::report::human::{Style, render};
use crate::rule::RuleOptions;
use crate::scan::{InputKind, ScanOptions, Scanner};
use crate::session::Machine;
use crate::sink::{Flow, Item, Sink};

/// Inputs are cut at this size, so the 64 KiB head of a line is passed.
pub const MAX_INPUT: usize = 128 * 1024;

/// Findings rendered for every report format a user can see.
struct Render(u64);

impl Render {
    fn finding(&mut self, finding: &Finding) {
        self.0 += 1;
        // The human report shows quoted input: never a control character from it.
        if self.0 <= 32 {
            let text = render(finding, "fuzz.log", Style::Plain);
            assert_no_control(&text);
        }
    }
}

impl Sink for Render {
    type Error = std::convert::Infallible;

    fn push(&mut self, _input: &str, item: Item<'_>) -> Result<Flow, Self::Error> {
        match item {
            Item::Finding(f) => self.finding(&f),
            // Only findings quote the input.
            Item::Followed
            | Item::Event(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::InputEnd(_)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

/// SPEC §4: no control character taken from the input reaches a report (a tab, which
/// moves nothing but the cursor to the next stop, is shown as it is).
fn assert_no_control(text: &str) {
    if let Some(c) = text
        .chars()
        .find(|&c| c != '\n' && c != '\t' && c.is_control())
    {
        panic!("a report writes control character {c:?}: {text:?}");
    }
}

/// Cut points for `data`, taken from its first bytes: up to 7 chunk boundaries.
fn cuts(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let (head, body) = data.split_at(data.len().min(4));
    let mut cuts: Vec<usize> = head
        .iter()
        .map(|&b| (b as usize * 257) % (body.len() + 1))
        .collect();
    cuts.sort_unstable();
    (cuts, body)
}

fn events(body: &[u8], options: &ScanOptions, cuts: &[usize]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut scanner = Scanner::new(options.clone());
    let mut sink = |e| out.push(e);
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        scanner.feed(&body[from..cut.max(from)], &mut sink);
        from = cut.max(from);
    }
    scanner.finish(&mut sink);
    out
}

/// Scans `body` whole and in chunks: the events must be the same. Then runs the session
/// machine over them and renders what it finds.
fn scan_both_ways(data: &[u8], options: ScanOptions) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let (cuts, body) = cuts(data);
    let whole = events(body, &options, &[]);
    let chunked = events(body, &options, &cuts);
    assert_eq!(whole, chunked, "chunking at {cuts:?} changed the events");
    let mut machine = Machine::new(RuleOptions::default());
    let mut sink = Render(0);
    let lines = body.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    for e in &whole {
        let Ok(_) = machine.event("fuzz.log", e, &mut sink);
    }
    let Ok(_) = machine.finish("fuzz.log", lines, &mut sink);
}

/// Framing and the grammar on plain text (with and without a prefix to strip).
pub fn framing(data: &[u8]) {
    scan_both_ways(data, ScanOptions::default_text());
    shortcuts_read_what_every_line_gives(data);
    if data.first().is_some_and(|b| b & 1 == 1) {
        let options = ScanOptions {
            strip_prefix: regex::bytes::Regex::new(r"^(?:\[pane-\d+\] )").ok(),
            ..ScanOptions::default_text()
        };
        scan_both_ways(data, options);
    }
}

/// The shortcuts that pass prose over from its first bytes give the events of reading
/// every line whole (a prefix pattern that strips nothing turns them off), but for the
/// hint of a prefix, which only they note.
fn shortcuts_read_what_every_line_gives(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let (cuts, body) = cuts(data);
    let hint = |e: &Event| matches!(e.kind, crate::event::EventKind::Prefixed { .. });
    let mut fast = events(body, &ScanOptions::default_text(), &cuts);
    fast.retain(|e| !hint(e));
    let every_line = ScanOptions {
        strip_prefix: regex::bytes::Regex::new("^").ok(),
        ..ScanOptions::default_text()
    };
    let slow = events(body, &every_line, &cuts);
    assert_eq!(fast, slow, "the shortcuts changed the events");
}

/// Every JSON input kind: Claude Code stream-json and session files, Gemini, Codex, and
/// detection.
pub fn json_input(data: &[u8]) {
    let forced = crate::format::FORMATS.iter().map(|f| InputKind::Cli(f.cli));
    for input in std::iter::once(InputKind::Auto).chain(forced) {
        scan_both_ways(
            data,
            ScanOptions {
                input,
                ..ScanOptions::default()
            },
        );
    }
}

/// Wrapped inputs (gzip, UTF-16, a byte-order mark) and the documents and prelude that
/// detection reads. Whatever the bytes (a corrupt gzip, a UTF-16 that breaks off): no
/// panic, the same events however they are chunked. And the text they hold, wrapped in
/// gzip or UTF-16, gives the events of the plain text.
pub fn wrapped(data: &[u8]) {
    use std::io::Write;
    let data = &data[..data.len().min(MAX_INPUT)];
    scan_both_ways(data, ScanOptions::default());
    let (cuts, body) = cuts(data);
    let text = String::from_utf8_lossy(body);
    let text = text.trim_start_matches('\u{feff}');
    let auto = ScanOptions::default();
    let plain = events(text.as_bytes(), &auto, &[]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = gz.write_all(text.as_bytes());
    let gz = gz.finish().unwrap_or_default();
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    for (what, wrapped) in [("gzip", gz), ("UTF-16", utf16)] {
        let cuts: Vec<usize> = cuts.iter().map(|c| c % (wrapped.len() + 1)).collect();
        let got = events(&wrapped, &auto, &cuts);
        assert!(got == plain, "{what} changed the events at cuts {cuts:?}");
    }
}

/// Checkpoint judging and repair, and its report.
pub fn checkpoint(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let cp = crate::checkpoint::judge(
        crate::checkpoint::Checkpoint::unread("pane-0.json".into()),
        data,
    );
    if let Some(text) = crate::report::postmortem::checkpoint_diagnostic(&cp) {
        assert_no_control(&text);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::checkpoint::salvage(text);
    }
}

/// The configuration file: parsed, its levels applied, its errors rendered escaped.
pub fn config(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let text = String::from_utf8_lossy(data).into_owned();
    match crate::config::parse(Path::new("quant-session.toml"), text) {
        Ok(loaded) => {
            let mut levels = crate::rule::RuleLevels::default();
            if let Err(e) = loaded.apply_levels(&mut levels) {
                assert_no_control(&e.render());
            }
        }
        Err(e) => assert_no_control(&e.render()),
    }
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The targets by name, as the corpus directories are named.
pub const TARGETS: [(&str, Target); 5] = [
    ("framing", framing),
    ("json_input", json_input),
    ("wrapped", wrapped),
    ("checkpoint", checkpoint),
    ("config", config),
];
