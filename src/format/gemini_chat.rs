//! Gemini CLI's on-disk chat files (`~/.gemini/tmp/<hash>/chats/session-*.json`): one
//! pretty-printed JSON document, `{"sessionId":…,"messages":[{"id","timestamp","type",
//! "content","toolCalls":[{"name","args","result","status"}]}]}`.
//!
//! Unlike the line-per-record streams, the whole file is one value: it is lexed as it
//! is read, and each message becomes a [`Record`] when its object ends, placed on the
//! line its text started on. The worker speaks in its `gemini` messages and in the output
//! of its `run_shell_command` calls that run something; a `write_file` to a new path
//! backs `FILES_CREATED`. A chat file has no final record: its end is `idle`, or
//! `in-flight` when it ends on the user's prompt (the model's reply never came).
//!
//! Current Gemini CLI writes the chat as JSON Lines instead: the header object
//! (`{"sessionId",…,"kind":"main"}`) on its own line, then one message per line
//! (`{"id","timestamp","type":"user"|"gemini","content",…,"toolCalls"}`) and
//! `{"$set":{…}}` updates. After the header, each further line is read as a message.

use std::collections::{HashSet, VecDeque};

use super::lexer::{Frame, JsonSink, KeySet, Kind, Lexer};
use super::{
    Digest, Document, Item, Place, Record, RecordCounts, ToolCall, ToolDone, WorkerRun, WorkerText,
};
use crate::replay::{Said, Who};
use crate::usage::{Tokens, Usage};

/// The keys of a chat file this reader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Messages,
    Type,
    Timestamp,
    Content,
    ToolCalls,
    Name,
    Args,
    FilePath,
    Command,
    Result,
    FunctionResponse,
    Response,
    Output,
    /// `$set`: an update of the JSON Lines chat's header.
    Set,
    Id,
    Status,
    Tokens,
    Model,
    Other,
}

impl KeySet for Key {
    const OTHER: Key = Key::Other;

    fn from_bytes(name: &[u8]) -> Key {
        match name {
            b"messages" => Key::Messages,
            b"type" => Key::Type,
            b"timestamp" => Key::Timestamp,
            b"content" => Key::Content,
            b"toolCalls" => Key::ToolCalls,
            b"name" => Key::Name,
            b"args" => Key::Args,
            b"file_path" | b"absolute_path" | b"path" => Key::FilePath,
            b"command" => Key::Command,
            b"result" => Key::Result,
            b"functionResponse" => Key::FunctionResponse,
            b"response" => Key::Response,
            b"output" => Key::Output,
            b"$set" => Key::Set,
            b"id" => Key::Id,
            b"status" => Key::Status,
            b"tokens" => Key::Tokens,
            b"model" => Key::Model,
            _ => Key::Other,
        }
    }
}

const MAX_HELD: usize = 64 * 1024;
const MAX_PATHS: usize = 100_000;

/// The message being read.
#[derive(Debug, Default)]
struct Message {
    ty: String,
    timestamp: String,
    /// Where its text starts.
    at: Place,
    text: Option<WorkerText>,
    held: Vec<u8>,
    items: Vec<Item>,
    call: Call,
    /// A `{"$set":…}` update (JSON Lines), not a message.
    update: bool,
    model: String,
    tokens: Tokens,
    /// Its content, when the run replays.
    said: Option<crate::replay::Excerpt>,
}

/// The tool call being read.
#[derive(Debug, Default)]
struct Call {
    name: String,
    path: String,
    command: String,
    output: Option<WorkerText>,
    id: String,
    status: String,
    input: Digest,
    /// Its result's output, when the run replays.
    said: Option<crate::replay::Excerpt>,
}

/// Where a string value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Type,
    Timestamp,
    Content,
    CallName,
    CallPath,
    CallCommand,
    CallOutput,
    CallId,
    CallStatus,
    Model,
}

/// What the lexer pushes into.
#[derive(Debug, Default)]
struct State {
    message: Message,
    target: Option<Target>,
    at: Place,
    ready: VecDeque<(Place, Record)>,
    known_paths: HashSet<String>,
    messages: u64,
    unknown: u64,
    worker_messages: u64,
    /// JSON Lines: each value after the header is a message, at the root.
    lines: bool,
    /// Lines that were not one JSON value (JSON Lines).
    broken: u64,
    /// The last message was the user's prompt, on this line: the reply is in flight.
    waiting: Option<u64>,
    /// The worker's messages' `tokens`, summed; the last key read in them.
    usage: Option<Usage>,
    key_name: Vec<u8>,
    /// A string inside a call's `args` is being read.
    hashing: bool,
}

