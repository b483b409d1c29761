//! `quant-session run [OPTIONS] -- CMD [ARGS…]` (SPEC §8): one worker supervised.
//!
//! The worker runs on a pseudo-terminal (or, with `--no-pty`, on one pipe for its stdout
//! and stderr), in a session and process group of its own. Its output goes to stdout
//! byte for byte the moment it is read (and to `--log`), and through the one pipeline
//! driver; findings go to stderr as `check` reports a pipe. Its exit is part of the
//! verdict (`worker-error-exit` with `exit:N` or `signal:NAME`). A signal to the tool is
//! passed on to the worker's process group; `--stop-on` stops the worker at the first
//! finding of a kind (SIGTERM, SIGKILL 5 s later); `--stale` reports `worker-stalled`
//! when an open session goes silent.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitCode, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::check::{Live, Outcome, Reports, conclude, ensure_open, open_reports, style};
use super::{Fatal, WriteTo};
use crate::cli::RunArgs;
use crate::event::{Event, EventKind, LineText, Position};
use crate::finding::Finding;
use crate::interrupt;
use crate::pipeline::{self, InputError, Output, Pipeline};
use crate::report::Reporter;
use crate::report::file::Inputs;
use crate::rule::{Rule, Severity};
use crate::session::Sink;
use crate::source::CHUNK;
use crate::summary::{FileSummary, Totals};

/// How reports name the worker's output.
const NAME: &str = "<worker>";

/// How long the worker's output is still read after it exited (a child it left behind
/// may hold the terminal open), and after a signal was passed on to it.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);
const DRAIN_AFTER_SIGNAL: Duration = Duration::from_millis(300);

/// Between SIGTERM and SIGKILL when `--stop-on` stops the worker.
const KILL_AFTER: Duration = Duration::from_secs(5);

/// What the main loop hears.
enum Msg {
    Data(Vec<u8>, usize),
    /// The worker's output ended (every writer closed it).
    End,
    Failed(io::Error),
    Exited(io::Result<ExitStatus>),
    Signal(i32),
    Resize,
}

/// Which findings stop the worker.
#[derive(Debug, Default)]
struct StopOn {
    errors: bool,
    warnings: bool,
    rules: Vec<Rule>,
}

impl StopOn {
    fn parse(values: &[String]) -> Result<StopOn, Fatal> {
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
    fn matches(&self, f: &Finding) -> Option<&'static str> {
        if self.rules.contains(&f.rule) {
            Some("its rule")
        } else if self.warnings {
            Some("warning")
        } else if self.errors && f.severity == Severity::Error {
            Some("error")
        } else {
            None
        }
    }
}

/// The live report, and the first finding that stops the worker.
struct Supervised<'r, 'w> {
    live: Live<'r, 'w>,
    stop_on: StopOn,
    /// Why the worker must stop, once: taken by the main loop.
    stop: Option<String>,
    stopping: bool,
}

impl Output for Supervised<'_, '_> {}

impl Sink for Supervised<'_, '_> {
    fn finding(&mut self, finding: Finding) {
        if !self.stopping
            && let Some(why) = self.stop_on.matches(&finding)
        {
            self.stopping = true;
            let what = match why {
                "its rule" => format!("--stop-on {}", finding.rule),
                kind => format!("--stop-on {kind}"),
            };
            self.stop = Some(format!(
                "{what}: {} on line {} ({})",
                finding.rule,
                finding.primary.at.line,
                crate::sanitize::escape(finding.message.as_bytes())
            ));
        }
        self.live.finding(finding);
    }

    fn session_end(&mut self, state: &crate::state::SessionState) {
        self.live.session_end(state);
    }
}

/// The worker process: its process group, where its input goes, its terminal.
struct Worker {
    pid: i32,
    /// The pty's master side, for the window size (none with `--no-pty`).
    master: Option<OwnedFd>,
}

impl Worker {
    /// Sends `sig` to the worker's process group (it leads one of its own).
    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory
        // is involved.
        unsafe {
            libc::kill(-self.pid, sig);
        }
    }

    /// Gives the worker's terminal the size of ours.
    fn resize(&self) {
        let Some(master) = &self.master else { return };
        let ours = [
            io::stdout().as_fd(),
            io::stdin().as_fd(),
            io::stderr().as_fd(),
        ]
        .into_iter()
        .find_map(|fd| rustix::termios::tcgetwinsize(fd).ok());
        if let Some(size) = ours.filter(|s| s.ws_row > 0 && s.ws_col > 0) {
            let _ = rustix::termios::tcsetwinsize(master, size);
        }
    }
}

