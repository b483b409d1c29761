//! When things happened (SPEC §9): each session of an input as spans on a time axis —
//! the session, its tasks, its subagents, its distillation, the worker's tool calls — and
//! its findings as marks. The pictures (`perfetto`, `otlp`, `html` reports) are drawn
//! from it.
//!
//! The axis is the input's own clock where it has one (the `timestamp` of Claude Code
//! session-file, Codex rollout and Gemini records; the arrival time of each chunk under
//! `run`), else line numbers, and the timeline says which. Memory, and the size of every
//! picture, is bounded per session, per input and per run (SPEC §6), never per session
//! only: past [`MAX_SPANS`] spans or [`MAX_MARKS`] marks in a session, past
//! [`MAX_INPUT_SPANS`] spans or [`MAX_INPUT_MARKS`] marks in an input, later ones are
//! counted, not kept; past [`MAX_SESSIONS`] sessions the first ones are dropped and
//! counted; a picture draws at most [`MAX_RUN_ITEMS`] spans and findings in a run
//! ([`RunCap`]) and at most [`MAX_LANES`] lanes of one kind of span in a session
//! ([`lanes`]). What is left out is said in the picture itself ([`Timeline::left_out`]).

use std::collections::HashMap;

use crate::event::{Event, EventKind, Marker, Timestamp};
use crate::finding::Finding;
use crate::rule::{Rule, Severity};
use crate::state::{SessionState, Status};

/// Spans kept per session: one session cannot hold more, whatever the input's budget.
pub const MAX_SPANS: usize = 20_000;
/// Marks (findings) kept per session, for the same reason.
pub const MAX_MARKS: usize = 20_000;
/// Sessions kept per input (the last ones): a long pipe keeps its recent sessions.
pub const MAX_SESSIONS: usize = 1_000;
/// Spans kept per input, across all its sessions (first come, first kept; a session
/// dropped past [`MAX_SESSIONS`] gives its share back). 10 000 keeps the worst case of
/// SPEC §6 (10 sessions × 20 000 tasks never completed) to about 6 MB of OTLP/JSON, the
/// largest picture per span, and a few MiB of memory.
pub const MAX_INPUT_SPANS: usize = 10_000;
/// Marks kept per input, across all its sessions: a budget of their own, so that tool
/// calls never crowd the findings out of a picture. 10 000 for the same reason as
/// [`MAX_INPUT_SPANS`].
pub const MAX_INPUT_MARKS: usize = 10_000;
/// Spans and findings one picture draws in a run, across all its inputs (two inputs at
/// their caps): a run over many inputs stays a picture a browser opens, about 16 MB of
/// HTML or OTLP/JSON at most.
pub const MAX_RUN_ITEMS: u64 = 40_000;
/// Lanes of one kind of span in a session's layout (HTML rows, Perfetto tracks): the
/// bars that overlap past them share one overflow lane, whose name counts them.
pub const MAX_LANES: usize = 32;

/// What the time axis counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Microseconds since the Unix epoch, from the input's own timestamps.
    Clock,
    /// Line numbers: the input carries no time.
    Lines,
}

/// A point in an input: its line, and its time when the input has a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Point {
    pub line: u64,
    /// Microseconds since the Unix epoch.
    pub micros: Option<i64>,
}

/// What a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    Task,
    Subagent,
    Distillation,
    Tool,
}

impl SpanKind {
    pub fn word(self) -> &'static str {
        match self {
            SpanKind::Task => "task",
            SpanKind::Subagent => "subagent",
            SpanKind::Distillation => "distillation",
            SpanKind::Tool => "tool",
        }
    }
}

