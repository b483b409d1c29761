//! `quant-session watch [PATH…]` (SPEC §8): a fleet's transcripts followed as they are
//! written, `tail -F` style (see [`crate::follow`]), every file through the one pipeline
//! driver. On a terminal it draws a live board ([`super::board`]); otherwise (or with
//! `--format json`) it writes JSON Lines: the §4 `diagnostic` objects as they become
//! certain, `session` events as sessions start and end, and a `summary` per file when it
//! is rotated, deleted or the watch ends.
//!
//! It polls: every followed file is read to its end every [`POLL`] (an `fstat` and a
//! `read` each, so a thousand panes cost about 2 % of a core), and the directories are
//! walked for new files every [`WALK_EVERY`]. (Notifications were tried: inotify wakes
//! the watch on every write of every pane, and at 1 MB/s over a thousand panes that was
//! 18 % of a core against 2 % for polling, for a latency the polling keeps under
//! 300 ms.)

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use globset::GlobSet;

use super::reports::Beside;
use super::{Fatal, WriteTo};
use crate::cli::WatchArgs;
use crate::follow::{Change, Ended, Followed};
use crate::interrupt;
use crate::pipeline::{Keep, Tally};
use crate::report::json;
use crate::report::set::Reports;
use crate::rule::RuleOptions;
use crate::sanitize;
use crate::scan::ScanOptions;
use crate::sink::{Flow, Item, Sink};
use crate::state::Status;
use crate::summary::{FileSummary, Totals};

/// How often every followed file is read to its end: the latency of a finding, and the
/// grain of `--stale`.
pub(super) const POLL: Duration = Duration::from_millis(200);

/// How often the directories are walked for new files.
const WALK_EVERY: Duration = Duration::from_secs(1);

/// How long a file is silent after a completion block before the block is taken as
/// ended (a worker prints it in one burst).
const SETTLE: Duration = Duration::from_secs(1);

/// One followed file and what is known about it.
struct Pane {
    followed: Followed,
    name: String,
    /// Its counts, its last sessions (for `--summaries`; bounded) and, when a report
    /// draws, when things happened in the file being read.
    tally: Tally,
    /// The start line of the last session compared with its checkpoint.
    checked: Option<u64>,
    /// A file at its path was damaged (corrupt gzip) or could not be read on: the
    /// watch cannot call the fleet clean.
    damaged: bool,
}

/// The sessions a pane keeps for its summary file.
const KEPT_SESSIONS: usize = 64;

/// What the watch looks at: files named on the command line, and directories walked
/// for the files the globs match (including files created later).
pub(super) struct Targets {
    pub(super) files: Vec<PathBuf>,
    pub(super) dirs: Vec<PathBuf>,
    pub(super) globs: GlobSet,
    no_ignore: bool,
}

impl Targets {
    /// Every transcript there now.
    fn present(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = self.files.iter().filter(|f| f.is_file()).cloned().collect();
        for dir in &self.dirs {
            for entry in super::walk::walk(dir, self.no_ignore).filter_map(Result::ok) {
                if entry.file_type().is_some_and(|t| t.is_file())
                    && self.globs.is_match(entry.file_name())
                {
                    found.push(entry.into_path());
                }
            }
        }
        found
    }
}

/// The fleet: every file followed, and what wakes the watch.
pub(super) struct Fleet<'a> {
    args: &'a WatchArgs,
    pub(super) targets: Targets,
    scan: ScanOptions,
    rules: RuleOptions,
    panes: BTreeMap<PathBuf, Pane>,
    /// Files that could not be opened (said once).
    unreadable: std::collections::HashSet<PathBuf>,
    buf: Vec<u8>,
    first: bool,
    /// When the directories were last walked for new files.
    walked: Option<std::time::Instant>,
    /// Whether a report draws (each file's timeline is built).
    pub(super) drawn: bool,
    /// Files that ended (for the reports' totals).
    pub(super) files_seen: usize,
    /// A file was damaged or could not be read on (exit 2).
    pub(super) trouble: bool,
    /// Files the watch writes (its stdout, `--report` files): never followed, or the
    /// watch would read its own output.
    pub(super) own: std::collections::HashSet<(u64, u64)>,
}