/// Starts the worker; its output, its exit and its input are handled by threads that
/// report to `tx`.
fn spawn(command: &[OsString], pty: bool, tx: &mpsc::SyncSender<Msg>) -> Result<Worker, Fatal> {
    let shown = || crate::sanitize::escape(command[0].to_string_lossy().as_bytes());
    let cannot = |e: &dyn std::fmt::Display| Fatal::usage(format!("cannot run `{}`: {e}", shown()));
    let (child, output, input, master): (std::process::Child, File, Option<File>, Option<OwnedFd>) =
        if pty {
            let (pty, pts) = pty_process::blocking::open().map_err(|e| cannot(&e))?;
            // Output byte for byte (no `\n` → `\r\n`), and what the tool writes to the
            // worker's input is not echoed into its output.
            if let Ok(mut modes) = rustix::termios::tcgetattr(&pty) {
                modes
                    .output_modes
                    .remove(rustix::termios::OutputModes::OPOST);
                modes.local_modes.remove(rustix::termios::LocalModes::ECHO);
                let _ =
                    rustix::termios::tcsetattr(&pty, rustix::termios::OptionalActions::Now, &modes);
            }
            let child = pty_process::blocking::Command::new(&command[0])
                .args(&command[1..])
                .spawn(pts)
                .map_err(|e| cannot(&e))?;
            let master = OwnedFd::from(pty);
            let output = File::from(master.try_clone().map_err(|e| cannot(&e))?);
            let input = File::from(master.try_clone().map_err(|e| cannot(&e))?);
            (child, output, Some(input), Some(master))
        } else {
            use std::os::unix::process::CommandExt;
            let (reader, writer) = io::pipe().map_err(|e| cannot(&e))?;
            let stderr = writer.try_clone().map_err(|e| cannot(&e))?;
            let mut child = std::process::Command::new(&command[0])
                .args(&command[1..])
                .stdin(std::process::Stdio::piped())
                .stdout(writer)
                .stderr(stderr)
                .process_group(0)
                .spawn()
                .map_err(|e| cannot(&e))?;
            let input = child.stdin.take().map(|s| File::from(OwnedFd::from(s)));
            (child, File::from(OwnedFd::from(reader)), input, None)
        };
    let worker = Worker {
        pid: child.id() as i32,
        master,
    };
    read_output(output, tx.clone());
    wait_for(child, tx.clone());
    if let Some(input) = input {
        pass_input(input, pty);
    }
    Ok(worker)
}

