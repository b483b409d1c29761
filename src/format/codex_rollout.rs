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
//! `event_msg` (`agent_message`) is not read twice. The `*** Add File:` lines of an
//! `apply_patch` call (a custom tool call's `input`, or a function call's `arguments`)
//! back `FILES_CREATED`; a `spawn_agent` call backs a `SUBAGENT_SPAWN` (of any agent: it
//! names none). A session file has no final record:
//! its end is no evidence of a kill (`cause` is `idle` or `in-flight`).

use std::collections::HashMap;

use super::lexer::{Frame, JsonSink, KeySet, Kind, Lexer};
use super::{
    Digest, Format, InFlight, Item, Record, RecordCounts, ToolCall, ToolDone, WorkerRun, WorkerText,
};
use crate::event::Event;
use crate::replay::{Said, Who};
use crate::usage::{Tokens, Usage};

/// Codex's on-disk session files: told by their record types; `--input codex` takes
/// them too.
pub const SPEC: super::Spec = super::Spec {
    names: &[],
    cli: "codex",
    detect: |first| {
        matches!(
            super::type_of(first),
            Some(b"session_meta" | b"response_item" | b"event_msg" | b"turn_context")
        )
    },
    reader: || Box::new(CodexRollout::default()),
    opens: &[],
    documents: &[],
};

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
    Input,
    Info,
    TotalTokenUsage,
    Model,
    Id,
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
            b"input" => Key::Input,
            b"info" => Key::Info,
            b"total_token_usage" => Key::TotalTokenUsage,
            b"model" => Key::Model,
            b"id" => Key::Id,
            _ => Key::Other,
        }
    }
}

/// Longest `arguments` document held.
const MAX_ARGUMENTS: usize = 16 * 1024;
/// Longest `arguments` held of a call that may carry a patch (`apply_patch`, `shell`):
/// a patch past it is not read whole, and the files it adds after that are missed.
const MAX_PATCH_ARGUMENTS: usize = 1 << 20;
/// Files remembered per patch.
const MAX_CHANGES: usize = 4096;
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
    /// A custom tool call's `input` (the patch of `apply_patch`).
    Input,
    Model,
    /// A `session_meta`'s `id` (the session's).
    Id,
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
    /// The files an `apply_patch` input adds, read as it is decoded.
    patch: Option<PatchAdds>,
    /// A `token_count`'s `total_token_usage`, and the last key read in it.
    usage: Tokens,
    key_name: Vec<u8>,
    /// A `turn_context`'s model.
    model: String,
    /// The payload's `id` (a `session_meta`'s is the session's).
    id: String,
    /// A call's `arguments` or `input`, digested whole (the arguments kept are cut).
    input: Digest,
    /// A call's output, when the run replays.
    said: Option<crate::replay::Excerpt>,
    /// A user's message, when the run replays.
    prompt: Option<crate::replay::Excerpt>,
}

/// The paths of the `*** Add File: PATH` lines of an `apply_patch` patch, read line by
/// line as the patch is decoded (a line is held up to 4 KiB; the file contents never).
#[derive(Debug, Default)]
struct PatchAdds {
    line: Vec<u8>,
    paths: Vec<String>,
}

impl PatchAdds {
    const HEADER: &'static [u8] = b"*** Add File: ";
    const MAX_LINE: usize = 4096;

    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let end = memchr::memchr(b'\n', bytes);
            let piece = &bytes[..end.unwrap_or(bytes.len())];
            let room = Self::MAX_LINE.saturating_sub(self.line.len());
            self.line.extend_from_slice(&piece[..piece.len().min(room)]);
            match end {
                Some(i) => {
                    self.end_line();
                    bytes = &bytes[i + 1..];
                }
                None => break,
            }
        }
    }

    fn end_line(&mut self) {
        if let Some(path) = self.line.strip_prefix(Self::HEADER)
            && self.paths.len() < MAX_CHANGES
        {
            let path = String::from_utf8_lossy(path.trim_ascii()).into_owned();
            if !path.is_empty() {
                self.paths.push(path);
            }
        }
        self.line.clear();
    }

    /// The paths added, the last line read.
    fn finish(mut self) -> Vec<String> {
        self.end_line();
        self.paths
    }

    fn of(patch: &str) -> Vec<String> {
        let mut adds = PatchAdds::default();
        adds.feed(patch.as_bytes());
        adds.finish()
    }
}

