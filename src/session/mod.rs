//! The session machine: rebuilds each session's state from the event stream and fires
//! the rules of SPEC §3 as soon as a violation is certain.
//!
//! It keeps only what a later finding may still need (the session's start, open tasks
//! and subagents, the distillation request), never the input. Findings and session
//! ends are pushed into a [`Sink`] as they happen.

mod block;
mod end;
mod open;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use block::{BLOCK_FIELDS, Block};
use end::{Closed, Closing, check_patterns, close_session, subagent_not_completed};
use open::{MAX_TRACKED, Session, Subagent, Task, take_subagent};

use crate::event::{Event, EventKind, Marker, SessionId};
use crate::finding::{Finding, Label};
use crate::grammar::Keyword;
use crate::rule::{Rule, RuleOptions, Severity};
use crate::rules;
use crate::rules::distillation::AtComplete;
use crate::rules::session::LeftOpen;
use crate::sanitize;
use crate::sink::{Flow, Item, Sink};
use crate::state::{SessionState, Status};

/// What the rules push into while the machine works on one event: the caller's
/// [`Sink`] behind a [`Latch`].
trait Out {
    fn finding(&mut self, finding: Finding);
    fn session_end(&mut self, state: &SessionState);
    fn settled(&mut self, offset: u64);
}

/// The caller's sink as the rules see it: it keeps the first "stop" or error the sink
/// answered, and pushes nothing after it (the machine finishes the event it is on, so
/// its state stays whole; the caller stops feeding it).
struct Latch<'s, S: Sink> {
    input: &'s str,
    sink: &'s mut S,
    status: Result<Flow, S::Error>,
}

impl<'s, S: Sink> Latch<'s, S> {
    fn new(input: &'s str, sink: &'s mut S) -> Self {
        Latch {
            input,
            sink,
            status: Ok(Flow::Continue),
        }
    }

    fn push(&mut self, item: Item<'_>) {
        if matches!(self.status, Ok(Flow::Continue)) {
            self.status = self.sink.push(self.input, item);
        }
    }
}

impl<S: Sink> Out for Latch<'_, S> {
    fn finding(&mut self, finding: Finding) {
        self.push(Item::Finding(finding));
    }

    fn session_end(&mut self, state: &SessionState) {
        self.push(Item::SessionEnd(state));
    }

    fn settled(&mut self, offset: u64) {
        self.push(Item::Settled(offset));
    }
}

/// The `too-many-open` finding, the first time a session goes past [`MAX_TRACKED`].
fn limit(s: &mut Session, event: &Event) -> Option<Finding> {
    if std::mem::replace(&mut s.limit_reported, true) {
        return None;
    }
    Some(crate::rules::input::too_many_open(event, MAX_TRACKED))
}

/// Why a budget's duration cannot be checked on an input without a clock (`run`, which
/// times the worker itself, takes it out).
pub const BUDGET_NO_CLOCK: &str = "duration: no timestamps in the input";

/// The state of one input: the open session, the completion block, counters.
#[derive(Debug, Default)]
pub struct Machine {
    options: RuleOptions,
    /// Each rule's severity as the options set it (`None`: allowed), by its place in
    /// `Rule::ALL`: looked up once per rule, not once per finding.
    severities: Vec<Option<Severity>>,
    session: Option<Session>,
    block: Option<Block>,
    sessions: u64,
    last_marker: Option<(Keyword, u64)>,
    /// The last stream-json `result`: whether it is a failure, how it reads in a
    /// message, and its line.
    exit: Option<(bool, String, Label)>,
    /// The input shows tool calls: claims are checked against them.
    actions_visible: bool,
    /// Subagent calls, and file-creating calls, are among the visible actions.
    subagent_calls_visible: bool,
    file_calls_visible: bool,
    /// The time of the current record, in a session file.
    clock: Option<crate::event::Timestamp>,
    /// The input said how the worker process ended (a result, a turn's end, an exit).
    saw_exit: bool,
    /// The first marker seen behind a line prefix, and the flag that uncovers it.
    hidden: Option<(Label, Option<String>)>,
    /// The worker's last tool calls, and each subagent's (tool-loop).
    loops: rules::health::LoopWatch,
    subagent_loops: HashMap<String, rules::health::LoopWatch>,
    /// The budget's limits passed so far, and the input's first record time.
    spent: rules::health::Spent,
    first_clock: Option<crate::event::Timestamp>,
    saw_usage: bool,
    saw_cost: bool,
    saw_turns: bool,
    /// What the last record was (worker-hung).
    last_record: rules::health::LastRecord,
}

