//! OpenAI Codex CLI `codex exec --json` (SPEC §7): events `thread.started`,
//! `turn.started`, `turn.completed`, `turn.failed` (`error.message`), `item.started` /
//! `item.updated` / `item.completed` (with an `item`: `id`, `type`, …) and `error`.
//!
//! The worker speaks in its completed `agent_message` items (`text`) and in the
//! `aggregated_output` of its completed `command_execution` items, like Claude's `Bash`
//! results; never in `reasoning`, in started or updated items, or in tool results. A
//! completed `file_change` with a change of kind `add` backs `FILES_CREATED`, a completed
//! `collab_tool_call` to `spawn_agent` a `SUBAGENT_SPAWN` (of any agent: the call names
//! none, so it backs one spawn, whichever). The run
//! ended as its last turn did: `turn.completed` is success, `turn.failed` an error, and
//! a stream without either after its last `turn.started` was killed. An `error` event is
//! not an end (the run may go on).

use std::collections::HashMap;

use super::lexer::{Frame, JsonSink, KeySet, Kind, Lexer};
use super::{
    Digest, Exit, Format, InFlight, Item, Record, RecordCounts, ToolCall, ToolDone, WorkerRun,
    WorkerText,
};
use crate::replay::{Said, Who};
use crate::usage::{Tokens, Usage};

/// `codex exec --json`: told by its event types (`thread.*`, `turn.*`, `item.*`).
pub const SPEC: super::Spec = super::Spec {
    names: &[(
        "codex",
        "Codex CLI `codex exec --json`, or a Codex rollout file",
    )],
    cli: "codex",
    detect: |first| {
        super::type_of(first).is_some_and(|t| {
            t.starts_with(b"thread.") || t.starts_with(b"turn.") || t.starts_with(b"item.")
        })
    },
    reader: || Box::new(Codex::default()),
    opens: &[b"thread.started"],
    documents: &[],
};

/// The keys of Codex events this reader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Type,
    Item,
    Id,
    Text,
    AggregatedOutput,
    Command,
    Changes,
    Path,
    Kind,
    Tool,
    Status,
    Usage,
    ExitCode,
    Arguments,
    Query,
    Server,
    ThreadId,
    Other,
}

impl KeySet for Key {
    const OTHER: Key = Key::Other;

    fn from_bytes(name: &[u8]) -> Key {
        match name {
            b"type" => Key::Type,
            b"item" => Key::Item,
            b"id" => Key::Id,
            b"text" => Key::Text,
            b"aggregated_output" => Key::AggregatedOutput,
            b"command" => Key::Command,
            b"changes" => Key::Changes,
            b"path" => Key::Path,
            b"kind" => Key::Kind,
            b"tool" => Key::Tool,
            b"status" => Key::Status,
            b"usage" => Key::Usage,
            b"exit_code" => Key::ExitCode,
            b"arguments" => Key::Arguments,
            b"query" => Key::Query,
            b"server" => Key::Server,
            b"thread_id" => Key::ThreadId,
            _ => Key::Other,
        }
    }
}

/// How much of a text whose owner is not known yet is held (a `text` before its item's
/// `type`): the CLI prints the type first.
const MAX_HELD: usize = 64 * 1024;
/// Items remembered without their completion, and files created per item.
const MAX_PENDING: usize = 4096;
const MAX_CHANGES: usize = 4096;

