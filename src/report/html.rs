//! `html`: one self-contained page (SPEC §9). No network, no script, no external style
//! or font: inline CSS and inline SVG, and a Content-Security-Policy that forbids any
//! script, so a transcript that carries `<script>` cannot run it. Per input: the
//! summary, the post-mortem verdict, a timeline of each session (tasks, subagents and
//! the distillation as bars, findings marked where they happened, their message on
//! hover), and the findings table with the quoted line. Everything taken from a
//! transcript is escaped twice over: control bytes shown as `\x1b`, then HTML-escaped.
//! Readable on a narrow screen (the SVG scales, the table scrolls) and printable.
//!
//! Written as a stream: the head at the first input, each input's section when it ends.
//!
//! Bounded (SPEC §6): the timeline keeps at most its caps per input, the page draws at
//! most [`MAX_RUN_ITEMS`] spans and findings in a run, and at most [`MAX_LANES`] rows of
//! one kind of span per session (the bars past them share an overflow row that counts
//! them); the lanes are laid out in O(n log n). Whatever is left out is said on the page,
//! in a note under the input's heading and under each session concerned.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{FileSummary, Totals};
use crate::rule::Severity;
use crate::sink::{Flow, Item, Sink};
use crate::state::Status;
use crate::timeline::{
    Axis, MAX_LANES, MAX_RUN_ITEMS, Point, RunCap, SessionSpan, SpanKind, Timeline, lanes,
};

/// The HTML report: one page, written as the inputs end.
pub struct Html<W> {
    out: W,
    started: bool,
    /// What the page has drawn so far in the run, against [`MAX_RUN_ITEMS`].
    cap: RunCap,
}

impl<W: Write> Html<W> {
    pub fn new(out: W) -> Self {
        Html {
            out,
            started: false,
            cap: RunCap::default(),
        }
    }

    fn begin(&mut self) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        self.out.write_all(HEAD.as_bytes())
    }
}

