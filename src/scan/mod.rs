//! The scanner: framing and grammar together, from byte chunks to [`Event`]s.
//!
//! It is push-driven, like ripgrep's searcher: the caller reads chunks (and forwards
//! them, in pipe mode), feeds them here, and receives each event as soon as its line
//! has ended. Per segment the work is a few byte comparisons; only segments whose first
//! significant byte could start a marker (an upper-case letter, `@`, or an escape
//! sequence) are cleaned and handed to the grammar, into buffers reused across lines.

use std::sync::Arc;

use regex::bytes::Regex;

use crate::event::{Event, EventKind, Position};
use crate::format::{self, Document, Format, Place, RecordCounts, WorkerRun};
use crate::frame::{FrameSink, Framer, Segment};
pub use crate::text::PrefixHint;
use crate::text::TextLines;

mod partial;
mod record;
mod wrapping;

use wrapping::{Told, Wrapping};

/// Options that change how lines are framed.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// A per-line prefix to strip before matching (`--strip-prefix`), anchored at the
    /// start of the line after escape sequences are removed.
    pub strip_prefix: Option<Regex>,
    /// What the input is (`--input`).
    pub input: InputKind,
    /// Join Kubernetes CRI partial lines (`<ts> stdout P <text>`) with the lines that
    /// continue them, up to the `F` line that ends them (the `cri` preset).
    pub join_partial: bool,
    /// Keep what the input says for the HTML report's replay (see [`crate::replay`]):
    /// the format readers keep messages, tool inputs and results, and every line of
    /// plain text is told as a [`EventKind::Said`] event. Off, nothing is kept.
    pub replay: bool,
}

/// The shape of the input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InputKind {
    /// Decided by the first non-blank line: an agent CLI's record (`{"type":…}`), or a
    /// lone `{` opening one of their documents, or plain text.
    #[default]
    Auto,
    /// Plain worker output.
    Text,
    /// The JSON of one agent CLI (its [`format::Spec::cli`]): which of its shapes, by
    /// the first record.
    Cli(&'static str),
}

impl InputKind {
    /// The kind `--input NAME` names: `auto`, `text`, or a format's name.
    pub fn named(name: &str) -> Option<InputKind> {
        match name {
            "auto" => Some(InputKind::Auto),
            "text" => Some(InputKind::Text),
            _ => format::input_names()
                .find(|(n, ..)| *n == name)
                .map(|(.., cli)| InputKind::Cli(cli)),
        }
    }

    /// The CLI whose formats are read (`None`: any, told by the content).
    fn cli(self) -> Option<&'static str> {
        match self {
            InputKind::Cli(cli) => Some(cli),
            InputKind::Auto | InputKind::Text => None,
        }
    }
}

/// What the scanner decided the input is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Undecided,
    Text,
    Json,
    /// The first line is `{` alone: the next one says whether this is a JSON document.
    Pending,
    /// One JSON document (a Gemini chat file), lexed whole as it is read.
    Document,
    /// Plain text so far, before any session: a CLI's record may still open a stream
    /// (a warning on the pseudo-terminal before it), for [`PRELUDE_LINES`] lines.
    Prelude,
}

/// How many non-blank lines of text may come before a stream of records (a CLI's
/// warnings on the pseudo-terminal, where stderr and stdout merge) without turning the
/// input into plain text.
pub const PRELUDE_LINES: u32 = 64;

/// Turns a chunked byte stream into events.
#[derive(Debug, Default)]
pub struct Scanner {
    framer: Framer,
    options: ScanOptions,
    text: TextLines,
    mode: Mode,
    /// The reader of the input's JSON records, once the first one has said which CLI.
    json: Option<Box<dyn Format>>,
    /// The reader of a JSON document input.
    doc: Option<Box<dyn Document>>,
    /// A record longer than the framing head is being read in pieces.
    streaming: bool,
    /// CRI partial lines waiting for their end, per stream (stdout, stderr): the first
    /// line's raw bytes, then the text of each continuation, and where the first line is.
    partial: [Vec<u8>; 2],
    partial_at: [Position; 2],
    /// Non-blank lines of text read in [`Mode::Prelude`].
    prelude: u32,
    /// How the input is wrapped (gzip, UTF-16), told by its first bytes.
    wrapping: Wrapping,
    /// What broke in the wrapping (corrupt gzip): the input was not read to its end.
    damage: Option<String>,
}

impl Scanner {
    pub fn new(options: ScanOptions) -> Self {
        Scanner {
            text: TextLines::new(options.strip_prefix.clone()),
            options,
            ..Scanner::default()
        }
    }

