//! Keeps `grammar/protocol.md` and the parser in step: the keywords of the document are
//! exactly the parser's, its examples parse, its malformed lines are reported.

use std::collections::BTreeSet;

use quant_session::event::EventKind;
use quant_session::grammar::Keyword;
use quant_session::scan::{ScanOptions, scan_all};

const DOC: &str = include_str!("../grammar/protocol.md");

/// The lines of every fenced block with this info string.
fn blocks(info: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in DOC.lines() {
        if line.starts_with("```") {
            inside = !inside && line.trim_start_matches('`') == info;
            continue;
        }
        if inside && !line.trim().is_empty() {
            out.push(line);
        }
    }
    out
}

#[test]
fn the_document_names_exactly_the_parsers_keywords() {
    let mut in_doc = BTreeSet::new();
    for line in blocks("ebnf") {
        for (i, quoted) in line.split('"').enumerate() {
            let word = quoted.trim_end_matches(':');
            let keyword_like = word.len() > 3
                && (word.starts_with('@')
                    || word.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
            if i % 2 == 1 && keyword_like {
                in_doc.insert(word.to_owned());
            }
        }
    }
    let in_code: BTreeSet<String> = Keyword::ALL.iter().map(|k| k.word().to_owned()).collect();
    assert_eq!(in_doc, in_code);
}

#[test]
fn every_example_parses_as_one_marker() {
    let examples = blocks("example");
    assert!(examples.len() > 30);
    for line in examples {
        let events = scan_all(line.as_bytes(), ScanOptions::default());
        assert_eq!(events.len(), 1, "{line}");
        assert!(
            matches!(events[0].kind, EventKind::Marker(_)),
            "{line}: {:?}",
            events[0].kind
        );
    }
}

#[test]
fn every_malformed_line_is_reported() {
    let lines = blocks("malformed");
    assert!(lines.len() > 5);
    for line in lines {
        let events = scan_all(line.as_bytes(), ScanOptions::default());
        assert_eq!(events.len(), 1, "{line}");
        assert!(
            matches!(events[0].kind, EventKind::Malformed(_)),
            "{line}: {:?}",
            events[0].kind
        );
    }
}

#[test]
fn the_readme_rule_table_matches_the_rule_registry() {
    let readme = include_str!("../README.md");
    for rule in quant_session::rule::Rule::ALL {
        let row = format!(
            "| `{}` | {} | {} |",
            rule.id(),
            rule.default_severity().as_str(),
            rule.summary()
        );
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
    // And the other way: every row of the README's rule table is a rule of the registry.
    let section = readme
        .split("\n## Rules\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the README has a Rules section");
    let rows: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.trim_start_matches("| `").split('`').next().unwrap_or(""))
        .collect();
    assert_eq!(rows.len(), quant_session::rule::Rule::ALL.len(), "{rows:?}");
    for id in rows {
        assert!(
            quant_session::rule::Rule::from_id(id).is_some(),
            "the README's rule table names `{id}`, which is no rule"
        );
    }
}
