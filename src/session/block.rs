//! The completion block after `SESSION_COMPLETE` (SPEC §3): its numbers are checked
//! against the stream, its missing fields reported when it ends.

use super::end::mismatch;
use super::{Machine, Sink};
use crate::event::{Event, Marker};
use crate::finding::{Finding, Label};
use crate::grammar::Keyword;
use crate::rules::Rule;
use crate::state::{LastMarker, SessionState};

/// The completion block after `SESSION_COMPLETE`.
#[derive(Debug)]
pub(super) struct Block {
    pub(super) state: SessionState,
    pub(super) complete: Label,
    pub(super) tasks_completed: u64,
    pub(super) files_created: u64,
    pub(super) files_printed: bool,
    pub(super) seen: [bool; 4],
    /// Microseconds between the `SESSION_START` and `SESSION_COMPLETE` records (session
    /// files), and the start's label.
    pub(super) elapsed: Option<(i64, Label)>,
}

pub(super) const BLOCK_FIELDS: [Keyword; 4] = [
    Keyword::Duration,
    Keyword::TasksCompleted,
    Keyword::StrategiesProduced,
    Keyword::HypothesesQueued,
];

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

impl Machine {
    pub(super) fn in_block(
        &mut self,
        marker: &Marker,
        event: &Event,
        sink: &mut impl Sink,
    ) -> bool {
        let Some(block) = self.block.as_mut() else {
            return false;
        };
        let keyword = marker.keyword();
        if let Some(i) = BLOCK_FIELDS.iter().position(|&f| f == keyword) {
            block.seen[i] = true;
        }
        let state = &mut block.state;
        match marker {
            Marker::Duration { duration } => state.duration_seconds = Some(duration.seconds()),
            Marker::StrategiesProduced { count } => state.strategies_produced = *count,
            Marker::HypothesesQueued { count } => state.hypotheses_queued = *count,
            Marker::FilesCreated { count } if !block.files_printed => state.files_created = *count,
            _ => {}
        }
        if BLOCK_FIELDS.contains(&keyword) || keyword == Keyword::FilesCreated {
            state.last_line = event.at.line;
            state.last_marker = Some(LastMarker {
                marker: keyword.word(),
                line: event.at.line,
            });
        }
        let finding = match marker {
            Marker::TasksCompleted { count } if *count != block.tasks_completed => Some(mismatch(
                event,
                format!(
                    "TASKS_COMPLETED says {count}, the stream completed {}",
                    block.tasks_completed
                ),
                format!("TASK_COMPLETE markers seen: {}", block.tasks_completed),
            )),
            Marker::FilesCreated { count }
                if block.files_printed && *count != block.files_created =>
            {
                Some(mismatch(
                    event,
                    format!(
                        "FILES_CREATED total says {count}, the tasks printed {}",
                        block.files_created
                    ),
                    format!(
                        "the per-task FILES_CREATED add up to {}",
                        block.files_created
                    ),
                ))
            }
            Marker::Duration { duration } if duration.micros < 0 => Some(mismatch(
                event,
                "DURATION is negative".to_owned(),
                "a session cannot take negative time".to_owned(),
            )),
            Marker::Duration { duration } => block.elapsed.as_ref().and_then(|(actual, start)| {
                duration_mismatch(event, duration.micros, *actual, start)
            }),
            Marker::TasksCompleted { .. }
            | Marker::FilesCreated { .. }
            | Marker::StrategiesProduced { .. }
            | Marker::HypothesesQueued { .. } => None,
            _ => return false,
        };
        self.emit(finding, sink);
        true
    }

    pub(super) fn close_block(&mut self, sink: &mut impl Sink) {
        let Some(block) = self.block.take() else {
            return;
        };
        let missing: Vec<&str> = BLOCK_FIELDS
            .iter()
            .zip(block.seen)
            .filter(|(_, seen)| !seen)
            .map(|(k, _)| k.word())
            .collect();
        if !missing.is_empty() {
            let finding = Finding::new(
                Rule::SummaryMissingField,
                format!("the completion block lacks {}", missing.join(", ")),
                Label {
                    message: format!("missing: {}", missing.join(", ")).into(),
                    ..block.complete.clone()
                },
            );
            self.block = Some(block);
            self.emit(Some(finding), sink);
            let Some(block) = self.block.take() else {
                return;
            };
            sink.session_end(&block.state);
            return;
        }
        sink.session_end(&block.state);
    }
}