    /// A scanner of plain text that starts at absolute `offset`, at the start of a line
    /// (a block of a file read in parallel): offsets and columns are the file's, line
    /// numbers count from 1 there (see [`shift_lines`]).
    pub fn text_starting_at(options: ScanOptions, offset: u64) -> Self {
        Scanner {
            framer: Framer::starting_at(offset),
            options: ScanOptions {
                input: InputKind::Text,
                ..options.clone()
            },
            mode: Mode::Text,
            wrapping: Wrapping::Plain,
            text: TextLines::new(options.strip_prefix.clone()),
            ..Scanner::default()
        }
    }

    /// Starts again as [`Scanner::text_starting_at`] would, keeping the buffers it has
    /// grown (a worker scans many blocks).
    pub fn restart_text_at(&mut self, offset: u64) {
        let mut text = std::mem::take(&mut self.text);
        text.restart();
        let options = std::mem::take(&mut self.options);
        *self = Scanner {
            text,
            ..Scanner::text_starting_at(options, offset)
        };
    }

    /// Feeds a chunk; `sink` receives the events of every line that ended in it.
    pub fn feed<F: FnMut(Event)>(&mut self, chunk: &[u8], sink: &mut F) {
        let _replay = crate::replay::Capture::enter(self.options.replay);
        if let Wrapping::Plain = self.wrapping {
            let (framer, mut lines, _) = self.split(sink);
            framer.feed(chunk, &mut lines);
        } else {
            self.unwrap(chunk, false, sink);
        }
    }

    /// Ends the input, flushing a last line that has no line break.
    pub fn finish<F: FnMut(Event)>(&mut self, sink: &mut F) {
        let _replay = crate::replay::Capture::enter(self.options.replay);
        if !matches!(self.wrapping, Wrapping::Plain) {
            self.unwrap(&[], true, sink);
        }
        let (framer, mut lines, _) = self.split(sink);
        framer.finish(&mut lines);
        lines.flush_partials();
    }

    /// Feeds a chunk of a wrapped input, or of one whose first bytes have not told yet
    /// (`last` at its end).
    #[cold]
    fn unwrap<F: FnMut(Event)>(&mut self, chunk: &[u8], last: bool, sink: &mut F) {
        let mut chunk = chunk;
        if let Wrapping::Undecided { held, .. } = &mut self.wrapping {
            let Some((told, held, rest)) = wrapping::decide(held, chunk, last) else {
                return;
            };
            chunk = rest;
            self.wrapping = Wrapping::new(&told, 0);
            let mut skip = 0;
            if let Told::Plain(bom) = told
                && bom > 0
            {
                // A UTF-8 byte-order mark: skipped, offsets stay the file's.
                self.framer = Framer::starting_at(bom as u64);
                skip = bom;
            }
            self.unwrap(&held[skip..], false, sink);
        }
        let (framer, mut lines, wrapping) = self.split(sink);
        let broke = wrapping.unwrap(chunk, last, &mut |piece| framer.feed(piece, &mut lines));
        if broke.is_some() && self.damage.is_none() {
            self.damage = broke;
        }
    }

    /// What broke in the input's wrapping (corrupt or cut gzip): what came before it
    /// was checked, the rest could not be read.
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    /// The framer, the line state it pushes segments into, and the wrapping.
    fn split<'s, F>(
        &'s mut self,
        sink: &'s mut F,
    ) -> (&'s mut Framer, LineScan<'s, F>, &'s mut Wrapping) {
        let Scanner {
            framer,
            options,
            text,
            mode,
            json,
            doc,
            streaming,
            partial,
            partial_at,
            prelude,
            wrapping,
            damage: _,
        } = self;
        let lines = LineScan {
            // Plain text goes the short way unless its lines are joined or told.
            short_text: !options.join_partial && !options.replay,
            options,
            text,
            mode,
            json,
            doc,
            streaming,
            partial,
            partial_at,
            prelude,
            sink,
        };
        (framer, lines, wrapping)
    }

    /// Lines seen so far (a last line without `\n` counts).
    pub fn lines(&self) -> u64 {
        self.framer.lines()
    }

    /// Whether lines looked like markers behind a prefix (see [`PrefixHint`]).
    pub fn prefix_hint(&self) -> Option<PrefixHint> {
        self.text.prefix_hint()
    }

    /// What is known of the worker process, when the input is stream-json.
    pub fn worker_run(&self) -> Option<WorkerRun> {
        match (self.mode, &self.doc) {
            (Mode::Document, Some(doc)) => Some(doc.run()),
            (Mode::Json, _) => Some(self.json.as_ref().map(|j| j.run()).unwrap_or_default()),
            _ => None,
        }
    }

    /// The stream-json record counts, when the input is stream-json.
    pub fn records(&self) -> Option<RecordCounts> {
        match (self.mode, &self.doc) {
            (Mode::Document, Some(doc)) => Some(doc.counts()),
            (Mode::Json, _) => Some(self.json.as_ref().map(|j| j.counts()).unwrap_or_default()),
            _ => None,
        }
    }

    /// The options it scans with.
    pub fn options(&self) -> &ScanOptions {
        &self.options
    }

    /// Bytes seen so far.
    pub fn bytes(&self) -> u64 {
        self.framer.bytes()
    }
}