impl Machine {
    pub fn new(options: RuleOptions) -> Self {
        Machine {
            severities: Rule::ALL
                .iter()
                .map(|&r| options.levels.severity(r))
                .collect(),
            options,
            ..Machine::default()
        }
    }

    /// The loop watch of the agent that made a call: the worker's, or its subagent's
    /// (at most 64 subagents watched; past it they share one).
    fn loop_watch(&mut self, parent: &Option<String>) -> &mut rules::health::LoopWatch {
        match parent {
            None => &mut self.loops,
            Some(p) => {
                let key = if self.subagent_loops.len() < 64 || self.subagent_loops.contains_key(p) {
                    p.clone()
                } else {
                    String::new()
                };
                self.subagent_loops.entry(key).or_default()
            }
        }
    }

    /// Whether `tool` polls by design (exempt from tool-loop).
    fn polls(&self, tool: &str) -> bool {
        rules::health::POLL_TOOLS.contains(&tool)
            || self.options.poll_tools.iter().any(|t| t == tool)
    }

    /// A tool call of the task going on: what it claims to back (a subagent, a file).
    fn claim(&mut self, event: &Event, subagent: &Option<String>, creates: &Option<String>) {
        if let Some(task) = self.session.as_mut().and_then(|s| s.current()) {
            if let Some(agent) = subagent {
                let call = if agent.is_empty() {
                    "the spawn_agent call"
                } else {
                    "the Task/Agent call"
                };
                let label = Label::marker(event, call);
                task.claims().calls.push((agent.clone(), label));
            }
            if let Some(path) = creates {
                task.claims().writes.insert(path.clone());
            }
        }
    }

    /// The severity `rule` reports with, or `None` when it is allowed.
    fn severity(&self, rule: Rule) -> Option<Severity> {
        match self.severities.get(rule as usize) {
            Some(&severity) => severity,
            None => self.options.levels.severity(rule),
        }
    }

    /// The rules that could not run on this input so far, and why (SPEC §10): what a
    /// clean verdict did not check. Rules that are allowed are not listed.
    pub fn not_checked(&self) -> Vec<(Rule, &'static str)> {
        let mut out = Vec::new();
        let no_calls = "no tool calls in the input";
        if !self.actions_visible {
            out.push((Rule::UnbackedSubagent, no_calls));
            out.push((Rule::UnbackedFilesCreated, no_calls));
            out.push((Rule::ToolLoop, no_calls));
        } else {
            if !self.subagent_calls_visible {
                out.push((
                    Rule::UnbackedSubagent,
                    "no subagent tool call in this CLI's output",
                ));
            }
            if !self.file_calls_visible {
                out.push((
                    Rule::UnbackedFilesCreated,
                    "no file-creating tool call in the input",
                ));
            }
        }
        if self.clock.is_none() {
            out.push((Rule::DurationMismatch, "no timestamps in the input"));
        }
        if !self.saw_exit {
            out.push((
                Rule::WorkerErrorExit,
                "the input does not say how the worker ended",
            ));
        }
        // Each limit of the budget the input cannot be held to.
        let budget = &self.options.budget;
        if budget.tokens.is_some() && !self.saw_usage {
            out.push((
                Rule::BudgetExceeded,
                "tokens: the input reports no token counts",
            ));
        }
        if budget.cost.is_some() && !self.saw_cost {
            out.push((Rule::BudgetExceeded, "cost: the input reports no cost"));
        }
        if budget.turns.is_some() && !self.saw_turns {
            out.push((
                Rule::BudgetExceeded,
                "turns: the input reports no turn count",
            ));
        }
        if budget.duration.is_some() && self.clock.is_none() {
            out.push((Rule::BudgetExceeded, BUDGET_NO_CLOCK));
        }
        out.retain(|(rule, _)| self.severity(*rule).is_some());
        out
    }

