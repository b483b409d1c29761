//! A stream-json record, read in full by the lexer, turned into events: the worker's
//! text in it was scanned as text, and its events are moved onto the record's line.

use std::sync::Arc;

use super::LineScan;
use crate::event::{Event, EventKind, LineText, Position};
use crate::format::Item;
use crate::frame::Segment;

impl<F: FnMut(Event)> LineScan<'_, F> {
    /// Ends a stream-json record (fed in full by now): the worker's text in it was
    /// scanned as text; its events are placed on the record's line.
    pub(super) fn record(&mut self, seg: &Segment<'_>) {
        let Some(json) = self.json.as_mut() else {
            return;
        };
        let first = json.counts().records == 0;
        let visible = (json.subagent_calls_visible(), json.file_calls_visible());
        let Some(record) = json.end(seg.line) else {
            return;
        };
        self.emit_record(seg, record, first.then_some(visible));
    }

    /// Turns a record into events on `seg`'s line. `visible`, on the input's first
    /// record: what its tool calls show (subagent calls, file calls).
    pub(super) fn emit_record(
        &mut self,
        seg: &Segment<'_>,
        record: crate::format::Record,
        visible: Option<(bool, bool)>,
    ) {
        let head = &seg.bytes[..seg.bytes.len().min(200)];
        let at = Position {
            line: seg.line,
            column: seg.column,
            offset: seg.offset,
            block_line: None,
        };
        let text = Arc::new(LineText {
            line: seg.line,
            column: seg.column,
            offset: seg.offset,
            bytes: head.into(),
        });
        let event = |kind| Event {
            at,
            kind,
            text: text.clone(),
        };
        // The record's time first: what it starts (the CLI's run) starts then.
        if let Some(time) = record.timestamp {
            (self.sink)(event(EventKind::Clock(time)));
        }
        if let Some((subagents, files)) = visible {
            (self.sink)(event(EventKind::ActionsVisible { subagents, files }));
        }
        for item in record.items {
            match item {
                Item::Call(mut call) => {
                    if let Some(input) = call.shown.take() {
                        (self.sink)(event(EventKind::Said(Box::new(
                            crate::replay::Said::Call {
                                tool: call.tool.clone(),
                                id: call.id.clone(),
                                parent: call.parent.clone(),
                                input: *input,
                            },
                        ))));
                    }
                    (self.sink)(event(EventKind::ToolCall {
                        tool: call.tool,
                        subagent: call.subagent,
                        creates: call.creates,
                        parent: call.parent,
                        id: call.id,
                        input: call.input,
                    }))
                }
                Item::Done(done) => (self.sink)(event(EventKind::ToolDone {
                    id: done.id,
                    failed: done.failed,
                })),
                Item::Text(events) => {
                    for event in events {
                        (self.sink)(on_record_line(event, seg));
                    }
                }
                Item::SubagentRun(agent_id) => {
                    (self.sink)(event(EventKind::SubagentRun { agent_id }))
                }
                Item::Said(said) => (self.sink)(event(EventKind::Said(said))),
            }
        }
        if let Some(resets_at) = record.rate_limited {
            (self.sink)(event(EventKind::RateLimited { resets_at }));
        }
        if let Some(usage) = record.usage {
            (self.sink)(event(EventKind::Usage(Box::new(usage))));
        }
        if let Some(exit) = record.exit {
            (self.sink)(Event {
                at,
                kind: EventKind::WorkerExit {
                    cause: exit.cause().to_string(),
                    failed: exit.failed(),
                    subtype: exit.subtype,
                    num_turns: exit.num_turns,
                    total_cost_usd: exit.total_cost_usd,
                    more: record.more,
                },
                text,
            });
        }
    }
}

/// Moves an event found in a record's text onto the record's line: the line is the
/// JSONL line, columns and offsets stay relative to the text (shifted by the record's
/// offset so labels still fall inside the quoted text).
fn on_record_line(mut event: Event, seg: &Segment<'_>) -> Event {
    let shift = |p: &mut Position| {
        p.block_line = Some(p.line);
        p.line = seg.line;
        p.offset += seg.offset;
    };
    shift(&mut event.at);
    if let EventKind::Malformed(m) = &mut event.kind {
        shift(&mut m.at);
    }
    let text = &event.text;
    event.text = Arc::new(LineText {
        line: seg.line,
        column: text.column,
        offset: text.offset + seg.offset,
        bytes: text.bytes.clone(),
    });
    event
}

/// A document is fed in pieces of at most this many bytes, and the records each
/// completed are taken before the next: however many messages a one-line document
/// holds, its reader never keeps more than a few hundred waiting (no record is dropped,
/// none waits for the line's end).
const DOCUMENT_PIECE: usize = 1024;

impl<F: FnMut(Event)> LineScan<'_, F> {
    /// A line of a JSON document (a Gemini chat file): fed to its reader (all but its
    /// head was fed as it arrived, when it is long), and the records it completed turned
    /// into events, each on the line its text started on.
    pub(super) fn document_line(&mut self, seg: &Segment<'_>) {
        let streamed = std::mem::take(self.streaming);
        let here = crate::format::Place {
            line: seg.line,
            offset: seg.offset,
        };
        if !streamed {
            self.document_bytes(seg.bytes, here);
        }
        self.document_bytes(b"\n", here);
    }

    /// Feeds bytes of the document's line at `here`, turning the records they complete
    /// into events as they complete.
    pub(super) fn document_bytes(&mut self, bytes: &[u8], here: crate::format::Place) {
        for piece in bytes.chunks(DOCUMENT_PIECE) {
            let Some(doc) = self.doc.as_mut() else {
                return;
            };
            doc.feed(piece, here);
            while let Some(doc) = self.doc.as_mut()
                && let Some((place, record)) = doc.next_record()
            {
                let visible = doc.calls_visible().filter(|_| doc.counts().records == 1);
                let at = Segment {
                    bytes: b"",
                    truncated: false,
                    line: place.line,
                    column: 1,
                    offset: place.offset,
                };
                self.emit_record(&at, record, visible);
            }
        }
    }
}
