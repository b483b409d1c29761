//! A push-driven JSON lexer for one stream-json record, fed in pieces of any size.
//!
//! Records can be many megabytes (`tool_use_result.stdout` holds whole command
//! outputs), and the rule is never to hold one whole. General JSON crates either build a
//! value (`serde_json`), pull from a reader (`struson`), or buffer each string whole
//! before handing it out (`actson`'s `current_str`); none of them lets a 50 MB string go
//! through in pieces from a push-driven scanner. So this lexer is small and specific: it
//! tracks where it is (a stack of object keys and array positions, only the keys the
//! format's [`KeySet`] names being told apart: the lexer itself knows no field name) and
//! pushes into a [`JsonSink`] where
//! each value starts and ends, and the decoded bytes of every string value as they
//! arrive. Strings are skipped with `memchr`, so lexing runs near memory speed.

/// The object keys a reader of records tells apart: each input format has its own set
/// (the lexer knows no field names), with one value for every other key.
pub trait KeySet: Copy + PartialEq + std::fmt::Debug {
    /// Every key the format does not care about.
    const OTHER: Self;
    /// The key spelled `name` (at most [`MAX_KEY`] bytes; longer keys are `OTHER`).
    fn from_bytes(name: &[u8]) -> Self;
}

/// One open container: an object (with the key of the value being read) or an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<K> {
    Object(K),
    Array,
}

/// What kind of value starts or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    /// A number, `true`, `false` or `null`.
    Literal,
}

/// Receives what the lexer finds. `path` is the stack of containers around the value
/// (the value's own container, for an object or array, is not on it).
pub trait JsonSink<K> {
    fn start(&mut self, path: &[Frame<K>], kind: Kind);
    /// Decoded bytes of the string value being read (never of a key).
    fn string(&mut self, bytes: &[u8]);
    /// `literal` is the literal's text (up to 64 bytes), empty for other kinds.
    fn end(&mut self, path: &[Frame<K>], kind: Kind, literal: &[u8]);
    /// A key was read, at `path` (its object is the last frame); `name` is its first
    /// [`MAX_KEY`] + 1 bytes. For readers that want a key's own spelling (a model named
    /// by a key).
    fn key(&mut self, _path: &[Frame<K>], _name: &[u8]) {}
}

/// Containers nested deeper than this are skipped, not followed: no field the protocol
/// needs sits so deep, and the stack must stay bounded whatever the input. A skipped
/// container costs a counter, so a record of any depth is still read.
const MAX_DEPTH: usize = 128;
/// Keys longer than this are [`KeySet::OTHER`].
pub const MAX_KEY: usize = 64;
const MAX_LITERAL: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Value,
    /// After `[`: a value or `]`.
    ValueOrClose,
    /// After `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object.
    Key,
    Colon,
    AfterValue,
    String {
        key: bool,
    },
    Escape {
        key: bool,
    },
    Unicode {
        key: bool,
        digits: u8,
        code: u32,
    },
    Literal,
    /// Inside containers deeper than [`MAX_DEPTH`]: only strings and brackets are
    /// followed, to find where the outermost skipped container ends.
    Deep {
        depth: u64,
        in_string: bool,
        escape: bool,
    },
    Done,
    Error,
}

/// The lexer of one JSON value (a record), fed with [`Lexer::feed`].
#[derive(Debug)]
pub struct Lexer<K> {
    state: State,
    stack: Vec<Frame<K>>,
    key: Vec<u8>,
    literal: Vec<u8>,
    /// A high surrogate waiting for its low half.
    high: Option<u32>,
}

impl<K> Default for Lexer<K> {
    fn default() -> Self {
        Lexer {
            state: State::Value,
            stack: Vec::new(),
            key: Vec::new(),
            literal: Vec::new(),
            high: None,
        }
    }
}

impl<K: KeySet> Lexer<K> {
    /// Starts a new value.
    pub fn reset(&mut self) {
        self.state = State::Value;
        self.stack.clear();
        self.high = None;
    }

    /// Whether one whole value was read (trailing white space allowed).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether the input is not JSON (or nests deeper than the lexer follows).
    pub fn is_error(&self) -> bool {
        self.state == State::Error
    }

