//! How an input is wrapped, told from its first bytes: gzip (how old runs are kept),
//! UTF-16 with a byte-order mark (PowerShell's `>`), UTF-8 with one, or plain. The
//! scanner reads what is inside, so a wrapped input gets the verdict of the plain file
//! (SPEC §4); the passthrough, outside the scanner, stays byte for byte what came in.
//!
//! Unwrapping is streamed and bounded: gzip is inflated a few hundred compressed bytes
//! at a time (at most about 1 000 times that comes out of each), UTF-16 is decoded into
//! a buffer of fixed size, and each piece is framed before the next is made. Broken gzip
//! (corrupt, or cut short) is said, never silent: what was inflated up to the break is
//! checked, and the input was not read to its end.

use std::io::Write;

use flate2::write::MultiGzDecoder;

/// Compressed bytes inflated at a time: deflate expands at most about 1 032 times, so
/// what one step makes stays well under a megabyte.
const GZIP_STEP: usize = 512;
/// Bytes of UTF-8 made from UTF-16 at a time.
const UTF16_OUT: usize = 16 * 1024;

/// The wrapping of an input, once its first bytes have told it.
pub enum Wrapping {
    /// Not told yet: the first bytes, held until there are enough to tell; inside how
    /// many gzip layers.
    Undecided { held: Vec<u8>, depth: u8 },
    /// Plain bytes.
    Plain,
    /// gzip, and what it holds (told by its own first bytes: a gzip of a UTF-16 file
    /// is read too).
    Gzip {
        decoder: Box<MultiGzDecoder<Vec<u8>>>,
        inner: Box<Wrapping>,
    },
    /// A byte sequence that is not UTF-16 becomes U+FFFD, as a byte that is not UTF-8
    /// does in a plain input: neither is an error.
    Utf16 {
        decoder: encoding_rs::Decoder,
        out: Vec<u8>,
    },
    /// The wrapping broke: the rest is not read.
    Broken,
}

impl Default for Wrapping {
    fn default() -> Self {
        Wrapping::Undecided {
            held: Vec::new(),
            depth: 0,
        }
    }
}

/// gzip layers unwrapped at most (a gzip of a gzip is how some rotations keep logs;
/// deeper is an attack: each layer costs a decoder, and thousands exhaust the stack).
const MAX_GZIP_DEPTH: u8 = 2;

impl std::fmt::Debug for Wrapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wrapping::Undecided { held, depth } => write!(f, "Undecided({held:?}, {depth})"),
            Wrapping::Plain => f.write_str("Plain"),
            Wrapping::Gzip { inner, .. } => write!(f, "Gzip({inner:?})"),
            Wrapping::Utf16 { .. } => f.write_str("Utf16"),
            Wrapping::Broken => f.write_str("Broken"),
        }
    }
}

/// What the first bytes say.
pub enum Told {
    /// More bytes are needed.
    Wait,
    /// Plain, with a UTF-8 byte-order mark of this many bytes to skip (0 or 3).
    Plain(usize),
    Gzip,
    Utf16(&'static encoding_rs::Encoding),
}

/// Tells the wrapping from the input's first bytes (`whole` when there are no more).
pub fn tell(first: &[u8], whole: bool) -> Told {
    const GZIP: &[u8] = &[0x1f, 0x8b];
    const UTF8_BOM: &[u8] = &[0xef, 0xbb, 0xbf];
    let could_be = |magic: &[u8]| magic.starts_with(&first[..first.len().min(magic.len())]);
    if first.starts_with(GZIP) {
        Told::Gzip
    } else if first.starts_with(UTF8_BOM) {
        Told::Plain(3)
    } else if first.starts_with(&[0xff, 0xfe]) {
        Told::Utf16(encoding_rs::UTF_16LE)
    } else if first.starts_with(&[0xfe, 0xff]) {
        Told::Utf16(encoding_rs::UTF_16BE)
    } else if !whole
        && [GZIP, UTF8_BOM, &[0xff, 0xfe], &[0xfe, 0xff]]
            .iter()
            .any(|m| could_be(m))
    {
        Told::Wait
    } else {
        Told::Plain(0)
    }
}

/// Holds the first bytes of `bytes` in `held` until they tell the wrapping: then what
/// they told, the bytes held, and the rest of `bytes`.
pub fn decide<'b>(
    held: &mut Vec<u8>,
    bytes: &'b [u8],
    last: bool,
) -> Option<(Told, Vec<u8>, &'b [u8])> {
    let take = bytes.len().min(3usize.saturating_sub(held.len()));
    held.extend_from_slice(&bytes[..take]);
    match tell(held, last) {
        Told::Wait => None,
        told => Some((told, std::mem::take(held), &bytes[take..])),
    }
}

