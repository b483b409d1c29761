//! The live loop shared by pipe mode (`worker | quant-session check`) and `run`: each
//! chunk goes to stdout at once (one write to a duplicate of fd 1), then through the
//! pipeline into the reports — baselines tagged, counted and drawn by the same
//! [`Tally`] file mode uses, `--stop-on` watching the findings. A reader of stdout that
//! went away, a report that failed or a sink that said stop never stops the passthrough:
//! they are said, and the end says what they cost.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;

use super::baselines::{Baselines, Tagged};
use super::outcome::Outcome;
use super::{Fatal, WriteTo};
use crate::event::Event;
use crate::finding::Finding;
use crate::interrupt;
use crate::pipeline::{self, Keep, Pipeline, Tally};
use crate::report::set::Reports;
use crate::rule::{Rule, RuleOptions, Severity};
use crate::scan::ScanOptions;
use crate::sink::{Flow, Item, Sink};
use crate::summary::FileSummary;

/// Which findings stop the worker (`run --stop-on`).
#[derive(Debug, Default)]
pub(super) struct StopOn {
    errors: bool,
    warnings: bool,
    rules: Vec<Rule>,
}

impl StopOn {
    pub(super) fn parse(values: &[String]) -> Result<StopOn, Fatal> {
        let mut stop = StopOn::default();
        for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            match v {
                "error" | "errors" => stop.errors = true,
                "warning" | "warnings" => stop.warnings = true,
                id => match Rule::from_id(id) {
                    Some(rule) => stop.rules.push(rule),
                    None => {
                        return Err(Fatal::usage(format!(
                            "--stop-on {}: not `error`, `warning` or a rule id (`quant-session rules` lists them)",
                            crate::sanitize::escape(id.as_bytes())
                        )));
                    }
                },
            }
        }
        Ok(stop)
    }

    /// Why `f` stops the worker, if it does.
    fn matches(&self, f: &Finding) -> Option<String> {
        if self.rules.contains(&f.rule) {
            Some(format!("--stop-on {}", f.rule))
        } else if self.warnings {
            Some("--stop-on warning".to_owned())
        } else if self.errors && f.severity == Severity::Error {
            Some("--stop-on error".to_owned())
        } else {
            None
        }
    }
}

/// `--stop-on`, and why the worker must stop once it must.
struct Stopping {
    stop_on: StopOn,
    why: Option<String>,
    /// The rule of the finding that stopped the worker (its `cause`: `stopped:RULE`).
    rule: Option<crate::rule::Rule>,
}

/// Says "stop" at the first finding `--stop-on` names, once it is reported.
struct Stopper<'s, S> {
    state: &'s mut Stopping,
    inner: S,
}

impl<S: Sink> Sink for Stopper<'_, S> {
    type Error = S::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, S::Error> {
        let Item::Finding(f) = &item else {
            return self.inner.push(input, item);
        };
        let rule = f.rule;
        let why = match self.state.why {
            None => self.state.stop_on.matches(f).map(|what| {
                format!(
                    "{what}: {} on line {} ({})",
                    f.rule,
                    f.primary.at.line,
                    crate::sanitize::escape(f.message.as_bytes())
                )
            }),
            Some(_) => None,
        };
        let flow = self.inner.push(input, item)?;
        match why {
            Some(why) => {
                self.state.why = Some(why);
                self.state.rule = Some(rule);
                Ok(Flow::Stop)
            }
            None => Ok(flow),
        }
    }

    fn shows_unchanged(&self) -> bool {
        self.inner.shows_unchanged()
    }
}

/// The sinks of a live input, in the order a finding passes them: `--stop-on`, the
/// baselines, the tally, the reports.
macro_rules! chain {
    ($live:expr) => {
        Stopper {
            state: &mut $live.stopping,
            inner: Tagged {
                baselines: &mut *$live.baselines,
                inner: $live.tally.through(&mut *$live.reports),
            },
        }
    };
}

/// What became of a chunk written to stdout.
pub(super) enum Passed {
    Written,
    /// The reader of stdout went away with this chunk (said once).
    Closed,
    /// Its reader was gone already.
    Dropped,
}

