//! `html`: one self-contained page (SPEC §9), the run's replay. No network, no external
//! script, style or font: inline CSS and inline SVG, and a Content-Security-Policy that
//! lets only the page's own script run (by its sha256), so a transcript that carries
//! `<script>` cannot run it. Everything taken from a transcript is escaped twice over:
//! control bytes shown as `\x1b`, then HTML-escaped.
//!
//! The page opens with the run's totals (inputs, sessions, errors, warnings, usage)
//! and an index of the inputs with their verdicts, failed ones first, each a link to
//! its part. Per input: the summary, the post-mortem verdict, and per session its
//! timeline (labelled bars, axis ticks in the input's clock, a legend) beside its
//! replay (the worker's messages, its tool calls with their inputs, their results
//! folded, or the lines of a plain transcript with the markers marked); then the
//! findings table. Each finding links to its line in the replay, and each line back
//! to its findings. `--redact` replaces the texts with their lengths.
//!
//! The small inline script adds search and keys (`/`, `j`, `k`, `o`); without it the
//! page reads the same (the search box stays hidden).
//!
//! Written as the inputs end, into a temporary file; at the run's end the page is
//! assembled: head, totals and index (known only then), the inputs' parts copied.
//! Bounded (SPEC §6): the timeline keeps at most its caps per input, the page draws at
//! most [`MAX_RUN_ITEMS`] spans and findings in a run and at most
//! [`crate::timeline::MAX_LANES`] rows of
//! one kind of span per session, the replay keeps what [`replay`] says, the index at
//! most [`MAX_INDEX`] rows. Whatever is left out is said on the page.

mod index;
mod replay;
mod script;
mod style;
mod svg;

use std::fmt::Write as _;
use std::io::{self, BufWriter, Seek, Write};

use super::{FileSummary, Totals};
use crate::replay::{MAX_ENTRIES, MAX_KEPT, MAX_PAGE, Replay};
use crate::rule::Severity;
use crate::sink::{Flow, Item, Sink};
use crate::state::Status;
use crate::timeline::{Axis, MAX_RUN_ITEMS, Mark, RunCap};
pub use index::MAX_INDEX;
use index::{Row, Verdict};
use replay::{Render, size};

/// The HTML report: one page, assembled at the run's end.
pub struct Html<W> {
    out: W,
    /// `--redact`.
    redact: bool,
    /// What the page has drawn so far in the run, against [`MAX_RUN_ITEMS`].
    cap: RunCap,
    /// The inputs' parts, as they end.
    body: Option<BufWriter<std::fs::File>>,
    index: Vec<Row>,
    /// Inputs past the index's cap.
    unindexed: u64,
    /// Usage of every input, as the CLIs reported it.
    usage: Option<crate::usage::Usage>,
    /// Bytes of replay written in the run, and entries not written past that cap.
    written: usize,
    unwritten: u64,
    inputs: usize,
    /// Inputs that could not be read (whole or in part), and why; those past
    /// [`MAX_TROUBLE`] counted.
    trouble: Vec<(String, String)>,
    more_trouble: u64,
    /// Findings rows written in the run, against [`MAX_ROWS`]; those past it counted.
    rows: usize,
    unrowed: u64,
}

/// Inputs named as unreadable on the page.
const MAX_TROUBLE: usize = 1_000;
/// Findings rows a page holds (each quotes its line): the rest are counted and said.
const MAX_ROWS: usize = 5_000;

impl<W: Write> Html<W> {
    /// The report on `out`; `redact`: texts from the transcripts replaced by their
    /// lengths.
    pub fn new(out: W, redact: bool) -> Self {
        Html {
            out,
            redact,
            cap: RunCap::default(),
            body: None,
            index: Vec::new(),
            unindexed: 0,
            usage: None,
            written: 0,
            unwritten: 0,
            inputs: 0,
            trouble: Vec::new(),
            more_trouble: 0,
            rows: 0,
            unrowed: 0,
        }
    }

    fn body(&mut self) -> io::Result<&mut BufWriter<std::fs::File>> {
        if self.body.is_none() {
            self.body = Some(BufWriter::new(tempfile::tempfile()?));
        }
        // Set just above.
        self.body
            .as_mut()
            .ok_or_else(|| io::Error::other("no body"))
    }
}

/// Text from a transcript, made safe: control bytes escaped, then HTML-escaped.
fn text(s: &str) -> String {
    crate::sanitize::markup(s)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    crate::finding::plural(n, one, many)
}

