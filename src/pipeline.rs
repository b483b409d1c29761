//! One input through the whole pipeline: the findings handed on in line order as they
//! settle, the sessions' states and the counts collected. File-mode `check`, `state`,
//! `postmortem` and `summary` all start here.

use std::path::Path;

use crate::event::{Event, EventKind};
use crate::finding::Finding;
use crate::format::{RecordCounts, WorkerRun};
use crate::rule::RuleOptions;
use crate::rule::Severity;
use crate::scan::{PrefixHint, ScanOptions, Scanner};
use crate::session::{Machine, Sink};
use crate::source::{Input, display_name};
use crate::state::SessionState;
use crate::summary::Totals;

/// Why an input could not be read to its end.
#[derive(Debug)]
pub struct InputError {
    /// The input as reports name it.
    pub name: String,
    pub kind: InputErrorKind,
}

/// What went wrong with an input.
#[derive(Debug)]
pub enum InputErrorKind {
    /// It could not be opened (missing, a directory, no permission).
    Open(std::io::Error),
    /// Reading it failed part way.
    Read(std::io::Error),
    /// A signal stopped the run before its end.
    Interrupted,
}

impl InputError {
    pub fn new(name: &str, kind: InputErrorKind) -> Self {
        InputError {
            name: name.to_owned(),
            kind,
        }
    }

    pub fn read(name: &str, e: std::io::Error) -> Self {
        let kind = if e.kind() == std::io::ErrorKind::Interrupted {
            InputErrorKind::Interrupted
        } else {
            InputErrorKind::Read(e)
        };
        InputError::new(name, kind)
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            InputErrorKind::Open(e) | InputErrorKind::Read(e) => write!(f, "{}: {e}", self.name),
            InputErrorKind::Interrupted => write!(f, "{}: interrupted", self.name),
        }
    }
}

impl std::error::Error for InputError {}

/// What reading one input produced.
#[derive(Debug)]
pub struct Analysis {
    /// Every session's state, when asked for; otherwise only the last one's.
    pub states: Vec<SessionState>,
    pub totals: Totals,
    /// Lines of input.
    pub lines: u64,
    pub hint: Option<PrefixHint>,
    pub records: Option<RecordCounts>,
    /// The worker process, on Claude Code input.
    pub worker: Option<WorkerRun>,
    /// When things happened, when asked for (the pictures).
    pub timeline: Option<crate::timeline::Timeline>,
    /// The rules that could not run on it, and why.
    pub not_checked: Vec<(crate::rule::Rule, &'static str)>,
}

struct Collect<'e> {
    /// Findings not yet settled (see [`Sink::settled`]).
    pending: Vec<Finding>,
    emit: &'e mut dyn FnMut(Finding),
    totals: Totals,
    states: Vec<SessionState>,
    all_states: bool,
    timeline: Option<crate::timeline::Builder>,
}

impl Collect<'_> {
    /// Hands on, in position order, the findings before `offset` (all of them for
    /// `u64::MAX`).
    fn release(&mut self, offset: u64) {
        if !self.pending.iter().any(|f| f.primary.at.offset < offset) {
            return;
        }
        self.pending.sort_by_key(|f| (f.primary.at.offset, f.rule));
        let cut = self
            .pending
            .partition_point(|f| f.primary.at.offset < offset);
        for f in self.pending.drain(..cut) {
            (self.emit)(f);
        }
    }
}

/// How many findings of an open session file mode holds to write them in line order.
/// Past this many (a session that never closes, with a malformed marker on every line)
/// they are written in the order they became certain: memory stays bounded (a finding
/// holds at most 1 KiB of its line), at the cost of strict line order in that session.
pub const MAX_PENDING: usize = 4096;

impl Output for Collect<'_> {
    fn event(&mut self, event: &Event) {
        if let Some(t) = &mut self.timeline {
            t.event(event);
        }
    }
}

impl Sink for Collect<'_> {
    fn finding(&mut self, finding: Finding) {
        count(&mut self.totals, &finding);
        if let Some(t) = &mut self.timeline {
            t.finding(&finding);
        }
        self.pending.push(finding);
        if self.pending.len() >= MAX_PENDING {
            self.release(u64::MAX);
        }
    }

    fn session_end(&mut self, state: &SessionState) {
        if let Some(t) = &mut self.timeline {
            t.session_end(state);
        }
        if !self.all_states {
            self.states.clear();
        }
        self.states.push(state.clone());
    }

    fn settled(&mut self, offset: u64) {
        self.release(offset);
    }
}