struct LineScan<'s, F> {
    options: &'s ScanOptions,
    /// A line of plain text is handed to the text scanner at once: no CRI partial lines
    /// to join, no replay to tell it to.
    short_text: bool,
    text: &'s mut TextLines,
    mode: &'s mut Mode,
    json: &'s mut Option<Box<dyn Format>>,
    doc: &'s mut Option<Box<dyn Document>>,
    streaming: &'s mut bool,
    partial: &'s mut [Vec<u8>; 2],
    partial_at: &'s mut [Position; 2],
    prelude: &'s mut u32,
    sink: &'s mut F,
}

impl<F: FnMut(Event)> FrameSink for LineScan<'_, F> {
    #[inline]
    fn segment(&mut self, seg: Segment<'_>) {
        // Plain text, the common case, first (inlined into the framer's loop).
        if *self.mode == Mode::Text && self.short_text && !*self.streaming {
            self.text.line(seg, self.sink);
            return;
        }
        self.segment(seg);
    }

    /// Plain text without a prefix to strip, once a session has started: a line whose
    /// first byte is none of those `text` looks at (indentation, an upper-case letter,
    /// `@`, an escape, `[`, a digit), or whose first word is one upper-case letter, is
    /// prose, and leaves no state behind. (Before the first session every line is
    /// read: a prefix that hides the markers may start with any byte.)
    fn skippable(&self) -> Option<&'static crate::frame::Skip> {
        (*self.mode == Mode::Text
            && self.options.strip_prefix.is_none()
            && !self.options.join_partial
            && !self.options.replay
            && self.text.in_session())
        .then_some(&crate::text::PROSE)
    }

    fn awaiting(&self) -> Option<u64> {
        self.text.awaiting()
    }

    /// A long line: when it is a stream-json record or a line of a JSON document, every
    /// byte of it is read as it arrives.
    fn overflow(&mut self, line: u64, offset: u64, head: Option<&[u8]>, more: &[u8]) {
        let here = Place { line, offset };
        if let Some(head) = head {
            self.decide_mode(head);
            if *self.mode == Mode::Document && self.doc.is_some() {
                *self.streaming = true;
                self.document_bytes(head, here);
            }
            if *self.mode == Mode::Json && format::looks_like_record(head) {
                *self.streaming = true;
                let json = reader(self.json, self.options.input, head);
                json.begin();
                json.feed(head);
            }
        }
        if *self.streaming && *self.mode == Mode::Document {
            self.document_bytes(more, here);
        } else if *self.streaming
            && let Some(json) = self.json
        {
            json.feed(more);
        }
    }
}

/// The reader of the input's records: the CLI `--input` names, or the one the first
/// record (`first`, its head) shows.
fn reader<'j>(
    json: &'j mut Option<Box<dyn Format>>,
    input: InputKind,
    first: &[u8],
) -> &'j mut dyn Format {
    json.get_or_insert_with(|| format::reader_for(input.cli(), first))
        .as_mut()
}