impl<'a> Fleet<'a> {
    pub(super) fn new(args: &'a WatchArgs) -> Result<Fleet<'a>, Fatal> {
        let (scan, rules) = super::settings::settings(&args.rules)?;
        let (globs, _) = super::walk::globs(&args.glob)?;
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        let targets = Targets {
            files: paths.iter().filter(|p| !p.is_dir()).cloned().collect(),
            dirs: paths.iter().filter(|p| p.is_dir()).cloned().collect(),
            globs,
            no_ignore: args.no_ignore,
        };
        for f in targets.files.iter().filter(|f| !f.exists()) {
            super::note(&format!(
                "{}: not there yet; followed when it appears",
                sanitize::escape(f.display().to_string().as_bytes())
            ));
        }
        if let Some(dir) = args.checkpoints.as_deref().filter(|d| !d.is_dir()) {
            super::note(&format!(
                "--checkpoints {}: not a directory (yet): every pane's checkpoint is missing until it is",
                sanitize::escape(dir.display().to_string().as_bytes())
            ));
        }
        if let Some(dir) = &args.summaries {
            std::fs::create_dir_all(dir)
                .map_err(|e| Fatal::write(WriteTo::File(dir.clone()), e))?;
        }
        Ok(Fleet {
            args,
            targets,
            scan,
            rules,
            panes: BTreeMap::new(),
            unreadable: Default::default(),
            buf: vec![0u8; crate::source::CHUNK],
            first: true,
            walked: None,
            drawn: false,
            files_seen: 0,
            trouble: false,
            own: Default::default(),
        })
    }

    /// One look at the fleet: new files followed, every file read to its current end
    /// (rotations, truncations and deletions reported), silences measured.
    pub(super) fn step(&mut self, view: &mut dyn Sink<Error = Fatal>) -> Result<(), Fatal> {
        let now = std::time::Instant::now();
        if self.walked.is_none_or(|t| now - t >= WALK_EVERY) {
            self.walked = Some(now);
            self.walk_targets(view)?;
        }
        let mut gone = Vec::new();
        for (path, pane) in self.panes.iter_mut() {
            let polled = poll_pane(
                self.args,
                &self.rules,
                pane,
                &mut self.buf,
                view,
                &mut self.files_seen,
            );
            match polled {
                Ok(()) => {}
                // One pane's trouble is that pane's: said, and the pane is dropped (it
                // is followed again from its start if a file comes back there).
                Err(Fatal::Input(e)) => {
                    let note = format!("{}; no longer followed", e.what());
                    view.push(&pane.name, Item::Note(&note))?;
                    pane.damaged = true;
                    gone.push(path.clone());
                }
                Err(e) => return Err(e),
            }
            self.trouble |= pane.damaged;
            if !pane.followed.alive() {
                gone.push(path.clone());
            }
        }
        for path in gone {
            self.panes.remove(&path);
        }
        Ok(())
    }

    /// Follows the transcripts there now that are not followed yet.
    fn walk_targets(&mut self, view: &mut dyn Sink<Error = Fatal>) -> Result<(), Fatal> {
        for path in self.targets.present() {
            if self.panes.contains_key(&path) || self.is_own(&path) {
                continue;
            }
            // Files there when the watch starts may be skipped to their end; files that
            // appear later are read from their start.
            let from_end = self.first && self.args.from_end;
            match Followed::open(&path, from_end, &self.scan, &self.rules) {
                Ok(followed) => {
                    self.unreadable.remove(&path);
                    let name = sanitize::escape(path.display().to_string().as_bytes());
                    view.push(&name, Item::Followed)?;
                    let pane = Pane {
                        followed,
                        name,
                        tally: Tally::new(Keep::Recent(KEPT_SESSIONS), self.drawn),
                        checked: None,
                        damaged: false,
                    };
                    self.panes.insert(path, pane);
                }
                // Said once per file, not at every look.
                Err(e) => {
                    if self.unreadable.insert(path.clone()) {
                        super::note(&format!(
                            "{}: {e}; not followed until it can be read",
                            sanitize::escape(path.display().to_string().as_bytes())
                        ));
                    }
                }
            }
        }
        self.first = false;
        Ok(())
    }

    /// How long each pane's file has been silent, by the name reports give it.
    pub(super) fn silences(&self) -> impl Iterator<Item = (&str, Duration)> {
        self.panes
            .values()
            .map(|p| (p.name.as_str(), p.followed.silent()))
    }

    /// Whether `path` is a file the watch itself writes.
    fn is_own(&self, path: &Path) -> bool {
        std::fs::metadata(path).is_ok_and(|m| self.own.contains(&crate::report::file::identity(&m)))
    }

    /// Sleeps until the next look.
    pub(super) fn sleep(&self) {
        std::thread::sleep(POLL);
    }

    /// The watch ends: every file read to its end, its sessions finished and its summary
    /// told. Returns the totals of the whole fleet.
    pub(super) fn finish(&mut self, view: &mut dyn Sink<Error = Fatal>) -> Result<Totals, Fatal> {
        let mut totals = Totals::default();
        for pane in self.panes.values_mut() {
            // Stopping the watch is not the end of the workers: a session still open
            // is said to be running, not reported as crashed.
            let ended = pane
                .followed
                .stop(&mut self.buf, &mut pane.tally.through(&mut *view))?;
            if let Some((session, line)) = &ended.open {
                let note = format!(
                    "session {} (line {line}) was still open when the watch stopped: not judged",
                    sanitize::escape(session.as_bytes())
                );
                view.push(&pane.name, Item::Note(&note))?;
            }
            totals.add(end_of_file(self.args, &self.rules, pane, ended, view)?);
            self.trouble |= pane.damaged;
            self.files_seen += 1;
        }
        Ok(totals)
    }
}

pub fn run(args: &WatchArgs) -> Result<ExitCode, Fatal> {
    interrupt::install().map_err(Fatal::Signals)?;
    super::ensure_open(1, "stdout")?;
    let mut fleet = Fleet::new(args)?;
    // `--report FMT=PATH` files, never where the watch reads.
    let dirs = fleet
        .targets
        .dirs
        .iter()
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    let files = fleet
        .targets
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| crate::report::file::identity(&m))
        .collect();
    let inputs = crate::report::file::Inputs {
        files,
        dirs,
        globs: &fleet.targets.globs,
    };
    let otlp = match (&args.otlp_endpoint, args.otlp) {
        (Some(url), _) => Some(Some(url.as_str())),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let beside = Beside::open(&args.report, otlp, &inputs, args.redact)?;
    fleet.scan.replay = beside.replays(crate::cli::Format::Human);
    // Its own output is never followed: stdout redirected into a watched directory
    // (the `--report` files cannot be there: `Beside::open` refuses them).
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(meta) = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
            .and_then(|f| f.metadata())
            && meta.is_file()
        {
            fleet.own.insert(crate::report::file::identity(&meta));
        }
    }

