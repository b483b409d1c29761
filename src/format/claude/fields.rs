//! Which fields of a record are read, as the lexer goes through it: the record's type,
//! whose it is, its timestamp, and per content block its type, text, tool name, ids and
//! the inputs that matter (subagent type, file path, command). Text that can hold
//! markers is scanned as it is decoded; everything else is skipped.

use crate::event::Event;
use crate::format::Digest;
use crate::format::lexer::{JsonSink, KeySet, Kind};
use crate::text::TextScanner;
use crate::usage::{ModelUsage, Tokens};

/// The object keys of Claude Code records this reader cares about; every other key is
/// [`Key::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Type,
    Subtype,
    Message,
    Content,
    Text,
    Name,
    Id,
    Input,
    SubagentType,
    FilePath,
    OldString,
    ToolUseId,
    ParentToolUseId,
    IsSidechain,
    Timestamp,
    NumTurns,
    TotalCostUsd,
    DurationMs,
    Command,
    ToolUseResult,
    AgentId,
    IsError,
    TerminalReason,
    ParentUuid,
    Usage,
    ModelUsage,
    Model,
    RateLimitInfo,
    Status,
    ResetsAt,
    SessionId,
    TaskId,
    Other,
}

impl KeySet for Key {
    const OTHER: Key = Key::Other;

    fn from_bytes(b: &[u8]) -> Key {
        match b {
            b"type" => Key::Type,
            b"subtype" => Key::Subtype,
            b"message" => Key::Message,
            b"content" => Key::Content,
            b"text" => Key::Text,
            b"name" => Key::Name,
            b"id" => Key::Id,
            b"input" => Key::Input,
            b"subagent_type" => Key::SubagentType,
            b"file_path" => Key::FilePath,
            b"old_string" => Key::OldString,
            b"tool_use_id" => Key::ToolUseId,
            b"parent_tool_use_id" => Key::ParentToolUseId,
            b"isSidechain" => Key::IsSidechain,
            b"timestamp" => Key::Timestamp,
            b"num_turns" => Key::NumTurns,
            b"total_cost_usd" => Key::TotalCostUsd,
            b"duration_ms" => Key::DurationMs,
            b"command" => Key::Command,
            b"toolUseResult" => Key::ToolUseResult,
            b"agentId" => Key::AgentId,
            b"is_error" => Key::IsError,
            b"terminal_reason" => Key::TerminalReason,
            b"parentUuid" => Key::ParentUuid,
            b"usage" => Key::Usage,
            b"modelUsage" => Key::ModelUsage,
            b"model" => Key::Model,
            b"rate_limit_info" => Key::RateLimitInfo,
            b"status" => Key::Status,
            b"resetsAt" => Key::ResetsAt,
            b"session_id" | b"sessionId" => Key::SessionId,
            b"task_id" => Key::TaskId,
            _ => Key::Other,
        }
    }
}

/// Where a value sits in a Claude Code record.
type Frame = crate::format::lexer::Frame<Key>;

/// The block of `message.content` being read.
#[derive(Debug, Default)]
pub(super) struct Block {
    pub(super) ty: String,
    pub(super) name: String,
    pub(super) id: String,
    pub(super) tool_use_id: String,
    pub(super) subagent_type: String,
    pub(super) file_path: String,
    pub(super) command: String,
    pub(super) old_string: Option<bool>,
    pub(super) events: Vec<Event>,
    /// `agentId: …` in a tool result's text (how Claude Code names a finished subagent).
    pub(super) agent_id: String,
    /// Its text is Claude Code's interrupt notice.
    pub(super) interrupt: bool,
    /// A `tool_result`'s `is_error`.
    pub(super) is_error: bool,
    /// A `tool_use`'s input, digested.
    pub(super) input: Digest,
    /// Its text, when the run replays.
    pub(super) said: Option<crate::replay::Excerpt>,
}

/// Where the string value being read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Skip,
    Text,
    RecordType,
    Subtype,
    Parent,
    Timestamp,
    BlockType,
    Name,
    Id,
    ToolUseId,
    SubagentType,
    FilePath,
    OldString,
    Command,
    MessageId,
    AgentId,
    TerminalReason,
    Model,
    RateStatus,
    SessionId,
    TaskId,
    /// `message.content` as one string (a user's prompt, or an interrupt notice).
    PlainContent,
}