impl<F: FnMut(Event)> LineScan<'_, F> {
    /// The first non-blank line decides what the input is; on auto-detection, text may
    /// still turn into a stream of records within its first [`PRELUDE_LINES`] lines.
    fn decide_mode(&mut self, first: &[u8]) {
        // Decided once: every later line returns here at once.
        if !matches!(*self.mode, Mode::Undecided | Mode::Pending | Mode::Prelude)
            || first.trim_ascii().is_empty()
        {
            return;
        }
        let input = self.options.input;
        if *self.mode == Mode::Pending {
            // A Gemini chat file begins `{` then `"sessionId": …`; anything else after a
            // lone `{` is text (that line held no marker).
            match format::document_reader(input.cli(), first) {
                Some(mut doc) => {
                    doc.feed(b"{\n", Place { line: 1, offset: 0 });
                    *self.doc = Some(doc);
                    *self.mode = Mode::Document;
                }
                None if input == InputKind::Auto => *self.mode = Mode::Prelude,
                None => *self.mode = Mode::Text,
            }
            return;
        }
        let prelude = *self.mode == Mode::Prelude;
        if prelude {
            // A session read as text, or enough lines: plain text from here on.
            if self.text.in_session() || *self.prelude >= PRELUDE_LINES {
                *self.mode = Mode::Text;
                return;
            }
            *self.prelude += 1;
        }
        // A JSON document is told by the first line only: after lines of text, a
        // worker's own JSON (or a CLI's answer it prints) must not swallow the rest.
        let json_input = !prelude && input != InputKind::Text && format::has_documents(input.cli());
        if json_input && first.trim_ascii() == b"{" {
            *self.mode = Mode::Pending;
            return;
        }
        // A document on one line (`{"session_id":…,"response":…}`).
        if json_input
            && let Some(doc) = first
                .trim_ascii_start()
                .strip_prefix(b"{")
                .and_then(|rest| format::document_reader(input.cli(), rest))
        {
            *self.doc = Some(doc);
            *self.mode = Mode::Document;
            return;
        }
        *self.mode = match input {
            InputKind::Text => Mode::Text,
            InputKind::Cli(_) => Mode::Json,
            // After lines of text, only a record some CLI writes opens a stream.
            InputKind::Auto if prelude && format::opens_stream(first) => Mode::Json,
            InputKind::Auto if !prelude && format::looks_like_record(first) => Mode::Json,
            InputKind::Auto => Mode::Prelude,
        };
    }

    #[inline(never)]
    fn segment(&mut self, seg: Segment<'_>) {
        if !*self.streaming {
            // (A long line was looked at when its head overflowed.)
            self.decide_mode(seg.bytes);
        }
        if matches!(*self.mode, Mode::Undecided | Mode::Pending) {
            return;
        }
        if *self.mode == Mode::Document {
            self.document_line(&seg);
            return;
        }
        if std::mem::take(self.streaming) {
            self.record(&seg);
            return;
        }
        // In a stream, a line that is not a record (stderr merged in) is plain text.
        if *self.mode == Mode::Json && format::looks_like_record(seg.bytes) {
            let json = reader(self.json, self.options.input, seg.bytes);
            json.begin();
            json.feed(seg.bytes);
            self.record(&seg);
            return;
        }
        if self.options.join_partial {
            self.join_partial(seg);
            return;
        }
        if self.options.replay {
            self.said_line(&seg);
        }
        self.text.line(seg, self.sink);
    }

    /// A line of plain text, told for the replay before its events.
    #[cold]
    fn said_line(&mut self, seg: &Segment<'_>) {
        let bytes = seg.bytes.strip_suffix(b"\r").unwrap_or(seg.bytes);
        let line = crate::replay::Excerpt::of(bytes);
        (self.sink)(Event {
            at: Position {
                line: seg.line,
                column: seg.column,
                offset: seg.offset,
                block_line: None,
            },
            kind: EventKind::Said(Box::new(crate::replay::Said::Line(line))),
            text: crate::event::LineText::empty(seg.line, seg.column, seg.offset),
        });
    }
}

impl ScanOptions {
    /// Plain text, no prefix: how the text inside a stream-json record is read.
    pub fn default_text() -> ScanOptions {
        ScanOptions {
            strip_prefix: None,
            input: InputKind::Text,
            join_partial: false,
            replay: false,
        }
    }
}

/// Whether an input that starts with `start` (its first bytes; `whole` when that is all
/// of it) is plain text to its end as auto-detection sees it: no record or JSON document
/// among its first [`PRELUDE_LINES`] non-blank lines. Unsure (those lines are not all in
/// `start`) is no, and so is a wrapped input (gzip, a byte-order mark).
pub fn plain_text_from(start: &[u8], whole: bool) -> bool {
    if !matches!(wrapping::tell(start, whole), Told::Plain(0)) {
        return false;
    }
    // Segments, as the framer cuts them (a `\r` ends one too).
    let mut lines = start
        .split(|&b| b == b'\n' || b == b'\r')
        .filter(|l| !l.trim_ascii().is_empty());
    for (i, line) in lines.by_ref().take(PRELUDE_LINES as usize + 1).enumerate() {
        let ended = whole || line.as_ptr_range().end < start.as_ptr_range().end;
        if !ended {
            return false;
        }
        let opens = if i == 0 {
            format::looks_like_record(line)
                || line.trim_ascii() == b"{"
                || line
                    .trim_ascii_start()
                    .strip_prefix(b"{")
                    .is_some_and(|rest| format::document_reader(None, rest).is_some())
        } else {
            format::opens_stream(line)
        };
        if opens {
            return false;
        }
    }
    true
}