    fleet.drawn = beside.draws(crate::cli::Format::Human);
    let mut reports = beside.alone();
    let (interrupted, totals) =
        if args.format == crate::cli::WatchFormat::Human && io::stdout().is_terminal() {
            super::board::run(args, &mut fleet, &mut reports)?
        } else {
            match watch_json(&mut fleet, &mut reports)? {
                Some(done) => done,
                // The reader of the JSON Lines went away: nothing more is reported.
                None => return Ok(ExitCode::from(super::EXIT_CLEAN)),
            }
        };
    reports.push(
        "",
        Item::RunEnd {
            inputs: fleet.files_seen,
            totals,
        },
    )?;
    let failed = reports.failed();
    reports
        .commit()
        .map_err(|(what, e)| Fatal::write(WriteTo::Doing(what), e))?;
    interrupt::finished();
    let code = exit_code(interrupted, totals);
    let failed = failed || fleet.trouble;
    Ok(ExitCode::from(if failed && interrupted.is_none() {
        super::EXIT_TROUBLE
    } else {
        code
    }))
}

/// The JSON Lines watch, until a signal: the signal and the fleet's totals; `None` when
/// the reader went away.
fn watch_json(
    fleet: &mut Fleet<'_>,
    reports: &mut Reports<'_>,
) -> Result<Option<(Option<i32>, Totals)>, Fatal> {
    let stdout = io::stdout();
    let mut view = JsonLines {
        out: io::BufWriter::new(stdout.lock()),
    };
    let interrupted = loop {
        if let Some(sig) = interrupt::signal() {
            break Some(sig);
        }
        let mut both = WithReports::new(&mut view, reports);
        fleet.step(&mut both)?;
        if let Some(e) = both.failed.take() {
            return stopped_writing(e).map(|_| None);
        }
        fleet.sleep();
    };
    let mut both = WithReports::new(&mut view, reports);
    let totals = fleet.finish(&mut both)?;
    if let Some(e) = both.failed.take() {
        return stopped_writing(e).map(|_| None);
    }
    Ok(Some((interrupted, totals)))
}

