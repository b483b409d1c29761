//! Checkpoints (SPEC §5): the seed's `stream-quant/checkpoints/pane-{N}.json`, read
//! tolerantly.
//!
//! A checkpoint is judged `ok`, `missing`, `truncated` (the seed's own
//! `save_checkpoint` leaves `{"state": {"worker_type": "researcher", "start_time": ` when
//! `json.dump` meets a `datetime`), `invalid` (not JSON, or JSON of the wrong shape) or
//! `stale` (behind the transcript). A broken file gets the exact place it breaks, and
//! whatever could be read before that point is salvaged.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::event::Timestamp;
use crate::state::SessionState;

/// The verdict on a checkpoint file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointStatus {
    Ok,
    Missing,
    Truncated,
    Invalid,
    Stale,
}

impl CheckpointStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointStatus::Ok => "ok",
            CheckpointStatus::Missing => "missing",
            CheckpointStatus::Truncated => "truncated",
            CheckpointStatus::Invalid => "invalid",
            CheckpointStatus::Stale => "stale",
        }
    }
}

/// Where and why a checkpoint is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointError {
    pub message: String,
    /// 1-based line and column, 0-based byte offset in the file (absent for I/O errors).
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub offset: Option<u64>,
}

/// A checkpoint as read.
#[derive(Debug, Clone, Serialize)]
pub struct Checkpoint {
    pub status: CheckpointStatus,
    pub path: PathBuf,
    pub error: Option<CheckpointError>,
    /// What could be read: the whole document when it parsed, else the part before the
    /// break.
    pub salvaged: Option<Value>,
    /// `state.tasks_completed`, when readable.
    #[serde(skip)]
    pub tasks_completed: Option<u64>,
    /// `last_task`, when readable.
    #[serde(skip)]
    pub last_task: Option<u64>,
    /// `timestamp`, when readable.
    #[serde(skip)]
    pub timestamp: Option<Timestamp>,
    /// The file's text, for diagnostics (checkpoints are small).
    #[serde(skip)]
    pub text: String,
}

/// The largest checkpoint read whole; a bigger file is not a checkpoint.
const MAX_SIZE: u64 = 16 << 20;

/// The checkpoint of pane `pane` in `dir`.
pub fn pane_path(dir: &Path, pane: u32) -> PathBuf {
    dir.join(format!("pane-{pane}.json"))
}

/// The pane number in a transcript's file name (`pane-2.log` → 2).
pub fn pane_of(path: &Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("pane-")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !matches!(rest[digits.len()..].chars().next(), None | Some('.')) {
        return None;
    }
    digits.parse().ok()
}

impl Checkpoint {
    /// A checkpoint at `path` not read yet: `ok` until something says otherwise.
    pub fn unread(path: PathBuf) -> Checkpoint {
        Checkpoint {
            status: CheckpointStatus::Ok,
            path,
            error: None,
            salvaged: None,
            tasks_completed: None,
            last_task: None,
            timestamp: None,
            text: String::new(),
        }
    }
}

/// Reads and judges a checkpoint file (staleness needs the transcript: see [`compare`]).
pub fn read(path: &Path) -> Checkpoint {
    let mut cp = Checkpoint::unread(path.to_owned());
    let fail = |cp: &mut Checkpoint, status, message: String| {
        cp.status = status;
        cp.error = Some(CheckpointError {
            message,
            line: None,
            column: None,
            offset: None,
        });
    };
    let bytes = match load(path) {
        Ok(bytes) => bytes,
        Err((status, message)) => {
            fail(&mut cp, status, message);
            return cp;
        }
    };
    judge(cp, &bytes)
}

