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
    let mut findings = sink.findings;
    findings.sort_by_key(|f| (f.primary.at.offset, f.rule));
    let mut totals = Totals {
        sessions: machine.sessions(),
        ..Totals::default()
    };
    for f in &findings {
        count(&mut totals, f);
    }
    Ok(Analysis {
        findings,
        states: sink.states,
        totals,
        lines: scanner.lines(),
        hint: scanner.prefix_hint(),
        records: scanner.records(),
        worker: scanner.worker_run(),
    })
}
