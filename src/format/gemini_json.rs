//! Gemini CLI `--output-format json`: one pretty-printed JSON document written when the
//! run ends, `{"session_id", "response", "stats", "error": {"type", "message", "code"}}`.
//!
//! It holds only the final reply: markers the worker printed in earlier turns, its tool
//! calls and their output are not in it, so the summary says so (read
//! `--output-format stream-json` to check a whole run). The reply is the worker
//! speaking; `error` makes the run a failure (`cause` `error`), its absence a success.

use std::collections::VecDeque;

use super::lexer::{Frame, JsonSink, KeySet, Kind, Lexer};
use super::{Document, Exit, Item, Place, Record, RecordCounts, WorkerRun, WorkerText};
use crate::usage::{ModelUsage, Usage};

/// What the summary says about such a document.
pub const NOTE: &str = "a Gemini `--output-format json` document holds only the final reply: \
markers of earlier turns and tool calls are not in it (use `--output-format stream-json`)";

/// Whether the first key of a document (the line after its `{`) is one of this
/// format's: `session_id`, `response`, `stats` or `error`.
pub fn first_key(line: &[u8]) -> bool {
    let line = line.trim_ascii_start();
    [
        &b"\"session_id\""[..],
        b"\"response\"",
        b"\"stats\"",
        b"\"error\"",
    ]
    .iter()
    .any(|k| line.starts_with(k))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Response,
    Error,
    Type,
    Message,
    Stats,
    Models,
    Tokens,
    Other,
}

impl KeySet for Key {
    const OTHER: Key = Key::Other;