/// Whether an input that starts with `start` is unwrapped plain bytes (no gzip, no
/// byte-order mark): only such a file can be read in blocks.
pub fn unwrapped(start: &[u8], whole: bool) -> bool {
    matches!(wrapping::tell(start, whole), Told::Plain(0))
}

/// Moves an event `lines` lines down: the events of a block scanned on its own get the
/// line numbers of the whole file.
pub fn shift_lines(event: &mut Event, lines: u64) {
    event.at.line += lines;
    if let EventKind::Malformed(m) = &mut event.kind {
        m.at.line += lines;
    }
    if lines > 0 {
        // Each event has its own line text, so this does not copy it.
        Arc::make_mut(&mut event.text).line += lines;
    }
}

/// Scans a whole byte slice at once (tests, small inputs).
pub fn scan_all(input: &[u8], options: ScanOptions) -> Vec<Event> {
    let mut events = Vec::new();
    let mut scanner = Scanner::new(options);
    let mut sink = |e| events.push(e);
    scanner.feed(input, &mut sink);
    scanner.finish(&mut sink);
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Marker;

    fn kinds(input: &[u8]) -> Vec<(u64, u64, String)> {
        scan_all(input, ScanOptions::default())
            .into_iter()
            .map(|e| {
                let k = match e.kind {
                    EventKind::Marker(m) => format!("{m:?}"),
                    EventKind::Malformed(m) => {
                        format!("malformed@{}:{} {}", m.at.line, m.at.column, m.message())
                    }
                    EventKind::Unknown { word, suggestion } => {
                        format!("unknown {word}→{suggestion}")
                    }
                    other => format!("{other:?}"),
                };
                (e.at.line, e.at.column, k)
            })
            .collect()
    }

    #[test]
    fn ansi_indentation_and_backticks_do_not_hide_markers() {
        let got = kinds(b"  \x1b[32mTASK_START: h-1\x1b[0m\n\t`TASK_COMPLETE: h-1`\r\n");
        assert_eq!(got[0].0..=got[0].1, 1..=8);
        assert!(got[0].2.starts_with("TaskStart"), "{got:?}");
        assert_eq!((got[1].0, got[1].1), (2, 3));
        assert!(got[1].2.contains("\"h-1\""), "{got:?}");
    }

    #[test]
    fn keywords_mid_sentence_are_prose() {
        assert!(kinds(b"we print TASK_START: x here\nlower TASK_COMPLETE: y\n").is_empty());
    }

    #[test]
    fn malformed_points_at_the_first_bad_byte() {
        let got = kinds(b"\x1b[1mFILES_CREATED: three\x1b[0m\n");
        assert_eq!(got[0].2, "malformed@1:20 expected a count, found \"three\"");
    }

    #[test]
    fn distillation_continuation_lines_are_parsed() {
        let events = scan_all(
            b"@sigma-distiller: Analyze.\nOutput files: 4\nStrategies: 0\nUpdate.\n\nStrategies: 9\n",
            ScanOptions::default(),
        );
        let markers: Vec<_> = events
            .into_iter()
            .map(|e| match e.kind {
                EventKind::Marker(m) => m,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            markers[1..],
            [
                Marker::DistillationOutputFiles { count: 4 },
                Marker::DistillationStrategies { count: 0 }
            ]
        );
    }

    #[test]
    fn strip_prefix_removes_pane_tags() {
        let options = ScanOptions {
            strip_prefix: Some(Regex::new(r"^\[pane-\d+\] ").unwrap()),
            ..ScanOptions::default()
        };
        let events = scan_all(b"[pane-2] TASK_START: h-1\n", options);
        assert_eq!(events[0].at.column, 10);
        // Without the flag the marker is prose; the line is reported once, as hidden.
        assert_eq!(
            kinds(b"[pane-2] TASK_START: h-1\n[pane-2] TASK_START: h-2\n"),
            [(
                1,
                10,
                r#"Prefixed { flag: Some("'\\[[^]]*\\] '") }"#.to_owned()
            )]
        );
        let mut scanner = Scanner::default();
        scanner.feed(b"[pane-2] TASK_START: h-1\nx\n2026-11-23 10:15:30,123 INFO TASK_START: h-2\n[1] prose\n", &mut |_| {});
        assert_eq!(
            scanner.prefix_hint(),
            Some(PrefixHint {
                lines: 2,
                first_line: 1
            })
        );
    }
}