/// A stretch of a session: a task, a subagent, the distillation, a tool call.
#[derive(Debug, Clone)]
pub struct Span {
    pub kind: SpanKind,
    /// The task id, the agent, the tool: as the transcript says it (escape to show).
    pub name: String,
    pub start: Point,
    /// Where it ended; `None`: it never did (the session's end closes it in pictures).
    pub end: Option<Point>,
    /// A tool call's id, as the CLI names it.
    pub call_id: Option<String>,
    /// The call of the worker whose subagent made this call.
    pub parent_call: Option<String>,
    /// The tool reported an error.
    pub failed: bool,
}

/// A finding at its place.
#[derive(Debug, Clone)]
pub struct Mark {
    pub rule: Rule,
    pub severity: Severity,
    pub message: String,
    pub at: Point,
    /// The start of the line it is about (raw: escape to show).
    pub quote: String,
}

/// One session on the axis.
#[derive(Debug, Clone)]
pub struct SessionSpan {
    pub id: String,
    pub worker_type: String,
    pub start: Point,
    /// Its last line (and time), once it ended.
    pub end: Option<Point>,
    pub status: Option<Status>,
    pub spans: Vec<Span>,
    pub marks: Vec<Mark>,
    /// Spans and marks past the limits, counted.
    pub dropped: u64,
    /// Of [`SessionSpan::dropped`], the marks (the rest are spans).
    pub dropped_marks: u64,
    /// The usage the CLI reported while the session was open (its figures at the end less
    /// those at the start), and the models it named.
    pub usage: Option<crate::usage::Usage>,
    /// The models the input's CLI named by then.
    pub models: Vec<String>,
    /// Not a protocol session: the agent CLI's run in an input that holds none (see
    /// [`Timeline::agent_run`]); its `id` and `worker_type` are empty.
    pub agent_run: bool,
    /// The input's usage figures when the session started.
    usage_at_start: Option<crate::usage::Tokens>,
    /// The input's total tokens (and cost) each time its CLI reported usage in the
    /// session, at most [`MAX_USAGE_SAMPLES`] (Perfetto's counter track).
    pub usage_samples: Vec<(Point, u64, Option<f64>)>,
}

/// The timeline of one input.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub axis: Axis,
    pub sessions: Vec<SessionSpan>,
    /// Findings outside any session (`no-session`, markers outside a session).
    pub loose: Vec<Mark>,
    pub lines: u64,
    /// Sessions past [`MAX_SESSIONS`], dropped (the first ones).
    pub dropped_sessions: u64,
    /// Loose marks past [`MAX_MARKS`] or [`MAX_INPUT_MARKS`], counted.
    pub dropped_loose: u64,
    /// An agent CLI's transcript without any protocol session: the CLI's run as one
    /// span — its tool calls, the usage it reported, the findings about it — so that
    /// traces show what the worker did although it never printed `SESSION_START`.
    pub agent_run: Option<SessionSpan>,
    /// The first time the input's clock said: the time of what came before it (a
    /// Claude Code stream dates its tool results, not the calls before them).
    pub first_clock: Option<i64>,
}

/// Microseconds since the Unix epoch, now (the arrival time of live input).
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Microseconds since the Unix epoch (a naive timestamp is taken as UTC).
pub fn unix_micros(t: &Timestamp) -> i64 {
    let utc = match t.offset {
        Some(offset) => t.local - chrono::Duration::seconds(i64::from(offset.local_minus_utc())),
        None => t.local,
    };
    utc.and_utc().timestamp_micros()
}

/// Usage samples kept per session.
pub const MAX_USAGE_SAMPLES: usize = 2_000;

