//! Gemini CLI `--output-format stream-json` (SPEC §7): events `init`, `message` (`role`,
//! `content`, `delta`), `tool_use` (`tool_name`, `tool_id`, `parameters`), `tool_result`
//! (`tool_id`, `status`, `output`), `error` and `result` (`status`), each with a
//! `timestamp`.
//!
//! The worker speaks in its assistant messages, which come as `delta` fragments: the
//! consecutive assistant fragments of a turn are one text, scanned by one scanner that
//! lives across the records, so a marker split between two fragments is still found
//! (its events are placed on the record where its line ends). The output of its
//! `run_shell_command` calls is its output too, as Claude's `Bash` results are; a
//! `write_file` to a path not touched before backs `FILES_CREATED`. The process ended
//! as its `result` says: a `status` other than `success` is a failed run.

use std::collections::{HashMap, HashSet};

use super::lexer::{Frame, JsonSink, KeySet, Kind, Lexer};
use super::{
    Digest, Exit, Format, InFlight, Item, Record, RecordCounts, ToolCall, ToolDone, WorkerRun,
    WorkerText,
};
use crate::replay::{Said, Who};
use crate::usage::{ModelUsage, Tokens, Usage};

/// `gemini --output-format stream-json`, told by its event types (`init`, `message`,
/// `tool_use`, `tool_result`, and `result`/`error` with a `status` where Claude's
/// `result` has a `subtype`); its chat files and `--output-format json` documents are
/// Gemini's one-document shapes.
pub const SPEC: super::Spec = super::Spec {
    names: &[(
        "gemini",
        "Gemini CLI `--output-format stream-json` or `json`, or a Gemini chat file",
    )],
    cli: "gemini",
    detect: |first| match super::type_of(first) {
        Some(b"init" | b"message" | b"tool_use" | b"tool_result") => true,
        Some(b"result" | b"error") => {
            memchr::memmem::find(first, b"\"status\"").is_some()
                && memchr::memmem::find(first, b"\"subtype\"").is_none()
        }
        _ => false,
    },
    reader: || Box::new(Gemini::default()),
    opens: &[b"init"],
    documents: &[
        super::DocumentSpec {
            detect: |second| second.trim_ascii_start().starts_with(b"\"sessionId\""),
            reader: || Box::new(super::gemini_chat::GeminiChat::default()),
        },
        super::DocumentSpec {
            detect: super::gemini_json::first_key,
            reader: || Box::new(super::gemini_json::GeminiJson::default()),
        },
    ],
};

/// The keys of Gemini CLI events this reader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Type,
    Timestamp,
    Role,
    Content,
    Delta,
    ToolName,
    ToolId,
    Parameters,
    FilePath,
    Command,
    Status,
    Output,
    Stats,
    Models,
    Model,
    SessionId,
    Other,
}

impl KeySet for Key {
    const OTHER: Key = Key::Other;

    fn from_bytes(name: &[u8]) -> Key {
        match name {
            b"type" => Key::Type,
            b"timestamp" => Key::Timestamp,
            b"role" => Key::Role,
            b"content" => Key::Content,
            b"delta" => Key::Delta,
            b"tool_name" => Key::ToolName,
            b"tool_id" => Key::ToolId,
            b"parameters" => Key::Parameters,
            b"file_path" | b"absolute_path" | b"path" => Key::FilePath,
            b"command" => Key::Command,
            b"status" => Key::Status,
            b"output" => Key::Output,
            b"stats" => Key::Stats,
            b"models" => Key::Models,
            b"model" => Key::Model,
            b"session_id" => Key::SessionId,
            _ => Key::Other,
        }
    }
}

/// How much of a text whose owner is not known yet is held (a `content` before its
/// `role`, an `output` before its `tool_id`): the CLI prints the owner first.
const MAX_HELD: usize = 64 * 1024;
/// Calls remembered without their result, and paths touched (bounded memory).
const MAX_PENDING: usize = 4096;
const MAX_PATHS: usize = 100_000;

