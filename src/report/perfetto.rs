//! `perfetto`: Chrome Trace Event JSON (SPEC §9), which Perfetto UI
//! (<https://ui.perfetto.dev>) and `chrome://tracing` open. Per input a process, per
//! session a group of tracks: the session and its distillation, its tasks, its
//! subagents (overlapping ones on tracks of their own) and the worker's tool calls, as
//! complete (`X`) events; each finding an instant (`i`) event named by its rule.
//!
//! Times are microseconds of the input's own clock; an input without one is drawn on
//! its line numbers (one line = 1 ms) and its process name says so. Written as a stream:
//! each input's events when it ends.
//!
//! Bounded (SPEC §6): the timeline keeps at most its caps per input, the trace draws at
//! most [`MAX_RUN_ITEMS`] spans and findings in a run, and at most [`MAX_LANES`] tracks of
//! one kind of span per session (the spans past them share an overflow track, whose name
//! counts them). What is left out is said in the trace: an instant event `left out` on a
//! track of that name in the input's process (its `args` count it and say why), each
//! session's `dropped` argument, and `otherData.left_out_past_run_cap`.

use std::io::{self, Write};

use serde::Serialize;

use super::{FileSummary, Totals};
use crate::sink::{Flow, Item, Sink};
use crate::timeline::{
    Axis, MAX_LANES, MAX_RUN_ITEMS, Point, RunCap, SessionSpan, Span, SpanKind, Timeline,
};

/// Microseconds per line on a line axis.
const LINE: i64 = 1000;

/// The Perfetto report: one trace, written as the inputs end.
pub struct Perfetto<W> {
    out: W,
    started: bool,
    first: bool,
    pid: u32,
    /// What the trace has drawn so far in the run, against [`MAX_RUN_ITEMS`].
    cap: RunCap,
}

impl<W: Write> Perfetto<W> {
    pub fn new(out: W) -> Self {
        Perfetto {
            out,
            started: false,
            first: true,
            pid: 0,
            cap: RunCap::default(),
        }
    }

    fn begin(&mut self) -> io::Result<()> {
        if !self.started {
            self.out.write_all(b"{\"traceEvents\":[\n")?;
            self.started = true;
        }
        Ok(())
    }

    fn event(&mut self, e: &TraceEvent<'_>) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        crate::report::json_text::to_writer(&mut self.out, e)
    }
}

#[derive(Serialize)]
struct TraceEvent<'a> {
    name: &'a str,
    ph: &'static str,
    pid: u32,
    tid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    cat: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<i64>,
    /// Instant events: scoped to their thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    args: serde_json::Value,
}

fn meta<'a>(name: &'a str, pid: u32, tid: u32, args: serde_json::Value) -> TraceEvent<'a> {
    TraceEvent {
        name,
        ph: "M",
        pid,
        tid,
        cat: None,
        ts: None,
        dur: None,
        s: None,
        args,
    }
}

/// A finding: an instant event on its track, named by its rule.
fn finding<'a>(
    t: &Timeline,
    mark: &'a crate::timeline::Mark,
    pid: u32,
    tid: u32,
) -> TraceEvent<'a> {
    TraceEvent {
        name: mark.rule.id(),
        ph: "i",
        pid,
        tid,
        cat: Some("finding"),
        ts: Some(ts(t, mark.at)),
        dur: None,
        s: Some("t"),
        args: serde_json::json!({
            "severity": mark.severity.as_str(),
            "message": mark.message,
            "line": mark.at.line,
        }),
    }
}

/// Where `p` is, in trace microseconds.
fn ts(t: &Timeline, p: Point) -> i64 {
    match t.axis {
        Axis::Clock => t.at(p),
        Axis::Lines => p.line as i64 * LINE,
    }
}

