//! Plain-text lines to events: a line is cleaned of escape sequences, a prefix
//! stripped, and its first word matched against the grammar. Plain worker output goes
//! through here, and so does every text an agent-CLI record holds (the worker
//! speaking), through [`TextScanner`].

use std::sync::Arc;

use regex::bytes::Regex;

use crate::event::{Event, EventKind, LineText, Malformed, Position};
use crate::frame::{self, FrameSink, Framer, Segment, Skip};
use crate::grammar::{self, Keyword, PayloadError, Recognized};
use crate::sanitize;

/// Lines that look like markers behind a prefix, seen without `--strip-prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixHint {
    pub lines: u64,
    pub first_line: u64,
}

/// The state of reading plain-text lines.
#[derive(Debug, Default)]
pub struct TextLines {
    /// A per-line prefix to strip before matching (`--strip-prefix`).
    strip_prefix: Option<Regex>,
    clean: Vec<u8>,
    map: Vec<u32>,
    /// The line on which a distillation request's continuation may come next.
    continuation: Option<u64>,
    prefixed: Option<PrefixHint>,
    /// A session has started: until then every line is read, so that markers behind
    /// a prefix are noticed whatever the prefix starts with (`hidden-markers`).
    in_session: bool,
}

/// Lines `text` returns from at once, told from their first two bytes (see
/// `FrameSink::skippable`): a first byte that cannot start a marker or a prefix
/// (lower case, most punctuation), or an upper-case letter followed by a byte that
/// cannot go on a keyword ("Sharpe", "I think", "A"): a first word of one letter,
/// shorter than any keyword or near miss of one.
pub static PROSE: Skip = {
    let mut skip = Skip {
        first: [Skip::READ; 256],
        second: [false; 256],
    };
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        skip.first[b] = if c.is_ascii_uppercase() {
            Skip::PASS_IF_SECOND
        } else if is_lead(c) || c.is_ascii_digit() || matches!(c, b'@' | 0x1b | b'[') {
            Skip::READ
        } else {
            Skip::PASS
        };
        // Not a byte of a keyword, nor an escape sequence that could join the word
        // to what follows it (`is_prose`).
        skip.second[b] = !(grammar::is_word_byte(c) || c == 0x1b);
        b += 1;
    }
    skip
};

// A first word of one letter is prose however the line goes on (`is_prose`).
const _: () = assert!(1 + 2 < crate::grammar::Keyword::SHORTEST);

/// How far into a line no escape sequence may be for its first word to be judged from
/// the raw bytes: longer than any keyword or near miss of one.
const PLAIN_WORD: usize = 48;

/// How far into a line a prefix that hides a marker is looked for.
const PREFIX_HEAD: usize = 128;

// A first word judged on `PLAIN_WORD` bytes is judged right: a keyword, or a near miss
// of one, and the byte after it fit.
const _: () = assert!(crate::grammar::Keyword::LONGEST + 3 < PLAIN_WORD);

/// Whether the first word of `word` (a line's start) ends at a tab: the column layout
/// of `gh run view --log` (`job\tstep\t<ts> <text>`). (A loop: the blank is a few bytes
/// in, nearer than `memchr` takes to set up.)
fn tab_after_first_word(word: &[u8]) -> bool {
    word.iter()
        .find(|&&b| b == b' ' || b == b'\t')
        .is_some_and(|&b| b == b'\t')
}

