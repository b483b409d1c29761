//! Framing (SPEC §2): from a stream of byte chunks to candidate line segments.
//!
//! The [`Framer`] is fed the chunks as they are read and never holds the input: a
//! segment wholly inside a chunk is handed out as a slice of it; only a segment that
//! crosses a chunk boundary is copied, and only its first [`MAX_HEAD`] bytes. `\n` ends a
//! line; `\r` (alone or before `\n`) ends a segment too, so a progress bar redrawn with
//! `\r` still shows its last text as a candidate, while line numbers count `\n` only.
//!
//! [`clean`] then removes terminal escape sequences from a segment, keeping for each
//! kept byte its index in the raw segment, so positions can be reported in the
//! original input.

/// How many bytes of a segment are kept: only a line's first bytes can start a marker,
/// and no marker is this long. The rest of a longer line is skipped, never buffered.
pub const MAX_HEAD: usize = 64 * 1024;

/// A piece of a line between two line breaks (`\n` or `\r`), as seen by the grammar.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// The segment's first bytes (all of it unless `truncated`).
    pub bytes: &'a [u8],
    /// Whether the segment was longer than [`MAX_HEAD`].
    pub truncated: bool,
    /// 1-based line number.
    pub line: u64,
    /// 1-based byte column of `bytes[0]` in its line.
    pub column: u64,
    /// Absolute byte offset of `bytes[0]`.
    pub offset: u64,
}

/// Receives what the [`Framer`] finds.
pub trait FrameSink {
    /// A segment that ended.
    fn segment(&mut self, seg: Segment<'_>);
    /// The bytes of the current segment beyond its first [`MAX_HEAD`], as they arrive:
    /// `head` is those first bytes, given with the first overflow of a segment only.
    /// Most consumers ignore them (only a line's start can hold a marker); a reader of
    /// stream-json records needs every byte of a record.
    fn overflow(&mut self, head: Option<&[u8]>, more: &[u8]) {
        let _ = (head, more);
    }

    /// Which first bytes let a segment be passed over unseen (its line is still
    /// counted); asked once per chunk. Most lines of worker output are prose that
    /// cannot hold a marker, and telling so from the first byte saves a call per line.
    fn skippable(&self) -> Option<&'static [bool; 256]> {
        None
    }
}

impl<F: FnMut(Segment<'_>)> FrameSink for F {
    fn segment(&mut self, seg: Segment<'_>) {
        self(seg)
    }
}

/// Splits a chunked byte stream into segments, tracking line numbers.
#[derive(Debug)]
pub struct Framer {
    /// The first bytes of a segment that started in an earlier chunk.
    head: Vec<u8>,
    /// Whether the current segment started in an earlier chunk.
    carried: bool,
    /// Total length of the carried segment so far (may exceed `head.len()`).
    carried_len: u64,
    seg_offset: u64,
    line: u64,
    line_start: u64,
    pos: u64,
}

impl Default for Framer {
    fn default() -> Self {
        Framer {
            head: Vec::new(),
            carried: false,
            carried_len: 0,
            seg_offset: 0,
            line: 1,
            line_start: 0,
            pos: 0,
        }
    }
}

impl Framer {
    /// A framer for input that starts at absolute `offset`, at the start of a line:
    /// offsets and columns are right, line numbers count from 1 there.
    pub fn starting_at(offset: u64) -> Self {
        Framer {
            seg_offset: offset,
            line_start: offset,
            pos: offset,
            ..Framer::default()
        }
    }

    /// Feeds the next chunk of input; calls `sink` for each non-empty segment that ends
    /// in it.
    pub fn feed(&mut self, chunk: &[u8], sink: &mut impl FrameSink) {
        let mut start = 0usize;
        let skip = sink.skippable().unwrap_or(&[false; 256]);
        for i in Breaks::new(chunk) {
            let seg = &chunk[start..i];
            if self.carried || !seg.first().is_some_and(|&b| skip[usize::from(b)]) {
                self.end_segment(seg, sink);
            }
            let next = self.pos + i as u64 + 1;
            if chunk[i] == b'\n' {
                self.line += 1;
                self.line_start = next;
            }
            self.seg_offset = next;
            start = i + 1;
        }
        if start < chunk.len() {
            self.carry(&chunk[start..], sink);
        }
        self.pos += chunk.len() as u64;
    }

