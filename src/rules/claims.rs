//! Claims checked against actions (SPEC §3), where the input shows the worker's tool
//! calls: a `SUBAGENT_SPAWN` needs a `Task`/`Agent` call for that agent in the same task
//! (and a call needs its marker); `FILES_CREATED` must match the files the task wrote.

use std::collections::HashSet;

use crate::finding::{Finding, Label};
use crate::rule::Rule;
use crate::sanitize;

/// The rules of this family.
pub const RULES: &[Rule] = &[Rule::UnbackedSubagent, Rule::UnbackedFilesCreated];

/// What a task claimed and what it did.
#[derive(Debug, Default)]
pub(crate) struct Claims {
    /// `SUBAGENT_SPAWN` markers: agent name without `@`.
    pub(crate) spawns: Vec<(String, Label)>,
    /// Subagent calls: the `subagent_type` of a `Task`/`Agent` call, empty for a call
    /// that does not name its agent (Codex's `spawn_agent`).
    pub(crate) calls: Vec<(String, Label)>,
    /// The `FILES_CREATED` the task printed (summed) and the last such line.
    pub(crate) files: Option<(u64, Label)>,
    /// Paths of the new files the task's tool calls created.
    pub(crate) writes: HashSet<String>,
}

impl Claims {
    /// The findings when the task completes.
    pub(crate) fn check(mut self) -> Vec<Finding> {
        let mut out = Vec::new();
        for (agent, spawn) in self.spawns {
            // A call names its agent (Claude's `subagent_type`), or not (Codex's
            // `spawn_agent`): a named call backs the spawn of that agent, an unnamed one
            // any spawn.
            let named = self.calls.iter().position(|(called, _)| *called == agent);
            let unnamed = || self.calls.iter().position(|(called, _)| called.is_empty());
            match named.or_else(unnamed) {
                Some(i) => {
                    self.calls.remove(i);
                }
                None => out.push(Finding::new(
                    Rule::UnbackedSubagent,
                    format!(
                        "SUBAGENT_SPAWN claims @{} but the task made no Task/Agent call for it",
                        sanitize::escape(agent.as_bytes())
                    ),
                    Label {
                        message: "no matching tool call in this task".into(),
                        ..spawn
                    },
                )),
            }
        }
        for (agent, call) in self.calls {
            let what = if agent.is_empty() {
                "a spawn_agent call".to_owned()
            } else {
                format!(
                    "a Task/Agent call for {}",
                    sanitize::quote(agent.as_bytes(), 60)
                )
            };
            out.push(
                Finding::new(
                    Rule::UnbackedSubagent,
                    format!("{what} with no SUBAGENT_SPAWN marker"),
                    Label {
                        message: "this call".into(),
                        ..call
                    },
                )
                .help("print SUBAGENT_SPAWN: @name for every subagent the task starts"),
            );
        }
        if let Some((claimed, label)) = self.files {
            let written = self.writes.len() as u64;
            if claimed != written {
                out.push(Finding::new(
                    Rule::UnbackedFilesCreated,
                    format!(
                        "FILES_CREATED says {claimed}, the task's tool calls created {written} new file{}",
                        if written == 1 { "" } else { "s" }
                    ),
                    Label {
                        message: format!("{written} created").into(),
                        ..label
                    },
                ));
            }
        }
        out
    }
}