/// Whether `rest` (a line from its first byte that is neither blank nor part of an
/// escape sequence) is prose, told from the raw bytes: `false` also when an escape
/// sequence could change its first word (then the line is cleaned and looked at
/// again).
#[inline]
fn is_prose(rest: &[u8]) -> bool {
    if rest.first() == Some(&b'@') {
        // No escape sequence before the colon of `@sigma-distiller:`.
        return !rest
            .iter()
            .take(b"@sigma-distiller:".len())
            .any(|&b| b == 0x1b)
            && grammar::recognize(rest) == Recognized::Prose;
    }
    // The first word, and the byte after it: a word longer than `PLAIN_WORD` is prose
    // however it goes on.
    let len = word_len(&rest[..rest.len().min(PLAIN_WORD)]);
    if rest.get(len) == Some(&0x1b) {
        return false;
    }
    // No keyword is shorter than `SHORTEST`, and a near miss is at most two letters
    // off: a shorter word ("Sharpe" is `S`) is prose without a look at the table. So
    // is a word not followed by `:` (`TASK_START_RE = …`), but `DISTILLATION_COMPLETE`,
    // the one keyword that stands alone.
    len + 2 < grammar::Keyword::SHORTEST
        || (rest.get(len) != Some(&b':')
            && &rest[..len] != Keyword::DistillationComplete.word().as_bytes())
        || grammar::recognize(rest) == Recognized::Prose
}

/// How many bytes `bytes` starts with that may be part of a keyword: 16 at a time
/// where the bytes are there (a loop per byte ends with a mispredicted branch, on
/// words of a dozen letters).
#[inline]
fn word_len(bytes: &[u8]) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
        };
        let mut at = 0;
        while let Some(lane) = bytes.get(at..at + 16) {
            // SAFETY: compiled only where SSE2 is enabled (every x86-64 target); `lane`
            // is 16 readable bytes and `_mm_loadu_si128` needs no alignment.
            let word = unsafe {
                let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
                // `v - low <= n - 1`, unsigned: the bytes in `low..low + n`.
                let within = |low: u8, n: u8| {
                    let d = _mm_sub_epi8(v, _mm_set1_epi8(low as i8));
                    _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8((n - 1) as i8)), d)
                };
                let underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
                _mm_movemask_epi8(_mm_or_si128(
                    _mm_or_si128(within(b'A', 26), within(b'0', 10)),
                    underscore,
                )) as u32
            };
            if word != 0xffff {
                return at + (!word).trailing_zeros() as usize;
            }
            at += 16;
        }
        at + bytes[at..]
            .iter()
            .position(|&b| !grammar::is_word_byte(b))
            .unwrap_or(bytes.len() - at)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        bytes
            .iter()
            .position(|&b| !grammar::is_word_byte(b))
            .unwrap_or(bytes.len())
    }
}

/// Bytes that may stand before a marker's keyword: indentation and backtick wrapping.
const fn is_lead(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'`')
}

fn is_trail(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b'`'
}

impl TextLines {
    pub fn new(strip_prefix: Option<Regex>) -> Self {
        TextLines {
            strip_prefix,
            ..TextLines::default()
        }
    }

    /// Starts again with no line read, keeping the buffers it has grown.
    pub fn restart(&mut self) {
        self.continuation = None;
        self.prefixed = None;
        self.in_session = false;
    }

    /// Whether a `SESSION_START` has been read: lines of prose may then be passed
    /// over unseen (`FrameSink::skippable`).
    pub fn in_session(&self) -> bool {
        self.in_session
    }

    /// Whether lines looked like markers behind a prefix (see [`PrefixHint`]).
    pub fn prefix_hint(&self) -> Option<PrefixHint> {
        self.prefixed
    }

    /// The line a distillation request's continuation is awaited on.
    pub fn awaiting(&self) -> Option<u64> {
        self.continuation
    }

    /// Whether a prefix is stripped.
    pub fn strips_prefix(&self) -> bool {
        self.strip_prefix.is_some()
    }

    /// A line of text (not a record): framed, prefix stripped, matched.
    #[inline]
    pub fn line<F: FnMut(Event)>(&mut self, seg: Segment<'_>, sink: &mut F) {
        if self.strip_prefix.is_none() && self.passes_over(&seg, sink) {
            return;
        }
        self.read_line(seg, sink);
    }

