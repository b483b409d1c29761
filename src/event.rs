//! Typed protocol events: what the grammar hands to the session machine.
//!
//! An [`Event`] is one marker line (or a finding about a line that tried to be one), with
//! its exact position in the original input and a bounded copy of the line for
//! diagnostics. Payloads are typed values: counts are integers, durations and timestamps
//! are parsed, lists are lists.

use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::grammar::Keyword;

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
    },
    /// A session file record's `timestamp`: the time of the events that follow.
    Clock(Timestamp),
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
    },
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

/// A marker with its typed payload (SPEC §1).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Marker {
    SessionStart {
        session: SessionId,
    },
    PatternFilesRead {
        files: Vec<String>,
    },
    QueueDepth {
        queues: Vec<QueueDepth>,
    },
    TaskStart {
        task: String,
    },
    SubagentSpawn {
        agent: String,
    },
    SubagentComplete {
        agent: String,
    },
    FilesCreated {
        count: u64,
    },
    TaskComplete {
        task: String,
    },
    /// `@sigma-distiller: …`, the distillation request.
    DistillationRequest {
        text: String,
    },
    /// The request's `Output files: N` continuation line.
    DistillationOutputFiles {
        count: u64,
    },
    /// The request's `Strategies: N` continuation line.
    DistillationStrategies {
        count: u64,
    },
    DistillationComplete,
    PatternsUpdated {
        updates: Vec<PatternUpdate>,
    },
    SessionComplete {
        session: SessionId,
    },
    Duration {
        duration: Elapsed,
    },
    TasksCompleted {
        count: u64,
    },
    StrategiesProduced {
        count: u64,
    },
    HypothesesQueued {
        count: u64,
    },
}

impl Marker {
    /// The keyword that introduces this marker (continuation lines report the request's).
    pub fn keyword(&self) -> Keyword {
        match self {
            Marker::SessionStart { .. } => Keyword::SessionStart,
            Marker::PatternFilesRead { .. } => Keyword::PatternFilesRead,
            Marker::QueueDepth { .. } => Keyword::QueueDepth,
            Marker::TaskStart { .. } => Keyword::TaskStart,
            Marker::SubagentSpawn { .. } => Keyword::SubagentSpawn,
            Marker::SubagentComplete { .. } => Keyword::SubagentComplete,
            Marker::FilesCreated { .. } => Keyword::FilesCreated,
            Marker::TaskComplete { .. } => Keyword::TaskComplete,
            Marker::DistillationRequest { .. }
            | Marker::DistillationOutputFiles { .. }
            | Marker::DistillationStrategies { .. } => Keyword::SigmaDistiller,
            Marker::DistillationComplete => Keyword::DistillationComplete,
            Marker::PatternsUpdated { .. } => Keyword::PatternsUpdated,
            Marker::SessionComplete { .. } => Keyword::SessionComplete,
            Marker::Duration { .. } => Keyword::Duration,
            Marker::TasksCompleted { .. } => Keyword::TasksCompleted,
            Marker::StrategiesProduced { .. } => Keyword::StrategiesProduced,
            Marker::HypothesesQueued { .. } => Keyword::HypothesesQueued,
        }
    }
}

/// A session id, `{worker-type}-{timestamp}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionId {
    /// The id exactly as printed.
    pub id: String,
    pub worker_type: String,
    pub timestamp: Timestamp,
}

/// A date-time as Python prints it, with its UTC offset when it had one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub local: chrono::NaiveDateTime,
    /// Seconds east of UTC, when the timestamp was aware.
    pub offset: Option<chrono::FixedOffset>,
}

impl Timestamp {
    /// Microseconds between two timestamps, when both are naive or both aware.
    pub fn micros_until(&self, later: &Timestamp) -> Option<i64> {
        let delta = match (self.offset, later.offset) {
            (None, None) => later.local - self.local,
            (Some(a), Some(b)) => {
                let a = self.local.and_local_timezone(a).single()?;
                let b = later.local.and_local_timezone(b).single()?;
                b - a
            }
            _ => return None,
        };
        delta.num_microseconds()
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.local.format("%Y-%m-%dT%H:%M:%S%.f"))?;
        match self.offset {
            Some(o) => write!(f, "{o}"),
            None => Ok(()),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A signed length of time with microsecond precision (Python's `timedelta` resolution);
/// serialised as seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Elapsed {
    pub micros: i64,
}

impl Elapsed {
    pub fn seconds(self) -> f64 {
        self.micros as f64 / 1e6
    }
}

impl Serialize for Elapsed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Repr {
            seconds: f64,
        }
        Repr {
            seconds: self.seconds(),
        }
        .serialize(s)
    }
}

/// One `name=count` entry of `QUEUE_DEPTH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueDepth {
    pub queue: String,
    pub depth: u64,
}

/// One `file (+N entries)` entry of `PATTERNS_UPDATED`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatternUpdate {
    pub file: String,
    pub entries: i64,
}