impl Wrapping {
    /// The wrapping `told` says, ready to unwrap, inside `depth` gzip layers.
    pub fn new(told: &Told, depth: u8) -> Wrapping {
        match told {
            Told::Wait => Wrapping::Undecided {
                held: Vec::new(),
                depth,
            },
            Told::Plain(_) => Wrapping::Plain,
            Told::Gzip => Wrapping::Gzip {
                decoder: Box::new(MultiGzDecoder::new(Vec::new())),
                inner: Box::new(Wrapping::Undecided {
                    held: Vec::new(),
                    depth: depth + 1,
                }),
            },
            Told::Utf16(encoding) => Wrapping::Utf16 {
                decoder: encoding.new_decoder_with_bom_removal(),
                out: vec![0; UTF16_OUT],
            },
        }
    }

    /// Unwraps `bytes` (`last` when the input ends with them), handing each decoded
    /// piece to `out` as it is made. Returns what broke, once, when the wrapping broke.
    pub fn unwrap(
        &mut self,
        bytes: &[u8],
        last: bool,
        out: &mut dyn FnMut(&[u8]),
    ) -> Option<String> {
        match self {
            Wrapping::Undecided { held, depth } => {
                // (Inside another wrapping: a byte-order mark is dropped.)
                let depth = *depth;
                let (told, held, rest) = decide(held, bytes, last)?;
                if matches!(told, Told::Gzip) && depth >= MAX_GZIP_DEPTH {
                    *self = Wrapping::Broken;
                    return Some(format!(
                        "gzip nested more than {MAX_GZIP_DEPTH} deep: not unwrapped further"
                    ));
                }
                *self = Wrapping::new(&told, depth);
                let skip = match told {
                    Told::Plain(bom) => bom,
                    _ => 0,
                };
                let broke = self.unwrap(&held[skip..], false, out);
                broke.or(self.unwrap(rest, last, out))
            }
            Wrapping::Plain => {
                out(bytes);
                None
            }
            Wrapping::Broken => None,
            Wrapping::Gzip { decoder, inner } => {
                let broke = gunzip(decoder, inner, bytes, last, out);
                if broke.is_some() {
                    *self = Wrapping::Broken;
                }
                broke
            }
            Wrapping::Utf16 { decoder, out: buf } => {
                let mut rest = bytes;
                loop {
                    let (result, read, written, _) = decoder.decode_to_utf8(rest, buf, last);
                    out(&buf[..written]);
                    rest = &rest[read..];
                    if result == encoding_rs::CoderResult::InputEmpty {
                        return None;
                    }
                }
            }
        }
    }
}

/// Inflates `bytes` a step at a time into `inner`'s unwrapping; at the `last` bytes,
/// checks the stream ended whole.
fn gunzip(
    decoder: &mut MultiGzDecoder<Vec<u8>>,
    inner: &mut Wrapping,
    bytes: &[u8],
    last: bool,
    out: &mut dyn FnMut(&[u8]),
) -> Option<String> {
    if crate::interrupt::signal().is_some() {
        // The run ends here: the rest is not read, and not called damaged.
        return None;
    }
    let mut broke = None;
    let mut drain = |decoder: &mut MultiGzDecoder<Vec<u8>>, last: bool| {
        let made = decoder.get_mut();
        if !made.is_empty() || last {
            let inside = inner.unwrap(made, last, out);
            broke = broke.take().or(inside);
            made.clear();
        }
    };
    for step in bytes.chunks(GZIP_STEP) {
        if crate::interrupt::signal().is_some() {
            // A signal ends the run: a chunk of a gzip bomb takes long to inflate, and
            // the report of what was read so far must come within a second.
            return broke;
        }
        if let Err(e) = decoder.write_all(step) {
            drain(decoder, true);
            return Some(format!("the gzip data is damaged ({e})"));
        }
        drain(decoder, false);
    }
    if last {
        let ended = decoder.try_finish();
        drain(decoder, true);
        if let Err(e) = ended {
            return Some(format!("the gzip data is damaged or cut short ({e})"));
        }
    }
    broke
}