    /// What a run may spend.
    pub fn budget(&self) -> crate::rule::Budget {
        self.options.budget
    }

    /// What the worker's last record was (a final record, a tool result).
    pub fn last_record(&self) -> rules::health::LastRecord {
        self.last_record
    }

    /// Sessions started so far.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// The session open now (its id, escaped, and the line of its `SESSION_START`), if
    /// any: where a run that stops reading early leaves off.
    pub fn open_session(&self) -> Option<(String, u64)> {
        self.session
            .as_ref()
            .map(|s| (sanitize::escape(s.id.id.as_bytes()), s.start.at.line))
    }

    /// Feeds one event of `input`; findings and session ends go to `sink`. Returns what
    /// the sink answered last: after a stop or an error, feed no more.
    pub fn event<S: Sink>(
        &mut self,
        input: &str,
        event: &Event,
        sink: &mut S,
    ) -> Result<Flow, S::Error> {
        let mut out = Latch::new(input, sink);
        self.on_event(event, &mut out);
        out.status
    }

    fn on_event(&mut self, event: &Event, sink: &mut impl Out) {
        use rules::health::LastRecord;
        match &event.kind {
            // The replay's: no rule reads it, and it is no record of its own.
            EventKind::Said(_) => return,
            EventKind::WorkerExit { more: false, .. } => self.last_record = LastRecord::Exit,
            EventKind::ToolDone { .. } => self.last_record = LastRecord::ToolResult,
            EventKind::RateLimited { resets_at } => {
                self.last_record = LastRecord::RateLimited {
                    resets_at: *resets_at,
                }
            }
            EventKind::Clock(_)
            | EventKind::Envelope(_)
            | EventKind::Usage(_)
            | EventKind::ActionsVisible { .. } => {}
            _ => self.last_record = LastRecord::Other,
        }
        if self.session.is_none() && self.block.is_none() {
            // Nothing is open that a later finding could point back at.
            sink.settled(event.at.offset);
        }
        let marker = match &event.kind {
            EventKind::Marker(m) => m,
            EventKind::Malformed(m) => {
                // A malformed block field is present, just wrong: do not also call it missing.
                let field = Keyword::from_word(m.keyword.as_bytes())
                    .and_then(|k| BLOCK_FIELDS.iter().position(|&f| f == k));
                if let (Some(block), Some(i)) = (&mut self.block, field) {
                    block.seen[i] = true;
                }
                self.emit(crate::rules::marker::from_event(event), sink);
                return;
            }
            EventKind::Unknown { .. } => {
                self.emit(crate::rules::marker::from_event(event), sink);
                return;
            }
            EventKind::ActionsVisible { subagents, files } => {
                self.actions_visible = true;
                self.subagent_calls_visible = *subagents;
                self.file_calls_visible = *files;
                return;
            }
            // A call of the worker's, or of a subagent (each agent's calls are watched
            // apart); a call the CLI gives no id (a second file of one patch, a
            // subagent's file read afterwards) is no call of its own.
            EventKind::ToolCall {
                subagent,
                creates,
                tool,
                input,
                parent,
                id: Some(_),
            } if !self.polls(tool) => {
                let found = self
                    .loop_watch(parent)
                    .call(tool, *input, parent.as_deref(), event);
                self.emit(found, sink);
                self.claim(event, subagent, creates);
                return;
            }
            EventKind::ToolCall {
                subagent, creates, ..
            } => {
                self.claim(event, subagent, creates);
                return;
            }
            EventKind::Usage(usage) => {
                self.saw_usage |= !usage.tokens.is_empty();
                self.saw_cost |= usage.cost_usd.is_some();
                let budget = self.options.budget;
                for f in self.spent.usage(&budget, usage, event) {
                    self.emit(Some(f), sink);
                }
                return;
            }
            EventKind::Prefixed { flag } => {
                if self.hidden.is_none() {
                    let label = Label::marker(event, "a marker behind a line prefix");
                    self.hidden = Some((label, flag.clone()));
                }
                return;
            }
            EventKind::Clock(time) => {
                self.clock = Some(*time);
                let first = *self.first_clock.get_or_insert(*time);
                let budget = self.options.budget;
                if budget.duration.is_some()
                    && let Some(micros) = first.micros_until(time).filter(|m| *m > 0)
                {
                    let elapsed = std::time::Duration::from_micros(micros as u64);
                    let found = self.spent.elapsed(&budget, elapsed, event);
                    self.emit(found, sink);
                }
                return;
            }
            EventKind::Envelope(_)
            | EventKind::ToolDone { .. }
            | EventKind::RateLimited { .. }
            | EventKind::Said(_) => {
                return;
            }
            // What the subagent did comes as its own tool calls (read by the caller).
            EventKind::SubagentRun { .. } => return,
            EventKind::WorkerExit {
                subtype,
                cause,
                failed,
                num_turns,
                ..
            } => {
                if let Some(turns) = num_turns {
                    self.saw_turns = true;
                    let budget = self.options.budget;
                    let found = self.spent.turns(&budget, *turns, event);
                    self.emit(found, sink);
                }
                // A process can report more than once: the last result is its exit.
                let how = if cause == subtype {
                    format!("`{}`", sanitize::escape(cause.as_bytes()))
                } else {
                    format!(
                        "`{}` (result subtype `{}` with is_error: true)",
                        sanitize::escape(cause.as_bytes()),
                        sanitize::escape(subtype.as_bytes())
                    )
                };
                self.saw_exit = true;
                self.exit = Some((*failed, how, Label::marker(event, "the worker's result")));
                return;
            }
        };
        let keyword = marker.keyword();
        self.marker(marker, event, sink);
        self.last_marker = Some((keyword, event.at.line));
    }

