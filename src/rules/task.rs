//! The task rules (SPEC §3): every `TASK_START` completes once, every `TASK_COMPLETE`
//! was started. The session machine tracks the open tasks; these say what is wrong.

use crate::event::Event;
use crate::finding::{Finding, Label};
use crate::rule::Rule;
use crate::rules::q;
use crate::sanitize;

/// The rules of this family.
pub const RULES: &[Rule] = &[
    Rule::TaskNotStarted,
    Rule::TaskNotCompleted,
    Rule::DuplicateTask,
];

/// `duplicate-task`: `task` started again, possibly while still open from `open_since`.
pub fn started_again(task: &str, event: &Event, open_since: Option<&Label>) -> Finding {
    let f = Finding::new(
        Rule::DuplicateTask,
        format!("task {} started again", q(task)),
        Label::marker(event, "started again here"),
    );
    match open_since {
        Some(first) => f.related(Label {
            message: "still open from here".into(),
            ..first.clone()
        }),
        None => f,
    }
}

/// `task-not-started`: a `TASK_COMPLETE` with no open `TASK_START`.
pub fn not_started(task: &str, event: &Event) -> Finding {
    Finding::new(
        Rule::TaskNotStarted,
        format!("task {} completed but never started", q(task)),
        Label::marker(event, "no open TASK_START for this id"),
    )
    .help(format!(
        "print `TASK_START: {}` when the task begins",
        sanitize::escape(task.as_bytes())
    ))
}

/// `task-not-completed`: a task still open when its session ended.
pub fn not_completed(task: &str, start: &Label, session_start: &Label) -> Finding {
    Finding::new(
        Rule::TaskNotCompleted,
        format!("task {} was started but never completed", q(task)),
        Label {
            message: "started here, no TASK_COMPLETE follows".into(),
            ..start.clone()
        },
    )
    .related(session_start.clone())
}