/// How Claude Code marks a turn the user interrupted, as the user's text.
const INTERRUPTED: &[u8] = b"[Request interrupted by user";

/// What is known of the record being read.
#[derive(Debug, Default)]
pub(super) struct Current {
    pub(super) ty: String,
    pub(super) subtype: String,
    pub(super) timestamp: String,
    pub(super) message_id: String,
    /// `toolUseResult.agentId` of a session file record.
    pub(super) agent_id: String,
    /// `parent_tool_use_id` is a string: a subagent's record.
    pub(super) in_subagent: bool,
    /// That string: the worker's call that started the subagent.
    pub(super) parent: String,
    pub(super) sidechain: bool,
    /// The record has a `parentUuid`: it comes from an on-disk session file.
    pub(super) session_file: bool,
    /// A `result` record's `is_error`: an API failure comes as `subtype:"success"`
    /// with `is_error:true`.
    pub(super) is_error: bool,
    /// A `result` record's `terminal_reason` (`aborted_by_user`, …).
    pub(super) terminal_reason: String,
    pub(super) num_turns: Option<u64>,
    pub(super) cost: Option<f64>,
    /// `message.usage` of an assistant message, or a `result`'s `usage`.
    pub(super) usage: Tokens,
    /// `message.model`, or an `init` record's `model`.
    pub(super) model: String,
    /// A `result`'s `modelUsage`, per model.
    pub(super) models: Vec<ModelUsage>,
    /// A `system` task record's `task_id` (a background agent).
    pub(super) task_id: String,
    /// The record's `session_id` (a `result`'s names its run).
    pub(super) session_id: String,
    /// A `rate_limit_event`'s `rate_limit_info.status` and `resetsAt` (Unix seconds).
    pub(super) rate_status: String,
    pub(super) resets_at: Option<i64>,
    /// The last key read inside a usage object (the name of the count that follows).
    key_name: Vec<u8>,
    /// The value being read is inside a `tool_use`'s input.
    hashing: bool,
    pub(super) block: Block,
    pub(super) blocks: Vec<Block>,
    /// The record holds text the user typed (a text block, or a string content).
    pub(super) user_text: bool,
    /// That text is Claude Code's notice of an interrupt (`[Request interrupted by
    /// user…]`).
    pub(super) interrupted: bool,
    /// The first bytes of the text being read (enough to tell the notice).
    head: Vec<u8>,
    /// `message.content` as one string, when the run replays (a user's prompt).
    pub(super) prompt: Option<crate::replay::Excerpt>,
    target: Option<Target>,
    /// The nested scanner of the text being read, and its pending bytes.
    text: Option<Box<TextScanner>>,
    pending: Vec<u8>,
}

impl Current {
    fn field(&mut self, target: Target) -> Option<&mut String> {
        Some(match target {
            Target::RecordType => &mut self.ty,
            Target::Subtype => &mut self.subtype,
            Target::Timestamp => &mut self.timestamp,
            Target::BlockType => &mut self.block.ty,
            Target::Name => &mut self.block.name,
            Target::Id => &mut self.block.id,
            Target::ToolUseId => &mut self.block.tool_use_id,
            Target::SubagentType => &mut self.block.subagent_type,
            Target::FilePath => &mut self.block.file_path,
            Target::Command => &mut self.block.command,
            Target::MessageId => &mut self.message_id,
            Target::AgentId => &mut self.agent_id,
            Target::Parent => &mut self.parent,
            Target::TerminalReason => &mut self.terminal_reason,
            Target::Model => &mut self.model,
            Target::RateStatus => &mut self.rate_status,
            Target::SessionId => &mut self.session_id,
            Target::TaskId => &mut self.task_id,
            Target::Skip | Target::Text | Target::OldString | Target::PlainContent => return None,
        })
    }

