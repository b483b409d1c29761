//! Claude Code `--output-format stream-json` (NDJSON) and session files: which text in a
//! record is the worker speaking, and which tool calls it made (a [`Format`]).
//!
//! In `claude -p` text mode only the final message reaches stdout, so the real pipe is
//! `claude -p … --output-format stream-json --verbose | quant-session check`. Counted as
//! the worker's output: the text blocks of its own assistant messages
//! (`parent_tool_use_id: null`, not `isSidechain`) and the results of the `Bash` commands
//! it ran (a worker may run the seed's `SessionManager`; the same output in
//! `tool_use_result.stdout` is not read again). Not counted: tool inputs (prompts to
//! subagents), results of other tools (`Read` of a file that quotes markers), user
//! messages, subagents' messages, `stream_event` deltas. A `result` record's `subtype`
//! (not `is_error`) is the worker's exit status. Unknown record types and fields are
//! normal (schema drift): counted, never an error.
//!
//! A record is read in pieces as it arrives, whatever its size (see [`lexer`]): the text
//! of a string that can hold markers is scanned as it is decoded, and what it yields is
//! kept until the end of the record says whose text it was. Nothing else of a record is
//! kept but a few short fields (type, ids, tool names, paths).

mod fields;

use std::collections::HashSet;

use super::lexer::Lexer;
use super::{Exit, Format, InFlight, Item, Record, RecordCounts, ToolCall, ToolDone, WorkerRun};
use crate::replay::{Excerpt, Said, Who};
use crate::usage::{ModelUsage, Tokens, Usage};
use fields::{Block, Current, Key};

/// Claude Code `--output-format stream-json` and its session files: any record the
/// other formats do not tell as theirs (it is tried last).
pub const SPEC: super::Spec = super::Spec {
    names: &[
        (
            "stream-json",
            "Claude Code `--output-format stream-json` (NDJSON)",
        ),
        (
            "transcript",
            "A Claude Code session file (`~/.claude/projects/…/<session>.jsonl`)",
        ),
    ],
    cli: "claude",
    detect: |_| true,
    reader: || Box::new(ClaudeCode::default()),
    // `system` `init` (or a hook's `system` record before it).
    opens: &[b"system"],
    documents: &[],
};

/// How many calls without a result are remembered (bounded memory on any input).
const MAX_PENDING: usize = 4096;
/// How many paths a session's tool calls touched are remembered.
const MAX_PATHS: usize = 100_000;

/// The state kept across the records of one stream.
#[derive(Debug, Default)]
pub struct ClaudeCode {
    lexer: Lexer<Key>,
    current: Current,
    /// Ids of the worker's own `Bash` calls whose result has not come yet.
    bash_calls: HashSet<String>,
    /// Ids of the worker's own `Task`/`Agent` calls whose result has not come yet: only
    /// their results can name a subagent's file.
    agent_calls: HashSet<String>,
    /// Paths the session read or edited: a `Write` there overwrites, it does not create.
    known_paths: HashSet<String>,
    /// The worker's calls without a result yet, by id.
    pending: std::collections::HashMap<String, InFlight>,
    last_message: String,
    /// Background agents started and not finished (`task_started`, `task_notification`).
    background: HashSet<String>,
    reported: Reported,
    run: WorkerRun,
    /// Records read, of an unknown type, and broken (a torn last line).
    counts: RecordCounts,
}

impl Format for ClaudeCode {
    fn begin(&mut self) {
        self.lexer.reset();
        self.current = Current::default();
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.lexer.feed(bytes, &mut self.current);
    }

    fn end(&mut self, line: u64) -> Option<Record> {
        self.lexer.finish(&mut self.current);
        let current = std::mem::take(&mut self.current);
        self.counts
            .ended(self.lexer.is_done())
            .then(|| self.interpret(current, line))
    }

    fn run(&self) -> WorkerRun {
        WorkerRun {
            cli: Some("claude-code"),
            in_flight: crate::format::in_flight(&self.pending),
            usage: self.reported.usage(),
            ..self.run.clone()
        }
    }

