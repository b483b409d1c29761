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

/// What a run did not check: each rule that could not run, why, and on how many inputs
/// (bounded by the rules, however many inputs). The human report says it once per run.
#[derive(Debug, Default)]
pub struct Coverage {
    /// Inputs that ended (read to their end or stopped).
    inputs: u64,
    gaps: Vec<(crate::rule::Rule, &'static str, u64)>,
}

impl Coverage {
    /// An input ended with these rules not checked.
    pub fn add(&mut self, not_checked: &[(crate::rule::Rule, &'static str)]) {
        self.inputs += 1;
        for &(rule, why) in not_checked {
            match self
                .gaps
                .iter_mut()
                .find(|(r, w, _)| *r == rule && *w == why)
            {
                Some((.., n)) => *n += 1,
                None => self.gaps.push((rule, why, 1)),
            }
        }
    }

    /// `not checked: a, b (why); c (why, on 3 of 7 inputs)`: rules with the same reason
    /// on the same inputs together; the count only where not every input had the gap.
    pub fn line(&self) -> Option<String> {
        if self.gaps.is_empty() {
            return None;
        }
        let mut groups: Vec<(&str, u64, Vec<&str>)> = Vec::new();
        for &(rule, why, n) in &self.gaps {
            match groups.iter_mut().find(|(w, m, _)| *w == why && *m == n) {
                Some((.., rules)) => rules.push(rule.id()),
                None => groups.push((why, n, vec![rule.id()])),
            }
        }
        let parts: Vec<String> = groups
            .iter()
            .map(|(why, n, rules)| {
                if *n == self.inputs {
                    format!("{} ({why})", rules.join(", "))
                } else {
                    format!(
                        "{} ({why}, on {n} of {})",
                        rules.join(", "),
                        plural(self.inputs, "input", "inputs")
                    )
                }
            })
            .collect();
        Some(format!("not checked: {}", parts.join("; ")))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Rule;

    #[test]
    fn a_run_says_what_it_did_not_check_once_with_how_many_inputs_when_not_all() {
        let mut c = Coverage::default();
        assert_eq!(c.line(), None);
        let text = [
            (Rule::UnbackedSubagent, "no tool calls in the input"),
            (Rule::DurationMismatch, "no timestamps in the input"),
        ];
        c.add(&text);
        c.add(&text);
        c.add(&text[1..]);
        assert_eq!(
            c.line().as_deref(),
            Some(
                "not checked: unbacked-subagent (no tool calls in the input, on 2 of 3 inputs); \
                 duration-mismatch (no timestamps in the input)"
            )
        );
    }
}