    /// Tells most lines of prose from their first bytes, without cleaning them:
    /// `true` when the line is done with. (Small, so that it is inlined into the
    /// framer's loop; the rest of a line's reading is not.)
    #[inline]
    fn passes_over<F: FnMut(Event)>(&mut self, seg: &Segment<'_>, sink: &mut F) -> bool {
        let Some(first) = seg.bytes.iter().position(|&b| !is_lead(b)) else {
            return true;
        };
        if self.continuation == Some(seg.line) {
            // A distillation request's continuation: read whatever it says.
            return false;
        }
        let rest = &seg.bytes[first..];
        match rest[0] {
            // Coloured output: most of it is prose too. Past the escape sequences and
            // blanks before it, its first word is told from the raw bytes as below.
            0x1b => {
                let mut at = first;
                while let Some(&b) = seg.bytes.get(at) {
                    match b {
                        0x1b => at = frame::skip_escape(seg.bytes, at),
                        b if is_lead(b) => at += 1,
                        _ => break,
                    }
                }
                is_prose(&seg.bytes[at..])
            }
            b'[' | b'0'..=b'9' => {
                self.note_prefixed(seg, sink);
                true
            }
            // Most lines that start upper-case are prose ("The backtest…"): when no
            // escape sequence can change the first word, tell so from the raw bytes.
            b if (b.is_ascii_uppercase() || b == b'@') && !is_prose(rest) => false,
            // Prose. Before a session has started, a first word that ends at a tab
            // is the job's name of `gh run view --log` (`job\tstep\t`), whatever it
            // starts with, and is noted (`hidden-markers`). After, prose is just prose:
            // the framer passes most of it over unseen (see `PROSE`), and indented or
            // upper-case prose is not held to more.
            _ => {
                if !self.in_session && tab_after_first_word(&rest[..rest.len().min(PLAIN_WORD)]) {
                    self.note_prefixed(seg, sink);
                }
                true
            }
        }
    }

    /// Reads a line that may hold a marker: cleaned, prefix stripped, matched.
    #[inline(never)]
    fn read_line<F: FnMut(Event)>(&mut self, seg: Segment<'_>, sink: &mut F) {
        frame::clean(seg.bytes, &mut self.clean, &mut self.map);
        let mut start = 0;
        if let Some(m) = self
            .strip_prefix
            .as_ref()
            .and_then(|p| p.find(&self.clean))
            .filter(|m| m.start() == 0)
        {
            start = m.end();
        }
        let envelope = (start > 0)
            .then(|| envelope_time(&self.clean[..start]))
            .flatten();
        let content = &self.clean[start..];
        let lead = content.iter().take_while(|&&b| is_lead(b)).count();
        let trail = content.iter().rev().take_while(|&&b| is_trail(b)).count();
        if lead + trail >= content.len() {
            return;
        }
        let (from, to) = (start + lead, start + content.len() - trail);
        let content = &self.clean[from..to];
        let continuation = self.continuation.take();
        let kind = match grammar::recognize(content) {
            Recognized::Prose => {
                if continuation != Some(seg.line) {
                    // Prose elsewhere (a segment of the request's own line after a
                    // `\r`) leaves the awaited line awaited.
                    self.continuation = continuation;
                    return;
                }
                self.continuation = Some(seg.line + 1);
                match grammar::parse_continuation(content) {
                    None => return,
                    Some(Ok(marker)) => EventKind::Marker(marker),
                    Some(Err(e)) => self.malformed(&seg, from, 0, Keyword::SigmaDistiller, e),
                }
            }
            Recognized::NearMiss { len, suggestion } => EventKind::Unknown {
                word: String::from_utf8_lossy(&content[..len]).into_owned(),
                suggestion,
            },
            Recognized::Keyword { keyword, payload } => {
                if keyword == Keyword::SigmaDistiller {
                    self.continuation = Some(seg.line + 1);
                }
                if seg.truncated && keyword != Keyword::SigmaDistiller {
                    let e = PayloadError {
                        at: content.len() - payload,
                        len: 0,
                        expected: "the end of the marker within 64 KiB",
                    };
                    self.malformed(&seg, from, payload, keyword, e)
                } else {
                    match grammar::parse_payload(keyword, &content[payload..]) {
                        Ok(marker) => {
                            self.in_session |= keyword == Keyword::SessionStart;
                            EventKind::Marker(marker)
                        }
                        Err(e) => self.malformed(&seg, from, payload, keyword, e),
                    }
                }
            }
        };
        let at = self.position(&seg, from);
        if let Some(time) = envelope {
            let at = Position { ..at };
            sink(Event {
                at,
                kind: EventKind::Envelope(time),
                text: LineText::empty(seg.line, seg.column, seg.offset),
            });
        }
        let text = Arc::new(LineText {
            line: seg.line,
            column: seg.column,
            offset: seg.offset,
            // Only the start of a line is ever shown (`LineText::MAX`): a finding on a
            // 64 KiB line holds 1 KiB of it, not the whole head.
            bytes: seg.bytes[..seg.bytes.len().min(LineText::MAX)].into(),
        });
        sink(Event { at, kind, text });
    }