/// What is known of the event being read.
#[derive(Debug, Default)]
struct Current {
    ty: String,
    timestamp: String,
    role: String,
    tool_name: String,
    tool_id: String,
    path: String,
    command: String,
    status: String,
    model: String,
    /// An `init`'s `session_id`.
    session_id: String,
    /// A `result`'s `stats`, and the last key read in them.
    usage: Tokens,
    key_name: Vec<u8>,
    /// `stats.models` (newer builds): each model's share.
    models: Vec<ModelUsage>,
    /// A `tool_use`'s parameters, digested.
    input: Digest,
    hashing: bool,
    /// Which string is being read, if it is kept.
    target: Option<Key>,
    /// Text of a `content` or `output` whose owner was not known when it began.
    held: Vec<u8>,
    /// Events of an `output` streamed into its own scanner (a shell call's result).
    output: Option<WorkerText>,
    /// A message's `content` or a result's `output`, when the run replays.
    said: Option<crate::replay::Excerpt>,
    /// A message's `delta`: a fragment of the message before.
    delta: bool,
}

/// The state kept across the events of one stream.
#[derive(Debug, Default)]
pub struct Gemini {
    lexer: Lexer<Key>,
    current: Current,
    /// The assistant's text of the turn going on: one scanner across its fragments.
    turn: Option<WorkerText>,
    /// The worker's `run_shell_command` calls whose result has not come yet.
    shell_calls: HashSet<String>,
    /// Every call without a result yet, by id.
    pending: HashMap<String, InFlight>,
    /// Paths the session read or wrote: a `write_file` there does not create a file.
    known_paths: HashSet<String>,
    /// Every `result`'s stats, summed.
    usage: Option<Usage>,
    run: WorkerRun,
    /// Records read, of an unknown type, and broken.
    counts: RecordCounts,
}

/// Where a value sits in an event.
type Path<'p> = &'p [Frame<Key>];

impl Gemini {
    fn remember(&mut self, path: String) {
        if self.known_paths.len() < MAX_PATHS {
            self.known_paths.insert(path);
        }
    }

