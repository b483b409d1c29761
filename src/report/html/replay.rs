//! The replay of one input written in the HTML report (SPEC §9): what the input said,
//! in its order — the worker's messages, its tool calls with their inputs, their
//! results folded, or the lines of a plain transcript with the marker lines marked —
//! beside each session's timeline, each line linked to its findings.
//!
//! Bounded (SPEC §6): what an input keeps is [`crate::replay::Replay`]'s; the page
//! writes at most [`MAX_PAGE`] bytes of replay in a run, and says what it did not.

use std::fmt::Write as _;

use crate::replay::{Entry, Excerpt, MAX_PAGE, Replay, Said, Who};

/// How the replay is written: which input, hidden text, links to findings.
pub struct Render<'a> {
    /// The input's anchor prefix (`i3`).
    pub prefix: &'a str,
    /// `--redact`: texts replaced by their length.
    pub redact: bool,
    /// Findings per line, sorted by line: `(line, finding index, severity class)`.
    pub findings: &'a [(u64, usize, &'static str)],
}

/// Who wrote a message, as the replay says it.
fn word(who: Who) -> &'static str {
    match who {
        Who::Worker => "worker",
        Who::User => "user",
        Who::Subagent => "subagent",
        Who::Reasoning => "reasoning",
    }
}

/// Text from a transcript, made safe.
fn text(s: &str) -> String {
    crate::sanitize::markup(s)
}

/// Text of many lines from a transcript, made safe, its line breaks kept (a `\r`
/// before one dropped).
fn lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&text(line.strip_suffix('\r').unwrap_or(line)));
    }
    out
}