    fn counts(&self) -> RecordCounts {
        self.counts
    }
}

impl ClaudeCode {
    /// Notes a path that exists now (bounded: past the cap, a `Write` to an unseen path
    /// counts as a new file).
    fn remember(&mut self, path: String) {
        if self.known_paths.len() < MAX_PATHS {
            self.known_paths.insert(path);
        }
    }

    /// Reads one whole record (a line).
    pub fn record(&mut self, line: &[u8]) -> Record {
        self.begin();
        self.feed(line);
        self.end(1).unwrap_or_default()
    }

    fn interpret(&mut self, c: Current, line: u64) -> Record {
        let mut out = Record {
            timestamp: crate::grammar::parse_timestamp(&c.timestamp),
            ..Record::default()
        };
        let own = !c.in_subagent && !c.sidechain;
        self.run.session_file |= c.session_file;
        if self.run.conversation.is_none() && !c.session_id.is_empty() {
            self.run.conversation = Some(crate::sanitize::id(&c.session_id));
        }
        // A wait on a rate limit lasts until the next record.
        self.run.rate_limited = None;
        match c.ty.as_str() {
            "assistant" if !c.usage.is_empty() => {
                self.reported.message(&c.message_id, &c.model, c.usage);
                out.usage = self.reported.usage();
            }
            "system" if self.run.model.is_none() && !c.model.is_empty() => {
                self.run.model = Some(c.model.clone());
            }
            // A background agent started, and its end (Claude Code 2.1): a result while
            // one runs is not the CLI's last word.
            "system"
                if c.subtype == "task_started"
                    && !c.task_id.is_empty()
                    && self.background.len() < MAX_PENDING =>
            {
                self.background.insert(c.task_id.clone());
            }
            "system" if c.subtype == "task_notification" && !c.rate_status.is_empty() => {
                self.background.remove(&c.task_id);
            }
            // A limit reached: the CLI waits for it to reset (a warning is no wait).
            "rate_limit_event"
                if !c.rate_status.is_empty() && !c.rate_status.starts_with("allowed") =>
            {
                out.rate_limited = Some(c.resets_at);
                self.run.rate_limited = Some(c.resets_at);
            }
            _ => {}
        }
        match c.ty.as_str() {
            "assistant" if own => {
                // An answer: whatever interrupt came before, the worker went on.
                self.run.interrupted = false;
                if c.message_id.is_empty() || c.message_id != self.last_message {
                    self.run.messages += 1;
                    self.last_message = c.message_id;
                }
                for mut block in c.blocks {
                    match block.ty.as_str() {
                        "text" => {
                            said(&mut out, Who::Worker, block.said.take());
                            out.items.push(Item::Text(block.events));
                        }
                        "tool_use" => out.items.push(Item::Call(self.call(block, line, true))),
                        _ => {}
                    }
                }
            }
            "assistant" => {
                // A subagent's text is its own, not the worker's; its calls are events
                // with their parent (the worker's call that started it), and the files
                // it creates are the task's.
                let parent = (!c.parent.is_empty()).then_some(c.parent);
                for mut block in c.blocks {
                    if block.ty == "text" {
                        said(&mut out, Who::Subagent, block.said.take());
                    }
                    if block.ty != "tool_use" {
                        continue;
                    }
                    let call = self.call(block, line, false);
                    // A sidechain's call in a session file names no parent: it is not
                    // the worker's, and no loop is looked for in it (no id).
                    let id = if parent.is_some() { call.id } else { None };
                    out.items.push(Item::Call(ToolCall {
                        parent: parent.clone(),
                        id,
                        ..call
                    }));
                }
            }
            "user" if own => {
                if c.user_text {
                    self.run.interrupted = c.interrupted;
                }
                let mut agent_result = false;
                said(&mut out, Who::User, c.prompt);
                for mut block in c.blocks {
                    if block.ty == "text" {
                        said(&mut out, Who::User, block.said.take());
                    }
                    if block.ty != "tool_result" {
                        continue;
                    }
                    self.pending.remove(&block.tool_use_id);
                    out.items.push(Item::Done(ToolDone {
                        id: block.tool_use_id.clone(),
                        failed: block.is_error,
                    }));
                    result(
                        &mut out,
                        &block.tool_use_id,
                        block.is_error,
                        None,
                        block.said.take(),
                    );
                    if self.bash_calls.remove(&block.tool_use_id) {
                        out.items.push(Item::Text(block.events));
                    }
                    if self.agent_calls.remove(&block.tool_use_id) {
                        agent_result = true;
                        if !block.agent_id.is_empty() {
                            out.items.push(Item::SubagentRun(block.agent_id));
                        }
                    }
                }
                if agent_result
                    && !c.agent_id.is_empty()
                    && !out.items.iter().any(|i| matches!(i, Item::SubagentRun(_)))
                {
                    out.items.push(Item::SubagentRun(c.agent_id));
                }
            }
            "user" => {
                // A subagent's tool results: its calls' ends.
                // (A sidechain's record in a session file names no parent: it is a
                // subagent's all the same.)
                let parent = if c.parent.is_empty() {
                    "sidechain"
                } else {
                    c.parent.as_str()
                };
                for mut block in c.blocks.into_iter().filter(|b| b.ty == "tool_result") {
                    result(
                        &mut out,
                        &block.tool_use_id,
                        block.is_error,
                        Some(parent),
                        block.said.take(),
                    );
                    out.items.push(Item::Done(ToolDone {
                        id: block.tool_use_id,
                        failed: block.is_error,
                    }));
                }
            }
            "result" => {
                out.more = !self.background.is_empty();
                self.reported
                    .result(&c.session_id, c.usage, c.models, c.cost);
                out.usage = self.reported.usage();
                self.pending.clear();
                out.exit = Some(Exit {
                    subtype: if c.subtype.is_empty() {
                        "unknown".into()
                    } else {
                        c.subtype
                    },
                    is_error: c.is_error,
                    terminal_reason: (!c.terminal_reason.is_empty()).then_some(c.terminal_reason),
                    num_turns: c.num_turns,
                    total_cost_usd: c.cost,
                });
                self.run.exit = out.exit.clone();
            }
            // Every type SPEC §7 lists: read for what they say, or known to say nothing
            // about the protocol.
            "system"
            | "stream_event"
            | "summary"
            | "rate_limit_event"
            | "conversation_reset"
            | "file-history-snapshot"
            | "queue-operation"
            // Claude Code 2.1 session files: hook, agent and bash progress (a subagent's
            // words are read from its own file, beside the session's).
            | "progress" => {}
            _ => self.counts.unknown_records += 1,
        }
        out
    }

