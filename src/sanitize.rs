//! Making untrusted transcript bytes safe to print.
//!
//! Reports quote the input (task ids, payloads, whole lines). A transcript may hold
//! escape sequences that would move the cursor, retitle the window or write the
//! clipboard if printed raw (SPEC §4), and bytes that are not UTF-8. Every quote goes
//! through [`escape`], which keeps printable text and tab, and shows every other
//! control byte (C0, DEL, C1), every bidirectional control character and every invalid
//! byte as a visible escape.

use std::fmt::Write;

/// Escapes `raw` for display: printable text is kept, tab is kept, `\x1b`-style escapes
/// replace C0 controls, DEL and bytes that are not UTF-8, `\u{9b}`-style escapes replace
/// C1 controls.
pub fn escape(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    escape_into(raw, &mut out, None);
    out
}

/// An id a transcript gives (a CLI's session or thread id), as reports carry it: at most
/// 128 bytes of it, escaped as [`escape`] does.
pub fn id(raw: &str) -> String {
    let mut end = raw.len().min(128);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    escape(&raw.as_bytes()[..end])
}

/// Like [`escape`], and also records for every input byte the offset in `out` where its
/// rendering starts (plus one final entry for the end), so spans over the raw bytes can be
/// moved onto the escaped text.
pub fn escape_with_map(raw: &[u8], map: &mut Vec<usize>) -> String {
    let mut out = String::with_capacity(raw.len());
    map.clear();
    escape_into(raw, &mut out, Some(map));
    map.push(out.len());
    out
}

/// Like [`escape_with_map`], but keeps line feeds: for showing a whole small file.
pub fn escape_lines_with_map(raw: &[u8], map: &mut Vec<usize>) -> String {
    let mut out = String::with_capacity(raw.len());
    map.clear();
    for (i, line) in raw.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            map.push(out.len());
            out.push('\n');
        }
        escape_into(line, &mut out, Some(map));
    }
    map.push(out.len());
    out
}

fn escape_into(raw: &[u8], out: &mut String, mut map: Option<&mut Vec<usize>>) {
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if let Some(m) = map.as_deref_mut() {
                m.extend(std::iter::repeat_n(out.len(), c.len_utf8()));
            }
            match c {
                '\t' => out.push('\t'),
                c if (c as u32) < 0x20 || c == '\x7f' => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if ('\u{80}'..='\u{9f}').contains(&c)
                    || is_bidi_control(c)
                    || is_invisible(c) =>
                {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            if let Some(m) = map.as_deref_mut() {
                m.push(out.len());
            }
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

/// The characters that reorder the text around them (the "Trojan Source" ones, CVE-2021-42574):
/// an id holding U+202E would show a report line reversed from there on.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// The characters that show nothing and can hide text (zero-width space and joiner
/// controls, word joiners, the byte-order mark, the soft hyphen, the Unicode tag
/// characters that carry hidden prompt text). The zero-width joiner of emoji sequences
/// is kept.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{200b}'
            | '\u{200c}'
            | '\u{2060}'..='\u{2064}'
            | '\u{feff}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

/// Quotes a short piece of input for a message: escaped and cut to `max` characters.
pub fn quote(raw: &[u8], max: usize) -> String {
    let escaped = escape(raw);
    match escaped.char_indices().nth(max) {
        Some((cut, _)) => format!("\"{}…\"", &escaped[..cut]),
        None => format!("\"{escaped}\""),
    }
}

/// Text from a transcript for markup (XML character data and attribute values, HTML):
/// control bytes escaped as every report shows them ([`escape`]), then the markup
/// characters as entities; a tab as `&#9;` (an attribute value would make it a space)
/// and U+FFFE, U+FFFF (which XML 1.0 forbids) shown escaped.
pub fn markup(text: &str) -> String {
    let shown = escape(text.as_bytes());
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' => out.push_str("&#9;"),
            '\u{fffe}' | '\u{ffff}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_are_shown_escaped() {
        assert_eq!(escape(b"a\x1b[31mb\x07"), "a\\x1b[31mb\\x07");
        assert_eq!(escape("x\u{9b}2J".as_bytes()), "x\\u{9b}2J");
        assert_eq!(escape(b"del\x7f"), "del\\x7f");
        assert_eq!(escape(b"tab\tkept"), "tab\tkept");
        assert_eq!(escape("id\u{202e}gpj.exe".as_bytes()), "id\\u{202e}gpj.exe");
        assert_eq!(escape("a\u{2066}b".as_bytes()), "a\\u{2066}b");
        assert_eq!(
            escape("a\u{200b}b\u{e0041}".as_bytes()),
            "a\\u{200b}b\\u{e0041}"
        );
    }

    #[test]
    fn invalid_utf8_is_shown_as_hex() {
        assert_eq!(escape(b"ok\xff\xfeok"), "ok\\xff\\xfeok");
    }

    #[test]
    fn map_points_every_raw_byte_at_its_rendering() {
        let mut map = Vec::new();
        let out = escape_with_map(b"a\x1bb\xe2\x86\x92c", &mut map);
        assert_eq!(out, "a\\x1bb→c");
        assert_eq!(map, vec![0, 1, 5, 6, 6, 6, 9, 10]);
    }

    #[test]
    fn multi_line_escaping_keeps_line_feeds_and_positions() {
        let mut map = Vec::new();
        let out = escape_lines_with_map(b"a\x1b\nb", &mut map);
        assert_eq!(out, "a\\x1b\nb");
        assert_eq!(map, vec![0, 1, 5, 6, 7]);
    }

    #[test]
    fn quote_cuts_long_text() {
        assert_eq!(quote(b"three", 10), "\"three\"");
        assert_eq!(quote(b"abcdefghijkl", 4), "\"abcd…\"");
    }
}
