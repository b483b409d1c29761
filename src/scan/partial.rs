//! Kubernetes CRI log lines (the `cri` preset): the kubelet splits a long line into
//! `<ts> stdout P <text>` partial lines ended by an `F` line; they are joined here and
//! read as one line, at the first part's place.

use super::{LineScan, Position};
use crate::event::Event;
use crate::frame::{self, Segment};

impl<F: FnMut(Event)> LineScan<'_, F> {
    /// CRI log lines: a `P` line is held (its first [`frame::MAX_HEAD`] bytes) until the
    /// `F` line that ends it; the joined line is then read as one, at the first line's
    /// place.
    pub(super) fn join_partial(&mut self, seg: Segment<'_>) {
        let tag = |seg: &Segment<'_>, t: &[u8]| {
            let head = &seg.bytes[..seg.bytes.len().min(96)];
            [&b" stdout "[..], b" stderr "].iter().find_map(|stream| {
                let at = memchr::memmem::find(head, stream)? + stream.len();
                head[at..].starts_with(t).then_some(at + t.len())
            })
        };
        if let Some(text) = tag(&seg, b"P ") {
            if self.partial.is_empty() {
                *self.partial_at = Position {
                    line: seg.line,
                    column: seg.column,
                    offset: seg.offset,
                    block_line: None,
                };
                self.partial.extend_from_slice(seg.bytes);
            } else {
                let room = frame::MAX_HEAD.saturating_sub(self.partial.len());
                let more = &seg.bytes[text..];
                self.partial
                    .extend_from_slice(&more[..more.len().min(room)]);
            }
            return;
        }
        if self.partial.is_empty() {
            return self.text(seg);
        }
        match tag(&seg, b"F ") {
            Some(text) => self.flush_partial(Some(&seg.bytes[text..])),
            None => {
                self.flush_partial(None);
                self.text(seg);
            }
        }
    }

    /// Reads the held partial lines as one, ended by `end` (the text of the `F` line;
    /// none when the input ends first).
    pub(super) fn flush_partial(&mut self, end: Option<&[u8]>) {
        if self.partial.is_empty() {
            return;
        }
        let mut joined = std::mem::take(self.partial);
        if let Some(more) = end {
            let room = frame::MAX_HEAD.saturating_sub(joined.len());
            joined.extend_from_slice(&more[..more.len().min(room)]);
        }
        let at = *self.partial_at;
        self.text(Segment {
            bytes: &joined,
            truncated: false,
            line: at.line,
            column: at.column,
            offset: at.offset,
        });
        joined.clear();
        *self.partial = joined;
    }
}

#[cfg(test)]
mod tests {
    use regex::bytes::Regex;

    use crate::event::EventKind;
    use crate::scan::{ScanOptions, scan_all};

    #[test]
    fn cri_partial_lines_are_joined_up_to_their_end() {
        let options = ScanOptions {
            strip_prefix: Some(Regex::new(r"^\d{4}-\d\d-\d\dT\S+ (stdout|stderr) [FP] ").unwrap()),
            join_partial: true,
            ..ScanOptions::default()
        };
        let ts = "2026-11-23T10:15:30.123456789+00:00";
        let input = format!(
            "{ts} stdout P TASK_\n{ts} stdout P STA\n{ts} stdout F RT: h-1\n{ts} stdout F TASK_COMPLETE: h-1\n{ts} stdout P FILES_CREATED: 2"
        );
        let events = scan_all(input.as_bytes(), options);
        let got: Vec<_> = events
            .iter()
            .map(|e| match &e.kind {
                EventKind::Marker(m) => (format!("{m:?}"), e.at.line),
                other => (format!("{other:?}"), e.at.line),
            })
            .collect();
        assert_eq!(
            got,
            [
                (r#"TaskStart { task: "h-1" }"#.to_owned(), 1),
                (r#"TaskComplete { task: "h-1" }"#.to_owned(), 4),
                ("FilesCreated { count: 2 }".to_owned(), 5),
            ]
        );
    }
}