/// Judges the bytes of a checkpoint (read from `cp.path`): parsed, checked against the
/// seed's shape, or salvaged when broken.
pub fn judge(mut cp: Checkpoint, bytes: &[u8]) -> Checkpoint {
    cp.text = String::from_utf8_lossy(bytes).into_owned();
    // Parsed from the text shown (invalid UTF-8 replaced), so every offset serde gives
    // is one of that text.
    match serde_json::from_str::<Value>(&cp.text) {
        Ok(value) => {
            if let Err((message, offset)) = check_shape(&value, &cp.text) {
                cp.status = CheckpointStatus::Invalid;
                cp.error = Some(error_at(&cp.text, message, offset));
            }
            read_fields(&mut cp, &value);
            cp.salvaged = Some(value);
        }
        Err(e) => {
            // serde_json gives the 1-based column of the offending byte, or of the last
            // byte read when the input ended.
            let offset = if e.is_eof() {
                cp.text.len()
            } else {
                offset_of(&cp.text, e.line(), e.column().saturating_sub(1))
            };
            // The position is reported separately; keep serde's reason only.
            let reason = e.to_string();
            let reason = reason
                .split(" at line ")
                .next()
                .unwrap_or(&reason)
                .to_owned();
            let (status, message) = if e.is_eof() {
                let message = if cp.text.trim().is_empty() {
                    "the file is empty".to_owned()
                } else {
                    format!("the JSON stops in the middle ({reason})")
                };
                (CheckpointStatus::Truncated, message)
            } else {
                (CheckpointStatus::Invalid, format!("not JSON: {reason}"))
            };
            cp.status = status;
            cp.error = Some(error_at(&cp.text, message, offset));
            cp.salvaged = salvage(&cp.text[..floor_char_boundary(&cp.text, offset)]);
            if let Some(v) = cp.salvaged.clone() {
                read_fields(&mut cp, &v);
            }
        }
    }
    cp
}

/// The file's bytes, or why there are none to judge. Only a regular file is read (a
/// device, FIFO or socket is refused before it is opened: `/dev/zero` never ends and a
/// FIFO blocks), and never more than [`MAX_SIZE`] + 1 bytes, whatever its size claims
/// (`/proc` files say 0).
fn load(path: &Path) -> Result<Vec<u8>, (CheckpointStatus, String)> {
    use std::io::Read;
    let invalid = |message: String| (CheckpointStatus::Invalid, message);
    let file = crate::source::open_regular(path).map_err(|e| match e {
        crate::source::NotRegular::Missing => (CheckpointStatus::Missing, e.to_string()),
        crate::source::NotRegular::Other(why) => invalid(why),
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(invalid(format!(
            "more than {MAX_SIZE} bytes is too large for a checkpoint"
        )));
    }
    Ok(bytes)
}

/// Reads the checkpoint of pane `pane` in `dir` (`--checkpoints DIR`). A symbolic link
/// there is followed only when it stays inside `dir`: a committed `pane-0.json ->
/// /etc/shadow` must not be quoted into a report.
pub fn read_in(dir: &Path, pane: u32) -> Checkpoint {
    let path = pane_path(dir, pane);
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        let inside = match (std::fs::canonicalize(&path), std::fs::canonicalize(dir)) {
            (Ok(target), Ok(dir)) => target.starts_with(dir),
            // A dangling link: reading it fails as a missing file would.
            _ => true,
        };
        if !inside {
            return Checkpoint {
                status: CheckpointStatus::Invalid,
                error: Some(CheckpointError {
                    message: "is a symbolic link that leads outside the checkpoint directory; not followed".into(),
                    line: None,
                    column: None,
                    offset: None,
                }),
                ..Checkpoint::unread(path)
            };
        }
    }
    read(&path)
}

fn error_at(text: &str, message: String, offset: usize) -> CheckpointError {
    let offset = floor_char_boundary(text, offset);
    let before = &text[..offset];
    let line = before.matches('\n').count() as u64 + 1;
    let column = (before.len() - before.rfind('\n').map_or(0, |p| p + 1)) as u64 + 1;
    CheckpointError {
        message,
        line: Some(line),
        column: Some(column),
        offset: Some(offset as u64),
    }
}

/// `offset`, moved back to the start of the character it falls in (and into `text`).
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The byte offset of a 1-based line and a 0-based byte column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    floor_char_boundary(text, start + column)
}

fn read_fields(cp: &mut Checkpoint, v: &Value) {
    cp.tasks_completed = v.pointer("/state/tasks_completed").and_then(Value::as_u64);
    cp.last_task = v.get("last_task").and_then(Value::as_u64);
    cp.timestamp = v
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_time);
}

/// A timestamp in the forms Python prints (`isoformat()` or `str(datetime)`).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    crate::grammar::parse_timestamp(s.trim())
}

/// A key, its check, and what it should be.
type Field = (&'static str, fn(&Value) -> bool, &'static str);