/// `1.2 KB`, `340 bytes`.
pub(super) fn size(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} bytes"),
        1_000..1_000_000 => format!("{:.1} KB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

impl Render<'_> {
    /// Writes the entries `range` of `replay` (a session's, or those before any), each
    /// line's first entry with the anchor findings link to. Returns false once the
    /// page's budget `written` is spent (what was not written is counted in `unwritten`).
    pub fn entries(
        &self,
        replay: &Replay,
        range: std::ops::Range<usize>,
        written: &mut usize,
        unwritten: &mut u64,
        out: &mut String,
    ) {
        let mut last_line = None;
        let start = out.len();
        out.push_str("<ol class=\"replay\">\n");
        let mut sub_calls: Vec<&str> = Vec::new();
        let offset = range.start;
        let entries = &replay.entries[range];
        let mut i = 0;
        while i < entries.len() {
            if *written + (out.len() - start) > MAX_PAGE {
                *unwritten += (entries.len() - i) as u64;
                break;
            }
            let entry = &entries[i];
            // A message told in pieces (a Gemini stream's fragments) reads as one.
            let mut end = i + 1;
            if let Said::Message { who, .. } | Said::More { who, .. } = &entry.said {
                while end < entries.len()
                    && matches!(&entries[end].said, Said::More { who: w, .. } if w == who)
                {
                    end += 1;
                }
            }
            let last = entries[end - 1].line;
            let first = last_line != Some(entry.line);
            last_line = Some(last);
            let id = if first {
                format!(" id=\"{}-L{}\"", self.prefix, entry.line)
            } else {
                String::new()
            };
            let (class, nested) = match &entry.said {
                Said::Message { who, .. } | Said::More { who, .. } => (
                    match who {
                        Who::Worker => "msg worker",
                        Who::User => "msg user",
                        Who::Subagent => "msg subagent",
                        Who::Reasoning => "msg reasoning",
                    },
                    *who == Who::Subagent,
                ),
                Said::Call { parent, id, .. } => {
                    if parent.is_some()
                        && let Some(id) = id
                    {
                        sub_calls.push(id);
                    }
                    ("call", parent.is_some())
                }
                Said::Result {
                    id, failed, parent, ..
                } => (
                    if *failed { "result failed" } else { "result" },
                    parent.is_some() || sub_calls.contains(&id.as_str()),
                ),
                Said::Line(_) if replay.marked(entry.line) => ("line marker", false),
                Said::Line(_) => ("line", false),
            };
            let _ = write!(
                out,
                "<li class=\"{class}{}\"{id}>",
                if nested { " nested" } else { "" }
            );
            if first || last > entry.line {
                if last > entry.line {
                    let _ = write!(out, "<span class=\"ln\">lines {}–{last}</span>", entry.line);
                } else {
                    let _ = write!(out, "<span class=\"ln\">line {}</span>", entry.line);
                }
                let from = if first { entry.line } else { entry.line + 1 };
                // The findings up to the next entry's line are this one's (a finding
                // on a record the replay does not show links here, see
                // `Replay::target`).
                let upto = match replay.entries.get(offset + end) {
                    Some(next) if next.line > last => next.line - 1,
                    Some(_) => last,
                    None if replay.left_out == 0 => u64::MAX,
                    None => last.max(entry.line),
                };
                self.badges(from, upto, out);
            }
            if end - i > 1 {
                self.pieces(&entries[i..end], out);
            } else {
                self.said(&entry.said, out);
            }
            out.push_str("</li>\n");
            i = end;
        }
        out.push_str("</ol>\n");
        *written += out.len() - start;
    }

    /// A message told in pieces: one text, with the anchor of each line it goes on to
    /// (the findings there link to it).
    fn pieces(&self, pieces: &[Entry], out: &mut String) {
        let (Said::Message { who, .. } | Said::More { who, .. }) = &pieces[0].said else {
            return;
        };
        let _ = write!(out, " <span class=\"who\">{}</span>", word(*who));
        let total: u64 = pieces.iter().map(|p| p.said.length()).sum();
        if self.redact {
            for w in pieces.windows(2).filter(|w| w[1].line != w[0].line) {
                let _ = write!(out, "<span id=\"{}-L{}\"></span>", self.prefix, w[1].line);
            }
            let _ = write!(
                out,
                "<p class=\"redacted\">[message: {} redacted]</p>",
                size(total)
            );
            return;
        }
        out.push_str("<pre class=\"text\">");
        let mut line = pieces[0].line;
        let mut cut = 0;
        for piece in pieces {
            if piece.line != line {
                line = piece.line;
                let _ = write!(out, "<span id=\"{}-L{line}\"></span>", self.prefix);
            }
            if let Said::Message { text: t, .. } | Said::More { text: t, .. } = &piece.said {
                out.push_str(&lines(&t.text()));
                cut += t.left_out();
            }
        }
        if cut > 0 {
            let _ = write!(out, "<span class=\"cut\">… ({} more)</span>", size(cut));
        }
        out.push_str("</pre>");
    }

    /// Links from the lines `line..=last` to the findings on them.
    fn badges(&self, line: u64, last: u64, out: &mut String) {
        let i = self.findings.partition_point(|f| f.0 < line);
        for &(_, n, class) in self.findings[i..].iter().take_while(|f| f.0 <= last) {
            let _ = write!(
                out,
                " <a class=\"badge {class}\" href=\"#{}-f{n}\">finding {}</a>",
                self.prefix,
                n + 1
            );
        }
    }

    /// The body of an entry.
    fn said(&self, said: &Said, out: &mut String) {
        match said {
            Said::Message { who, text: t } | Said::More { who, text: t } => {
                let _ = write!(out, " <span class=\"who\">{}</span>", word(*who));
                self.body(t, "message", out);
            }
            Said::Call {
                tool, id, input, ..
            } => {
                let _ = write!(out, " <span class=\"tool\">{}</span>", text(tool));
                if let Some(id) = id {
                    let _ = write!(out, " <code class=\"id\">{}</code>", text(id));
                }
                if !input.is_empty() {
                    self.body(input, "input", out);
                }
            }
            Said::Result {
                id,
                failed,
                text: t,
                ..
            } => {
                let _ = write!(
                    out,
                    "<details><summary>result of <code class=\"id\">{}</code>{} · {}</summary>",
                    text(id),
                    if *failed { " <b>failed</b>" } else { "" },
                    size(t.len())
                );
                self.body(t, "result", out);
                out.push_str("</details>");
            }
            Said::Line(t) => self.body(t, "line", out),
        }
    }

    /// A text: escaped, cut where its excerpt ends, or only its length under
    /// `--redact`.
    fn body(&self, t: &Excerpt, what: &str, out: &mut String) {
        if self.redact {
            let _ = write!(
                out,
                "<p class=\"redacted\">[{what}: {} redacted]</p>",
                size(t.len())
            );
            return;
        }
        let _ = write!(out, "<pre class=\"text\">{}", lines(&t.text()));
        if t.left_out() > 0 {
            let _ = write!(
                out,
                "<span class=\"cut\">… ({} more)</span>",
                size(t.left_out())
            );
        }
        out.push_str("</pre>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_text_shows_only_its_length_and_markup_stays_text() {
        let mut r = Replay::default();
        let secret = Excerpt::of(b"<script>alert(1)</script> the secret");
        r.said(
            3,
            &Said::Message {
                who: Who::Worker,
                text: secret,
            },
        );
        let findings = [];
        let mut out = String::new();
        let (mut written, mut unwritten) = (0, 0);
        let plain = Render {
            prefix: "i0",
            redact: false,
            findings: &findings,
        };
        plain.entries(&r, 0..1, &mut written, &mut unwritten, &mut out);
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt; the secret"));
        assert!(!out.contains("<script>"));
        let mut out = String::new();
        let redacted = Render {
            redact: true,
            ..plain
        };
        redacted.entries(&r, 0..1, &mut written, &mut unwritten, &mut out);
        assert!(!out.contains("secret"), "{out}");
        assert!(out.contains("[message: 36 bytes redacted]"), "{out}");
    }

    #[test]
    fn a_message_in_fragments_is_one_item_with_an_anchor_per_line_and_its_findings() {
        let mut r = Replay::default();
        for (line, text) in [(3, "Hello, "), (4, "world"), (4, "!")] {
            let text = Excerpt::of(text.as_bytes());
            let who = Who::Worker;
            let piece = if line == 3 {
                Said::Message { who, text }
            } else {
                Said::More { who, text }
            };
            r.said(line, &piece);
        }
        r.said(5, &Said::Line(Excerpt::of(b"TASK_START: t-1")));
        let findings = [(4, 0, "error")];
        for redact in [false, true] {
            let render = Render {
                prefix: "i0",
                redact,
                findings: &findings,
            };
            let (mut out, mut written, mut unwritten) = (String::new(), 0, 0);
            render.entries(&r, 0..4, &mut written, &mut unwritten, &mut out);
            assert_eq!(out.matches("<li ").count(), 2, "{out}");
            assert!(
                out.contains(
                    "<li class=\"msg worker\" id=\"i0-L3\"><span class=\"ln\">lines 3–4</span>"
                ),
                "{out}"
            );
            assert!(out.contains("<span id=\"i0-L4\"></span>"), "{out}");
            assert!(out.contains("href=\"#i0-f0\""), "{out}");
            assert!(out.contains("id=\"i0-L5\""), "{out}");
            if redact {
                assert!(out.contains("[message: 13 bytes redacted]"), "{out}");
            } else {
                assert!(
                    out.contains("Hello, <span id=\"i0-L4\"></span>world!"),
                    "{out}"
                );
            }
        }
    }
}
