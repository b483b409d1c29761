//! The completion block after `SESSION_COMPLETE` (SPEC §3): its numbers are checked
//! against the stream, its missing fields reported when it ends.

use super::{Machine, Out};
use crate::event::{Event, Marker};
use crate::finding::Label;
use crate::grammar::Keyword;
use crate::rules::{self, summary::Counted};
use crate::state::{LastMarker, SessionState};

/// The completion block after `SESSION_COMPLETE`.
#[derive(Debug)]
pub(super) struct Block {
    pub(super) state: SessionState,
    /// The session's id as findings carry it.
    pub(super) shared_id: std::sync::Arc<str>,
    pub(super) complete: Label,
    pub(super) tasks_completed: u64,
    pub(super) files_created: u64,
    pub(super) files_printed: bool,
    pub(super) seen: [bool; 4],
    /// Microseconds between the `SESSION_START` and `SESSION_COMPLETE` records (session
    /// files), and the start's label.
    pub(super) elapsed: Option<(i64, Label)>,
    /// The session's end was told already (the input fell silent after the block, under
    /// `watch`): its close only reports what the block lacks.
    pub(super) announced: bool,
}

pub(super) const BLOCK_FIELDS: [Keyword; 4] = [
    Keyword::Duration,
    Keyword::TasksCompleted,
    Keyword::StrategiesProduced,
    Keyword::HypothesesQueued,
];

impl Machine {
    pub(super) fn in_block(&mut self, marker: &Marker, event: &Event, sink: &mut impl Out) -> bool {
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
        let counted = Counted {
            tasks_completed: block.tasks_completed,
            files_created: block.files_printed.then_some(block.files_created),
            elapsed: block.elapsed.as_ref(),
        };
        let Some(finding) = rules::summary::block_field(marker, event, counted) else {
            return false;
        };
        self.emit(finding, sink);
        true
    }

    pub(super) fn close_block(&mut self, sink: &mut impl Out) {
        let Some(block) = self.block.take() else {
            return;
        };
        let missing: Vec<&str> = BLOCK_FIELDS
            .iter()
            .zip(block.seen)
            .filter(|(_, seen)| !seen)
            .map(|(k, _)| k.word())
            .collect();
        if let Some(finding) = rules::summary::missing_fields(&missing, &block.complete) {
            self.block = Some(block);
            self.emit(Some(finding), sink);
            let Some(block) = self.block.take() else {
                return;
            };
            if !block.announced {
                sink.session_end(&block.state);
            }
            return;
        }
        if !block.announced {
            sink.session_end(&block.state);
        }
    }

    /// Tells the completed session's end while its block stays open for fields still
    /// to come (the input fell silent after it): nothing is judged early.
    pub(super) fn announce_block(&mut self, sink: &mut impl Out) {
        if let Some(block) = self.block.as_mut()
            && !block.announced
        {
            block.announced = true;
            sink.session_end(&block.state);
        }
    }
}
