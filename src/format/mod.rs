//! Input formats: the JSON an agent CLI prints, one module per CLI behind [`Format`].
//!
//! Each format reads records in pieces as they arrive (with the format-neutral push
//! [`lexer`], naming the fields it wants), decides which text is the worker speaking,
//! which tool calls back its claims, and how its process ended, and hands the scanner a
//! [`Record`] per line: the same items whatever the CLI. Adding a CLI is one module here
//! and a line in [`detect`].

pub mod claude;
pub mod codex;
pub mod codex_rollout;
pub mod command;
pub mod gemini;
pub mod gemini_chat;
pub mod gemini_json;
pub mod lexer;

use std::collections::HashMap;

use crate::event::{Event, Timestamp};
use crate::text::TextScanner;
pub use crate::usage::Usage;

/// A reader of one CLI's JSON records, fed a record at a time (in pieces of any size).
pub trait Format: std::fmt::Debug + Send {
    /// Starts a record.
    fn begin(&mut self);
    /// Feeds the next piece of the record.
    fn feed(&mut self, bytes: &[u8]);
    /// Ends the record, which is on `line`; `None` when it was not one JSON object
    /// (broken or torn).
    fn end(&mut self, line: u64) -> Option<Record>;
    /// What is known of the worker process so far.
    fn run(&self) -> WorkerRun;
    /// The records read so far, and those not read.
    fn counts(&self) -> RecordCounts;
    /// Whether the CLI starts subagents by a tool call this reader sees (so that
    /// `SUBAGENT_SPAWN` can be checked against it).
    fn subagent_calls_visible(&self) -> bool {
        true
    }
    /// Whether the calls that create files are visible to this reader (so that
    /// `FILES_CREATED` can be checked against them).
    fn file_calls_visible(&self) -> bool {
        true
    }
}

/// One kind of agent-CLI input: the `--input` names that force it, how its first record
/// tells it, and its reader. Adding a format is one file in `format/` that defines its
/// `SPEC`, and its line in [`FORMATS`].
pub struct Spec {
    /// `--input` names that force this CLI (the first is the one the scanner keeps), and
    /// what each is; empty when the input is only told by its content.
    pub names: &'static [(&'static str, &'static str)],
    /// The CLI, for the formats it writes in more than one shape: `--input NAME` picks
    /// among the formats of its CLI the one whose first record fits.
    pub cli: &'static str,
    /// Whether `first` (the first record's first bytes) is this format's.
    pub detect: fn(&[u8]) -> bool,
    /// A reader of its records.
    pub reader: fn() -> Box<dyn Format>,
    /// The types of the records its stream on stdout starts with: one of them after
    /// lines of text opens the stream (see [`opens_stream`]); empty for files the CLI
    /// writes on disk, which nothing prints before.
    pub opens: &'static [&'static [u8]],
    /// Its one-document shapes (a pretty-printed JSON file): told by the line after a
    /// lone `{`, or by the document's first key when it is on one line.
    pub documents: &'static [DocumentSpec],
}

/// A one-document shape of a CLI's output.
pub struct DocumentSpec {
    /// Whether `second` (the line after the opening `{`, or the rest of a one-line
    /// document) starts this document.
    pub detect: fn(&[u8]) -> bool,
    pub reader: fn() -> Box<dyn Document>,
}

/// Every agent-CLI format, in the order detection tries them: Claude Code last, as it
/// takes any record the others do not.
pub const FORMATS: &[&Spec] = &[
    &codex::SPEC,
    &codex_rollout::SPEC,
    &gemini::SPEC,
    &claude::SPEC,
];

/// What `--input NAME` forces, or auto-detection.
pub fn spec_named(cli: Option<&str>) -> impl Iterator<Item = &'static Spec> {
    FORMATS
        .iter()
        .copied()
        .filter(move |s| cli.is_none_or(|c| s.cli == c))
}