    /// A `tool_use` block of the worker: what it calls, and the file it creates.
    /// A tool call of the worker (`own`) or of one of its subagents: a subagent's calls
    /// only count for the files they create (they are the task's files too).
    fn call(&mut self, block: Block, line: u64, own: bool) -> ToolCall {
        let Block {
            name,
            id,
            subagent_type,
            file_path,
            command,
            old_string,
            mut input,
            ..
        } = block;
        let call_id = (!id.is_empty()).then(|| id.clone());
        if own && !id.is_empty() && self.pending.len() < MAX_PENDING {
            let detail = if command.is_empty() {
                &file_path
            } else {
                &command
            };
            let mut detail = detail.clone();
            if detail.len() > 200 {
                let mut cut = 200;
                while !detail.is_char_boundary(cut) {
                    cut -= 1;
                }
                detail.truncate(cut);
            }
            self.pending.insert(
                id.clone(),
                InFlight {
                    tool: name.clone(),
                    line,
                    subagent: (!subagent_type.is_empty()).then(|| subagent_type.clone()),
                    detail: (!detail.is_empty()).then_some(detail),
                },
            );
        }
        let path = (!file_path.is_empty()).then_some(file_path);
        let creates = match (name.as_str(), path) {
            ("Write", Some(p)) => (!self.known_paths.contains(&p)).then_some(p),
            ("Edit", Some(p)) if old_string == Some(false) => Some(p),
            (_, Some(p)) => {
                self.remember(p);
                None
            }
            (_, None) => None,
        };
        if let Some(p) = &creates {
            self.remember(p.clone());
        }
        if own
            && matches!(name.as_str(), "Task" | "Agent")
            && !id.is_empty()
            && self.agent_calls.len() < MAX_PENDING
        {
            self.agent_calls.insert(id.clone());
        }
        // The output of a command that only reads files is a file read, not the worker.
        if own
            && name == "Bash"
            && !id.is_empty()
            && self.bash_calls.len() < MAX_PENDING
            && !super::command::only_reads(&command)
        {
            self.bash_calls.insert(id);
        }
        ToolCall {
            parent: None,
            id: call_id,
            shown: input.shown(),
            input: input.0,
            subagent: (own
                && matches!(name.as_str(), "Task" | "Agent")
                && !subagent_type.is_empty())
            .then_some(subagent_type),
            tool: name,
            creates,
        }
    }
}

