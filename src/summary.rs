//! What a run knows at the end of an input and of the run: the counts, and one input's
//! summary as every report receives it. Summary data lives here, beside the types it
//! gathers, so the reports and the pipeline share it without depending on each other.

use serde::Serialize;

use crate::format::RecordCounts;
use crate::text::PrefixHint;

/// Counts for one input or a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub sessions: u64,
    pub errors: u64,
    pub warnings: u64,
}

impl Totals {
    pub fn add(&mut self, other: Totals) {
        self.sessions += other.sessions;
        self.errors += other.errors;
        self.warnings += other.warnings;
    }
}

/// The end of one input.
#[derive(Debug, Clone, Copy)]
pub struct FileSummary<'a> {
    pub file: &'a str,
    pub totals: Totals,
    /// Lines that looked like markers behind a prefix.
    pub hint: Option<PrefixHint>,
    /// Stream-json inputs: the records read and not read.
    pub records: Option<RecordCounts>,
    /// A supervised worker's end (`run`): `exit:N` or `signal:NAME`.
    pub worker_exit: Option<&'a str>,
    /// When things happened, for the reports that draw it (`perfetto`, `otlp`, `html`).
    pub timeline: Option<&'a crate::timeline::Timeline>,
    /// What the input said, for the HTML report's replay (when the run keeps it).
    pub replay: Option<&'a crate::replay::Replay>,
    /// The worker process, as far as the input tells (the HTML report's verdict).
    pub worker: Option<&'a crate::format::WorkerRun>,
    /// The rules that could not run on this input, and why (SPEC §10).
    pub not_checked: &'a [(crate::rule::Rule, &'static str)],
    /// With `--baseline`: the findings of this input the baseline held (not reported,
    /// not counted).
    pub baselined: Option<u64>,
}

/// The agent CLI's output ended without its final record, and no process verdict
/// (`worker_exit`: under `run` the process's own end is the verdict) says otherwise.
fn killed(worker_exit: Option<&str>, worker: Option<&crate::format::WorkerRun>) -> bool {
    worker_exit.is_none() && worker.is_some_and(|w| w.cause() == crate::format::Cause::Killed)
}

/// An input's timeline as the pictures draw it (see [`crate::timeline::Timeline::traced`]).
pub fn traced(
    timeline: Option<crate::timeline::Timeline>,
    file: &str,
    worker_exit: Option<&str>,
    worker: Option<&crate::format::WorkerRun>,
) -> Option<crate::timeline::Timeline> {
    timeline.map(|t| {
        t.traced(
            file,
            worker.and_then(|w| w.cli),
            worker.and_then(|w| w.conversation.as_deref()),
            killed(worker_exit, worker),
        )
    })
}
