//! The subagent rules (SPEC §3): every `SUBAGENT_SPAWN` completes before its task ends,
//! every `SUBAGENT_COMPLETE` was spawned.

use crate::event::Event;
use crate::finding::{Finding, Label};
use crate::rule::Rule;
use crate::rules::q;

/// The rules of this family.
pub const RULES: &[Rule] = &[Rule::SubagentNotCompleted, Rule::SubagentNotSpawned];

/// `subagent-not-completed`: `agent`, spawned at `spawned`, still running when its task
/// (`end`) or session ended.
pub fn not_completed(agent: &str, spawned: Label, end: Option<Label>) -> Finding {
    let f = Finding::new(
        Rule::SubagentNotCompleted,
        format!("subagent {} was spawned but never completed", q(agent)),
        Label {
            message: "spawned here".into(),
            ..spawned
        },
    );
    match end {
        Some(end) => f.related(end),
        None => f,
    }
}

/// `subagent-not-spawned`: a `SUBAGENT_COMPLETE` with no open spawn of that agent.
pub fn not_spawned(agent: &str, event: &Event) -> Finding {
    Finding::new(
        Rule::SubagentNotSpawned,
        format!("subagent {} completed but was not spawned", q(agent)),
        Label::marker(event, "no open SUBAGENT_SPAWN for this agent"),
    )
}