    fn marker(&mut self, marker: &Marker, event: &Event, sink: &mut impl Out) {
        let keyword = marker.keyword();
        if self.block.is_some() && !self.in_block(marker, event, sink) {
            self.close_block(sink);
        }
        if self.block.is_some() {
            return;
        }
        if let Marker::SessionStart { session } = marker {
            self.start(session, event, sink);
            return;
        }
        if self.session.is_none() {
            self.emit(Some(rules::session::outside(keyword, event)), sink);
            return;
        }
        self.in_session(marker, event, sink);
    }

    /// Ends the input (`lines` long): closes the completion block and reports an open
    /// session as cut off.
    pub fn finish<S: Sink>(
        &mut self,
        input: &str,
        lines: u64,
        sink: &mut S,
    ) -> Result<Flow, S::Error> {
        let mut out = Latch::new(input, sink);
        self.on_finish(lines, &mut out);
        out.status
    }

    /// The input fell silent after a completion block: the session's end is told now,
    /// its block kept open for fields still to come (so nothing differs from reading
    /// the whole file).
    pub fn announce<S: Sink>(&mut self, input: &str, sink: &mut S) -> Result<Flow, S::Error> {
        let mut out = Latch::new(input, sink);
        self.announce_block(&mut out);
        out.status
    }

    /// The input stops being read while it may still grow (the watch ends): a completed
    /// session's block is closed, an open session is left open — it is not cut off,
    /// its worker may well be running.
    pub fn settle<S: Sink>(&mut self, input: &str, sink: &mut S) -> Result<Flow, S::Error> {
        let mut out = Latch::new(input, sink);
        self.close_block(&mut out);
        out.status
    }

