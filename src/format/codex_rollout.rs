//! Codex CLI's on-disk session files (`~/.codex/sessions/…/rollout-*.jsonl`): records
//! `{"timestamp":…,"type":…,"payload":{…}}` of type `session_meta`, `response_item`,
//! `event_msg` and `turn_context`.
//!
//! The worker speaks in its assistant `message` items (`content[].text`) and in the output
//! of its `shell` calls that run something (as in `codex exec --json`, a command that only
//! reads files is a file read). A call's `arguments` and its result's `output` are JSON
//! documents inside a string: the arguments (short) are held and parsed at the end of the
//! record; the output is streamed through a second lexer as the outer string is decoded,
//! so a command output of any size is scanned, never held. The same text again in
//! `event_msg` (`agent_message`) is not read twice. A session file has no final record:
//! its end is no evidence of a kill (`cause` is `idle` or `in-flight`).

use std::collections::HashMap;

use super::lexer::{Frame, JsonSink, KeySet, Kind, Lexer};
use super::{Format, InFlight, Item, Record, RecordCounts, ToolCall, WorkerRun, WorkerText};
use crate::event::Event;

/// The keys of rollout records this reader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Timestamp,
    Type,
    Payload,
    Role,
    Content,
    Text,
    Name,
    Arguments,
    CallId,
    Output,
    Other,
}

impl KeySet for Key {
    const OTHER: Key = Key::Other;

    fn from_bytes(name: &[u8]) -> Key {
        match name {
            b"timestamp" => Key::Timestamp,
            b"type" => Key::Type,
            b"payload" => Key::Payload,
            b"role" => Key::Role,
            b"content" => Key::Content,
            b"text" => Key::Text,
            b"name" => Key::Name,
            b"arguments" => Key::Arguments,
            b"call_id" => Key::CallId,
            b"output" => Key::Output,
            _ => Key::Other,
        }
    }
}

/// Longest short field kept, and longest `arguments` document held.
const MAX_FIELD: usize = 1024;
const MAX_ARGUMENTS: usize = 16 * 1024;
/// Calls remembered without their output (bounded memory on any input).
const MAX_PENDING: usize = 4096;

/// Where a string value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Timestamp,
    Type,
    PayloadType,
    Role,
    Name,
    CallId,
    /// `content[].text` of a message.
    Text,
    Arguments,
    /// A call's result: a JSON document whose `output` is the command's output.
    Output,
}

/// What is known of the record being read.
#[derive(Debug, Default)]
struct Current {
    timestamp: String,
    ty: String,
    payload_type: String,
    role: String,
    name: String,
    call_id: String,
    arguments: Vec<u8>,
    target: Option<Target>,
    /// The assistant's text in this record, scanned as it is decoded.
    text: Option<WorkerText>,
    /// The inner document of a call's result, lexed as the outer string is decoded.
    output: Option<Box<Inner>>,
}

/// The state kept across the records of one file.
#[derive(Debug, Default)]
pub struct CodexRollout {
    lexer: Lexer<Key>,
    current: Current,
    /// Shell calls that run something, whose output has not come yet.
    running: HashMap<String, ()>,
    /// Every call without its output yet, by id.
    pending: HashMap<String, InFlight>,
    run: WorkerRun,
    /// Records read, of an unknown type, and broken.
    counts: RecordCounts,
}

