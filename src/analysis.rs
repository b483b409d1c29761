//! One input through the whole pipeline, with everything collected: the findings in
//! line order, the sessions' states, the counts. File-mode `check`, `state`,
//! `postmortem` and `summary` all start here.

use std::path::Path;

use crate::command::Fatal;
use crate::finding::Finding;
use crate::input::{Input, display_name};
use crate::report::Totals;
use crate::rules::Severity;
use crate::scan::{PrefixHint, ScanOptions, Scanner};
use crate::session::{Machine, RuleOptions, Sink};
use crate::state::SessionState;
use crate::stream_json::{RecordCounts, WorkerRun};

/// What reading one input produced.
#[derive(Debug)]
pub struct Analysis {
    /// Sorted by position.
    pub findings: Vec<Finding>,
    /// Every session's state, when asked for; otherwise only the last one's.
    pub states: Vec<SessionState>,
    pub totals: Totals,
    /// Lines of input.
    pub lines: u64,
    pub hint: Option<PrefixHint>,
    pub records: Option<RecordCounts>,
    /// The worker process, on Claude Code input.
    pub worker: Option<WorkerRun>,
}

struct Collect {
    findings: Vec<Finding>,
    states: Vec<SessionState>,
    all_states: bool,
}

impl Sink for Collect {
    fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    fn session_end(&mut self, state: &SessionState) {
        if !self.all_states {
            self.states.clear();
        }
        self.states.push(state.clone());
    }
}

/// Adds a finding to the counts.
pub fn count(totals: &mut Totals, f: &Finding) {
    match f.severity {
        Severity::Error => totals.errors += 1,
        Severity::Warning => totals.warnings += 1,
    }
}

/// Reads `path` (stdin for `None` or `-`) through the pipeline. `all_states` keeps every
/// session's state (memory grows with the number of sessions); otherwise only the last.
pub fn analyse(
    path: Option<&Path>,
    buf: &mut [u8],
    scan: &ScanOptions,
    rules: &RuleOptions,
    all_states: bool,
) -> Result<Analysis, Fatal> {
    let name = display_name(path);
    let mut input = Input::open(path).map_err(|e| Fatal(format!("{name}: {e}")))?;
    let mut scanner = Scanner::new(scan.clone());
    let mut machine = Machine::new(rules.clone());
    let mut sink = Collect {
        findings: Vec::new(),
        states: Vec::new(),
        all_states,
    };
    #[cfg(unix)]
    if let Input::File(file) = &input
        && let Some(threads) = in_blocks(file, scan, buf)
    {
        let len = file
            .metadata()
            .map_err(|e| Fatal(format!("{name}: {e}")))?
            .len();
        let block = crate::blocks::BLOCK;
        let totals = crate::blocks::scan_file(file, len, block, scan, threads, &mut |event| {
            machine.event(&event, &mut sink)
        })
        .map_err(|e| Fatal(format!("{name}: {e}")))?;
        machine.finish(totals.lines, &mut sink);
        return Ok(collected(
            sink,
            &machine,
            totals.lines,
            totals.hint,
            None,
            None,
        ));
    }
    loop {
        let n = input
            .read_chunk(buf)
            .map_err(|e| Fatal(format!("{name}: {e}")))?;
        if n == 0 {
            break;
        }
        scanner.feed(&buf[..n], &mut |event| machine.event(&event, &mut sink));
    }
    scanner.finish(&mut |event| machine.event(&event, &mut sink));
    machine.finish(scanner.lines(), &mut sink);
    Ok(collected(
        sink,
        &machine,
        scanner.lines(),
        scanner.prefix_hint(),
        scanner.records(),
        scanner.worker_run(),
    ))
}

/// Below this size a file is read on one thread: the blocks would not pay for
/// themselves.
#[cfg(unix)]
const BLOCKS_FROM: u64 = 2 * crate::blocks::BLOCK;

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
        InputKind::StreamJson | InputKind::Transcript => None,
        InputKind::Auto => {
            // The first non-blank line decides, as it does for the scanner.
            let n = file.read_at(buf, 0).ok()?;
            let first = buf[..n]
                .split(|&b| b == b'\n')
                .find(|l| !l.trim_ascii().is_empty())?;
            let whole = first.len() < n;
            (whole && !crate::stream_json::looks_like_record(first)).then_some(threads)
        }
    }
}

/// The analysis of what went through the machine.
fn collected(
    sink: Collect,
    machine: &Machine,
    lines: u64,
    hint: Option<PrefixHint>,
    records: Option<RecordCounts>,
    worker: Option<WorkerRun>,
) -> Analysis {
    let mut findings = sink.findings;
    findings.sort_by_key(|f| (f.primary.at.offset, f.rule));
    let mut totals = Totals {
        sessions: machine.sessions(),
        ..Totals::default()
    };
    for f in &findings {
        count(&mut totals, f);
    }
    Analysis {
        findings,
        states: sink.states,
        totals,
        lines,
        hint,
        records,
        worker,
    }
}
