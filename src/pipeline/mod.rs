//! One input through the whole pipeline: the findings handed on in line order as they
//! settle, the sessions' states and the counts collected. File-mode `check`, `state`,
//! `postmortem` and `summary` all start here.

mod ordered;
mod subagents;
mod tally;

pub use ordered::Ordered;
pub use tally::{Finished, Keep, Tally, Through};

use std::path::Path;

use subagents::Subagents;

use crate::error::{InputError, InputErrorKind};
use crate::event::{Event, EventKind};
use crate::finding::Finding;
use crate::format::{RecordCounts, WorkerRun};
use crate::rule::RuleOptions;
use crate::scan::{PrefixHint, ScanOptions, Scanner};
use crate::session::Machine;
use crate::sink::{Flow, Item, Sink};
use crate::source::{Input, display_name};
use crate::state::SessionState;
use crate::summary::Totals;

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
    /// What the input said, when the scanner kept it (the HTML report's replay).
    pub replay: Option<crate::replay::Replay>,
    /// The rules that could not run on it, and why.
    pub not_checked: Vec<(crate::rule::Rule, &'static str)>,
    /// What broke in its wrapping (corrupt gzip): what came before was checked, but it
    /// was not read to its end (exit 2).
    pub damage: Option<String>,
}

/// One more finding about the last session, made once the input is read (the
/// checkpoint's, which needs the session's final state).
pub type AboutLast<'a> = &'a dyn Fn(&SessionState) -> Option<Finding>;

/// What [`analyse`] collects besides the findings.
pub struct Wanted<'a> {
    /// Which sessions' states are kept.
    pub keep: Keep,
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

/// The one pipeline driver: bytes in, framed, scanned into events, run through the
/// session machine, everything out into one [`Sink`]. Every command drives its input
/// through it: file mode with [`Pipeline::read`], pipe mode and `run` chunk by chunk with
/// [`Pipeline::feed`], `watch` as its files grow. Each method returns what the sink
/// answered: after a stop or an error the caller feeds no more.
pub struct Pipeline {
    /// The input as reports name it.
    name: String,
    scanner: Scanner,
    machine: Option<Machine>,
    subagents: Option<Subagents>,
    parallel: bool,
    /// Lines and hint of a file read in blocks (the scanner saw none of it).
    blocks: Option<(u64, Option<PrefixHint>)>,
}

impl Pipeline {
    /// A pipeline for the input reports call `name`.
    pub fn new(name: &str, options: Options) -> Self {
        let replay = options.scan.replay;
        Pipeline {
            name: name.to_owned(),
            scanner: Scanner::new(options.scan),
            machine: options.rules.map(Machine::new),
            subagents: options
                .session_file
                .as_deref()
                .map(|file| Subagents::beside(file, replay)),
            parallel: options.parallel,
            blocks: None,
        }
    }

    /// The input as reports name it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Feeds a chunk of input.
    pub fn feed<S: Sink>(&mut self, chunk: &[u8], sink: &mut S) -> Result<Flow, S::Error> {
        let mut to = To {
            name: &self.name,
            machine: &mut self.machine,
            subagents: &mut self.subagents,
            sink,
            status: Ok(Flow::Continue),
        };
        self.scanner.feed(chunk, &mut |event| to.event(event));
        to.status
    }

    /// An event that is not in the input (the supervised worker's exit, under `run`),
    /// at the place it says.
    pub fn inject<S: Sink>(&mut self, event: Event, sink: &mut S) -> Result<Flow, S::Error> {
        let mut to = To {
            name: &self.name,
            machine: &mut self.machine,
            subagents: &mut self.subagents,
            sink,
            status: Ok(Flow::Continue),
        };
        to.event(event);
        to.status
    }

    /// A finding made outside the machine (`worker-stalled`, under `run`): reported at
    /// its configured level, counted in the open session.
    pub fn report<S: Sink>(&mut self, finding: Finding, sink: &mut S) -> Result<Flow, S::Error> {
        match &mut self.machine {
            Some(machine) => machine.report(&self.name, finding, sink),
            None => Ok(Flow::Continue),
        }
    }