/// The `--input` names of every format, with what each is.
pub fn input_names() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    FORMATS
        .iter()
        .flat_map(|s| s.names.iter().map(|(name, help)| (*name, *help, s.cli)))
}

/// The reader of an input whose first record is `first`: of the format that tells it
/// among those of `cli` (all of them when `None`), else of the first of them.
pub fn reader_for(cli: Option<&str>, first: &[u8]) -> Box<dyn Format> {
    let head = &first[..first.len().min(4096)];
    let spec = spec_named(cli)
        .find(|s| (s.detect)(head))
        .or_else(|| spec_named(cli).next())
        .unwrap_or(&claude::SPEC);
    (spec.reader)()
}

/// The value of the first `"type":"…"` in `head`, when it is a plain string.
pub(crate) fn type_of(head: &[u8]) -> Option<&[u8]> {
    let at = memchr::memmem::find(head, b"\"type\"")? + 6;
    let rest = head[at..]
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    (rest[end] == b'"').then(|| &rest[..end])
}

/// The reader of a JSON document input of `cli` (any when `None`) whose first line is
/// `{` alone and whose next line is `second` (or a one-line document after its `{`), if
/// it is one: a Gemini chat file, or Gemini's `--output-format json`.
pub fn document_reader(cli: Option<&str>, second: &[u8]) -> Option<Box<dyn Document>> {
    spec_named(cli)
        .flat_map(|s| s.documents)
        .find(|d| (d.detect)(second))
        .map(|d| (d.reader)())
}

/// Whether a CLI writes one-document shapes (so a lone `{` may start one).
pub fn has_documents(cli: Option<&str>) -> bool {
    spec_named(cli).any(|s| !s.documents.is_empty())
}

/// Whether a line is a record of an agent CLI: a stream event (`{"type":…`), a Claude
/// Code session-file record (`{"parentUuid":…,"type":…`) or a Codex rollout record
/// (`{"timestamp":…,"type":…`): a JSON object with a `"type"` key near its start.
pub fn looks_like_record(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    let Some(rest) = t.strip_prefix(b"{") else {
        return false;
    };
    let rest = rest.trim_ascii_start();
    rest.starts_with(b"\"type\"")
        || ((rest.starts_with(b"\"parentUuid\"") || rest.starts_with(b"\"timestamp\""))
            && memchr::memmem::find(&t[..t.len().min(4096)], b"\"type\":").is_some())
}

/// Whether `line`, met among lines of text before any session, opens a stream of an
/// agent CLI's records (a CLI's warning on the pseudo-terminal before its stream, where
/// stderr and stdout merge): a record of a type a CLI's stream starts with (Claude
/// Code's `system`, Codex's `thread.started`, Gemini's `init`). Any other record — a
/// worker that prints some JSON of its own, or the `result` of a CLI it ran — leaves a
/// plain transcript plain.
pub fn opens_stream(line: &[u8]) -> bool {
    if !looks_like_record(line) {
        return false;
    }
    let head = &line[..line.len().min(4096)];
    type_of(head).is_some_and(|t| FORMATS.iter().any(|s| s.opens.contains(&t)))
}

/// A reader of a document: fed the whole input, it hands out records as they complete.
pub trait Document: std::fmt::Debug + Send {
    /// Feeds the next piece of the document, which is on the line at `at`. The caller
    /// takes the records it completed ([`Document::next_record`]) before the next piece,
    /// and keeps pieces short, so what waits stays small.
    fn feed(&mut self, bytes: &[u8], at: Place);
    /// The next record completed so far, with the place it is put at.
    fn next_record(&mut self) -> Option<(Place, Record)>;
    /// What is known of the worker process.
    fn run(&self) -> WorkerRun;
    /// The records read, and those not read.
    fn counts(&self) -> RecordCounts;
    /// Which tool calls the document shows (subagent calls, file calls); `None` when it
    /// shows none, so claims cannot be checked against actions.
    fn calls_visible(&self) -> Option<(bool, bool)>;
}

