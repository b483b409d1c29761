//! The session rules (SPEC §3): sessions follow one another, each opened by
//! `SESSION_START`, reading the pattern files first, and closed by the
//! `SESSION_COMPLETE` of its own id.

use crate::event::Event;
use crate::finding::{Finding, Label};
use crate::grammar::Keyword;
use crate::rule::Rule;
use crate::rules::q;

/// The rules of this family.
pub const RULES: &[Rule] = &[
    Rule::PatternsNotRead,
    Rule::MissingSessionComplete,
    Rule::MarkerOutsideSession,
    Rule::NestedSession,
    Rule::SessionIdMismatch,
];

/// What a session read of the pattern files, at its first task or its end.
pub struct Patterns<'a> {
    pub required: &'a [String],
    pub read: &'a [String],
    /// The `PATTERN_FILES_READ` line, if any.
    pub read_at: Option<&'a Label>,
    pub session_start: &'a Label,
}

/// `patterns-not-read`, checked at `at`: the first task, or the session's start when it
/// ends without tasks.
pub fn patterns_not_read(p: Patterns<'_>, at: Label) -> Option<Finding> {
    let missing: Vec<&str> = p
        .required
        .iter()
        .filter(|r| !p.read.contains(r))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let (message, related) = match p.read_at {
        None if at.at == p.session_start.at => (
            "no PATTERN_FILES_READ in a session without tasks".to_owned(),
            p.session_start.clone(),
        ),
        None => (
            "no PATTERN_FILES_READ before the first task".to_owned(),
            p.session_start.clone(),
        ),
        Some(l) => (
            format!("PATTERN_FILES_READ does not name {}", missing.join(", ")),
            l.clone(),
        ),
    };
    let required = p.required.join(", ");
    Some(
        Finding::new(Rule::PatternsNotRead, message, at)
            .related(related)
            .help(format!(
                "read {required} first and print `PATTERN_FILES_READ: {required}` right after SESSION_START"
            )),
    )
}

/// `marker-outside-session`.
pub fn outside(keyword: Keyword, event: &Event) -> Finding {
    Finding::new(
        Rule::MarkerOutsideSession,
        format!("{keyword} outside any session"),
        Label::marker(event, "no session is open here"),
    )
}

/// `nested-session`: a `SESSION_START` while the session started at `open` is open.
pub fn nested(event: &Event, open: &Label) -> Finding {
    Finding::new(
        Rule::NestedSession,
        "SESSION_START while another session is open",
        Label::marker(event, "new session starts here"),
    )
    .related(Label {
        message: "this session is still open".into(),
        ..open.clone()
    })
}

/// `session-id-mismatch`: `SESSION_COMPLETE` names `completed`, the session started as
/// `started` at `start`.
pub fn id_mismatch(
    completed: &str,
    started: &str,
    event: &Event,
    start: &Label,
) -> Option<Finding> {
    (completed != started).then(|| {
        Finding::new(
            Rule::SessionIdMismatch,
            format!(
                "SESSION_COMPLETE names {} but the session started as {}",
                q(completed),
                q(started)
            ),
            Label::marker(event, "this id"),
        )
        .related(start.clone())
    })
}

/// What a session that never completed left open.
pub struct LeftOpen<'a> {
    pub id: &'a str,
    pub start: &'a Label,
    /// Why it ended: "the input ended", "a new SESSION_START came", ….
    pub why: &'a str,
    /// The ids of its open tasks.
    pub tasks: &'a [std::sync::Arc<str>],
    pub untracked_tasks: u64,
    pub subagents: u64,
    pub unconfirmed_request: bool,
    pub last_marker: Option<(Keyword, u64)>,
    /// The next session's start, when one cut it off.
    pub next: Option<&'a Label>,
}

/// `missing-session-complete`, listing what was left open and the last marker.
pub fn never_completed(s: LeftOpen<'_>) -> Finding {
    let mut what_open = Vec::new();
    if !s.tasks.is_empty() {
        // Named up to a few: each one has its own task-not-completed finding.
        const NAMED: usize = 8;
        let mut ids: Vec<String> = s.tasks.iter().take(NAMED).map(|t| q(t)).collect();
        if s.tasks.len() > NAMED {
            ids.push(format!("and {} more", s.tasks.len() - NAMED));
        }
        what_open.push(format!("open tasks {}", ids.join(", ")));
    }
    if s.untracked_tasks > 0 {
        what_open.push(format!(
            "{} more tasks past the tracking limit",
            s.untracked_tasks
        ));
    }
    if s.subagents > 0 {
        what_open.push(crate::finding::plural(
            s.subagents,
            "open subagent",
            "open subagents",
        ));
    }
    if s.unconfirmed_request {
        what_open.push("an unconfirmed distillation request".into());
    }
    let last = match s.last_marker {
        Some((k, line)) => format!("; last marker {k} on line {line}"),
        None => String::new(),
    };
    let open = if what_open.is_empty() {
        "nothing open".to_owned()
    } else {
        what_open.join(", ")
    };
    let f = Finding::new(
        Rule::MissingSessionComplete,
        format!(
            "session {} never completed: {} ({open}{last})",
            q(s.id),
            s.why
        ),
        Label {
            message: "this session has no SESSION_COMPLETE".into(),
            ..s.start.clone()
        },
    );
    match s.next {
        Some(next) => f.related(Label {
            message: "the next session starts here".into(),
            ..next.clone()
        }),
        None => f,
    }
}
