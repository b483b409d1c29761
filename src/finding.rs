//! Findings: rule violations as data (rule, severity, message, labelled lines, help),
//! independent of how they are printed. Reporters turn them into miette reports, JSON
//! objects or annotations.

use std::borrow::Cow;
use std::sync::Arc;

use crate::event::{Event, LineText, Position};
use crate::rule::{Rule, Severity};

/// A place in the input a finding points at, with the line to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub at: Position,
    /// Length in bytes of the underlined text (0: a point).
    pub len: u64,
    /// What the label says under the text (most are fixed phrases: a label kept for
    /// each of a million open tasks allocates none).
    pub message: Cow<'static, str>,
    pub text: Arc<LineText>,
}

impl Label {
    /// A label under a whole marker: from `at` to the end of its line's content.
    pub fn marker(event: &Event, message: impl Into<Cow<'static, str>>) -> Label {
        let start = (event.at.offset - event.text.offset) as usize;
        let bytes = &event.text.bytes[start.min(event.text.bytes.len())..];
        let len = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |p| p + 1);
        Label {
            at: event.at,
            len: len as u64,
            message: message.into(),
            text: event.text.clone(),
        }
    }
}

/// How an editor counts the columns of a line: SARIF in UTF-16 code units, GitHub in
/// characters (JSON and the human report count bytes, as SPEC §2 does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnUnit {
    Utf16,
    Char,
}

impl Label {
    /// The 1-based column of the label's start counted in `unit`.
    pub fn column_in(&self, unit: ColumnUnit) -> u64 {
        self.column_at(self.at.offset, unit)
    }

    /// The 1-based column just after the label's end counted in `unit`.
    pub fn end_column_in(&self, unit: ColumnUnit) -> u64 {
        self.column_at(self.at.offset + self.len, unit)
    }

    /// The column of absolute `offset` on the label's line: the bytes before it that the
    /// line text holds are counted in `unit` (a byte that is not UTF-8 counts as one).
    fn column_at(&self, offset: u64, unit: ColumnUnit) -> u64 {
        let text = &self.text;
        let bytes = offset.saturating_sub(text.offset) as usize;
        let before = &text.bytes[..bytes.min(text.bytes.len())];
        // Past the quoted part (a long line), the rest is counted as bytes.
        let beyond = bytes.saturating_sub(before.len()) as u64;
        let counted: u64 = before
            .utf8_chunks()
            .map(|chunk| {
                let valid = chunk.valid();
                let units = match unit {
                    ColumnUnit::Utf16 => valid.encode_utf16().count(),
                    ColumnUnit::Char => valid.chars().count(),
                };
                (units + chunk.invalid().len()) as u64
            })
            .sum();
        text.column + counted + beyond
    }
}

/// One rule violation.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// One line, with anything quoted from the input already escaped.
    pub message: String,
    /// The line that makes the violation certain.
    pub primary: Label,
    /// Lines that explain it (the session's start, the unfinished task).
    pub related: Vec<Label>,
    /// How to fix the worker (most are a rule's fixed text: not copied per finding).
    pub help: Cow<'static, str>,
    /// The session it belongs to (for its fingerprint).
    pub session: Option<std::sync::Arc<str>>,
    /// Its fingerprint and whether a baseline knew it (`--baseline`, `--write-baseline`).
    pub baseline: Option<Box<Known>>,
}

impl Finding {
    /// A finding with the rule's default severity and help.
    pub fn new(rule: Rule, message: impl Into<String>, primary: Label) -> Finding {
        Finding {
            rule,
            severity: rule.default_severity(),
            message: message.into(),
            primary,
            related: Vec::new(),
            help: Cow::Borrowed(rule.fix()),
            session: None,
            baseline: None,
        }
    }

    /// Adds a secondary label (unless it points where the primary label does).
    pub fn related(mut self, label: Label) -> Finding {
        if label.at != self.primary.at {
            self.related.push(label);
        }
        self
    }

    /// Replaces the help text.
    pub fn help(mut self, help: impl Into<Cow<'static, str>>) -> Finding {
        self.help = help.into();
        self
    }
}

/// `1 task`, `2 tasks`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Whether a baseline knew a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    New,
    Unchanged,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Unchanged => "unchanged",
        }
    }
}

/// A finding's fingerprint, and what the baseline says of it (when one is used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub fingerprint: String,
    pub state: Option<State>,
}