/// Spans of a kind given lanes so that overlapping ones never share one, at most
/// [`MAX_LANES`] and an overflow lane: the lane of each span, and how many lanes.
fn lanes(t: &Timeline, session: &SessionSpan, spans: &[&Span]) -> (Vec<usize>, usize) {
    let end_of = |s: &Span| ts(t, s.end.or(session.end).unwrap_or(s.start));
    let bars: Vec<(i64, i64)> = spans
        .iter()
        .map(|s| {
            let start = ts(t, s.start);
            (start, end_of(s).max(start + 1))
        })
        .collect();
    crate::timeline::lanes(&bars, MAX_LANES)
}

impl<W: Write> Perfetto<W> {
    fn input(&mut self, file: &str, t: &Timeline) -> io::Result<()> {
        self.pid += 1;
        let pid = self.pid;
        let process = match t.axis {
            Axis::Clock => file.to_owned(),
            Axis::Lines => format!("{file} (no clock in the input: 1 ms = 1 line)"),
        };
        self.event(&meta(
            "process_name",
            pid,
            0,
            serde_json::json!({ "name": process }),
        ))?;
        let mut tid = 0;
        let before = self.cap.left_out;
        for session in &t.sessions {
            let at = self.cap.left_out;
            let drawn_spans = self.cap.take(session.spans.len());
            let drawn_marks = self.cap.take(session.marks.len());
            let dropped = session.dropped + (self.cap.left_out - at);
            let session_end = session.end.unwrap_or(session.start);
            let mut track = |this: &mut Self, name: String| -> io::Result<u32> {
                tid += 1;
                this.event(&meta(
                    "thread_name",
                    pid,
                    tid,
                    serde_json::json!({ "name": name }),
                ))?;
                this.event(&meta(
                    "thread_sort_index",
                    pid,
                    tid,
                    serde_json::json!({ "sort_index": tid }),
                ))?;
                Ok(tid)
            };
            let main = if session.agent_run {
                let name = format!("{} run {}", session.worker_type, session.id);
                track(self, name.trim_end().to_owned())?
            } else {
                track(self, format!("session {}", session.id))?
            };
            let start = ts(t, session.start);
            let status = match session.status {
                Some(crate::state::Status::Complete) => "complete",
                Some(crate::state::Status::Crashed) => "crashed",
                // Still open when a watch stopped: not judged.
                None => "open",
            };
            let mut args = serde_json::json!({
                "worker_type": session.worker_type,
                "status": status,
                "start_line": session.start.line,
                "end_line": session_end.line,
                "dropped": dropped,
            });
            if let Some(usage) = &session.usage {
                args["usage"] = serde_json::json!(usage);
            }
            self.event(&TraceEvent {
                name: &session.id,
                ph: "X",
                pid,
                tid: main,
                cat: Some("session"),
                ts: Some(start),
                dur: Some((ts(t, session_end) - start).max(0)),
                s: None,
                args,
            })?;
            for kind in [
                SpanKind::Distillation,
                SpanKind::Task,
                SpanKind::Subagent,
                SpanKind::Tool,
            ] {
                let spans: Vec<&Span> = session.spans[..drawn_spans]
                    .iter()
                    .filter(|s| s.kind == kind)
                    .collect();
                if spans.is_empty() {
                    continue;
                }
                let (lane, count) = lanes(t, session, &spans);
                let mut tids = Vec::with_capacity(count);
                for i in 0..count {
                    // The distillation shares the session's track.
                    if kind == SpanKind::Distillation && i == 0 {
                        tids.push(main);
                        continue;
                    }
                    let name = match (kind, count) {
                        _ if i == MAX_LANES => format!(
                            "{}s: +{} overlapping",
                            kind.word(),
                            lane.iter().filter(|&&l| l == MAX_LANES).count()
                        ),
                        (_, 1) => format!("{}s", kind.word()),
                        _ => format!("{}s {}", kind.word(), i + 1),
                    };
                    tids.push(track(self, name)?);
                }
                for (span, lane) in spans.iter().zip(lane) {
                    let start = ts(t, span.start);
                    let end = ts(t, span.end.unwrap_or(session_end));
                    let name = match kind {
                        SpanKind::Distillation => "distillation",
                        _ => &span.name,
                    };
                    self.event(&TraceEvent {
                        name,
                        ph: "X",
                        pid,
                        tid: tids[lane],
                        cat: Some(kind.word()),
                        ts: Some(start),
                        dur: Some((end - start).max(0)),
                        s: None,
                        args: serde_json::json!({
                            "start_line": span.start.line,
                            "end_line": span.end.map(|e| e.line),
                            "completed": span.end.is_some(),
                        }),
                    })?;
                }
            }
            for mark in &session.marks[..drawn_marks] {
                self.event(&finding(t, mark, pid, main))?;
            }
            // The usage the CLI reported, as a counter track of the input.
            for (at, tokens, cost) in &session.usage_samples {
                let mut args = serde_json::json!({ "tokens": tokens });
                if let Some(cost) = cost {
                    args["cost_usd"] = serde_json::json!(cost);
                }
                self.event(&TraceEvent {
                    name: "usage",
                    ph: "C",
                    pid,
                    tid: 0,
                    cat: Some("usage"),
                    ts: Some(ts(t, *at)),
                    dur: None,
                    s: None,
                    args,
                })?;
            }
        }
        if !t.loose.is_empty() {
            tid += 1;
            self.event(&meta(
                "thread_name",
                pid,
                tid,
                serde_json::json!({ "name": "outside any session" }),
            ))?;
            let drawn = self.cap.take(t.loose.len());
            for mark in &t.loose[..drawn] {
                self.event(&finding(t, mark, pid, tid))?;
            }
        }
        let left_out = t.left_out();
        let past_run_cap = self.cap.left_out - before;
        if left_out.any() || past_run_cap > 0 {
            tid += 1;
            self.event(&meta(
                "thread_name",
                pid,
                tid,
                serde_json::json!({ "name": "left out" }),
            ))?;
            let mut why: Vec<String> = left_out.sentence().into_iter().collect();
            if past_run_cap > 0 {
                why.push(format!(
                    "{past_run_cap} spans and findings left out of this trace past its cap of {MAX_RUN_ITEMS} per run."
                ));
            }
            self.event(&TraceEvent {
                name: "left out",
                ph: "i",
                pid,
                tid,
                cat: Some("quant_session"),
                ts: Some(t.sessions.first().map_or(0, |s| ts(t, s.start))),
                dur: None,
                s: Some("t"),
                args: serde_json::json!({
                    "message": why.join(" "),
                    "spans_kept": left_out.spans_kept,
                    "spans_seen": left_out.spans_seen,
                    "findings_kept": left_out.marks_kept,
                    "findings_seen": left_out.marks_seen,
                    "sessions_dropped": left_out.sessions,
                    "left_out_past_run_cap": past_run_cap,
                }),
            })?;
        }
        Ok(())
    }
}

impl<W: Write> Perfetto<W> {
    fn end_file(&mut self, summary: &FileSummary<'_>) -> io::Result<()> {
        self.begin()?;
        if let Some(t) = summary.timeline {
            self.input(summary.file, t)?;
        }
        Ok(())
    }

    fn end_run(&mut self, files: usize, all: Totals) -> io::Result<()> {
        self.begin()?;
        self.out
            .write_all(b"\n],\"displayTimeUnit\":\"ms\",\"otherData\":")?;
        let mut other = serde_json::json!({
            "tool": "quant-session",
            "version": env!("CARGO_PKG_VERSION"),
            "inputs": files,
            "errors": all.errors,
            "warnings": all.warnings,
        });
        if self.cap.left_out > 0 {
            other["left_out_past_run_cap"] = self.cap.left_out.into();
        }
        crate::report::json_text::to_writer(&mut self.out, &other)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

impl<W: Write> Sink for Perfetto<W> {
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
