//! Findings about unfinished or inconsistent work: what a session's end, a task's
//! end or a summary number makes certain.

use crate::rule::RuleOptions;
use std::collections::HashMap;

use super::open::{Session, Subagent, Task};
use crate::finding::{Finding, Label};
use crate::rules::{self, session::Patterns};

pub(super) fn subagent_not_completed(sub: Subagent, end: Option<Label>) -> Finding {
    rules::subagent::not_completed(&sub.agent, sub.label, end)
}

/// `patterns-not-read`, checked at the first task (or at the session's end).
pub(super) fn check_patterns(s: &mut Session, options: &RuleOptions, at: Label) -> Option<Finding> {
    s.patterns_checked = true;
    let patterns = Patterns {
        required: &options.required_patterns,
        read: &s.patterns_read,
        read_at: s.patterns_label.as_ref(),
        session_start: &s.start,
    };
    rules::session::patterns_not_read(patterns, at)
}

/// What a session's end reports, drawn one at a time.
pub(super) enum Closed {
    Finding(Finding),
    /// No finding drawn after this points before this offset (see `Item::Settled`).
    Settled(u64),
}

/// The findings a session's end makes certain: unfinished tasks and subagents. The
/// open tasks are moved out of the session and become findings as they are drawn, in
/// the order they were started, so a session with a million open tasks never holds a
/// million findings at once.
pub(super) struct Closing {
    first: std::vec::IntoIter<Finding>,
    /// Subagents spawned outside any task.
    loose: std::vec::IntoIter<Subagent>,
    ids: std::vec::IntoIter<std::sync::Arc<str>>,
    open: HashMap<std::sync::Arc<str>, Box<Task>, super::open::IdHasher>,
    session_start: Label,
    /// The task being drawn: the offset to settle first, its unfinished subagents (one
    /// finding each, drawn one at a time), then its own finding.
    settle: Option<u64>,
    subagents: std::vec::IntoIter<Subagent>,
    task_start: Option<Label>,
    task: Option<Finding>,
}

impl Iterator for Closing {
    type Item = Closed;

    fn next(&mut self) -> Option<Closed> {
        if let Some(f) = self.first.next() {
            return Some(Closed::Finding(f));
        }
        if let Some(sub) = self.loose.next() {
            return Some(Closed::Finding(subagent_not_completed(sub, None)));
        }
        loop {
            if let Some(offset) = self.settle.take() {
                return Some(Closed::Settled(offset));
            }
            if let (Some(sub), Some(start)) = (self.subagents.next(), &self.task_start) {
                let in_task = Label {
                    message: "in this task".into(),
                    ..start.clone()
                };
                return Some(Closed::Finding(subagent_not_completed(sub, Some(in_task))));
            }
            if let Some(f) = self.task.take() {
                return Some(Closed::Finding(f));
            }
            let id = self.ids.next()?;
            let Some(task) = self.open.remove(&id) else {
                continue;
            };
            let start = task.label;
            self.settle = Some(start.at.offset);
            self.subagents = task.subagents.into_iter();
            self.task = Some(rules::task::not_completed(&id, &start, &self.session_start));
            self.task_start = Some(start);
        }
    }
}

/// Closes a session: see [`Closing`]. Its findings must be drawn after every other
/// finding about the session that points before its open tasks.
/// `ids`: the open tasks' ids in the order they were started ([`Session::open_ids`]),
/// when the caller has them already.
pub(super) fn close_session(
    s: &mut Session,
    options: &RuleOptions,
    ids: Option<Vec<std::sync::Arc<str>>>,
) -> Closing {
    let mut first = Vec::new();
    if !s.patterns_checked {
        first.extend(check_patterns(s, options, s.start.clone()));
    }
    let ids = ids.unwrap_or_else(|| s.open_ids());
    s.order.clear();
    Closing {
        first: first.into_iter(),
        loose: std::mem::take(&mut s.loose_subagents).into_iter(),
        ids: ids.into_iter(),
        open: std::mem::take(&mut s.open),
        session_start: s.start.clone(),
        settle: None,
        subagents: Vec::new().into_iter(),
        task_start: None,
        task: None,
    }
}