    fn on_finish(&mut self, lines: u64, sink: &mut impl Out) {
        self.close_block(sink);
        let failed_exit = self
            .exit
            .take()
            .filter(|(failed, ..)| *failed)
            .map(|(_, how, label)| (how, label));
        if self.session.is_some() {
            let why = match &failed_exit {
                Some((how, _)) => format!("the worker exited with {how}"),
                None => "the input ended".to_owned(),
            };
            self.cut_off(&why, None, lines, sink);
        }
        if let Some((how, label)) = failed_exit {
            self.emit(Some(rules::input::worker_error_exit(&how, label)), sink);
        }
        if self.sessions == 0 {
            let finding = self.nothing_checked(lines);
            self.emit(Some(finding), sink);
        }
    }

    /// The finding of an input without any session (see `rules::input`).
    fn nothing_checked(&mut self, lines: u64) -> Finding {
        crate::rules::input::nothing_checked(self.hidden.take(), lines)
    }

    /// Reports a closing session's findings as they are drawn.
    fn drain(&mut self, closing: Closing, sink: &mut impl Out) {
        for item in closing {
            match item {
                Closed::Finding(f) => self.emit(Some(f), sink),
                Closed::Settled(offset) => sink.settled(offset),
            }
        }
    }

    /// Reports a finding made outside the machine (a live supervisor's), as its own.
    pub fn report<S: Sink>(
        &mut self,
        input: &str,
        finding: Finding,
        sink: &mut S,
    ) -> Result<Flow, S::Error> {
        let mut out = Latch::new(input, sink);
        self.emit(Some(finding), &mut out);
        out.status
    }

    /// Reports a finding at its configured severity (or not at all when allowed).
    fn emit(&mut self, finding: Option<Finding>, sink: &mut impl Out) {
        let Some(mut finding) = finding else { return };
        match self.severity(finding.rule) {
            Some(severity) => finding.severity = severity,
            None => return,
        }
        finding.session = match (&self.session, &self.block) {
            (Some(s), _) => Some(s.shared_id.clone()),
            (None, Some(b)) => Some(b.shared_id.clone()),
            (None, None) => None,
        };
        let counts = match (&mut self.session, &mut self.block) {
            (Some(s), _) => Some((&mut s.errors, &mut s.warnings)),
            (None, Some(b)) => Some((&mut b.state.errors, &mut b.state.warnings)),
            (None, None) => None,
        };
        if let Some((errors, warnings)) = counts {
            match finding.severity {
                Severity::Error => *errors += 1,
                Severity::Warning => *warnings += 1,
            }
        }
        sink.finding(finding);
    }

    fn start(&mut self, id: &SessionId, event: &Event, sink: &mut impl Out) {
        let label = Label::marker(event, "session starts here");
        if self.session.is_some() {
            let open = self.session.as_ref().map(|s| s.start.clone());
            let last_line = event.at.line.saturating_sub(1);
            self.cut_off("a new SESSION_START came", Some(&label), last_line, sink);
            if let Some(open) = open {
                self.emit(Some(rules::session::nested(event, &open)), sink);
            }
        }
        // Every finding about the sessions before this one has been reported.
        sink.settled(event.at.offset);
        self.sessions += 1;
        self.session = Some(Session {
            id: id.clone(),
            shared_id: std::sync::Arc::from(id.id.as_str()),
            start: label,
            patterns_read: Vec::new(),
            patterns_label: None,
            patterns_checked: false,
            open: HashMap::default(),
            order: Vec::new(),
            started_count: 0,
            started: HashSet::default(),
            untracked_tasks: 0,
            untracked_subagents: 0,
            subagents_open: 0,
            limit_reported: false,
            loose_subagents: Vec::new(),
            tasks_completed: 0,
            files_created: 0,
            files_printed: false,
            request: None,
            distilled: None,
            patterns_updated: false,
            queues: Vec::new(),
            updates: Vec::new(),
            errors: 0,
            warnings: 0,
            started_at: self.clock,
        });
    }

