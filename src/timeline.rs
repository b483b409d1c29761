//! When things happened (SPEC §9): each session of an input as spans on a time axis —
//! the session, its tasks, its subagents, its distillation, the worker's tool calls — and
//! its findings as marks. The pictures (`perfetto`, `otlp`, `html` reports) are drawn
//! from it.
//!
//! The axis is the input's own clock where it has one (the `timestamp` of Claude Code
//! session-file, Codex rollout and Gemini records; the arrival time of each chunk under
//! `run`), else line numbers, and the timeline says which. Memory is bounded: past
//! [`MAX_SPANS`] spans or [`MAX_MARKS`] marks in a session, later ones are counted, not
//! kept.

use std::collections::HashMap;

use crate::event::{Event, EventKind, Marker, Timestamp};
use crate::finding::Finding;
use crate::rule::{Rule, Severity};
use crate::state::{SessionState, Status};

/// Spans and marks kept per session.
pub const MAX_SPANS: usize = 20_000;
pub const MAX_MARKS: usize = 20_000;
/// Sessions kept per input (the last ones).
pub const MAX_SESSIONS: usize = 1_000;

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
    any_clock: bool,
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
            any_clock: false,
        }
    }

    /// The input's clock is now `micros` (an arrival time under `run`).
    pub fn tick(&mut self, micros: i64) {
        self.clock = Some(micros);
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
        if s.spans.len() >= MAX_SPANS {
            s.dropped += 1;
            return;
        }
        self.open_spans
            .entry((kind, name.to_owned()))
            .or_default()
            .push(s.spans.len());
        s.spans.push(Span {
            kind,
            name: name.to_owned(),
            start: at,
            end: None,
        });
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
        match &event.kind {
            EventKind::Clock(t) | EventKind::Envelope(t) => {
                self.clock = Some(unix_micros(t));
                self.any_clock = true;
            }
            EventKind::ToolCall { tool, .. } => {
                let at = self.point(event.at.line);
                // A tool call is a point on the axis: its result's time is not known here.
                self.open_span(SpanKind::Tool, tool, at);
                self.close_span(SpanKind::Tool, tool, at);
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
                self.open = Some(SessionSpan {
                    id: session.id.clone(),
                    worker_type: session.worker_type.clone(),
                    start: at,
                    end: None,
                    status: None,
                    spans: Vec::new(),
                    marks: Vec::new(),
                    dropped: 0,
                });
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
        match &mut self.open {
            Some(s) if f.primary.at.line >= s.start.line => {
                if s.marks.len() < MAX_MARKS {
                    s.marks.push(mark);
                } else {
                    s.dropped += 1;
                }
            }
            _ => {
                // A finding about a session that ended (its end-of-session findings come
                // just before its end is reported) or about no session.
                match self
                    .sessions
                    .iter_mut()
                    .rev()
                    .find(|s| s.start.line <= mark.at.line)
                {
                    Some(s) if s.marks.len() < MAX_MARKS => s.marks.push(mark),
                    Some(s) => s.dropped += 1,
                    None if self.loose.len() < MAX_MARKS => self.loose.push(mark),
                    None => {}
                }
            }
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
            // The completion block ended after the session closed.
            s.status = Some(state.status);
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
        if self.sessions.len() >= MAX_SESSIONS {
            self.sessions.remove(0);
            self.dropped_sessions += 1;
        }
        self.sessions.push(s);
    }

    /// The timeline of the input, `lines` long.
    pub fn finish(mut self, lines: u64) -> Timeline {
        let last = self.point(lines.max(1));
        self.end_session(Some(last));
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
        self.sessions.iter().find_map(|s| s.start.micros)
    }

    /// What the axis unit is called.
    pub fn unit(&self) -> &'static str {
        match self.axis {
            Axis::Clock => "time",
            Axis::Lines => "line",
        }
    }
}
