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

use std::mem::MaybeUninit;

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
    /// The segment is on `line`, and starts at byte `offset` of the input.
    /// Most consumers ignore them (only a line's start can hold a marker); a reader of
    /// stream-json records needs every byte of a record.
    fn overflow(&mut self, line: u64, offset: u64, head: Option<&[u8]>, more: &[u8]) {
        let _ = (line, offset, head, more);
    }

    /// Which segments may be passed over unseen (their lines are still counted),
    /// told from their first two bytes; asked once per chunk. Most lines of worker
    /// output are prose that cannot hold a marker, and telling so from the first bytes
    /// saves a call per line.
    fn skippable(&self) -> Option<&'static Skip> {
        None
    }

    /// The line on which the sink awaits a continuation (the line after a
    /// distillation request, while its free text goes on): every segment on it is
    /// handed out, skippable or not.
    fn awaiting(&self) -> Option<u64> {
        None
    }
}

/// Segments a [`FrameSink`] lets the framer pass over, by their first two bytes.
#[derive(Debug)]
pub struct Skip {
    /// For each first byte: `READ`, `PASS`, or `PASS_IF_SECOND`.
    pub first: [u8; 256],
    /// The second bytes that let a segment whose first byte is `PASS_IF_SECOND` be
    /// passed over. (A segment of one byte is followed by its break, `\n` or `\r`.)
    pub second: [bool; 256],
}

impl Skip {
    /// The segment is handed out.
    pub const READ: u8 = 0;
    /// The segment is passed over.
    pub const PASS: u8 = 1;
    /// The segment is passed over when its second byte is one of `second`.
    pub const PASS_IF_SECOND: u8 = 2;

    /// Nothing is passed over.
    const NONE: Skip = Skip {
        first: [Skip::READ; 256],
        second: [false; 256],
    };

    /// Whether a segment that starts with `first`, then `second`, is passed over
    /// (without a branch).
    #[inline(always)]
    fn passes(&self, first: u8, second: u8) -> bool {
        let kind = self.first[usize::from(first)];
        (kind & Skip::PASS) | ((kind >> 1) & u8::from(self.second[usize::from(second)])) != 0
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
    /// The positions of the breaks of the piece being framed (kept for its
    /// allocation).
    breaks: Vec<u32>,
    /// The segments of that piece to hand out.
    visits: Vec<Visit>,
}

/// Where a segment of a piece starts: its index among the piece's breaks, its first
/// byte, and its line (with the offset where that line starts), counted from the
/// piece's [`Origin`]: small, as one is written for every line.
#[derive(Debug, Clone, Copy, Default)]
struct At {
    index: u32,
    start: u32,
    /// Lines since the piece's first.
    line: u32,
    /// Where the line starts in the piece, or [`EARLIER`].
    line_start: u32,
}

/// `At::line_start` of a line that started before the piece.
const EARLIER: u32 = u32::MAX;

impl At {
    /// Moves to the next segment, past the break at `end` that ends this one.
    #[inline(always)]
    fn pass(&mut self, chunk: &[u8], end: usize) {
        let newline = chunk[end] == b'\n';
        self.line += u32::from(newline);
        self.line_start = if newline {
            end as u32 + 1
        } else {
            self.line_start
        };
        self.index += 1;
        self.start = end as u32 + 1;
    }
}

/// Where a piece starts: its offset, its first line, and where that line started.
#[derive(Debug, Clone, Copy)]
struct Origin {
    base: u64,
    line: u64,
    line_start: u64,
}

impl Origin {
    fn line(&self, at: &At) -> u64 {
        self.line + u64::from(at.line)
    }

