//! Kubernetes CRI log lines (the `cri` preset): the kubelet splits a long line into
//! `<ts> stdout P <text>` partial lines ended by an `F` line; they are joined here and
//! read as one line, at the first part's place.

use super::{LineScan, Position};
use crate::event::Event;
use crate::frame::{self, Segment};

impl<F: FnMut(Event)> LineScan<'_, F> {
    /// CRI log lines: a `P` line is held (its first [`frame::MAX_HEAD`] bytes) until the
    /// `F` line of the same stream ends it; the joined line is then read as one, at the
    /// first line's place. `stdout` and `stderr` interleave in one log file, so each
    /// stream is joined on its own.
    pub(super) fn join_partial(&mut self, seg: Segment<'_>) {
        let tag = |seg: &Segment<'_>| {
            let head = &seg.bytes[..seg.bytes.len().min(96)];
            [&b" stdout "[..], b" stderr "]
                .iter()
                .enumerate()
                .find_map(|(stream, name)| {
                    let at = memchr::memmem::find(head, name)? + name.len();
                    let partial = match head.get(at..at + 2)? {
                        b"P " => true,
                        b"F " => false,
                        _ => return None,
                    };
                    Some((stream, partial, at + 2))
                })
        };
        let Some((stream, partial, text)) = tag(&seg) else {
            return self.text.line(seg, self.sink);
        };
        let held = &mut self.partial[stream];
        match (partial, held.is_empty()) {
            (true, true) => {
                self.partial_at[stream] = Position {
                    line: seg.line,
                    column: seg.column,
                    offset: seg.offset,
                    block_line: None,
                };
                held.extend_from_slice(seg.bytes);
            }
            (true, false) => {
                let room = frame::MAX_HEAD.saturating_sub(held.len());
                let more = &seg.bytes[text..];
                held.extend_from_slice(&more[..more.len().min(room)]);
            }
            (false, false) => self.flush_partial(stream, Some(&seg.bytes[text..])),
            (false, true) => self.text.line(seg, self.sink),
        }
    }

    /// Reads what is still held of both streams (the input ended before their `F`
    /// lines), in the order their first lines came.
    pub(super) fn flush_partials(&mut self) {
        let mut order = [0, 1];
        order.sort_by_key(|&s| self.partial_at[s].offset);
        for stream in order {
            self.flush_partial(stream, None);
        }
    }

    /// Reads the held partial lines of `stream` as one, ended by `end` (the text of the
    /// `F` line; none when the input ends first).
    fn flush_partial(&mut self, stream: usize, end: Option<&[u8]>) {
        if self.partial[stream].is_empty() {
            return;
        }
        let mut joined = std::mem::take(&mut self.partial[stream]);
        if let Some(more) = end {
            let room = frame::MAX_HEAD.saturating_sub(joined.len());
            joined.extend_from_slice(&more[..more.len().min(room)]);
        }
        let at = self.partial_at[stream];
        self.text.line(
            Segment {
                bytes: &joined,
                truncated: false,
                line: at.line,
                column: at.column,
                offset: at.offset,
            },
            self.sink,
        );
        joined.clear();
        self.partial[stream] = joined;
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
        // Each marker comes after its envelope's time (for the pictures).
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::Envelope(_)))
                .count(),
            3
        );
        let got: Vec<_> = events
            .iter()
            .filter(|e| !matches!(e.kind, EventKind::Envelope(_)))
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

    #[test]
    fn cri_streams_are_joined_each_with_its_own_lines() {
        let options = ScanOptions {
            strip_prefix: Some(Regex::new(r"^\d{4}-\d\d-\d\dT\S+ (stdout|stderr) [FP] ").unwrap()),
            join_partial: true,
            ..ScanOptions::default()
        };
        let ts = "2026-11-23T10:15:30.123456789+00:00";
        let input = format!(
            "{ts} stdout P TASK_ST\n{ts} stderr F warning: slow disk\n{ts} stderr P FILES_\n{ts} stdout F ART: h-1\n{ts} stderr F CREATED: 2\n"
        );
        let events = scan_all(input.as_bytes(), options);
        let got: Vec<_> = events
            .iter()
            .filter(|e| !matches!(e.kind, EventKind::Envelope(_)))
            .map(|e| (format!("{:?}", e.kind), e.at.line))
            .collect();
        assert_eq!(
            got,
            [
                (r#"Marker(TaskStart { task: "h-1" })"#.to_owned(), 1),
                ("Marker(FilesCreated { count: 2 })".to_owned(), 3),
            ]
        );
    }
}