/// Where a piece of a document is: its line, and the offset of that line's start (of
/// the line its text starts on, for a record).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Place {
    pub line: u64,
    pub offset: u64,
}

/// A tool call of the worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolCall {
    pub tool: String,
    /// `input.subagent_type` of a `Task`/`Agent` call.
    pub subagent: Option<String>,
    /// The path of a file the call creates: a `Write` to a path the session has not read
    /// or edited before (Claude Code makes a worker read a file before overwriting it),
    /// or an `Edit` with an empty `old_string`.
    pub creates: Option<String>,
    /// The call of the worker's whose subagent made this call (Claude Code's
    /// `parent_tool_use_id`); `None` for the worker's own calls.
    pub parent: Option<String>,
    /// The call's id, as the CLI names it (its result names it too).
    pub id: Option<String>,
    /// A digest of the call's input (every key and value, in order): two calls of a tool
    /// with the same digest asked for the same thing.
    pub input: u64,
    /// The input as text, when the run replays (see [`crate::replay`]).
    pub shown: Option<Box<crate::replay::Excerpt>>,
}

/// The result of a tool call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolDone {
    /// The call's id.
    pub id: String,
    /// The tool reported an error (Claude's `is_error`, a command's non-zero exit, a
    /// failed status).
    pub failed: bool,
}

/// A running digest of a tool call's input (FNV-1a: stable, cheap, no allocation), and,
/// when the run replays (see [`crate::replay::capturing`]), the input as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest(pub u64, pub Option<Box<crate::replay::InputText>>);

impl Default for Digest {
    fn default() -> Self {
        Digest(
            0xcbf2_9ce4_8422_2325,
            crate::replay::capturing().then(Box::default),
        )
    }
}

impl Digest {
    #[inline]
    pub fn feed(&mut self, bytes: &[u8]) {
        self.hash(bytes);
        if let Some(shown) = &mut self.1 {
            shown.value(bytes);
        }
    }

    /// (In a local: the loop keeps it in a register.)
    #[inline]
    fn hash(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
        self.0 = h;
    }

    /// A key of the input (digested as its bytes).
    pub fn key(&mut self, name: &[u8]) {
        self.hash(name);
        if let Some(shown) = &mut self.1 {
            shown.key(name);
        }
    }

    /// Marks where one value ends and the next starts.
    pub fn mark(&mut self, tag: u8) {
        self.hash(&[0xff, tag]);
        if let Some(shown) = &mut self.1 {
            shown.start();
        }
    }

    /// The input as the replay shows it, when kept.
    pub fn shown(&mut self) -> Option<Box<crate::replay::Excerpt>> {
        self.1.take().map(|i| Box::new(i.text))
    }

    /// The digest of whole bytes.
    pub fn of(bytes: &[u8]) -> u64 {
        let mut d = Digest(Digest::default().0, None);
        d.hash(bytes);
        d.0
    }
}

/// One thing a record says, in the order it says it.
#[derive(Debug, PartialEq)]
pub enum Item {
    /// Events found in a text of the worker (positions relative to that text).
    Text(Vec<Event>),
    Call(ToolCall),
    /// A tool call's result came.
    Done(ToolDone),
    /// A subagent finished; Claude Code 2.1 keeps its records in
    /// `<session>/subagents/agent-<id>.jsonl` beside the session file.
    SubagentRun(String),
    /// A message or a tool result, for the replay (only when the run replays; a call's
    /// input rides on its [`ToolCall`]).
    Said(Box<crate::replay::Said>),
}

/// How a worker process ended: a `result` record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exit {
    /// `success`, `error_max_turns`, `error_during_execution`, …
    pub subtype: String,
    /// An API failure arrives as `subtype:"success"` with `is_error:true`; either signal
    /// alone is a failure.
    pub is_error: bool,
    /// `aborted_by_user`, … when the run was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_reason: Option<String>,
    pub num_turns: Option<u64>,
    pub total_cost_usd: Option<f64>,
}