    fn line_start(&self, at: &At) -> u64 {
        if at.line_start == EARLIER {
            self.line_start
        } else {
            self.base + u64::from(at.line_start)
        }
    }
}

/// A segment of a piece to hand out: where it starts, and its break.
#[derive(Debug, Clone, Copy, Default)]
struct Visit {
    at: At,
    end: u32,
}

impl Visit {
    /// Where the segment after this one starts.
    fn next(&self, chunk: &[u8]) -> At {
        let mut at = self.at;
        at.pass(chunk, self.end as usize);
        at
    }
}

/// How much of a chunk is framed at a time: small enough that its break positions
/// stay in cache and fit in `u32`.
const PIECE: usize = 64 << 10;

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
            breaks: Vec::new(),
            visits: Vec::new(),
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
        let skip = sink.skippable().unwrap_or(&Skip::NONE);
        for piece in chunk.chunks(PIECE) {
            self.feed_piece(piece, skip, sink);
        }
    }

    /// Frames a piece of at most [`PIECE`] bytes in three passes, none of which
    /// branches on what a line holds: the positions of its breaks ([`find_breaks`]);
    /// the segments to visit (not empty, not skippable), each with its line, gathered
    /// without a branch per line; then the visits. Most lines are prose, and a
    /// processor mispredicts a branch on "is this line prose?" about every other line:
    /// that, not the scanning, used to be most of the framing's cost.
    fn feed_piece(&mut self, chunk: &[u8], skip: &Skip, sink: &mut impl FrameSink) {
        let origin = Origin {
            base: self.pos,
            line: self.line,
            line_start: self.line_start,
        };
        let mut breaks = std::mem::take(&mut self.breaks);
        find_breaks(chunk, &mut breaks);
        let mut ends = &breaks[..];
        let mut at = At {
            index: 0,
            start: 0,
            line: 0,
            line_start: EARLIER,
        };
        if self.carried {
            // The segment of an earlier chunk goes on to the first break.
            if let Some((&end, rest)) = ends.split_first() {
                self.end_segment(&chunk[..end as usize], sink);
                at.pass(chunk, end as usize);
                // Indices count the segments of `ends`, which starts after it.
                at.index = 0;
                ends = rest;
            }
        }
        let mut visits = std::mem::take(&mut self.visits);
        // Every place up to `ends.len()` is written before it is read.
        if visits.len() < ends.len() {
            visits.resize(ends.len(), Visit::default());
        }
        // Where the segments of the piece begin: walked when the sink awaits a line.
        let first = at;
        let mut n = 0;
        for &end in ends {
            let (start, end) = (at.start as usize, end as usize);
            // `chunk[start]` is the segment's first byte, or its break when it is
            // empty (then not kept whatever the table says); the byte after it is
            // the second, or the break of a one-byte segment.
            let second = chunk[(start + 1).min(end)];
            let keep = (start < end) & !skip.passes(chunk[start], second);
            visits[n] = Visit {
                at,
                end: end as u32,
            };
            n += usize::from(keep);
            at.pass(chunk, end);
        }
        for (i, v) in visits[..n].iter().enumerate() {
            let previous = i.checked_sub(1).map(|i| visits[i]);
            // Segments passed over before this one lie on lines from the previous
            // visit's to this one's (this one's too, before it, after a `\r`).
            if let Some(awaited) = sink.awaiting()
                && awaited <= origin.line(&v.at)
                && awaited >= origin.line(&previous.map_or(first, |p| p.at))
            {
                let passed = previous.map_or(first, |p| p.next(chunk));
                self.walk(chunk, ends, origin, passed, v.at.index as usize, sink);
            }
            self.enter(origin, &v.at);
            self.end_segment(&chunk[v.at.start as usize..v.end as usize], sink);
        }
        if sink.awaiting().is_some() {
            let passed = n.checked_sub(1).map_or(first, |i| visits[i].next(chunk));
            self.walk(chunk, ends, origin, passed, ends.len(), sink);
        }
        self.visits = visits;
        self.breaks = breaks;
        let start = at.start as usize;
        // (Still carried: no break in the piece, the segment goes on.)
        if !self.carried {
            self.enter(origin, &at);
        }
        if start < chunk.len() {
            self.carry(&chunk[start..], sink);
        }
        self.pos += chunk.len() as u64;
    }

    /// Moves to the segment at `at` of the piece at `origin`.
    fn enter(&mut self, origin: Origin, at: &At) {
        self.line = origin.line(at);
        self.line_start = origin.line_start(at);
        self.seg_offset = origin.base + u64::from(at.start);
    }

    /// Hands out, in order, the segments passed over from `passed` up to segment `to`
    /// (an index into `ends`) for as long as the sink awaits their line: the free text
    /// of a distillation request's continuation is read even where it starts like
    /// prose.
    fn walk(
        &mut self,
        chunk: &[u8],
        ends: &[u32],
        origin: Origin,
        mut passed: At,
        to: usize,
        sink: &mut impl FrameSink,
    ) {
        while (passed.index as usize) < to {
            let line = origin.line(&passed);
            match sink.awaiting() {
                Some(awaited) if line <= awaited => {}
                _ => return,
            }
            let (start, end) = (passed.start as usize, ends[passed.index as usize] as usize);
            // (Segments on lines before the awaited one were passed over as prose.)
            if start < end && Some(line) == sink.awaiting() {
                self.enter(origin, &passed);
                self.end_segment(&chunk[start..end], sink);
            }
            passed.pass(chunk, end);
        }
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
            sink.overflow(
                self.line,
                self.seg_offset,
                first.then_some(&self.head[..]),
                more,
            );
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
                sink.overflow(
                    self.line,
                    self.seg_offset,
                    Some(&tail[..MAX_HEAD]),
                    &tail[MAX_HEAD..],
                );
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

/// The positions of `\n` and `\r` in `hay` (at most [`PIECE`] bytes), in order, in
/// `out`.
///
/// Worker output is mostly short lines (100 bytes on average in the benchmark mix),
/// where calling `memchr2` once per line costs more in set-up than in searching. This
/// looks at 64 bytes per step (SSE2 on x86-64, 8-byte words elsewhere), builds a bit
/// mask of the breaks in them and writes their positions four at a time whatever
/// the mask holds (simdjson's "flatten"), so that a line costs a few instructions and
/// no mispredicted branch, and a long line is skipped 64 bytes at a time.
fn find_breaks(hay: &[u8], out: &mut Vec<u32>) {
    debug_assert!(hay.len() <= PIECE);
    // Room for every byte to be a break, and for the writes past the last; only the
    // places written are ever touched, so the memory this takes is the breaks'.
    out.clear();
    out.reserve(hay.len() + 8);
    let room = out.spare_capacity_mut();
    #[cfg(target_arch = "x86_64")]
    let n = if has_avx2() {
        // SAFETY: the processor has AVX2 and the bit instructions that come with it.
        unsafe { find_breaks_avx2(hay, room) }
    } else {
        find_breaks_with(hay, room, break_mask)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let n = find_breaks_with(hay, room, break_mask);
    // SAFETY: `find_breaks_with` wrote the first `n` places (and returned how many
    // breaks it found).
    unsafe { out.set_len(n) };
}

/// [`find_breaks`] with AVX2 and the bit instructions (`popcnt`, `tzcnt`).
///
/// # Safety
/// The processor must have AVX2, POPCNT and BMI1.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt,bmi1")]
unsafe fn find_breaks_avx2(hay: &[u8], out: &mut [MaybeUninit<u32>]) -> usize {
    // SAFETY: the caller promises AVX2.
    find_breaks_with(hay, out, |block| unsafe { break_mask_avx2(block) })
}

/// The breaks of `hay` (`mask_of` 64 bytes at a time) written to `out[..n]`, and `n`:
/// every place before `n` is written.
#[inline(always)]
fn find_breaks_with(
    hay: &[u8],
    out: &mut [MaybeUninit<u32>],
    mask_of: impl Fn(&[u8]) -> u64,
) -> usize {
    let mut n = 0;
    let mut flatten = |mut mask: u64, base: u32| {
        let count = mask.count_ones() as usize;
        let mut at = n;
        // Four at a time: a 64-byte block of worker output seldom holds more breaks.
        loop {
            for slot in &mut out[at..at + 4] {
                slot.write(base + mask.trailing_zeros());
                mask &= mask.wrapping_sub(1);
            }
            at += 4;
            if at >= n + count {
                break;
            }
        }
        n += count;
    };
    let blocks = hay.chunks_exact(64);
    let tail = blocks.remainder();
    for (k, block) in blocks.enumerate() {
        flatten(mask_of(block), 64 * k as u32);
    }
    if !tail.is_empty() {
        let mut padded = [0u8; 64];
        padded[..tail.len()].copy_from_slice(tail);
        flatten(mask_of(&padded), (hay.len() - tail.len()) as u32);
    }
    n
}

/// Whether the processor has AVX2, and the bit instructions every processor with it
/// has (asked once).
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static AVX2: AtomicU8 = AtomicU8::new(0);
    match AVX2.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            let yes = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("popcnt")
                && std::arch::is_x86_feature_detected!("bmi1");
            AVX2.store(1 + u8::from(yes), Ordering::Relaxed);
            yes
        }
    }
}