/// A view of the fleet (the board, the JSON Lines), and the `--report` files and
/// exporter beside it: one sink.
pub(super) struct WithReports<'r, 'w, V> {
    view: &'r mut V,
    reports: &'r mut Reports<'w>,
    /// The view could not be written: nothing more goes to it.
    pub(super) failed: Option<io::Error>,
}

impl<'r, 'w, V> WithReports<'r, 'w, V> {
    pub(super) fn new(view: &'r mut V, reports: &'r mut Reports<'w>) -> Self {
        WithReports {
            view,
            reports,
            failed: None,
        }
    }
}

impl<V: Sink<Error = io::Error>> Sink for WithReports<'_, '_, V> {
    type Error = Fatal;

    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, Fatal> {
        if self.failed.is_none() {
            // What the view shows of a finding a baseline holds: nothing, as the human
            // report.
            let shown = match &item {
                Item::Finding(f) => f
                    .baseline
                    .as_ref()
                    .is_none_or(|k| k.state != Some(crate::baseline::State::Unchanged)),
                _ => true,
            };
            if shown && let Err(e) = self.view.push(input, item.again()) {
                self.failed = Some(e);
            }
        }
        self.reports.push(input, item)
    }

    fn shows_unchanged(&self) -> bool {
        self.reports.shows_unchanged()
    }
}

/// The exit status of a watch (SPEC §4): 128 + the signal that ended it, else 1 when an
/// error was found, else 0.
pub(super) fn exit_code(interrupted: Option<i32>, totals: Totals) -> u8 {
    match interrupted {
        Some(sig) => 128 + sig as u8,
        None if totals.errors > 0 => super::EXIT_FINDINGS,
        None => super::EXIT_CLEAN,
    }
}

/// The reader of the JSON Lines went away (`| head`): nothing more can be reported.
fn stopped_writing(e: io::Error) -> Result<ExitCode, Fatal> {
    interrupt::finished();
    if e.kind() == io::ErrorKind::BrokenPipe {
        return Ok(ExitCode::from(super::EXIT_CLEAN));
    }
    Err(Fatal::write(WriteTo::Report, e))
}