/// The patch an `apply_patch` function call carries in its `arguments`: `{"input": …}`,
/// or a `shell` call `{"command": ["apply_patch", …]}`.
fn patch_of(name: &str, arguments: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(arguments).ok()?;
    let patch = match name {
        "apply_patch" => v["input"].as_str().or_else(|| v["patch"].as_str()),
        "shell" => match v["command"].as_array()?.as_slice() {
            [tool, patch, ..] if tool.as_str() == Some("apply_patch") => patch.as_str(),
            _ => None,
        },
        _ => None,
    };
    patch.map(str::to_owned)
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
    /// The last `token_count`'s totals (the session's), and the model then.
    usage: Option<Tokens>,
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
                if let Some(text) = c.prompt.take() {
                    out.items.push(Item::Said(Box::new(Said::Message {
                        who: Who::User,
                        text,
                    })));
                }
                if c.role == "assistant" {
                    self.run.messages += 1;
                    if let Some(mut text) = c.text.take() {
                        if let Some(text) = text.said() {
                            out.items.push(Item::Said(Box::new(Said::Message {
                                who: Who::Worker,
                                text,
                            })));
                        }
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
                let mut creates: Vec<String> = match c.patch.take() {
                    Some(patch) => patch.finish(),
                    None => patch_of(&c.name, &c.arguments)
                        .map(|p| PatchAdds::of(&p))
                        .unwrap_or_default(),
                };
                // A subagent started by Codex's collab tool: it backs a SUBAGENT_SPAWN
                // of any agent (the call names none).
                let subagent = (c.name == "spawn_agent").then(String::new);
                let first = (!creates.is_empty()).then(|| creates.remove(0));
                out.items.push(Item::Call(ToolCall {
                    parent: None,
                    tool: c.name.clone(),
                    subagent,
                    creates: first,
                    id: (!c.call_id.is_empty()).then(|| c.call_id.clone()),
                    input: c.input.0,
                    shown: c.input.shown(),
                }));
                for path in creates {
                    out.items.push(Item::Call(ToolCall {
                        parent: None,
                        tool: c.name.clone(),
                        subagent: None,
                        creates: Some(path),
                        id: None,
                        input: 0,
                        shown: None,
                    }));
                }
            }
            ("response_item", "function_call_output" | "custom_tool_call_output") => {
                self.pending.remove(&c.call_id);
                self.running.remove(&c.call_id);
                if let Some(mut inner) = c.output.take() {
                    out.items.push(Item::Text(inner.finish()));
                }
                if let Some(text) = c.said.take() {
                    out.items.push(Item::Said(Box::new(Said::Result {
                        parent: None,
                        id: c.call_id.clone(),
                        failed: false,
                        text,
                    })));
                }
                out.items.push(Item::Done(ToolDone {
                    id: std::mem::take(&mut c.call_id),
                    failed: false,
                }));
            }
            ("event_msg", "token_count") if !c.usage.is_empty() => {
                self.usage = Some(c.usage);
                out.usage = self.run().usage;
            }
            ("turn_context", _) if !c.model.is_empty() => self.run.model = Some(c.model),
            ("session_meta", _) if !c.id.is_empty() && self.run.conversation.is_none() => {
                self.run.conversation = Some(crate::sanitize::id(&c.id));
            }
            // A new turn (a rollout resumed after a call that never answered): what the
            // abandoned turn had started is no longer in flight.
            ("event_msg", "task_started") => {
                self.pending.clear();
                self.running.clear();
            }
            // `compacted` (with its `replacement_history`) summarises what came before:
            // nothing the worker says now.
            ("response_item", _)
            | ("event_msg", _)
            | ("session_meta", _)
            | ("turn_context", _)
            | ("compacted", _) => {}
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
            cli: Some("codex"),
            in_flight: super::in_flight(&self.pending),
            session_file: true,
            usage: self.usage.map(|t| {
                let mut u = Usage::default();
                u.add(self.run.model.as_deref(), &t, None);
                u
            }),
            ..self.run.clone()
        }
    }

    fn counts(&self) -> RecordCounts {
        self.counts
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
        [Object(Key::Payload), Object(Key::Input)] => Target::Input,
        [Object(Key::Payload), Object(Key::Model)] => Target::Model,
        [Object(Key::Payload), Object(Key::Id)] => Target::Id,
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
            Target::Text
                if self.c.role == "user"
                    && self.c.prompt.is_none()
                    && crate::replay::capturing() =>
            {
                self.c.prompt = Some(Default::default());
            }
            Target::Text if self.c.role == "assistant" && self.c.text.is_none() => {
                self.c.text = Some(WorkerText::default());
            }
            // The name comes before the input in every record Codex writes.
            Target::Input if self.c.name == "apply_patch" => {
                self.c.patch = Some(PatchAdds::default());
            }
            Target::Output if crate::replay::capturing() && self.c.said.is_none() => {
                self.c.said = Some(Default::default());
                if self.running.contains_key(&self.c.call_id) {
                    self.c.output = Some(Box::default());
                }
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
                if let Some(prompt) = &mut c.prompt {
                    prompt.push(bytes);
                }
                return;
            }
            Some(Target::Output) => {
                if let Some(said) = &mut c.said {
                    said.push(bytes);
                }
                if let Some(inner) = &mut c.output {
                    inner.feed(bytes);
                }
                return;
            }
            Some(Target::Input) => {
                c.input.feed(bytes);
                if let Some(patch) = &mut c.patch {
                    patch.feed(bytes);
                }
                return;
            }
            Some(Target::Arguments) => {
                c.input.feed(bytes);
                let max = match c.name.as_str() {
                    "apply_patch" | "shell" => MAX_PATCH_ARGUMENTS,
                    _ => MAX_ARGUMENTS,
                };
                let room = max.saturating_sub(c.arguments.len());
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
            Some(Target::Model) => &mut c.model,
            Some(Target::Id) => &mut c.id,
            None => return,
        };
        crate::format::keep(field, bytes);
    }

    fn end(&mut self, path: &[Frame<Key>], kind: Kind, literal: &[u8]) {
        use Frame::Object;
        self.c.target = None;
        if kind == Kind::Literal
            && let [
                Object(Key::Payload),
                Object(Key::Info),
                Object(Key::TotalTokenUsage),
                Object(_),
            ] = path
        {
            self.c.usage.set(&self.c.key_name, literal);
        }
    }

    fn key(&mut self, path: &[Frame<Key>], name: &[u8]) {
        use Frame::Object;
        if let [
            Object(Key::Payload),
            Object(Key::Info),
            Object(Key::TotalTokenUsage),
            Object(_),
        ] = path
        {
            self.c.key_name.clear();
            self.c.key_name.extend_from_slice(name);
        }
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

    #[test]
    fn a_new_turn_leaves_nothing_in_flight_and_compacted_is_known() {
        let mut r = CodexRollout::default();
        read(
            &mut r,
            r#"{"timestamp":"2026-02-23T12:42:26.000Z","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"sleep 600\"}","call_id":"c9"}}"#,
        );
        assert!(r.run().in_flight.is_some());
        read(
            &mut r,
            r#"{"timestamp":"2026-02-23T12:57:00.000Z","type":"event_msg","payload":{"type":"task_started","model_context_window":1}}"#,
        );
        assert_eq!(r.run().in_flight, None);
        read(
            &mut r,
            r#"{"timestamp":"2026-02-23T12:58:00.000Z","type":"compacted","payload":{"message":"","replacement_history":[]}}"#,
        );
        assert_eq!(r.counts().unknown_records, 0);
    }
}
