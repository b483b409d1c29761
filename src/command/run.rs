//! `quant-session run [OPTIONS] -- CMD [ARGS…]` (SPEC §8): one worker supervised.
//!
//! The worker runs on a pseudo-terminal (or, with `--no-pty`, on one pipe for its stdout
//! and stderr), in a session and process group of its own, led by a keeper on a
//! terminal (see [`super::keeper`]) so that its children's output outlives it. Its output goes to stdout
//! byte for byte the moment it is read (and to `--log`), and through the one pipeline
//! driver; findings go to stderr as `check` reports a pipe. Its exit is part of the
//! verdict (`worker-error-exit` with `exit:N` or `signal:NAME`). A signal to the tool is
//! passed on to the worker's process group; `--stop-on` stops the worker at the first
//! finding of a kind (SIGTERM, SIGKILL 5 s later); `--stale` reports `worker-stalled`
//! when an open session goes silent.

use crate::rules::health::LastRecord;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitCode, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::baselines::Baselines;
use super::live::{Live, Passed, StopOn};
use super::outcome::{Outcome, conclude};
use super::reports::{Beside, primary_reporter, style};
use super::{Fatal, WriteTo, ensure_open};
use crate::cli::RunArgs;
use crate::error::InputError;
use crate::event::{Event, EventKind, LineText, Position};
use crate::interrupt;
use crate::report::file::Inputs;
use crate::source::CHUNK;

/// How reports name the worker's output.
const NAME: &str = "<worker>";

/// How long the worker's output is still read after it exited (a child it left behind
/// may hold the terminal open), and after a signal was passed on to it.
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
    /// The worker could not be started (told by the session keeper).
    CannotRun(String),
    Signal(i32),
    Resize,
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
    let mut exit_status: Option<File> = None;
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
            // The worker does not lead its terminal's session: a keeper does, so that
            // its children's output outlives it (see `keeper`).
            let exe = std::env::current_exe().map_err(|e| cannot(&e))?;
            let (status_read, status_write) = io::pipe().map_err(|e| cannot(&e))?;
            let status_write = OwnedFd::from(status_write);
            // The keeper inherits the write end (and only the keeper: it is spawned
            // at once, and the end is closed here right after).
            rustix::io::fcntl_setfd(&status_write, rustix::io::FdFlags::empty())
                .map_err(|e| cannot(&e))?;
            let child = pty_process::blocking::Command::new(exe)
                .arg(super::keeper::MODE)
                .arg("--")
                .args(command)
                .env(
                    super::keeper::STATUS_FD,
                    std::os::fd::AsRawFd::as_raw_fd(&status_write).to_string(),
                )
                .spawn(pts)
                .map_err(|e| cannot(&e));
            drop(status_write);
            let child = child?;
            exit_status = Some(File::from(OwnedFd::from(status_read)));
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
    wait_for(child, exit_status, tx.clone());
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