    fn interpret(&mut self, mut c: Current, line: u64) -> Record {
        let mut out = Record {
            timestamp: crate::grammar::parse_timestamp(&c.timestamp),
            ..Record::default()
        };
        // The assistant's turn goes on through its fragments; any other event ends it
        // (its last line is read). What it found so far is this record's.
        let found = if c.ty == "message" && c.role == "assistant" {
            self.run.messages += 1;
            let turn = self.turn.get_or_insert_with(WorkerText::default);
            turn.feed(&std::mem::take(&mut c.held));
            turn.take()
        } else {
            self.turn.take().map(WorkerText::finish).unwrap_or_default()
        };
        if c.ty == "message"
            && let Some(text) = c.said.take()
        {
            let who = if c.role == "assistant" {
                Who::Worker
            } else {
                Who::User
            };
            let said = if c.delta {
                Said::More { who, text }
            } else {
                Said::Message { who, text }
            };
            out.items.push(Item::Said(Box::new(said)));
        }
        if !found.is_empty() {
            out.items.push(Item::Text(found));
        }
        match c.ty.as_str() {
            "init" => {
                if !c.model.is_empty() && self.run.model.is_none() {
                    self.run.model = Some(c.model);
                }
                if !c.session_id.is_empty() && self.run.conversation.is_none() {
                    self.run.conversation = Some(crate::sanitize::id(&c.session_id));
                }
            }
            "message" | "error" => {}
            "tool_use" => {
                let id = c.tool_id.clone();
                if !id.is_empty() && self.pending.len() < MAX_PENDING {
                    let detail = if c.command.is_empty() {
                        &c.path
                    } else {
                        &c.command
                    };
                    self.pending.insert(
                        id.clone(),
                        InFlight {
                            tool: c.tool_name.clone(),
                            line,
                            subagent: None,
                            detail: (!detail.is_empty()).then(|| detail.clone()),
                        },
                    );
                }
                if c.tool_name == "run_shell_command"
                    && !id.is_empty()
                    && self.shell_calls.len() < MAX_PENDING
                    && !super::command::only_reads(&c.command)
                {
                    self.shell_calls.insert(id);
                }
                let path = (!c.path.is_empty()).then(|| c.path.clone());
                let creates = match (c.tool_name.as_str(), path) {
                    ("write_file", Some(p)) if !self.known_paths.contains(&p) => Some(p),
                    (_, Some(p)) => {
                        self.remember(p);
                        None
                    }
                    _ => None,
                };
                if let Some(p) = &creates {
                    self.remember(p.clone());
                }
                out.items.push(Item::Call(ToolCall {
                    parent: None,
                    tool: c.tool_name,
                    subagent: None,
                    creates,
                    id: (!c.tool_id.is_empty()).then_some(c.tool_id),
                    input: c.input.0,
                    shown: c.input.shown(),
                }));
            }
            "tool_result" => {
                self.pending.remove(&c.tool_id);
                let shell = self.shell_calls.remove(&c.tool_id);
                if let Some(output) = c.output.take() {
                    out.items.push(Item::Text(output.finish()));
                } else if shell && !c.held.is_empty() {
                    out.items.push(Item::Text(WorkerText::scan(&c.held)));
                }
                let failed = !c.status.is_empty() && c.status != "success";
                if let Some(text) = c.said.take() {
                    out.items.push(Item::Said(Box::new(Said::Result {
                        parent: None,
                        id: c.tool_id.clone(),
                        failed,
                        text,
                    })));
                }
                out.items.push(Item::Done(ToolDone {
                    failed,
                    id: c.tool_id,
                }));
            }
            "result" => {
                if !c.usage.is_empty() {
                    let usage = self.usage.get_or_insert_default();
                    if c.models.is_empty() {
                        usage.add(self.run.model.as_deref(), &c.usage, None);
                    } else {
                        // The run's totals as given, and each model's share.
                        usage.tokens.add(&c.usage.totalled());
                        for m in &c.models {
                            let mut share = Usage::default();
                            share.add(Some(&m.model), &m.tokens, None);
                            share.tokens = Default::default();
                            usage.merge(&share);
                        }
                    }
                    out.usage = self.usage.clone();
                }
                self.pending.clear();
                let status = if c.status.is_empty() {
                    "unknown".to_owned()
                } else {
                    c.status
                };
                out.exit = Some(Exit {
                    is_error: status != "success",
                    subtype: status,
                    terminal_reason: None,
                    num_turns: None,
                    total_cost_usd: None,
                });
                self.run.exit = out.exit.clone();
            }
            _ => self.counts.unknown_records += 1,
        }
        out
    }
}

impl Format for Gemini {
    fn begin(&mut self) {
        self.lexer.reset();
        self.current = Current::default();
    }

    fn feed(&mut self, bytes: &[u8]) {
        let mut sink = Sink {
            c: &mut self.current,
            turn: &mut self.turn,
            shell_calls: &self.shell_calls,
        };
        self.lexer.feed(bytes, &mut sink);
    }

    fn end(&mut self, line: u64) -> Option<Record> {
        let mut sink = Sink {
            c: &mut self.current,
            turn: &mut self.turn,
            shell_calls: &self.shell_calls,
        };
        self.lexer.finish(&mut sink);
        let current = std::mem::take(&mut self.current);
        self.counts
            .ended(self.lexer.is_done())
            .then(|| self.interpret(current, line))
    }

    fn run(&self) -> WorkerRun {
        WorkerRun {
            cli: Some("gemini-cli"),
            in_flight: super::in_flight(&self.pending),
            usage: self.usage.clone(),
            ..self.run.clone()
        }
    }

    fn counts(&self) -> RecordCounts {
        self.counts
    }

