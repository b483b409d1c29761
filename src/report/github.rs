//! GitHub Actions workflow commands, one per finding, so findings show inline on a pull
//! request: `::error file=F,line=N,col=C,title=RULE::message`.
//!
//! With `GITHUB_STEP_SUMMARY` set, the run's job summary is appended to that file too
//! ([`super::step_summary`]).
//!
//! Everything taken from a transcript is escaped as GitHub requires (`%`, `\r`, `\n` in
//! the message; also `:` and `,` in properties), so no transcript can end the command
//! early, forge a second annotation or run another workflow command.

use std::io::{self, Write};

use crate::finding::{ColumnUnit, Finding};
use crate::rule::Severity;
use crate::sink::{Flow, Item, Sink};

/// Escapes a workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The GitHub annotations reporter.
pub struct Github<W> {
    pub out: W,
    /// Live output (pipe mode, `run`): each finding is flushed as it is written. Off, the
    /// report is written in large pieces (a file mode run with 200 000 findings makes a
    /// few hundred writes, not 200 000).
    pub live: bool,
    /// The job summary, appended at the end of the run (the report on the job's log
    /// writes it; a `--report github=PATH` file does not).
    pub summary: Option<super::step_summary::StepSummary>,
}

impl<W: Write> Github<W> {
    fn finding(&mut self, file: &str, f: &Finding) -> io::Result<()> {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = f.message.clone();
        for related in &f.related {
            message.push_str(&format!(
                "\n  line {}: {}",
                related.at.line, related.message
            ));
        }
        message.push_str(&format!("\nhelp: {}", f.help));
        writeln!(
            self.out,
            "::{command} file={},line={},col={},title={}::{}",
            escape_property(&crate::sanitize::escape(file.as_bytes())),
            f.primary.at.line,
            f.primary.column_in(ColumnUnit::Char),
            escape_property(f.rule.id()),
            escape_data(&message)
        )?;
        if self.live {
            self.out.flush()?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for Github<W> {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Finding(f) => {
                if let Some(summary) = &mut self.summary {
                    summary.finding(input, &f);
                }
                self.finding(input, &f)?
            }
            // What is written so far is complete at each input's end.
            Item::InputEnd(end) => {
                if let Some(summary) = &mut self.summary {
                    summary.input_end(end);
                }
                self.out.flush()?
            }
            Item::Unreadable(error) => {
                if let Some(summary) = &mut self.summary {
                    summary.unreadable(input, error);
                }
            }
            Item::RunEnd { inputs, totals } => {
                self.out.flush()?;
                if let Some(summary) = self.summary.take() {
                    summary.write(inputs, totals).map_err(|e| {
                        io::Error::new(e.kind(), format!("GITHUB_STEP_SUMMARY: {e}"))
                    })?;
                }
            }
            Item::Followed
            | Item::Event(_)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_from_the_input_can_end_the_command() {
        assert_eq!(escape_data("a%0A\n::error::x\r"), "a%250A%0A::error::x%0D");
        assert_eq!(escape_property("f,line=1:x"), "f%2Cline=1%3Ax");
    }
}
