//! `quant-session check`: the pipe filter (no FILE) and the linter of recorded
//! transcripts (FILE...).
//!
//! Pipe mode forwards every chunk to stdout the moment it is read, then scans it;
//! findings go to stderr as soon as the session machine makes them certain. File mode
//! checks the files in parallel on all cores and reports on stdout in the order the
//! files were given, findings in line order, a summary per file and a total.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, IsTerminal};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::baselines::{Baselines, Tagged};
use super::live::{Live, Passed, StopOn};
use super::outcome::{Outcome, conclude, end_run};
use super::reports::{Beside, primary_reporter, style};
use super::settings::settings;
use super::walk::{Target, expand, globs, inputs};
use super::{Fatal, ensure_open};
use crate::cli::CheckArgs;
use crate::error::InputError;
use crate::finding::Finding;
use crate::interrupt;
use crate::pipeline::{Analysis, Keep, Ordered, Wanted, analyse};
use crate::report::set::Reports;
use crate::rule::RuleOptions;
use crate::scan::ScanOptions;
use crate::sink::{Flow, Item, Sink};
use crate::source::live::{LiveStdin, Next};
use crate::source::{CHUNK, display_name};
use crate::state::SessionState;
use crate::summary::{FileSummary, Totals};

pub fn run(args: &CheckArgs) -> Result<ExitCode, Fatal> {
    interrupt::install().map_err(Fatal::Signals)?;
    // A report that nobody can receive is an I/O error, not a silent verdict.
    ensure_open(1, "stdout")?;
    if args.files.is_empty() {
        ensure_open(2, "stderr (where pipe mode reports)")?;
    }
    let (mut scan, rules) = settings(&args.lint.rules)?;
    let (globs, looked_for) = globs(&args.glob)?;
    let targets = expand(&args.files, &globs, &looked_for, args.no_ignore)?;
    let inputs = inputs(&args.files, &targets, &globs);
    super::reports::distinct_files(&args.lint, None)?;
    let beside = Beside::open(
        &args.lint.report,
        args.lint.otlp(),
        &inputs,
        args.lint.redact,
    )?;
    let draw = beside.draws(args.lint.format);
    scan.replay = beside.replays(args.lint.format);
    let mut baselines = Baselines::open(&args.lint, &inputs)?;
    let (outcome, reports) = if args.files.is_empty() {
        if args.lint.format == crate::cli::Format::Json {
            // stderr carries the JSON report: notes join it as JSON Lines.
            crate::error::notes_as_json();
        }
        let stderr = io::stderr();
        let style = style(args.lint.color, stderr.is_terminal());
        // Buffered: a report is written in many small pieces, and stderr is unbuffered;
        // every reporter flushes after each finding, so findings still appear at once.
        let buffered = BufWriter::with_capacity(16 * 1024, stderr.lock());
        let primary = primary_reporter(&args.lint, Box::new(buffered), style, true);
        let mut reports = beside.with(primary, false);
        let outcome = pipe(args, (scan, rules), &mut reports, &mut baselines, draw)?;
        (outcome, reports)
    } else {
        let stdout = io::stdout();
        let style = style(args.lint.color, stdout.is_terminal());
        let out = Box::new(BufWriter::new(stdout.lock()));
        let primary = primary_reporter(&args.lint, out, style, false);
        // The reader of stdout may go away (`| head`): the verdict is still checked.
        let mut reports = beside.with(primary, true);
        let outcome = lint(
            args,
            &targets,
            (scan, rules),
            &mut reports,
            &mut baselines,
            draw,
        )?;
        (outcome, reports)
    };
    // Recording a baseline records; it does not judge (exit 0 unless something failed).
    let records = baselines.writing();
    baselines.finish(outcome.interrupted.or_else(interrupt::signal).is_some())?;
    conclude(outcome, reports, args.lint.exit_zero || records)
}

/// After a signal, how many chunks already read are still passed through and checked:
/// those queued when it came (the reader holds a few), not a stream that goes on.
const ALREADY_READ: usize = 8;