/// What is known of the event being read.
#[derive(Debug, Default)]
struct Current {
    ty: String,
    /// A `thread.started`'s `thread_id`.
    thread_id: String,
    item_id: String,
    item_type: String,
    command: String,
    /// A `collab_tool_call`'s tool (`spawn_agent`, …) and an item's status.
    tool: String,
    status: String,
    /// The change of a `file_change` being read: its path and kind.
    change_path: String,
    change_kind: String,
    /// Paths the item adds.
    added: Vec<String>,
    /// A command's non-zero `exit_code`.
    exit_failed: bool,
    /// A turn's `usage`, and the last key read in it.
    usage: Tokens,
    key_name: Vec<u8>,
    /// The item's input (command, arguments, query, server), digested.
    input: Digest,
    hashing: bool,
    target: Option<Target>,
    /// The worker's text in this event: scanned as it is decoded when its owner is known.
    text: Option<WorkerText>,
    held: Vec<u8>,
    /// The item's `text` or `aggregated_output`, when the run replays.
    said: Option<crate::replay::Excerpt>,
}

/// Where the string value being read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Type,
    ThreadId,
    ItemId,
    ItemType,
    Command,
    Tool,
    Status,
    ChangePath,
    ChangeKind,
    /// `text` or `aggregated_output`: maybe the worker speaking.
    Text,
}

/// The state kept across the events of one stream.
#[derive(Debug, Default)]
pub struct Codex {
    lexer: Lexer<Key>,
    current: Current,
    /// Items started and not completed, by id: the tool call in flight.
    pending: HashMap<String, InFlight>,
    /// A turn started and has not ended.
    in_turn: bool,
    /// Every turn's usage, summed.
    usage: Option<Usage>,
    run: WorkerRun,
    /// Records read, of an unknown type, and broken.
    counts: RecordCounts,
}

