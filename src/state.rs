//! The rebuilt state of a session, as `state` and `postmortem` print it: the seed's
//! `SessionState` fields (`worker_type`, `start_time`, `tasks_completed`,
//! `files_created`, `strategies_produced`, `hypotheses_queued`, `patterns_read`,
//! `distillation_complete`) plus what the transcript tells beyond them.

use serde::Serialize;

use crate::event::{PatternUpdate, QueueDepth, Timestamp};
use crate::finding::Label;

/// Whether a session printed its completion marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Complete,
    Crashed,
}

/// A task started and not completed when the session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenTask {
    pub task: String,
    /// The line of its `TASK_START`.
    pub line: u64,
}

/// A subagent spawned and not completed when the session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenSubagent {
    pub agent: String,
    /// The task it was spawned in, if any.
    pub task: Option<String>,
    /// The line of its `SUBAGENT_SPAWN`.
    pub line: u64,
}

/// The last marker a session printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastMarker {
    pub marker: &'static str,
    pub line: u64,
}

/// Everything known about one session when it ended.
#[derive(Debug, Clone, Serialize)]
pub struct SessionState {
    pub session_id: String,
    pub worker_type: String,
    /// As Python's `isoformat()` prints it.
    pub start_time: Timestamp,
    pub tasks_completed: u64,
    pub files_created: u64,
    pub strategies_produced: u64,
    pub hypotheses_queued: u64,
    pub patterns_read: Vec<String>,
    pub distillation_complete: bool,
    pub status: Status,
    /// The line of its `SESSION_START`.
    pub start_line: u64,
    /// The last line of input that belongs to it.
    pub last_line: u64,
    pub last_marker: Option<LastMarker>,
    pub open_tasks: Vec<OpenTask>,
    pub open_subagents: Vec<OpenSubagent>,
    pub queue_depths: Vec<QueueDepth>,
    pub distillation_requested: bool,
    pub patterns_updated: Vec<PatternUpdate>,
    /// `DURATION` of the completion block, in seconds.
    pub duration_seconds: Option<f64>,
    pub errors: u64,
    pub warnings: u64,
    /// The `SESSION_START` line, for findings about the session as a whole.
    #[serde(skip)]
    pub start: Label,
}