/// One live input: its pipeline, the sinks it feeds, and the passthrough.
pub(super) struct Live<'r, 'w> {
    pub(super) pipeline: Pipeline,
    stopping: Stopping,
    baselines: &'r mut Baselines,
    tally: Tally,
    reports: &'r mut Reports<'w>,
    out: Box<dyn Write>,
    stdout_closed: bool,
    /// Checking goes on (a sink said stop, or failed: the rest is only passed through).
    checking: bool,
    /// The line checking stopped at when a sink said stop (`--stop-on`).
    stopped_at: Option<u64>,
    /// The input was left before its end (`run`: children still printing).
    unfinished: bool,
    /// A report or baseline write that failed: the run's error, at its end.
    failed: Option<Fatal>,
    /// What cannot be checked whatever the input holds (no pane checkpoint).
    not_checked: Option<(Rule, &'static str)>,
    /// A worker `run` supervises (its exit is known from the process, not the input).
    supervised: bool,
}

impl<'r, 'w> Live<'r, 'w> {
    /// A live input named `name` (`<stdin>`, `<worker>`), drawn when `draw`;
    /// `supervised`: the output of a worker `run` started.
    #[allow(clippy::too_many_arguments)] // each is one setting of the loop; a struct would only rename them
    pub(super) fn new(
        name: &str,
        supervised: bool,
        (scan, rules): (ScanOptions, RuleOptions),
        checkpoints: Option<&std::path::Path>,
        stop_on: StopOn,
        reports: &'r mut Reports<'w>,
        baselines: &'r mut Baselines,
        draw: bool,
    ) -> Self {
        // Passthrough writes go straight to a duplicate of fd 1: one write per chunk,
        // where the line-buffered `Stdout` would split each chunk at its last newline.
        let out: Box<dyn Write> = match io::stdout().as_fd().try_clone_to_owned() {
            Ok(fd) => Box::new(File::from(fd)),
            Err(_) => Box::new(io::stdout()),
        };
        // A live input has no pane checkpoint: decided before the rules go on.
        let not_checked = crate::rules::checkpoint::not_checked(None, checkpoints, &rules);
        let pipeline = Pipeline::new(
            name,
            pipeline::Options {
                scan,
                rules: Some(rules),
                ..pipeline::Options::default()
            },
        );
        Live {
            pipeline,
            stopping: Stopping {
                stop_on,
                why: None,
                rule: None,
            },
            baselines,
            tally: Tally::new(Keep::Last, draw),
            reports,
            out,
            stdout_closed: false,
            checking: true,
            stopped_at: None,
            unfinished: false,
            failed: None,
            not_checked,
            supervised,
        }
    }

    /// Writes `chunk` to stdout at once.
    pub(super) fn pass(&mut self, chunk: &[u8]) -> Result<Passed, Fatal> {
        if self.stdout_closed {
            return Ok(Passed::Dropped);
        }
        match self.out.write_all(chunk).and_then(|()| self.out.flush()) {
            Ok(()) => Ok(Passed::Written),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.stdout_closed = true;
                Ok(Passed::Closed)
            }
            Err(e) => Err(Fatal::write(WriteTo::Stdout, e)),
        }
    }

    /// Checks `chunk`: findings go to the reports as they are certain.
    pub(super) fn check(&mut self, chunk: &[u8]) {
        if self.checking {
            let flow = self.pipeline.feed(chunk, &mut chain!(self));
            self.answered(flow);
        }
    }

    /// Whether the input is still checked.
    pub(super) fn checking(&self) -> bool {
        self.checking
    }

    /// Why the worker must stop (`--stop-on`), once: taken.
    pub(super) fn stop(&mut self) -> Option<String> {
        self.stopping.why.take()
    }

    /// The input did not end, and will not be read on: `why` is said, and the run is
    /// never called clean.
    pub(super) fn unfinished(&mut self, why: &str) {
        super::note(why);
        self.unfinished = true;
    }

    /// The rule whose finding stopped the worker (`--stop-on`), once it did.
    pub(super) fn stopped_by(&self) -> Option<crate::rule::Rule> {
        self.stopping.rule
    }

    /// The worker's output has no clock of its own under `run`: its arrival time is.
    pub(super) fn tick(&mut self, micros: i64) {
        self.tally.tick(micros);
    }

    /// A finding made outside the machine (`worker-stalled`).
    pub(super) fn report(&mut self, finding: Finding) {
        if self.checking {
            let flow = self.pipeline.report(finding, &mut chain!(self));
            self.answered(flow);
        }
    }

    /// An event that is not in the input (the worker's exit).
    pub(super) fn inject(&mut self, event: Event) {
        if self.checking {
            let flow = self.pipeline.inject(event, &mut chain!(self));
            self.answered(flow);
        }
    }

    fn answered(&mut self, flow: Result<Flow, Fatal>) {
        match flow {
            Ok(Flow::Continue) => {}
            // `--stop-on`: the worker is stopped; the rest of its output is passed
            // through, not checked.
            Ok(Flow::Stop) => {
                self.checking = false;
                self.stopped_at = Some(self.pipeline.lines());
            }
            Err(e) => {
                crate::error::note(&format!(
                    "error: {e}; checking stopped, the output still passes through"
                ));
                self.failed.get_or_insert(e);
                self.checking = false;
            }
        }
    }

    /// The counts so far, with the sessions started.
    fn totals(&self) -> crate::summary::Totals {
        crate::summary::Totals {
            sessions: self.pipeline.sessions(),
            ..self.tally.totals()
        }
    }

