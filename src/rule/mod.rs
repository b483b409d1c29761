//! The rules' vocabulary (SPEC §3), described once: each rule's id, default severity,
//! summary and how to fix the worker, and the levels a user sets. Every stage that names a
//! rule (findings, the session machine, reports, the configuration) reads it from here;
//! the detection lives in `rules/`, one file per family.

mod budget;
mod levels;

pub use budget::Budget;
pub use levels::{Level, RuleLevels, RuleOptions};

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
    ($($variant:ident $id:literal $severity:ident $summary:literal $fix:literal $why:literal;)*) => {
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

            /// Why it matters: the long description of `explain` and SARIF.
            pub const fn why(self) -> &'static str {
                match self { $(Rule::$variant => $why,)* }
            }
        }
    };
}

rules! {
    PatternsNotRead "patterns-not-read" Error
        "no PATTERN_FILES_READ naming every required pattern file before the first task"
        "read the pattern files (what-works.md, what-fails.md) first and print PATTERN_FILES_READ right after SESSION_START"
        "The seed's first mandatory rule: a worker that does not load what-works.md and what-fails.md repeats failed ideas and ignores proven ones. Reading them is only visible through the marker.";
    MissingDistillation "missing-distillation" Error
        "SESSION_COMPLETE without DISTILLATION_COMPLETE earlier in the session"
        "invoke @sigma-distiller before completing and wait for its DISTILLATION_COMPLETE"
        "The second mandatory rule: every session ends with a distillation so what it learned reaches the pattern files. A session that completes without DISTILLATION_COMPLETE loses that knowledge; the finding says whether the request was never made or never confirmed.";
    MissingSessionComplete "missing-session-complete" Error
        "the input ended (or a new session started) while a session was open"
        "always print the SESSION_COMPLETE block; if the worker crashed, resume from its checkpoint"
        "The third mandatory rule: the completion marker is how supervisors know a session ended cleanly. Without it the worker crashed or was cut off; the finding lists what was still open (tasks, subagents, distillation) and the last marker seen, which is where to resume.";
    CheckpointProblem "checkpoint-problem" Error
        "the pane's checkpoint is missing, unreadable, truncated or behind the transcript"
        "save the checkpoint after every task with JSON-serialisable values (datetime.isoformat())"
        "The fourth mandatory rule: checkpoints make crash recovery possible. The seed's own save_checkpoint writes truncated JSON when the state holds a datetime, so a checkpoint that looks saved may be unreadable or behind the transcript.";
    MalformedMarker "malformed-marker" Error
        "a line starts with a keyword but its payload does not parse"
        "print the payload in the form the protocol defines (see `quant-session` grammar)"
        "A marker whose payload does not parse is invisible to every tool that reads the protocol: the task, count or id it carries is lost. The label points at the first bad byte and says what was expected.";
    UnknownMarker "unknown-marker" Warning
        "an upper-case WORD_WORD: close to a keyword (a typo)"
        "spell the keyword exactly as the protocol does"
        "A misspelt keyword is prose to every reader of the protocol, so the event it announces silently disappears.";
    MarkerOutsideSession "marker-outside-session" Error
        "a marker other than SESSION_START outside any session"
        "print SESSION_START before any other marker"
        "Markers only mean something inside a session: a task or count before SESSION_START (or after the completion block) belongs to no session and is not accounted anywhere.";
    NestedSession "nested-session" Error
        "SESSION_START while a session is open"
        "complete the open session (distillation, SESSION_COMPLETE) before starting another"
        "Sessions run one after the other. A SESSION_START while a session is open means the first one was abandoned without distillation or completion.";
    SessionIdMismatch "session-id-mismatch" Error
        "SESSION_COMPLETE names another id than its SESSION_START"
        "complete the session with the id it was started with"
        "The completion marker must name the session it completes; another id means the worker lost track of its own state (or two sessions were interleaved).";
    TaskNotStarted "task-not-started" Warning
        "TASK_COMPLETE for a task with no open TASK_START"
        "print TASK_START: {task-id} when a task begins"
        "A completion without a start cannot be timed or attributed; the seed's own SessionManager prints no TASK_START at all.";
    TaskNotCompleted "task-not-completed" Error
        "a TASK_START with no TASK_COMPLETE before the session ends"
        "print TASK_COMPLETE: {task-id} when the task ends, or requeue it"
        "A task that never completes is lost work: it must be finished or requeued, otherwise the queue believes it is being handled.";
    DuplicateTask "duplicate-task" Warning
        "TASK_START for an id already started in this session"
        "give every task its own id, or complete it before starting it again"
        "Starting the same task id twice in a session means work is repeated or ids are reused, and counts no longer add up.";
    SubagentNotCompleted "subagent-not-completed" Error
        "SUBAGENT_SPAWN with no matching SUBAGENT_COMPLETE before its task ends"
        "wait for the subagent and print SUBAGENT_COMPLETE: @name before completing the task"
        "A subagent still running when its task (or session) ends may write results nobody reads, or hold resources.";
    SubagentNotSpawned "subagent-not-spawned" Warning
        "SUBAGENT_COMPLETE with no matching open spawn"
        "print SUBAGENT_SPAWN: @name when the subagent is started"
        "A completion for a subagent that was never spawned means the spawn marker was lost or the wrong agent is named.";
    DistillationNotRequested "distillation-not-requested" Warning
        "DISTILLATION_COMPLETE with no @sigma-distiller: request before it"
        "request the distillation with `@sigma-distiller: …` first"
        "The distiller is invoked by the @sigma-distiller: request; a confirmation without it suggests the worker printed the marker without running the distillation.";
    PatternsNotUpdated "patterns-not-updated" Warning
        "distillation completed but no PATTERNS_UPDATED before SESSION_COMPLETE"
        "print PATTERNS_UPDATED: file (+N entries) after the distillation"
        "A distillation that updates no pattern file produced nothing the next session can use; print PATTERNS_UPDATED even with (0 entries) to say so.";
    WorkAfterDistillation "work-after-distillation" Warning
        "TASK_START after DISTILLATION_COMPLETE: that work is not distilled"
        "finish all tasks before the distillation, or distil again"
        "Work started after the distillation is not part of what was distilled, so its lessons never reach the pattern files.";
    SummaryMismatch "summary-mismatch" Error
        "a number in the completion block or distillation request disagrees with the stream"
        "count from the session's state (tasks completed, files created) instead of estimating"
        "The completion block and distillation request are what supervisors read; a number that disagrees with the markers of the session is a reporting bug in the worker.";
    SummaryMissingField "summary-missing-field" Warning
        "the completion block lacks DURATION, TASKS_COMPLETED, STRATEGIES_PRODUCED or HYPOTHESES_QUEUED"
        "print the whole completion block after SESSION_COMPLETE"
        "The completion block is the session's summary (DURATION, TASKS_COMPLETED, STRATEGIES_PRODUCED, HYPOTHESES_QUEUED); a missing field leaves supervisors guessing.";
    UnbackedSubagent "unbacked-subagent" Warning
        "SUBAGENT_SPAWN with no Task/Agent call for that agent in the task, or such a call with no marker"
        "print SUBAGENT_SPAWN: @name exactly when the task calls the Task/Agent tool for that subagent"
        "Where tool calls are visible (stream-json, session files), a spawn marker without the call is a claim the worker did not act on, and a call without the marker is work the protocol does not see.";
    UnbackedFilesCreated "unbacked-files-created" Warning
        "FILES_CREATED disagrees with the new files the task's tool calls created (Write; Edit with an empty old_string)"
        "count the files the task created instead of estimating"
        "Where tool calls are visible, the files a task created are known: a Write to a path the session had not read or edited before (Claude Code makes a worker read a file before it overwrites it), or an Edit with an empty old_string. A different FILES_CREATED makes the session's totals, and the distillation's Output files, wrong.";
    WorkerErrorExit "worker-error-exit" Error
        "the worker's run ended badly: a Claude result with an error subtype or is_error true, a Gemini result status other than success, a failed Codex turn"
        "raise the turn or budget limit, or fix the error the result reports, and rerun the session"
        "Claude Code reports how a run ended in its last `result` record, with two signals that must both be read: an API failure arrives as subtype `success` with `is_error: true`, and `error_max_turns` can come with `is_error: false`. Either one alone is a failure. Gemini CLI says it in its result event's status, Codex CLI with turn.failed. A session cut off by such an exit names it as the cause.";
    DurationMismatch "duration-mismatch" Warning
        "DURATION differs from the time between the SESSION_START and SESSION_COMPLETE records by more than 10 % and one minute"
        "compute DURATION from the session's start time (datetime.now() - start_time) instead of estimating it"
        "In a Claude Code session file every record has a timestamp, so the length of a session is known; a DURATION far from it is an estimate, and the session statistics built on it are wrong.";
    TooManyOpen "too-many-open" Warning
        "more than 100 000 tasks or subagents open at once (or task ids started) in one session"
        "complete tasks and subagents as they finish; a worker that starts this many without completing them is looping"
        "Each open task and subagent is remembered until it completes, for task-not-completed and subagent-not-completed. Past 100 000 at once in one session, new ones are counted instead, so memory stays bounded whatever the input: their completions are matched by count (no task-not-started for them), they get no task-not-completed of their own, and past 100 000 distinct task ids duplicate-task no longer sees new ids. The finding says once, where the limit was passed, that the rest of the session is checked this way.";
    NoSession "no-session" Warning
        "the input holds no SESSION_START at all: nothing in it was checked"
        "make sure the file is a worker's output and the worker prints SESSION_START first; an empty pane log means the worker never started"
        "A report with no finding on an input that holds no session would read as a clean run, yet nothing was checked: the pane log is empty, the worker never started, or the file is not a transcript.";
    HiddenMarkers "hidden-markers" Error
        "the input holds no session, yet markers stand behind a line prefix that --strip-prefix would remove"
        "pass the --strip-prefix preset or regex that removes the prefix (docker, cri, github, journald, or e.g. '\\[pane-\\d+\\] ')"
        "Without --strip-prefix a line that begins with a log envelope's timestamp or a pane tag holds no marker, so a wrapped transcript would be reported clean with 0 sessions. The finding points at the first such line and names the flag that uncovers the markers.";
    ToolLoop "tool-loop" Warning
        "the worker made the same tool call (tool and input) five times in a row, or alternated two calls four times, with no other call between"
        "find out why the call does not give the worker what it needs (an error it misreads, a file that never changes); a tool that polls by design goes in `poll-tools` in quant-session.toml"
        "An agent that repeats a call with the same input gets the same answer: it is looping, spending tokens and time without progress, and nothing in its own output says so. Five identical calls in a row, or two calls alternating four times (A B A B A B A B), with no other call between, is the no-progress signal agent harnesses watch for. The input of a call is compared whole (every key and value, in order). Reported once per loop, at the call that completes it. Tools that poll by design (Claude Code's BashOutput and TaskOutput, Codex's write_stdin, and those named in `poll-tools`) are exempt.";
    BudgetExceeded "budget-exceeded" Error
        "the usage the worker's CLI reported passed a --budget limit (tokens, cost, turns or duration)"
        "raise the budget if the work needs it, or find out why the run used so much (a loop, a context that keeps growing, a model more expensive than planned)"
        "A budget is what a run may spend: tokens, dollars (as the CLI reports them: Claude Code's total_cost_usd; no price table), turns, or time. The figures are the CLI's own, checked as they arrive, so a live run (`run --stop-on budget-exceeded`) is stopped when it passes the limit, not after. Reported once per limit and input, at the record that passed it. Set with `--budget tokens=N,cost=USD,turns=N,duration=DUR` or a `[budget]` table in quant-session.toml.";
    WorkerHung "worker-hung" Warning
        "the agent CLI hangs: it printed its final record and has not exited --exit-grace later (run), or its last record is a tool result and nothing came for --stale (run and watch)"
        "see whether the CLI waits on the model API or on a child process; `run --stop-on worker-hung` stops it"
        "Headless agent CLIs are known to hang: Claude Code processes that print their result and never exit, stream-json that stops after a tool result while the model's next turn never comes. A supervisor that waits for the process to end waits forever, and the pane looks busy. Under `run`, a process still alive --exit-grace (default 30 s) after its final record (Claude's result, Gemini's result, Codex's turn.completed) is hung; under `run` and `watch`, a tool result followed by silence for --stale means the CLI is waiting on the model (a worker that is silent for another reason is worker-stalled). Reported once per silence.";
    WorkerStalled "worker-stalled" Warning
        "a session is open and the worker has printed nothing for longer than --stale (run and watch)"
        "find out why the worker hangs (a tool call that never returns, a prompt waiting for input); print progress markers during long tasks"
        "A live worker that prints nothing while its session is open may be stuck in a tool call, waiting for input that never comes, or rate-limited: nothing in its output says it is still working. Reported once per silence, at the last line read, by run and watch (never on a finished file, whose silence is not observable).";
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

impl Rule {
    /// A transcript that triggers the rule: its fixture, so the example is tested.
    pub fn example(self) -> &'static str {
        macro_rules! fixture {
            ($id:literal) => {
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/fixtures/rules/",
                    $id,
                    ".log"
                ))
            };
        }
        match self {
            Rule::PatternsNotRead => fixture!("patterns-not-read"),
            Rule::MissingDistillation => fixture!("missing-distillation"),
            Rule::MissingSessionComplete => fixture!("missing-session-complete"),
            Rule::CheckpointProblem => {
                "checkpoints/pane-0.json, as the seed's save_checkpoint leaves it when json.dump\n\
                 fails on a datetime:\n\n{\"state\": {\"worker_type\": \"researcher\", \"start_time\": \n"
            }
            Rule::MalformedMarker => fixture!("malformed-marker"),
            Rule::UnknownMarker => fixture!("unknown-marker"),
            Rule::MarkerOutsideSession => fixture!("marker-outside-session"),
            Rule::NestedSession => fixture!("nested-session"),
            Rule::SessionIdMismatch => fixture!("session-id-mismatch"),
            Rule::TaskNotStarted => fixture!("task-not-started"),
            Rule::TaskNotCompleted => fixture!("task-not-completed"),
            Rule::DuplicateTask => fixture!("duplicate-task"),
            Rule::SubagentNotCompleted => fixture!("subagent-not-completed"),
            Rule::SubagentNotSpawned => fixture!("subagent-not-spawned"),
            Rule::DistillationNotRequested => fixture!("distillation-not-requested"),
            Rule::PatternsNotUpdated => fixture!("patterns-not-updated"),
            Rule::WorkAfterDistillation => fixture!("work-after-distillation"),
            Rule::SummaryMismatch => fixture!("summary-mismatch"),
            Rule::SummaryMissingField => fixture!("summary-missing-field"),
            Rule::WorkerErrorExit => fixture!("worker-error-exit"),
            Rule::DurationMismatch => fixture!("duration-mismatch"),
            Rule::UnbackedSubagent => fixture!("unbacked-subagent"),
            Rule::UnbackedFilesCreated => fixture!("unbacked-files-created"),
            Rule::TooManyOpen => {
                "A session that starts 100 001 tasks and completes none:\n\n\
                 SESSION_START: researcher-2026-11-23T10:15:30\n\
                 PATTERN_FILES_READ: what-works.md, what-fails.md\n\
                 TASK_START: t-0\n\
                 TASK_START: t-1\n\
                 …\n\
                 TASK_START: t-100000\n"
            }
            Rule::NoSession => fixture!("no-session"),
            Rule::HiddenMarkers => fixture!("hidden-markers"),
            Rule::ToolLoop => fixture!("tool-loop"),
            Rule::BudgetExceeded => fixture!("budget-exceeded"),
            Rule::WorkerHung => {
                "`quant-session run -- claude -p \"…\" --output-format stream-json --verbose`, and a CLI that\n\
                 prints its result and never exits:\n\n\
                 {\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"num_turns\":12,…}\n\
                 (the process is still alive 30 seconds later)\n"
            }
            Rule::WorkerStalled => {
                "`quant-session run --stale 10s -- python3 worker.py`, and a worker that stops\n\
                 printing in the middle of a task:\n\n\
                 SESSION_START: researcher-2026-11-23T10:15:30\n\
                 PATTERN_FILES_READ: what-works.md, what-fails.md\n\
                 TASK_START: h-1\n\
                 (nothing for 10 seconds)\n"
            }
        }
    }

    /// How the rule reads each kind of input (SPEC §7): where it is checked and what
    /// backs it, per agent CLI.
    pub fn on_each_input(self) -> &'static str {
        const MARKERS: &str = "The same on every input: the markers are read from plain text, and from the worker's own text in Claude Code, Codex and Gemini output (its messages, and the output of commands that run something; never tool inputs, reasoning or file reads).";
        match self {
            Rule::UnbackedSubagent => "Claude Code (stream-json, session files): a Task/Agent tool call whose subagent_type names the agent.
Codex: a completed collab_tool_call to spawn_agent (exec --json), a spawn_agent function call (rollout files); it names no agent, so each backs one spawn, whichever.
Gemini: not checked (Gemini has no subagent tool).
Plain text, Gemini --output-format json: not checked (no tool calls in the input).",
            Rule::UnbackedFilesCreated => "Claude Code: Write calls to a path not read or written before (the files a subagent creates count for its task).
Codex: file_change changes of kind add (exec --json); the *** Add File: lines of apply_patch calls (rollout files).
Gemini: write_file calls to a new path (stream-json, chat files).
Plain text, Gemini --output-format json: not checked (no tool calls in the input).",
            Rule::WorkerErrorExit => "Claude Code stream-json: the last result record, a subtype other than success or is_error: true.
Codex exec --json: turn.failed ends the run (turn.completed is success).
Gemini: result.status other than success (stream-json); an error object (--output-format json).
Session files (Claude, Codex rollouts, Gemini chats) and plain text hold no end of the process: not checked.",
            Rule::DurationMismatch => "Checked where records carry timestamps: Claude Code session files, Codex rollout files, Gemini stream-json and chat files.
Not checked on Claude Code stream-json, Codex exec --json, Gemini --output-format json or plain text.",
            Rule::CheckpointProblem => "The same on every input: the pane's checkpoint (--checkpoints DIR, pane-N.json) against the last session read.",
            Rule::ToolLoop => "Claude Code (stream-json, session files): the worker's own tool_use calls (a subagent's calls are its own).
Codex: command, MCP, web search and collab calls (exec --json); function and custom tool calls (rollout files).
Gemini: tool_use events (stream-json), toolCalls (chat files).
Plain text, Gemini --output-format json: not checked (no tool calls in the input).",
            Rule::BudgetExceeded => "Tokens: Claude Code's usage (result records; per message in session files), Codex's turn.completed usage and rollout token_count, Gemini's result stats and chat message tokens.
Cost: Claude Code's total_cost_usd only (the other CLIs report none).
Turns: the num_turns of Claude Code's result record.
Duration: where records carry timestamps (session files, Gemini stream-json), from the first to the current record.
Plain text: not checked (no usage in the input).",
            Rule::WorkerHung => "Claude Code, Codex and Gemini streams read live: under `run`, the final record (result, turn.completed) and a process that does not exit; under `run` and `watch`, a tool result followed by silence. Never `check`, which reads a finished file.",
            Rule::WorkerStalled => "Any input read live: a worker under `run` (its silence measured as its output arrives); never `check`, which reads a finished file.",
            _ => MARKERS,
        }
    }

    /// The full documentation, as `quant-session explain` prints it.
    pub fn documentation(self) -> String {
        let example: String = match digest(self.example()) {
            Some(lines) => lines,
            None => self
                .example()
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect(),
        };
        format!(
            "{id} (default: {severity})\n\n{summary}.\n\nWhy it matters\n    {why}\n\nExample that triggers it\n{example}\nOn each input\n{inputs}\nHow to fix the worker\n    {fix}.\n",
            id = self.id(),
            severity = self.default_severity().as_str(),
            summary = capitalize(self.summary()),
            why = self.why(),
            fix = capitalize(self.fix()),
            inputs = self
                .on_each_input()
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>(),
        )
    }
}

