//! The post-mortem of a worker: per session what was done, what was open, where to
//! resume, and what the checkpoint says (SPEC §5). Built from what reading the
//! transcript told ([`Read`]) and a [`Checkpoint`]; reporters print it.

use serde::Serialize;

use crate::checkpoint::{Checkpoint, CheckpointStatus};
use crate::format::WorkerRun;
use crate::state::{SessionState, Status};
use crate::summary::Totals;

/// What to do to finish a crashed session's work.
#[derive(Debug, Clone, Serialize)]
pub struct Resume {
    /// Open task ids, in the order they were started.
    pub tasks: Vec<String>,
    /// Whether the session still owes its distillation.
    pub distillation_owed: bool,
    /// Whether it still owes its completion block.
    pub completion_owed: bool,
}

/// One session in the post-mortem.
#[derive(Debug, Clone, Serialize)]
pub struct SessionReport {
    #[serde(flatten)]
    pub state: SessionState,
    /// Seconds from `SESSION_START`: the `DURATION` of a complete session, or up to the
    /// checkpoint's timestamp for a crashed one, when the times allow.
    pub elapsed_seconds: Option<f64>,
    pub resume: Option<Resume>,
}

/// The whole post-mortem.
#[derive(Debug, Clone, Serialize)]
pub struct Postmortem {
    pub file: String,
    /// Lines of input.
    pub lines: u64,
    /// `complete`, `crashed`, or `no-session`.
    pub verdict: &'static str,
    pub sessions: Vec<SessionReport>,
    pub checkpoint: Option<Checkpoint>,
    /// On Claude Code input: why the worker process ended (`killed` when it printed no
    /// `result` record, else the result's subtype).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// On Claude Code input: the process's turns, cost and the tool call in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<WorkerRun>,
    pub errors: u64,
    pub warnings: u64,
}

/// What reading a transcript told, as the post-mortem needs it.
#[derive(Debug)]
pub struct Read {
    pub states: Vec<SessionState>,
    pub lines: u64,
    pub worker: Option<WorkerRun>,
    pub totals: Totals,
}

impl Postmortem {
    /// The report of `file`, read to its end: every session's state, its lines, the
    /// worker process as far as the input tells, and the counts of findings.
    pub fn new(file: String, read: Read, checkpoint: Option<Checkpoint>) -> Self {
        let last = read.states.len().saturating_sub(1);
        let sessions: Vec<SessionReport> = read
            .states
            .into_iter()
            .enumerate()
            .map(|(i, state)| {
                let crashed = state.status == Status::Crashed;
                let elapsed_seconds = if crashed {
                    checkpoint
                        .as_ref()
                        .filter(|_| i == last)
                        .and_then(|c| c.timestamp)
                        .and_then(|t| state.start_time.micros_until(&t))
                        .map(|m| m as f64 / 1e6)
                } else {
                    state.duration_seconds
                };
                let resume = crashed.then(|| Resume {
                    tasks: state.open_tasks.iter().map(|t| t.task.clone()).collect(),
                    distillation_owed: !state.distillation_complete,
                    completion_owed: true,
                });
                SessionReport {
                    state,
                    elapsed_seconds,
                    resume,
                }
            })
            .collect();
        let verdict = match sessions.last() {
            None => "no-session",
            Some(s) if s.state.status == Status::Crashed => "crashed",
            Some(_) => "complete",
        };
        let cause = read.worker.as_ref().map(|w| w.cause().to_string());
        Postmortem {
            file,
            lines: read.lines,
            verdict,
            sessions,
            checkpoint,
            cause,
            worker: read.worker,
            errors: read.totals.errors,
            warnings: read.totals.warnings,
        }
    }

    /// Exit 1 when the last session crashed (or none started) or the checkpoint is not
    /// `ok`; 0 otherwise.
    pub fn failed(&self) -> bool {
        self.verdict != "complete"
            || self
                .checkpoint
                .as_ref()
                .is_some_and(|c| c.status != CheckpointStatus::Ok)
    }
}
