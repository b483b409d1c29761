//! How a run ends: the reports complete and take their place, and the exit status says
//! what the run saw (SPEC §4).

use std::process::ExitCode;

use super::{EXIT_CLEAN, EXIT_FINDINGS, EXIT_TROUBLE, Fatal, WriteTo};
use crate::interrupt;
use crate::report::set::Reports;
use crate::summary::Totals;

/// Ends a run whose reports were told its end (`Item::RunEnd`): the report files take
/// their place, and the exit status says what the run saw (SPEC §4). A report that
/// failed on the way (said then) makes it exit 2.
pub(super) fn conclude(
    outcome: Outcome,
    reports: Reports<'_>,
    exit_zero: bool,
) -> Result<ExitCode, Fatal> {
    let failed = reports.failed();
    // Each report is complete (its writer flushed as it is dropped): it takes its
    // place. A run that failed before this point leaves no report file behind.
    reports
        .commit()
        .map_err(|(what, e)| Fatal::write(WriteTo::Doing(what), e))?;
    // A signal that came with the end of input, or during the report, still counts.
    let interrupted = outcome.interrupted.or_else(interrupt::signal);
    if let (Some(sig), None) = (interrupted, outcome.interrupted) {
        super::note(&format!(
            "interrupted by {}; the report covers the input read so far",
            interrupt::name(sig)
        ));
    }
    let code = if let Some(sig) = interrupted {
        128 + sig as u8
    } else if outcome.trouble || failed {
        EXIT_TROUBLE
    } else if (outcome.totals.errors > 0 || outcome.incomplete) && !exit_zero {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    };
    interrupt::finished();
    Ok(ExitCode::from(code))
}

/// What a run saw.
pub(super) struct Outcome {
    pub(super) files: usize,
    pub(super) totals: Totals,
    /// An input could not be read (exit 2).
    pub(super) trouble: bool,
    /// The signal that stopped the run (exit 128 + signal).
    pub(super) interrupted: Option<i32>,
    /// Checking stopped before the end of input with a session open (stdout closed):
    /// not a clean verdict.
    pub(super) incomplete: bool,
}

/// Tells every report the run ended.
pub(super) fn end_run(reports: &mut Reports<'_>, outcome: &Outcome) -> Result<(), Fatal> {
    use crate::sink::{Item, Sink};
    reports.push(
        "",
        Item::RunEnd {
            inputs: outcome.files,
            totals: outcome.totals,
        },
    )?;
    Ok(())
}