    /// Notes a line that would hold a marker behind a prefix (`[pane-2] TASK_START: …`,
    /// a timestamp): without `--strip-prefix` it is prose, and the report hints at the flag.
    #[cold]
    #[inline(never)]
    fn note_prefixed<F: FnMut(Event)>(&mut self, seg: &Segment<'_>, sink: &mut F) {
        let head = &seg.bytes[..seg.bytes.len().min(PREFIX_HEAD)];
        let mut from = 0;
        for _ in 0..6 {
            let Some(space) = memchr::memchr2(b' ', b'\t', &head[from..]) else {
                return;
            };
            from += space + 1;
            let rest = &seg.bytes[from..];
            let rest = &rest[rest.iter().take_while(|&&b| b == b' ').count()..];
            if matches!(grammar::recognize(rest), Recognized::Keyword { .. }) {
                if self.prefixed.is_none() {
                    // The first such line becomes an event: with no session in the
                    // input, it is a `hidden-markers` finding that names the flag.
                    let keyword_at = seg.bytes.len() - rest.len();
                    let flag = crate::prefix::flag_for(&seg.bytes[..keyword_at]);
                    let raw = keyword_at as u64;
                    let at = Position {
                        line: seg.line,
                        column: seg.column + raw,
                        offset: seg.offset + raw,
                        block_line: None,
                    };
                    let text = Arc::new(LineText {
                        line: seg.line,
                        column: seg.column,
                        offset: seg.offset,
                        bytes: seg.bytes[..seg.bytes.len().min(LineText::MAX)].into(),
                    });
                    sink(Event {
                        at,
                        kind: EventKind::Prefixed { flag },
                        text,
                    });
                }
                let hint = self.prefixed.get_or_insert(PrefixHint {
                    lines: 0,
                    first_line: seg.line,
                });
                hint.lines += 1;
                return;
            }
        }
    }

    /// Index in the raw segment of clean byte `i` (or of the end).
    fn raw(&self, i: usize) -> usize {
        self.map[i.min(self.map.len() - 1)] as usize
    }

    fn position(&self, seg: &Segment<'_>, clean_index: usize) -> Position {
        let raw = self.raw(clean_index) as u64;
        Position {
            line: seg.line,
            column: seg.column + raw,
            offset: seg.offset + raw,
            block_line: None,
        }
    }

    fn malformed(
        &self,
        seg: &Segment<'_>,
        from: usize,
        payload: usize,
        keyword: Keyword,
        e: PayloadError,
    ) -> EventKind {
        let bad = from + payload + e.at;
        let found_bytes = &self.clean[bad..bad + e.len];
        let found = if found_bytes.is_empty() {
            "end of line".to_owned()
        } else {
            sanitize::quote(found_bytes, 40)
        };
        let len = if e.len == 0 {
            0
        } else {
            (self.raw(bad + e.len - 1) + 1 - self.raw(bad)) as u64
        };
        EventKind::Malformed(Malformed {
            keyword: keyword.word(),
            at: self.position(seg, bad),
            len,
            expected: e.expected,
            found,
        })
    }
}

