//! SARIF 2.1.0: one log for the whole run, ready for GitHub code scanning. Every rule
//! is described in `tool.driver.rules` from the rule table; each finding is a result with
//! its location and related locations.
//!
//! The log is written as a stream: the tool object and the opening of `results` before
//! the first result, each result as it comes, the closing at the end of the run. Memory
//! holds one result at a time, however many there are. Columns count UTF-16 code units
//! (`columnKind: "utf16CodeUnits"`), as the editors that read SARIF do.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::Totals;
use crate::finding::{ColumnUnit, Finding, Label};
use crate::rule::{Rule, Severity};
use crate::sink::{Flow, Item, Sink};

/// The SARIF reporter: writes each result as it comes, the log's frame around them.
pub struct Sarif<W> {
    pub out: W,
    /// Results written so far (a comma goes before every one but the first).
    results: u64,
    /// Whether the log's opening has been written.
    opened: bool,
    /// Tool notifications (what was not checked), written with the invocation at the
    /// end: one per input at most, so bounded by the inputs.
    notifications: Vec<Value>,
    /// An input could not be read.
    failed: bool,
}

impl<W: Write> Sarif<W> {
    pub fn new(out: W) -> Self {
        Sarif {
            out,
            results: 0,
            opened: false,
            notifications: Vec::new(),
            failed: false,
        }
    }

    /// Writes the log up to the opening of `results`, once.
    fn open(&mut self) -> io::Result<()> {
        if self.opened {
            return Ok(());
        }
        self.opened = true;
        let tool = json!({
            "driver": {
                "name": "quant-session",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": Rule::ALL.iter().map(|&r| rule_descriptor(r)).collect::<Vec<_>>(),
            }
        });
        // The category GitHub code scanning files the results under (one per tool).
        let automation = json!({ "id": "quant-session/" });
        self.out.write_all(
            b"{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n      \"tool\": ",
        )?;
        crate::report::json_text::to_writer(&mut self.out, &tool)?;
        self.out.write_all(b",\n      \"automationDetails\": ")?;
        crate::report::json_text::to_writer(&mut self.out, &automation)?;
        self.out
            .write_all(b",\n      \"columnKind\": \"utf16CodeUnits\",\n      \"results\": [")
    }
}

/// A file name as a SARIF `uri` (a relative URI reference): unreserved characters and
/// `/` are kept, everything else is percent-encoded.
fn uri(file: &str) -> String {
    if file == "<stdin>" {
        return "stdin".to_owned();
    }
    let mut out = String::with_capacity(file.len());
    for b in file.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn location(file: &str, label: &Label) -> Value {
    let mut region = json!({
        "startLine": label.at.line,
        "startColumn": label.column_in(ColumnUnit::Utf16),
    });
    if label.len > 0 {
        region["endLine"] = json!(label.at.line);
        region["endColumn"] = json!(label.end_column_in(ColumnUnit::Utf16));
    }
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(file) },
            "region": region,
        }
    })
}

/// Where a rule is documented: the README's rule table of the published repository
/// (`repository` in Cargo.toml); none while the package names no repository.
pub fn help_uri(repository: &str) -> Option<String> {
    let repository = repository.trim_end_matches('/');
    (repository.starts_with("https://") || repository.starts_with("http://"))
        // The README's "Rules" section holds the table and what each rule reports.
        .then(|| format!("{repository}#rules"))
}

fn rule_descriptor(rule: Rule) -> Value {
    let mut descriptor = json!({
        "id": rule.id(),
        "name": rule.id(),
        "shortDescription": { "text": rule.summary() },
        "fullDescription": { "text": rule.why() },
        // The whole `explain` page: what GitHub shows beside an alert, no URL needed.
        "help": {
            "text": rule.documentation(),
            "markdown": rule.documentation_markdown(),
        },
        "defaultConfiguration": { "level": level(rule.default_severity()) },
        "properties": {
            "tags": ["quant-session", crate::rules::family_of(rule)],
            // The claims rules compare what a worker says with the tool calls it made,
            // which a CLI may not show whole; the others read the markers themselves.
            "precision": if crate::rules::family_of(rule) == "claims" { "high" } else { "very-high" },
        },
    });
    if let Some(uri) = help_uri(env!("CARGO_PKG_REPOSITORY")) {
        descriptor["helpUri"] = json!(uri);
    }
    descriptor
}