    /// Feeds the next piece of the value.
    pub fn feed(&mut self, input: &[u8], sink: &mut impl JsonSink<K>) {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match self.state {
                State::Done => {
                    if !b.is_ascii_whitespace() {
                        self.state = State::Error;
                    }
                    i += 1;
                }
                State::Error => return,
                State::Deep {
                    mut depth,
                    mut in_string,
                    mut escape,
                } => {
                    // Skip to the next byte that matters, then follow it.
                    let rest = &input[i..];
                    let skip = if in_string && !escape {
                        memchr::memchr2(b'"', b'\\', rest)
                    } else if escape {
                        Some(0)
                    } else {
                        rest.iter()
                            .position(|b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))
                    };
                    let Some(n) = skip else { return };
                    i += n + 1;
                    match rest[n] {
                        _ if escape => escape = false,
                        b'\\' if in_string => escape = true,
                        b'"' => in_string = !in_string,
                        _ if in_string => {}
                        b'{' | b'[' => depth = depth.saturating_add(1),
                        _ => depth -= 1,
                    }
                    if depth == 0 {
                        self.after_value();
                    } else {
                        self.state = State::Deep {
                            depth,
                            in_string,
                            escape,
                        };
                    }
                }
                State::String { key } => {
                    let rest = &input[i..];
                    match memchr::memchr2(b'"', b'\\', rest) {
                        None => {
                            self.string_bytes(key, rest, sink);
                            return;
                        }
                        Some(n) => {
                            self.string_bytes(key, &rest[..n], sink);
                            i += n + 1;
                            if rest[n] == b'\\' {
                                self.state = State::Escape { key };
                            } else {
                                self.flush_high(key, sink);
                                self.end_string(key, sink);
                            }
                        }
                    }
                }
                State::Escape { key } => {
                    i += 1;
                    let decoded = match b {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'/' | b'\\' | b'"' => b,
                        b'u' => {
                            self.state = State::Unicode {
                                key,
                                digits: 0,
                                code: 0,
                            };
                            continue;
                        }
                        _ => {
                            self.state = State::Error;
                            return;
                        }
                    };
                    self.string_bytes(key, &[decoded], sink);
                    self.state = State::String { key };
                }
                State::Unicode { key, digits, code } => {
                    i += 1;
                    let Some(d) = (b as char).to_digit(16) else {
                        self.state = State::Error;
                        return;
                    };
                    let code = code * 16 + d;
                    if digits < 3 {
                        self.state = State::Unicode {
                            key,
                            digits: digits + 1,
                            code,
                        };
                        continue;
                    }
                    self.state = State::String { key };
                    self.code_unit(key, code, sink);
                }
                State::Literal => {
                    if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-') {
                        if self.literal.len() < MAX_LITERAL {
                            self.literal.push(b);
                        }
                        i += 1;
                    } else {
                        let literal = std::mem::take(&mut self.literal);
                        sink.end(&self.stack, Kind::Literal, &literal);
                        self.literal = literal;
                        self.after_value();
                    }
                }
                _ if b.is_ascii_whitespace() => i += 1,
                State::Value | State::ValueOrClose => {
                    i += 1;
                    match b {
                        b']' if self.state == State::ValueOrClose => self.close(Kind::Array, sink),
                        b'{' => self.open(Frame::Object(K::OTHER), Kind::Object, sink),
                        b'[' => self.open(Frame::Array, Kind::Array, sink),
                        b'"' => {
                            sink.start(&self.stack, Kind::String);
                            self.state = State::String { key: false };
                        }
                        b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                            sink.start(&self.stack, Kind::Literal);
                            self.literal.clear();
                            self.literal.push(b);
                            self.state = State::Literal;
                        }
                        _ => self.state = State::Error,
                    }
                }
                State::KeyOrClose | State::Key => {
                    i += 1;
                    match b {
                        b'}' if self.state == State::KeyOrClose => self.close(Kind::Object, sink),
                        b'"' => {
                            self.key.clear();
                            self.state = State::String { key: true };
                        }
                        _ => self.state = State::Error,
                    }
                }
                State::Colon => {
                    i += 1;
                    self.state = if b == b':' {
                        State::Value
                    } else {
                        State::Error
                    };
                }
                State::AfterValue => {
                    i += 1;
                    match (b, self.stack.last()) {
                        (b',', Some(Frame::Object(_))) => self.state = State::Key,
                        (b',', Some(Frame::Array)) => self.state = State::Value,
                        (b'}', Some(Frame::Object(_))) => self.close(Kind::Object, sink),
                        (b']', Some(Frame::Array)) => self.close(Kind::Array, sink),
                        _ => self.state = State::Error,
                    }
                }
            }
        }
    }

    /// Ends the input: a literal at the very end is complete.
    pub fn finish(&mut self, sink: &mut impl JsonSink<K>) {
        if self.state == State::Literal {
            let literal = std::mem::take(&mut self.literal);
            sink.end(&self.stack, Kind::Literal, &literal);
            self.literal = literal;
            self.after_value();
        }
    }

    fn open(&mut self, frame: Frame<K>, kind: Kind, sink: &mut impl JsonSink<K>) {
        if self.stack.len() >= MAX_DEPTH {
            self.state = State::Deep {
                depth: 1,
                in_string: false,
                escape: false,
            };
            return;
        }
        sink.start(&self.stack, kind);
        self.stack.push(frame);
        self.state = match frame {
            Frame::Object(_) => State::KeyOrClose,
            Frame::Array => State::ValueOrClose,
        };
    }

    fn close(&mut self, kind: Kind, sink: &mut impl JsonSink<K>) {
        self.stack.pop();
        sink.end(&self.stack, kind, b"");
        self.after_value();
    }

    fn after_value(&mut self) {
        self.state = if self.stack.is_empty() {
            State::Done
        } else {
            State::AfterValue
        };
    }

    fn end_string(&mut self, key: bool, sink: &mut impl JsonSink<K>) {
        if key {
            if let Some(Frame::Object(k)) = self.stack.last_mut() {
                *k = if self.key.len() > MAX_KEY {
                    K::OTHER
                } else {
                    K::from_bytes(&self.key)
                };
            }
            sink.key(&self.stack, &self.key);
            self.state = State::Colon;
        } else {
            sink.end(&self.stack, Kind::String, b"");
            self.after_value();
        }
    }

    fn string_bytes(&mut self, key: bool, bytes: &[u8], sink: &mut impl JsonSink<K>) {
        if bytes.is_empty() {
            return;
        }
        self.flush_high(key, sink);
        if key {
            let room = (MAX_KEY + 1).saturating_sub(self.key.len());
            self.key.extend_from_slice(&bytes[..bytes.len().min(room)]);
        } else {
            sink.string(bytes);
        }
    }

    /// A `\uXXXX` escape: surrogate pairs are joined; a lone surrogate becomes U+FFFD.
    fn code_unit(&mut self, key: bool, code: u32, sink: &mut impl JsonSink<K>) {
        let c = match (self.high.take(), code) {
            (None, 0xD800..=0xDBFF) => {
                self.high = Some(code);
                return;
            }
            (Some(high), 0xDC00..=0xDFFF) => {
                char::from_u32(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00))
            }
            (Some(_), _) => {
                self.string_bytes(key, "\u{FFFD}".as_bytes(), sink);
                return self.code_unit(key, code, sink);
            }
            (None, _) => char::from_u32(code),
        };
        let c = c.unwrap_or('\u{FFFD}');
        let mut buf = [0; 4];
        self.string_bytes(key, c.encode_utf8(&mut buf).as_bytes(), sink);
    }

    fn flush_high(&mut self, key: bool, sink: &mut impl JsonSink<K>) {
        if self.high.take().is_some() {
            self.string_bytes(key, "\u{FFFD}".as_bytes(), sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few keys told apart, as a format would.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Key {
        Type,
        Message,
        Content,
        Text,
        Other,
    }

    impl KeySet for Key {
        const OTHER: Key = Key::Other;

        fn from_bytes(name: &[u8]) -> Key {
            match name {
                b"type" => Key::Type,
                b"message" => Key::Message,
                b"content" => Key::Content,
                b"text" => Key::Text,
                _ => Key::Other,
            }
        }
    }

    type Frame = super::Frame<Key>;

    /// Records what the lexer reports, as text.
    #[derive(Default)]
    struct Trace(Vec<String>, Vec<u8>);

    impl JsonSink<Key> for Trace {
        fn start(&mut self, path: &[Frame], kind: Kind) {
            self.0.push(format!("start {kind:?} at {path:?}"));
        }
        fn string(&mut self, bytes: &[u8]) {
            self.1.extend_from_slice(bytes);
        }
        fn end(&mut self, _path: &[Frame], kind: Kind, literal: &[u8]) {
            if kind == Kind::String {
                let s = String::from_utf8(std::mem::take(&mut self.1)).unwrap();
                self.0.push(format!("string {s:?}"));
            } else {
                self.0
                    .push(format!("end {kind:?} {}", String::from_utf8_lossy(literal)));
            }
        }
    }

    fn lex_in_pieces(input: &[u8], piece: usize) -> (Vec<String>, bool) {
        let mut lexer = Lexer::<Key>::default();
        let mut trace = Trace::default();
        for chunk in input.chunks(piece) {
            lexer.feed(chunk, &mut trace);
        }
        lexer.finish(&mut trace);
        (trace.0, lexer.is_done())
    }

    #[test]
    fn keys_and_values_are_reported_with_their_path() {
        let (trace, done) = lex_in_pieces(
            br#"{"type":"assistant","message":{"content":[{"text":"a\nb"}]},"n":12}"#,
            1000,
        );
        assert!(done);
        assert_eq!(
            trace,
            [
                "start Object at []",
                "start String at [Object(Type)]",
                "string \"assistant\"",
                "start Object at [Object(Message)]",
                "start Array at [Object(Message), Object(Content)]",
                "start Object at [Object(Message), Object(Content), Array]",
                "start String at [Object(Message), Object(Content), Array, Object(Text)]",
                "string \"a\\nb\"",
                "end Object ",
                "end Array ",
                "end Object ",
                "start Literal at [Object(Other)]",
                "end Literal 12",
                "end Object ",
            ]
        );
    }

    #[test]
    fn any_split_of_the_input_gives_the_same_result() {
        let input =
            r#"{"text":"caf\u00e9 \ud83d\ude00 \" \\ \/ \t","x":[true,null,-1.5e3],"y":{}}"#;
        let (whole, done) = lex_in_pieces(input.as_bytes(), 1000);
        assert!(done);
        assert!(
            whole.contains(&"string \"café 😀 \\\" \\\\ / \\t\"".to_owned()),
            "{whole:?}"
        );
        for piece in 1..8 {
            assert_eq!(
                lex_in_pieces(input.as_bytes(), piece).0,
                whole,
                "piece {piece}"
            );
        }
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let (trace, _) = lex_in_pieces(br#"{"t":"\ud800x\udc00"}"#, 3);
        assert!(
            trace.contains(&"string \"\u{FFFD}x\u{FFFD}\"".to_owned()),
            "{trace:?}"
        );
    }

    #[test]
    fn broken_or_torn_json_is_not_done() {
        for bad in [
            &b"{\"a\" 1}"[..],
            b"{\"a\":tru",
            b"[1,2",
            b"{\"a\":1}}",
            b"{\"a\":\"\\q\"}",
        ] {
            let (_, done) = lex_in_pieces(bad, 2);
            assert!(!done, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(10_000);
        let mut lexer = Lexer::<Key>::default();
        lexer.feed(deep.as_bytes(), &mut Trace::default());
        assert!(!lexer.is_done());
        assert!(lexer.stack.len() <= MAX_DEPTH);
    }

    #[test]
    fn a_record_nested_deeper_than_the_stack_is_still_read_to_its_end() {
        let deep = format!(
            r#"{{"a":{}"x\"]}}"{},"b":1}}"#,
            r#"[{"k":"#.repeat(1000),
            "}]".repeat(1000)
        );
        for piece in [1, 7, deep.len()] {
            let (_, done) = lex_in_pieces(deep.as_bytes(), piece);
            assert!(done, "in pieces of {piece}");
        }
    }
}