/// Bit `i` set when `block[i]` is `\n` or `\r`, with AVX2 (two 32-byte lanes).
///
/// # Safety
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn break_mask_avx2(block: &[u8]) -> u64 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    assert!(block.len() >= 64);
    // SAFETY: `block` has 64 readable bytes, and `_mm256_loadu_si256` has no alignment
    // requirement.
    let (lo, hi) = unsafe {
        (
            _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()),
            _mm256_loadu_si256(block.as_ptr().add(32).cast::<__m256i>()),
        )
    };
    let (nl, cr) = (_mm256_set1_epi8(b'\n' as i8), _mm256_set1_epi8(b'\r' as i8));
    let lo = _mm256_or_si256(_mm256_cmpeq_epi8(lo, nl), _mm256_cmpeq_epi8(lo, cr));
    let hi = _mm256_or_si256(_mm256_cmpeq_epi8(hi, nl), _mm256_cmpeq_epi8(hi, cr));
    u64::from(_mm256_movemask_epi8(lo) as u32) | (u64::from(_mm256_movemask_epi8(hi) as u32) << 32)
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
pub fn skip_escape(raw: &[u8], esc: usize) -> usize {
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
            let want: Vec<u32> = memchr::memchr2_iter(b'\n', b'\r', &hay)
                .map(|i| i as u32)
                .collect();
            // This processor's way (AVX2 where it has it), and the portable one.
            let mut out = Vec::new();
            find_breaks(&hay, &mut out);
            assert_eq!(out, want, "{hay:?}");
            let mut room = vec![MaybeUninit::new(u32::MAX); hay.len() + 8];
            let n = find_breaks_with(&hay, &mut room, break_mask);
            let portable: Vec<u32> = room[..n]
                .iter()
                // SAFETY: initialised above.
                .map(|p| unsafe { p.assume_init() })
                .collect();
            assert_eq!(portable, want, "{hay:?}");
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
    fn a_segment_after_cr_counts_its_column_from_a_line_begun_in_an_earlier_chunk() {
        let got = segments(&[b"x\n50%", b"\r100%\rDONE\n"]);
        assert_eq!(got[3], ("DONE".into(), 2, 10, 11, false));
        let got = segments(&[b"x\n50", b"%", b"\r100%", b"\rDONE\n"]);
        assert_eq!(got[3], ("DONE".into(), 2, 10, 11, false));
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