    fn from_bytes(name: &[u8]) -> Key {
        match name {
            b"response" => Key::Response,
            b"error" => Key::Error,
            b"type" => Key::Type,
            b"message" => Key::Message,
            b"stats" => Key::Stats,
            b"models" => Key::Models,
            b"tokens" => Key::Tokens,
            _ => Key::Other,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    at: Place,
    /// The reply, scanned as it is decoded, and where it starts.
    reply: Option<(Place, WorkerText)>,
    /// `error.type` and `error.message`, when the run failed.
    error: Option<(String, String)>,
    target: Option<Key>,
    ready: VecDeque<(Place, Record)>,
    records: u64,
    exit: Option<Exit>,
    /// `stats.models`: each model's `tokens`; the last key read in them.
    models: Vec<ModelUsage>,
    key_name: Vec<u8>,
}

impl JsonSink<Key> for State {
    fn key(&mut self, path: &[Frame<Key>], name: &[u8]) {
        use Frame::Object;
        match path {
            [Object(Key::Stats), Object(Key::Models), Object(_)] if self.models.len() < 16 => {
                self.models.push(ModelUsage {
                    model: String::from_utf8_lossy(name).into_owned(),
                    ..ModelUsage::default()
                });
            }
            [
                Object(Key::Stats),
                Object(Key::Models),
                Object(_),
                Object(Key::Tokens),
                Object(_),
            ] => {
                self.key_name.clear();
                self.key_name.extend_from_slice(name);
            }
            _ => {}
        }
    }

    fn start(&mut self, path: &[Frame<Key>], kind: Kind) {
        use Frame::Object;
        self.target = None;
        match (path, kind) {
            ([Object(Key::Response)], Kind::String) => {
                self.reply = Some((self.at, WorkerText::default()));
                self.target = Some(Key::Response);
            }
            ([Object(Key::Error)], Kind::Object) => self.error = Some(Default::default()),
            ([Object(Key::Error), Object(k @ (Key::Type | Key::Message))], Kind::String) => {
                self.target = Some(*k);
            }
            _ => {}
        }
    }

    fn string(&mut self, bytes: &[u8]) {
        let field = match (self.target, &mut self.reply, &mut self.error) {
            (Some(Key::Response), Some((_, text)), _) => return text.feed(bytes),
            (Some(Key::Type), _, Some((ty, _))) => ty,
            (Some(Key::Message), _, Some((_, message))) => message,
            _ => return,
        };
        crate::format::keep(field, bytes);
    }

    fn end(&mut self, path: &[Frame<Key>], kind: Kind, literal: &[u8]) {
        use Frame::Object;
        self.target = None;
        if let (
            [
                Object(Key::Stats),
                Object(Key::Models),
                Object(_),
                Object(Key::Tokens),
                Object(_),
            ],
            Kind::Literal,
        ) = (path, kind)
            && let Some(m) = self.models.last_mut()
        {
            m.tokens.set(&self.key_name, literal);
        }
        if !(path.is_empty() && kind == Kind::Object) {
            return;
        }
        // The document ended: its reply and the run's end are one record.
        let (line, items) = match self.reply.take() {
            Some((line, mut text)) => {
                let mut items = Vec::new();
                if let Some(text) = text.said() {
                    items.push(Item::Said(Box::new(crate::replay::Said::Message {
                        who: crate::replay::Who::Worker,
                        text,
                    })));
                }
                items.push(Item::Text(text.finish()));
                (line, items)
            }
            None => (self.at, Vec::new()),
        };
        let failed = self.error.is_some();
        let exit = Exit {
            subtype: if failed { "error" } else { "success" }.to_owned(),
            is_error: failed,
            terminal_reason: None,
            num_turns: None,
            total_cost_usd: None,
        };
        self.exit = Some(exit.clone());
        self.records += 1;
        self.ready.push_back((
            line,
            Record {
                items,
                usage: self.usage(),
                rate_limited: None,
                more: false,
                exit: Some(exit),
                timestamp: None,
            },
        ));
    }
}

impl State {
    /// `stats.models`, summed.
    fn usage(&self) -> Option<Usage> {
        let mut u = Usage::default();
        for m in &self.models {
            u.add(Some(&m.model), &m.tokens, None);
        }
        (!u.is_empty()).then_some(u)
    }
}

/// A Gemini CLI `--output-format json` document.
#[derive(Debug, Default)]
pub struct GeminiJson {
    lexer: Lexer<Key>,
    state: State,
}

impl Document for GeminiJson {
    fn feed(&mut self, bytes: &[u8], at: Place) {
        self.state.at = at;
        self.lexer.feed(bytes, &mut self.state);
    }

    fn next_record(&mut self) -> Option<(Place, Record)> {
        self.state.ready.pop_front()
    }

    fn run(&self) -> WorkerRun {
        WorkerRun {
            cli: Some("gemini-cli"),
            exit: self.state.exit.clone(),
            messages: u64::from(self.state.exit.is_some()),
            usage: self.state.usage(),
            model: self.state.models.first().map(|m| m.model.clone()),
            ..WorkerRun::default()
        }
    }

    fn counts(&self) -> RecordCounts {
        RecordCounts {
            records: self.state.records,
            unknown_records: 0,
            broken_records: u64::from(self.lexer.is_error()),
            note: Some(NOTE),
        }
    }

    /// The final reply only: no tool call is in the document.
    fn calls_visible(&self) -> Option<(bool, bool)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(doc: &str) -> (GeminiJson, Vec<(Place, Record)>) {
        let mut g = GeminiJson::default();
        let mut out = Vec::new();
        let mut offset = 0;
        for (i, line) in doc.lines().enumerate() {
            let at = Place {
                line: i as u64 + 1,
                offset,
            };
            offset += line.len() as u64 + 1;
            g.feed(line.as_bytes(), at);
            g.feed(b"\n", at);
            while let Some(r) = g.next_record() {
                out.push(r);
            }
        }
        (g, out)
    }

    #[test]
    fn the_reply_is_the_worker_speaking_and_no_error_is_success() {
        let doc = "{\n  \"session_id\": \"s\",\n  \"response\": \"SESSION_START: researcher-2026-11-23T10:15:30\\nTASK_START: h-1\",\n  \"stats\": {\"models\": {}}\n}\n";
        let (g, records) = read(doc);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].0.line, 3, "placed on the reply's line");
        assert_eq!(records[0].0.offset, 23, "at that line's start");
        assert_eq!(
            crate::format::markers(&records[0].1),
            ["SESSION_START", "TASK_START"]
        );
        assert_eq!(g.run().cause(), "success");
        assert_eq!(g.counts().note, Some(NOTE));
    }

    #[test]
    fn an_error_makes_the_run_a_failure() {
        let doc = "{\n  \"session_id\": \"s\",\n  \"error\": {\"type\": \"FatalTurnLimitedError\", \"message\": \"turn limit\", \"code\": 53}\n}\n";
        let (g, records) = read(doc);
        assert_eq!(records.len(), 1);
        assert_eq!(g.run().cause(), "error");
        assert!(g.run().exit.unwrap().failed());
    }

    #[test]
    fn the_first_key_tells_the_format() {
        assert!(first_key(b"  \"session_id\": \"x\","));
        assert!(first_key(b"  \"response\": \"x\","));
        assert!(!first_key(b"  \"sessionId\": \"x\","));
        assert!(!first_key(b"  \"type\": \"x\","));
    }
}
