//! Reporters: findings (and, for `parse`, events) turned into what a user or a CI
//! system reads. Each format is one [`Reporter`]; a run may feed several (`--format`
//! plus `--report FORMAT=PATH`).

pub mod concise;
pub mod events;
pub mod file;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod json_text;
pub mod otlp;
pub mod perfetto;
pub mod postmortem;
pub mod quiet;
pub mod sarif;

use std::io;

use crate::finding::Finding;
pub use crate::finding::plural;
use crate::state::SessionState;
use crate::summary::{FileSummary, Totals};

/// `not checked: a, b (why); c (why)`: the coverage of an input in one line, rules with
/// the same reason together.
pub fn not_checked_line(not_checked: &[(crate::rule::Rule, &'static str)]) -> Option<String> {
    if not_checked.is_empty() {
        return None;
    }
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (rule, why) in not_checked {
        match groups.iter_mut().find(|(w, _)| w == why) {
            Some((_, rules)) => rules.push(rule.id()),
            None => groups.push((why, vec![rule.id()])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(why, rules)| format!("{} ({why})", rules.join(", ")))
        .collect();
    Some(format!("not checked: {}", parts.join("; ")))
}

/// A report format. Findings come in the order they are to be shown; every input ends
/// with `end_file`, the run with `end_run`.
pub trait Reporter {
    fn finding(&mut self, file: &str, finding: &Finding) -> io::Result<()>;

    /// A session ended (pipe mode only).
    fn session_end(&mut self, _file: &str, _end: &SessionState) -> io::Result<()> {
        Ok(())
    }

    fn end_file(&mut self, _summary: &FileSummary<'_>) -> io::Result<()> {
        Ok(())
    }

    fn end_run(&mut self, _files: usize, _all: Totals) -> io::Result<()> {
        Ok(())
    }

    /// An input could not be read (the run's verdict is then exit 2).
    fn unreadable(&mut self, _file: &str, _error: &str) -> io::Result<()> {
        Ok(())
    }

    /// Whether findings a baseline holds are shown (JSON and SARIF mark them; the other
    /// formats show only new ones).
    fn shows_unchanged(&self) -> bool {
        false
    }

    /// A session ended and is drawn (live modes, when a report draws): what an
    /// exporter sends at once.
    fn session_drawn(
        &mut self,
        _file: &str,
        _session: &crate::timeline::SessionSpan,
        _axis: crate::timeline::Axis,
    ) -> io::Result<()> {
        Ok(())
    }
}