    /// Ends the input: a last line without a line break, then the sessions left open.
    pub fn finish<S: Sink>(&mut self, sink: &mut S) -> Result<Flow, S::Error> {
        let mut to = To {
            name: &self.name,
            machine: &mut self.machine,
            subagents: &mut self.subagents,
            sink,
            status: Ok(Flow::Continue),
        };
        self.scanner.finish(&mut |event| to.event(event));
        if to.status? == Flow::Stop {
            return Ok(Flow::Stop);
        }
        let lines = self.lines();
        match &mut self.machine {
            Some(machine) => machine.finish(&self.name, lines, sink),
            None => Ok(Flow::Continue),
        }
    }

    /// The input fell silent after a completion block: the session's end is told, its
    /// block kept open for fields still to come.
    pub fn announce<S: Sink>(&mut self, sink: &mut S) -> Result<Flow, S::Error> {
        match &mut self.machine {
            Some(machine) => machine.announce(&self.name, sink),
            None => Ok(Flow::Continue),
        }
    }

    /// Stops reading an input that may still grow (the watch ends): a completed
    /// session's block is closed; a last line without its line break, and a session
    /// still open, are left as they are (the worker may be writing them).
    pub fn settle<S: Sink>(&mut self, sink: &mut S) -> Result<Flow, S::Error> {
        match &mut self.machine {
            Some(machine) => machine.settle(&self.name, sink),
            None => Ok(Flow::Continue),
        }
    }

    /// Reads `input` to its end and finishes: a large plain-text file in blocks on all
    /// cores (when allowed), anything else chunk by chunk in `buf`. A signal stops it
    /// between chunks (an `Interrupted` input error).
    pub fn read<S: Sink>(
        &mut self,
        input: &mut Input,
        buf: &mut [u8],
        sink: &mut S,
    ) -> Result<Flow, S::Error>
    where
        S::Error: From<InputError>,
    {
        #[cfg(unix)]
        if self.parallel
            && let Input::File(file) = &*input
            && let Some(threads) = in_blocks(file, self.scanner.options(), buf)
        {
            let name = &self.name;
            let len = file
                .metadata()
                .map_err(|e| InputError::read(name, e))?
                .len();
            let block = crate::source::parallel::BLOCK;
            let mut to = To {
                name,
                machine: &mut self.machine,
                subagents: &mut self.subagents,
                sink,
                status: Ok(Flow::Continue),
            };
            let totals = crate::source::parallel::scan_file(
                file,
                len,
                block,
                self.scanner.options(),
                threads,
                &mut |event| to.event(event),
            )
            .map_err(|e| InputError::read(name, e))?;
            if to.status? == Flow::Stop {
                return Ok(Flow::Stop);
            }
            self.blocks = Some((totals.lines, totals.hint));
            return match &mut self.machine {
                Some(machine) => machine.finish(&self.name, totals.lines, sink),
                None => Ok(Flow::Continue),
            };
        }
        loop {
            if crate::interrupt::signal().is_some() {
                return Err(InputError::new(&self.name, InputErrorKind::Interrupted).into());
            }
            let n = input
                .read_chunk(buf)
                .map_err(|e| InputError::read(&self.name, e))?;
            if n == 0 {
                break;
            }
            if self.feed(&buf[..n], sink)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        // (A broken wrapping is kept in [`Pipeline::damage`]: what came before the
        // break was checked, and is summed up.)
        self.finish(sink)
    }

    /// What broke in the input's wrapping (corrupt or cut gzip), once it is read: the
    /// input could not be read to its end.
    pub fn damage(&self) -> Option<&str> {
        self.scanner.damage()
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

    /// What a run may spend (`--budget`).
    pub fn budget(&self) -> crate::rule::Budget {
        self.machine
            .as_ref()
            .map(Machine::budget)
            .unwrap_or_default()
    }

    /// What the worker's last record was (a final record, a tool result).
    pub fn last_record(&self) -> crate::rules::health::LastRecord {
        self.machine
            .as_ref()
            .map(Machine::last_record)
            .unwrap_or_default()
    }

    /// The session open now: its id and the line it started on.
    pub fn open_session(&self) -> Option<(String, u64)> {
        self.machine.as_ref().and_then(Machine::open_session)
    }
}

/// Where the scanner's events go: to the sink, then through the machine (a Claude Code
/// subagent's file calls before its run). It keeps the sink's first stop or error and
/// passes nothing on after it.
struct To<'a, S: Sink> {
    name: &'a str,
    machine: &'a mut Option<Machine>,
    subagents: &'a mut Option<Subagents>,
    sink: &'a mut S,
    status: Result<Flow, S::Error>,
}

impl<S: Sink> To<'_, S> {
    fn event(&mut self, event: Event) {
        if matches!(self.status, Ok(Flow::Continue)) {
            self.status = self.dispatch(event);
        }
    }