/// The shape the seed's `save_checkpoint` writes. On mismatch: the message and the byte
/// offset of the offending key (or the document start).
fn check_shape(v: &Value, text: &str) -> Result<(), (String, usize)> {
    let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap_or(0);
    let Some(top) = v.as_object() else {
        return Err((
            "expected an object with `state`, `timestamp` and `last_task`".into(),
            0,
        ));
    };
    let Some(state) = top.get("state").and_then(Value::as_object) else {
        return Err(("expected `state` to be an object".into(), at("state")));
    };
    let fields: [Field; 8] = [
        ("worker_type", Value::is_string, "a string"),
        (
            "start_time",
            |v| v.as_str().and_then(parse_time).is_some(),
            "a Python date-time string",
        ),
        ("tasks_completed", Value::is_u64, "a count"),
        ("files_created", Value::is_u64, "a count"),
        ("strategies_produced", Value::is_u64, "a count"),
        ("hypotheses_queued", Value::is_u64, "a count"),
        (
            "patterns_read",
            |v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            "a list of file names",
        ),
        ("distillation_complete", Value::is_boolean, "true or false"),
    ];
    check_fields(state, &fields, "state.", &at)?;
    let top_fields: [Field; 2] = [
        (
            "timestamp",
            |v| v.as_str().and_then(parse_time).is_some(),
            "a Python date-time string",
        ),
        ("last_task", Value::is_u64, "a count"),
    ];
    check_fields(top, &top_fields, "", &at)
}

fn check_fields(
    obj: &Map<String, Value>,
    fields: &[Field],
    prefix: &str,
    at: &dyn Fn(&str) -> usize,
) -> Result<(), (String, usize)> {
    for (key, ok, what) in fields {
        match obj.get(*key) {
            None => return Err((format!("`{prefix}{key}` is missing"), 0)),
            Some(v) if !ok(v) => {
                return Err((
                    format!("`{prefix}{key}` should be {what}, found {v}"),
                    at(key),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Parses the longest prefix of a broken document that can be closed into valid JSON:
/// cut at a value boundary, drop a dangling key, close the open containers.
///
/// One pass finds where values end ([`value_ends`]); the last few such cuts are tried,
/// each closed and parsed once, so the whole is linear in the text (a checkpoint cut
/// inside a 16 MiB string is repaired in one pass, not one per byte).
pub fn salvage(text: &str) -> Option<Value> {
    for cut in value_ends(text.as_bytes()).into_iter().rev() {
        let prefix = &text[..cut];
        let Some(closers) = closers(prefix) else {
            continue;
        };
        let candidate = format!("{prefix}{closers}");
        if let Ok(v) = serde_json::from_str::<Value>(&candidate)
            && (v.is_object() || v.is_array())
        {
            return Some(v);
        }
    }
    None
}

/// How many cut points [`salvage`] tries, from the last one back.
const CUTS_TRIED: usize = 4;

/// What an open object expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Member {
    Key,
    Colon,
    Value,
}

/// The last [`CUTS_TRIED`] places where a prefix of `text` ends with a complete value
/// inside the outermost container (or with an empty container opened): closing the
/// containers there gives JSON. A dangling key (`"b":` or `"b"`) is never such a place.
fn value_ends(text: &[u8]) -> Vec<usize> {
    // For each open container: `None` for an array, else what the object expects.
    let mut stack: Vec<Option<Member>> = Vec::new();
    let mut ends = Ends::default();
    let mut in_string = false;
    let mut key = false;
    let mut escaped = false;
    let mut literal = false;
    for (i, &b) in text.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => {
                    in_string = false;
                    if key {
                        if let Some(Some(member)) = stack.last_mut() {
                            *member = Member::Colon;
                        }
                    } else {
                        ends.value_done(&mut stack, i + 1);
                    }
                }
                _ => {}
            }
            continue;
        }
        let delimiter = matches!(b, b',' | b'}' | b']' | b':') || b.is_ascii_whitespace();
        if literal && delimiter {
            literal = false;
            ends.value_done(&mut stack, i);
        }
        match b {
            b'"' => {
                in_string = true;
                key = stack.last() == Some(&Some(Member::Key));
            }
            b'{' | b'[' => {
                stack.push((b == b'{').then_some(Member::Key));
                ends.push(i + 1);
            }
            b'}' | b']' => {
                stack.pop();
                ends.value_done(&mut stack, i + 1);
            }
            b':' => {
                if let Some(Some(member)) = stack.last_mut() {
                    *member = Member::Value;
                }
            }
            _ if delimiter => {}
            _ => literal = true,
        }
    }
    if literal {
        ends.value_done(&mut stack, text.len());
    }
    ends.0.into()
}

/// The last [`CUTS_TRIED`] value ends seen.
#[derive(Default)]
struct Ends(std::collections::VecDeque<usize>);

impl Ends {
    fn push(&mut self, at: usize) {
        if self.0.len() == CUTS_TRIED {
            self.0.pop_front();
        }
        self.0.push_back(at);
    }

    /// A value ended at `at`: the container around it moves on, and `at` is a cut.
    fn value_done(&mut self, stack: &mut [Option<Member>], at: usize) {
        if let Some(top) = stack.last_mut() {
            if let Some(member) = top {
                *member = Member::Key;
            }
            self.push(at);
        }
    }
}

/// The brackets that close what `prefix` left open, or `None` inside a string.
fn closers(prefix: &str) -> Option<String> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in prefix.bytes() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' => stack.push('}'),
            b'[' => stack.push(']'),
            b'}' | b']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    (!in_string).then(|| stack.iter().rev().collect())
}