/// The time at the start of a stripped log envelope (`2026-11-23T22:43:11.764Z `,
/// `… stdout F `, GitHub's `job\tstep\t…Z `, journald's `…+0000 host unit[pid]: `): the
/// first field that reads as an RFC 3339 (or `%z`-offset) timestamp.
fn envelope_time(prefix: &[u8]) -> Option<crate::event::Timestamp> {
    let text = std::str::from_utf8(prefix).ok()?;
    text.split([' ', '\t'])
        .filter(|f| f.len() >= 19 && f.as_bytes()[0].is_ascii_digit() && f.as_bytes()[4] == b'-')
        .take(3)
        .find_map(|f| {
            chrono::DateTime::parse_from_rfc3339(f)
                .or_else(|_| chrono::DateTime::parse_from_str(f, "%Y-%m-%dT%H:%M:%S%.f%z"))
                .ok()
                .map(|t| crate::event::Timestamp {
                    local: t.naive_local(),
                    offset: Some(*t.offset()),
                })
        })
}

/// Plain text without a prefix, framed and read line by line: how a worker's text
/// inside an agent-CLI record is scanned for markers as it is decoded.
#[derive(Debug, Default)]
pub struct TextScanner {
    framer: Framer,
    lines: TextLines,
}

struct Lines<'s, F> {
    lines: &'s mut TextLines,
    sink: &'s mut F,
}

impl<F: FnMut(Event)> FrameSink for Lines<'_, F> {
    fn segment(&mut self, seg: Segment<'_>) {
        self.lines.line(seg, self.sink);
    }

    fn skippable(&self) -> Option<&'static Skip> {
        Some(&PROSE)
    }

    fn awaiting(&self) -> Option<u64> {
        self.lines.awaiting()
    }
}

impl TextScanner {
    /// Feeds a chunk; `sink` receives the events of every line that ended in it.
    pub fn feed<F: FnMut(Event)>(&mut self, chunk: &[u8], sink: &mut F) {
        let mut lines = Lines {
            lines: &mut self.lines,
            sink,
        };
        self.framer.feed(chunk, &mut lines);
    }