    /// Gemini CLI has no subagent tool: `SUBAGENT_SPAWN` is not checked against calls.
    fn subagent_calls_visible(&self) -> bool {
        false
    }
}

/// What the lexer pushes into while an event is read.
struct Sink<'s> {
    c: &'s mut Current,
    turn: &'s mut Option<WorkerText>,
    shell_calls: &'s HashSet<String>,
}

impl Sink<'_> {
    fn hold(&mut self, bytes: &[u8]) {
        let room = MAX_HELD.saturating_sub(self.c.held.len());
        self.c
            .held
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn field(&mut self, key: Key) -> Option<&mut String> {
        Some(match key {
            Key::Type => &mut self.c.ty,
            Key::Timestamp => &mut self.c.timestamp,
            Key::Role => &mut self.c.role,
            Key::ToolName => &mut self.c.tool_name,
            Key::ToolId => &mut self.c.tool_id,
            Key::FilePath => &mut self.c.path,
            Key::Command => &mut self.c.command,
            Key::Status => &mut self.c.status,
            Key::Model => &mut self.c.model,
            Key::SessionId => &mut self.c.session_id,
            _ => return None,
        })
    }
}

/// Which kept string a value at `path` is.
fn target(path: Path<'_>) -> Option<Key> {
    use Frame::Object;
    match path {
        [
            Object(Key::Parameters),
            Object(k @ (Key::FilePath | Key::Command)),
        ] => Some(*k),
        [Object(k)] if !matches!(k, Key::Other | Key::Parameters | Key::Delta | Key::Stats) => {
            Some(*k)
        }
        _ => None,
    }
}

/// Whether a value at `path` is inside a `tool_use`'s parameters.
fn in_input(path: Path<'_>) -> bool {
    matches!(path, [Frame::Object(Key::Parameters), _, ..])
}

