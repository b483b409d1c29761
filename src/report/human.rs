//! The human report: each finding as a miette graphical diagnostic, showing the lines
//! it points at with their real line numbers.
//!
//! The input is never held, so the source given to miette is a [`Excerpt`]: only the
//! few lines the finding's labels need, escaped for the terminal (SPEC §4), laid out in
//! a small virtual text. Its `read_span` answers with the original line and column
//! numbers, so the report reads as if miette had the whole file.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::{FileSummary, Totals};
use crate::event::LineText;
use crate::finding::{Finding, Label};
use crate::rule::Severity;
use crate::sanitize;
use crate::sink::{Flow, Item, Sink};
use crate::state::{SessionState, Status};

/// Whether the report may use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Color,
}

/// Renders one finding as miette's graphical report.
pub fn render(finding: &Finding, source_name: &str, style: Style) -> String {
    let theme = match style {
        Style::Plain => GraphicalTheme::unicode_nocolor(),
        Style::Color => GraphicalTheme::unicode(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let report = Report::new(finding, source_name);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        // The excerpt always covers every label; fall back to one line if it did not.
        out = format!(
            "{}: {} [{}] at line {}\n",
            finding.severity.as_str(),
            finding.message,
            finding.rule,
            finding.primary.at.line
        );
    }
    out
}

struct Report<'a> {
    finding: &'a Finding,
    excerpt: Excerpt,
    labels: Vec<LabeledSpan>,
}

impl<'a> Report<'a> {
    fn new(finding: &'a Finding, name: &str) -> Self {
        let all: Vec<&Label> = std::iter::once(&finding.primary)
            .chain(&finding.related)
            .collect();
        let excerpt = Excerpt::new(name, all.iter().map(|l| &l.text));
        let labels = all
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let span = excerpt.span(l);
                let text = Some(l.message.to_string()).filter(|m| !m.is_empty());
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, span)
                } else {
                    LabeledSpan::new_with_span(text, span)
                }
            })
            .collect();
        Report {
            finding,
            excerpt,
            labels,
        }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for Report<'_> {}

impl Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.rule.id()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.finding.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.excerpt)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// How many bytes of a line a report shows.
const SHOWN: usize = 400;

/// One input line in the excerpt.
struct Snip {
    text: Arc<LineText>,
    /// Where its escaped text starts in the virtual text.
    start: usize,
    /// Escaped length.
    len: usize,
    /// For each raw byte, its offset in the escaped text (plus the end).
    map: Vec<usize>,
}

/// The lines a finding needs, escaped, one per virtual line: the primary label's line
/// and those after it in line order, then those before it.
struct Excerpt {
    name: String,
    text: String,
    snips: Vec<Snip>,
}

impl Excerpt {
    fn new<'t>(name: &str, lines: impl Iterator<Item = &'t Arc<LineText>>) -> Self {
        let mut lines: Vec<&Arc<LineText>> = lines.collect();
        // The report leads with the primary label's line (the first given): it and the
        // lines after it come first, in order, then the related lines before it (the
        // session's start). The offset identifies a line: text inside one stream-json
        // record shares its line number.
        let primary = lines.first().map_or(0, |t| t.offset);
        lines.sort_by_key(|t| (t.offset < primary, t.line, t.offset));
        lines.dedup_by_key(|t| (t.line, t.offset));
        let mut text = String::new();
        let mut snips = Vec::with_capacity(lines.len());
        for line in lines {
            // A report shows the start of a long line, not all of it: labels past the
            // cut point at its end.
            let shown = &line.bytes[..line.bytes.len().min(SHOWN)];
            let mut map = Vec::new();
            let mut escaped = sanitize::escape_with_map(shown, &mut map);
            if shown.len() < line.bytes.len() {
                escaped.push_str(" …");
            }
            snips.push(Snip {
                text: line.clone(),
                start: text.len(),
                len: escaped.len(),
                map,
            });
            text.push_str(&escaped);
            text.push('\n');
        }
        Excerpt {
            name: sanitize::escape(name.as_bytes()),
            text,
            snips,
        }
    }

    /// The label's span in the virtual text.
    fn span(&self, label: &Label) -> SourceSpan {
        let Some(snip) = self
            .snips
            .iter()
            .find(|s| s.text.line == label.text.line && s.text.offset == label.text.offset)
        else {
            return (0, 0).into();
        };
        let last = snip.map.len() - 1;
        let raw = (label.at.offset.saturating_sub(snip.text.offset) as usize).min(last);
        let raw_end = (raw + label.len as usize).min(last);
        let start = snip.map[raw];
        (snip.start + start, snip.map[raw_end] - start).into()
    }

    fn snip_at(&self, offset: usize) -> Option<usize> {
        self.snips
            .iter()
            .rposition(|s| s.start <= offset && offset <= s.start + s.len)
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let first = self
            .snip_at(span.offset())
            .ok_or(MietteError::OutOfBounds)?;
        let last = self
            .snip_at(span.offset() + span.len())
            .ok_or(MietteError::OutOfBounds)?
            .max(first);
        let s = &self.snips[first];
        if context_lines_before == 0 && context_lines_after == 0 {
            // The exact span, with the original line and byte column of its start.
            let escaped_col = span.offset() - s.start;
            let raw_col = s.map.partition_point(|&m| m < escaped_col);
            let data = &self.text[span.offset()..span.offset() + span.len()];
            return Ok(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                data.as_bytes(),
                *span,
                (s.text.line - 1) as usize,
                (s.text.column - 1) as usize + raw_col,
                1,
            )));
        }
        // Lines are shown together only when they really are consecutive input lines;
        // refusing the span makes miette show them as separate excerpts.
        if self.snips[first..=last]
            .windows(2)
            .any(|w| w[1].text.line != w[0].text.line + 1)
        {
            return Err(MietteError::OutOfBounds);
        }
        let end_snip = &self.snips[last];
        let end = end_snip.start + end_snip.len + 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[s.start..end],
            (s.start, end - s.start).into(),
            (s.text.line - 1) as usize,
            0,
            last - first + 1,
        )))
    }
}

