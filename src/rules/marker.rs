//! The marker rules (SPEC §3): a line that starts like a marker is one. The grammar
//! finds the bad payload or the near-miss keyword; these say what is wrong.

use crate::event::{Event, EventKind};
use crate::finding::{Finding, Label};
use crate::rule::Rule;
use crate::sanitize;

/// The rules of this family.
pub const RULES: &[Rule] = &[Rule::MalformedMarker, Rule::UnknownMarker];

/// The finding an event carries by itself (`malformed-marker`, `unknown-marker`).
pub fn from_event(event: &Event) -> Option<Finding> {
    match &event.kind {
        EventKind::Malformed(m) => Some(
            Finding::new(
                Rule::MalformedMarker,
                format!("malformed {} marker: {}", m.keyword, m.message()),
                Label {
                    at: m.at,
                    len: m.len,
                    message: format!("expected {}", m.expected).into(),
                    text: event.text.clone(),
                },
            )
            .help(format!(
                "write the payload of {} as the protocol defines it; `quant-session parse` shows how a line is read",
                m.keyword
            )),
        ),
        EventKind::Unknown { word, suggestion } => Some(
            Finding::new(
                Rule::UnknownMarker,
                format!(
                    "unknown marker {}: did you mean {suggestion}?",
                    sanitize::quote(word.as_bytes(), 40)
                ),
                Label {
                    at: event.at,
                    len: word.len() as u64,
                    message: "not a protocol keyword".into(),
                    text: event.text.clone(),
                },
            )
            .help(format!("did you mean `{suggestion}:`? Keywords are spelled exactly")),
        ),
        _ => None,
    }
}