/// Adds a finding to the counts.
pub fn count(totals: &mut Totals, f: &Finding) {
    match f.severity {
        Severity::Error => totals.errors += 1,
        Severity::Warning => totals.warnings += 1,
    }
    // For the last word of a run ended by a signal while it was blocked.
    crate::interrupt::found(f.severity == Severity::Error);
}

/// One more finding about the last session, made once the input is read (the
/// checkpoint's, which needs the session's final state).
pub type AboutLast<'a> = &'a dyn Fn(&SessionState) -> Option<Finding>;

/// What [`analyse`] collects besides the findings.
#[derive(Default)]
pub struct Wanted<'a> {
    /// Every session's state (memory grows with the sessions); otherwise the last.
    pub all_states: bool,
    pub about_last: Option<AboutLast<'a>>,
    /// The timeline (for the pictures).
    pub timeline: bool,
}

/// What the pipeline is asked to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub scan: ScanOptions,
    /// The rules to check; without them only the events come out (`parse`).
    pub rules: Option<RuleOptions>,
    /// A Claude Code session file, whose subagents' files are read beside it.
    pub session_file: Option<std::path::PathBuf>,
    /// Whether a large plain-text file may be read in blocks on all cores.
    pub parallel: bool,
}

/// Where the pipeline's output goes: the findings and session ends (as a [`Sink`]), and
/// every event for those that want them.
pub trait Output: Sink {
    fn event(&mut self, _event: &Event) {}
}

/// The one pipeline driver: bytes in, framed, scanned into events, run through the
/// session machine, findings out. Every command drives its input through it: file
/// mode with [`Pipeline::read`], pipe mode chunk by chunk with [`Pipeline::feed`].
pub struct Pipeline {
    scanner: Scanner,
    machine: Option<Machine>,
    subagents: Option<Subagents>,
    parallel: bool,
    /// Lines and hint of a file read in blocks (the scanner saw none of it).
    blocks: Option<(u64, Option<PrefixHint>)>,
}

impl Pipeline {
    pub fn new(options: Options) -> Self {
        Pipeline {
            scanner: Scanner::new(options.scan),
            machine: options.rules.map(Machine::new),
            subagents: options.session_file.as_deref().map(Subagents::beside),
            parallel: options.parallel,
            blocks: None,
        }
    }

    /// Feeds a chunk of input.
    pub fn feed(&mut self, chunk: &[u8], out: &mut impl Output) {
        let (machine, subagents) = (&mut self.machine, &mut self.subagents);
        self.scanner
            .feed(chunk, &mut |event| dispatch(machine, subagents, event, out));
    }

    /// An event that is not in the input (the supervised worker's exit, under `run`),
    /// at the place it says.
    pub fn inject(&mut self, event: Event, out: &mut impl Output) {
        dispatch(&mut self.machine, &mut self.subagents, event, out);
    }

    /// A finding made outside the machine (`worker-stalled`, under `run`): reported at
    /// its configured level, counted in the open session.
    pub fn report(&mut self, finding: Finding, out: &mut impl Output) {
        if let Some(machine) = &mut self.machine {
            machine.report(finding, out);
        }
    }

    /// Ends the input: a last line without a line break, then the sessions left open.
    pub fn finish(&mut self, out: &mut impl Output) {
        let (machine, subagents) = (&mut self.machine, &mut self.subagents);
        self.scanner
            .finish(&mut |event| dispatch(machine, subagents, event, out));
        let lines = self.lines();
        if let Some(machine) = &mut self.machine {
            machine.finish(lines, out);
        }
    }