/// Builds a timeline from the events and findings of one input.
#[derive(Debug)]
pub struct Builder {
    clock: Option<i64>,
    /// The clock at each marker line seen (for findings that point back).
    clock_at: Vec<(u64, i64)>,
    sessions: Vec<SessionSpan>,
    open: Option<SessionSpan>,
    /// Open spans by (kind, name): index into the open session's spans.
    open_spans: HashMap<(SpanKind, String), Vec<usize>>,
    loose: Vec<Mark>,
    dropped_sessions: u64,
    dropped_loose: u64,
    /// Spans and marks kept in the input so far (for [`MAX_INPUT_SPANS`],
    /// [`MAX_INPUT_MARKS`]).
    kept_spans: usize,
    kept_marks: usize,
    any_clock: bool,
    /// The usage the input's CLI reported so far.
    usage: Option<crate::usage::Usage>,
    /// The agent CLI's run while no protocol session has started (see
    /// [`Timeline::agent_run`]); dropped when one does.
    outside: Option<SessionSpan>,
    /// A protocol session started in the input.
    protocol: bool,
    first_clock: Option<i64>,
    /// The input has timestamps of its own: arrival times are no longer its clock.
    own_clock: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            clock: None,
            clock_at: Vec::new(),
            sessions: Vec::new(),
            open: None,
            open_spans: HashMap::new(),
            loose: Vec::new(),
            dropped_sessions: 0,
            dropped_loose: 0,
            kept_spans: 0,
            kept_marks: 0,
            any_clock: false,
            usage: None,
            outside: None,
            protocol: false,
            first_clock: None,
            own_clock: false,
        }
    }

    /// The input's clock is now `micros` (an arrival time under `run` and `watch`),
    /// unless the input has a clock of its own (its records' timestamps): one axis never
    /// mixes the two.
    pub fn tick(&mut self, micros: i64) {
        if self.own_clock {
            return;
        }
        self.clock = Some(micros);
        self.first_clock.get_or_insert(micros);
        self.any_clock = true;
    }

    fn point(&mut self, line: u64) -> Point {
        if let Some(m) = self.clock
            && self.clock_at.last().is_none_or(|&(l, _)| l < line)
            && self.clock_at.len() < 4 * MAX_SPANS
        {
            self.clock_at.push((line, m));
        }
        Point {
            line,
            micros: self.clock,
        }
    }

    /// The time of `line` (at or before it), for a finding made later.
    fn point_back(&self, line: u64) -> Point {
        let i = self.clock_at.partition_point(|&(l, _)| l <= line);
        let micros = i.checked_sub(1).map(|i| self.clock_at[i].1).or(self.clock);
        Point { line, micros }
    }

    fn open_span(&mut self, kind: SpanKind, name: &str, at: Point) {
        let Some(s) = &mut self.open else { return };
        if s.spans.len() >= MAX_SPANS || self.kept_spans >= MAX_INPUT_SPANS {
            s.dropped += 1;
            return;
        }
        self.kept_spans += 1;
        self.open_spans
            .entry((kind, name.to_owned()))
            .or_default()
            .push(s.spans.len());
        s.spans.push(Span {
            kind,
            name: name.to_owned(),
            start: at,
            end: None,
            call_id: None,
            parent_call: None,
            failed: false,
        });
    }

    /// A tool call with an id: open until its result comes (keyed by the id).
    fn open_call(&mut self, tool: &str, id: &str, parent: Option<&String>, at: Point) {
        let key = format!("#{id}");
        self.open_span(SpanKind::Tool, &key, at);
        if let Some(s) = &mut self.open
            && let Some(&i) = self
                .open_spans
                .get(&(SpanKind::Tool, key))
                .and_then(|l| l.last())
            && let Some(span) = s.spans.get_mut(i)
        {
            span.name = tool.to_owned();
            span.call_id = Some(id.to_owned());
            span.parent_call = parent.cloned();
        }
    }

    fn close_span(&mut self, kind: SpanKind, name: &str, at: Point) {
        let Some(s) = &mut self.open else { return };
        if let Some(list) = self.open_spans.get_mut(&(kind, name.to_owned()))
            && let Some(i) = list.pop()
            && let Some(span) = s.spans.get_mut(i)
        {
            span.end = Some(at);
        }
    }

    /// Whether the open session's distillation was requested and not yet confirmed.
    fn distilling(&self) -> bool {
        self.open_spans
            .get(&(SpanKind::Distillation, String::new()))
            .is_some_and(|l| !l.is_empty())
    }

    /// An event of the input.
    pub fn event(&mut self, event: &Event) {
        // Before any protocol session, the agent CLI's records, calls and usage make up
        // its run: the run stands in as the open session while the event is taken.
        let borrowed = self.open.is_none()
            && !self.protocol
            && matches!(
                event.kind,
                EventKind::ToolCall { .. }
                    | EventKind::ToolDone { .. }
                    | EventKind::Usage(_)
                    // An agent CLI's transcript: its run is traced even without calls
                    // (a run that failed at once).
                    | EventKind::ActionsVisible { .. }
                    | EventKind::WorkerExit { .. }
            );
        if borrowed {
            let at = self.point(event.at.line);
            self.open = Some(
                self.outside
                    .take()
                    .unwrap_or_else(|| SessionSpan::new(String::new(), String::new(), at)),
            );
        }
        self.take(event);
        if borrowed {
            self.outside = self.open.take().map(|mut run| {
                run.agent_run = true;
                run
            });
        }
    }

    fn take(&mut self, event: &Event) {
        match &event.kind {
            EventKind::Clock(t) | EventKind::Envelope(t) => {
                if !self.own_clock {
                    // The input's own clock from now on; findings about earlier lines
                    // are dated by it too (a record stream dates its first record).
                    self.own_clock = true;
                    self.first_clock = None;
                    self.clock_at.clear();
                }
                self.clock = Some(unix_micros(t));
                self.first_clock.get_or_insert(unix_micros(t));
                self.any_clock = true;
            }
            EventKind::ToolCall {
                tool,
                id: Some(id),
                parent,
                ..
            } => {
                let at = self.point(event.at.line);
                self.open_call(tool, id, parent.as_ref(), at);
            }
            EventKind::ToolCall { tool, .. } => {
                let at = self.point(event.at.line);
                // A call without an id is a point on the axis: its result is not known.
                self.open_span(SpanKind::Tool, tool, at);
                self.close_span(SpanKind::Tool, tool, at);
            }
            EventKind::ToolDone { id, failed } => {
                let at = self.point(event.at.line);
                let key = format!("#{id}");
                if let Some(s) = &mut self.open
                    && let Some(&i) = self
                        .open_spans
                        .get(&(SpanKind::Tool, key.clone()))
                        .and_then(|l| l.last())
                    && let Some(span) = s.spans.get_mut(i)
                {
                    span.failed = *failed;
                }
                self.close_span(SpanKind::Tool, &key, at);
            }
            EventKind::Usage(usage) => {
                let at = self.point(event.at.line);
                if let Some(s) = &mut self.open
                    && s.usage_samples.len() < MAX_USAGE_SAMPLES
                {
                    s.usage_samples
                        .push((at, usage.tokens.total_tokens, usage.cost_usd));
                }
                self.usage = Some((**usage).clone());
            }
            EventKind::Marker(m) => self.marker(m, event.at.line),
            _ => {}
        }
    }

    fn marker(&mut self, marker: &Marker, line: u64) {
        let at = self.point(line);
        match marker {
            Marker::SessionStart { session } => {
                self.end_session(None);
                // The input holds protocol sessions: they, not the CLI's run, are its
                // traces.
                self.protocol = true;
                if let Some(run) = self.outside.take() {
                    self.kept_spans -= run.spans.len();
                    self.open_spans.clear();
                }
                let mut s = SessionSpan::new(session.id.clone(), session.worker_type.clone(), at);
                s.usage_at_start = self.usage.as_ref().map(|u| u.tokens);
                self.open = Some(s);
            }
            Marker::TaskStart { task } => self.open_span(SpanKind::Task, task, at),
            Marker::TaskComplete { task } => self.close_span(SpanKind::Task, task, at),
            Marker::SubagentSpawn { agent } => self.open_span(SpanKind::Subagent, agent, at),
            Marker::SubagentComplete { agent } => self.close_span(SpanKind::Subagent, agent, at),
            Marker::DistillationRequest { .. } if !self.distilling() => {
                self.open_span(SpanKind::Distillation, "", at);
            }
            Marker::DistillationComplete => {
                if !self.distilling() {
                    // Confirmed without a request: a point.
                    self.open_span(SpanKind::Distillation, "", at);
                }
                self.close_span(SpanKind::Distillation, "", at);
            }
            Marker::SessionComplete { .. } => {
                if let Some(s) = &mut self.open {
                    s.end = Some(at);
                }
            }
            _ => {}
        }
    }

    /// A finding, placed at its line.
    pub fn finding(&mut self, f: &Finding) {
        let mark = Mark {
            rule: f.rule,
            severity: f.severity,
            message: f.message.clone(),
            at: self.point_back(f.primary.at.line),
            quote: String::from_utf8_lossy(
                &f.primary.text.bytes[..f.primary.text.bytes.len().min(200)],
            )
            .into_owned(),
        };
        let room = self.kept_marks < MAX_INPUT_MARKS;
        let session = match &mut self.open {
            Some(s) if f.primary.at.line >= s.start.line => Some(s),
            // A finding about a session that ended (its end-of-session findings come
            // just before its end is reported) or about no session.
            _ => self
                .sessions
                .iter_mut()
                .rev()
                .find(|s| s.start.line <= mark.at.line),
        };
        match session {
            Some(s) if room && s.marks.len() < MAX_MARKS => {
                s.marks.push(mark);
                self.kept_marks += 1;
            }
            Some(s) => {
                s.dropped += 1;
                s.dropped_marks += 1;
            }
            None if room && self.loose.len() < MAX_MARKS => {
                self.loose.push(mark);
                self.kept_marks += 1;
            }
            None => self.dropped_loose += 1,
        }
    }

    /// The session that ended last, and the axis so far (for a live exporter).
    pub fn last_ended(&self) -> Option<(&SessionSpan, Axis)> {
        let axis = if self.any_clock {
            Axis::Clock
        } else {
            Axis::Lines
        };
        self.sessions.last().map(|s| (s, axis))
    }

    /// A session ended, with everything known about it.
    pub fn session_end(&mut self, state: &SessionState) {
        let at = self.point_back(state.last_line);
        if let Some(s) = &mut self.open
            && s.start.line == state.start_line
        {
            if s.end.is_none() || state.status == Status::Crashed {
                s.end = Some(at);
            }
            s.status = Some(state.status);
            self.end_session(Some(at));
        } else if let Some(s) = self
            .sessions
            .iter_mut()
            .rev()
            .find(|s| s.start.line == state.start_line)
        {
            // The completion block ended after the session closed, or a new session
            // started before it ended: it ends at its last line.
            s.status = Some(state.status);
            if s.end.is_none() {
                s.end = Some(at);
            }
        }
    }

    fn end_session(&mut self, at: Option<Point>) {
        let Some(mut s) = self.open.take() else {
            return;
        };
        self.open_spans.clear();
        if s.end.is_none() {
            s.end = at;
        }
        if let Some(now) = &self.usage {
            let start = s.usage_at_start.unwrap_or_default();
            let mut tokens = now.tokens;
            tokens.input_tokens = tokens.input_tokens.saturating_sub(start.input_tokens);
            tokens.output_tokens = tokens.output_tokens.saturating_sub(start.output_tokens);
            tokens.cache_read_tokens = tokens
                .cache_read_tokens
                .saturating_sub(start.cache_read_tokens);
            tokens.cache_creation_tokens = tokens
                .cache_creation_tokens
                .saturating_sub(start.cache_creation_tokens);
            tokens.reasoning_tokens = tokens
                .reasoning_tokens
                .saturating_sub(start.reasoning_tokens);
            tokens.total_tokens = tokens.total_tokens.saturating_sub(start.total_tokens);
            s.usage = Some(crate::usage::Usage {
                tokens,
                cost_usd: None,
                models: Vec::new(),
            });
            s.models = now.models.iter().map(|m| m.model.clone()).collect();
        }
        if self.sessions.len() >= MAX_SESSIONS {
            let first = self.sessions.remove(0);
            self.kept_spans -= first.spans.len();
            self.kept_marks -= first.marks.len();
            self.dropped_sessions += 1;
        }
        self.sessions.push(s);
    }

    /// The timeline of the input, `lines` long.
    pub fn finish(mut self, lines: u64) -> Timeline {
        let last = self.point(lines.max(1));
        self.end_session(Some(last));
        // No protocol session: the CLI's run, with all it reported and the findings.
        let agent_run = match self.outside.take() {
            Some(run) => Some(run),
            None if !self.protocol && self.usage.is_some() => Some(SessionSpan::new(
                String::new(),
                String::new(),
                Point::default(),
            )),
            None => None,
        }
        .map(|mut run| {
            run.agent_run = true;
            run.end = Some(last);
            run.status = Some(Status::Complete);
            run.marks = self.loose.clone();
            run.dropped_marks = self.dropped_loose;
            if let Some(usage) = &self.usage {
                run.models = usage.models.iter().map(|m| m.model.clone()).collect();
                run.usage = Some(usage.clone());
            }
            run
        });
        let axis = if self.any_clock {
            Axis::Clock
        } else {
            Axis::Lines
        };
        Timeline {
            axis,
            sessions: self.sessions,
            loose: self.loose,
            lines,
            dropped_sessions: self.dropped_sessions,
            dropped_loose: self.dropped_loose,
            agent_run,
            first_clock: self.first_clock,
        }
    }
}

