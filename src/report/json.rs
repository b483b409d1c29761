//! The JSON Lines report of `check` (SPEC §4): a `diagnostic` object per finding and a
//! `summary` object per input. Field names are part of the contract.

use std::io::{self, Write};

use serde::Serialize;

use super::{FileSummary, Totals};
use crate::finding::Finding;
use crate::format::RecordCounts;
use crate::sink::{Flow, Item, Sink};

#[derive(Serialize)]
struct Related<'a> {
    line: u64,
    column: u64,
    message: &'a str,
}

/// A finding's related labels as `{line, column, message}` objects, written straight
/// from the finding (no list built per finding).
struct RelatedLabels<'a>(&'a [crate::finding::Label]);

impl Serialize for RelatedLabels<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|l| Related {
            line: l.at.line,
            column: l.at.column,
            message: &l.message,
        }))
    }
}

#[derive(Serialize)]
struct Diagnostic<'a> {
    kind: &'static str,
    file: &'a str,
    rule: &'static str,
    severity: &'static str,
    line: u64,
    column: u64,
    offset: u64,
    /// Stream-json: the line within the worker's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    block_line: Option<u64>,
    message: &'a str,
    help: &'a str,
    related: RelatedLabels<'a>,
    /// Ignores line numbers (SPEC §10): what a baseline matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<&'a str>,
    /// `new` or `unchanged`, with `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'static str>,
}

/// Writes a finding as a `diagnostic` line.
pub fn write_finding(out: &mut (impl Write + ?Sized), file: &str, f: &Finding) -> io::Result<()> {
    crate::report::json_text::to_writer(
        &mut *out,
        &Diagnostic {
            kind: "diagnostic",
            file,
            rule: f.rule.id(),
            severity: f.severity.as_str(),
            line: f.primary.at.line,
            column: f.primary.at.column,
            offset: f.primary.at.offset,
            block_line: f.primary.at.block_line,
            message: &f.message,
            help: &f.help,
            related: RelatedLabels(&f.related),
            fingerprint: f.baseline.as_ref().map(|k| k.fingerprint.as_str()),
            baseline: f
                .baseline
                .as_ref()
                .and_then(|k| k.state)
                .map(|s| s.as_str()),
        },
    )?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct Summary<'a> {
    kind: &'static str,
    file: &'a str,
    #[serde(flatten)]
    totals: Totals,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    records: Option<RecordCounts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    worker_exit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baselined: Option<u64>,
    /// The tokens and cost the worker's CLI reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<&'a crate::format::Usage>,
    not_checked: Vec<NotChecked<'a>>,
}

#[derive(Serialize)]
struct NotChecked<'a> {
    rule: &'static str,
    why: &'a str,
}

/// Writes the `summary` line that ends each input.
pub fn write_summary(out: &mut (impl Write + ?Sized), summary: &FileSummary<'_>) -> io::Result<()> {
    crate::report::json_text::to_writer(
        &mut *out,
        &Summary {
            kind: "summary",
            file: summary.file,
            totals: summary.totals,
            records: summary.records,
            worker_exit: summary.worker_exit,
            baselined: summary.baselined,
            usage: summary.worker.and_then(|w| w.usage.as_ref()),
            not_checked: summary
                .not_checked
                .iter()
                .map(|(rule, why)| NotChecked {
                    rule: rule.id(),
                    why,
                })
                .collect(),
        },
    )?;
    out.write_all(b"\n")
}

/// The JSON Lines reporter.
pub struct Json<W> {
    pub out: W,
    /// Live output (pipe mode, `run`): each finding is flushed as it is written. Off, the
    /// report is written in large pieces (a file mode run with 200 000 findings makes a
    /// few hundred writes, not 200 000).
    pub live: bool,
}

impl<W: Write> Json<W> {
    fn finding(&mut self, file: &str, finding: &Finding) -> io::Result<()> {
        write_finding(&mut self.out, file, finding)?;
        if self.live {
            self.out.flush()?;
        }
        Ok(())
    }

    fn end_file(&mut self, summary: &FileSummary<'_>) -> io::Result<()> {
        write_summary(&mut self.out, summary)?;
        self.out.flush()
    }
}

impl<W: Write> Sink for Json<W> {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Finding(f) => self.finding(input, &f)?,
            Item::InputEnd(summary) => self.end_file(summary)?,
            Item::Followed
            | Item::Event(_)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        true
    }
}