/// Marks a readable checkpoint `stale` when it is behind `last` (the transcript's last
/// session): fewer tasks completed than the transcript shows.
pub fn compare(cp: &mut Checkpoint, last: Option<&SessionState>) {
    let (Some(session), CheckpointStatus::Ok) = (last, cp.status) else {
        return;
    };
    let saved = cp.tasks_completed.into_iter().chain(cp.last_task).min();
    if let Some(saved) = saved
        && saved < session.tasks_completed
    {
        cp.status = CheckpointStatus::Stale;
        cp.error = Some(CheckpointError {
            message: format!(
                "the checkpoint has {saved} tasks completed, the transcript {} (session {})",
                session.tasks_completed,
                crate::sanitize::escape(session.session_id.as_bytes())
            ),
            line: None,
            column: None,
            offset: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_truncated_checkpoint_is_salvaged() {
        let text = r#"{"state": {"worker_type": "researcher", "start_time": "#;
        assert_eq!(
            salvage(text),
            Some(serde_json::json!({"state": {"worker_type": "researcher"}}))
        );
    }

    #[test]
    fn salvage_keeps_every_complete_member() {
        let text =
            r#"{"state": {"worker_type": "r", "tasks_completed": 3, "patterns_read": ["a.md", "b"#;
        assert_eq!(
            salvage(text),
            Some(
                serde_json::json!({"state": {"worker_type": "r", "tasks_completed": 3, "patterns_read": ["a.md"]}})
            )
        );
        assert_eq!(salvage(""), None);
        assert_eq!(salvage("garbage"), None);
        assert_eq!(
            salvage(r#"{"a": [1, {"b": true, "c"#),
            Some(serde_json::json!({"a": [1, {"b": true}]}))
        );
        assert_eq!(
            salvage(r#"{"a": "x\"y", "b": 2"#),
            Some(serde_json::json!({"a": "x\"y", "b": 2}))
        );
    }

    #[test]
    fn a_cut_inside_a_huge_string_is_repaired_in_one_pass() {
        // Quadratic repair took minutes here; one pass takes milliseconds.
        let text = format!(
            r#"{{"state": {{"worker_type": "r", "start_time": "{}"#,
            "x".repeat(4 << 20)
        );
        assert_eq!(
            salvage(&text),
            Some(serde_json::json!({"state": {"worker_type": "r"}}))
        );
    }

    #[test]
    fn pane_numbers_come_from_file_names() {
        assert_eq!(pane_of(Path::new("logs/pane-2.log")), Some(2));
        assert_eq!(pane_of(Path::new("pane-13")), Some(13));
        assert_eq!(pane_of(Path::new("pane-2x.log")), None);
        assert_eq!(pane_of(Path::new("worker.log")), None);
    }

    #[test]
    fn python_times_parse() {
        assert!(parse_time("2026-11-23 22:55:26.176071").is_some());
        assert!(parse_time("2026-11-23T22:55:26.176086").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
