//! What the HTML report replays of a run (SPEC §9): the worker's messages, its tool
//! calls with their inputs, their results, and the lines of a plain transcript — each
//! a bounded [`Excerpt`] of what the input said, made by the format readers as they
//! decode it and carried as [`crate::event::EventKind::Said`] events.
//!
//! Nothing is kept unless a run asks for the replay: the readers look at
//! [`capturing`], which the scanner turns on only while it reads an input whose run
//! writes an HTML report ([`Capture`]). `check` without `--report html` pays one
//! thread-local read per text or tool call and keeps nothing.

use std::cell::Cell;

/// How much of one message, tool input or result is kept: the rest is counted.
pub const EXCERPT: usize = 4 * 1024;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
}

/// Whether the readers on this thread keep what they decode for the replay.
#[inline]
pub fn capturing() -> bool {
    ON.with(Cell::get)
}

/// The replay kept while it lives (the scanner holds one over each chunk it reads);
/// what was before comes back when it ends.
pub struct Capture {
    before: bool,
}

impl Capture {
    /// Keeps the replay (`on`) or not, until the value is dropped.
    pub fn enter(on: bool) -> Capture {
        Capture {
            before: ON.with(|c| c.replace(on)),
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let before = self.before;
        ON.with(|c| c.set(before));
    }
}

/// The first [`EXCERPT`] bytes of a text, and how long the whole was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Excerpt {
    /// The bytes kept (decoded JSON string bytes; not yet valid UTF-8 for sure).
    kept: Vec<u8>,
    /// Every byte of the text, kept or not.
    len: u64,
}

impl Excerpt {
    /// An excerpt of whole bytes.
    pub fn of(bytes: &[u8]) -> Excerpt {
        let mut e = Excerpt::default();
        e.push(bytes);
        e
    }

    /// Adds the next bytes of the text. (Out of line: the readers' paths stay as small
    /// as without the replay.)
    #[inline(never)]
    pub fn push(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        let room = EXCERPT.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// The bytes kept, as text (invalid UTF-8 replaced; control bytes are the
    /// report's to escape).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.kept)
    }

    /// The length of the whole text, in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the text was empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the text not kept.
    pub fn left_out(&self) -> u64 {
        self.len - self.kept.len() as u64
    }

    /// Bytes kept (what the report holds for it).
    pub fn kept(&self) -> usize {
        self.kept.len()
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The worker (the assistant).
    Worker,
    /// The user (a prompt).
    User,
    /// One of the worker's subagents.
    Subagent,
    /// The worker's reasoning, as the CLI shows it (Codex's `reasoning` items).
    Reasoning,
}

/// One thing of the replay, in the order the input says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// A message.
    Message { who: Who, text: Excerpt },
    /// More of the message before (a Gemini stream's `delta` fragment): read as one
    /// with it.
    More { who: Who, text: Excerpt },
    /// A tool call: its tool, its id, its input (`key: value` lines, as decoded).
    Call {
        tool: String,
        id: Option<String>,
        /// The call of the worker's whose subagent made it.
        parent: Option<String>,
        input: Excerpt,
    },
    /// A tool call's result.
    Result {
        id: String,
        failed: bool,
        /// A subagent's result: the call of the worker's whose subagent made the call.
        parent: Option<String>,
        text: Excerpt,
    },
    /// A line of a plain transcript.
    Line(Excerpt),
}

impl Said {
    /// Length of what was said, in bytes (all of it, not only the excerpt kept).
    pub fn length(&self) -> u64 {
        match self {
            Said::Message { text, .. }
            | Said::More { text, .. }
            | Said::Result { text, .. }
            | Said::Line(text) => text.len(),
            Said::Call { input, .. } => input.len(),
        }
    }

    /// Bytes the report holds for it.
    pub fn kept(&self) -> usize {
        match self {
            Said::Message { text, .. }
            | Said::More { text, .. }
            | Said::Result { text, .. }
            | Said::Line(text) => text.kept(),
            Said::Call { tool, input, .. } => tool.len() + input.kept(),
        }
    }
}

/// A tool call's input as the replay shows it: `key: value` lines, values as decoded,
/// nested keys flattened, array items separated by commas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputText {
    pub text: Excerpt,
    /// The last thing written was a value (the next value is another item).
    after_value: bool,
}

impl InputText {
    /// A key of the input.
    #[inline(never)]
    pub fn key(&mut self, name: &[u8]) {
        if !self.text.is_empty() {
            self.text.push(b"\n");
        }
        self.text.push(name);
        self.text.push(b": ");
        self.after_value = false;
    }

    /// A value starts.
    #[inline(never)]
    pub fn start(&mut self) {
        if self.after_value {
            self.text.push(b", ");
            self.after_value = false;
        }
    }

    /// Bytes of a value (a string's decoded bytes, or a literal).
    #[inline(never)]
    pub fn value(&mut self, bytes: &[u8]) {
        self.text.push(bytes);
        self.after_value = true;
    }
}