impl Rule {
    /// The `explain` page as Markdown (SARIF's `help.markdown`, which GitHub shows
    /// beside an alert): the same sections, the example in a code block.
    pub fn documentation_markdown(self) -> String {
        let example: String = match digest(self.example()) {
            Some(lines) => lines
                .lines()
                .map(|l| format!("{}\n", l.trim_start()))
                .collect(),
            None => self.example().lines().map(|l| format!("{l}\n")).collect(),
        };
        format!(
            "**{summary}.** (default: {severity})\n\n#### Why it matters\n\n{why}\n\n#### Example that triggers it\n\n```text\n{example}```\n\n#### On each input\n\n{inputs}\n\n#### How to fix the worker\n\n{fix}. `quant-session explain {id}` prints this page.\n",
            id = self.id(),
            severity = self.default_severity().as_str(),
            summary = capitalize(self.summary()),
            why = self.why(),
            fix = capitalize(self.fix()),
            inputs = self.on_each_input(),
        )
    }
}

/// A Claude Code example (JSON records) as what each record says, one line each:
/// the raw records are too long to read in a terminal.
fn digest(example: &str) -> Option<String> {
    use serde_json::Value;
    if !example.starts_with('{') {
        return None;
    }
    let one_line = |s: &str| {
        let s = s.trim().replace('\n', " | ");
        match s.char_indices().nth(90) {
            Some((i, _)) => format!("{}…", &s[..i]),
            None => s,
        }
    };
    let shape = if example.starts_with("{\"parentUuid\"") {
        "a Claude Code session file"
    } else {
        "Claude Code stream-json"
    };
    let mut out = format!("    ({shape}; each record's line, then what it says)\n");
    for (i, line) in example.lines().enumerate() {
        let v: Value = serde_json::from_str(line).ok()?;
        let sub = v["parent_tool_use_id"].is_string() || v["isSidechain"] == true;
        let who = if sub { "subagent" } else { "worker" };
        let block = &v["message"]["content"][0];
        let said = match (v["type"].as_str(), block["type"].as_str()) {
            (Some("system"), _) => {
                format!("session init ({})", v["subtype"].as_str().unwrap_or(""))
            }
            (Some("assistant"), Some("text")) => {
                format!(
                    "{who} says: {}",
                    one_line(block["text"].as_str().unwrap_or(""))
                )
            }
            (Some("assistant"), Some("tool_use")) => {
                let input = &block["input"];
                let what = ["subagent_type", "file_path", "command"]
                    .iter()
                    .find_map(|k| input[k].as_str())
                    .unwrap_or("");
                format!(
                    "{who} calls {} {}",
                    block["name"].as_str().unwrap_or("?"),
                    one_line(what)
                )
            }
            (Some("user"), Some("tool_result")) => {
                let text = match &block["content"] {
                    Value::String(s) => s.clone(),
                    other => other[0]["text"].as_str().unwrap_or("").to_owned(),
                };
                format!("tool result: {}", one_line(&text))
            }
            (Some("user"), _) => "user message".to_owned(),
            (Some("result"), _) => {
                format!("process ends: {}", v["subtype"].as_str().unwrap_or("?"))
            }
            (kind, _) => format!("{} record", kind.unwrap_or("unknown")),
        };
        out.push_str(&format!("    {:>3}  {said}\n", i + 1));
    }
    Some(out)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_at_its_own_place_in_all() {
        for (i, &r) in Rule::ALL.iter().enumerate() {
            assert_eq!(r as usize, i);
        }
    }

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