/// The command of a `shell` call's `arguments` document (`{"command":["bash","-lc","…"]}`).
fn command_of(arguments: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(arguments).ok()?;
    match &v["command"] {
        serde_json::Value::Array(words) => Some(
            words
                .iter()
                .map(|w| match w.as_str() {
                    // Re-quoted so that the shell wrapper can be taken off again.
                    Some(s) if s.contains(char::is_whitespace) => format!("'{s}'"),
                    Some(s) => s.to_owned(),
                    None => String::new(),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        serde_json::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

impl CodexRollout {
    fn interpret(&mut self, mut c: Current, line: u64) -> Record {
        let mut out = Record {
            timestamp: crate::grammar::parse_timestamp(&c.timestamp),
            ..Record::default()
        };
        self.run.session_file = true;
        match (c.ty.as_str(), c.payload_type.as_str()) {
            ("response_item", "message") => {
                if c.role == "assistant" {
                    self.run.messages += 1;
                    if let Some(text) = c.text.take() {
                        out.items.push(Item::Text(text.finish()));
                    }
                }
            }
            ("response_item", "function_call" | "custom_tool_call") => {
                let command = command_of(&c.arguments);
                if !c.call_id.is_empty() && self.pending.len() < MAX_PENDING {
                    self.pending.insert(
                        c.call_id.clone(),
                        InFlight {
                            tool: c.name.clone(),
                            line,
                            subagent: None,
                            detail: command.clone(),
                        },
                    );
                    let runs = c.name == "shell"
                        && command.is_some_and(|cmd| !super::command::only_reads(&cmd));
                    if runs {
                        self.running.insert(c.call_id.clone(), ());
                    }
                }
                out.items.push(Item::Call(ToolCall {
                    tool: c.name,
                    subagent: None,
                    creates: None,
                }));
            }
            ("response_item", "function_call_output" | "custom_tool_call_output") => {
                self.pending.remove(&c.call_id);
                self.running.remove(&c.call_id);
                if let Some(mut inner) = c.output.take() {
                    out.items.push(Item::Text(inner.finish()));
                }
            }
            ("response_item", _) | ("event_msg", _) | ("session_meta", _) | ("turn_context", _) => {
            }
            _ => self.counts.unknown_records += 1,
        }
        out
    }
}

impl Format for CodexRollout {
    fn begin(&mut self) {
        self.lexer.reset();
        self.current = Current::default();
    }

    fn feed(&mut self, bytes: &[u8]) {
        let mut sink = Sink {
            c: &mut self.current,
            running: &self.running,
        };
        self.lexer.feed(bytes, &mut sink);
    }

    fn end(&mut self, line: u64) -> Option<Record> {
        let mut sink = Sink {
            c: &mut self.current,
            running: &self.running,
        };
        self.lexer.finish(&mut sink);
        let current = std::mem::take(&mut self.current);
        self.counts
            .ended(self.lexer.is_done())
            .then(|| self.interpret(current, line))
    }

    fn run(&self) -> WorkerRun {
        WorkerRun {
            in_flight: super::in_flight(&self.pending),
            session_file: true,
            ..self.run.clone()
        }
    }

    fn counts(&self) -> RecordCounts {
        self.counts
    }

    /// Codex has no subagent call in its rollouts: spawns are not checked.
    fn subagent_calls_visible(&self) -> bool {
        false
    }

    /// Files are created by `apply_patch` calls, which are not read yet.
    fn file_calls_visible(&self) -> bool {
        false
    }
}

/// What the outer lexer pushes into.
struct Sink<'s> {
    c: &'s mut Current,
    running: &'s HashMap<String, ()>,
}

fn target(path: &[Frame<Key>]) -> Option<Target> {
    use Frame::{Array, Object};
    Some(match path {
        [Object(Key::Timestamp)] => Target::Timestamp,
        [Object(Key::Type)] => Target::Type,
        [Object(Key::Payload), Object(Key::Type)] => Target::PayloadType,
        [Object(Key::Payload), Object(Key::Role)] => Target::Role,
        [Object(Key::Payload), Object(Key::Name)] => Target::Name,
        [Object(Key::Payload), Object(Key::CallId)] => Target::CallId,
        [Object(Key::Payload), Object(Key::Arguments)] => Target::Arguments,
        [Object(Key::Payload), Object(Key::Output)] => Target::Output,
        [
            Object(Key::Payload),
            Object(Key::Content),
            Array,
            Object(Key::Text),
        ] => Target::Text,
        _ => return None,
    })
}

impl JsonSink<Key> for Sink<'_> {
    fn start(&mut self, path: &[Frame<Key>], kind: Kind) {
        self.c.target = None;
        if kind != Kind::String {
            return;
        }
        let Some(t) = target(path) else { return };
        self.c.target = Some(t);
        match t {
            Target::Text if self.c.role == "assistant" && self.c.text.is_none() => {
                self.c.text = Some(WorkerText::default());
            }
            // The call_id comes before the output in every record Codex writes.
            Target::Output if self.running.contains_key(&self.c.call_id) => {
                self.c.output = Some(Box::default());
            }
            _ => {}
        }
    }

    fn string(&mut self, bytes: &[u8]) {
        let c = &mut *self.c;
        let field = match c.target {
            Some(Target::Text) => {
                if let Some(text) = &mut c.text {
                    text.feed(bytes);
                }
                return;
            }
            Some(Target::Output) => {
                if let Some(inner) = &mut c.output {
                    inner.feed(bytes);
                }
                return;
            }
            Some(Target::Arguments) => {
                let room = MAX_ARGUMENTS.saturating_sub(c.arguments.len());
                c.arguments
                    .extend_from_slice(&bytes[..bytes.len().min(room)]);
                return;
            }
            Some(Target::Timestamp) => &mut c.timestamp,
            Some(Target::Type) => &mut c.ty,
            Some(Target::PayloadType) => &mut c.payload_type,
            Some(Target::Role) => &mut c.role,
            Some(Target::Name) => &mut c.name,
            Some(Target::CallId) => &mut c.call_id,
            None => return,
        };
        let room = MAX_FIELD.saturating_sub(field.len());
        field.push_str(&String::from_utf8_lossy(&bytes[..bytes.len().min(room)]));
    }

    fn end(&mut self, _path: &[Frame<Key>], _kind: Kind, _literal: &[u8]) {
        self.c.target = None;
    }
}

/// The keys of a call result's inner document (`{"output":"…","metadata":{…}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InnerKey {
    Output,
    Other,
}

impl KeySet for InnerKey {
    const OTHER: InnerKey = InnerKey::Other;

    fn from_bytes(name: &[u8]) -> InnerKey {
        if name == b"output" {
            InnerKey::Output
        } else {
            InnerKey::Other
        }
    }
}

/// The inner document of a call's result, lexed as it is decoded: its `output` string
/// goes through a text scanner.
#[derive(Debug, Default)]
struct Inner {
    lexer: Lexer<InnerKey>,
    text: InnerText,
}

#[derive(Debug, Default)]
struct InnerText {
    text: Option<WorkerText>,
    reading: bool,
}

impl Inner {
    fn feed(&mut self, bytes: &[u8]) {
        self.lexer.feed(bytes, &mut self.text);
    }

    fn finish(&mut self) -> Vec<Event> {
        self.lexer.finish(&mut self.text);
        self.text
            .text
            .take()
            .map(WorkerText::finish)
            .unwrap_or_default()
    }
}

impl JsonSink<InnerKey> for InnerText {
    fn start(&mut self, path: &[Frame<InnerKey>], kind: Kind) {
        self.reading = kind == Kind::String && path == [Frame::Object(InnerKey::Output)];
        if self.reading && self.text.is_none() {
            self.text = Some(WorkerText::default());
        }
    }

    fn string(&mut self, bytes: &[u8]) {
        if self.reading
            && let Some(text) = &mut self.text
        {
            text.feed(bytes);
        }
    }

    fn end(&mut self, _path: &[Frame<InnerKey>], _kind: Kind, _literal: &[u8]) {
        self.reading = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::markers;

    fn read(r: &mut CodexRollout, line: &str) -> Record {
        r.begin();
        r.feed(line.as_bytes());
        r.end(1).unwrap()
    }

    #[test]
    fn assistant_messages_and_the_output_of_commands_that_run_are_read() {
        let mut r = CodexRollout::default();
        let m = read(
            &mut r,
            r#"{"timestamp":"2025-09-25T21:12:14.126Z","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"SESSION_START: researcher-2026-11-23T10:15:30\n"}]}}"#,
        );
        assert_eq!(markers(&m), ["SESSION_START"]);
        read(
            &mut r,
            r#"{"timestamp":"2025-09-25T21:12:15.000Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"bash\",\"-lc\",\"python3 worker.py\"]}","call_id":"c1"}}"#,
        );
        assert!(r.run().in_flight.is_some());
        let o = read(
            &mut r,
            r#"{"timestamp":"2025-09-25T21:12:16.000Z","type":"response_item","payload":{"type":"function_call_output","call_id":"c1","output":"{\"output\":\"TASK_START: h-1\\n\",\"metadata\":{\"exit_code\":0}}"}}"#,
        );
        assert_eq!(markers(&o), ["TASK_START"]);
        assert_eq!(r.run().cause(), "idle");
        // A command that only reads: its output is a file read.
        read(
            &mut r,
            r#"{"timestamp":"2025-09-25T21:12:17.000Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"bash\",\"-lc\",\"cat what-works.md\"]}","call_id":"c2"}}"#,
        );
        let o = read(
            &mut r,
            r#"{"timestamp":"2025-09-25T21:12:18.000Z","type":"response_item","payload":{"type":"function_call_output","call_id":"c2","output":"{\"output\":\"TASK_START: h-9\\n\"}"}}"#,
        );
        assert!(markers(&o).is_empty());
    }
}
