//! The summary rules (SPEC §3): the numbers of the completion block and of the
//! distillation request agree with the stream, and the block is whole.

use crate::event::{Event, Marker};
use crate::finding::{Finding, Label};
use crate::rule::Rule;

/// The rules of this family.
pub const RULES: &[Rule] = &[
    Rule::SummaryMismatch,
    Rule::SummaryMissingField,
    Rule::DurationMismatch,
];

fn mismatch(event: &Event, message: String, label: String) -> Finding {
    Finding::new(Rule::SummaryMismatch, message, Label::marker(event, label))
}

/// A session's `FILES_CREATED` markers add up past a 64-bit count.
pub fn files_overflow(event: &Event) -> Finding {
    Finding::new(
        Rule::SummaryMismatch,
        "files created overflow a 64-bit count",
        Label::marker(event, "this count"),
    )
}

/// The distillation request's `output_files` against the files the tasks printed.
pub fn request_files(event: &Event, count: u64, printed: Option<u64>) -> Option<Finding> {
    let printed = printed.filter(|&p| p != count)?;
    Some(mismatch(
        event,
        format!("the distillation request says {count} output files, the tasks printed {printed}"),
        format!("the FILES_CREATED markers add up to {printed}"),
    ))
}

/// What the stream counted before the completion block.
pub struct Counted<'a> {
    pub tasks_completed: u64,
    /// The session's `FILES_CREATED` total, when it printed any.
    pub files_created: Option<u64>,
    /// Microseconds between the `SESSION_START` and `SESSION_COMPLETE` records, and
    /// the start's label (session files).
    pub elapsed: Option<&'a (i64, Label)>,
}

/// A field of the completion block against the stream; `None` for a marker that is
/// not one of the block's.
pub fn block_field(
    marker: &Marker,
    event: &Event,
    counted: Counted<'_>,
) -> Option<Option<Finding>> {
    Some(match marker {
        Marker::TasksCompleted { count } if *count != counted.tasks_completed => Some(mismatch(
            event,
            format!(
                "TASKS_COMPLETED says {count}, the stream completed {}",
                counted.tasks_completed
            ),
            format!("TASK_COMPLETE markers seen: {}", counted.tasks_completed),
        )),
        Marker::FilesCreated { count } => counted
            .files_created
            .filter(|printed| printed != count)
            .map(|printed| {
                mismatch(
                    event,
                    format!("FILES_CREATED total says {count}, the tasks printed {printed}"),
                    format!("the per-task FILES_CREATED add up to {printed}"),
                )
            }),
        Marker::Duration { duration } if duration.micros < 0 => Some(mismatch(
            event,
            "DURATION is negative".to_owned(),
            "a session cannot take negative time".to_owned(),
        )),
        Marker::Duration { duration } => counted
            .elapsed
            .and_then(|(actual, start)| duration_mismatch(event, duration.micros, *actual, start)),
        Marker::TasksCompleted { .. }
        | Marker::StrategiesProduced { .. }
        | Marker::HypothesesQueued { .. } => None,
        _ => return None,
    })
}

/// `duration-mismatch`: the printed `DURATION` against the records' timestamps, off by
/// more than 10 % and more than one minute.
fn duration_mismatch(event: &Event, printed: i64, actual: i64, start: &Label) -> Option<Finding> {
    let off = printed.abs_diff(actual);
    if off <= 60_000_000 || off as f64 <= 0.1 * actual.unsigned_abs() as f64 {
        return None;
    }
    let show = |micros: i64| {
        let secs = micros / 1_000_000;
        format!("{}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
    };
    Some(
        Finding::new(
            Rule::DurationMismatch,
            format!(
                "DURATION says {}, the session's records span {}",
                show(printed),
                show(actual)
            ),
            Label::marker(event, format!("the records say {}", show(actual))),
        )
        .related(Label {
            message: "the SESSION_START record".into(),
            ..start.clone()
        }),
    )
}

/// `summary-missing-field`: the completion block that started at `complete` ended
/// without the `missing` fields.
pub fn missing_fields(missing: &[&str], complete: &Label) -> Option<Finding> {
    (!missing.is_empty()).then(|| {
        Finding::new(
            Rule::SummaryMissingField,
            format!("the completion block lacks {}", missing.join(", ")),
            Label {
                message: format!("missing: {}", missing.join(", ")).into(),
                ..complete.clone()
            },
        )
    })
}
