//! The rules about an input as a whole (SPEC §3): `no-session` and `hidden-markers`, so
//! that a report never reads "clean" when nothing was checked, `too-many-open`, said
//! once where a session passes the tracking limit, and `worker-error-exit`, the worker
//! process's own verdict. The session machine decides when; these say what.

use crate::event::{Event, LineText, Position};
use crate::finding::{Finding, Label};
use crate::rule::Rule;

/// The rules of this family.
pub const RULES: &[Rule] = &[
    Rule::NoSession,
    Rule::HiddenMarkers,
    Rule::TooManyOpen,
    Rule::WorkerErrorExit,
];

/// `worker-error-exit`: the worker's last result, at `result`, says it ended with
/// `how`.
pub fn worker_error_exit(how: &str, result: Label) -> Finding {
    let f = Finding::new(
        Rule::WorkerErrorExit,
        format!("the worker exited with {how}, not `success`"),
        Label {
            message: format!("the run ended with {how}").into(),
            ..result
        },
    );
    // A supervised process (`run`): its status, not an agent CLI's result record.
    if how.starts_with("`exit:") || how.starts_with("`signal:") {
        f.help("the worker process failed: its last lines say why; fix it and rerun the session (`--warn worker-error-exit` lets such a run pass)")
    } else {
        f
    }
}

/// The finding of an input without any session: `hidden-markers` when its markers
/// stand behind a line prefix, otherwise `no-session` at line 1.
pub fn nothing_checked(hidden: Option<(Label, Option<String>)>, lines: u64) -> Finding {
    if let Some((label, flag)) = hidden {
        let pass = match &flag {
            Some(flag) => format!("pass `--strip-prefix {flag}`"),
            None => "pass `--strip-prefix REGEX` with a regex that matches the text before the marker (or a preset: docker, cri, github, journald)".to_owned(),
        };
        let line = label.at.line;
        return Finding::new(
            Rule::HiddenMarkers,
            format!(
                "no session was checked: markers stand behind a line prefix (first on line {line}) and are read as prose"
            ),
            label,
        )
        .help(format!("{pass} to check them"));
    }
    let what = if lines == 0 {
        "the input is empty".to_owned()
    } else {
        format!(
            "no SESSION_START in {lines} line{}",
            if lines == 1 { "" } else { "s" }
        )
    };
    let start = Position {
        line: 1,
        column: 1,
        offset: 0,
        block_line: None,
    };
    Finding::new(
        Rule::NoSession,
        format!("{what}: nothing was checked"),
        Label {
            at: start,
            len: 0,
            message: "no session starts in this input".into(),
            text: LineText::empty(1, 1, 0),
        },
    )
}

/// `too-many-open`, at `event`, where the session passed `limit` tracked items.
pub fn too_many_open(event: &Event, limit: usize) -> Finding {
    Finding::new(
        Rule::TooManyOpen,
        format!(
            "more than {limit} tasks or subagents at once in this session: those past it are counted, not tracked one by one"
        ),
        Label::marker(event, "the limit is passed here"),
    )
}