/// Reads what a pane's file gained, reports a rotation, truncation or deletion with the
/// old file's summary, and a silence past `--stale`.
fn poll_pane(
    args: &WatchArgs,
    rules: &RuleOptions,
    pane: &mut Pane,
    buf: &mut [u8],
    view: &mut dyn Sink<Error = Fatal>,
    files_seen: &mut usize,
) -> Result<(), Fatal> {
    // What arrives now happened now, unless the file's records say when.
    pane.tally.tick(crate::timeline::now_micros());
    loop {
        let before = pane.tally.ended();
        let change = pane
            .followed
            .poll(buf, &mut pane.tally.through(&mut *view))?;
        if pane.tally.ended() != before {
            // As it goes: a session that ended is compared with the pane's checkpoint
            // (the worker saves it after every task).
            compare_checkpoint(args, rules, pane, view)?;
            write_summary_file(args, pane);
        }
        let Some((change, ended)) = change else { break };
        let note = match change {
            Change::Rotated if !pane.followed.alive() => {
                "replaced by something that is not a file: finished, no longer followed"
            }
            Change::Rotated => {
                "rotated: the old file is finished, the new one followed from its start"
            }
            Change::Truncated => "truncated: started over from its start",
            Change::Deleted => {
                "gone (renamed or deleted): finished; followed again from its start if it reappears"
            }
        };
        view.push(&pane.name, Item::Note(note))?;
        end_of_file(args, rules, pane, ended, view)?;
        *files_seen += 1;
        pane.tally.restart();
        pane.tally.clear_states();
        pane.checked = None;
        if change == Change::Deleted {
            break;
        }
    }
    // A silence after a completion block: the session's end is known now (summaries,
    // checkpoints, the `complete` line), not at the next marker.
    if !pane.followed.settled && pane.followed.silent() >= SETTLE {
        let before = pane.tally.ended();
        pane.followed.settle(&mut pane.tally.through(&mut *view))?;
        if pane.tally.ended() != before {
            compare_checkpoint(args, rules, pane, view)?;
            write_summary_file(args, pane);
        }
    }
    // A silence past --stale after a tool result: the CLI waits on the model
    // (worker-hung, said instead of worker-stalled); once per silence.
    let followed = &mut pane.followed;
    if !followed.stall_reported
        && followed.silent() >= args.stale
        && followed.pipeline().last_record() == crate::rules::health::LastRecord::ToolResult
    {
        followed.stall_reported = true;
        let p = followed.pipeline();
        let last = crate::event::LineText::empty(p.lines().max(1), 1, p.bytes());
        let f = crate::rules::health::hung(
            crate::rules::health::LastRecord::ToolResult,
            followed.silent(),
            last,
        );
        followed
            .pipeline_mut()
            .report(f, &mut pane.tally.through(&mut *view))?;
    }
    // A silence past --stale while a session is open: once per silence (waiting on a
    // rate limit is waiting, not a stall).
    let followed = &mut pane.followed;
    if !followed.stall_reported
        && !crate::rules::health::waiting(followed.pipeline().last_record(), followed.silent())
        && followed.silent() >= args.stale
        && let Some((session, _)) = followed.pipeline().open_session()
    {
        followed.stall_reported = true;
        let p = followed.pipeline();
        // (The watch keeps no line of a file: the place is shown, not its text.)
        let last = crate::event::LineText::empty(p.lines().max(1), 1, p.bytes());
        let f = crate::rules::live::stalled(&session, followed.silent(), last);
        followed
            .pipeline_mut()
            .report(f, &mut pane.tally.through(view))?;
    }
    Ok(())
}

/// A file ended (rotated, truncated, deleted, or the watch ends): its checkpoint
/// compared with its last session (`--checkpoints`), its summary told. Returns its
/// counts.
fn end_of_file(
    args: &WatchArgs,
    rules: &RuleOptions,
    pane: &mut Pane,
    ended: Ended,
    view: &mut dyn Sink<Error = Fatal>,
) -> Result<Totals, Fatal> {
    compare_checkpoint(args, rules, pane, view)?;
    let totals = Totals {
        sessions: ended.sessions,
        ..pane.tally.totals()
    };
    // The next file at this path (rotated, truncated) gets a timeline of its own.
    let mut timeline = pane.tally.take_timeline(ended.lines);
    let replay = pane.tally.take_replay();
    // The traces name an agent CLI's run (a transcript without protocol sessions) by
    // the CLI.
    timeline =
        timeline.map(|t| t.traced(&pane.name, ended.cli, ended.conversation.as_deref(), false));
    let mut not_checked = ended.not_checked;
    not_checked.extend(crate::rules::checkpoint::not_checked(
        Some(&pane.followed.path),
        args.checkpoints.as_deref(),
        rules,
    ));
    let summary = FileSummary {
        file: &pane.name,
        totals,
        hint: ended.hint,
        records: ended.records,
        worker_exit: None,
        timeline: timeline.as_ref(),
        replay: replay.as_ref(),
        worker: None,
        not_checked: &not_checked,
        baselined: None,
    };
    if let Some(damage) = &ended.damage {
        // Checked up to the break, summed up, and never called clean.
        super::note(&format!("error: {}: {damage}", pane.name));
        view.push(&pane.name, Item::Unreadable(damage))?;
        pane.damaged = true;
    }
    view.push(&pane.name, Item::InputEnd(&summary))?;
    write_summary_file(args, pane);
    Ok(totals)
}