impl Timeline {
    /// The timeline as pictures and traces draw it: an input without protocol sessions
    /// is drawn as its agent CLI's run (see [`Timeline::agent_run`]), a session named by
    /// the CLI (`claude-code`, `codex`, `gemini-cli`; else `agent`) whose id is the CLI's
    /// own id of the run (`conversation`), else the input file's name without its
    /// extension (Gemini CLI names its chat files by the session), else empty (a pipe,
    /// a worker under `run`: no id is known). `killed`: the CLI's output ended without
    /// its final record: the run is drawn as crashed. Done once, where an input's
    /// summary is made: every picture takes the timeline as it is.
    pub fn traced(
        mut self,
        file: &str,
        cli: Option<&str>,
        conversation: Option<&str>,
        killed: bool,
    ) -> Timeline {
        if !self.sessions.is_empty() {
            return self;
        }
        let Some(mut run) = self.agent_run.take() else {
            return self;
        };
        if killed {
            run.status = Some(Status::Crashed);
        }
        cli.unwrap_or("agent").clone_into(&mut run.worker_type);
        let path = std::path::Path::new(file);
        run.id = match conversation {
            Some(id) => id.to_owned(),
            None if path.is_file() => path
                .file_stem()
                .map_or_else(|| file.to_owned(), |s| s.to_string_lossy().into_owned()),
            None => String::new(),
        };
        self.sessions.push(run);
        self
    }
}