    /// Ends the input: hands out the last segment when the input does not end with a
    /// line break.
    pub fn finish(&mut self, sink: &mut impl FrameSink) {
        self.end_segment(&[], sink);
    }

    /// Number of lines seen so far: a last line without `\n` counts.
    pub fn lines(&self) -> u64 {
        self.line - 1 + u64::from(self.pos > self.line_start)
    }

    /// Total bytes fed.
    pub fn bytes(&self) -> u64 {
        self.pos
    }

    fn carry(&mut self, bytes: &[u8], sink: &mut impl FrameSink) {
        if !self.carried {
            self.carried = true;
            self.carried_len = 0;
            self.head.clear();
        }
        let room = MAX_HEAD.saturating_sub(self.head.len());
        let (kept, more) = bytes.split_at(bytes.len().min(room));
        self.head.extend_from_slice(kept);
        if !more.is_empty() {
            let first = self.carried_len + kept.len() as u64 == MAX_HEAD as u64;
            sink.overflow(first.then_some(&self.head[..]), more);
        }
        self.carried_len += bytes.len() as u64;
    }

    fn end_segment(&mut self, tail: &[u8], sink: &mut impl FrameSink) {
        let column = self.seg_offset - self.line_start + 1;
        if self.carried {
            self.carry(tail, sink);
            self.carried = false;
            if !self.head.is_empty() {
                sink.segment(Segment {
                    bytes: &self.head,
                    truncated: self.carried_len > MAX_HEAD as u64,
                    line: self.line,
                    column,
                    offset: self.seg_offset,
                });
            }
        } else if !tail.is_empty() {
            if tail.len() > MAX_HEAD {
                sink.overflow(Some(&tail[..MAX_HEAD]), &tail[MAX_HEAD..]);
            }
            sink.segment(Segment {
                bytes: &tail[..tail.len().min(MAX_HEAD)],
                truncated: tail.len() > MAX_HEAD,
                line: self.line,
                column,
                offset: self.seg_offset,
            });
        }
    }
}

/// The positions of `\n` and `\r` in a slice, in order.
///
/// Worker output is mostly short lines (100 bytes on average in the benchmark mix),
/// where calling `memchr2` once per line costs more in set-up than in searching. This
/// looks at 64 bytes per step (SSE2 on x86-64, 8-byte words elsewhere), builds a bit
/// mask of the breaks in them and yields them from the mask, so a line costs a few
/// instructions and a long line is skipped 64 bytes at a time.
struct Breaks<'a> {
    blocks: std::slice::ChunksExact<'a, u8>,
    tail: &'a [u8],
    /// Index of the first byte of the current block.
    base: usize,
    /// Index of the next byte not looked at.
    pos: usize,
    /// Bit `i` set when byte `base + i` is a break not yet yielded.
    mask: u64,
}

impl<'a> Breaks<'a> {
    fn new(hay: &'a [u8]) -> Self {
        let blocks = hay.chunks_exact(64);
        let tail = blocks.remainder();
        Breaks {
            blocks,
            tail,
            base: 0,
            pos: 0,
            mask: 0,
        }
    }
}

/// Bit `i` set when `block[i]` is `\n` or `\r`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn break_mask(block: &[u8]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    debug_assert_eq!(block.len(), 64);
    let mut mask = 0u64;
    for (k, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: this is compiled only where SSE2 is enabled (every x86-64 target), so
        // the intrinsics are available; `lane` is 16 readable bytes and
        // `_mm_loadu_si128` has no alignment requirement.
        let bits = unsafe {
            let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            let nl = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8));
            let cr = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8));
            _mm_movemask_epi8(_mm_or_si128(nl, cr))
        };
        mask |= u64::from(bits as u16) << (16 * k);
    }
    mask
}

