//! The rules (SPEC §3), described once: id, default severity, summary and how to fix
//! the worker. Every report format, and the README table, read this table.

use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! rules {
    ($($variant:ident $id:literal $severity:ident $summary:literal $fix:literal;)*) => {
        /// A protocol rule. Its id is stable and appears in every output format.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule { $($variant,)* }

        impl Rule {
            /// Every rule, in the order of SPEC §3.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable kebab-case id.
            pub const fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The severity unless configured otherwise.
            pub const fn default_severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// One line: what the rule reports.
            pub const fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary,)* }
            }

            /// How to fix the worker that triggers it.
            pub const fn fix(self) -> &'static str {
                match self { $(Rule::$variant => $fix,)* }
            }
        }
    };
}

rules! {
    PatternsNotRead "patterns-not-read" Error
        "no PATTERN_FILES_READ naming every required pattern file before the first task"
        "read the pattern files (what-works.md, what-fails.md) first and print PATTERN_FILES_READ right after SESSION_START";
    MissingDistillation "missing-distillation" Error
        "SESSION_COMPLETE without DISTILLATION_COMPLETE earlier in the session"
        "invoke @sigma-distiller before completing and wait for its DISTILLATION_COMPLETE";
    MissingSessionComplete "missing-session-complete" Error
        "the input ended (or a new session started) while a session was open"
        "always print the SESSION_COMPLETE block; if the worker crashed, resume from its checkpoint";
    CheckpointProblem "checkpoint-problem" Error
        "the pane's checkpoint is missing, unreadable, truncated or behind the transcript"
        "save the checkpoint after every task with JSON-serialisable values (datetime.isoformat())";
    MalformedMarker "malformed-marker" Error
        "a line starts with a keyword but its payload does not parse"
        "print the payload in the form the protocol defines (see `quant-session` grammar)";
    UnknownMarker "unknown-marker" Warning
        "an upper-case WORD_WORD: close to a keyword (a typo)"
        "spell the keyword exactly as the protocol does";
    MarkerOutsideSession "marker-outside-session" Error
        "a marker other than SESSION_START outside any session"
        "print SESSION_START before any other marker";
    NestedSession "nested-session" Error
        "SESSION_START while a session is open"
        "complete the open session (distillation, SESSION_COMPLETE) before starting another";
    SessionIdMismatch "session-id-mismatch" Error
        "SESSION_COMPLETE names another id than its SESSION_START"
        "complete the session with the id it was started with";
    TaskNotStarted "task-not-started" Warning
        "TASK_COMPLETE for a task with no open TASK_START"
        "print TASK_START: {task-id} when a task begins";
    TaskNotCompleted "task-not-completed" Error
        "a TASK_START with no TASK_COMPLETE before the session ends"
        "print TASK_COMPLETE: {task-id} when the task ends, or requeue it";
    DuplicateTask "duplicate-task" Warning
        "TASK_START for an id already started in this session"
        "give every task its own id, or complete it before starting it again";
    SubagentNotCompleted "subagent-not-completed" Error
        "SUBAGENT_SPAWN with no matching SUBAGENT_COMPLETE before its task ends"
        "wait for the subagent and print SUBAGENT_COMPLETE: @name before completing the task";
    SubagentNotSpawned "subagent-not-spawned" Warning
        "SUBAGENT_COMPLETE with no matching open spawn"
        "print SUBAGENT_SPAWN: @name when the subagent is started";
    DistillationNotRequested "distillation-not-requested" Warning
        "DISTILLATION_COMPLETE with no @sigma-distiller: request before it"
        "request the distillation with `@sigma-distiller: …` first";
    PatternsNotUpdated "patterns-not-updated" Warning
        "distillation completed but no PATTERNS_UPDATED before SESSION_COMPLETE"
        "print PATTERNS_UPDATED: file (+N entries) after the distillation";
    WorkAfterDistillation "work-after-distillation" Warning
        "TASK_START after DISTILLATION_COMPLETE: that work is not distilled"
        "finish all tasks before the distillation, or distil again";
    SummaryMismatch "summary-mismatch" Error
        "a number in the completion block or distillation request disagrees with the stream"
        "count from the session's state (tasks completed, files created) instead of estimating";
    SummaryMissingField "summary-missing-field" Warning
        "the completion block lacks DURATION, TASKS_COMPLETED, STRATEGIES_PRODUCED or HYPOTHESES_QUEUED"
        "print the whole completion block after SESSION_COMPLETE";
}

impl Rule {
    /// Looks a rule up by its id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_found_again() {
        let mut seen = std::collections::HashSet::new();
        for &r in Rule::ALL {
            assert!(seen.insert(r.id()));
            assert!(r.id().chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert_eq!(Rule::from_id(r.id()), Some(r));
        }
    }
}
