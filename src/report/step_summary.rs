//! The job summary of a GitHub Actions run: with `GITHUB_STEP_SUMMARY` set, the GitHub
//! report also appends Markdown to the file it names — the verdict, a table with a row
//! per input (sessions, errors, warnings, the worker's usage when its transcript says
//! it), and the first findings. GitHub shows it on the run's page, where transcripts
//! (build artefacts, not committed files) have no other place.
//!
//! What it holds is bounded: [`MAX_INPUTS`] rows and [`MAX_FINDINGS`] findings, the
//! rest counted and said. Nothing from a transcript can forge the Markdown: every quoted
//! text has its control bytes shown escaped and every character that Markdown or HTML
//! reads written as a character reference ([`escape`]).

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;

use super::FileSummary;
use crate::finding::Finding;
use crate::sanitize;
use crate::summary::Totals;

/// How many inputs get a row.
pub const MAX_INPUTS: usize = 100;
/// How many findings are listed.
pub const MAX_FINDINGS: usize = 20;

/// Text from a transcript or a path as Markdown that shows it and nothing else: control
/// bytes (a line feed too) shown escaped, and `|` (a table cell's end), `` ` ``, `<`,
/// `>`, `&`, `*`, `_`, `[`, `]`, `\`, `~`, `$`, `@` (a mention), `#` and `!` as
/// character references.
pub fn escape(text: &str) -> String {
    let shown = sanitize::escape(text.as_bytes());
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        match c {
            // `:` too: no `https://…` autolink and no emoji (`:shipit:`) from a
            // transcript.
            '|' | '`' | '<' | '>' | '&' | '*' | '_' | '[' | ']' | '\\' | '~' | '$' | '@' | '#'
            | '!' | ':' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// One input's row.
struct Row {
    file: String,
    totals: Totals,
    usage: Option<String>,
}

/// One finding as listed.
struct Listed {
    file: String,
    line: u64,
    severity: &'static str,
    rule: &'static str,
    message: String,
}

/// The job summary being gathered, appended to its file at the end of the run.
pub struct StepSummary {
    path: PathBuf,
    rows: Vec<Row>,
    more_inputs: u64,
    unreadable: Vec<(String, String)>,
    findings: Vec<Listed>,
    more_findings: u64,
}

impl StepSummary {
    /// The job summary, when `GITHUB_STEP_SUMMARY` names a file.
    pub fn from_env() -> Option<StepSummary> {
        let path = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())?;
        Some(StepSummary {
            path: PathBuf::from(path),
            rows: Vec::new(),
            more_inputs: 0,
            unreadable: Vec::new(),
            findings: Vec::new(),
            more_findings: 0,
        })
    }

    /// A finding of `file`: listed while fewer than [`MAX_FINDINGS`] are, else counted.
    pub fn finding(&mut self, file: &str, f: &Finding) {
        if self.findings.len() >= MAX_FINDINGS {
            self.more_findings += 1;
            return;
        }
        self.findings.push(Listed {
            file: file.to_owned(),
            line: f.primary.at.line,
            severity: f.severity.as_str(),
            rule: f.rule.id(),
            message: f.message.clone(),
        });
    }

    /// An input ended: its row, while fewer than [`MAX_INPUTS`] are, else counted.
    pub fn input_end(&mut self, summary: &FileSummary<'_>) {
        if self.rows.len() >= MAX_INPUTS {
            self.more_inputs += 1;
            return;
        }
        // The tokens and cost the CLI reported, and its turns.
        let usage = summary.worker.and_then(|w| {
            let mut parts = Vec::new();
            if let Some(u) = &w.usage {
                if !u.tokens.is_empty() {
                    parts.push(format!(
                        "{} tokens",
                        crate::usage::short(u.tokens.total_tokens)
                    ));
                }
                if let Some(cost) = u.cost_usd {
                    parts.push(crate::rule::Budget::dollars(cost));
                }
            }
            if let Some(turns) = w.exit.as_ref().and_then(|e| e.num_turns) {
                parts.push(crate::finding::plural(turns, "turn", "turns"));
            }
            (!parts.is_empty()).then(|| parts.join(", "))
        });
        self.rows.push(Row {
            file: summary.file.to_owned(),
            totals: summary.totals,
            usage,
        });
    }

    /// An input could not be read (to its end): said above the table.
    pub fn unreadable(&mut self, file: &str, error: &str) {
        if self.unreadable.len() < MAX_INPUTS {
            self.unreadable.push((file.to_owned(), error.to_owned()));
        }
    }

    /// The Markdown of the run.
    fn markdown(&self, inputs: usize, all: Totals) -> String {
        let plural = crate::finding::plural;
        let mut md = String::from("## quant-session\n\n");
        let verdict = if all.errors > 0 || !self.unreadable.is_empty() {
            ":x:"
        } else {
            ":white_check_mark:"
        };
        let _ = writeln!(
            md,
            "{verdict} {}, {} in {} ({})\n",
            plural(all.errors, "error", "errors"),
            plural(all.warnings, "warning", "warnings"),
            plural(inputs as u64, "input", "inputs"),
            plural(all.sessions, "session", "sessions"),
        );
        for (file, error) in &self.unreadable {
            let _ = writeln!(
                md,
                "- :x: {} could not be read (to its end): {}",
                escape(file),
                escape(error)
            );
        }
        if !self.unreadable.is_empty() {
            md.push('\n');
        }
        if !self.rows.is_empty() {
            md.push_str("| input | sessions | errors | warnings | usage |\n");
            md.push_str("| --- | ---: | ---: | ---: | --- |\n");
            for row in &self.rows {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    escape(&row.file),
                    row.totals.sessions,
                    row.totals.errors,
                    row.totals.warnings,
                    row.usage.as_deref().map_or("—".to_owned(), escape)
                );
            }
            if self.more_inputs > 0 {
                let _ = writeln!(
                    md,
                    "\nand {} more {} (the job log has them all)",
                    self.more_inputs,
                    if self.more_inputs == 1 {
                        "input"
                    } else {
                        "inputs"
                    }
                );
            }
            md.push('\n');
        }
        if !self.findings.is_empty() {
            let shown = if self.more_findings > 0 {
                format!("The first {} findings", self.findings.len())
            } else {
                "Findings".to_owned()
            };
            let _ = writeln!(md, "### {shown}\n");
            md.push_str("| severity | rule | where | message |\n");
            md.push_str("| --- | --- | --- | --- |\n");
            for f in &self.findings {
                let _ = writeln!(
                    md,
                    "| {} | `{}` | {}:{} | {} |",
                    f.severity,
                    f.rule,
                    escape(&f.file),
                    f.line,
                    escape(&f.message)
                );
            }
            if self.more_findings > 0 {
                let _ = writeln!(
                    md,
                    "\nand {} more {}: see the annotations and the job log",
                    self.more_findings,
                    if self.more_findings == 1 {
                        "finding"
                    } else {
                        "findings"
                    }
                );
            }
            md.push('\n');
        }
        md
    }

    /// Appends the summary of the run to the file (GitHub gathers every step's).
    pub fn write(&self, inputs: usize, all: Totals) -> io::Result<()> {
        let md = self.markdown(inputs, all);
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.path)?;
        file.write_all(md.as_bytes())?;
        file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_from_a_transcript_ends_a_cell_or_becomes_markup() {
        assert_eq!(
            escape("a|b`c<img>\n@x\u{1b}[2J"),
            "a&#124;b&#96;c&#60;img&#62;&#92;x0a&#64;x&#92;x1b&#91;2J"
        );
    }
}
