//! The rule of live supervision (SPEC §3, §8): a worker whose session is open and whose
//! output has gone silent for longer than `--stale` may hang. Only `run` and `watch`,
//! which see the output as it is written, can observe a silence.

use std::sync::Arc;
use std::time::Duration;

use crate::event::{LineText, Position};
use crate::finding::{Finding, Label};
use crate::rule::Rule;

/// The rules of this family.
pub const RULES: &[Rule] = &[Rule::WorkerStalled];

/// `worker-stalled`: session `session` (escaped) is open, and nothing came for
/// `silent` after `last`, the last line read (empty when it is not known).
pub fn stalled(session: &str, silent: Duration, last: Arc<LineText>) -> Finding {
    let at = Position {
        line: last.line.max(1),
        column: 1,
        offset: last.offset,
        block_line: None,
    };
    Finding::new(
        Rule::WorkerStalled,
        format!(
            "session {session} is open and the worker has printed nothing for {}",
            show(silent)
        ),
        Label {
            at,
            len: last.bytes.len() as u64,
            message: "the last line read".into(),
            text: last,
        },
    )
}

pub use crate::duration::{parse as parse_duration, show};