impl Codex {
    fn interpret(&mut self, mut c: Current, line: u64) -> Record {
        let mut out = Record::default();
        let completed = c.ty == "item.completed";
        let speaking = completed && speaks(&c.item_type, &c.command);
        if speaking {
            let mut events = c.text.take().map(WorkerText::finish).unwrap_or_default();
            if !c.held.is_empty() {
                events.extend(WorkerText::scan(&c.held));
            }
            if !events.is_empty() {
                out.items.push(Item::Text(events));
            }
        }
        match c.ty.as_str() {
            "thread.started" => {
                if self.run.conversation.is_none() && !c.thread_id.is_empty() {
                    self.run.conversation = Some(crate::sanitize::id(&c.thread_id));
                }
            }
            "error" => {}
            "turn.started" => {
                self.in_turn = true;
                self.run.exit = None;
            }
            "turn.completed" | "turn.failed" => {
                if !c.usage.is_empty() {
                    // Codex's input count holds its cached part; its total (as a
                    // rollout's `total_tokens` says) is input and output.
                    let mut tokens = c.usage;
                    if tokens.total_tokens == 0 {
                        tokens.total_tokens = tokens.input_tokens + tokens.output_tokens;
                    }
                    self.usage.get_or_insert_default().add(None, &tokens, None);
                    out.usage = self.usage.clone();
                }
                self.in_turn = false;
                self.pending.clear();
                let failed = c.ty == "turn.failed";
                out.exit = Some(Exit {
                    subtype: if failed { "error" } else { "success" }.to_owned(),
                    is_error: failed,
                    terminal_reason: None,
                    num_turns: None,
                    total_cost_usd: None,
                });
                self.run.exit = out.exit.clone();
            }
            "item.started" | "item.updated" => {
                if c.item_type != "agent_message"
                    && c.item_type != "reasoning"
                    && !c.item_id.is_empty()
                    && self.pending.len() < MAX_PENDING
                {
                    self.pending.entry(c.item_id).or_insert(InFlight {
                        tool: c.item_type,
                        line,
                        subagent: None,
                        detail: (!c.command.is_empty()).then_some(c.command),
                    });
                }
            }
            "item.completed" => {
                self.pending.remove(&c.item_id);
                let id = (!c.item_id.is_empty()).then(|| c.item_id.clone());
                let input = c.input.0;
                let shown = c.input.shown();
                let failed = c.status == "failed" || c.exit_failed;
                let done = Item::Done(ToolDone {
                    id: c.item_id.clone(),
                    failed,
                });
                let said = c.said.take().map(|text| match c.item_type.as_str() {
                    "agent_message" => Said::Message {
                        who: Who::Worker,
                        text,
                    },
                    "reasoning" => Said::Message {
                        who: Who::Reasoning,
                        text,
                    },
                    _ => Said::Result {
                        parent: None,
                        id: c.item_id.clone(),
                        failed,
                        text,
                    },
                });
                // The message before what it says; a result after its call.
                let mut said = said.map(|s| Item::Said(Box::new(s)));
                if matches!(c.item_type.as_str(), "agent_message" | "reasoning") {
                    out.items.extend(said.take());
                }
                match c.item_type.as_str() {
                    "agent_message" => self.run.messages += 1,
                    // A subagent started (newer builds): it backs a SUBAGENT_SPAWN, of
                    // whatever agent (the call does not name one).
                    "collab_tool_call" if c.tool == "spawn_agent" && c.status != "failed" => {
                        out.items.push(Item::Call(ToolCall {
                            parent: None,
                            tool: "spawn_agent".into(),
                            subagent: Some(String::new()),
                            creates: None,
                            id,
                            input,
                            shown,
                        }));
                        out.items.push(done);
                    }
                    // One call per item, updates too (an edit between two runs of a
                    // command is no loop); each file it adds backs FILES_CREATED.
                    "file_change" => {
                        // What an edit changes is not in the event: each is its own
                        // input (its id digested too), never the same call again.
                        let input = input ^ super::Digest::of(c.item_id.as_bytes()).rotate_left(7);
                        let mut added = c.added.into_iter();
                        out.items.push(Item::Call(ToolCall {
                            parent: None,
                            tool: "file_change".into(),
                            subagent: None,
                            creates: added.next(),
                            id,
                            input,
                            shown,
                        }));
                        for path in added {
                            out.items.push(Item::Call(ToolCall {
                                parent: None,
                                tool: "file_change".into(),
                                subagent: None,
                                creates: Some(path),
                                id: None,
                                input: 0,
                                shown: None,
                            }));
                        }
                        out.items.push(done);
                    }
                    // The other tools a turn calls (SPEC §7): a command, an MCP tool (by
                    // its name; a failed one in a good turn is not a failed run), a web
                    // search.
                    "command_execution" | "mcp_tool_call" | "web_search" => {
                        let tool = if c.tool.is_empty() {
                            c.item_type
                        } else {
                            c.tool
                        };
                        out.items.push(Item::Call(ToolCall {
                            parent: None,
                            tool,
                            subagent: None,
                            creates: None,
                            id,
                            input,
                            shown,
                        }));
                        out.items.push(done);
                    }
                    _ => {}
                }
                out.items.extend(said);
            }
            _ => self.counts.unknown_records += 1,
        }
        out
    }
}

impl Format for Codex {
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
            cli: Some("codex"),
            in_flight: super::in_flight(&self.pending),
            usage: self.usage.clone(),
            ..self.run.clone()
        }
    }

    fn counts(&self) -> RecordCounts {
        self.counts
    }
}

/// Whether the text of a completed item of `item_type` is the worker speaking: its
/// messages, and the output of its commands that run something (not of `cat`, `rg`…).
fn speaks(item_type: &str, command: &str) -> bool {
    match item_type {
        "agent_message" => true,
        "command_execution" => !super::command::only_reads(command),
        _ => false,
    }
}