/// Waits for the worker's exit on a thread of its own: told by the session keeper the
/// moment the worker exits (on a terminal), else the child's own exit.
fn wait_for(mut child: std::process::Child, told: Option<File>, tx: mpsc::SyncSender<Msg>) {
    std::thread::spawn(move || {
        if let Some(mut told) = told {
            let mut text = String::new();
            let _ = told.read_to_string(&mut text);
            if let Some(why) = text.trim().strip_prefix("error ") {
                let _ = tx.send(Msg::CannotRun(why.to_owned()));
                let _ = child.wait();
                return;
            }
            if let Ok(raw) = text.trim().parse::<i32>() {
                let _ = tx.send(Msg::Exited(Ok(ExitStatus::from_raw(raw))));
                // The keeper stays while the worker's children do: reaped when it goes.
                let _ = child.wait();
                return;
            }
        }
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

/// The last bytes of the worker's output (at most 4 KiB).
#[derive(Default)]
struct Tail(Vec<u8>);

impl Tail {
    const KEEP: usize = 4096;

    fn push(&mut self, chunk: &[u8]) {
        let chunk = &chunk[chunk.len().saturating_sub(Self::KEEP)..];
        let over = (self.0.len() + chunk.len()).saturating_sub(Self::KEEP);
        self.0.drain(..over);
        self.0.extend_from_slice(chunk);
    }

    /// The last line with something on it, in an output of `lines` lines and `bytes`
    /// bytes (line 1, empty, when there was none).
    fn last_line(&self, lines: u64, bytes: u64) -> std::sync::Arc<LineText> {
        let kept = &self.0;
        let content = kept.trim_ascii_end();
        let after = kept[content.len()..]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        let start = memchr::memrchr(b'\n', content).map_or(0, |i| i + 1);
        let line = if after == 0 {
            lines
        } else {
            lines.saturating_sub(after - 1)
        };
        let text = &content[start..];
        std::sync::Arc::new(LineText {
            line: line.max(1),
            column: 1,
            offset: bytes - (kept.len() - start) as u64,
            bytes: text[..text.len().min(LineText::MAX)].into(),
        })
    }
}

/// How the worker ended, as `cause` says it: `exit:N` or `signal:NAME` (or
/// `stopped:RULE` when `--stop-on` stopped it).
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
    let mut settings = super::settings::settings(&args.lint.rules)?;
    let stop_on = StopOn::parse(&args.stop_on)?;
    let no_globs = globset::GlobSet::empty();
    let inputs = Inputs {
        files: Vec::new(),
        dirs: Vec::new(),
        globs: &no_globs,
    };
    super::reports::distinct_files(&args.lint, args.log.as_deref())?;
    // Started inside a traced job: its sessions join that trace.
    if let Ok(traceparent) = std::env::var("TRACEPARENT")
        && !crate::report::otlp::join_trace(&traceparent)
    {
        super::note(&format!(
            "TRACEPARENT `{}` is not a W3C traceparent: the sessions get traces of their own",
            crate::sanitize::escape(traceparent.as_bytes())
        ));
    }
    let beside = Beside::open(
        &args.lint.report,
        args.lint.otlp(),
        &inputs,
        args.lint.redact,
    )?;
    let draw = beside.draws(args.lint.format);
    settings.0.replay = beside.replays(args.lint.format);
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
    let mut baselines = Baselines::open(&args.lint, &inputs)?;
    let (tx, rx) = mpsc::sync_channel::<Msg>(8);
    listen(tx.clone())?;
    let worker = spawn(&args.command, !args.no_pty, &tx)?;
    drop(tx);
    worker.resize();
    if args.lint.format == crate::cli::Format::Json {
        // stderr carries the JSON report: notes join it as JSON Lines.
        crate::error::notes_as_json();
    }
    let stderr = io::stderr();
    let style = style(args.lint.color, stderr.is_terminal());
    let buffered = io::BufWriter::with_capacity(16 * 1024, stderr.lock());
    let primary = primary_reporter(&args.lint, Box::new(buffered), style, true);
    let mut reports = beside.with(primary, false);
    let live = Live::new(
        NAME,
        true,
        settings,
        None,
        stop_on,
        &mut reports,
        &mut baselines,
        draw,
    );
    let outcome = supervise(args, &worker, &rx, &mut log, live)?;
    // Recording a baseline records; it does not judge (exit 0 unless something failed).
    let records = baselines.writing();
    baselines.finish(outcome.interrupted.is_some())?;
    conclude(outcome, reports, args.lint.exit_zero || records)
}

/// The main loop: the worker's output passed through and checked, its exit, signals,
/// `--stop-on` and `--stale`, until the worker has exited and its output ended.
fn supervise(
    args: &RunArgs,
    worker: &Worker,
    rx: &mpsc::Receiver<Msg>,
    log: &mut Option<File>,
    mut live: Live<'_, '_>,
) -> Result<Outcome, Fatal> {
    let tick = Duration::from_millis(100);
    let mut exited: Option<ExitStatus> = None;
    let mut output_ended = false;
    let mut drain_until: Option<Instant> = None;
    let mut kill_at: Option<Instant> = None;
    let mut interrupted: Option<i32> = None;
    let mut last_output = Instant::now();
    let mut stall_reported = false;
    // Since when the worker's last record is its final one (worker-hung).
    let mut final_since: Option<Instant> = None;
    let mut hung_reported = false;
    // `--budget duration=…`: the worker's own time, as `run` measures it.
    let started = Instant::now();
    let time_limit = live.pipeline.budget().duration;
    let mut over_time_reported = false;
    // The end of the output, for the line a failed exit points at.
    let mut tail = Tail::default();
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
                if let Passed::Closed = live.pass(chunk)? {
                    // The worker goes on: its output is still checked and logged.
                    super::note(
                        "stdout was closed: the worker's output is still checked, no longer shown",
                    );
                }
                if let (Some(file), Some(path)) = (log.as_mut(), &args.log)
                    && let Err(e) = file.write_all(chunk)
                {
                    return Err(Fatal::write(WriteTo::File(path.clone()), e));
                }
                // The worker's output has no clock of its own: its arrival time is.
                live.tick(crate::timeline::now_micros());
                live.check(chunk);
                tail.push(chunk);
                last_output = Instant::now();
                stall_reported = false;
                hung_reported = false;
                final_since = match live.pipeline.last_record() {
                    LastRecord::Exit => final_since.or(Some(last_output)),
                    _ => None,
                };
            }
            Ok(Msg::End) => output_ended = true,
            Ok(Msg::Failed(e)) => {
                worker.signal(libc::SIGTERM);
                return Err(InputError::read(NAME, e).into());
            }
            Ok(Msg::Exited(status)) => {
                exited = Some(status.map_err(|e| InputError::read(NAME, e))?);
                if !output_ended {
                    // Its children may still print (a launcher that forks): read on
                    // until the terminal closes, at most --exit-grace.
                    drain_until.get_or_insert(Instant::now() + args.exit_grace);
                }
            }
            Ok(Msg::CannotRun(why)) => {
                return Err(Fatal::usage(format!(
                    "cannot run `{}`: {why}",
                    crate::sanitize::escape(args.command[0].to_string_lossy().as_bytes())
                )));
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
        if let Some(why) = live.stop() {
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
        if let Some(limit) = time_limit
            && !over_time_reported
            && exited.is_none()
            && live.checking()
            && started.elapsed() > limit
        {
            over_time_reported = true;
            let last = tail.last_line(live.pipeline.lines(), live.pipeline.bytes());
            live.report(crate::rules::health::over_time(
                started.elapsed(),
                limit,
                last,
            ));
        }
        // The CLI said its final word and lives on past --exit-grace: hung.
        if !hung_reported
            && exited.is_none()
            && live.checking()
            && let Some(since) = final_since
            && since.elapsed() >= args.exit_grace
        {
            hung_reported = true;
            let last = tail.last_line(live.pipeline.lines(), live.pipeline.bytes());
            live.report(crate::rules::health::hung(
                LastRecord::Exit,
                since.elapsed(),
                last,
            ));
        }
        let silent = last_output.elapsed();
        // A tool result, then silence: the CLI waits on the model (worker-hung, said
        // instead of worker-stalled).
        if !stall_reported
            && silent >= args.stale
            && live.checking()
            && live.pipeline.last_record() == LastRecord::ToolResult
        {
            stall_reported = true;
            let last = tail.last_line(live.pipeline.lines(), live.pipeline.bytes());
            live.report(crate::rules::health::hung(
                LastRecord::ToolResult,
                silent,
                last,
            ));
        }
        // Waiting on a rate limit is waiting, not a stall.
        let waiting = crate::rules::health::waiting(live.pipeline.last_record(), silent);
        if !stall_reported
            && !waiting
            && silent >= args.stale
            && live.checking()
            && let Some((session, _)) = live.pipeline.open_session()
        {
            stall_reported = true;
            // At the worker's last line, which the report shows.
            let last = tail.last_line(live.pipeline.lines(), live.pipeline.bytes());
            let f = crate::rules::live::stalled(&session, silent, last);
            live.report(f);
        }
    }
    if exited.is_none() {
        // Interrupted with the worker still running: it had its signal; it is not
        // waited for.
        worker.signal(libc::SIGTERM);
    } else if !output_ended && interrupted.is_none() {
        // Processes the worker started still hold its output: what they print from
        // now on is not read, so the run cannot be called clean.
        live.unfinished(&format!(
            "the worker exited, but processes it started still held its output {} later: \
             what they print from now on is neither shown nor checked (--exit-grace)",
            crate::rules::live::show(args.exit_grace)
        ));
    }
    // Stopped by the tool (`--stop-on`): the worker's end is the tool's doing, not a
    // failure of the worker's.
    let stopped = live.stopped_by().map(|rule| format!("stopped:{rule}"));
    let how = stopped.clone().or_else(|| exited.as_ref().map(cause));
    if let (Some(status), Some(how), None) = (&exited, &how, &stopped)
        && !status.success()
    {
        // At the worker's last line of output, which the report shows.
        let text = tail.last_line(live.pipeline.lines(), live.pipeline.bytes());
        let at = Position {
            line: text.line,
            column: 1,
            offset: text.offset,
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
                more: false,
            },
            text,
        };
        live.inject(event);
    }
    live.finish(interrupted, how.as_deref())
}
