//! `otlp`: OTLP/JSON traces (SPEC §9), built from `opentelemetry-proto`'s own types,
//! whose serde support is the OTLP/JSON mapping (hex ids, nanoseconds as strings,
//! camelCase). One trace per session: a root span for the session (`invoke_agent` of
//! the worker), child spans for its tasks, its subagents (`invoke_agent`,
//! `gen_ai.agent.name`), its distillation and, on agent transcripts, its tool calls
//! (`execute_tool`, `gen_ai.tool.name`); every finding a span event. Ids are derived
//! from the input's name and the session, so exporting the same transcript again gives
//! the same trace.
//!
//! The file is OTLP/JSON Lines, as an OpenTelemetry Collector's `otlpjsonfile` receiver
//! reads it: one `ExportTraceServiceRequest` (`{"resourceSpans":[…]}`) per line, one per
//! session (its input's resource, its trace), each written as soon as it is built, so the
//! report holds one session at a time, never an input's or a run's request. An input
//! without a session is one line with its resource and no span; a run without any input
//! one line with none.
//!
//! Bounded (SPEC §6): the timeline keeps at most its caps per input, and the file draws at
//! most [`MAX_RUN_ITEMS`](crate::timeline::MAX_RUN_ITEMS) spans and events in a run. What is left out is said in the
//! file: on each session's root span, `quant_session.dropped` (spans and findings not
//! drawn) and `quant_session.left_out_past_run_cap`; on the input's resource,
//! `quant_session.sessions_dropped`, `quant_session.spans_left_out`,
//! `quant_session.findings_left_out` and `quant_session.left_out` (the sentence).

use std::io::{self, Write};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span::Event as SpanEvent, span::SpanKind as Kind,
    status::StatusCode,
};

use super::{FileSummary, Totals};
use crate::sink::{Flow, Item, Sink};
use crate::timeline::{Axis, Point, RunCap, SessionSpan, SpanKind, Timeline};

/// Nanoseconds per line on a line axis (see [`Dating`]).
const LINE_NANOS: u64 = 1_000_000;

/// A stable id from `parts` ([`crate::baseline::fnv`]), never all zeroes.
fn hash(seed: u64, parts: &[&[u8]]) -> u64 {
    crate::baseline::fnv(seed, parts).max(1)
}

/// The span a run's sessions belong to: W3C `TRACEPARENT` (`00-TRACE-SPAN-FLAGS`) as
/// `run` found it, so that a worker started inside a traced job (a CI step, an agent
/// harness) appears in that job's trace.
static PARENT: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();