    fn in_session(&mut self, marker: &Marker, event: &Event, sink: &mut impl Out) {
        // Claims are kept only where the actions they are checked against are visible.
        let claims_checked = self.actions_visible;
        let subagents_checked = self.subagent_calls_visible;
        let files_checked = self.file_calls_visible;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let mut out: Vec<Finding> = Vec::new();
        let mut completing = None;
        let mut closing = None;
        // A completed task's subagents still running: one finding each, made as they
        // are reported (a task may hold very many).
        let mut unfinished: Option<(Vec<Subagent>, Label)> = None;
        match marker {
            Marker::SessionStart { .. } => {}
            Marker::PatternFilesRead { files } => {
                for f in files {
                    if !s.patterns_read.contains(f) {
                        s.patterns_read.push(f.clone());
                    }
                }
                s.patterns_label = Some(Label::marker(event, "patterns read here"));
            }
            Marker::QueueDepth { queues } => s.queues = queues.clone(),
            Marker::TaskStart { task } => {
                if let Some(d) = &s.distilled {
                    out.push(rules::distillation::work_after(task, event, d));
                }
                if !s.patterns_checked {
                    out.extend(check_patterns(
                        s,
                        &self.options,
                        Label::marker(event, "first task starts here"),
                    ));
                }
                let known = s.started.get(task.as_str()).cloned();
                let id: Arc<str> = known.clone().unwrap_or_else(|| Arc::from(task.as_str()));
                if known.is_some() {
                    let open_since = s.open.get(task.as_str()).map(|t| &t.label);
                    out.push(rules::task::started_again(task, event, open_since));
                } else if s.started.len() < MAX_TRACKED {
                    s.started.insert(id.clone());
                } else {
                    out.extend(limit(s, event));
                }
                if !s.open.contains_key(task.as_str()) {
                    if s.open.len() >= MAX_TRACKED {
                        s.untracked_tasks += 1;
                        out.extend(limit(s, event));
                    } else {
                        s.started_count += 1;
                        s.order.push((id.clone(), s.started_count));
                        s.open.insert(
                            id,
                            Box::new(Task {
                                seq: s.started_count,
                                label: Label::marker(event, "task starts here"),
                                subagents: Vec::new(),
                                claims: None,
                            }),
                        );
                    }
                }
            }
            Marker::SubagentSpawn { agent } => {
                if s.subagents_open >= MAX_TRACKED {
                    s.untracked_subagents += 1;
                    out.extend(limit(s, event));
                } else {
                    s.subagents_open += 1;
                    let spawn = Subagent {
                        agent: agent.clone(),
                        label: Label::marker(event, "spawned here"),
                    };
                    match s.current() {
                        Some(task) => {
                            if claims_checked && subagents_checked {
                                let name = agent.trim_start_matches('@').to_owned();
                                task.claims().spawns.push((name, spawn.label.clone()));
                            }
                            task.subagents.push(spawn);
                        }
                        None => s.loose_subagents.push(spawn),
                    }
                }
            }
            Marker::SubagentComplete { agent } => {
                let found = s
                    .current()
                    .and_then(|t| take_subagent(&mut t.subagents, agent))
                    .or_else(|| take_subagent(&mut s.loose_subagents, agent))
                    .or_else(|| {
                        s.open
                            .values_mut()
                            .find_map(|t| take_subagent(&mut t.subagents, agent))
                    });
                if found.is_some() {
                    s.subagents_open -= 1;
                } else if s.untracked_subagents > 0 {
                    // One of those past the limit, as far as can be told.
                    s.untracked_subagents -= 1;
                } else {
                    out.push(rules::subagent::not_spawned(agent, event));
                }
            }
            Marker::FilesCreated { count } => {
                if let Some(task) = s.current().filter(|_| claims_checked && files_checked) {
                    let claims = task.claims();
                    let claimed = claims.files.as_ref().map_or(0, |(n, _)| *n);
                    claims.files = Some((
                        claimed.saturating_add(*count),
                        Label::marker(event, "this count"),
                    ));
                }
                s.files_printed = true;
                match s.files_created.checked_add(*count) {
                    Some(total) => s.files_created = total,
                    None => out.push(rules::summary::files_overflow(event)),
                }
            }
            Marker::TaskComplete { task } => {
                s.tasks_completed += 1;
                match s.open.remove(task.as_str()) {
                    Some(open) => {
                        s.compact();
                        s.subagents_open -= open.subagents.len();
                        let done = Label::marker(event, "task completes here");
                        unfinished = Some((open.subagents, done));
                        if self.actions_visible {
                            out.extend(open.claims.unwrap_or_default().check());
                        }
                    }
                    // One of those started past the limit, as far as can be told.
                    None if s.untracked_tasks > 0 => s.untracked_tasks -= 1,
                    None => out.push(rules::task::not_started(task, event)),
                }
            }
            Marker::DistillationRequest { .. } => {
                s.request = Some(Label::marker(event, "distillation requested here"));
            }
            Marker::DistillationOutputFiles { count } => {
                let printed = s.files_printed.then_some(s.files_created);
                out.extend(rules::summary::request_files(event, *count, printed));
            }
            Marker::DistillationStrategies { .. } => {}
            Marker::DistillationComplete => {
                out.extend(rules::distillation::not_requested(
                    s.request.as_ref(),
                    event,
                ));
                s.distilled = Some(Label::marker(event, "distillation completed here"));
            }
            Marker::PatternsUpdated { updates } => {
                s.patterns_updated = true;
                s.updates.extend(updates.iter().cloned());
            }
            Marker::SessionComplete { session } => {
                let complete = Label::marker(event, "session completes here");
                out.extend(rules::session::id_mismatch(
                    &session.id,
                    &s.id.id,
                    event,
                    &s.start,
                ));
                out.extend(rules::distillation::at_complete(AtComplete {
                    distilled: s.distilled.as_ref(),
                    request: s.request.as_ref(),
                    patterns_updated: s.patterns_updated,
                    complete: &complete,
                    start: &s.start,
                }));
                completing = Some(s.open_work());
                closing = Some(close_session(s, &self.options, None));
            }
            Marker::Duration { .. }
            | Marker::TasksCompleted { .. }
            | Marker::StrategiesProduced { .. }
            | Marker::HypothesesQueued { .. } => {}
        }
        if let Some((subagents, done)) = unfinished {
            for sub in subagents {
                self.emit(Some(subagent_not_completed(sub, Some(done.clone()))), sink);
            }
        }
        for f in out {
            self.emit(Some(f), sink);
        }
        if let Some(closing) = closing {
            self.drain(closing, sink);
        }
        if let Some(open) = completing
            && let Some(s) = self.session.take()
        {
            let last = Some((Keyword::SessionComplete, event.at.line));
            self.block = Some(Block {
                state: s.state(Status::Complete, open, event.at.line, last),
                shared_id: s.shared_id.clone(),
                complete: Label::marker(event, "completion block starts here"),
                tasks_completed: s.tasks_completed,
                files_created: s.files_created,
                files_printed: s.files_printed,
                seen: [false; 4],
                elapsed: s
                    .started_at
                    .zip(self.clock)
                    .and_then(|(from, to)| from.micros_until(&to))
                    .map(|micros| (micros, s.start.clone())),
                announced: false,
            });
        }
    }

    /// Handles a marker while the completion block is open; false when the marker ends it.
    /// Reports the open session as cut off (`missing-session-complete`).
    fn cut_off(&mut self, why: &str, next: Option<&Label>, last_line: u64, sink: &mut impl Out) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let open_work = s.open_work();
        let tasks = s.open_ids();
        let f = rules::session::never_completed(LeftOpen {
            id: &s.id.id,
            start: &s.start,
            why,
            tasks: &tasks,
            untracked_tasks: s.untracked_tasks,
            subagents: s.subagents_open as u64 + s.untracked_subagents,
            unconfirmed_request: s.request.is_some() && s.distilled.is_none(),
            last_marker: self.last_marker,
            next,
        });
        let closing = close_session(s, &self.options, Some(tasks));
        // The session's own finding first: it points at its start, before its tasks.
        self.emit(Some(f), sink);
        self.drain(closing, sink);
        if let Some(s) = self.session.take() {
            sink.session_end(&s.state(Status::Crashed, open_work, last_line, self.last_marker));
        }
    }
}