/// Usage as Claude Code reports it (see [`crate::usage`]), per run (a `result`'s
/// `session_id`: a log may hold several runs, whose figures add up): the last
/// `result`'s `modelUsage` and `total_cost_usd`, else every `result`'s `usage`, else
/// each assistant message's `usage` once per message id (the last record of each id).
#[derive(Debug, Default)]
struct Reported {
    /// Messages' usage, summed, and the last usage of each id seen (bounded).
    messages: Usage,
    by_id: std::collections::HashMap<String, (String, Tokens)>,
    /// The runs before the current one, summed.
    earlier: Option<Usage>,
    run_id: String,
    results: Option<Usage>,
    models: Vec<ModelUsage>,
    cost: Option<f64>,
}

/// Message ids remembered for usage (past it, a new id's usage is added as it comes).
const MAX_MESSAGE_IDS: usize = 100_000;

impl Reported {
    fn message(&mut self, id: &str, model: &str, tokens: Tokens) {
        if let Some((model, old)) = self.by_id.get(id) {
            self.messages.remove(Some(model), old);
        }
        self.messages.add(Some(model), &tokens, None);
        if !id.is_empty() && (self.by_id.len() < MAX_MESSAGE_IDS || self.by_id.contains_key(id)) {
            self.by_id.insert(id.to_owned(), (model.to_owned(), tokens));
        }
    }

    fn result(&mut self, run: &str, tokens: Tokens, models: Vec<ModelUsage>, cost: Option<f64>) {
        // Another run's result: the one before is done, its figures kept.
        if !run.is_empty() && !self.run_id.is_empty() && run != self.run_id {
            if let Some(done) = self.current() {
                self.earlier.get_or_insert_default().merge(&done);
            }
            self.results = None;
            self.models.clear();
            self.cost = None;
            self.messages = Usage::default();
            self.by_id.clear();
        }
        if !run.is_empty() {
            self.run_id = run.to_owned();
        }
        self.results
            .get_or_insert_default()
            .add(None, &tokens, None);
        // The last result's own modelUsage (an earlier one is stale).
        self.models = models;
        if cost.is_some() {
            self.cost = cost;
        }
    }

    /// The current run's usage.
    fn current(&self) -> Option<Usage> {
        let mut usage = if !self.models.is_empty() {
            let mut u = Usage::default();
            for m in &self.models {
                u.add(Some(&m.model), &m.tokens, m.cost_usd);
            }
            u
        } else if let Some(results) = self.results.as_ref().filter(|r| !r.tokens.is_empty()) {
            results.clone()
        } else {
            self.messages.clone()
        };
        // total_cost_usd when given; else the models' costUSD summed.
        if self.cost.is_some() {
            usage.cost_usd = self.cost;
        }
        (!usage.is_empty()).then_some(usage)
    }

