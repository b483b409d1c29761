//! JSON text that is safe on a terminal: serde_json escapes the C0 control characters
//! in strings, as JSON requires, but writes DEL and the C1 controls (U+0080 to U+009F,
//! U+009B being a one-byte CSI) as they are. Transcripts are untrusted (SPEC §4), so
//! every JSON the tool writes goes through this formatter, which escapes those too
//! (`\u007f`, `\u009b`): still the same JSON value, never a control sequence.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

/// Wraps a serde_json formatter, escaping DEL and C1 controls in strings.
pub struct Safe<F>(pub F);

/// Whether `c` is DEL, a C1 control or a bidirectional control (which would reorder a
/// terminal's line from there on).
fn unsafe_char(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}') || crate::sanitize::is_bidi_control(c)
}

impl<F: Formatter> Formatter for Safe<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(unsafe_char) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or('\u{7f}');
            write!(writer, "\\u{:04x}", c as u32)?;
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    // Everything else is the wrapped formatter's.
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Writes `value` as compact JSON, terminal-safe.
pub fn to_writer<W: Write, T: ?Sized + Serialize>(out: W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Safe(CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// `value` as indented JSON, terminal-safe.
pub fn to_string_pretty<T: ?Sized + Serialize>(value: &T) -> io::Result<String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Safe(PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(io::Error::from)?;
    String::from_utf8(out).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    #[test]
    fn del_and_c1_controls_are_escaped_and_the_value_is_unchanged() {
        let s = "a\u{7f}b\u{9b}31m\u{85}é\u{1b}";
        let mut out = Vec::new();
        super::to_writer(&mut out, &s).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, r#""a\u007fb\u009b31m\u0085é\u001b""#);
        assert_eq!(serde_json::from_str::<String>(&text).unwrap(), s);
        assert!(!text.chars().any(char::is_control));
    }

    #[test]
    fn bidi_controls_are_escaped_and_the_value_is_unchanged() {
        let s = "task\u{202e}gpj.exe\u{2066}";
        let mut out = Vec::new();
        super::to_writer(&mut out, &s).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, r#""task\u202egpj.exe\u2066""#);
        assert_eq!(serde_json::from_str::<String>(&text).unwrap(), s);
    }
}