/// `--checkpoints DIR`: the pane's last session, if not compared yet, against its
/// `pane-N.json`.
fn compare_checkpoint(
    args: &WatchArgs,
    rules: &RuleOptions,
    pane: &mut Pane,
    view: &mut dyn Sink<Error = Fatal>,
) -> Result<(), Fatal> {
    let Some(last) = pane.tally.states().last() else {
        return Ok(());
    };
    if args.checkpoints.is_none() || pane.checked == Some(last.start_line) {
        return Ok(());
    }
    pane.checked = Some(last.start_line);
    if let Some(f) = crate::rules::checkpoint::finding(
        last,
        Some(&pane.followed.path),
        args.checkpoints.as_deref(),
        rules,
    ) {
        pane.tally
            .through(view)
            .push(&pane.name, Item::Finding(f))?;
    }
    Ok(())
}

/// `--summaries DIR`: the pane's `pane-N.md` rewritten when one of its sessions ends
/// (written beside and renamed into place, so a reader never sees half of it).
fn write_summary_file(args: &WatchArgs, pane: &Pane) {
    let Some(dir) = &args.summaries else { return };
    let Some(n) = crate::checkpoint::pane_of(&pane.followed.path) else {
        return;
    };
    let totals = pane.tally.totals();
    let text = crate::report::postmortem::summary_markdown(
        &pane.name,
        pane.tally.states(),
        totals.errors,
        totals.warnings,
    );
    let path = dir.join(format!("pane-{n}.md"));
    let temp = dir.join(format!(".pane-{n}.md.tmp"));
    if std::fs::write(&temp, text)
        .and_then(|()| std::fs::rename(&temp, &path))
        .is_err()
    {
        super::note(&format!("could not write {}", path.display()));
    }
}

/// `{"kind":"session","file":…,"event":"start"|"complete"|"crashed","session":…,"line":N}`.
#[derive(serde::Serialize)]
struct SessionLine<'a> {
    kind: &'static str,
    file: &'a str,
    event: &'a str,
    session: &'a str,
    line: u64,
}

/// `{"kind":"note","file":…,"message":…}`: what happened to a file.
#[derive(serde::Serialize)]
struct NoteLine<'a> {
    kind: &'static str,
    file: &'a str,
    message: &'a str,
}

/// The JSON Lines view: each object written and flushed at once.
struct JsonLines<W: Write> {
    out: W,
}

impl<W: Write> JsonLines<W> {
    fn line(&mut self, value: &impl serde::Serialize) -> io::Result<()> {
        crate::report::json_text::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }
}

impl<W: Write> Sink for JsonLines<W> {
    type Error = io::Error;

    fn push(&mut self, file: &str, item: Item<'_>) -> io::Result<Flow> {
        use crate::event::{EventKind, Marker};
        match item {
            Item::Event(event) => {
                let EventKind::Marker(Marker::SessionStart { session }) = &event.kind else {
                    return Ok(Flow::Continue);
                };
                self.line(&SessionLine {
                    kind: "session",
                    file,
                    event: "start",
                    session: &session.id,
                    line: event.at.line,
                })?;
            }
            Item::Finding(finding) => json::write_finding(&mut self.out, file, &finding)?,
            Item::SessionEnd(state) => {
                let event = match state.status {
                    Status::Complete => "complete",
                    Status::Crashed => "crashed",
                };
                self.line(&SessionLine {
                    kind: "session",
                    file,
                    event,
                    session: &state.session_id,
                    line: state.last_line,
                })?;
            }
            Item::Note(message) => self.line(&NoteLine {
                kind: "note",
                file,
                message,
            })?,
            Item::InputEnd(summary) => json::write_summary(&mut self.out, summary)?,
            // A file followed, a session drawn and the run's end are not lines of the
            // view (the reports beside it take the pictures).
            Item::Followed
            | Item::SessionDrawn(..)
            | Item::Settled(_)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => return Ok(Flow::Continue),
        }
        self.out.flush()?;
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}