/// Which kept string a value at `path` is.
fn target(path: &[Frame<Key>]) -> Option<Target> {
    use Frame::{Array, Object};
    Some(match path {
        [Object(Key::Type)] => Target::Type,
        [Object(Key::ThreadId)] => Target::ThreadId,
        [Object(Key::Item), Object(Key::Id)] => Target::ItemId,
        [Object(Key::Item), Object(Key::Type)] => Target::ItemType,
        [Object(Key::Item), Object(Key::Command)] => Target::Command,
        [Object(Key::Item), Object(Key::Tool)] => Target::Tool,
        [Object(Key::Item), Object(Key::Status)] => Target::Status,
        [Object(Key::Item), Object(Key::Text | Key::AggregatedOutput)] => Target::Text,
        [
            Object(Key::Item),
            Object(Key::Changes),
            Array,
            Object(Key::Path),
        ] => Target::ChangePath,
        [
            Object(Key::Item),
            Object(Key::Changes),
            Array,
            Object(Key::Kind),
        ] => Target::ChangeKind,
        _ => return None,
    })
}

impl Current {
    fn field(&mut self, target: Target) -> Option<&mut String> {
        Some(match target {
            Target::Type => &mut self.ty,
            Target::ThreadId => &mut self.thread_id,
            Target::ItemId => &mut self.item_id,
            Target::ItemType => &mut self.item_type,
            Target::Command => &mut self.command,
            Target::Tool => &mut self.tool,
            Target::Status => &mut self.status,
            Target::ChangePath => &mut self.change_path,
            Target::ChangeKind => &mut self.change_kind,
            Target::Text => return None,
        })
    }
}

/// Whether a value at `path` is part of an item's input (what it ran or asked).
fn in_input(path: &[Frame<Key>]) -> bool {
    use Frame::Object;
    matches!(
        path,
        [
            Object(Key::Item),
            Object(
                Key::Command | Key::Arguments | Key::Query | Key::Server | Key::Tool | Key::Changes
            ),
            ..
        ]
    )
}

impl JsonSink<Key> for Current {
    fn key(&mut self, path: &[Frame<Key>], name: &[u8]) {
        use Frame::Object;
        if let [Object(Key::Usage), Object(_)] = path {
            self.key_name.clear();
            self.key_name.extend_from_slice(name);
        } else if in_input(path) {
            self.input.key(name);
        }
    }

    fn start(&mut self, path: &[Frame<Key>], kind: Kind) {
        self.hashing = in_input(path);
        if self.hashing {
            self.input.mark(kind as u8);
        }
        self.target = None;
        if kind != Kind::String {
            return;
        }
        let Some(target) = target(path) else { return };
        self.target = Some(target);
        if target == Target::Text && self.said.is_none() && crate::replay::capturing() {
            self.said = Some(Default::default());
        }
        let known = self.ty == "item.completed" && speaks(&self.item_type, &self.command);
        if target == Target::Text && known {
            self.text = Some(WorkerText::default());
        }
        if let Some(field) = self.field(target) {
            field.clear();
        }
    }

    fn string(&mut self, bytes: &[u8]) {
        if self.hashing {
            self.input.feed(bytes);
        }
        if let (Some(Target::Text), Some(said)) = (self.target, &mut self.said) {
            said.push(bytes);
        }
        match self.target {
            Some(Target::Text) => match &mut self.text {
                Some(text) => text.feed(bytes),
                // The item's type has not come yet: hold the start of the text.
                None if self.item_type.is_empty() && self.ty == "item.completed" => {
                    let room = MAX_HELD.saturating_sub(self.held.len());
                    self.held.extend_from_slice(&bytes[..bytes.len().min(room)]);
                }
                None => {}
            },
            Some(target) => {
                if let Some(field) = self.field(target) {
                    crate::format::keep(field, bytes);
                }
            }
            None => {}
        }
    }