/// Pipe mode: stdin to stdout byte for byte, findings on stderr.
fn pipe(
    args: &CheckArgs,
    settings: (ScanOptions, RuleOptions),
    reports: &mut Reports<'_>,
    baselines: &mut Baselines,
    draw: bool,
) -> Result<Outcome, Fatal> {
    if io::stdin().is_terminal() {
        super::note(
            "reading a worker's output from the terminal; pipe a worker into \
             it (`worker | quant-session check`) or give transcript files. Ctrl-D ends input.",
        );
    }
    let input = LiveStdin::start().map_err(Fatal::Signals)?;
    let mut live = Live::new(
        "<stdin>",
        false,
        settings,
        args.checkpoints.as_deref(),
        StopOn::default(),
        reports,
        baselines,
        draw,
    );
    let interrupted: Option<i32>;
    loop {
        let (buf, n) = match input.next().map_err(|e| InputError::read("<stdin>", e))? {
            Next::Data(buf, n) => (buf, n),
            Next::End => {
                // Ctrl-C kills the worker too: its end of input and the signal race,
                // and the signal counts even when the end came first.
                interrupted = interrupt::signal();
                break;
            }
            Next::Interrupted(sig) => {
                // Forward and check what was already read (the chunks queued when the
                // signal came, not what the worker goes on printing), then report as at
                // the end.
                interrupted = Some(sig);
                for _ in 0..ALREADY_READ {
                    let Some((buf, n)) = input.already_read() else {
                        break;
                    };
                    if let Passed::Closed = live.pass(&buf[..n])? {
                        return live.closed();
                    }
                    live.check(&buf[..n]);
                    input.recycle(buf);
                }
                break;
            }
        };
        // Downstream closed (`| head`): stop quietly.
        if let Passed::Closed = live.pass(&buf[..n])? {
            return live.closed();
        }
        live.check(&buf[..n]);
        input.recycle(buf);
    }
    live.finish(interrupted.or_else(interrupt::signal), None)
}

/// How many findings a file-mode worker hands over at a time.
const FINDINGS_BATCH: usize = 256;

/// How many batches an input further on than the one being reported hands over before
/// it waits for its turn (4096 findings held at most per such input).
const AHEAD_BATCHES: usize = 16;

/// Which input file mode reports now, for the workers of the inputs after it.
#[derive(Default)]
struct Turn {
    /// The input being reported, and whether reporting has ended.
    now: std::sync::Mutex<(usize, bool)>,
    moved: std::sync::Condvar,
}

impl Turn {
    /// Waits until input `i` is the one being reported (or reporting has ended).
    fn wait_for(&self, i: usize) {
        // A poisoned lock means the reporting thread panicked: stop waiting.
        let Ok(mut now) = self.now.lock() else { return };
        while now.0 < i && !now.1 {
            match self.moved.wait(now) {
                Ok(n) => now = n,
                Err(_) => return,
            }
        }
    }

    fn advance(&self, i: usize) {
        if let Ok(mut now) = self.now.lock() {
            now.0 = i;
        }
        self.moved.notify_all();
    }
}

/// Ends the turns when dropped: every waiting worker goes on (and finds the channel
/// closed).
struct TurnOver<'t>(&'t Turn);

impl Drop for TurnOver<'_> {
    fn drop(&mut self) {
        if let Ok(mut now) = self.0.now.lock() {
            now.1 = true;
        }
        self.0.moved.notify_all();
    }
}

/// What file mode hears from its workers.
enum FromWorker {
    /// Findings of input `i`, in position order, and its sessions' ends among them.
    Findings(usize, Vec<Found>),
    /// Input `i` was read to its end (or could not be).
    Done(usize, Box<Result<Analysis, Fatal>>),
}

/// What a file-mode worker hands over of an input.
enum Found {
    Finding(Finding),
    /// A session's end, for the reports that show every session (JUnit).
    SessionEnd(Box<SessionState>),
}