const HEAD: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>quant-session report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#1c1e21;background:#fff}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:2rem 0 .3rem;word-break:break-all}
h3{font-size:.95rem;margin:1.2rem 0 .3rem;word-break:break-all}
.summary,.verdict{margin:.2rem 0}
.axis{color:#666;font-size:.85rem}
svg.timeline{width:100%;height:auto;display:block;border:1px solid #ddd;border-radius:4px;background:#fafafa}
svg text{font:11px system-ui,sans-serif;fill:#333}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.85rem}
th,td{border-bottom:1px solid #e3e3e3;padding:.25rem .4rem;text-align:left;vertical-align:top}
td.q{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;max-width:28rem}
.error{color:#b3261e;font-weight:600}
.warning{color:#8a5a00;font-weight:600}
.ok{color:#1b7f3b;font-weight:600}
footer{color:#777;font-size:.8rem;margin-top:2rem}
@media print{body{max-width:none}svg.timeline{break-inside:avoid}.table{overflow:visible}}
@media (max-width:600px){body{padding:.5rem}td.q{max-width:12rem}}
</style>
</head>
<body>
<h1>quant-session report</h1>
"#;

/// Text from a transcript, made safe: control bytes escaped, then HTML-escaped.
fn text(s: &str) -> String {
    crate::sanitize::markup(s)
}

/// How a point reads on the axis.
fn label(t: &Timeline, p: Point) -> String {
    match (t.axis, p.micros) {
        (Axis::Clock, Some(m)) => chrono::DateTime::from_timestamp_micros(m)
            .map(|d| d.format("%H:%M:%S").to_string())
            .unwrap_or_default(),
        _ => format!("line {}", p.line),
    }
}

/// Width of the drawing, in SVG units.
const W: f64 = 1000.0;
const LEFT: f64 = 130.0;
const ROW: f64 = 18.0;

/// A bar: from, to, what it is (for its hover text), its colour.
type Bar = (f64, f64, String, &'static str);

/// Draws a session: its first `spans` spans and its first `marks` findings (what the
/// run's cap lets through).
fn session_svg(t: &Timeline, s: &SessionSpan, spans: usize, marks: usize, out: &mut String) {
    let start = t.at(s.start);
    let end = t.at(s.end.unwrap_or(s.start)).max(start + 1);
    let x = |p: Point| LEFT + (t.at(p) - start) as f64 / (end - start) as f64 * (W - LEFT - 10.0);
    // Rows: the session, then a lane per overlapping span of each kind.
    let mut rows: Vec<(String, Vec<Bar>)> = Vec::new();
    let session_end = s.end.unwrap_or(s.start);
    let bar = |span_start: Point, span_end: Option<Point>| {
        let a = x(span_start);
        let b = x(span_end.unwrap_or(session_end)).max(a + 2.0);
        (a, b)
    };
    let (a, b) = bar(s.start, s.end);
    rows.push((
        "session".into(),
        vec![(a, b, format!("session {}", s.id), "#9aa5b1")],
    ));
    for kind in [
        SpanKind::Distillation,
        SpanKind::Task,
        SpanKind::Subagent,
        SpanKind::Tool,
    ] {
        let color = match kind {
            SpanKind::Task => "#4c8bf5",
            SpanKind::Subagent => "#9c6ade",
            SpanKind::Distillation => "#2a9d8f",
            SpanKind::Tool => "#c9a227",
        };
        let mut bars: Vec<Bar> = Vec::new();
        for span in s.spans[..spans].iter().filter(|sp| sp.kind == kind) {
            let (a, b) = bar(span.start, span.end);
            let what = match (kind, span.end) {
                (SpanKind::Distillation, _) => "distillation".to_owned(),
                (_, Some(e)) => format!(
                    "{} {} (lines {}–{})",
                    kind.word(),
                    span.name,
                    span.start.line,
                    e.line
                ),
                (_, None) => format!(
                    "{} {} (line {}, never completed)",
                    kind.word(),
                    span.name,
                    span.start.line
                ),
            };
            bars.push((a, b, what, color));
        }
        let ends: Vec<(f64, f64)> = bars.iter().map(|&(a, b, _, _)| (a, b)).collect();
        let (lane_of, count) = lanes(&ends, MAX_LANES);
        let mut rows_of_kind: Vec<Vec<Bar>> = vec![Vec::new(); count];
        for (bar, lane) in bars.into_iter().zip(lane_of) {
            rows_of_kind[lane].push(bar);
        }
        for (i, bars) in rows_of_kind.into_iter().enumerate() {
            let name = if i == MAX_LANES {
                format!("+{} overlapping", bars.len())
            } else if i == 0 {
                format!("{}s", kind.word())
            } else {
                String::new()
            };
            rows.push((name, bars));
        }
    }
    let height = (rows.len() as f64 + 1.0) * ROW + 22.0;
    let _ = write!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {W} {height}" role="img" aria-label="timeline of session {}">"#,
        text(&s.id)
    );
    for (i, (name, bars)) in rows.iter().enumerate() {
        let y = 6.0 + i as f64 * ROW;
        let _ = write!(out, r#"<text x="4" y="{}">{}</text>"#, y + 11.0, text(name));
        for (a, b, what, color) in bars {
            let _ = write!(
                out,
                r#"<rect x="{a:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" rx="2" fill="{color}"><title>{}</title></rect>"#,
                b - a,
                ROW - 5.0,
                text(what)
            );
        }
    }
    // Findings where they happened, on a row of their own.
    let y = 6.0 + rows.len() as f64 * ROW + 6.0;
    let _ = write!(out, r#"<text x="4" y="{}">findings</text>"#, y + 4.0);
    for m in &s.marks[..marks] {
        let color = match m.severity {
            Severity::Error => "#b3261e",
            Severity::Warning => "#d08a00",
        };
        let _ = write!(
            out,
            r#"<circle cx="{:.1}" cy="{y:.1}" r="5" fill="{color}"><title>line {}: {}: {}</title></circle>"#,
            x(m.at),
            m.at.line,
            m.rule,
            text(&m.message)
        );
    }
    let _ = write!(
        out,
        r#"<text x="{LEFT}" y="{:.1}">{}</text><text x="{}" y="{:.1}" text-anchor="end">{}</text></svg>"#,
        height - 3.0,
        text(&label(t, s.start)),
        W - 10.0,
        height - 3.0,
        text(&label(t, session_end))
    );
}

fn findings_table(marks: &[&crate::timeline::Mark], out: &mut String) {
    if marks.is_empty() {
        out.push_str("<p class=\"ok\">No findings.</p>\n");
        return;
    }
    out.push_str("<div class=\"table\"><table><thead><tr><th>rule</th><th>severity</th><th>line</th><th>message</th><th>the line</th></tr></thead><tbody>\n");
    for m in marks {
        let class = match m.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(
            out,
            r#"<tr><td>{}</td><td class="{class}">{}</td><td>{}</td><td>{}</td><td class="q">{}</td></tr>"#,
            m.rule,
            m.severity.as_str(),
            m.at.line,
            text(&m.message),
            text(&m.quote)
        );
    }
    out.push_str("</tbody></table></div>\n");
}

impl<W: Write> Html<W> {
    fn input(&mut self, summary: &FileSummary<'_>) -> io::Result<()> {
        let mut out = String::new();
        let _ = writeln!(out, "<section>\n<h2>{}</h2>", text(summary.file));
        let t = summary.totals;
        let _ = writeln!(
            out,
            r#"<p class="summary">{} · <span class="{}">{} error{}</span> · <span class="{}">{} warning{}</span></p>"#,
            match t.sessions {
                1 => "1 session".to_owned(),
                n => format!("{n} sessions"),
            },
            if t.errors > 0 { "error" } else { "ok" },
            t.errors,
            if t.errors == 1 { "" } else { "s" },
            if t.warnings > 0 { "warning" } else { "ok" },
            t.warnings,
            if t.warnings == 1 { "" } else { "s" },
        );
        // The post-mortem verdict: how the last session and the worker ended.
        let last = summary.timeline.and_then(|tl| tl.sessions.last());
        let verdict = match last.and_then(|s| s.status) {
            None if last.is_none() => "no session started".to_owned(),
            Some(Status::Complete) => "the last session completed".to_owned(),
            _ => format!(
                "the last session crashed (its last line: {})",
                last.and_then(|s| s.end).map_or(0, |e| e.line)
            ),
        };
        let cause = summary
            .worker_exit
            .map(str::to_owned)
            .or_else(|| summary.worker.map(|w| w.cause().to_string()));
        let _ = writeln!(
            out,
            r#"<p class="verdict">Post-mortem: {}{}.</p>"#,
            text(&verdict),
            cause.map_or(String::new(), |c| format!(
                "; the worker: <b>{}</b>",
                text(&c)
            ))
        );
        if let Some(usage) = summary.worker.and_then(|w| w.usage.as_ref()) {
            let _ = writeln!(
                out,
                r#"<p class="usage">Usage, as the CLI reported it: {}.</p>"#,
                text(&usage.describe())
            );
        }
        if let Some(tl) = summary.timeline {
            let axis = match tl.axis {
                Axis::Clock => "Time axis: the input's own timestamps.".to_owned(),
                Axis::Lines => {
                    "Time axis: line numbers (the input carries no timestamps).".to_owned()
                }
            };
            let _ = writeln!(out, r#"<p class="axis">{axis}</p>"#);
            if let Some(note) = tl.left_out().sentence() {
                let _ = writeln!(out, r#"<p class="warning">{}</p>"#, text(&note));
            }
            let before = self.cap.left_out;
            let loose = self.cap.take(tl.loose.len());
            let mut marks: Vec<&crate::timeline::Mark> = tl.loose[..loose].iter().collect();
            for s in &tl.sessions {
                let status = match s.status {
                    Some(Status::Complete) => "complete",
                    _ => "crashed",
                };
                let _ = writeln!(
                    out,
                    "<h3>session {} <span class=\"{}\">({status})</span></h3>",
                    text(&s.id),
                    if status == "complete" { "ok" } else { "error" }
                );
                let at = self.cap.left_out;
                let spans = self.cap.take(s.spans.len());
                let between = self.cap.left_out;
                let shown = self.cap.take(s.marks.len());
                session_svg(tl, s, spans, shown, &mut out);
                marks.extend(&s.marks[..shown]);
                let spans_out = s.dropped - s.dropped_marks + (between - at);
                let marks_out = s.dropped_marks + (self.cap.left_out - between);
                if spans_out + marks_out > 0 {
                    let _ = writeln!(
                        out,
                        "<p class=\"axis\">{spans_out} more spans and {marks_out} more findings of this session are not drawn.</p>"
                    );
                }
                // Each session's drawing leaves as soon as it is drawn.
                self.out.write_all(out.as_bytes())?;
                out.clear();
            }
            if self.cap.left_out > before {
                let _ = writeln!(
                    out,
                    r#"<p class="warning">{} spans and findings of this input left out of this page past its cap of {MAX_RUN_ITEMS} per run.</p>"#,
                    self.cap.left_out - before
                );
            }
            marks.sort_by_key(|m| m.at.line);
            out.push_str("<h3>Findings</h3>\n");
            findings_table(&marks, &mut out);
        }
        out.push_str("</section>\n");
        self.out.write_all(out.as_bytes())
    }
}

impl<W: Write> Html<W> {
    fn end_file(&mut self, summary: &FileSummary<'_>) -> io::Result<()> {
        self.begin()?;
        self.input(summary)
    }

    fn end_run(&mut self, files: usize, all: Totals) -> io::Result<()> {
        self.begin()?;
        writeln!(
            self.out,
            "<footer>{} input{}, {} · quant-session {}</footer>\n</body>\n</html>",
            files,
            if files == 1 { "" } else { "s" },
            crate::report::human::describe(all),
            env!("CARGO_PKG_VERSION")
        )?;
        self.out.flush()
    }
}

impl<W: Write> Sink for Html<W> {
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
