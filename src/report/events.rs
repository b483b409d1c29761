//! The event stream of `quant-session parse`, as JSON Lines: one object per marker
//! (kind, typed payload, line, column, offset), malformed and unknown lines included.

use std::io::{self, Write};

use serde::Serialize;

use crate::event::{Event, EventKind, Marker, Position};

#[derive(Serialize)]
struct MarkerLine<'a> {
    #[serde(flatten)]
    marker: &'a Marker,
    #[serde(flatten)]
    at: Position,
}

#[derive(Serialize)]
struct CallLine<'a> {
    kind: &'static str,
    tool: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subagent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creates: Option<&'a str>,
    /// A subagent's call: the worker's call that started the subagent.
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<&'a str>,
    #[serde(flatten)]
    at: Position,
}

#[derive(Serialize)]
struct ExitLine<'a> {
    kind: &'static str,
    subtype: &'a str,
    cause: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_turns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_cost_usd: Option<f64>,
    #[serde(flatten)]
    at: Position,
}

#[derive(Serialize)]
struct SubagentLine<'a> {
    kind: &'static str,
    agent_id: &'a str,
    #[serde(flatten)]
    at: Position,
}

#[derive(Serialize)]
struct ClockLine {
    kind: &'static str,
    time: crate::event::Timestamp,
    #[serde(flatten)]
    at: Position,
}

#[derive(Serialize)]
struct PrefixedLine<'a> {
    kind: &'static str,
    /// The `--strip-prefix` value that would uncover the marker.
    flag: Option<&'a str>,
    #[serde(flatten)]
    at: Position,
}

#[derive(Serialize)]
struct FindingLine<'a> {
    kind: &'static str,
    rule: &'static str,
    severity: &'static str,
    #[serde(flatten)]
    at: Position,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    keyword: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    found: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    word: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestion: Option<&'a str>,
}

/// Writes one event as a JSON line.
pub fn write_event(out: &mut impl Write, event: &Event) -> io::Result<()> {
    match &event.kind {
        EventKind::Marker(marker) => crate::report::json_text::to_writer(
            &mut *out,
            &MarkerLine {
                marker,
                at: event.at,
            },
        )?,
        EventKind::ActionsVisible { .. } | EventKind::ToolDone { .. } => return Ok(()),
        EventKind::ToolCall {
            tool,
            subagent,
            creates,
            parent,
            ..
        } => crate::report::json_text::to_writer(
            &mut *out,
            &CallLine {
                kind: "tool_call",
                tool,
                subagent: subagent.as_deref(),
                creates: creates.as_deref(),
                parent: parent.as_deref(),
                at: event.at,
            },
        )?,
        EventKind::WorkerExit {
            subtype,
            cause,
            num_turns,
            total_cost_usd,
            ..
        } => crate::report::json_text::to_writer(
            &mut *out,
            &ExitLine {
                kind: "worker_exit",
                subtype,
                cause,
                num_turns: *num_turns,
                total_cost_usd: *total_cost_usd,
                at: event.at,
            },
        )?,
        EventKind::SubagentRun { agent_id } => crate::report::json_text::to_writer(
            &mut *out,
            &SubagentLine {
                kind: "subagent_run",
                agent_id,
                at: event.at,
            },
        )?,
        EventKind::Prefixed { flag } => crate::report::json_text::to_writer(
            &mut *out,
            &PrefixedLine {
                kind: "prefixed_marker",
                flag: flag.as_deref(),
                at: event.at,
            },
        )?,
        EventKind::Clock(time) => crate::report::json_text::to_writer(
            &mut *out,
            &ClockLine {
                kind: "clock",
                time: *time,
                at: event.at,
            },
        )?,
        kind => {
            let Some(finding) = crate::rules::marker::from_event(event) else {
                return Ok(());
            };
            let mut line = FindingLine {
                kind: "",
                rule: finding.rule.id(),
                severity: finding.severity.as_str(),
                at: finding.primary.at,
                message: &finding.message,
                keyword: None,
                expected: None,
                found: None,
                word: None,
                suggestion: None,
            };
            match kind {
                EventKind::Malformed(m) => {
                    line.kind = "malformed_marker";
                    line.keyword = Some(m.keyword);
                    line.expected = Some(m.expected);
                    line.found = Some(&m.found);
                }
                EventKind::Unknown { word, suggestion } => {
                    line.kind = "unknown_marker";
                    line.word = Some(word);
                    line.suggestion = Some(suggestion.word());
                }
                _ => {}
            }
            crate::report::json_text::to_writer(&mut *out, &line)?;
        }
    }
    out.write_all(b"\n")
}
