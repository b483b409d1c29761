//! The session being tracked: its open tasks and subagents, counters, and the state
//! snapshot taken when it ends.

use std::collections::{HashMap, HashSet};

/// How task ids are hashed: foldhash, seeded per process (ids come from the transcript,
/// so not a fixed-seed hash), several times faster than SipHash on short ids — a session
/// that ends with 20 000 open tasks looks each one up twice.
pub(super) type IdHasher = foldhash::fast::RandomState;
use std::sync::Arc;

use crate::event::{PatternUpdate, QueueDepth, SessionId};
use crate::finding::Label;
use crate::grammar::Keyword;
use crate::state::{LastMarker, OpenSubagent, OpenTask, SessionState, Status};

/// How many open tasks, open subagents, and task ids for `duplicate-task`, a session
/// tracks one by one: past it, new ones are counted (bounded memory whatever the input),
/// and a `too-many-open` finding says so once.
pub const MAX_TRACKED: usize = 100_000;

#[derive(Debug)]
pub(super) struct Subagent {
    pub(super) agent: String,
    pub(super) label: Label,
}

#[derive(Debug)]
pub(super) struct Task {
    /// Which start of this id it is, to tell a live `order` entry from a stale one.
    pub(super) seq: u64,
    pub(super) label: Label,
    pub(super) subagents: Vec<Subagent>,
    /// What the task claimed and did, when tool calls are visible (kept apart, so an
    /// open task of plain text costs little: a session may have a million).
    pub(super) claims: Option<Box<crate::rules::claims::Claims>>,
}

impl Task {
    /// What the task claimed and did, started on first use.
    pub(super) fn claims(&mut self) -> &mut crate::rules::claims::Claims {
        self.claims.get_or_insert_with(Default::default)
    }
}

#[derive(Debug)]
pub(super) struct Session {
    pub(super) id: SessionId,
    /// Its id as findings carry it (one allocation per session, not per finding).
    pub(super) shared_id: Arc<str>,
    pub(super) start: Label,
    pub(super) patterns_read: Vec<String>,
    pub(super) patterns_label: Option<Label>,
    pub(super) patterns_checked: bool,
    /// Open tasks by id. An id is kept once, shared by `open`, `order` and `started`.
    pub(super) open: HashMap<Arc<str>, Box<Task>, IdHasher>,
    /// Tasks in the order they were started, as (id, start number). Completed tasks are
    /// dropped lazily (see [`Session::live`]), so completing a task is O(1) even with a
    /// million open ones.
    pub(super) order: Vec<(Arc<str>, u64)>,
    pub(super) started_count: u64,
    /// Ids started in the session (for `duplicate-task`), up to [`MAX_TRACKED`].
    pub(super) started: HashSet<Arc<str>, IdHasher>,
    /// Tasks started, and subagents spawned, past [`MAX_TRACKED`] open ones: counted,
    /// not tracked one by one.
    pub(super) untracked_tasks: u64,
    pub(super) untracked_subagents: u64,
    /// Subagents open now, in every task and outside any.
    pub(super) subagents_open: usize,
    /// The `too-many-open` finding was made.
    pub(super) limit_reported: bool,
    /// Subagents spawned outside any task.
    pub(super) loose_subagents: Vec<Subagent>,
    pub(super) tasks_completed: u64,
    pub(super) files_created: u64,
    pub(super) files_printed: bool,
    pub(super) request: Option<Label>,
    pub(super) distilled: Option<Label>,
    pub(super) patterns_updated: bool,
    pub(super) queues: Vec<QueueDepth>,
    pub(super) updates: Vec<PatternUpdate>,
    pub(super) errors: u64,
    pub(super) warnings: u64,
    /// The time of the `SESSION_START` record, in a session file.
    pub(super) started_at: Option<crate::event::Timestamp>,
}

impl Session {
    /// Whether an `order` entry is still an open task.
    pub(super) fn live(&self, (id, seq): &(Arc<str>, u64)) -> bool {
        self.open.get(id).is_some_and(|t| t.seq == *seq)
    }

    /// Open task ids in the order they were started.
    pub(super) fn open_ids(&self) -> Vec<Arc<str>> {
        self.order
            .iter()
            .filter(|e| self.live(e))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The most recently started task still open: where a subagent belongs.
    pub(super) fn current(&mut self) -> Option<&mut Task> {
        while let Some(last) = self.order.last() {
            if self.live(last) {
                break;
            }
            self.order.pop();
        }
        let (id, _) = self.order.last()?;
        self.open.get_mut(id).map(|t| &mut **t)
    }

    /// Drops stale `order` entries once they outnumber the open tasks (amortised O(1)).
    pub(super) fn compact(&mut self) {
        if self.order.len() > 2 * self.open.len() + 64 {
            let open = &self.open;
            self.order
                .retain(|(id, seq)| open.get(id).is_some_and(|t| t.seq == *seq));
        }
    }

    /// What was still open: taken before the session's end drains it.
    pub(super) fn open_work(&self) -> (Vec<OpenTask>, Vec<OpenSubagent>) {
        let mut tasks = Vec::new();
        let mut subagents: Vec<OpenSubagent> = self
            .loose_subagents
            .iter()
            .map(|s| OpenSubagent {
                agent: s.agent.clone(),
                task: None,
                line: s.label.at.line,
            })
            .collect();
        for id in self.open_ids() {
            let Some(task) = self.open.get(&id) else {
                continue;
            };
            tasks.push(OpenTask {
                task: id.to_string(),
                line: task.label.at.line,
            });
            subagents.extend(task.subagents.iter().map(|s| OpenSubagent {
                agent: s.agent.clone(),
                task: Some(id.to_string()),
                line: s.label.at.line,
            }));
        }
        subagents.sort_by_key(|s| s.line);
        (tasks, subagents)
    }

    pub(super) fn state(
        &self,
        status: Status,
        open: (Vec<OpenTask>, Vec<OpenSubagent>),
        last_line: u64,
        last_marker: Option<(Keyword, u64)>,
    ) -> SessionState {
        SessionState {
            session_id: self.id.id.clone(),
            worker_type: self.id.worker_type.clone(),
            start_time: self.id.timestamp,
            tasks_completed: self.tasks_completed,
            files_created: self.files_created,
            strategies_produced: 0,
            hypotheses_queued: 0,
            patterns_read: self.patterns_read.clone(),
            distillation_complete: self.distilled.is_some(),
            status,
            start_line: self.start.at.line,
            last_line,
            last_marker: last_marker.map(|(k, line)| LastMarker {
                marker: k.word(),
                line,
            }),
            open_tasks: open.0,
            open_subagents: open.1,
            queue_depths: self.queues.clone(),
            distillation_requested: self.request.is_some(),
            patterns_updated: self.updates.clone(),
            duration_seconds: None,
            errors: self.errors,
            warnings: self.warnings,
            start: self.start.clone(),
        }
    }
}

pub(super) fn take_subagent(list: &mut Vec<Subagent>, agent: &str) -> Option<Subagent> {
    let i = list.iter().rposition(|s| s.agent == agent)?;
    Some(list.remove(i))
}