/// The human reporter: findings as miette reports, a line per session (pipe mode), a
/// summary per input and a total.
pub struct Human<W> {
    pub out: W,
    pub style: Style,
    /// Print a line when each session ends (pipe mode).
    pub session_lines: bool,
    /// What the inputs so far did not check, said once at the end of the run (the same
    /// line for every input of a directory would bury the totals).
    coverage: super::Coverage,
}

impl<W> Human<W> {
    /// The human report on `out`; `session_lines`: a line as each session ends.
    pub fn new(out: W, style: Style, session_lines: bool) -> Self {
        Human {
            out,
            style,
            session_lines,
            coverage: super::Coverage::default(),
        }
    }
}

use super::plural;

fn counts(errors: u64, warnings: u64) -> String {
    format!(
        "{}, {}",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings")
    )
}

pub fn describe(t: Totals) -> String {
    format!(
        "{}, {}",
        plural(t.sessions, "session", "sessions"),
        counts(t.errors, t.warnings)
    )
}

impl<W: Write> Human<W> {
    fn finding(&mut self, file: &str, finding: &Finding) -> io::Result<()> {
        self.out
            .write_all(render(finding, file, self.style).as_bytes())?;
        self.out.write_all(b"\n")?;
        // Live output (pipe mode, `run`) shows each finding at once.
        if self.session_lines {
            self.out.flush()?;
        }
        Ok(())
    }

    fn session_end(&mut self, _file: &str, end: &SessionState) -> io::Result<()> {
        if !self.session_lines {
            return Ok(());
        }
        writeln!(
            self.out,
            "quant-session: session {} (line {}) {}: {} completed, {}",
            sanitize::escape(end.session_id.as_bytes()),
            end.start_line,
            match end.status {
                Status::Complete => "completed",
                Status::Crashed => "did not complete",
            },
            plural(end.tasks_completed, "task", "tasks"),
            counts(end.errors, end.warnings)
        )?;
        self.out.flush()
    }

    fn end_file(&mut self, summary: &FileSummary<'_>) -> io::Result<()> {
        if let Some(hint) = summary.hint.filter(|_| summary.totals.sessions > 0) {
            writeln!(
                self.out,
                "hint: {} look like markers behind a line prefix (first on line {}); they are \
                 not checked. Pass --strip-prefix REGEX (e.g. '\\[pane-\\d+\\] ') or a preset \
                 (docker, cri, github, journald) to check them.",
                plural(hint.lines, "line", "lines"),
                hint.first_line
            )?;
        }
        if let Some(r) = summary
            .records
            .filter(|r| r.unknown_records + r.broken_records > 0)
        {
            // The same counts as the JSON summary's `records`, `unknown_records` and
            // `broken_records`.
            writeln!(
                self.out,
                "note: {} read; {} of an unknown type skipped, and {} not JSON (a torn last \
                 line, or stderr)",
                plural(r.records, "stream-json record", "stream-json records"),
                r.unknown_records,
                plural(r.broken_records, "line", "lines"),
            )?;
        }
        self.coverage.add(summary.not_checked);
        if let Some(how) = summary.worker_exit {
            writeln!(self.out, "the worker exited with {how}")?;
        }
        if let Some(note) = summary.records.and_then(|r| r.note) {
            writeln!(self.out, "note: {note}")?;
        }
        if let Some(usage) = summary.worker.and_then(|w| w.usage.as_ref()) {
            writeln!(
                self.out,
                "usage: {}",
                sanitize::escape(usage.describe().as_bytes())
            )?;
        }
        writeln!(
            self.out,
            "{}: {}",
            sanitize::escape(summary.file.as_bytes()),
            describe(summary.totals)
        )?;
        self.out.flush()
    }

    fn end_run(&mut self, files: usize, all: Totals) -> io::Result<()> {
        if let Some(line) = self.coverage.line() {
            writeln!(self.out, "{line}")?;
        }
        if files > 1 {
            writeln!(self.out, "total: {}", describe(all))?;
        }
        self.out.flush()
    }
}

impl<W: Write> Sink for Human<W> {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Finding(f) => self.finding(input, &f)?,
            Item::SessionEnd(state) => self.session_end(input, state)?,
            Item::InputEnd(summary) => self.end_file(summary)?,
            Item::RunEnd { inputs, totals } => self.end_run(inputs, totals)?,
            Item::Followed
            | Item::Event(_)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::SessionDrawn(..)
            | Item::Unreadable(_) => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}