/// Bit `i` set when `block[i]` is `\n` or `\r` (portable: exact zero-byte tests on
/// 8-byte words).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn break_mask(block: &[u8]) -> u64 {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let zero = |v: u64| !(((v & LO7) + LO7) | v | LO7);
    let mut mask = 0u64;
    for (k, word) in block.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        let mut high = zero(w ^ 0x0a0a_0a0a_0a0a_0a0a) | zero(w ^ 0x0d0d_0d0d_0d0d_0d0d);
        while high != 0 {
            mask |= 1 << (8 * k + (high.trailing_zeros() / 8) as usize);
            high &= high - 1;
        }
    }
    mask
}

impl Iterator for Breaks<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let i = self.base + self.mask.trailing_zeros() as usize;
                self.mask &= self.mask - 1;
                return Some(i);
            }
            if let Some(block) = self.blocks.next() {
                self.mask = break_mask(block);
                self.base = self.pos;
                self.pos += 64;
                continue;
            }
            let (&b, rest) = self.tail.split_first()?;
            self.tail = rest;
            self.pos += 1;
            if b == b'\n' || b == b'\r' {
                return Some(self.pos - 1);
            }
        }
    }
}

/// Copies `raw` into `out` without terminal escape sequences (CSI, OSC and the other
/// string controls, two-byte ESC sequences). `map[i]` is the index in `raw` of
/// `out[i]`; one more entry maps the end of `out` to the end of `raw`.
pub fn clean(raw: &[u8], out: &mut Vec<u8>, map: &mut Vec<u32>) {
    out.clear();
    map.clear();
    let mut i = 0;
    while i < raw.len() {
        match memchr::memchr(0x1b, &raw[i..]) {
            None => {
                push_run(raw, i, raw.len(), out, map);
                break;
            }
            Some(k) => {
                push_run(raw, i, i + k, out, map);
                i = skip_escape(raw, i + k);
            }
        }
    }
    map.push(raw.len() as u32);
}

fn push_run(raw: &[u8], from: usize, to: usize, out: &mut Vec<u8>, map: &mut Vec<u32>) {
    out.extend_from_slice(&raw[from..to]);
    // Segments are at most MAX_HEAD bytes, so indices fit in u32.
    map.extend((from..to).map(|i| i as u32));
}