/// How a worker process ended (SPEC §5 `cause`), as reports spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause<'a> {
    Success,
    /// Aborted by the user (`terminal_reason` `aborted_…`).
    Cancelled,
    /// A `success` subtype with `is_error` (an API failure), or a failed turn.
    Error,
    /// An error subtype, verbatim (`error_max_turns`, …).
    Failed(&'a str),
    /// A stream that ended without its final record.
    Killed,
    /// A session file whose last tool call has no result yet.
    InFlight,
    /// A session file that simply ends.
    Idle,
}

impl Cause<'_> {
    /// Whether the run failed (anything but `success`: a kill, a cancel, an error).
    pub fn failed(self) -> bool {
        self != Cause::Success
    }

    pub fn as_str(&self) -> &str {
        match self {
            Cause::Success => "success",
            Cause::Cancelled => "cancelled",
            Cause::Error => "error",
            Cause::Failed(subtype) => subtype,
            Cause::Killed => "killed",
            Cause::InFlight => "in-flight",
            Cause::Idle => "idle",
        }
    }
}

impl std::fmt::Display for Cause<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Cause<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Exit {
    /// How the run ended: `success`; `cancelled` for an aborted run; `error` for a
    /// `success` subtype with `is_error`; otherwise the error subtype.
    pub fn cause(&self) -> Cause<'_> {
        if self
            .terminal_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("aborted"))
        {
            return Cause::Cancelled;
        }
        match (self.subtype.as_str(), self.is_error) {
            ("success", false) => Cause::Success,
            ("success" | "error", true) | ("error", false) => Cause::Error,
            (subtype, _) => Cause::Failed(subtype),
        }
    }

    /// Whether the run failed.
    pub fn failed(&self) -> bool {
        self.cause().failed()
    }
}

/// What one record contributes.
#[derive(Debug, Default, PartialEq)]
pub struct Record {
    /// The worker's texts and tool calls, in order.
    pub items: Vec<Item>,
    /// A `result` record.
    pub exit: Option<Exit>,
    /// A session file record's `timestamp`.
    pub timestamp: Option<Timestamp>,
    /// The record reported usage: the input's usage so far (see [`usage`]).
    pub usage: Option<Usage>,
    /// A rate limit the CLI hit: it waits (until this Unix time, when it says).
    pub rate_limited: Option<Option<i64>>,
    /// A `result` while background work of the CLI's still runs: more is to come.
    pub more: bool,
}

/// What is known of the worker process itself: how it ended, and what it was doing.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WorkerRun {
    /// The last `result` record; none when the process was killed before printing one.
    pub exit: Option<Exit>,
    /// The worker's own assistant messages seen: its turns so far.
    pub messages: u64,
    /// The worker's last tool call whose result never came.
    pub in_flight: Option<InFlight>,
    /// The input is an on-disk session file, which never holds a final record.
    #[serde(skip)]
    pub session_file: bool,
    /// The user's last text is Claude Code's interrupt notice, with no answer after it.
    #[serde(skip)]
    pub interrupted: bool,
    /// The tokens and cost the CLI reported (see [`usage`]); `None` when it reported
    /// none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The model the CLI said it runs (its first record), when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The agent CLI that wrote the input (`claude-code`, `codex`, `gemini-cli`): the
    /// agent of its run in traces.
    #[serde(skip)]
    pub cli: Option<&'static str>,
    /// The CLI's own id of the run (Claude Code's session id, Codex's thread id, Gemini
    /// CLI's session id), its first record's: the conversation in traces.
    #[serde(skip)]
    pub conversation: Option<String>,
    /// Its last record said it hit a rate limit and waits: until this Unix time (in
    /// seconds), when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<Option<i64>>,
}

