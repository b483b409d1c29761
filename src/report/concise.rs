//! The concise report: one line per finding, `FILE:LINE:COL: SEVERITY[RULE] MESSAGE`,
//! for logs, grep and editors' problem matchers (the column counts characters, as
//! editors do), and one line at the end of the run with the totals.

use std::io::{self, Write};

use super::Totals;
use crate::finding::{ColumnUnit, Finding};
use crate::sanitize;
use crate::sink::{Flow, Item, Sink};

/// The concise reporter.
pub struct Concise<W> {
    pub out: W,
    /// Live output (pipe mode, `run`): each finding is flushed as it is written. Off, the
    /// report is written in large pieces (a file mode run with 200 000 findings makes a
    /// few hundred writes, not 200 000).
    pub live: bool,
}

impl<W: Write> Concise<W> {
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
        if self.live {
            self.out.flush()?;
        }
        Ok(())
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

impl<W: Write> Sink for Concise<W> {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Finding(f) => self.finding(input, &f)?,
            Item::RunEnd { inputs, totals } => self.end_run(inputs, totals)?,
            // What is written so far is complete at each input's end.
            Item::InputEnd(_) => self.out.flush()?,
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