impl SessionSpan {
    fn new(id: String, worker_type: String, start: Point) -> SessionSpan {
        SessionSpan {
            id,
            worker_type,
            start,
            end: None,
            status: None,
            spans: Vec::new(),
            marks: Vec::new(),
            dropped: 0,
            dropped_marks: 0,
            usage: None,
            usage_at_start: None,
            usage_samples: Vec::new(),
            models: Vec::new(),
            agent_run: false,
        }
    }
}

impl Timeline {
    /// Where `p` is on the axis: microseconds, or the line.
    pub fn at(&self, p: Point) -> i64 {
        match (self.axis, p.micros) {
            (Axis::Clock, Some(m)) => m,
            (Axis::Clock, None) => self.first_micros().unwrap_or(0),
            (Axis::Lines, _) => p.line as i64,
        }
    }

    fn first_micros(&self) -> Option<i64> {
        self.first_clock
            .or_else(|| self.sessions.iter().find_map(|s| s.start.micros))
    }

    /// What the axis unit is called.
    pub fn unit(&self) -> &'static str {
        match self.axis {
            Axis::Clock => "time",
            Axis::Lines => "line",
        }
    }
}

/// What the timeline of an input left out, counted, for a picture to say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// Spans kept, and spans seen in the kept sessions.
    pub spans_kept: u64,
    pub spans_seen: u64,
    /// Findings kept, and findings seen (in the kept sessions and outside any).
    pub marks_kept: u64,
    pub marks_seen: u64,
    /// The first sessions of the input, dropped whole (past [`MAX_SESSIONS`]).
    pub sessions: u64,
}

