//! Typed protocol events: what the grammar hands to the session machine.
//!
//! An [`Event`] is one marker line (or a finding about a line that tried to be one), with
//! its exact position in the original input and a bounded copy of the line for
//! diagnostics. Payloads are typed values: counts are integers, durations and timestamps
//! are parsed, lists are lists.

use std::sync::Arc;

use serde::Serialize;

use crate::grammar::Keyword;
pub use crate::grammar::marker::{
    Elapsed, Marker, PatternUpdate, QueueDepth, SessionId, Timestamp,
};

/// A place in the original input: 1-based line (counting `\n` only), 1-based byte
/// column, 0-based absolute byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Position {
    pub line: u64,
    pub column: u64,
    pub offset: u64,
    /// In a stream-json record or session file: the line within the worker's text (the
    /// text block or command output) that the marker is on; `line` is the record's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_line: Option<u64>,
}

/// A bounded copy of the raw bytes of the input line a marker was found on, kept so a
/// diagnostic can show it later without holding the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineText {
    /// 1-based line number.
    pub line: u64,
    /// 1-based byte column of `bytes[0]` in that line (greater than 1 after a lone `\r`).
    pub column: u64,
    /// Absolute offset of `bytes[0]`.
    pub offset: u64,
    /// The raw bytes, cut at [`LineText::MAX`].
    pub bytes: Box<[u8]>,
}

impl LineText {
    /// How much of a line a diagnostic shows.
    pub const MAX: usize = 1024;

    /// No text, at a place (an event or a finding that stands for no line's content).
    pub fn empty(line: u64, column: u64, offset: u64) -> Arc<LineText> {
        Arc::new(LineText {
            line,
            column,
            offset,
            bytes: Box::default(),
        })
    }
}

/// One thing the grammar found on a candidate line.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Where the keyword (or the near-miss word) starts.
    pub at: Position,
    pub kind: EventKind,
    /// The line, shared with the findings that quote it.
    pub text: Arc<LineText>,
}

/// What the line was.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A well-formed marker.
    Marker(Marker),
    /// A keyword whose payload does not parse.
    Malformed(Malformed),
    /// An upper-case `WORD_WORD:` close to a keyword.
    Unknown { word: String, suggestion: Keyword },
    /// A stream-json `result` record: how the worker process ended.
    WorkerExit {
        subtype: String,
        /// How the run ended (see `format::Exit::cause`): `success` or a failure.
        cause: String,
        /// Whether that is a failure (`format::Exit::failed`).
        failed: bool,
        num_turns: Option<u64>,
        total_cost_usd: Option<f64>,
        /// The CLI still runs work of its own (a Claude Code background agent started
        /// and not finished): more records are to come, this is no final word.
        more: bool,
    },
    /// A session file record's `timestamp`: the time of the events that follow.
    Clock(Timestamp),
    /// The timestamp of a log envelope (docker, CRI, GitHub, journald) stripped from the
    /// marker line that follows: when it was printed. Only the pictures read it (the
    /// rules keep to the records' own clock).
    Envelope(Timestamp),
    /// A subagent finished (its id, as Claude Code names its records' file).
    SubagentRun { agent_id: String },
    /// The input shows the worker's tool calls (stream-json or a session file): its
    /// claims can be checked against its actions.
    ActionsVisible {
        /// Subagent calls are visible too (Claude's `Task`/`Agent`); a CLI without them
        /// (Gemini) leaves `SUBAGENT_SPAWN` unchecked against actions.
        subagents: bool,
        /// The calls that create files are visible (a Codex rollout's `apply_patch` is
        /// not read): otherwise `FILES_CREATED` is not checked against actions.
        files: bool,
    },
    /// The first line of an input that holds a marker behind a line prefix (a log
    /// envelope's timestamp, `[pane-2] `) while no `--strip-prefix` is given, with the
    /// `--strip-prefix` value that would uncover it, when one is known.
    Prefixed { flag: Option<String> },
    /// A tool call of the worker itself: the subagent type of a `Task`/`Agent` call, the
    /// path of a `Write`.
    ToolCall {
        tool: String,
        subagent: Option<String>,
        /// The file the call creates (see `format::ToolCall::creates`).
        creates: Option<String>,
        /// The worker's call whose subagent made it (see `format::ToolCall::parent`).
        parent: Option<String>,
        /// The call's id (its result names it).
        id: Option<String>,
        /// A digest of its input (see `format::ToolCall::input`).
        input: u64,
    },
    /// A tool call's result came (see `format::ToolDone`).
    ToolDone { id: String, failed: bool },
    /// The usage the CLI reported so far (see `crate::usage`), after a record that
    /// reported some.
    Usage(Box<crate::usage::Usage>),
    /// The CLI hit a rate limit and waits (until this Unix time, when it says).
    RateLimited { resets_at: Option<i64> },
    /// What the input said here, for the HTML report's replay (only when a run asks
    /// for it; see [`crate::replay`]). No rule reads it.
    Said(Box<crate::replay::Said>),
}

/// Why a payload did not parse, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    pub keyword: &'static str,
    /// The first bad byte.
    pub at: Position,
    /// Length in bytes of the offending token (at least 1 for display).
    pub len: u64,
    /// What the grammar expected there ("a count").
    pub expected: &'static str,
    /// What was there instead, escaped and quoted, or `end of line`.
    pub found: String,
}

impl Malformed {
    /// The one-line explanation: `expected a count, found "three"`.
    pub fn message(&self) -> String {
        format!("expected {}, found {}", self.expected, self.found)
    }
}