/// Where `path` is within a message: past `messages[i]` in the one-document chat, the
/// path itself in the JSON Lines one; `None` outside any message.
fn in_message(lines: bool, path: &[Frame<Key>]) -> Option<&[Frame<Key>]> {
    use Frame::{Array, Object};
    match path {
        _ if lines => Some(path),
        [Object(Key::Messages), Array, rest @ ..] => Some(rest),
        _ => None,
    }
}

/// A Gemini CLI chat file.
#[derive(Debug, Default)]
pub struct GeminiChat {
    lexer: Lexer<Key>,
    state: State,
}

fn target(path: &[Frame<Key>]) -> Option<Target> {
    use Frame::{Array, Object};
    Some(match path {
        [Object(Key::Type)] => Target::Type,
        [Object(Key::Timestamp)] => Target::Timestamp,
        [Object(Key::Content)] => Target::Content,
        [Object(Key::Model)] => Target::Model,
        [Object(Key::ToolCalls), Array, Object(Key::Id)] => Target::CallId,
        [Object(Key::ToolCalls), Array, Object(Key::Status)] => Target::CallStatus,
        [Object(Key::ToolCalls), Array, Object(Key::Name)] => Target::CallName,
        [Object(Key::ToolCalls), Array, Object(Key::Args), Object(k)] => match k {
            Key::FilePath => Target::CallPath,
            Key::Command => Target::CallCommand,
            _ => return None,
        },
        [
            Object(Key::ToolCalls),
            Array,
            Object(Key::Result),
            Array,
            Object(Key::FunctionResponse),
            Object(Key::Response),
            Object(Key::Output),
        ] => Target::CallOutput,
        _ => return None,
    })
}

impl State {
    /// A tool call of the message ended: what it did.
    fn end_call(&mut self) {
        let mut call = std::mem::take(&mut self.message.call);
        let path = (!call.path.is_empty()).then_some(call.path);
        let creates = match (call.name.as_str(), path) {
            ("write_file", Some(p)) if !self.known_paths.contains(&p) => Some(p),
            (_, Some(p)) => {
                if self.known_paths.len() < MAX_PATHS {
                    self.known_paths.insert(p);
                }
                None
            }
            _ => None,
        };
        if let Some(p) = &creates
            && self.known_paths.len() < MAX_PATHS
        {
            self.known_paths.insert(p.clone());
        }
        let worker = self.message.ty == "gemini";
        if worker {
            self.message.items.push(Item::Call(ToolCall {
                parent: None,
                tool: call.name,
                subagent: None,
                creates,
                id: (!call.id.is_empty()).then(|| call.id.clone()),
                input: call.input.0,
                shown: call.input.shown(),
            }));
            if let Some(text) = call.said.take() {
                self.message.items.push(Item::Said(Box::new(Said::Result {
                    parent: None,
                    id: call.id.clone(),
                    failed: !call.status.is_empty() && call.status != "success",
                    text,
                })));
            }
        }
        if let Some(output) = call.output.filter(|_| worker) {
            self.message.items.push(Item::Text(output.finish()));
        }
        if worker && !call.id.is_empty() && !call.status.is_empty() {
            self.message.items.push(Item::Done(ToolDone {
                failed: call.status != "success",
                id: call.id,
            }));
        }
    }

    /// A message ended: it becomes a record.
    fn end_message(&mut self) {
        let mut m = std::mem::take(&mut self.message);
        if m.update && m.ty.is_empty() {
            // A `$set` of the header's fields: nothing the worker says.
            return;
        }
        self.messages += 1;
        self.waiting = match m.ty.as_str() {
            "user" => Some(if m.at.line == 0 {
                self.at.line
            } else {
                m.at.line
            }),
            "gemini" => None,
            _ => self.waiting,
        };
        let mut items = Vec::new();
        let mut usage = None;
        if let Some(text) = m.said.take() {
            let who = if m.ty == "gemini" {
                Who::Worker
            } else {
                Who::User
            };
            items.push(Item::Said(Box::new(Said::Message { who, text })));
        }
        match m.ty.as_str() {
            "gemini" => {
                self.worker_messages += 1;
                if !m.tokens.is_empty() {
                    let model = (!m.model.is_empty()).then_some(m.model.as_str());
                    self.usage
                        .get_or_insert_default()
                        .add(model, &m.tokens, None);
                    usage = self.usage.clone();
                }
                let mut events = m.text.take().map(WorkerText::finish).unwrap_or_default();
                if !m.held.is_empty() {
                    events.extend(WorkerText::scan(&m.held));
                }
                items.push(Item::Text(events));
            }
            "user" | "info" | "error" | "warning" => {}
            _ => self.unknown += 1,
        }
        items.append(&mut m.items);
        let record = Record {
            items,
            usage,
            rate_limited: None,
            more: false,
            exit: None,
            timestamp: crate::grammar::parse_timestamp(&m.timestamp),
        };
        // The scanner takes the records after every piece it feeds (of at most
        // 1 KiB): the queue stays short, and no record is ever dropped.
        let at = if m.at.line == 0 { self.at } else { m.at };
        self.ready.push_back((at, record));
    }
}