    /// Reads `input` to its end and finishes: a large plain-text file in blocks on all
    /// cores (when allowed), anything else chunk by chunk in `buf`. A signal stops it
    /// between chunks.
    pub fn read(
        &mut self,
        input: &mut Input,
        name: &str,
        buf: &mut [u8],
        out: &mut impl Output,
    ) -> Result<(), InputError> {
        #[cfg(unix)]
        if self.parallel
            && let Input::File(file) = &*input
            && let Some(threads) = in_blocks(file, self.scanner.options(), buf)
        {
            let len = file
                .metadata()
                .map_err(|e| InputError::read(name, e))?
                .len();
            let block = crate::source::parallel::BLOCK;
            let (machine, subagents) = (&mut self.machine, &mut self.subagents);
            let totals = crate::source::parallel::scan_file(
                file,
                len,
                block,
                self.scanner.options(),
                threads,
                &mut |event| dispatch(machine, subagents, event, out),
            )
            .map_err(|e| InputError::read(name, e))?;
            self.blocks = Some((totals.lines, totals.hint));
            if let Some(machine) = &mut self.machine {
                machine.finish(totals.lines, out);
            }
            return Ok(());
        }
        loop {
            if crate::interrupt::signal().is_some() {
                return Err(InputError::new(name, InputErrorKind::Interrupted));
            }
            let n = input
                .read_chunk(buf)
                .map_err(|e| InputError::read(name, e))?;
            if n == 0 {
                break;
            }
            self.feed(&buf[..n], out);
        }
        self.finish(out);
        Ok(())
    }

    /// Lines seen so far (a last line without `\n` counts).
    pub fn lines(&self) -> u64 {
        self.blocks
            .map_or_else(|| self.scanner.lines(), |(lines, _)| lines)
    }

    /// Bytes seen so far (of input read chunk by chunk).
    pub fn bytes(&self) -> u64 {
        self.scanner.bytes()
    }

    /// Whether lines looked like markers behind a prefix.
    pub fn prefix_hint(&self) -> Option<PrefixHint> {
        match self.blocks {
            Some((_, hint)) => hint,
            None => self.scanner.prefix_hint(),
        }
    }

    /// The record counts, on agent-CLI input.
    pub fn records(&self) -> Option<RecordCounts> {
        self.scanner.records()
    }

    /// The worker process, on agent-CLI input.
    pub fn worker_run(&self) -> Option<WorkerRun> {
        self.scanner.worker_run()
    }

    /// The rules that could not run on this input, and why (SPEC §10).
    pub fn not_checked(&self) -> Vec<(crate::rule::Rule, &'static str)> {
        self.machine
            .as_ref()
            .map_or_else(Vec::new, Machine::not_checked)
    }

    /// Sessions seen so far.
    pub fn sessions(&self) -> u64 {
        self.machine.as_ref().map_or(0, Machine::sessions)
    }

    /// The session open now: its id and the line it started on.
    pub fn open_session(&self) -> Option<(String, u64)> {
        self.machine.as_ref().and_then(Machine::open_session)
    }
}

/// One event to the output and through the machine, a Claude Code subagent's file
/// calls before its run.
fn dispatch(
    machine: &mut Option<Machine>,
    subagents: &mut Option<Subagents>,
    event: Event,
    out: &mut impl Output,
) {
    out.event(&event);
    let Some(machine) = machine else { return };
    if let (EventKind::SubagentRun { agent_id }, Some(subagents)) = (&event.kind, subagents) {
        for call in subagents.creations(agent_id) {
            machine.event(&call, out);
        }
    }
    machine.event(&event, out);
}

/// Reads `path` through the pipeline and hands each finding to `emit` in position
/// order, as soon as no earlier one can come: a finding can only point back into the
/// session that is open, so those before a new `SESSION_START` are written out then,
/// and memory holds one session's findings, not the input's. `all_states` keeps every
/// session's state (memory grows with the number of sessions); otherwise only the
/// last.
pub fn analyse(
    path: Option<&Path>,
    buf: &mut [u8],
    scan: &ScanOptions,
    rules: &RuleOptions,
    wanted: Wanted<'_>,
    emit: &mut dyn FnMut(Finding),
) -> Result<Analysis, InputError> {
    let Wanted {
        all_states,
        about_last,
        timeline,
    } = wanted;
    let name = display_name(path);
    let mut input =
        Input::open(path).map_err(|e| InputError::new(&name, InputErrorKind::Open(e)))?;
    let mut pipeline = Pipeline::new(Options {
        scan: scan.clone(),
        rules: Some(rules.clone()),
        session_file: path.map(Path::to_path_buf),
        parallel: true,
    });
    let mut sink = Collect {
        pending: Vec::new(),
        emit,
        totals: Totals::default(),
        states: Vec::new(),
        all_states,
        timeline: timeline.then(crate::timeline::Builder::new),
    };
    pipeline.read(&mut input, &name, buf, &mut sink)?;
    if let Some(f) = about_last.and_then(|about| sink.states.last().and_then(about)) {
        sink.finding(f);
    }
    sink.release(u64::MAX);
    let timeline = sink.timeline.take().map(|t| t.finish(pipeline.lines()));
    Ok(Analysis {
        states: sink.states,
        totals: Totals {
            sessions: pipeline.sessions(),
            ..sink.totals
        },
        lines: pipeline.lines(),
        hint: pipeline.prefix_hint(),
        records: pipeline.records(),
        worker: pipeline.worker_run(),
        timeline,
        not_checked: pipeline.not_checked(),
    })
}

