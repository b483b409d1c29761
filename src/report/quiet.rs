//! `-q/--quiet` and `--statistics`, as ruff has them: a report of the findings only
//! (no summaries, notes or totals), or of how many findings each rule had.

use std::io::{self, Write};

use super::Totals;
use crate::finding::Finding;
use crate::rule::{Rule, Severity};
use crate::sink::{Flow, Item, Report, Sink};

/// Passes the findings to the report it wraps, and nothing else.
pub struct Quiet<'w> {
    pub inner: Report<'w>,
}

impl Sink for Quiet<'_> {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Finding(_) => self.inner.push(input, item),
            // Quiet: no session lines, summaries, notes or totals.
            Item::Followed
            | Item::Event(_)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..)
            | Item::InputEnd(_)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => Ok(Flow::Continue),
        }
    }

    fn shows_unchanged(&self) -> bool {
        self.inner.shows_unchanged()
    }
}

/// `--statistics`: a count per rule (and severity) at the end of the run, most first.
pub struct Statistics<W> {
    pub out: W,
    counts: Vec<(Rule, Severity, u64)>,
    /// The usage every input's CLI reported, summed, and how many inputs reported one.
    usage: crate::format::Usage,
    reporting: u64,
}

impl<W: Write> Statistics<W> {
    pub fn new(out: W) -> Self {
        Statistics {
            out,
            counts: Vec::new(),
            usage: crate::format::Usage::default(),
            reporting: 0,
        }
    }
}

impl<W: Write> Sink for Statistics<W> {
    type Error = io::Error;

    fn push(&mut self, _input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Finding(f) => self.count(&f),
            Item::RunEnd { inputs, totals } => self.end_run(inputs, totals)?,
            Item::InputEnd(summary) => {
                if let Some(usage) = summary.worker.and_then(|w| w.usage.as_ref()) {
                    self.usage.merge(usage);
                    self.reporting += 1;
                }
            }
            // Only the counts per rule, at the end of the run.
            Item::Followed
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

impl<W: Write> Statistics<W> {
    fn count(&mut self, f: &Finding) {
        match self
            .counts
            .iter_mut()
            .find(|(r, s, _)| *r == f.rule && *s == f.severity)
        {
            Some((.., n)) => *n += 1,
            None => self.counts.push((f.rule, f.severity, 1)),
        }
    }

    fn end_run(&mut self, files: usize, all: Totals) -> io::Result<()> {
        self.counts
            .sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.id().cmp(b.0.id())));
        let width = self
            .counts
            .iter()
            .map(|(.., n)| n.to_string().len())
            .max()
            .unwrap_or(1);
        let id_width = self
            .counts
            .iter()
            .map(|(r, ..)| r.id().len())
            .max()
            .unwrap_or(0);
        for (rule, severity, n) in &self.counts {
            writeln!(
                self.out,
                "{n:>width$}  {:id_width$}  {:7}  {}",
                rule.id(),
                severity.as_str(),
                rule.summary()
            )?;
        }
        writeln!(
            self.out,
            "{} in {}",
            crate::report::human::describe(all),
            super::plural(files as u64, "input", "inputs")
        )?;
        if self.reporting > 0 {
            writeln!(
                self.out,
                "usage: {} (as reported by {})",
                crate::sanitize::escape(self.usage.describe().as_bytes()),
                super::plural(self.reporting, "input", "inputs")
            )?;
        }
        self.out.flush()
    }
}
