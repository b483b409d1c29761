//! `checkpoint-problem` (SPEC §3, the fourth mandatory rule): with `--checkpoints DIR`,
//! the checkpoint of a `pane-N.*` transcript, `DIR/pane-N.json`, must be readable and not
//! behind the transcript's last session. Reading and judging the file is
//! [`crate::checkpoint`]'s; this turns its verdict into a finding.

use std::path::Path;

use crate::checkpoint::{self, CheckpointStatus};
use crate::finding::{Finding, Label};
use crate::rule::Rule;
use crate::rule::RuleOptions;
use crate::state::SessionState;

/// The rules of this family.
pub const RULES: &[Rule] = &[Rule::CheckpointProblem];

/// Why `checkpoint-problem` cannot run on the input at `path` (SPEC §10), if it cannot.
pub fn not_checked(
    path: Option<&Path>,
    dir: Option<&Path>,
    rules: &RuleOptions,
) -> Option<(Rule, &'static str)> {
    rules.levels.severity(Rule::CheckpointProblem)?;
    match (dir, path) {
        (None, _) => Some((Rule::CheckpointProblem, "no --checkpoints DIR")),
        (Some(_), None) => Some((Rule::CheckpointProblem, "stdin has no pane checkpoint")),
        (Some(_), Some(p)) if checkpoint::pane_of(p).is_none() => {
            Some((Rule::CheckpointProblem, "not named pane-N"))
        }
        _ => None,
    }
}

/// `checkpoint-problem` (with `--checkpoints DIR`): the checkpoint of a `pane-N.*`
/// transcript, `DIR/pane-N.json`, must be readable and not behind the transcript's last
/// session. The finding points at that session's `SESSION_START`.
pub fn finding(
    last: &SessionState,
    path: Option<&Path>,
    dir: Option<&Path>,
    rules: &RuleOptions,
) -> Option<Finding> {
    let (Some(dir), Some(pane)) = (dir, path.and_then(checkpoint::pane_of)) else {
        return None;
    };
    let severity = rules.levels.severity(Rule::CheckpointProblem)?;
    let mut cp = checkpoint::read_in(dir, pane);
    checkpoint::compare(&mut cp, Some(last));
    if cp.status == CheckpointStatus::Ok {
        return None;
    }
    let why = cp
        .error
        .as_ref()
        .map(|e| {
            let at = e.line.map_or(String::new(), |l| {
                format!(" (line {l}, column {})", e.column.unwrap_or(1))
            });
            format!(": {}{at}", e.message)
        })
        .unwrap_or_default();
    let mut finding = Finding::new(
        Rule::CheckpointProblem,
        format!(
            "checkpoint {} is {}{why}",
            crate::sanitize::escape(cp.path.display().to_string().as_bytes()),
            cp.status.as_str()
        ),
        Label {
            message: "the checkpoint should hold this session's state".into(),
            ..last.start.clone()
        },
    )
    .help(format!(
        "{}; `quant-session postmortem --checkpoints {} {}` shows what was salvaged",
        Rule::CheckpointProblem.fix(),
        dir.display(),
        path.map_or(String::new(), |p| p.display().to_string())
    ));
    finding.severity = severity;
    Some(finding)
}