/// Returns the index just past the escape sequence starting at `raw[esc]` (an ESC).
fn skip_escape(raw: &[u8], esc: usize) -> usize {
    let Some(&kind) = raw.get(esc + 1) else {
        return raw.len();
    };
    match kind {
        // CSI: parameters 0x30-0x3F, intermediates 0x20-0x2F, one final byte 0x40-0x7E.
        b'[' => {
            let mut j = esc + 2;
            while j < raw.len() && (0x20..=0x3f).contains(&raw[j]) {
                j += 1;
            }
            if j < raw.len() && (0x40..=0x7e).contains(&raw[j]) {
                j + 1
            } else {
                j
            }
        }
        // OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (ESC \).
        b']' | b'P' | b'X' | b'^' | b'_' => {
            let mut j = esc + 2;
            while j < raw.len() {
                match raw[j] {
                    0x07 => return j + 1,
                    0x1b if raw.get(j + 1) == Some(&b'\\') => return j + 2,
                    0x1b => return j,
                    _ => j += 1,
                }
            }
            j
        }
        // nF sequences (`ESC ( B`): intermediates then one final byte.
        0x20..=0x2f => {
            let mut j = esc + 1;
            while j < raw.len() && (0x20..=0x2f).contains(&raw[j]) {
                j += 1;
            }
            (j + 1).min(raw.len())
        }
        // Two-byte sequences (`ESC 7`, `ESC =`, `ESC M`).
        0x30..=0x7e => esc + 2,
        // A lone ESC before something else: drop the ESC only.
        _ => esc + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_are_every_newline_and_carriage_return() {
        let mut seed = 7u64;
        for len in 0..300 {
            let hay: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    [b'\n', b'\r', b'a', 0x8a, 0x0b, 0xff, 0x00][(seed % 7) as usize]
                })
                .collect();
            let want: Vec<usize> = memchr::memchr2_iter(b'\n', b'\r', &hay).collect();
            assert_eq!(Breaks::new(&hay).collect::<Vec<_>>(), want, "{hay:?}");
        }
    }

    fn segments(chunks: &[&[u8]]) -> Vec<(String, u64, u64, u64, bool)> {
        let mut framer = Framer::default();
        let mut out = Vec::new();
        let mut sink = |s: Segment<'_>| {
            out.push((
                String::from_utf8_lossy(s.bytes).into_owned(),
                s.line,
                s.column,
                s.offset,
                s.truncated,
            ))
        };
        for c in chunks {
            framer.feed(c, &mut sink);
        }
        framer.finish(&mut sink);
        out
    }

    #[test]
    fn crlf_line_endings_keep_line_numbers() {
        let got = segments(&[b"a\r\nb\nc"]);
        assert_eq!(
            got,
            [
                ("a".into(), 1, 1, 0, false),
                ("b".into(), 2, 1, 3, false),
                ("c".into(), 3, 1, 5, false)
            ]
        );
    }

    #[test]
    fn lone_cr_starts_a_segment_on_the_same_line() {
        let got = segments(&[b"50%\r100%\rDONE\n"]);
        assert_eq!(got[2], ("DONE".into(), 1, 10, 9, false));
    }

    #[test]
    fn segments_across_chunks_are_joined() {
        let got = segments(&[b"x\nTASK_", b"START: ", b"h-1\nz"]);
        assert_eq!(got[1], ("TASK_START: h-1".into(), 2, 1, 2, false));
        assert_eq!(got[2], ("z".into(), 3, 1, 18, false));
    }

    #[test]
    fn long_lines_keep_only_their_head() {
        let long = vec![b'x'; MAX_HEAD + 10];
        let got = segments(&[&long[..100], &long[100..], b"\nok"]);
        assert_eq!(got[0].0.len(), MAX_HEAD);
        assert!(got[0].4);
        assert_eq!(got[1].1, 2);
        let got = segments(&[&long, b"\nok"]);
        assert_eq!(got[0].0.len(), MAX_HEAD);
        assert!(got[0].4);
    }

    #[test]
    fn line_count_includes_an_unterminated_last_line() {
        let mut f = Framer::default();
        f.feed(b"a\nb", &mut |_: Segment<'_>| {});
        assert_eq!(f.lines(), 2);
        let mut f = Framer::default();
        f.feed(b"a\nb\n", &mut |_: Segment<'_>| {});
        assert_eq!(f.lines(), 2);
    }

    fn cleaned(raw: &[u8]) -> (String, Vec<u32>) {
        let (mut out, mut map) = (Vec::new(), Vec::new());
        clean(raw, &mut out, &mut map);
        (String::from_utf8(out).unwrap(), map)
    }

    #[test]
    fn escape_sequences_are_removed_and_positions_kept() {
        let (text, map) = cleaned(b"\x1b[1;32mTASK\x1b[0m");
        assert_eq!(text, "TASK");
        assert_eq!(map, [7, 8, 9, 10, 15]);
        assert_eq!(cleaned(b"\x1b]0;title\x07A\x1b]8;;http://x\x1b\\B").0, "AB");
        assert_eq!(cleaned(b"\x1b[?2004lA\x1b(BB\x1b7C").0, "ABC");
        assert_eq!(cleaned(b"A\x1b[31").0, "A");
    }
}