impl WorkerRun {
    /// How the process ended (SPEC §5 `cause`): the `result` record's, else `killed` for
    /// a stream that ends without one, and for a session file (whose end is no evidence
    /// of a kill) `cancelled` when the user interrupted the last turn, `in-flight` when a
    /// tool call has no result yet, otherwise `idle`.
    pub fn cause(&self) -> Cause<'_> {
        match (&self.exit, self.session_file) {
            (Some(exit), _) => exit.cause(),
            (None, false) => Cause::Killed,
            (None, true) if self.interrupted => Cause::Cancelled,
            (None, true) if self.in_flight.is_some() => Cause::InFlight,
            (None, true) => Cause::Idle,
        }
    }
}

/// A tool call without a result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InFlight {
    pub tool: String,
    pub line: u64,
    /// The subagent of a `Task`/`Agent` call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subagent: Option<String>,
    /// The command of a `Bash` call, or the path of a file tool (cut at 200 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How many records a stream-json input held, and how many were not read: unknown
/// record types are normal (schema drift), broken JSON is a torn line or stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecordCounts {
    pub records: u64,
    pub unknown_records: u64,
    pub broken_records: u64,
    /// What the format cannot show (said once in the summary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

impl RecordCounts {
    /// Counts a record that ended: read when it was one whole JSON value (`whole`),
    /// broken otherwise. Returns `whole`.
    pub fn ended(&mut self, whole: bool) -> bool {
        if whole {
            self.records += 1;
        } else {
            self.broken_records += 1;
        }
        whole
    }
}

/// Longest short field a reader keeps (types, ids, names, paths, commands).
pub(crate) const MAX_FIELD: usize = 1024;

/// Appends the decoded bytes of a string value to a kept field, up to [`MAX_FIELD`]
/// bytes (a field of any size in the input costs at most that).
pub(crate) fn keep(field: &mut String, bytes: &[u8]) {
    let room = MAX_FIELD.saturating_sub(field.len());
    field.push_str(&String::from_utf8_lossy(&bytes[..bytes.len().min(room)]));
}

/// The call in flight: the last one started whose result never came.
pub fn in_flight(pending: &HashMap<String, InFlight>) -> Option<InFlight> {
    pending.values().max_by_key(|c| c.line).cloned()
}

/// Text that is the worker speaking, scanned for markers as it is decoded (a command
/// output of any size is never held), its events kept until the record ends; its first
/// bytes kept too when the run replays.
#[derive(Debug)]
pub struct WorkerText {
    scanner: Box<TextScanner>,
    events: Vec<Event>,
    said: Option<crate::replay::Excerpt>,
}

impl Default for WorkerText {
    fn default() -> Self {
        WorkerText {
            scanner: Box::default(),
            events: Vec::new(),
            said: crate::replay::capturing().then(Default::default),
        }
    }
}

impl WorkerText {
    /// Feeds the next decoded piece of the text.
    pub fn feed(&mut self, bytes: &[u8]) {
        let events = &mut self.events;
        self.scanner.feed(bytes, &mut |e| events.push(e));
        if let Some(said) = &mut self.said {
            said.push(bytes);
        }
    }

    /// The text as the replay shows it (when the run replays), taken before the text
    /// ends.
    pub fn said(&mut self) -> Option<crate::replay::Excerpt> {
        self.said.take()
    }

    /// The events found so far (the text goes on).
    pub fn take(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Ends the text (its last line is read) and hands over its events.
    pub fn finish(mut self) -> Vec<Event> {
        let events = &mut self.events;
        self.scanner.finish(&mut |e| events.push(e));
        self.events
    }

    /// The events of a whole text.
    pub fn scan(bytes: &[u8]) -> Vec<Event> {
        let mut text = WorkerText::default();
        text.feed(bytes);
        text.finish()
    }
}

/// The protocol keywords of the worker's texts in a record, in order (for tests).
#[cfg(test)]
pub(crate) fn markers(r: &Record) -> Vec<String> {
    r.items
        .iter()
        .filter_map(|i| match i {
            Item::Text(events) => Some(events),
            _ => None,
        })
        .flatten()
        .filter_map(|e| match &e.kind {
            crate::event::EventKind::Marker(m) => Some(m.keyword().word().to_owned()),
            _ => None,
        })
        .collect()
}