    /// Checking stopped because stdout's reader went away (pipe mode): whatever was
    /// not read is not checked, so the verdict is clean only if no session was open.
    pub(super) fn closed(self) -> Result<Outcome, Fatal> {
        let open = self.pipeline.open_session();
        let at = match &open {
            Some((id, line)) => {
                format!("; session {id} (line {line}) was open, so the run is not clean")
            }
            None => String::new(),
        };
        super::note(&format!(
            "stdout was closed: checking stopped after line {} (byte {}){at}",
            self.pipeline.lines(),
            self.pipeline.bytes()
        ));
        Ok(Outcome {
            files: 1,
            totals: self.totals(),
            trouble: false,
            interrupted: interrupt::signal(),
            incomplete: open.is_some(),
        })
    }

    /// The input ended (or a signal came): the open sessions are finished, the input's
    /// summary and the run's end go to every report. `worker_exit`: how a supervised
    /// worker ended, when it did.
    pub(super) fn finish(
        mut self,
        interrupted: Option<i32>,
        worker_exit: Option<&str>,
    ) -> Result<Outcome, Fatal> {
        if self.checking && self.unfinished {
            // The output did not end (processes the worker started still write to it):
            // a session still open is running, not cut off.
            let flow = self.pipeline.settle(&mut chain!(self));
            self.answered(flow);
            if let Some((session, line)) = self.pipeline.open_session() {
                super::note(&format!(
                    "session {} (line {line}) was still open when reading stopped: not judged",
                    crate::sanitize::escape(session.as_bytes())
                ));
            }
        } else if self.checking {
            let flow = self.pipeline.finish(&mut chain!(self));
            self.answered(flow);
        }
        let name = self.pipeline.name().to_owned();
        if interrupted.is_none() {
            self.baselines.checked(&name);
        }
        let known = self.baselines.take_unchanged(&name);
        let totals = self.totals();
        let lines = self.pipeline.lines();
        let timeline = self.tally.take_timeline(lines);
        let replay = self.tally.take_replay();
        let worker = self.pipeline.worker_run().map(|w| {
            if self.supervised {
                // Under `run` the process's own end is the verdict; the CLI's usage
                // still counts.
                crate::format::WorkerRun {
                    usage: w.usage,
                    cli: w.cli,
                    conversation: w.conversation,
                    ..Default::default()
                }
            } else {
                w
            }
        });
        let mut not_checked = self.pipeline.not_checked();
        if worker_exit.is_some() {
            // The worker's exit is known: what the run could not check is the rest.
            not_checked.retain(|(rule, _)| *rule != Rule::WorkerErrorExit);
        }
        if self.supervised {
            // `run` times the worker itself: a budget's duration is checked.
            not_checked.retain(|(_, why)| *why != crate::session::BUDGET_NO_CLOCK);
        }
        not_checked.extend(self.not_checked);
        let timeline = crate::summary::traced(timeline, &name, worker_exit, worker.as_ref());
        let summary = FileSummary {
            file: &name,
            totals,
            hint: self.pipeline.prefix_hint(),
            records: self.pipeline.records(),
            worker_exit,
            timeline: timeline.as_ref(),
            replay: replay.as_ref(),
            worker: worker.as_ref(),
            not_checked: &not_checked,
            baselined: self
                .baselines
                .reading()
                .then_some(known.errors + known.warnings),
        };
        // A broken wrapping (corrupt gzip): what came before the break was checked, the
        // input was not read to its end.
        let damage = self
            .pipeline
            .damage()
            .map(|d| format!("error: {name}: {d}"));
        let outcome = Outcome {
            files: 1,
            totals,
            trouble: damage.is_some(),
            interrupted,
            // Checking stopped before the end (`--stop-on`): what was not checked cannot
            // be called clean, whatever the finding that stopped it was.
            incomplete: self.stopped_at.is_some() || self.unfinished,
        };
        let reports = &mut *self.reports;
        reports.push(&name, Item::InputEnd(&summary))?;
        if let Some(line) = self.stopped_at {
            super::note(&format!(
                "checking stopped at line {line} (--stop-on): what the worker printed after it \
                 was passed through, not checked"
            ));
        }
        super::outcome::end_run(reports, &outcome)?;
        if let Some(damage) = &damage {
            super::note(damage);
        }
        if let Some(sig) = interrupted {
            let unshown = match reports.unshown() {
                0 => String::new(),
                n => format!(" ({n} findings after the signal are counted but not shown)"),
            };
            let what = if self.supervised {
                "passed on to the worker; the report covers its output so far"
            } else {
                "the report covers the input read so far"
            };
            super::note(&format!(
                "interrupted by {}; {what}{unshown}",
                interrupt::name(sig)
            ));
        }
        match self.failed {
            Some(e) => Err(e),
            None => Ok(outcome),
        }
    }
}