/// The records of Claude Code 2.1 subagents, kept beside a session file
/// `<session>.jsonl` in `<session>/subagents/agent-<id>.jsonl`. The files are found by
/// listing that directory, so a name taken from the transcript never becomes a path.
struct Subagents {
    dir: std::path::PathBuf,
    /// The directory's `agent-<id>.jsonl` files by id, once listed.
    files: Option<Vec<(String, std::path::PathBuf)>>,
}

impl Subagents {
    fn beside(session: &Path) -> Self {
        Subagents {
            dir: session.with_extension("").join("subagents"),
            files: None,
        }
    }

    /// The tool calls of subagent `id` that created files (they are its task's files):
    /// none when its file is not there.
    fn creations(&mut self, id: &str) -> Vec<Event> {
        let dir = &self.dir;
        let files = self.files.get_or_insert_with(|| {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return Vec::new();
            };
            entries
                .filter_map(|e| {
                    let path = e.ok()?.path();
                    let name = path.file_name()?.to_str()?;
                    let id = name
                        .strip_prefix("agent-")?
                        .strip_suffix(".jsonl")?
                        .to_owned();
                    Some((id, path))
                })
                .collect()
        });
        // The id in a tool result may be the start of the file's.
        let Some((_, path)) = files.iter().find(|(file_id, _)| file_id == id).or_else(|| {
            files
                .iter()
                .find(|(file_id, _)| !id.is_empty() && file_id.starts_with(id))
        }) else {
            return Vec::new();
        };
        let Ok(mut input) = Input::open(Some(path)) else {
            return Vec::new();
        };
        let mut scanner = Scanner::new(ScanOptions {
            input: crate::scan::InputKind::Cli(crate::format::claude::SPEC.cli),
            ..ScanOptions::default()
        });
        let mut calls = Vec::new();
        let mut keep = |mut e: Event| {
            if let EventKind::ToolCall {
                creates: Some(_),
                subagent,
                ..
            } = &mut e.kind
            {
                *subagent = None;
                calls.push(e);
            }
        };
        let mut buf = vec![0u8; crate::source::CHUNK];
        while let Ok(n) = input.read_chunk(&mut buf) {
            if n == 0 {
                break;
            }
            scanner.feed(&buf[..n], &mut keep);
        }
        scanner.finish(&mut keep);
        calls
    }
}

/// Below this size a file is read on one thread: the blocks would not pay for
/// themselves.
#[cfg(unix)]
const BLOCKS_FROM: u64 = 2 * crate::source::parallel::BLOCK;

/// Whether `file` is read in blocks in parallel, and on how many threads: a large
/// regular file of plain text (not stream-json, whose records span lines, nor CRI
/// partial lines, which are joined across lines), with more than one core to use.
#[cfg(unix)]
fn in_blocks(file: &std::fs::File, scan: &ScanOptions, buf: &mut [u8]) -> Option<usize> {
    use crate::scan::InputKind;
    use std::os::unix::fs::FileExt;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() < BLOCKS_FROM || scan.join_partial {
        return None;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 {
        return None;
    }
    match scan.input {
        InputKind::Text => Some(threads),
        InputKind::Cli(_) => None,
        InputKind::Auto => {
            // The first non-blank line decides, as it does for the scanner.
            let n = file.read_at(buf, 0).ok()?;
            let first = buf[..n]
                .split(|&b| b == b'\n')
                .find(|l| !l.trim_ascii().is_empty())?;
            let whole = first.len() < n;
            // A record stream, or a JSON document (its first line `{` alone), is read
            // in one piece.
            let document = first
                .trim_ascii_start()
                .strip_prefix(b"{")
                .is_some_and(|rest| crate::format::document_reader(None, rest).is_some());
            let text =
                !crate::format::looks_like_record(first) && first.trim_ascii() != b"{" && !document;
            (whole && text).then_some(threads)
        }
    }
}