/// Joins the sessions' traces to `traceparent`'s span; false when it is not a valid
/// W3C `traceparent` (then they stay traces of their own).
pub fn join_trace(traceparent: &str) -> bool {
    let hex = |s: &str, n: usize| {
        // Lower-case hex digits only, as W3C says (a multi-byte character must not be
        // cut in two).
        (s.len() == n * 2 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| {
                (0..n)
                    .map(|i| u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok())
                    .collect::<Option<Vec<u8>>>()
            })
            .flatten()
            .filter(|b| b.iter().any(|&x| x != 0))
    };
    let lower = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let parts: Vec<&str> = traceparent.trim().split('-').collect();
    // Version 00 has four fields; a later version may add fields after them, which a
    // reader of version 00 ignores (W3C trace context, "versioning").
    let fields = match parts.as_slice() {
        [version, trace, span, flags] => Some((*version, *trace, *span, *flags)),
        [version, trace, span, flags, ..] if *version != "00" => {
            Some((*version, *trace, *span, *flags))
        }
        _ => None,
    };
    match fields {
        Some((version, trace, span, flags))
            if version.len() == 2
                && version != "ff"
                && lower(version)
                && flags.len() == 2
                && lower(flags) =>
        {
            match (hex(trace, 16), hex(span, 8)) {
                (Some(trace), Some(span)) => {
                    let _ = PARENT.set((trace, span));
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// The input's name as the ids take it: a file by its canonical path (`./a.log`,
/// `a.log` and `/abs/a.log` are one input, exported twice one trace), else as it is
/// (`<stdin>`). Remembered per name: a file deleted meanwhile keeps its ids.
fn canonical(file: &str) -> String {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static SEEN: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(c) = seen.get(file) {
            return c.clone();
        }
        let c = std::fs::canonicalize(file)
            .ok()
            .filter(|p| p.is_file())
            .and_then(|p| p.to_str().map(str::to_owned))
            .unwrap_or_else(|| file.to_owned());
        if seen.len() >= 4096 {
            seen.clear();
        }
        seen.insert(file.to_owned(), c.clone());
        c
    })
}

/// When the run started (microseconds since the epoch): one "now" for the whole run.
fn run_started() -> i64 {
    static STARTED: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *STARTED.get_or_init(crate::timeline::now_micros)
}

/// The trace id of a session: 16 bytes from the input's name and the session — and,
/// for an agent CLI's run that is no file's (a pipe, a worker under `run`), the run's
/// start, so that two such runs are two traces even when the CLI names both alike (a
/// resumed Claude Code session keeps its id).
pub fn trace_id(file: &str, session: &SessionSpan) -> Vec<u8> {
    let line = session.start.line.to_le_bytes();
    let file = canonical(file);
    let started = if session.agent_run && !std::path::Path::new(&file).is_absolute() {
        run_started().to_le_bytes()
    } else {
        [0; 8]
    };
    let parts: [&[u8]; 4] = [file.as_bytes(), session.id.as_bytes(), &line, &started];
    let mut id = hash(1, &parts).to_be_bytes().to_vec();
    id.extend_from_slice(&hash(2, &parts).to_be_bytes());
    id
}

fn span_id(trace: &[u8], kind: &str, name: &str, line: u64) -> Vec<u8> {
    hash(
        3,
        &[trace, kind.as_bytes(), name.as_bytes(), &line.to_le_bytes()],
    )
    .to_be_bytes()
    .to_vec()
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

/// A string attribute. Its value may come from a transcript (a tool's name, a call's
/// id): control bytes, bidirectional controls and invalid bytes are escaped, as in
/// every report, so that no store, `jq -r` or terminal showing it is driven by them.
fn s(key: &str, value: impl Into<String>) -> KeyValue {
    let value = value.into();
    kv(key, Value::StringValue(clean(value)))
}

/// `text` with what [`crate::sanitize::escape`] escapes escaped (unchanged when clean).
fn clean(text: String) -> String {
    let raw = text.as_bytes();
    if raw.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        return text;
    }
    crate::sanitize::escape(raw)
}

fn int(key: &str, value: u64) -> KeyValue {
    kv(
        key,
        Value::IntValue(i64::try_from(value).unwrap_or(i64::MAX)),
    )
}

/// Where a session's points are in time: on a clock axis, their own times; on a line
/// axis (a text input, no timestamps), the session starts at the time its id carries
/// (`researcher-2026-11-23T10:15:30` is 10:15:30 UTC that day), else at its file's
/// modification time, else now, and each line
/// after its start is a millisecond — a trace store's default time window shows it,
/// where a trace in 1970 would be hidden.
/// 2000-01-01T00:00:00Z in microseconds: a time before it is no time a worker ran.
const Y2000: i64 = 946_684_800_000_000;
/// 2200-01-01T00:00:00Z: a time after it is no clock either.
const Y2200: i64 = 7_258_118_400_000_000;

struct Dating {
    axis: Axis,
    /// Nanoseconds since the epoch of the session's start, and its line (line axis).
    base: u64,
    start_line: u64,
}

impl Dating {
    fn of(file: &str, t: &Timeline, session: &SessionSpan) -> Dating {
        let from_id = session
            .id
            .strip_prefix(session.worker_type.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(crate::grammar::parse_timestamp)
            .map(|ts| crate::timeline::unix_micros(&ts))
            .filter(|&m| m >= Y2000);
        // Else the file's modification time (when the input is a file), else now.
        let modified = || {
            let at = std::fs::metadata(file).ok()?.modified().ok()?;
            let since = at.duration_since(std::time::UNIX_EPOCH).ok()?;
            i64::try_from(since.as_micros()).ok()
        };
        // One "now" for the whole run: the file report and the exporter date a pipe's
        // session alike.
        let micros = from_id.or_else(modified).unwrap_or_else(run_started);
        // A clock that says the session ran before 2000 was never set (a container or
        // a board without one): laid out by lines, as an input without a clock.
        let axis = match t.axis {
            Axis::Clock if !(Y2000..Y2200).contains(&t.at(session.start)) => Axis::Lines,
            axis => axis,
        };
        Dating {
            axis,
            base: u64::try_from(micros).unwrap_or(0).saturating_mul(1000),
            start_line: session.start.line,
        }
    }

    /// Nanoseconds since the epoch of a point.
    fn nanos(&self, t: &Timeline, p: Point) -> u64 {
        match self.axis {
            Axis::Clock => u64::try_from(t.at(p)).unwrap_or(0).saturating_mul(1000),
            Axis::Lines => self.base.saturating_add(
                p.line
                    .saturating_sub(self.start_line)
                    .saturating_mul(LINE_NANOS),
            ),
        }
    }
}

/// The spans of one session: its root, then its children.
pub fn session_spans(file: &str, t: &Timeline, session: &SessionSpan) -> Vec<Span> {
    session_spans_capped(file, t, session, &mut RunCap::unbounded())
}

/// The spans of one session, as many of its spans and findings as `cap` lets through
/// (the first ones); the root counts what it left out.
fn session_spans_capped(
    file: &str,
    t: &Timeline,
    session: &SessionSpan,
    cap: &mut RunCap,
) -> Vec<Span> {
    let at = cap.left_out;
    let drawn_spans = cap.take(session.spans.len());
    let drawn_marks = cap.take(session.marks.len());
    let past_run_cap = cap.left_out - at;
    // The session's own trace, or the one `TRACEPARENT` named (its span ids stay the
    // session's own, so that sessions sharing that trace never share a span id).
    let own = trace_id(file, session);
    let parent = PARENT.get();
    let trace = parent.map_or_else(|| own.clone(), |(trace, _)| trace.clone());
    let dating = Dating::of(file, t, session);
    let nanos = |t: &Timeline, p: Point| dating.nanos(t, p);
    let root_id = span_id(&own, "session", &session.id, session.start.line);
    let end = session.end.unwrap_or(session.start);
    // A session still open when a watch stopped is not judged: neither crashed nor
    // complete.
    let open = session.status.is_none();
    let crashed = !open && session.status != Some(crate::state::Status::Complete);
    let errors = session
        .marks
        .iter()
        .filter(|m| m.severity == crate::rule::Severity::Error)
        .count();
    let mut attributes = vec![
        s("gen_ai.operation.name", "invoke_agent"),
        s("gen_ai.agent.name", session.worker_type.clone()),
        s("openinference.span.kind", "AGENT"),
    ];
    if !session.id.is_empty() {
        attributes.push(s("gen_ai.conversation.id", session.id.clone()));
    }
    if session.agent_run {
        // The CLI's run in an input without protocol sessions: no session to name.
        attributes.push(kv("quant_session.protocol", Value::BoolValue(false)));
    } else {
        attributes.push(s("quant_session.session.id", session.id.clone()));
        attributes.push(s(
            "quant_session.session.status",
            if open {
                "open"
            } else if crashed {
                "crashed"
            } else {
                "complete"
            },
        ));
    }
    attributes.extend([
        int("quant_session.start_line", session.start.line),
        int("quant_session.end_line", end.line),
        s(
            "quant_session.time_axis",
            match t.axis {
                Axis::Clock => "timestamps",
                Axis::Lines => "lines",
            },
        ),
    ]);
    if let Some(usage) = &session.usage {
        if let Some(model) = session.models.first() {
            if let Some(provider) = provider_of(model) {
                attributes.push(s("gen_ai.provider.name", provider));
            }
            attributes.push(s("gen_ai.response.model", model.clone()));
        }
        let t = &usage.tokens;
        // The conventions count the cached input in `input_tokens`; Anthropic's API
        // (and so Claude Code) reports it apart, Codex and Gemini within.
        let anthropic = session
            .models
            .first()
            .and_then(|m| provider_of(m))
            .is_some_and(|p| p == "anthropic");
        let input = if anthropic {
            t.input_tokens + t.cache_read_tokens + t.cache_creation_tokens
        } else {
            t.input_tokens
        };
        attributes.push(int("gen_ai.usage.input_tokens", input));
        attributes.push(int("gen_ai.usage.output_tokens", t.output_tokens));
        if t.cache_read_tokens > 0 {
            attributes.push(int(
                "gen_ai.usage.cache_read.input_tokens",
                t.cache_read_tokens,
            ));
        }
        if t.cache_creation_tokens > 0 {
            attributes.push(int(
                "gen_ai.usage.cache_creation.input_tokens",
                t.cache_creation_tokens,
            ));
        }
        attributes.push(int("quant_session.usage.total_tokens", t.total_tokens));
        if let Some(cost) = usage.cost_usd {
            attributes.push(kv("quant_session.usage.cost_usd", Value::DoubleValue(cost)));
        }
    }
    if session.dropped + past_run_cap > 0 {
        attributes.push(int("quant_session.dropped", session.dropped + past_run_cap));
    }
    if past_run_cap > 0 {
        attributes.push(int("quant_session.left_out_past_run_cap", past_run_cap));
    }
    let events = session.marks[..drawn_marks]
        .iter()
        .map(|m| SpanEvent {
            time_unix_nano: nanos(t, m.at),
            name: m.rule.id().to_owned(),
            attributes: vec![
                s("quant_session.severity", m.severity.as_str()),
                s("quant_session.message", m.message.clone()),
                int("quant_session.line", m.at.line),
            ],
            ..SpanEvent::default()
        })
        .collect();
    let status = if crashed || errors > 0 {
        Status {
            code: StatusCode::Error as i32,
            message: if crashed && session.agent_run {
                "the CLI's output ended without its final record: killed, or cut off".into()
            } else if crashed {
                "the session never completed".into()
            } else {
                // The first error, as the store's list shows one line of it.
                let first = session
                    .marks
                    .iter()
                    .find(|m| m.severity == crate::rule::Severity::Error);
                match first {
                    Some(m) if errors == 1 => format!("{}: {}", m.rule.id(), m.message),
                    Some(m) => format!(
                        "{}: {} (and {} more errors)",
                        m.rule.id(),
                        m.message,
                        errors - 1
                    ),
                    None => format!("{errors} errors"),
                }
            },
        }
    } else {
        // Success is Unset, as the conventions ask (Ok is an operator's override).
        Status {
            code: StatusCode::Unset as i32,
            message: String::new(),
        }
    };
    let mut spans = vec![Span {
        trace_id: trace.clone(),
        span_id: root_id.clone(),
        parent_span_id: parent.map(|(_, span)| span.clone()).unwrap_or_default(),
        name: clean(format!("invoke_agent {}", session.worker_type)),
        kind: Kind::Internal as i32,
        start_time_unix_nano: nanos(t, session.start),
        end_time_unix_nano: nanos(t, end).max(nanos(t, session.start)),
        attributes,
        events,
        status: Some(status),
        ..Span::default()
    }];
    let drawn = &session.spans[..drawn_spans];
    // A call's span is named by its id and line (ids repeat across runs in one log).
    let call_span = |id: &str, line: u64| span_id(&own, "tool-call", id, line);
    // The tasks started so far and not known to have ended (their span id and end
    // line): what starts inside a task is its child (session → task → subagent, call).
    let mut tasks: Vec<(Vec<u8>, Option<u64>)> = Vec::new();
    for (i, span) in drawn.iter().enumerate() {
        let span_end = span.end.unwrap_or(end);
        // `openinference.span.kind`: how Phoenix and other OpenInference stores sort
        // spans (they tell tools by the GenAI attributes, not tasks).
        let (name, mut attributes) = match span.kind {
            SpanKind::Task => (
                format!("task {}", span.name),
                vec![
                    s("quant_session.task.id", span.name.clone()),
                    s("openinference.span.kind", "CHAIN"),
                ],
            ),
            SpanKind::Subagent => {
                let agent = span.name.trim_start_matches('@').to_owned();
                (
                    format!("invoke_agent {agent}"),
                    vec![
                        s("gen_ai.operation.name", "invoke_agent"),
                        s("gen_ai.agent.name", agent),
                        s("openinference.span.kind", "AGENT"),
                    ],
                )
            }
            SpanKind::Distillation => (
                "distillation".to_owned(),
                vec![s("openinference.span.kind", "CHAIN")],
            ),
            SpanKind::Tool => {
                let mut attributes = vec![
                    s("gen_ai.operation.name", "execute_tool"),
                    s("gen_ai.tool.name", span.name.clone()),
                    s("openinference.span.kind", "TOOL"),
                ];
                if let Some(id) = &span.call_id {
                    attributes.push(s("gen_ai.tool.call.id", id.clone()));
                }
                if span.failed {
                    attributes.push(s("error.type", "tool_error"));
                }
                (format!("execute_tool {}", span.name), attributes)
            }
        };
        attributes.push(int("quant_session.start_line", span.start.line));
        attributes.push(kv(
            "quant_session.completed",
            Value::BoolValue(span.end.is_some()),
        ));
        // A call's span is named by its id (its subagent's calls name it as parent);
        // the index keeps two other spans of one name on one line apart.
        let id = match &span.call_id {
            Some(call) => call_span(call, span.start.line),
            None => span_id(
                &own,
                span.kind.word(),
                &format!("{}#{i}", span.name),
                span.start.line,
            ),
        };
        // A subagent's call nests under the worker's call that started the subagent;
        // anything else that starts inside a task, under the task.
        while tasks
            .last()
            .is_some_and(|(_, end)| end.is_some_and(|e| e < span.start.line))
        {
            tasks.pop();
        }
        let parent_span_id = span
            .parent_call
            .as_deref()
            .and_then(|p| {
                drawn
                    .iter()
                    .rev()
                    .find(|o| o.call_id.as_deref() == Some(p) && o.start.line <= span.start.line)
                    .map(|o| call_span(p, o.start.line))
            })
            .or_else(|| {
                (span.kind != SpanKind::Task)
                    .then(|| tasks.last().map(|(id, _)| id.clone()))
                    .flatten()
            })
            .unwrap_or_else(|| root_id.clone());
        if span.kind == SpanKind::Task {
            tasks.push((id.clone(), span.end.map(|e| e.line)));
        }
        // A tool call without a result when the session ended is not a failure of its
        // own (the session's status says what went wrong); a failed tool is.
        let (code, message) = match (span.kind, span.end.is_some(), span.failed) {
            (SpanKind::Tool, _, true) => {
                (StatusCode::Error, "the tool reported an error".to_owned())
            }
            (SpanKind::Tool, _, false) | (_, true, _) => (StatusCode::Unset, String::new()),
            // Still running when the watch stopped.
            _ if open => (StatusCode::Unset, String::new()),
            (_, false, _) => (
                StatusCode::Error,
                format!("{} never completed", span.kind.word()),
            ),
        };
        spans.push(Span {
            trace_id: trace.clone(),
            span_id: id,
            parent_span_id,
            name: clean(name),
            kind: Kind::Internal as i32,
            start_time_unix_nano: nanos(t, span.start),
            end_time_unix_nano: nanos(t, span_end).max(nanos(t, span.start)),
            attributes,
            status: Some(Status {
                code: code as i32,
                message,
            }),
            ..Span::default()
        });
    }
    spans
}

/// A session's findings as OTLP log records (event `quant_session.finding`), each in the
/// session's trace and on its root span, dated where it happened.
pub fn session_logs(file: &str, t: &Timeline, session: &SessionSpan) -> Vec<LogRecord> {
    let own = trace_id(file, session);
    let parent = PARENT.get();
    let trace = parent.map_or_else(|| own.clone(), |(trace, _)| trace.clone());
    let root_id = span_id(&own, "session", &session.id, session.start.line);
    let dating = Dating::of(file, t, session);
    let observed = u64::try_from(crate::timeline::now_micros())
        .unwrap_or(0)
        .saturating_mul(1000);
    session
        .marks
        .iter()
        .map(|m| {
            let (number, text) = match m.severity {
                crate::rule::Severity::Error => (SeverityNumber::Error, "ERROR"),
                crate::rule::Severity::Warning => (SeverityNumber::Warn, "WARN"),
            };
            LogRecord {
                time_unix_nano: dating.nanos(t, m.at),
                observed_time_unix_nano: observed,
                severity_number: number as i32,
                severity_text: text.to_owned(),
                body: Some(AnyValue {
                    value: Some(Value::StringValue(clean(m.message.clone()))),
                }),
                attributes: vec![
                    s("quant_session.rule", m.rule.id()),
                    s("quant_session.severity", m.severity.as_str()),
                    int("quant_session.line", m.at.line),
                    s("quant_session.session.id", session.id.clone()),
                    s("quant_session.input", file),
                ],
                trace_id: trace.clone(),
                span_id: root_id.clone(),
                event_name: "quant_session.finding".to_owned(),
                ..LogRecord::default()
            }
        })
        .collect()
}

/// The GenAI conventions' `gen_ai.provider.name` of a model, when its name tells it.
fn provider_of(model: &str) -> Option<&'static str> {
    let m = model.to_ascii_lowercase();
    if m.starts_with("claude") {
        Some("anthropic")
    } else if m.starts_with("gemini") {
        Some("gcp.gemini")
    } else if m.starts_with("gpt")
        || m.starts_with("codex")
        || m.starts_with("o1")
        || m.starts_with("o3")
        || m.starts_with("o4")
    {
        Some("openai")
    } else {
        None
    }
}

/// The resource of one input: every session's trace.
pub fn resource_spans(file: &str, t: &Timeline) -> ResourceSpans {
    let spans = t
        .sessions
        .iter()
        .flat_map(|session| session_spans(file, t, session))
        .collect();
    resource_with(file, t, spans)
}

/// The resource of an input holding `spans`; it says what the input's timeline left
/// out, when it did.
fn resource_with(file: &str, t: &Timeline, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(resource(file, t)),
        scope_spans: vec![ScopeSpans {
            scope: Some(scope()),
            spans,
            ..ScopeSpans::default()
        }],
        ..ResourceSpans::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "quant-session".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..InstrumentationScope::default()
    }
}

/// An input as an OTLP resource: the service, the input, and what its timeline left out.
fn resource(file: &str, t: &Timeline) -> Resource {
    // `OTEL_SERVICE_NAME`, else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, as the
    // SDKs read them; a key given twice there counts once (its last value).
    let mut extra: Vec<(String, String)> = Vec::new();
    if let Ok(text) = std::env::var("OTEL_RESOURCE_ATTRIBUTES") {
        for (k, v) in super::otlp_export::key_values(&text) {
            extra.retain(|(seen, _)| *seen != k);
            extra.push((k, v));
        }
    }
    let service = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| {
            extra
                .iter()
                .find(|(k, v)| k == "service.name" && !v.trim().is_empty())
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| "quant-session".to_owned());
    let mut attributes = vec![s("service.name", service), s("quant_session.input", file)];
    for (k, v) in extra {
        if k != "service.name" && !k.starts_with("quant_session.") {
            attributes.push(s(&k, v));
        }
    }
    let left_out = t.left_out();
    if let Some(sentence) = left_out.sentence() {
        attributes.push(int("quant_session.sessions_dropped", left_out.sessions));
        attributes.push(int(
            "quant_session.spans_left_out",
            left_out.spans_seen - left_out.spans_kept,
        ));
        attributes.push(int(
            "quant_session.findings_left_out",
            left_out.marks_seen - left_out.marks_kept,
        ));
        attributes.push(s("quant_session.left_out", sentence));
    }
    Resource {
        attributes,
        ..Resource::default()
    }
}

/// The OTLP/JSON Lines file report.
pub struct Otlp<W> {
    out: W,
    /// Lines written: a run that wrote none ends with an empty request.
    lines: u64,
    /// What the file has drawn so far in the run, against
    /// [`MAX_RUN_ITEMS`](crate::timeline::MAX_RUN_ITEMS).
    cap: RunCap,
}

impl<W: Write> Otlp<W> {
    pub fn new(out: W) -> Self {
        Otlp {
            out,
            lines: 0,
            cap: RunCap::default(),
        }
    }

    /// One request, on one line.
    fn line(&mut self, resource: ResourceSpans) -> io::Result<()> {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![resource],
        };
        crate::report::json_text::to_writer(&mut self.out, &request)?;
        self.out.write_all(b"\n")?;
        self.lines += 1;
        Ok(())
    }
}

impl<W: Write> Otlp<W> {
    fn end_file(&mut self, summary: &FileSummary<'_>) -> io::Result<()> {
        let Some(t) = summary.timeline else {
            return Ok(());
        };
        if t.sessions.is_empty() {
            return self.line(resource_with(summary.file, t, Vec::new()));
        }
        for session in &t.sessions {
            let spans = session_spans_capped(summary.file, t, session, &mut self.cap);
            self.line(resource_with(summary.file, t, spans))?;
        }
        Ok(())
    }

    fn end_run(&mut self, _files: usize, _all: Totals) -> io::Result<()> {
        if self.lines == 0 {
            self.line_empty()?;
        }
        self.out.flush()
    }
}

impl<W: Write> Sink for Otlp<W> {
    type Error = io::Error;

    fn push(&mut self, _input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::InputEnd(summary) => self.end_file(summary)?,
            Item::RunEnd { inputs, totals } => self.end_run(inputs, totals)?,
            // Findings come with the timeline, drawn where they happened.
            Item::Finding(_)
            | Item::Followed
            | Item::Event(_)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..)
            | Item::Unreadable(_) => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

impl<W: Write> Otlp<W> {
    /// A request without any resource: a run that drew nothing still leaves a valid file.
    fn line_empty(&mut self) -> io::Result<()> {
        self.out.write_all(b"{\"resourceSpans\":[]}\n")?;
        self.lines += 1;
        Ok(())
    }
}

/// `--otlp` and `--otlp-endpoint URL`: the same traces exported to an OTLP/HTTP
/// collector (see [`super::otlp_export`]), each session as it ends in live modes (pipe,
/// `run`, `watch`), each input as it ends in file mode; a session is sent once. What
/// could not be sent is said when the run ends.
pub struct OtlpPost {
    exporter: super::otlp_export::Exporter,
    /// Findings as log records, to the logs endpoint (unless `OTEL_LOGS_EXPORTER=none`).
    logs: Option<super::otlp_export::Exporter>,
    /// Sessions already sent (their trace ids).
    sent: std::collections::HashSet<Vec<u8>>,
}

impl OtlpPost {
    pub fn new(
        config: super::otlp_export::Config,
        logs: Option<super::otlp_export::Config>,
    ) -> Self {
        OtlpPost {
            exporter: super::otlp_export::Exporter::start(config),
            logs: logs.map(super::otlp_export::Exporter::start),
            sent: std::collections::HashSet::new(),
        }
    }

    /// Queues the sessions of `t` not sent yet; `wait`: see [`Exporter::export`].
    fn send(&mut self, file: &str, t: &Timeline, wait: bool) -> io::Result<()> {
        let fresh: Vec<SessionSpan> = t
            .sessions
            .iter()
            .filter(|s| !self.sent.contains(&trace_id(file, s)))
            .cloned()
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let part = Timeline {
            sessions: fresh,
            loose: Vec::new(),
            ..t.clone()
        };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![resource_spans(file, &part)],
        };
        // Queued, not sent here: the pipeline never waits for the collector.
        self.exporter.export(&request, wait)?;
        if let Some(logs) = &mut self.logs {
            let log_records: Vec<LogRecord> = part
                .sessions
                .iter()
                .flat_map(|session| session_logs(file, &part, session))
                .collect();
            if !log_records.is_empty() {
                logs.export(
                    &ExportLogsServiceRequest {
                        resource_logs: vec![ResourceLogs {
                            resource: Some(resource(file, &part)),
                            scope_logs: vec![ScopeLogs {
                                scope: Some(scope()),
                                log_records,
                                ..ScopeLogs::default()
                            }],
                            ..ResourceLogs::default()
                        }],
                    },
                    wait,
                )?;
            }
        }
        for s in &part.sessions {
            self.sent.insert(trace_id(file, s));
        }
        Ok(())
    }
}

impl OtlpPost {
    fn session_drawn(&mut self, file: &str, session: &SessionSpan, axis: Axis) -> io::Result<()> {
        let one = Timeline {
            axis,
            sessions: vec![session.clone()],
            loose: Vec::new(),
            lines: 0,
            dropped_sessions: 0,
            dropped_loose: 0,
            agent_run: None,
            first_clock: None,
        };
        self.send(file, &one, false)
    }

    fn end_file(&mut self, summary: &FileSummary<'_>) -> io::Result<()> {
        match summary.timeline {
            Some(t) => self.send(summary.file, t, true),
            None => Ok(()),
        }
    }
}

impl Sink for OtlpPost {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::SessionDrawn(session, axis) => self.session_drawn(input, session, axis)?,
            Item::InputEnd(summary) => self.end_file(summary)?,
            // The run ends: what is queued is sent, what could not be is said.
            // The findings as log records are a copy (they are on the spans as events):
            // what could not be sent of them is a note, and no failure.
            Item::RunEnd { .. } => {
                if let Some(logs) = &mut self.logs
                    && let Err(e) = logs.finish()
                {
                    crate::error::note(&format!(
                        "note: sending the findings as OTLP log records to {}: {e} (they are on the spans as events; OTEL_LOGS_EXPORTER=none sends none)",
                        logs.url()
                    ));
                }
                self.exporter.finish()?;
            }
            // Findings come with the timeline, drawn where they happened.
            Item::Finding(_)
            | Item::Followed
            | Item::Event(_)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::SessionEnd(_)
            | Item::Unreadable(_) => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}