impl LeftOut {
    /// Whether anything was left out.
    pub fn any(&self) -> bool {
        self.spans_kept < self.spans_seen || self.marks_kept < self.marks_seen || self.sessions > 0
    }

    /// The sentence a picture shows: what was left out, and the caps that did it.
    pub fn sentence(&self) -> Option<String> {
        if !self.any() {
            return None;
        }
        let mut parts = Vec::new();
        if self.spans_kept < self.spans_seen || self.marks_kept < self.marks_seen {
            parts.push(format!(
                "{} of {} spans and {} of {} findings kept, the rest left out \
                 (caps: {MAX_INPUT_SPANS} spans and {MAX_INPUT_MARKS} findings per input, \
                 {MAX_SPANS} of each per session)",
                self.spans_kept, self.spans_seen, self.marks_kept, self.marks_seen
            ));
        }
        if self.sessions > 0 {
            parts.push(format!(
                "the first {} session{} of this input left out (only the last {MAX_SESSIONS} are kept)",
                self.sessions,
                if self.sessions == 1 { "" } else { "s" }
            ));
        }
        Some(format!("Left out of this picture: {}.", parts.join("; ")))
    }
}

impl Timeline {
    /// What this timeline left out of its input (SPEC §6: said in every picture).
    pub fn left_out(&self) -> LeftOut {
        let mut l = LeftOut {
            sessions: self.dropped_sessions,
            marks_kept: self.loose.len() as u64,
            marks_seen: self.loose.len() as u64 + self.dropped_loose,
            ..LeftOut::default()
        };
        for s in &self.sessions {
            l.spans_kept += s.spans.len() as u64;
            l.spans_seen += s.spans.len() as u64 + (s.dropped - s.dropped_marks);
            l.marks_kept += s.marks.len() as u64;
            l.marks_seen += s.marks.len() as u64 + s.dropped_marks;
        }
        l
    }
}