    fn flush_text(&mut self) {
        const AGENT: &[u8] = b"agentId: ";
        if self.block.agent_id.is_empty()
            && let Some(at) = memchr::memmem::find(&self.pending, AGENT)
        {
            let id = &self.pending[at + AGENT.len()..];
            let len = id
                .iter()
                .take(64)
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
                .count();
            self.block.agent_id = String::from_utf8_lossy(&id[..len]).into_owned();
        }
        if let Some(scanner) = &mut self.text {
            let events = &mut self.block.events;
            scanner.feed(&self.pending, &mut |e| events.push(e));
        }
        // The replay keeps the text as it is flushed (not piece by piece: no cost per
        // piece when it is off).
        if let Some(said) = &mut self.block.said {
            said.push(&self.pending);
        }
        self.pending.clear();
    }
}

/// Where a value sits in a record, from the containers around it.
fn target(path: &[Frame], kind: Kind) -> Target {
    use crate::format::lexer::Frame::{Array, Object};
    let string = kind == Kind::String;
    match path {
        [Object(Key::Type)] if string => Target::RecordType,
        [Object(Key::Subtype)] if string => Target::Subtype,
        [Object(Key::ParentToolUseId)] if string => Target::Parent,
        [Object(Key::Timestamp)] if string => Target::Timestamp,
        [Object(Key::TerminalReason)] if string => Target::TerminalReason,
        [Object(Key::RateLimitInfo), Object(Key::Status)] if string => Target::RateStatus,
        [Object(Key::Status)] if string => Target::RateStatus,
        [Object(Key::SessionId)] if string => Target::SessionId,
        [Object(Key::TaskId)] if string => Target::TaskId,
        [Object(Key::Model)] | [Object(Key::Message), Object(Key::Model)] if string => {
            Target::Model
        }
        [Object(Key::Message), Object(Key::Id)] if string => Target::MessageId,
        [Object(Key::Message), Object(Key::Content)] if string => Target::PlainContent,
        [Object(Key::ToolUseResult), Object(Key::AgentId)] if string => Target::AgentId,
        [
            Object(Key::Message),
            Object(Key::Content),
            Array,
            Object(key),
        ] if string => match key {
            Key::Type => Target::BlockType,
            Key::Text | Key::Content => Target::Text,
            Key::Name => Target::Name,
            Key::Id => Target::Id,
            Key::ToolUseId => Target::ToolUseId,
            _ => Target::Skip,
        },
        [
            Object(Key::Message),
            Object(Key::Content),
            Array,
            Object(Key::Input),
            Object(key),
        ] if string => match key {
            Key::SubagentType => Target::SubagentType,
            Key::FilePath => Target::FilePath,
            Key::OldString => Target::OldString,
            Key::Command => Target::Command,
            _ => Target::Skip,
        },
        [
            Object(Key::Message),
            Object(Key::Content),
            Array,
            Object(Key::Content),
            Array,
            Object(Key::Text),
        ] if string => Target::Text,
        _ => Target::Skip,
    }
}

impl JsonSink<Key> for Current {
    fn start(&mut self, path: &[Frame], kind: Kind) {
        if path == [Frame::Object(Key::ParentUuid)] {
            self.session_file = true;
        }
        self.hashing = in_input(path);
        if self.hashing {
            self.block.input.mark(kind as u8);
        }
        let target = target(path, kind);
        self.target = Some(target);
        if matches!(target, Target::Text | Target::PlainContent) {
            self.head.clear();
        }
        match target {
            Target::Text => {
                self.text = Some(Box::default());
                if self.block.said.is_none() && crate::replay::capturing() {
                    self.block.said = Some(Default::default());
                }
            }
            Target::PlainContent if crate::replay::capturing() => {
                self.prompt = Some(Default::default());
            }
            Target::Parent => {
                self.in_subagent = true;
                self.parent.clear();
            }
            Target::OldString => self.block.old_string = Some(false),
            _ => {
                if let Some(field) = self.field(target) {
                    field.clear();
                }
            }
        }
    }