/// Whether a value at `path` (within a message) is inside a tool call's `args`.
fn in_args(path: &[Frame<Key>]) -> bool {
    use Frame::{Array, Object};
    matches!(
        path,
        [Object(Key::ToolCalls), Array, Object(Key::Args), _, ..]
    )
}

impl JsonSink<Key> for State {
    fn key(&mut self, path: &[Frame<Key>], name: &[u8]) {
        let Some(path) = in_message(self.lines, path) else {
            return;
        };
        if let [Frame::Object(Key::Tokens), Frame::Object(_)] = path {
            self.key_name.clear();
            self.key_name.extend_from_slice(name);
        } else if in_args(path) {
            self.message.call.input.key(name);
        }
    }

    fn start(&mut self, path: &[Frame<Key>], kind: Kind) {
        self.target = None;
        self.hashing = false;
        let Some(path) = in_message(self.lines, path) else {
            return;
        };
        if in_args(path) {
            self.message.call.input.mark(kind as u8);
            self.hashing = kind == Kind::String;
        }
        if path == [Frame::Object(Key::Set)] {
            self.message.update = true;
        }
        if kind != Kind::String {
            return;
        }
        let Some(t) = target(path) else { return };
        self.target = Some(t);
        if crate::replay::capturing() {
            match t {
                Target::Content if self.message.said.is_none() => {
                    self.message.said = Some(Default::default());
                }
                Target::CallOutput if self.message.call.said.is_none() => {
                    self.message.call.said = Some(Default::default());
                }
                _ => {}
            }
        }
        match t {
            Target::Content => {
                self.message.at = self.at;
                if self.message.ty == "gemini" {
                    self.message.text = Some(WorkerText::default());
                }
            }
            Target::CallOutput => {
                let call = &self.message.call;
                let runs =
                    call.name == "run_shell_command" && !super::command::only_reads(&call.command);
                if runs && self.message.ty == "gemini" {
                    self.message.call.output = Some(WorkerText::default());
                }
            }
            _ => {}
        }
    }

    fn string(&mut self, bytes: &[u8]) {
        let m = &mut self.message;
        if self.hashing {
            m.call.input.feed(bytes);
        }
        match (self.target, &mut m.said, &mut m.call.said) {
            (Some(Target::Content), Some(said), _) | (Some(Target::CallOutput), _, Some(said)) => {
                said.push(bytes)
            }
            _ => {}
        }
        let field = match self.target {
            Some(Target::Content) => {
                match &mut m.text {
                    Some(text) => text.feed(bytes),
                    // The message's type is not known yet: hold the start.
                    None if m.ty.is_empty() => {
                        let room = MAX_HELD.saturating_sub(m.held.len());
                        m.held.extend_from_slice(&bytes[..bytes.len().min(room)]);
                    }
                    None => {}
                }
                return;
            }
            Some(Target::CallOutput) => {
                if let Some(output) = &mut m.call.output {
                    output.feed(bytes);
                }
                return;
            }
            Some(Target::Type) => &mut m.ty,
            Some(Target::Timestamp) => &mut m.timestamp,
            Some(Target::CallName) => &mut m.call.name,
            Some(Target::CallPath) => &mut m.call.path,
            Some(Target::CallCommand) => &mut m.call.command,
            Some(Target::CallId) => &mut m.call.id,
            Some(Target::CallStatus) => &mut m.call.status,
            Some(Target::Model) => &mut m.model,
            None => return,
        };
        crate::format::keep(field, bytes);
    }

    fn end(&mut self, path: &[Frame<Key>], kind: Kind, literal: &[u8]) {
        use Frame::{Array, Object};
        self.target = None;
        self.hashing = false;
        if kind == Kind::Literal
            && let Some(inner) = in_message(self.lines, path)
        {
            if let [Object(Key::Tokens), Object(_)] = inner {
                self.message.tokens.set(&self.key_name, literal);
            } else if in_args(inner) {
                self.message.call.input.feed(literal);
            }
        }
        if kind != Kind::Object {
            return;
        }
        // The header's own end (the root, in the one-document chat) is no message.
        if !self.lines && path.is_empty() {
            return;
        }
        let Some(path) = in_message(self.lines, path) else {
            return;
        };
        match path {
            [] => self.end_message(),
            [Object(Key::ToolCalls), Array] => self.end_call(),
            _ => {}
        }
    }
}

