//! SARIF 2.1.0: one log for the whole run, ready for GitHub code scanning. Every rule
//! is described in `tool.driver.rules` from the rule table; each finding is a result with
//! its location and related locations.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Reporter, Totals};
use crate::finding::{Finding, Label};
use crate::rules::{Rule, Severity};

/// The SARIF reporter: collects results, writes the log at the end of the run.
pub struct Sarif<W> {
    pub out: W,
    results: Vec<Value>,
}

impl<W: Write> Sarif<W> {
    pub fn new(out: W) -> Self {
        Sarif {
            out,
            results: Vec::new(),
        }
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
        "startColumn": label.at.column,
    });
    if label.len > 0 {
        region["endLine"] = json!(label.at.line);
        region["endColumn"] = json!(label.at.column + label.len);
    }
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(file) },
            "region": region,
        }
    })
}

fn rule_descriptor(rule: Rule) -> Value {
    json!({
        "id": rule.id(),
        "name": rule.id(),
        "shortDescription": { "text": rule.summary() },
        "fullDescription": { "text": rule.why() },
        "help": {
            "text": format!("{}. Run `quant-session explain {}` for an example.", rule.fix(), rule.id())
        },
        "defaultConfiguration": { "level": level(rule.default_severity()) },
    })
}

impl<W: Write> Reporter for Sarif<W> {
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
        self.results.push(result);
        Ok(())
    }

    fn end_run(&mut self, _files: usize, _all: Totals) -> io::Result<()> {
        let log = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "quant-session",
                        "version": env!("CARGO_PKG_VERSION"),
                        "rules": Rule::ALL.iter().map(|&r| rule_descriptor(r)).collect::<Vec<_>>(),
                    }
                },
                "results": std::mem::take(&mut self.results),
            }]
        });
        serde_json::to_writer_pretty(&mut self.out, &log)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
