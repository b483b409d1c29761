//! `-q/--quiet` and `--statistics`, as ruff has them: a report of the findings only
//! (no summaries, notes or totals), or of how many findings each rule had.

use std::io::{self, Write};

use super::{Reporter, Totals};
use crate::finding::Finding;
use crate::rule::{Rule, Severity};

/// Passes the findings to the report it wraps, and nothing else.
pub struct Quiet<'w> {
    pub inner: Box<dyn Reporter + 'w>,
}

impl Reporter for Quiet<'_> {
    // Only findings are passed on; the rest is the trait's default, nothing.
    fn finding(&mut self, file: &str, finding: &Finding) -> io::Result<()> {
        self.inner.finding(file, finding)
    }
}

/// `--statistics`: a count per rule (and severity) at the end of the run, most first.
pub struct Statistics<W> {
    pub out: W,
    counts: Vec<(Rule, Severity, u64)>,
}

impl<W: Write> Statistics<W> {
    pub fn new(out: W) -> Self {
        Statistics {
            out,
            counts: Vec::new(),
        }
    }
}

impl<W: Write> Reporter for Statistics<W> {
    fn finding(&mut self, _file: &str, f: &Finding) -> io::Result<()> {
        match self
            .counts
            .iter_mut()
            .find(|(r, s, _)| *r == f.rule && *s == f.severity)
        {
            Some((.., n)) => *n += 1,
            None => self.counts.push((f.rule, f.severity, 1)),
        }
        Ok(())
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
        self.out.flush()
    }
}