    fn dispatch(&mut self, event: Event) -> Result<Flow, S::Error> {
        if self.sink.push(self.name, Item::Event(&event))? == Flow::Stop {
            return Ok(Flow::Stop);
        }
        let Some(machine) = self.machine else {
            return Ok(Flow::Continue);
        };
        if let (EventKind::SubagentRun { agent_id }, Some(subagents)) =
            (&event.kind, &mut *self.subagents)
        {
            let run = subagents.run(agent_id);
            // What the subagent said, in the replay where its run is told.
            for mut said in run.said {
                said.at = event.at;
                if self.sink.push(self.name, Item::Event(&said))? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
            for call in run.creations {
                if machine.event(self.name, &call, self.sink)? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
        }
        machine.event(self.name, &event, self.sink)
    }
}

/// Reads `path` through the pipeline into `sink`, wrapped in a [`Tally`] that counts,
/// keeps the sessions' states as `keep` says and draws the timeline when `timeline`;
/// `about_last` adds one more finding about the last session once the input is read
/// (the checkpoint's). File mode, `state`, `postmortem` and `summary` start here.
pub fn analyse<S: Sink>(
    path: Option<&Path>,
    buf: &mut [u8],
    scan: &ScanOptions,
    rules: &RuleOptions,
    wanted: Wanted<'_>,
    sink: S,
) -> Result<(Analysis, S), S::Error>
where
    S::Error: From<InputError>,
{
    let name = display_name(path);
    let mut input =
        Input::open(path).map_err(|e| InputError::new(&name, InputErrorKind::Open(e)))?;
    let mut pipeline = Pipeline::new(
        &name,
        Options {
            scan: scan.clone(),
            rules: Some(rules.clone()),
            session_file: path.map(Path::to_path_buf),
            parallel: true,
        },
    );
    let mut sink = sink;
    let mut tally = Tally::new(wanted.keep, wanted.timeline);
    if pipeline.read(&mut input, buf, &mut tally.through(&mut sink))? == Flow::Continue
        && let Some(f) = wanted
            .about_last
            .and_then(|about| tally.states().last().and_then(about))
    {
        tally.through(&mut sink).push(&name, Item::Finding(f))?;
    }
    // Everything before the end is settled: a sink that orders hands on the rest.
    sink.push(&name, Item::Settled(u64::MAX))?;
    let Finished {
        totals,
        states,
        timeline,
        replay,
    } = tally.finish(pipeline.lines());
    Ok((
        Analysis {
            states,
            totals: Totals {
                sessions: pipeline.sessions(),
                ..totals
            },
            lines: pipeline.lines(),
            hint: pipeline.prefix_hint(),
            records: pipeline.records(),
            worker: pipeline.worker_run(),
            timeline,
            replay,
            not_checked: pipeline.not_checked(),
            damage: pipeline.damage().map(str::to_owned),
        },
        sink,
    ))
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
    // The replay tells every line in order: one reader.
    if !meta.is_file() || meta.len() < BLOCKS_FROM || scan.join_partial || scan.replay {
        return None;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 {
        return None;
    }
    let n = file.read_at(buf, 0).ok()?;
    let whole = n as u64 == meta.len();
    match scan.input {
        // A wrapped file (gzip, a byte-order mark) is unwrapped in one piece.
        InputKind::Text => crate::scan::unwrapped(&buf[..n], whole).then_some(threads),
        InputKind::Cli(_) => None,
        // The first lines decide, as they do for the scanner.
        InputKind::Auto => crate::scan::plain_text_from(&buf[..n], whole).then_some(threads),
    }
}