impl Document for GeminiChat {
    fn feed(&mut self, bytes: &[u8], at: Place) {
        self.state.at = at;
        // A value after the first (JSON Lines): a message of its own. A line that was
        // not one value is counted, and the next line starts afresh.
        let starts_value = bytes.iter().any(|b| !b.is_ascii_whitespace());
        if starts_value && self.lexer.is_done() {
            self.state.lines = true;
            self.lexer.reset();
        } else if starts_value && self.state.lines && self.lexer.is_error() {
            self.state.broken += 1;
            self.state.message = Message::default();
            self.lexer.reset();
        }
        self.lexer.feed(bytes, &mut self.state);
    }

    fn next_record(&mut self) -> Option<(Place, Record)> {
        self.state.ready.pop_front()
    }

    fn run(&self) -> WorkerRun {
        WorkerRun {
            cli: Some("gemini-cli"),
            messages: self.state.worker_messages,
            session_file: true,
            // A chat that ends on the user's prompt: the model's reply is in flight.
            in_flight: self.state.waiting.map(|line| super::InFlight {
                tool: "the model's reply".to_owned(),
                line,
                subagent: None,
                detail: None,
            }),
            model: self
                .state
                .usage
                .as_ref()
                .and_then(|u| u.models.first())
                .map(|m| m.model.clone()),
            usage: self.state.usage.clone(),
            ..WorkerRun::default()
        }
    }

    fn counts(&self) -> RecordCounts {
        RecordCounts {
            records: self.state.messages,
            unknown_records: self.state.unknown,
            broken_records: self.state.broken + u64::from(self.lexer.is_error()),
            note: None,
        }
    }

    /// Gemini has no subagent tool; its file writes are read.
    fn calls_visible(&self) -> Option<(bool, bool)> {
        Some((false, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    #[test]
    fn gemini_messages_become_records_on_their_text_line() {
        let doc = r#"{
  "sessionId": "s",
  "messages": [
    {"id": "1", "timestamp": "2026-11-23T10:15:30.000Z", "type": "user", "content": "TASK_START: h-9"},
    {
      "id": "2",
      "timestamp": "2026-11-23T10:15:31.000Z",
      "type": "gemini",
      "content": "SESSION_START: researcher-2026-11-23T10:15:30\nTASK_START: h-1",
      "toolCalls": [
        {"id": "w", "name": "write_file", "args": {"file_path": "a.py", "content": "x"}, "status": "success"},
        {"id": "s", "name": "run_shell_command", "args": {"command": "python3 w.py"},
         "result": [{"functionResponse": {"id": "s", "name": "run_shell_command", "response": {"output": "TASK_COMPLETE: h-1\n"}}}]}
      ]
    }
  ]
}
"#;
        let mut chat = GeminiChat::default();
        let mut offset = 0;
        for (i, line) in doc.lines().enumerate() {
            let at = Place {
                line: i as u64 + 1,
                offset,
            };
            offset += line.len() as u64 + 1;
            chat.feed(line.as_bytes(), at);
            chat.feed(b"\n", at);
        }
        let mut records = Vec::new();
        while let Some(r) = chat.next_record() {
            records.push(r);
        }
        assert_eq!(records.len(), 2);
        assert!(
            records[0].1.items.is_empty(),
            "the user's text is not the worker's"
        );
        let (at, worker) = &records[1];
        assert_eq!(at.line, 9);
        let words: Vec<String> = worker
            .items
            .iter()
            .flat_map(|i| match i {
                Item::Text(events) => events
                    .iter()
                    .filter_map(|e| match &e.kind {
                        EventKind::Marker(m) => Some(m.keyword().word().to_owned()),
                        _ => None,
                    })
                    .collect(),
                Item::Call(c) => vec![format!("call {:?}", c.creates)],
                Item::SubagentRun(_) | Item::Done(_) | Item::Said(_) => vec![],
            })
            .collect();
        assert_eq!(
            words,
            [
                "SESSION_START",
                "TASK_START",
                "call Some(\"a.py\")",
                "call None",
                "TASK_COMPLETE"
            ]
        );
        assert_eq!(chat.run().cause(), "idle");
    }
}