    /// Ends the text, reading a last line that has no line break.
    pub fn finish<F: FnMut(Event)>(&mut self, sink: &mut F) {
        let mut lines = Lines {
            lines: &mut self.lines,
            sink,
        };
        self.framer.finish(&mut lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    /// Reads `text` the way the scanner does (prose passed over from its first
    /// bytes), and the slow way (every line cleaned and matched: a prefix pattern that
    /// matches nothing turns the shortcuts off), in chunks of `chunk` bytes.
    fn both_ways(text: &[u8], chunk: usize) -> (Vec<Event>, Vec<Event>) {
        let mut fast = Vec::new();
        let mut scanner = TextScanner::default();
        for piece in text.chunks(chunk.max(1)) {
            scanner.feed(piece, &mut |e| fast.push(e));
        }
        scanner.finish(&mut |e| fast.push(e));
        // The hint of a prefix is noted only by the shortcuts.
        fast.retain(|e| !matches!(e.kind, EventKind::Prefixed { .. }));
        let mut slow = Vec::new();
        let mut lines = TextLines::new(Some(Regex::new("^").unwrap()));
        let mut framer = Framer::default();
        let mut sink = |seg: Segment<'_>| lines.line(seg, &mut |e| slow.push(e));
        for piece in text.chunks(chunk.max(1)) {
            framer.feed(piece, &mut sink);
        }
        framer.finish(&mut sink);
        (fast, slow)
    }

    /// The free text of a distillation request's continuation may start like prose:
    /// what follows it is still read.
    #[test]
    fn a_continuation_goes_on_over_free_text() {
        let text =
            b"@sigma-distiller: go\nsome free text\n  indented, and [bracketed]\nOutput files: 4\n\
                     progress\rmore\nStrategies: 1\n\nOutput files: 9\n";
        for chunk in [1, 7, text.len()] {
            let (fast, slow) = both_ways(text, chunk);
            assert_eq!(fast, slow);
            let kinds: Vec<String> = fast
                .iter()
                .map(|e| format!("{}:{:?}", e.at.line, e.kind))
                .collect();
            assert_eq!(
                kinds,
                [
                    "1:Marker(DistillationRequest { text: \"go\" })",
                    "4:Marker(DistillationOutputFiles { count: 4 })",
                    "6:Marker(DistillationStrategies { count: 1 })",
                ],
                "{chunk}"
            );
        }
    }

    /// A continuation line redrawn with `\r`: its first segment, though prose, is the
    /// free text read first, as reading every line whole reads it.
    #[test]
    fn a_continuation_redrawn_with_a_carriage_return_is_read_in_order() {
        let text = b"@sigma-distiller: go\nprose\rOutput files: 3\nOutput files: 4\n";
        for chunk in [1, 5, text.len()] {
            let (fast, slow) = both_ways(text, chunk);
            assert_eq!(fast, slow, "{chunk}");
            assert_eq!(fast.len(), 2, "{chunk}: {fast:?}");
        }
    }

    /// Before the first session, a `gh run view --log` line is noted whatever its
    /// job's name starts with; after it, prose is prose.
    #[test]
    fn job_names_are_noted_before_the_first_session_only() {
        let text = b"BUILD\tRun\tTASK_START: h-1\nbuild\tRun\tTASK_START: h-2\n\
                     SESSION_START: researcher-2026-11-23T10:01:04.123456\n\
                     BUILD\tRun\tTASK_START: h-3\nbuild\tRun\tTASK_START: h-4\n";
        let mut scanner = crate::scan::Scanner::new(crate::scan::ScanOptions::default());
        let mut events = Vec::new();
        scanner.feed(text, &mut |e| events.push(e));
        scanner.finish(&mut |e| events.push(e));
        let hint = scanner.prefix_hint().expect("noted");
        assert_eq!((hint.lines, hint.first_line), (2, 1));
        assert!(matches!(events[0].kind, EventKind::Prefixed { .. }));
        assert!(matches!(events[1].kind, EventKind::Marker(_)));
        assert_eq!(events.len(), 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// The first word's length, 16 bytes at a time, is the one a byte at a time
        /// gives.
        #[test]
        fn word_lengths_are_counted_right(
            word in "[A-Z0-9_]{0,60}",
            tail in proptest::collection::vec(proptest::sample::select(
                b"AZ09_az@[` \x1b:\xc3".to_vec()), 0..40),
        ) {
            let bytes = [word.as_bytes(), &tail].concat();
            let bytes = &bytes[..];
            let slow = bytes.iter().position(|&b| !grammar::is_word_byte(b)).unwrap_or(bytes.len());
            proptest::prop_assert_eq!(word_len(bytes), slow);
        }

        /// Whatever the lines, telling prose from its first bytes gives the events of
        /// reading every line whole.
        #[test]
        fn shortcuts_give_the_events_of_reading_every_line(
            lines in proptest::collection::vec(proptest::collection::vec(0usize..30, 0..7), 0..12),
            chunk in 1usize..64,
        ) {
            const PARTS: [&str; 30] = [
                " ", "\t", "`", "\x1b[32m", "\x1b[0m", "\x1b]8;;x\x07", "\x1b", "TASK_START",
                "TASK_STRAT", "DISTILLATION_COMPLETE", "@sigma-distiller", "@sigma", ":", " h-1",
                "Sharpe", "S", "Output files", " 3", "Strategies", "prose", "[pane-1] ", "2024 ",
                "_", "SESSION_COMPLETE_TIMEOUT", "A_B_C_D", "\u{e9}", "\r", "I'll", "x", "DURATION",
            ];
            let text: String = lines
                .iter()
                .map(|parts| parts.iter().map(|&i| PARTS[i]).collect::<String>() + "\n")
                .collect();
            let (fast, slow) = both_ways(text.as_bytes(), chunk);
            proptest::prop_assert_eq!(fast, slow);
        }
    }
}