/// The spans and findings one picture has drawn in a run ([`MAX_RUN_ITEMS`]), and what
/// it left out past that cap: a reporter holds one and asks it before drawing.
#[derive(Debug, Clone, Copy)]
pub struct RunCap {
    /// The cap: [`MAX_RUN_ITEMS`], or none.
    max: u64,
    drawn: u64,
    /// Spans and findings left out past the cap, so far.
    pub left_out: u64,
}

impl Default for RunCap {
    /// A picture's cap: [`MAX_RUN_ITEMS`].
    fn default() -> Self {
        RunCap {
            max: MAX_RUN_ITEMS,
            drawn: 0,
            left_out: 0,
        }
    }
}

impl RunCap {
    /// A cap that never leaves anything out (one session posted alone, for instance).
    pub fn unbounded() -> RunCap {
        RunCap {
            max: u64::MAX,
            ..RunCap::default()
        }
    }

    /// Of `n` spans or findings to draw, how many may be (the first ones); the rest are
    /// counted as left out.
    pub fn take(&mut self, n: usize) -> usize {
        let room = self.max.saturating_sub(self.drawn);
        let n = n as u64;
        let take = n.min(room);
        self.drawn += take;
        self.left_out += n - take;
        usize::try_from(take).unwrap_or(usize::MAX)
    }