impl<W: Write> Html<W> {
    fn input(&mut self, summary: &FileSummary<'_>) -> io::Result<()> {
        let anchor = format!("i{}", self.inputs);
        self.inputs += 1;
        let none = Replay::default();
        let replay = summary.replay.unwrap_or(&none);
        let timeline = summary.timeline;
        let t = summary.totals;
        let cause = summary
            .worker_exit
            .map(str::to_owned)
            .or_else(|| summary.worker.map(|w| w.cause().to_string()));
        if let Some(usage) = summary.worker.and_then(|w| w.usage.as_ref()) {
            self.usage.get_or_insert_default().merge(usage);
        }
        let verdict = Verdict::of(t);
        if self.index.len() < MAX_INDEX {
            self.index.push(Row {
                anchor: anchor.clone(),
                name: text(summary.file),
                totals: t,
                verdict,
                worker: cause.as_deref().map(text),
            });
        } else {
            self.unindexed += 1;
        }

        let mut out = String::new();
        let _ = writeln!(
            out,
            "<section class=\"input\" id=\"{anchor}\">\n<h2>{}</h2>",
            text(summary.file)
        );
        let _ = writeln!(
            out,
            r##"<p class="summary">{} · <span class="{}">{}</span> · <span class="{}">{}</span> · <a href="#index">index</a></p>"##,
            plural(t.sessions, "session", "sessions"),
            if t.errors > 0 { "error" } else { "ok" },
            plural(t.errors, "error", "errors"),
            if t.warnings > 0 { "warning" } else { "ok" },
            plural(t.warnings, "warning", "warnings"),
        );
        // The post-mortem verdict: how the last session and the worker ended.
        let last = timeline.and_then(|tl| tl.sessions.last());
        let verdict = match (last, last.and_then(|s| s.status)) {
            (None, _) => "no session started".to_owned(),
            (Some(s), status) if s.agent_run => format!(
                "no session started; the CLI's run {}",
                if status == Some(Status::Crashed) {
                    "ended without its final record"
                } else {
                    "is drawn"
                }
            ),
            (_, Some(Status::Complete)) => "the last session completed".to_owned(),
            (_, None) => "the last session was still open when the watch stopped".to_owned(),
            (Some(s), Some(Status::Crashed)) => format!(
                "the last session crashed (its last line: {})",
                s.end.map_or(0, |e| e.line)
            ),
        };
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
        let Some(tl) = timeline else {
            out.push_str("</section>\n");
            return self.body()?.write_all(out.as_bytes());
        };
        let axis = match tl.axis {
            Axis::Clock => "Time axis: the input's own timestamps.",
            Axis::Lines => "Time axis: line numbers (the input carries no timestamps).",
        };
        let _ = writeln!(out, r#"<p class="axis">{axis}</p>"#);
        if let Some(note) = tl.left_out().sentence() {
            let _ = writeln!(out, r#"<p class="warning">{}</p>"#, text(&note));
        }
        if self.redact {
            out.push_str("<p class=\"note\">Redacted: messages, tool inputs, results and lines are shown by their length only.</p>\n");
        }

        // What the run's cap lets through: spans and findings per session.
        let before = self.cap.left_out;
        let loose = self.cap.take(tl.loose.len());
        let mut marks: Vec<&Mark> = tl.loose[..loose].iter().collect();
        let mut drawn: Vec<(usize, usize, u64, u64)> = Vec::with_capacity(tl.sessions.len());
        for s in &tl.sessions {
            let at = self.cap.left_out;
            let spans = self.cap.take(s.spans.len());
            let between = self.cap.left_out;
            let shown = self.cap.take(s.marks.len());
            marks.extend(&s.marks[..shown]);
            let spans_out = s.dropped - s.dropped_marks + (between - at);
            let marks_out = s.dropped_marks + (self.cap.left_out - between);
            drawn.push((spans, shown, spans_out, marks_out));
        }
        marks.sort_by_key(|m| m.at.line);
        let findings: Vec<(u64, usize, &'static str)> = marks
            .iter()
            .enumerate()
            .map(|(n, m)| (m.at.line, n, class(m.severity)))
            .collect();

        // The replay, cut in parts: before the first session, then each session's
        // (a session's part runs to the next session's start).
        let render = Render {
            prefix: &anchor,
            redact: self.redact,
            findings: &findings,
        };
        let starts: Vec<usize> = tl
            .sessions
            .iter()
            .map(|s| replay.entries.partition_point(|e| e.line < s.start.line))
            .collect();
        let mut parts: Vec<String> = Vec::with_capacity(starts.len() + 1);
        let bounds = std::iter::once(0)
            .chain(starts.iter().copied())
            .chain(std::iter::once(replay.entries.len()))
            .collect::<Vec<_>>();
        let mut unwritten_here = 0;
        for w in bounds.windows(2) {
            let mut part = String::new();
            if w[1] > w[0] {
                render.entries(
                    replay,
                    w[0]..w[1],
                    &mut self.written,
                    &mut unwritten_here,
                    &mut part,
                );
            }
            parts.push(part);
        }
        self.unwritten += unwritten_here;
        // Entries are written in order: those written are the first ones.
        let shown = replay.entries.len() - unwritten_here as usize;
        let link = |line: u64| replay.target(line, shown).map(|l| format!("{anchor}-L{l}"));

        let mut parts = parts.into_iter();
        if let Some(first) = parts.next().filter(|p| !p.is_empty()) {
            out.push_str("<h3>Before the first session</h3>\n");
            out.push_str(&first);
        }
        self.body()?.write_all(out.as_bytes())?;
        out.clear();
        for ((i, s), part) in tl.sessions.iter().enumerate().zip(parts) {
            let (spans, shown_marks, spans_out, marks_out) = drawn[i];
            // Still open when a watch stopped: not judged, and no crash.
            let (status, class) = match s.status {
                Some(Status::Complete) => ("complete", "ok"),
                Some(Status::Crashed) => ("crashed", "error"),
                None => ("open", "warning"),
            };
            let title = if s.agent_run {
                format!("{} run {}", s.worker_type, s.id)
            } else {
                format!("session {}", s.id)
            };
            let _ = writeln!(
                out,
                "<h3 id=\"{anchor}-s{i}\">{} <span class=\"{class}\">({status})</span></h3>",
                text(title.trim_end()),
            );
            out.push_str("<div class=\"pair\"><div class=\"tl\">");
            svg::session(tl, s, spans, shown_marks, &link, self.redact, &mut out);
            out.push_str(svg::LEGEND);
            if spans_out + marks_out > 0 {
                let _ = writeln!(
                    out,
                    "<p class=\"axis\">{spans_out} more spans and {marks_out} more findings of this session are not drawn.</p>"
                );
            }
            out.push_str("</div><div class=\"rp\">");
            if part.is_empty() {
                out.push_str("<p class=\"note\">Nothing of this session is in the replay.</p>");
            } else {
                out.push_str(&part);
            }
            out.push_str("</div></div>\n");
            // Each session's part leaves as soon as it is drawn.
            self.body()?.write_all(out.as_bytes())?;
            out.clear();
        }
        if replay.left_out > 0 {
            let _ = writeln!(
                out,
                r#"<p class="warning">The replay of this input is cut: {} more (of {}) left out past its cap of {} entries and {} per input.</p>"#,
                plural(replay.left_out, "entry", "entries"),
                size(replay.left_out_bytes),
                MAX_ENTRIES,
                size(MAX_KEPT as u64),
            );
        }
        if unwritten_here > 0 {
            let _ = writeln!(
                out,
                r#"<p class="warning">{} of this input's replay not written: the page's replay is capped at {} per run.</p>"#,
                plural(unwritten_here, "entry", "entries"),
                size(MAX_PAGE as u64),
            );
        }
        if self.cap.left_out > before {
            let _ = writeln!(
                out,
                r#"<p class="warning">{} spans and findings of this input left out of this page past its cap of {MAX_RUN_ITEMS} per run.</p>"#,
                self.cap.left_out - before
            );
        }
        out.push_str("<h3>Findings</h3>\n");
        let room = MAX_ROWS.saturating_sub(self.rows).min(marks.len());
        self.rows += room;
        let past_rows = (marks.len() - room) as u64;
        self.unrowed += past_rows;
        // What the page holds fewer of than the input has: said, never "No findings".
        let total = t.errors + t.warnings;
        findings_table(&anchor, &marks[..room], &link, self.redact, total, &mut out);
        let here = room as u64;
        if here < total {
            let _ = writeln!(
                out,
                r#"<p class="warning">{} of this input's {total} findings not listed here: past this page's caps ({MAX_ROWS} rows, {MAX_RUN_ITEMS} drawn items per run); every one is in the other reports.</p>"#,
                total - here,
            );
        }
        out.push_str("</section>\n");
        self.body()?.write_all(out.as_bytes())
    }

    /// The run ended: the page, from its head to its end.
    fn end_run(&mut self, files: usize, all: Totals) -> io::Result<()> {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '{}'">
<title>quant-session report</title>
{}</head>
<body>
<h1>quant-session report</h1>
"#,
            script::hash(),
            style::STYLE
        );
        index::totals(&self.index, self.usage.as_ref(), files, all, &mut out);
        // A run that was cut short or could not read an input is no clean bill, whatever
        // the counts say.
        if let Some(sig) = crate::interrupt::signal() {
            let _ = writeln!(
                out,
                r#"<p class="error">The run was interrupted by {}: an input being read then is cut or missing, and those after it were not read.</p>"#,
                crate::interrupt::name(sig)
            );
        }
        if !self.trouble.is_empty() {
            out.push_str("<div class=\"error\"><p>Not read in full (exit status 2):</p><ul>\n");
            for (input, why) in &self.trouble {
                let _ = writeln!(out, "<li>{}: {}</li>", text(input), text(why));
            }
            if self.more_trouble > 0 {
                let _ = writeln!(out, "<li>and {} more</li>", self.more_trouble);
            }
            out.push_str("</ul></div>\n");
        }
        index::index(&mut self.index, self.unindexed, &mut out);
        out.push_str(script::TOOLS);
        self.out.write_all(out.as_bytes())?;
        if let Some(body) = self.body.take() {
            let mut file = body.into_inner().map_err(|e| e.into_error())?;
            file.rewind()?;
            io::copy(&mut file, &mut self.out)?;
        }
        let mut out = String::new();
        if self.unrowed > 0 {
            let _ = writeln!(
                out,
                r#"<p class="warning">{} not listed past the page's cap of {MAX_ROWS} rows.</p>"#,
                plural(self.unrowed, "finding", "findings")
            );
        }
        if self.unwritten > 0 {
            let _ = writeln!(
                out,
                r#"<p class="warning">{} of the run's replay not written past the page's cap of {}.</p>"#,
                plural(self.unwritten, "entry", "entries"),
                size(MAX_PAGE as u64)
            );
        }
        let _ = write!(
            out,
            "<footer>{}, {} · quant-session {}</footer>\n<script>{}</script>\n</body>\n</html>\n",
            plural(files as u64, "input", "inputs"),
            crate::report::human::describe(all),
            env!("CARGO_PKG_VERSION"),
            script::SCRIPT
        );
        self.out.write_all(out.as_bytes())?;
        self.out.flush()
    }
}

fn class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The findings, each with its line linked to the replay (where it is shown).
/// A finding's message as the page shows it: redacted, the rule's summary (a message
/// quotes the transcript: a payload, an id).
pub(crate) fn message(m: &Mark, redact: bool) -> &str {
    if redact { m.rule.summary() } else { &m.message }
}

fn findings_table(
    anchor: &str,
    marks: &[&Mark],
    link: svg::LinkOf<'_>,
    redact: bool,
    total: u64,
    out: &mut String,
) {
    if marks.is_empty() {
        if total == 0 {
            out.push_str("<p class=\"ok\">No findings.</p>\n");
        }
        return;
    }
    out.push_str("<div class=\"table\"><table><thead><tr><th>#</th><th>rule</th><th>severity</th><th>line</th><th>message</th><th>the line</th></tr></thead><tbody>\n");
    for (n, m) in marks.iter().enumerate() {
        let line = match link(m.at.line) {
            Some(to) => format!(r##"<a class="to-line" href="#{to}">{}</a>"##, m.at.line),
            None => m.at.line.to_string(),
        };
        let quote = if redact {
            format!(
                "<span class=\"redacted\">[{} redacted]</span>",
                size(m.quote.len() as u64)
            )
        } else {
            text(&m.quote)
        };
        let _ = writeln!(
            out,
            r#"<tr class="finding" id="{anchor}-f{n}"><td>{}</td><td>{}</td><td class="{}">{}</td><td>{line}</td><td>{}</td><td class="q">{quote}</td></tr>"#,
            n + 1,
            m.rule,
            class(m.severity),
            m.severity.as_str(),
            text(message(m, redact)),
        );
    }
    out.push_str("</tbody></table></div>\n");
}

impl<W: Write> Sink for Html<W> {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::InputEnd(summary) => self.input(summary)?,
            Item::RunEnd { inputs, totals } => self.end_run(inputs, totals)?,
            Item::Unreadable(why) => {
                if self.trouble.len() < MAX_TROUBLE {
                    self.trouble.push((input.to_owned(), why.to_owned()));
                } else {
                    self.more_trouble += 1;
                }
            }
            // Findings come with the timeline, drawn where they happened; what the
            // input said comes with its end (the tally keeps it).
            Item::Finding(_)
            | Item::Event(_)
            | Item::Followed
            | Item::Settled(_)
            | Item::Note(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..) => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}
