//! The concise report: one line per finding, `FILE:LINE:COL: SEVERITY[RULE] MESSAGE`,
//! for logs, grep and editors' problem matchers (the column counts characters, as
//! editors do), and one line at the end of the run with the totals.

use std::io::{self, Write};

use super::{Reporter, Totals};
use crate::finding::{ColumnUnit, Finding};
use crate::sanitize;

/// The concise reporter.
pub struct Concise<W> {
    pub out: W,
}

impl<W: Write> Reporter for Concise<W> {
    fn finding(&mut self, file: &str, f: &Finding) -> io::Result<()> {
        // The message is one line with everything quoted from the input escaped.
        writeln!(
            self.out,
            "{}:{}:{}: {}[{}] {}",
            sanitize::escape(file.as_bytes()),
            f.primary.at.line,
            f.primary.column_in(ColumnUnit::Char),
            f.severity.as_str(),
            f.rule,
            f.message
        )?;
        self.out.flush()
    }

    fn end_run(&mut self, files: usize, all: Totals) -> io::Result<()> {
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        writeln!(
            self.out,
            "{}, {} in {} ({})",
            plural(all.errors, "error", "errors"),
            plural(all.warnings, "warning", "warnings"),
            plural(files as u64, "input", "inputs"),
            plural(all.sessions, "session", "sessions"),
        )?;
        self.out.flush()
    }
}