    /// The sentence a picture shows when the run's cap left something out.
    pub fn sentence(&self) -> Option<String> {
        (self.left_out > 0).then(|| {
            format!(
                "{} spans and findings left out of this picture past its cap of {MAX_RUN_ITEMS} per run.",
                self.left_out
            )
        })
    }
}

/// An ordering for lane ends that are floats (SVG units) or integers (microseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
struct End<T>(T, usize);

impl<T: PartialOrd> Eq for End<T> {}

impl<T: PartialOrd> PartialOrd for End<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: PartialOrd> Ord for End<T> {
    /// Reversed, for a min-heap: the earliest end, then the lowest lane, first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .0
            .partial_cmp(&self.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(other.1.cmp(&self.1))
    }
}

/// Lanes for bars `(start, end)` in order, so that overlapping bars never share one: the
/// lowest lane free at the bar's start (one whose last bar ended at or before it), as a
/// first-fit scan would give when starts come in order, in O(n log n): a min-heap of the
/// busy lanes' ends and one of the free lanes. At most `max` lanes; a bar that finds
/// none free goes to the overflow lane, numbered `max`. Returns the lane of each bar and
/// how many lanes there are (the overflow one included when used).
pub fn lanes<T: PartialOrd + Copy>(bars: &[(T, T)], max: usize) -> (Vec<usize>, usize) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut busy: BinaryHeap<End<T>> = BinaryHeap::new();
    let mut free: BinaryHeap<Reverse<usize>> = BinaryHeap::new();
    let mut count = 0;
    let mut overflow = false;
    let mut lane = Vec::with_capacity(bars.len());
    for &(start, end) in bars {
        while let Some(top) = busy.peek()
            && top.0 <= start
        {
            free.push(Reverse(top.1));
            busy.pop();
        }
        let i = match free.pop() {
            Some(Reverse(i)) => i,
            None if count < max => {
                count += 1;
                count - 1
            }
            None => {
                overflow = true;
                lane.push(max);
                continue;
            }
        };
        busy.push(End(end, i));
        lane.push(i);
    }
    (lane, count + usize::from(overflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first-fit scan the heaps replace.
    fn scan(bars: &[(i64, i64)]) -> Vec<usize> {
        let mut ends: Vec<i64> = Vec::new();
        bars.iter()
            .map(|&(a, b)| match ends.iter().position(|&e| e <= a) {
                Some(i) => {
                    ends[i] = b;
                    i
                }
                None => {
                    ends.push(b);
                    ends.len() - 1
                }
            })
            .collect()
    }

    #[test]
    fn lanes_are_the_first_fit_ones_for_bars_in_order() {
        let mut seed = 7u64;
        for _ in 0..200 {
            let mut start = 0;
            let bars: Vec<(i64, i64)> = (0..60)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    start += (seed >> 60) as i64;
                    (start, start + 1 + (seed >> 58) as i64 % 13)
                })
                .collect();
            let (got, count) = lanes(&bars, usize::MAX);
            let want = scan(&bars);
            assert_eq!(got, want);
            assert_eq!(count, want.iter().max().map_or(0, |m| m + 1));
        }
    }

    #[test]
    fn lanes_past_the_cap_share_the_overflow_lane() {
        let bars: Vec<(f64, f64)> = (0..100).map(|i| (f64::from(i), 1000.0)).collect();
        let (lane, count) = lanes(&bars, MAX_LANES);
        assert_eq!(count, MAX_LANES + 1);
        assert_eq!(lane[..MAX_LANES], (0..MAX_LANES).collect::<Vec<_>>()[..]);
        assert!(lane[MAX_LANES..].iter().all(|&l| l == MAX_LANES));
    }
}