/// Entries an input's replay keeps.
pub const MAX_ENTRIES: usize = 3_000;
/// Bytes of text an input's replay keeps.
pub const MAX_KEPT: usize = 1 << 20;
/// Bytes of replay markup the page writes in a run.
pub const MAX_PAGE: usize = 8 << 20;

/// One entry: the line it is on, and what was said.
#[derive(Debug)]
pub struct Entry {
    pub line: u64,
    pub said: Said,
}

/// What an input said, as far as its caps let it be kept.
#[derive(Debug, Default)]
pub struct Replay {
    pub entries: Vec<Entry>,
    kept: usize,
    /// Lines that held a marker (or a line that tried to be one): highlighted.
    marked: Vec<u64>,
    /// Entries left out past the caps, and the bytes of text they held.
    pub left_out: u64,
    pub left_out_bytes: u64,
}

impl Replay {
    /// What the input said on `line`: kept, or counted past the caps.
    pub fn said(&mut self, line: u64, said: &Said) {
        let size = said.kept();
        if self.entries.len() >= MAX_ENTRIES || self.kept + size > MAX_KEPT {
            self.left_out += 1;
            self.left_out_bytes += said.length();
            return;
        }
        self.kept += size;
        self.entries.push(Entry {
            line,
            said: said.clone(),
        });
    }

    /// `line` held a marker (or a line that tried to be one).
    pub fn marker(&mut self, line: u64) {
        if self.marked.last() != Some(&line) && self.marked.len() < MAX_ENTRIES {
            self.marked.push(line);
        }
    }

    /// Whether a line held a marker.
    pub fn marked(&self, line: u64) -> bool {
        // Lines come in order (a text's lines, a document's records); a stray one
        // out of order is looked for linearly.
        self.marked.binary_search(&line).is_ok() || self.marked.contains(&line)
    }

    /// The line of the replay a finding on `line` links to: the last entry at or before
    /// it among the first `shown` (those the page wrote), when there is one.
    /// A finding past the last entry shown links nowhere when entries were left out
    /// after it (it may be about one of them).
    pub fn target(&self, line: u64, shown: usize) -> Option<u64> {
        let shown = &self.entries[..shown.min(self.entries.len())];
        let i = shown.partition_point(|e| e.line <= line);
        if i == 0 {
            return None;
        }
        if i == shown.len() {
            let past_the_cut = match self.entries.get(shown.len()) {
                Some(next) => line >= next.line,
                None => self.left_out > 0 && line > shown[i - 1].line,
            };
            if past_the_cut {
                return None;
            }
        }
        Some(shown[i - 1].line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_keeps_its_capped_entries_and_counts_the_rest() {
        let mut r = Replay::default();
        for line in 0..(MAX_ENTRIES as u64 + 5) {
            r.said(line, &Said::Line(Excerpt::of(b"hello")));
        }
        assert_eq!(r.entries.len(), MAX_ENTRIES);
        assert_eq!(r.left_out, 5);
        assert_eq!(r.left_out_bytes, 25);
    }

    #[test]
    fn a_finding_links_to_the_last_line_shown_at_or_before_it() {
        let mut r = Replay::default();
        for line in [2, 5, 9] {
            r.said(line, &Said::Line(Excerpt::of(b"x")));
        }
        assert_eq!(r.target(1, 3), None);
        assert_eq!(r.target(5, 3), Some(5));
        assert_eq!(r.target(7, 3), Some(5));
        assert_eq!(r.target(100, 3), Some(9));
        // Before the first entry the page did not write, the last line written; past
        // it, nowhere (the finding may be about what was not written).
        assert_eq!(r.target(7, 2), Some(5));
        assert_eq!(r.target(100, 2), None);
        // Past the last entry kept when entries were left out: nowhere either.
        r.left_out = 1;
        assert_eq!(r.target(100, 3), None);
        assert_eq!(r.target(9, 3), Some(9));
    }

    #[test]
    fn an_excerpt_keeps_its_first_bytes_and_counts_the_rest() {
        let mut e = Excerpt::default();
        e.push(&vec![b'a'; EXCERPT + 10]);
        e.push(b"tail");
        assert_eq!(e.len(), EXCERPT as u64 + 14);
        assert_eq!(e.kept(), EXCERPT);
        assert_eq!(e.left_out(), 14);
    }

    #[test]
    fn capture_is_off_unless_entered_and_restored_after() {
        assert!(!capturing());
        {
            let _on = Capture::enter(true);
            assert!(capturing());
            {
                let _off = Capture::enter(false);
                assert!(!capturing());
            }
            assert!(capturing());
        }
        assert!(!capturing());
    }

    #[test]
    fn an_input_reads_as_key_value_lines() {
        let mut i = InputText::default();
        i.key(b"command");
        i.start();
        i.value(b"ls -la");
        i.key(b"paths");
        i.start();
        i.start();
        i.value(b"a");
        i.start();
        i.value(b"b");
        assert_eq!(i.text.text(), "command: ls -la\npaths: a, b");
    }
}
