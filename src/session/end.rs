//! Findings about unfinished or inconsistent work: what a session's end, a task's
//! end or a summary number makes certain.

use super::RuleOptions;
use super::open::{Session, Subagent, q};
use crate::event::Event;
use crate::finding::{Finding, Label};
use crate::rules::Rule;

pub(super) fn mismatch(event: &Event, message: String, label: String) -> Finding {
    Finding::new(Rule::SummaryMismatch, message, Label::marker(event, label))
}

pub(super) fn subagent_not_completed(sub: Subagent, end: Option<Label>) -> Finding {
    let mut f = Finding::new(
        Rule::SubagentNotCompleted,
        format!("subagent {} was spawned but never completed", q(&sub.agent)),
        Label {
            message: "spawned here".into(),
            ..sub.label
        },
    );
    if let Some(end) = end {
        f = f.related(end);
    }
    f
}

/// `patterns-not-read`, checked at the first task (or at the session's end).
pub(super) fn check_patterns(s: &mut Session, options: &RuleOptions, at: Label) -> Option<Finding> {
    s.patterns_checked = true;
    let missing: Vec<&str> = options
        .required_patterns
        .iter()
        .filter(|p| !s.patterns_read.contains(p))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let (message, related) = match &s.patterns_label {
        None if at.at == s.start.at => (
            "no PATTERN_FILES_READ in a session without tasks".to_owned(),
            s.start.clone(),
        ),
        None => (
            "no PATTERN_FILES_READ before the first task".to_owned(),
            s.start.clone(),
        ),
        Some(l) => (
            format!("PATTERN_FILES_READ does not name {}", missing.join(", ")),
            l.clone(),
        ),
    };
    Some(
        Finding::new(Rule::PatternsNotRead, message, at)
            .related(related)
            .help(format!(
                "read {} first and print `PATTERN_FILES_READ: {}` right after SESSION_START",
                options.required_patterns.join(", "),
                options.required_patterns.join(", ")
            )),
    )
}

/// The findings a session's end makes certain: unfinished tasks and subagents.
pub(super) fn close_session(s: &mut Session, options: &RuleOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    if !s.patterns_checked {
        out.extend(check_patterns(s, options, s.start.clone()));
    }
    for sub in s.loose_subagents.drain(..) {
        out.push(subagent_not_completed(sub, None));
    }
    let ids = s.open_ids();
    s.order.clear();
    for id in ids {
        let Some(task) = s.open.remove(&id) else {
            continue;
        };
        let start = task.label.clone();
        for sub in task.subagents {
            out.push(subagent_not_completed(
                sub,
                Some(Label {
                    message: "in this task".into(),
                    ..start.clone()
                }),
            ));
        }
        out.push(
            Finding::new(
                Rule::TaskNotCompleted,
                format!("task {} was started but never completed", q(&id)),
                Label {
                    message: "started here, no TASK_COMPLETE follows".into(),
                    ..start
                },
            )
            .related(s.start.clone()),
        );
    }
    out
}