    fn end(&mut self, path: &[Frame<Key>], kind: Kind, literal: &[u8]) {
        use Frame::{Array, Object};
        self.target = None;
        self.hashing = false;
        match (path, kind) {
            ([Object(Key::Usage), Object(_)], Kind::Literal) => {
                self.usage.set(&self.key_name, literal);
            }
            ([Object(Key::Item), Object(Key::ExitCode)], Kind::Literal) => {
                self.exit_failed = !matches!(literal, b"0" | b"null");
            }
            _ if kind == Kind::Literal && in_input(path) => self.input.feed(literal),
            _ => {}
        }
        // The end of one change of a `file_change`: an added path is a new file.
        if kind == Kind::Object && matches!(path, [Object(Key::Item), Object(Key::Changes), Array])
        {
            let path = std::mem::take(&mut self.change_path);
            if std::mem::take(&mut self.change_kind) == "add"
                && !path.is_empty()
                && self.added.len() < MAX_CHANGES
            {
                self.added.push(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::markers;

    fn read(c: &mut Codex, line: &str) -> Record {
        c.begin();
        c.feed(line.as_bytes());
        c.end(1).unwrap()
    }

    #[test]
    fn completed_messages_and_command_output_are_the_worker_speaking() {
        let mut c = Codex::default();
        let r = read(
            &mut c,
            r#"{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"SESSION_START: researcher-2026-11-23T10:15:30"}}"#,
        );
        assert_eq!(markers(&r), ["SESSION_START"]);
        let r = read(
            &mut c,
            r#"{"type":"item.completed","item":{"id":"item_3","type":"command_execution","command":"bash -lc 'python3 worker.py'","aggregated_output":"TASK_START: h-1\n","exit_code":0,"status":"completed"}}"#,
        );
        assert_eq!(markers(&r), ["TASK_START"]);
        for never in [
            r#"{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"TASK_START: h-9"}}"#,
            r#"{"type":"item.started","item":{"id":"item_4","type":"command_execution","command":"ls","aggregated_output":"TASK_START: h-9\n","status":"in_progress"}}"#,
        ] {
            assert!(markers(&read(&mut c, never)).is_empty(), "{never}");
        }
        assert!(c.run().in_flight.is_some());
    }

    #[test]
    fn the_last_turn_is_the_exit() {
        let mut c = Codex::default();
        read(&mut c, r#"{"type":"turn.started"}"#);
        assert!(c.run().exit.is_none());
        let done = read(
            &mut c,
            r#"{"type":"turn.completed","usage":{"input_tokens":1}}"#,
        );
        assert_eq!(done.exit.unwrap().cause(), "success");
        let failed = read(
            &mut c,
            r#"{"type":"turn.failed","error":{"message":"stream disconnected"}}"#,
        );
        assert_eq!(failed.exit.unwrap().cause(), "error");
    }

    #[test]
    fn added_files_back_files_created() {
        let mut c = Codex::default();
        let r = read(
            &mut c,
            r#"{"type":"item.completed","item":{"id":"item_5","type":"file_change","changes":[{"path":"a.py","kind":"add"},{"path":"b.py","kind":"update"}],"status":"completed"}}"#,
        );
        let created: Vec<_> = r
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Call(call) => call.creates.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(created, ["a.py"]);
    }

    #[test]
    fn commands_mcp_tools_and_web_searches_are_tool_calls() {
        let mut c = Codex::default();
        let calls = |c: &mut Codex, record: &str| -> Vec<String> {
            read(c, record)
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Call(call) => Some(call.tool.clone()),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            calls(
                &mut c,
                r#"{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"bash -lc ls","aggregated_output":"","exit_code":0,"status":"completed"}}"#
            ),
            ["command_execution"]
        );
        assert_eq!(
            calls(
                &mut c,
                r#"{"type":"item.completed","item":{"id":"i2","type":"mcp_tool_call","server":"gh","tool":"list_tags","status":"failed"}}"#
            ),
            ["list_tags"]
        );
        assert_eq!(
            calls(
                &mut c,
                r#"{"type":"item.completed","item":{"id":"i3","type":"web_search","query":"rust"}}"#
            ),
            ["web_search"]
        );
        // A message and a to-do list are not calls.
        assert!(
            calls(
                &mut c,
                r#"{"type":"item.completed","item":{"id":"i4","type":"todo_list","items":[]}}"#
            )
            .is_empty()
        );
    }
}
