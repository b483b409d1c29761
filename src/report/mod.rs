//! Reporters: findings (and, for `parse`, events) turned into what a user or a CI
//! system reads. Each format is one [`Sink`](crate::sink::Sink); a run feeds several
//! (`--format` plus `--report FORMAT=PATH`) through one [`set::Reports`].

pub mod concise;
pub mod events;
pub mod file;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod json;
pub mod json_text;
pub mod junit;
pub mod otlp;
pub mod otlp_export;
pub mod perfetto;
pub mod postmortem;
pub mod quiet;
pub mod sarif;
pub mod set;
pub mod step_summary;

pub use crate::finding::plural;
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