impl JsonSink<Key> for Sink<'_> {
    fn key(&mut self, path: Path<'_>, name: &[u8]) {
        use Frame::Object;
        match path {
            [Object(Key::Stats), Object(Key::Models), Object(_)] if self.c.models.len() < 16 => {
                self.c.models.push(ModelUsage {
                    model: String::from_utf8_lossy(name).into_owned(),
                    ..ModelUsage::default()
                });
                return;
            }
            [Object(Key::Stats), Object(_)]
            | [
                Object(Key::Stats),
                Object(Key::Models),
                Object(_),
                Object(_),
            ] => {
                self.c.key_name.clear();
                self.c.key_name.extend_from_slice(name);
                return;
            }
            _ => {}
        }
        if in_input(path) {
            self.c.input.key(name);
        }
    }

    fn start(&mut self, path: Path<'_>, kind: Kind) {
        if in_input(path) {
            self.c.input.mark(kind as u8);
            if kind == Kind::String {
                self.c.hashing = true;
            }
        }
        self.c.target = None;
        if kind != Kind::String {
            return;
        }
        let Some(key) = target(path) else { return };
        self.c.target = Some(key);
        if matches!(key, Key::Content | Key::Output)
            && self.c.said.is_none()
            && crate::replay::capturing()
        {
            self.c.said = Some(Default::default());
        }
        if key == Key::Output
            && self.c.ty == "tool_result"
            && self.shell_calls.contains(&self.c.tool_id)
        {
            self.c.output = Some(WorkerText::default());
        }
        if let Some(field) = self.field(key) {
            field.clear();
        }
    }

    fn string(&mut self, bytes: &[u8]) {
        if self.c.hashing {
            self.c.input.feed(bytes);
        }
        if let (Some(Key::Content | Key::Output), Some(said)) = (self.c.target, &mut self.c.said) {
            said.push(bytes);
        }
        match self.c.target {
            Some(Key::Content) if self.c.ty == "message" && self.c.role == "assistant" => {
                self.turn
                    .get_or_insert_with(WorkerText::default)
                    .feed(bytes);
            }
            Some(Key::Output) if self.c.output.is_some() => {
                if let Some(output) = &mut self.c.output {
                    output.feed(bytes);
                }
            }
            // The owner is not known yet (the CLI prints it first): hold the start.
            Some(Key::Content) if self.c.role.is_empty() => self.hold(bytes),
            Some(Key::Output) if self.c.tool_id.is_empty() => self.hold(bytes),
            Some(Key::Content | Key::Output) => {}
            Some(key) => {
                if let Some(field) = self.field(key) {
                    crate::format::keep(field, bytes);
                }
            }
            None => {}
        }
    }

    fn end(&mut self, path: Path<'_>, kind: Kind, literal: &[u8]) {
        self.c.target = None;
        self.c.hashing = false;
        if kind == Kind::Literal {
            if let [Frame::Object(Key::Stats), Frame::Object(_)] = path {
                // `input` is the uncached part of `input_tokens` (newer builds).
                if self.c.key_name != b"input" {
                    self.c.usage.set(&self.c.key_name, literal);
                }
            } else if let [
                Frame::Object(Key::Stats),
                Frame::Object(Key::Models),
                Frame::Object(_),
                Frame::Object(_),
            ] = path
            {
                if self.c.key_name != b"input"
                    && let Some(m) = self.c.models.last_mut()
                {
                    m.tokens.set(&self.c.key_name, literal);
                }
            } else if in_input(path) {
                self.c.input.feed(literal);
            } else if path == [Frame::Object(Key::Delta)] {
                self.c.delta = literal == b"true";
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::markers;

    fn read(g: &mut Gemini, line: &str) -> Record {
        g.begin();
        g.feed(line.as_bytes());
        g.end(1).unwrap()
    }

    #[test]
    fn assistant_fragments_are_one_text_and_a_split_marker_is_found() {
        let mut g = Gemini::default();
        let a = read(
            &mut g,
            r#"{"type":"message","timestamp":"2026-11-23T10:15:30.000Z","role":"assistant","content":"Starting.\nSESSION_ST","delta":true}"#,
        );
        assert!(markers(&a).is_empty());
        let b = read(
            &mut g,
            r#"{"type":"message","timestamp":"2026-11-23T10:15:31.000Z","role":"assistant","content":"ART: researcher-2026-11-23T10:15:30\n","delta":true}"#,
        );
        assert_eq!(markers(&b), ["SESSION_START"]);
        // The user's text is never the worker's.
        let u = read(
            &mut g,
            r#"{"type":"message","role":"user","content":"TASK_START: h-1\n"}"#,
        );
        assert!(markers(&u).is_empty());
    }

    #[test]
    fn shell_output_is_the_worker_speaking_and_the_result_status_is_the_exit() {
        let mut g = Gemini::default();
        read(
            &mut g,
            r#"{"type":"tool_use","tool_name":"run_shell_command","tool_id":"s-1","parameters":{"command":"python3 worker.py"}}"#,
        );
        assert!(g.run().in_flight.is_some());
        let r = read(
            &mut g,
            r#"{"type":"tool_result","tool_id":"s-1","status":"success","output":"TASK_START: h-1\n"}"#,
        );
        assert_eq!(markers(&r), ["TASK_START"]);
        let ok = read(&mut g, r#"{"type":"result","status":"success","stats":{}}"#);
        assert_eq!(ok.exit.unwrap().cause(), "success");
        let failed = read(
            &mut g,
            r#"{"type":"result","status":"error","error":{"message":"quota"}}"#,
        );
        assert_eq!(failed.exit.unwrap().cause(), "error");
    }

    #[test]
    fn a_write_to_a_new_path_creates_a_file() {
        let mut g = Gemini::default();
        let r = read(
            &mut g,
            r#"{"type":"tool_use","tool_name":"write_file","tool_id":"w-1","parameters":{"file_path":"out/a.py","content":"x"}}"#,
        );
        let Item::Call(call) = &r.items[0] else {
            panic!("{:?}", r.items)
        };
        assert_eq!(call.creates.as_deref(), Some("out/a.py"));
    }
}
