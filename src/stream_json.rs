//! Claude Code `--output-format stream-json` (NDJSON): which text in it is the worker
//! speaking.
//!
//! In `claude -p` text mode only the final message reaches stdout, so the real pipe is
//! `claude -p … --output-format stream-json --verbose | quant-session check`. Counted as
//! the worker's output: the text blocks of its own assistant messages
//! (`parent_tool_use_id: null`) and the results of the `Bash` commands it ran (a worker
//! may run the seed's `SessionManager`). Not counted: tool inputs (prompts to
//! subagents), results of other tools (`Read` of a file that quotes markers), user
//! messages, subagents' messages, `stream_event` deltas. A `result` record with a
//! subtype other than `success` is the worker's exit status (judged by `subtype`, not
//! `is_error`). Unknown record types and fields are normal (schema drift) and counted.
//!
//! On-disk transcripts (`~/.claude/projects/<project>/<session>.jsonl`) hold the same
//! messages as records with `parentUuid`, `isSidechain`, `timestamp`; sidechain records
//! are subagents'.
//!
//! This first version reads records of up to 64 KiB (the framing head); longer records
//! (big tool outputs) are skipped and counted, never buffered.

use std::collections::HashSet;

use serde_json::Value;

/// Whether a line is a stream-json record (`{"type":…`) or an on-disk transcript record
/// (`{"parentUuid":…,"type":…`): a JSON object with a `"type"` key near its start.
pub fn looks_like_record(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    let Some(rest) = t.strip_prefix(b"{") else {
        return false;
    };
    let rest = rest.trim_ascii_start();
    rest.starts_with(b"\"type\"")
        || (rest.starts_with(b"\"parentUuid\"")
            && memchr::memmem::find(&t[..t.len().min(4096)], b"\"type\":").is_some())
}

/// What one record contributes.
#[derive(Debug, Default, PartialEq)]
pub struct Record {
    /// Text the worker printed, in order.
    pub texts: Vec<String>,
    /// The subtype of a `result` record.
    pub result: Option<String>,
}

/// The state kept across records: ids of the worker's own `Bash` calls, counters.
#[derive(Debug, Default)]
pub struct StreamJson {
    bash_calls: HashSet<String>,
    /// Records read.
    pub records: u64,
    /// Records longer than the framing head, skipped.
    pub skipped_large: u64,
    /// Records of a type this version does not know, or not JSON.
    pub unknown: u64,
}

impl StreamJson {
    /// Reads one record (a whole line).
    pub fn record(&mut self, line: &[u8]) -> Record {
        let mut out = Record::default();
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            self.unknown += 1;
            return out;
        };
        self.records += 1;
        // Subagents' records carry the Task call's id (stream-json) or are sidechains
        // (on-disk transcripts).
        let own = v.get("parent_tool_use_id").is_none_or(Value::is_null)
            && v.get("isSidechain").and_then(Value::as_bool) != Some(true);
        let blocks = || {
            v.pointer("/message/content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        };
        match v.get("type").and_then(Value::as_str) {
            Some("assistant") if own => {
                for block in blocks() {
                    match block.get("type").and_then(Value::as_str) {
                        Some("text") => {
                            if let Some(t) = block.get("text").and_then(Value::as_str) {
                                out.texts.push(t.to_owned());
                            }
                        }
                        Some("tool_use")
                            if block.get("name").and_then(Value::as_str) == Some("Bash") =>
                        {
                            if let Some(id) = block.get("id").and_then(Value::as_str) {
                                self.bash_calls.insert(id.to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some("user") if own => {
                for block in blocks() {
                    let is_bash_result = block.get("type").and_then(Value::as_str)
                        == Some("tool_result")
                        && block
                            .get("tool_use_id")
                            .and_then(Value::as_str)
                            .is_some_and(|id| self.bash_calls.remove(id));
                    if !is_bash_result {
                        continue;
                    }
                    // The same output is also in `tool_use_result.stdout`: counted once.
                    match block.get("content") {
                        Some(Value::String(s)) => out.texts.push(s.clone()),
                        Some(Value::Array(parts)) => out.texts.extend(
                            parts
                                .iter()
                                .filter_map(|p| p.get("text").and_then(Value::as_str))
                                .map(str::to_owned),
                        ),
                        _ => {}
                    }
                }
            }
            Some("result") => {
                out.result = Some(
                    v.get("subtype")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                        .to_owned(),
                );
            }
            Some("assistant" | "user" | "system" | "stream_event") => {}
            _ => self.unknown += 1,
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut s = StreamJson::default();
        let r = s.record(br#"{"type":"assistant","message":{"content":[{"type":"text","text":"SESSION_START: a\nTASK_START: t"}]},"parent_tool_use_id":null}"#);
        assert_eq!(r.texts, ["SESSION_START: a\nTASK_START: t"]);
        let sub = s.record(br#"{"type":"assistant","message":{"content":[{"type":"text","text":"TASK_START: sub"}]},"parent_tool_use_id":"toolu_1"}"#);
        assert!(sub.texts.is_empty());
        s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_2","name":"Bash","input":{"command":"python worker.py"}}]},"parent_tool_use_id":null}"#);
        s.record(br#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_3","name":"Read","input":{"file_path":"x"}}]},"parent_tool_use_id":null}"#);
        let bash = s.record(br#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_2","content":"TASK_COMPLETE: h-1\n"}]},"tool_use_result":{"stdout":"TASK_COMPLETE: h-1\n"}}"#);
        assert_eq!(bash.texts, ["TASK_COMPLETE: h-1\n"]);
        let read = s.record(br#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_3","content":[{"type":"text","text":"TASK_START: quoted"}]}]}}"#);
        assert!(read.texts.is_empty());
        let sidechain = s.record(br#"{"parentUuid":"u1","isSidechain":true,"type":"assistant","message":{"content":[{"type":"text","text":"TASK_START: sub"}]}}"#);
        assert!(sidechain.texts.is_empty());
    }

    #[test]
    fn the_result_subtype_is_the_exit_status() {
        let mut s = StreamJson::default();
        let r = s.record(br#"{"type":"result","subtype":"error_max_turns","is_error":false}"#);
        assert_eq!(r.result.as_deref(), Some("error_max_turns"));
        s.record(br#"{"type":"brand_new_kind"}"#);
        s.record(b"{not json");
        assert_eq!(s.unknown, 2);
    }
}