    fn string(&mut self, bytes: &[u8]) {
        if self.hashing {
            self.block.input.feed(bytes);
        }
        if matches!(self.target, Some(Target::Text | Target::PlainContent))
            && self.head.len() < INTERRUPTED.len()
        {
            let take = bytes.len().min(INTERRUPTED.len() - self.head.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        match self.target {
            Some(Target::PlainContent) => {
                if let Some(said) = &mut self.prompt {
                    said.push(bytes);
                }
            }
            Some(Target::Text) => {
                self.pending.extend_from_slice(bytes);
                if self.pending.len() >= 16 * 1024 {
                    self.flush_text();
                }
            }
            Some(Target::OldString) => self.block.old_string = Some(true),
            Some(target) => {
                if let Some(field) = self.field(target) {
                    crate::format::keep(field, bytes);
                }
            }
            None => {}
        }
    }

    fn end(&mut self, path: &[Frame], kind: Kind, literal: &[u8]) {
        use crate::format::lexer::Frame::{Array, Object};
        match self.target {
            // Whether the block is a text block is known at the block's end (key order
            // does not matter).
            Some(Target::Text) => self.block.interrupt = self.head.starts_with(INTERRUPTED),
            Some(Target::PlainContent) => {
                self.user_text = true;
                self.interrupted = self.head.starts_with(INTERRUPTED);
            }
            _ => {}
        }
        if self.target.take() == Some(Target::Text) {
            self.flush_text();
            if let Some(mut scanner) = self.text.take() {
                let events = &mut self.block.events;
                scanner.finish(&mut |e| events.push(e));
            }
        }
        if kind == Kind::Literal && in_input(path) {
            self.block.input.feed(literal);
        }
        match (path, kind) {
            (
                [Object(Key::Usage), Object(_)]
                | [Object(Key::Message), Object(Key::Usage), Object(_)],
                Kind::Literal,
            ) => {
                self.usage.set(&self.key_name, literal);
            }
            ([Object(Key::ModelUsage), Object(_), Object(_)], Kind::Literal) => {
                if let Some(m) = self.models.last_mut() {
                    if self.key_name == b"costUSD" {
                        m.cost_usd = crate::usage::dollars(literal);
                    } else {
                        m.tokens.set(&self.key_name, literal);
                    }
                }
            }
            (
                [
                    Object(Key::Message),
                    Object(Key::Content),
                    Array,
                    Object(Key::IsError),
                ],
                Kind::Literal,
            ) => {
                self.block.is_error = literal == b"true";
            }
            ([Object(Key::RateLimitInfo), Object(Key::ResetsAt)], Kind::Literal) => {
                self.resets_at = std::str::from_utf8(literal)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .map(|f| f as i64);
            }
            ([Object(Key::IsSidechain)], Kind::Literal) => self.sidechain = literal == b"true",
            ([Object(Key::IsError)], Kind::Literal) => self.is_error = literal == b"true",
            ([Object(Key::NumTurns)], Kind::Literal) => {
                self.num_turns = std::str::from_utf8(literal)
                    .ok()
                    .and_then(|s| s.parse().ok());
            }
            ([Object(Key::TotalCostUsd)], Kind::Literal) => {
                self.cost = crate::usage::dollars(literal);
            }
            ([Object(Key::Message), Object(Key::Content), Array], Kind::Object) => {
                let block = std::mem::take(&mut self.block);
                if block.ty == "text" {
                    self.user_text = true;
                    self.interrupted = block.interrupt;
                }
                self.blocks.push(block);
            }
            _ => {}
        }
    }

    fn key(&mut self, path: &[Frame], name: &[u8]) {
        use crate::format::lexer::Frame::Object;
        match path {
            [Object(Key::ModelUsage), Object(_)] if self.models.len() < 16 => {
                self.models.push(ModelUsage {
                    model: String::from_utf8_lossy(name).into_owned(),
                    ..ModelUsage::default()
                });
            }
            [Object(Key::Usage), Object(_)]
            | [Object(Key::Message), Object(Key::Usage), Object(_)]
            | [Object(Key::ModelUsage), Object(_), Object(_)] => {
                self.key_name.clear();
                self.key_name.extend_from_slice(name);
            }
            _ if in_input(path) => self.block.input.key(name),
            _ => {}
        }
    }
}

/// Whether a value at `path` is inside a `tool_use` block's input.
fn in_input(path: &[Frame]) -> bool {
    use crate::format::lexer::Frame::{Array, Object};
    matches!(
        path,
        [
            Object(Key::Message),
            Object(Key::Content),
            Array,
            Object(Key::Input),
            _,
            ..
        ]
    )
}
