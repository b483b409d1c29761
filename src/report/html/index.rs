//! The head of the page: the run's totals, then the index of the inputs with their
//! verdicts, the failed ones first, each a link to its part.

use std::fmt::Write as _;

use crate::summary::Totals;
use crate::usage::Usage;

/// Rows the index lists (the inputs past them are counted).
pub const MAX_INDEX: usize = 5_000;

/// How an input ended, as the index shows it: failed ones first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Failed,
    Warned,
    Clean,
}

impl Verdict {
    /// An input's verdict from its counts.
    pub fn of(t: Totals) -> Verdict {
        if t.errors > 0 {
            Verdict::Failed
        } else if t.warnings > 0 {
            Verdict::Warned
        } else {
            Verdict::Clean
        }
    }
}

/// A row of the index.
pub struct Row {
    /// The id of the input's part.
    pub anchor: String,
    /// The input's name, escaped.
    pub name: String,
    pub totals: Totals,
    pub verdict: Verdict,
    /// The worker's end, escaped (`success`, `killed`).
    pub worker: Option<String>,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    crate::finding::plural(n, one, many)
}

/// The run's totals, first on the page: inputs, failed inputs, sessions, errors,
/// warnings, and the usage the CLIs reported.
pub fn totals(rows: &[Row], usage: Option<&Usage>, files: usize, all: Totals, out: &mut String) {
    let failed = rows.iter().filter(|r| r.verdict == Verdict::Failed).count();
    let class = |n: u64, bad: &'static str| if n > 0 { bad } else { "ok" };
    let _ = write!(
        out,
        r#"<div class="totals" id="totals"><span><b>{files}</b> {}</span><span><b>{failed}</b> failed</span><span><b>{}</b> {}</span><span class="{}"><b>{}</b> {}</span><span class="{}"><b>{}</b> {}</span>"#,
        if files == 1 { "input" } else { "inputs" },
        all.sessions,
        if all.sessions == 1 {
            "session"
        } else {
            "sessions"
        },
        class(all.errors, "error"),
        all.errors,
        if all.errors == 1 { "error" } else { "errors" },
        class(all.warnings, "warning"),
        all.warnings,
        if all.warnings == 1 {
            "warning"
        } else {
            "warnings"
        },
    );
    if let Some(usage) = usage.filter(|u| !u.is_empty()) {
        let _ = write!(
            out,
            "<span>usage: {}</span>",
            crate::sanitize::markup(&usage.describe())
        );
    }
    out.push_str("</div>\n");
}

/// The index of the inputs, failed ones first (in the order they were read within a
/// verdict); `unindexed` inputs past its cap are counted.
pub fn index(rows: &mut [Row], unindexed: u64, out: &mut String) {
    rows.sort_by_key(|r| r.verdict);
    out.push_str("<div class=\"table\" id=\"index\"><table><thead><tr><th>input</th><th>verdict</th><th>sessions</th><th>errors</th><th>warnings</th><th>the worker</th></tr></thead><tbody>\n");
    for r in rows.iter() {
        let (class, word) = match r.verdict {
            Verdict::Failed => ("error", "failed"),
            Verdict::Warned => ("warning", "warnings"),
            Verdict::Clean => ("ok", "clean"),
        };
        let _ = writeln!(
            out,
            r##"<tr><td><a href="#{}">{}</a></td><td class="{class}">{word}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"##,
            r.anchor,
            r.name,
            r.totals.sessions,
            r.totals.errors,
            r.totals.warnings,
            r.worker.as_deref().unwrap_or("")
        );
    }
    out.push_str("</tbody></table></div>\n");
    if unindexed > 0 {
        let _ = writeln!(
            out,
            r#"<p class="warning">{} not listed in this index (its cap is {MAX_INDEX}); their parts follow below.</p>"#,
            plural(unindexed, "input is", "inputs are")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, errors: u64, warnings: u64) -> Row {
        let totals = Totals {
            sessions: 1,
            errors,
            warnings,
        };
        Row {
            anchor: name.to_owned(),
            name: name.to_owned(),
            totals,
            verdict: Verdict::of(totals),
            worker: None,
        }
    }

    #[test]
    fn the_index_lists_failed_inputs_first_then_warned_then_clean_in_reading_order() {
        let mut rows = vec![
            row("a", 0, 0),
            row("b", 0, 2),
            row("c", 1, 0),
            row("d", 0, 0),
            row("e", 3, 1),
        ];
        let mut out = String::new();
        index(&mut rows, 2, &mut out);
        let order: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(order, ["c", "e", "b", "a", "d"]);
        assert!(
            out.contains("2 inputs are not listed in this index"),
            "{out}"
        );
        assert!(out.find("href=\"#c\"") < out.find("href=\"#a\""));
    }
}
