//! The reports of a run as one sink: the primary report (`--format`, on stdout or
//! stderr) and every `--report FMT=PATH` file and exporter beside it, fed the same
//! items. Findings a baseline holds go only to the reports that mark them.
//!
//! A report that fails never stops the checking (SPEC §9): its failure is said once on
//! stderr, naming its file or URL, it is given nothing more, the run goes on — every
//! session and input is still checked and reported elsewhere, the passthrough still
//! flows — and the exit status is 2 at the end. The one quiet failure is a reader of
//! stdout that went away (`check … | head`): file mode keeps checking for the verdict.

use std::io;

use super::file::ReportFile;
use crate::sink::{Flow, Item, Report, Sink};

/// After a signal, how many more findings are still shown: the end-of-input report of a
/// huge open session must not keep an interrupted run going.
const SHOWN_AFTER_SIGNAL: u64 = 100;

/// One report of the set.
struct Member<'w> {
    /// What it does, as its failure is said: `writing the report`, `writing PATH`,
    /// `exporting to URL` (escaped).
    what: String,
    report: Report<'w>,
    /// The file it is written to, beside its path until the run is complete.
    file: Option<ReportFile>,
    /// Whether a closed reader (broken pipe) ends it quietly.
    pipe_may_close: bool,
    /// It failed (or its reader went away): it is given nothing more.
    done: bool,
    /// Its reader went away (not a failure).
    quiet: bool,
    /// Inputs that ended after it failed: what it did not get of them.
    missed: u64,
}

/// Every report of a run.
pub struct Reports<'w> {
    members: Vec<Member<'w>>,
    /// A report failed (exit 2 at the end).
    failed: bool,
    /// Findings shown since a signal came, and those then counted but not shown.
    after_signal: u64,
    unshown: u64,
}

impl<'w> Reports<'w> {
    /// The set, with the primary report first. `pipe_may_close`: its reader may go away
    /// (stdout in file mode), which ends it quietly.
    pub fn new(primary: Report<'w>, pipe_may_close: bool) -> Self {
        Reports {
            members: vec![Member {
                what: "writing the report".to_owned(),
                report: primary,
                file: None,
                pipe_may_close,
                done: false,
                quiet: false,
                missed: 0,
            }],
            failed: false,
            after_signal: 0,
            unshown: 0,
        }
    }

    /// A set with no primary report (`watch`, whose view is told beside it).
    pub fn without_primary() -> Self {
        Reports {
            members: Vec::new(),
            failed: false,
            after_signal: 0,
            unshown: 0,
        }
    }

    /// Adds a report written to `file`, or sent elsewhere (`None`: an exporter). `what`
    /// names it in its failure: `writing PATH`, `exporting to URL`.
    pub fn add(&mut self, what: String, report: Report<'w>, file: Option<ReportFile>) {
        self.members.push(Member {
            what,
            report,
            file,
            pipe_may_close: false,
            done: false,
            quiet: false,
            missed: 0,
        });
    }

    /// Whether a report failed: the run's exit status is then 2.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Findings counted after a signal but not shown.
    pub fn unshown(&self) -> u64 {
        self.unshown
    }

    /// The run is complete: each report file that was written whole takes its place
    /// (a failed one leaves whatever was at its path). The first commit that fails is
    /// the error, with what it was doing.
    pub fn commit(self) -> Result<(), (String, io::Error)> {
        let mut files = Vec::new();
        for m in self.members.iter().filter(|m| m.missed > 0) {
            crate::error::note(&format!(
                "error: {}: {} not delivered in full",
                m.what,
                crate::finding::plural(m.missed, "input was", "inputs were")
            ));
        }
        for m in self.members {
            // The report is dropped first: its writer is flushed and closed.
            let Member {
                what,
                report,
                file,
                done,
                ..
            } = m;
            drop(report);
            if let Some(file) = file
                && !done
            {
                files.push((what, file));
            }
        }
        for (what, file) in files {
            file.commit().map_err(|e| (what, e))?;
        }
        Ok(())
    }
}

impl Sink for Reports<'_> {
    type Error = crate::error::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, Self::Error> {
        if let Item::Finding(f) = &item {
            let unchanged = f
                .baseline
                .as_ref()
                .is_some_and(|k| k.state == Some(crate::baseline::State::Unchanged));
            if !unchanged && crate::interrupt::signal().is_some() {
                if self.after_signal >= SHOWN_AFTER_SIGNAL {
                    self.unshown += 1;
                    return Ok(Flow::Continue);
                }
                self.after_signal += 1;
            }
            // The finding is copied for all but the last report that takes it: with one
            // report (the usual run) it is never copied.
            let takes = |m: &Member<'_>| !m.done && (!unchanged || m.report.shows_unchanged());
            let last = self.members.iter().rposition(takes);
            let mut item = Some(item);
            for (i, m) in self.members.iter_mut().enumerate() {
                if !takes(m) {
                    continue;
                }
                let this = match (Some(i) == last, &item) {
                    (true, _) => item.take(),
                    (false, Some(it)) => Some(it.again()),
                    (false, None) => None,
                };
                if let Some(this) = this {
                    let result = m.report.push(input, this);
                    fail(m, &mut self.failed, result);
                }
            }
            return Ok(Flow::Continue);
        }
        let ended = matches!(item, Item::InputEnd(_) | Item::Unreadable(_));
        let run_end = matches!(item, Item::RunEnd { .. });
        for m in self.members.iter_mut() {
            if !m.done {
                let result = m.report.push(input, item.again());
                if run_end {
                    fail_at_end(m, &mut self.failed, result);
                } else {
                    fail(m, &mut self.failed, result);
                }
            }
            // A reader that went away is no failure: what it misses is not said.
            if m.done && ended && !(m.pipe_may_close && m.quiet) {
                m.missed += 1;
            }
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        self.members.iter().any(|m| m.report.shows_unchanged())
    }
}

/// A member that failed as the run ended (an exporter's last deliveries): said as it is,
/// with the exit status it gives.
fn fail_at_end(m: &mut Member<'_>, failed: &mut bool, result: io::Result<Flow>) {
    match result {
        Err(e) if !(m.pipe_may_close && e.kind() == io::ErrorKind::BrokenPipe) => {
            m.done = true;
            *failed = true;
            crate::error::note(&format!(
                "error: {}: {e} (exit 2, unless a signal ended the run)",
                m.what
            ));
        }
        result => fail(m, failed, result),
    }
}

/// A member's write that failed: said once, and the member ends.
fn fail(m: &mut Member<'_>, failed: &mut bool, result: io::Result<Flow>) {
    let Err(e) = result else { return };
    m.done = true;
    if m.pipe_may_close && e.kind() == io::ErrorKind::BrokenPipe {
        m.quiet = true;
        return;
    }
    *failed = true;
    crate::error::note(&format!(
        "error: {}: {e}; nothing more goes to it, the checking goes on (exit 2 at the end, \
         unless a signal ends the run)",
        m.what
    ));
}