impl Found {
    fn push(self, file: &str, out: &mut impl Sink<Error = Fatal>) -> Result<Flow, Fatal> {
        match self {
            Found::Finding(f) => out.push(file, Item::Finding(f)),
            Found::SessionEnd(state) => out.push(file, Item::SessionEnd(&state)),
        }
    }
}

/// A file-mode worker's sink: findings of input `i` cross to the reporting thread in
/// batches (one channel message per finding costs more than the finding, in a session
/// with a malformed marker on every line). An input further on than the one being
/// reported hands over a few batches, then waits for its turn: findings never pile up.
struct Batches<'t> {
    i: usize,
    tx: mpsc::SyncSender<FromWorker>,
    turn: &'t Turn,
    batch: Vec<Found>,
    sent: usize,
    /// Whether sessions' ends are handed over too (a report shows every session).
    sessions: bool,
}

impl Batches<'_> {
    /// Hands over what is held; `false` when the reporting thread has ended.
    fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        if self.sent >= AHEAD_BATCHES {
            self.turn.wait_for(self.i);
        }
        self.sent += 1;
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(FINDINGS_BATCH));
        self.tx.send(FromWorker::Findings(self.i, batch)).is_ok()
    }
}

impl Sink for Batches<'_> {
    type Error = Fatal;

    fn push(&mut self, _input: &str, item: Item<'_>) -> Result<Flow, Fatal> {
        match item {
            Item::Finding(f) => {
                self.batch.push(Found::Finding(f));
                if self.batch.len() >= FINDINGS_BATCH && !self.send() {
                    // Reporting has ended (an error, a signal): stop reading.
                    return Ok(Flow::Stop);
                }
            }
            Item::SessionEnd(state) if self.sessions => {
                self.batch.push(Found::SessionEnd(Box::new(state.clone())));
            }
            // The reporting thread is told the end of the input with its analysis; the
            // rest (events, session ends) was drawn by the worker's tally.
            Item::Followed
            | Item::Event(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::InputEnd(_)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

/// File mode: every target checked in parallel, reported in order on stdout. The
/// findings of the input being reported are written as they are settled (see
/// [`Ordered`]); those of inputs further on wait for their turn.
fn lint(
    args: &CheckArgs,
    targets: &[Target],
    (scan, rules): (ScanOptions, RuleOptions),
    reports: &mut Reports<'_>,
    baselines: &mut Baselines,
    draw: bool,
) -> Result<Outcome, Fatal> {
    // A report that shows every session (JUnit) is told each session's end.
    let sessions = std::iter::once(args.lint.format)
        .chain(args.lint.report.iter().map(|r| r.format))
        .any(crate::cli::Format::sessions);
    let mut outcome = Outcome {
        files: targets.len(),
        totals: Totals::default(),
        trouble: false,
        interrupted: None,
        incomplete: false,
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(targets.len().max(1));
    let next = AtomicUsize::new(0);
    // Bounded (16 batches, 4096 findings): a worker that finds faster than the report
    // is written waits for it.
    let (tx, rx) = mpsc::sync_channel::<FromWorker>(16);
    let turn = Turn::default();
    let result: Result<(), Fatal> = std::thread::scope(|scope| {
        // However the reporting loop ends, no worker waits for a turn that never comes.
        let _release = TurnOver(&turn);
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, scan, rules, turn) = (&next, &scan, &rules, &turn);
            let checkpoints = args.checkpoints.as_deref();
            scope.spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(target) = targets.get(i) else { break };
                    let path = target.path();
                    let about_last = |last: &SessionState| {
                        crate::rules::checkpoint::finding(last, path, checkpoints, rules)
                    };
                    let mut out = Ordered::new(Batches {
                        i,
                        tx: tx.clone(),
                        turn,
                        batch: Vec::new(),
                        sent: 0,
                        sessions,
                    });
                    // The last session's state is wanted only to compare it with its
                    // checkpoint.
                    let wanted = Wanted {
                        keep: if checkpoints.is_some() {
                            Keep::Last
                        } else {
                            Keep::Nothing
                        },
                        about_last: Some(&about_last),
                        timeline: draw,
                    };
                    let checked = analyse(path, &mut buf, scan, rules, wanted, &mut out)
                        .map(|(analysis, _)| analysis);
                    if checked.is_err() {
                        // What was found before the error is reported too (a read to
                        // its end has handed on everything already).
                        let _ = out.push("", Item::Settled(u64::MAX));
                    }
                    let mut batches = out.into_inner();
                    batches.send();
                    if tx.send(FromWorker::Done(i, Box::new(checked))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut out = Tagged {
            baselines: &mut *baselines,
            inner: &mut *reports,
        };
        // Inputs further on than the one being reported: their findings so far, and
        // their end once read.
        type Waiting = (Vec<Found>, Option<Result<Analysis, Fatal>>);
        let mut waiting: BTreeMap<usize, Waiting> = BTreeMap::new();
        let mut want = 0;
        for msg in rx {
            if let Some(sig) = interrupt::signal() {
                // Stop here: the workers see the signal too and stop reading.
                outcome.interrupted = Some(sig);
                break;
            }
            match msg {
                FromWorker::Findings(i, found) if i == want => {
                    let file = display_name(targets[i].path());
                    for f in found {
                        f.push(&file, &mut out)?;
                    }
                }
                FromWorker::Findings(i, found) => waiting.entry(i).or_default().0.extend(found),
                FromWorker::Done(i, checked) => waiting.entry(i).or_default().1 = Some(*checked),
            }
            // Report every input whose turn has come, as far as it was read.
            while let Some((findings, done)) = waiting.get_mut(&want) {
                let file = display_name(targets[want].path());
                for f in std::mem::take(findings) {
                    f.push(&file, &mut out)?;
                }
                let Some(checked) = done.take() else { break };
                waiting.remove(&want);
                want += 1;
                turn.advance(want);
                let checked = match checked {
                    Ok(c) => c,
                    Err(fatal) => {
                        super::note(&format!("error: {fatal}"));
                        outcome.trouble = true;
                        let error = fatal.to_string();
                        out.push(&file, Item::Unreadable(&error))?;
                        continue;
                    }
                };
                // What the baseline holds is not counted.
                let known = out.baselines.take_unchanged(&file);
                let totals = Totals {
                    errors: checked.totals.errors.saturating_sub(known.errors),
                    warnings: checked.totals.warnings.saturating_sub(known.warnings),
                    ..checked.totals
                };
                out.baselines.checked(&file);
                outcome.totals.add(totals);
                let mut not_checked = checked.not_checked;
                not_checked.extend(crate::rules::checkpoint::not_checked(
                    targets[want - 1].path(),
                    args.checkpoints.as_deref(),
                    &rules,
                ));
                let timeline =
                    crate::summary::traced(checked.timeline, &file, None, checked.worker.as_ref());
                let summary = FileSummary {
                    file: &file,
                    totals,
                    hint: checked.hint,
                    records: checked.records,
                    worker_exit: None,
                    timeline: timeline.as_ref(),
                    replay: checked.replay.as_ref(),
                    worker: checked.worker.as_ref(),
                    not_checked: &not_checked,
                    baselined: out
                        .baselines
                        .reading()
                        .then_some(known.errors + known.warnings),
                };
                if let Some(damage) = &checked.damage {
                    // Checked up to the break, summed up, and never called clean.
                    super::note(&format!("error: {file}: {damage}"));
                    outcome.trouble = true;
                    out.push(&file, Item::Unreadable(damage))?;
                }
                out.push(&file, Item::InputEnd(&summary))?;
            }
        }
        Ok(())
    });
    result?;
    if let Some(sig) = outcome.interrupted {
        super::note(&format!(
            "interrupted by {}; the report covers the inputs read so far",
            interrupt::name(sig)
        ));
    }
    end_run(reports, &outcome)?;
    Ok(outcome)
}