impl<W: Write> Sarif<W> {
    fn finding(&mut self, file: &str, f: &Finding) -> io::Result<()> {
        let related: Vec<Value> = f
            .related
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut loc = location(file, l);
                loc["id"] = json!(i);
                loc["message"] = json!({ "text": l.message });
                loc
            })
            .collect();
        let index = Rule::ALL.iter().position(|&r| r == f.rule).unwrap_or(0);
        let mut result = json!({
            "ruleId": f.rule.id(),
            "ruleIndex": index,
            "level": level(f.severity),
            "message": { "text": format!("{} (help: {})", f.message, f.help) },
            "locations": [location(file, &f.primary)],
        });
        if !related.is_empty() {
            result["relatedLocations"] = Value::Array(related);
        }
        if let Some(known) = &f.baseline {
            result["partialFingerprints"] = json!({ crate::baseline::VERSION: known.fingerprint });
            if let Some(state) = known.state {
                result["baselineState"] = json!(state.as_str());
                if state == crate::baseline::State::Unchanged {
                    // Listed, not dropped: suppressed by the baseline.
                    result["suppressions"] = json!([{
                        "kind": "external",
                        "justification": "in the --baseline file"
                    }]);
                }
            }
        }
        self.open()?;
        self.out.write_all(if self.results == 0 {
            b"\n        "
        } else {
            b",\n        "
        })?;
        crate::report::json_text::to_writer(&mut self.out, &result)?;
        self.results += 1;
        Ok(())
    }

    fn unreadable(&mut self, file: &str, error: &str) -> io::Result<()> {
        self.failed = true;
        self.notifications.push(json!({
            "level": "error",
            "message": { "text": format!("{file} could not be read: {error}") },
            "locations": [{
                "physicalLocation": { "artifactLocation": { "uri": uri(file) } }
            }],
        }));
        Ok(())
    }

    fn end_file(&mut self, summary: &super::FileSummary<'_>) -> io::Result<()> {
        if let Some(line) = super::not_checked_line(summary.not_checked) {
            self.notifications.push(json!({
                "level": "note",
                "message": { "text": format!("{}: {line}", summary.file) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": uri(summary.file) } }
                }],
            }));
        }
        Ok(())
    }

    fn end_run(&mut self, _files: usize, _all: Totals) -> io::Result<()> {
        self.open()?;
        if self.results > 0 {
            self.out.write_all(b"\n      ")?;
        }
        self.out.write_all(b"],\n      \"invocations\": [")?;
        let invocation = json!({
            "executionSuccessful": !self.failed,
            "toolExecutionNotifications": std::mem::take(&mut self.notifications),
        });
        crate::report::json_text::to_writer(&mut self.out, &invocation)?;
        self.out.write_all(b"]\n    }\n  ]\n}\n")?;
        self.out.flush()
    }
}

impl<W: Write> Sink for Sarif<W> {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Finding(f) => self.finding(input, &f)?,
            Item::Unreadable(error) => self.unreadable(input, error)?,
            Item::InputEnd(summary) => self.end_file(summary)?,
            Item::RunEnd { inputs, totals } => self.end_run(inputs, totals)?,
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
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_uris_point_at_the_readme_rule_section() {
        assert_eq!(
            help_uri("https://github.com/o/quant-session/").as_deref(),
            Some("https://github.com/o/quant-session#rules")
        );
        assert_eq!(help_uri(""), None);
    }
}