/// Reads the worker's output on a thread of its own.
fn read_output(mut output: File, tx: mpsc::SyncSender<Msg>) {
    std::thread::spawn(move || {
        loop {
            let mut buf = vec![0u8; CHUNK];
            let msg = match output.read(&mut buf) {
                Ok(0) => Msg::End,
                Ok(n) => Msg::Data(buf, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A pty whose other side is closed (the worker is gone) reads EIO.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => Msg::End,
                Err(e) => Msg::Failed(e),
            };
            let last = !matches!(msg, Msg::Data(..));
            if tx.send(msg).is_err() || last {
                return;
            }
        }
    });
}

/// Waits for the worker's exit on a thread of its own.
fn wait_for(mut child: std::process::Child, tx: mpsc::SyncSender<Msg>) {
    std::thread::spawn(move || {
        let _ = tx.send(Msg::Exited(child.wait()));
    });
}

/// Copies the tool's stdin to the worker's input; at its end, the worker's input ends
/// too (an end-of-file character on a terminal, the pipe closed otherwise).
fn pass_input(mut input: File, pty: bool) {
    std::thread::spawn(move || {
        let mut stdin = io::stdin();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if input.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if pty {
            let _ = input.write_all(&[4]);
        }
    });
}

/// Listens for the signals that interrupt the run, and for window size changes.
fn listen(tx: mpsc::SyncSender<Msg>) -> Result<(), Fatal> {
    use signal_hook::consts::SIGWINCH;
    let mut all = interrupt::SIGNALS.to_vec();
    all.push(SIGWINCH);
    let mut signals = signal_hook::iterator::Signals::new(all).map_err(Fatal::Signals)?;
    std::thread::spawn(move || {
        for sig in signals.forever() {
            let msg = if sig == SIGWINCH {
                Msg::Resize
            } else {
                Msg::Signal(sig)
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// How the worker ended, as `cause` says it: `exit:N` or `signal:NAME`.
fn cause(status: &ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit:{code}"),
        (None, Some(sig)) => format!("signal:{}", signal_name(sig)),
        (None, None) => "exit:?".to_owned(),
    }
}

fn signal_name(sig: i32) -> String {
    use signal_hook::consts::*;
    let name = match sig {
        SIGHUP => "SIGHUP",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        SIGILL => "SIGILL",
        SIGTRAP => "SIGTRAP",
        SIGABRT => "SIGABRT",
        SIGBUS => "SIGBUS",
        SIGFPE => "SIGFPE",
        SIGKILL => "SIGKILL",
        SIGUSR1 => "SIGUSR1",
        SIGSEGV => "SIGSEGV",
        SIGUSR2 => "SIGUSR2",
        SIGPIPE => "SIGPIPE",
        SIGALRM => "SIGALRM",
        SIGTERM => "SIGTERM",
        _ => return format!("{sig}"),
    };
    name.to_owned()
}

pub fn run(args: &RunArgs) -> Result<ExitCode, Fatal> {
    interrupt::install().map_err(Fatal::Signals)?;
    ensure_open(1, "stdout (where the worker's output goes)")?;
    ensure_open(2, "stderr (where run reports)")?;
    let (scan, rules) = super::check::settings(&args.lint.rules)?;
    let stop_on = StopOn::parse(&args.stop_on)?;
    let no_globs = globset::GlobSet::empty();
    let inputs = Inputs {
        files: Vec::new(),
        dirs: Vec::new(),
        globs: &no_globs,
    };
    let (mut reports, files) = open_reports(&args.lint.report, &inputs)?;
    super::check::add_exporter(args.lint.otlp_endpoint.as_deref(), &mut reports)?;
    let mut log = match &args.log {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Fatal::write(WriteTo::File(path.clone()), e))?,
        ),
        None => None,
    };
    let (tx, rx) = mpsc::sync_channel::<Msg>(8);
    listen(tx.clone())?;
    let worker = spawn(&args.command, !args.no_pty, &tx)?;
    drop(tx);
    worker.resize();
    let mut baselines = super::check::Baselines::open(&args.lint, &inputs)?;
    let outcome = supervise(
        args,
        &worker,
        &rx,
        &mut log,
        (scan, rules, stop_on),
        &mut reports,
        &mut baselines,
    )?;
    baselines.finish(outcome.interrupted.is_some())?;
    conclude(outcome, reports, files, args.lint.exit_zero)
}

/// The main loop: the worker's output passed through and checked, its exit, signals,
/// `--stop-on` and `--stale`, until the worker has exited and its output ended.
#[allow(clippy::too_many_arguments)]
fn supervise(
    args: &RunArgs,
    worker: &Worker,
    rx: &mpsc::Receiver<Msg>,
    log: &mut Option<File>,
    (scan, rules, stop_on): (crate::scan::ScanOptions, crate::rule::RuleOptions, StopOn),
    reports: &mut Reports,
    baselines: &mut super::check::Baselines,
) -> Result<Outcome, Fatal> {
    let stderr = io::stderr();
    let style = style(args.lint.color, stderr.is_terminal());
    let buffered = io::BufWriter::with_capacity(16 * 1024, stderr.lock());
    let mut primary: Box<dyn Reporter + '_> =
        super::check::primary_reporter(&args.lint, Box::new(buffered), style, true);
    let drawn = super::check::pictures(args.lint.format, reports);
    let mut sink = Supervised {
        live: Live {
            name: NAME,
            primary: &mut primary,
            reports,
            totals: Totals::default(),
            failed: None,
            after_signal: 0,
            unshown: 0,
            timeline: drawn.then(crate::timeline::Builder::new),
            baselines,
        },
        stop_on,
        stop: None,
        stopping: false,
    };
    // Passthrough: one write per chunk to a duplicate of fd 1.
    let mut out: Box<dyn Write> = match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(File::from(fd)),
        Err(_) => Box::new(io::stdout()),
    };
    // The worker's output has no pane checkpoint: decided before the rules go on.
    let checkpoint_gap = crate::rules::checkpoint::not_checked(None, None, &rules);
    let mut pipeline = Pipeline::new(pipeline::Options {
        scan,
        rules: Some(rules),
        ..pipeline::Options::default()
    });
    let tick = Duration::from_millis(100);
    let mut exited: Option<ExitStatus> = None;
    let mut output_ended = false;
    let mut stdout_closed = false;
    let mut drain_until: Option<Instant> = None;
    let mut kill_at: Option<Instant> = None;
    let mut interrupted: Option<i32> = None;
    let mut last_output = Instant::now();
    let mut stall_reported = false;
    loop {
        if output_ended && exited.is_some() {
            break;
        }
        if drain_until.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        match rx.recv_timeout(tick) {
            Ok(Msg::Data(buf, n)) => {
                let chunk = &buf[..n];
                if !stdout_closed {
                    match out.write_all(chunk).and_then(|()| out.flush()) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                            // The worker goes on: its output is still checked and logged.
                            stdout_closed = true;
                            super::note(
                                "stdout was closed: the worker's output is still checked, no longer shown",
                            );
                        }
                        Err(e) => return Err(Fatal::write(WriteTo::Stdout, e)),
                    }
                }
                if let (Some(file), Some(path)) = (log.as_mut(), &args.log)
                    && let Err(e) = file.write_all(chunk)
                {
                    return Err(Fatal::write(WriteTo::File(path.clone()), e));
                }
                if let Some(t) = &mut sink.live.timeline {
                    // The worker's output has no clock of its own: its arrival time is.
                    t.tick(crate::timeline::now_micros());
                }
                pipeline.feed(chunk, &mut sink);
                last_output = Instant::now();
                stall_reported = false;
            }
            Ok(Msg::End) => output_ended = true,
            Ok(Msg::Failed(e)) => {
                worker.signal(libc::SIGTERM);
                return Err(InputError::read(NAME, e).into());
            }
            Ok(Msg::Exited(status)) => {
                exited = Some(status.map_err(|e| InputError::read(NAME, e))?);
                if !output_ended {
                    drain_until.get_or_insert(Instant::now() + DRAIN_AFTER_EXIT);
                }
            }
            Ok(Msg::Signal(sig)) => {
                // Ctrl-C reaches the worker: it is in a session of its own, so the
                // terminal's signal came only to the tool.
                worker.signal(sig);
                interrupted.get_or_insert(sig);
                drain_until = Some(Instant::now() + DRAIN_AFTER_SIGNAL);
            }
            Ok(Msg::Resize) => worker.resize(),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if let Some(why) = sink.stop.take() {
            super::note(&format!(
                "stopping the worker (SIGTERM, SIGKILL in 5 s): {why}"
            ));
            worker.signal(libc::SIGTERM);
            kill_at = Some(Instant::now() + KILL_AFTER);
        }
        if kill_at.is_some_and(|k| Instant::now() >= k) && exited.is_none() {
            worker.signal(libc::SIGKILL);
            kill_at = None;
        }
        let silent = last_output.elapsed();
        if !stall_reported
            && silent >= args.stale
            && let Some((session, _)) = pipeline.open_session()
        {
            stall_reported = true;
            let line = pipeline.lines();
            let f = crate::rules::live::stalled(&session, silent, line, pipeline.bytes());
            pipeline.report(f, &mut sink);
        }
    }
    if exited.is_none() {
        // Interrupted with the worker still running: it had its signal; it is not
        // waited for.
        worker.signal(libc::SIGTERM);
    }
    let how = exited.as_ref().map(cause);
    if let (Some(status), Some(how)) = (&exited, &how)
        && !status.success()
    {
        let at = Position {
            line: pipeline.lines().max(1),
            column: 1,
            offset: pipeline.bytes(),
            block_line: None,
        };
        let event = Event {
            at,
            kind: EventKind::WorkerExit {
                subtype: how.clone(),
                cause: how.clone(),
                failed: true,
                num_turns: None,
                total_cost_usd: None,
            },
            text: LineText::empty(at.line, 1, at.offset),
        };
        pipeline.inject(event, &mut sink);
    }
    pipeline.finish(&mut sink);
    let mut live = sink.live;
    if interrupted.is_none() {
        live.baselines.checked(NAME);
    }
    live.totals.sessions = pipeline.sessions();
    let timeline = live.timeline.take().map(|t| t.finish(pipeline.lines()));
    // The worker's exit is known here: what the run could not check is the rest.
    let mut not_checked = pipeline.not_checked();
    if exited.is_some() {
        not_checked.retain(|(rule, _)| *rule != Rule::WorkerErrorExit);
    }
    not_checked.extend(checkpoint_gap);
    let summary = FileSummary {
        file: NAME,
        totals: live.totals,
        hint: pipeline.prefix_hint(),
        records: pipeline.records(),
        worker_exit: how.as_deref(),
        timeline: timeline.as_ref(),
        worker: None,
        not_checked: &not_checked,
    };
    live.end(&summary)?;
    if let Some(sig) = interrupted {
        super::note(&format!(
            "interrupted by {}; passed on to the worker; the report covers its output so far",
            interrupt::name(sig)
        ));
    }
    Ok(Outcome {
        files: 1,
        totals: live.totals,
        trouble: false,
        interrupted,
        incomplete: false,
    })
}