    fn usage(&self) -> Option<Usage> {
        match (&self.earlier, self.current()) {
            (None, now) => now,
            (Some(before), None) => Some(before.clone()),
            (Some(before), Some(now)) => {
                let mut all = before.clone();
                all.merge(&now);
                Some(all)
            }
        }
    }
}

/// A message for the replay, when the run keeps one.
fn said(out: &mut Record, who: Who, text: Option<Excerpt>) {
    if let Some(text) = text {
        out.items
            .push(Item::Said(Box::new(Said::Message { who, text })));
    }
}

/// A tool result for the replay, when the run keeps one (`parent`: a subagent's, under
/// the worker's call that started it).
fn result(out: &mut Record, id: &str, failed: bool, parent: Option<&str>, text: Option<Excerpt>) {
    if let Some(text) = text {
        out.items.push(Item::Said(Box::new(Said::Result {
            id: id.to_owned(),
            failed,
            parent: parent.map(str::to_owned),
            text,
        })));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::format::looks_like_record;

    /// The markers of the worker's texts in a record, as `KEYWORD line`.
    fn texts(r: &Record) -> Vec<String> {
        r.items
            .iter()
            .filter_map(|i| match i {
                Item::Text(events) => Some(events),
                _ => None,
            })
            .flatten()
            .map(|e| match &e.kind {
                EventKind::Marker(m) => format!("{} {}", m.keyword().word(), e.at.line),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn records_are_recognised_by_their_type_key() {
        assert!(looks_like_record(br#"{"type":"system","subtype":"init"}"#));
        assert!(looks_like_record(br#"  { "type": "assistant"}"#));
        assert!(!looks_like_record(br#"{"equity_curve": [1.0]}"#));
        assert!(!looks_like_record(b"SESSION_START: x"));
        assert!(looks_like_record(
            br#"{"parentUuid":null,"isSidechain":false,"type":"user","message":{}}"#
        ));
    }

    #[test]
    fn only_the_workers_own_text_and_bash_output_count() {
        let mut s = ClaudeCode::default();
        let r = s.record(br#"{"type":"assistant","message":{"content":[{"type":"text","text":"SESSION_START: a-2026-11-23T10:15:30\nTASK_START: t"}]},"parent_tool_use_id":null}"#);
        assert_eq!(texts(&r), ["SESSION_START 1", "TASK_START 2"]);
        let sub = s.record(br#"{"type":"assistant","message":{"content":[{"type":"text","text":"TASK_START: sub"}]},"parent_tool_use_id":"toolu_1"}"#);
        assert!(texts(&sub).is_empty());
        s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_2","name":"Bash","input":{"command":"python worker.py"}}]},"parent_tool_use_id":null}"#);
        s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_3","name":"Read","input":{"file_path":"x"}}]},"parent_tool_use_id":null}"#);
        let bash = s.record(br#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_2","content":"TASK_COMPLETE: h-1\n"}]},"tool_use_result":{"stdout":"TASK_COMPLETE: h-1\n"}}"#);
        assert_eq!(texts(&bash), ["TASK_COMPLETE 1"]);
        let read = s.record(br#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_3","content":[{"type":"text","text":"TASK_START: quoted"}]}]}}"#);
        assert!(texts(&read).is_empty());
        let sidechain = s.record(br#"{"parentUuid":"u1","isSidechain":true,"type":"assistant","message":{"content":[{"type":"text","text":"TASK_START: sub"}]}}"#);
        assert!(texts(&sidechain).is_empty());
    }

    #[test]
    fn ownership_is_decided_when_the_record_ends_whatever_the_key_order() {
        let mut s = ClaudeCode::default();
        // The id of the tool result after its content, the parent after the message.
        s.record(br#"{"message":{"content":[{"name":"Bash","input":{},"id":"b1","type":"tool_use"}]},"type":"assistant"}"#);
        let r = s.record(br#"{"message":{"content":[{"content":[{"text":"TASK_START: t-1","type":"text"}],"type":"tool_result","tool_use_id":"b1"}]},"type":"user","parent_tool_use_id":null}"#);
        assert_eq!(texts(&r), ["TASK_START 1"]);
        let late_parent = s.record(br#"{"type":"assistant","message":{"content":[{"type":"text","text":"TASK_START: t-2"}]},"parent_tool_use_id":"toolu_9"}"#);
        assert!(texts(&late_parent).is_empty());
    }

    #[test]
    fn a_record_fed_in_tiny_pieces_gives_the_same_record() {
        let line = br#"{"type":"assistant","message":{"content":[{"type":"text","text":"caf\u00e9\nFILES_CREATED: 2\r\nTASK_COMPLETE: h-1"}]},"parent_tool_use_id":null}"#;
        let whole = ClaudeCode::default().record(line);
        for piece in [1, 2, 3, 7] {
            let mut s = ClaudeCode::default();
            s.begin();
            for chunk in line.chunks(piece) {
                s.feed(chunk);
            }
            assert_eq!(texts(&s.end(1).unwrap()), texts(&whole), "piece {piece}");
        }
        assert_eq!(texts(&whole), ["FILES_CREATED 2", "TASK_COMPLETE 3"]);
    }

    #[test]
    fn tool_calls_name_subagents_and_new_files() {
        let mut s = ClaudeCode::default();
        let calls = |r: Record| -> Vec<ToolCall> {
            r.items
                .into_iter()
                .filter_map(|i| match i {
                    Item::Call(c) => Some(c),
                    _ => None,
                })
                .collect()
        };
        let task = calls(s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t1","name":"Agent","input":{"subagent_type":"quant-backtester","prompt":"TASK_START: x"}}]}}"#));
        assert_eq!(task[0].subagent.as_deref(), Some("quant-backtester"));
        let write = |s: &mut ClaudeCode, line: &[u8]| calls(s.record(line)).remove(0).creates;
        assert_eq!(
            write(&mut s, br#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Write","input":{"file_path":"a.py","content":"x"}}]}}"#),
            Some("a.py".into())
        );
        // Written again: an overwrite. Read first: an overwrite too.
        assert_eq!(write(&mut s, br#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Write","input":{"file_path":"a.py","content":"y"}}]}}"#), None);
        write(&mut s, br#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Read","input":{"file_path":"b.py"}}]}}"#);
        assert_eq!(write(&mut s, br#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Write","input":{"file_path":"b.py","content":"y"}}]}}"#), None);
        assert_eq!(
            write(&mut s, br#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Edit","input":{"file_path":"c.py","old_string":"","new_string":"z"}}]}}"#),
            Some("c.py".into())
        );
        assert_eq!(write(&mut s, br#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Edit","input":{"file_path":"d.py","old_string":"q","new_string":"z"}}]}}"#), None);
    }

    #[test]
    fn files_a_subagent_creates_count_but_its_bash_output_and_calls_do_not() {
        let mut s = ClaudeCode::default();
        let r = s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"w","name":"Write","input":{"file_path":"s.py","content":"x"}}]},"parent_tool_use_id":"toolu_task"}"#);
        assert!(
            matches!(&r.items[..], [Item::Call(c)] if c.creates.as_deref() == Some("s.py") && c.parent.as_deref() == Some("toolu_task"))
        );
        // A subagent's own spawn is an event with its parent, and backs no SUBAGENT_SPAWN
        // of the worker's.
        let r = s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t","name":"Task","input":{"subagent_type":"nested"}}]},"parent_tool_use_id":"toolu_task"}"#);
        assert!(
            matches!(&r.items[..], [Item::Call(c)] if c.tool == "Task" && c.subagent.is_none() && c.parent.as_deref() == Some("toolu_task"))
        );
        s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"b","name":"Bash","input":{"command":"x"}}]},"isSidechain":true}"#);
        let r = s.record(br#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"b","content":"TASK_START: sub"}]}}"#);
        assert!(texts(&r).is_empty());
        assert_eq!(s.run().in_flight, None);
    }

    #[test]
    fn a_finished_subagent_is_named_by_its_agent_id() {
        let mut s = ClaudeCode::default();
        let task = |s: &mut ClaudeCode| {
            s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t","name":"Task","input":{"subagent_type":"quant-backtester"}}]}}"#)
        };
        let run = |r: Record| -> Vec<String> {
            r.items
                .into_iter()
                .filter_map(|i| match i {
                    Item::SubagentRun(id) => Some(id),
                    _ => None,
                })
                .collect()
        };
        // Not in the result of another tool (a command that prints `agentId: `) …
        s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"b","name":"Bash","input":{"command":"cat notes"}}]}}"#);
        let bash = s.record(br#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"b","content":"agentId: a3f9c2e1"}]}}"#);
        assert!(run(bash).is_empty());
        // … but in the Task result's text (Claude Code 2.1) …
        task(&mut s);
        let text = s.record(br#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"Done."},{"type":"text","text":"agentId: a3f9c2e1 (for resuming)"}]}]}}"#);
        assert_eq!(run(text), ["a3f9c2e1"]);
        // … or in a session file's toolUseResult, counted once.
        task(&mut s);
        let field = s.record(br#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content":"agentId: b7/../x"}]},"toolUseResult":{"agentId":"b7"}}"#);
        assert_eq!(run(field), ["b7"]);
    }

    #[test]
    fn the_result_subtype_is_the_exit_status() {
        let mut s = ClaudeCode::default();
        let r = s.record(br#"{"type":"result","subtype":"error_max_turns","is_error":false,"num_turns":23,"total_cost_usd":1.87}"#);
        let exit = r.exit.unwrap();
        assert_eq!(exit.subtype, "error_max_turns");
        assert_eq!(
            (exit.num_turns, exit.total_cost_usd),
            (Some(23), Some(1.87))
        );
        s.record(br#"{"type":"brand_new_kind"}"#);
        s.record(b"{not json");
        s.record(br#"{"type":"assistant","message":{"content":[{"type":"text","text":"TASK_ST"#);
        let c = s.counts();
        assert_eq!((c.unknown_records, c.broken_records), (1, 2));
    }

    #[test]
    fn the_call_in_flight_is_the_last_one_without_a_result() {
        let mut s = ClaudeCode::default();
        let line = |s: &mut ClaudeCode, n: u64, text: &[u8]| {
            s.begin();
            s.feed(text);
            s.end(n);
        };
        line(&mut s, 1, br#"{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"a","name":"Read","input":{"file_path":"x.md"}}]}}"#);
        line(&mut s, 2, br#"{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"b","name":"Bash","input":{"command":"python3 backtest.py"}}]}}"#);
        line(&mut s, 3, br#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"a","content":"ok"}]}}"#);
        let run = s.run();
        assert_eq!(run.messages, 1);
        assert_eq!(run.exit, None);
        let flight = run.in_flight.unwrap();
        assert_eq!((flight.tool.as_str(), flight.line), ("Bash", 2));
        assert_eq!(flight.detail.as_deref(), Some("python3 backtest.py"));
        line(
            &mut s,
            4,
            br#"{"type":"result","subtype":"error_during_execution","num_turns":4}"#,
        );
        let run = s.run();
        assert_eq!(run.in_flight, None);
        assert_eq!(run.exit.unwrap().subtype, "error_during_execution");
    }

    #[test]
    fn transcript_timestamps_are_read() {
        let r = ClaudeCode::default().record(br#"{"parentUuid":null,"type":"user","message":{"content":"hi"},"timestamp":"2026-11-23T22:43:22.764Z"}"#);
        assert_eq!(
            r.timestamp.unwrap().to_string(),
            "2026-11-23T22:43:22.764+00:00"
        );
    }
}
