//! A large regular file of plain text, scanned in blocks on every core.
//!
//! File-mode `check` on one big transcript would otherwise use one core: framing and
//! the grammar run near memory speed, but the copy out of the page cache and the
//! per-line work still add up. The file is cut into blocks of [`BLOCK`] bytes; each
//! block is mapped into memory ([`super::mapped`]; read with positional reads where it
//! cannot be) and scanned on its own by a worker thread, and
//! the events come back to the caller in file order, with the file's line numbers
//! (each block counts its lines; the caller adds those of the blocks before).
//!
//! Cuts are placed where no scanner state crosses them: right after a blank line. The
//! only state a line leaves for the next ones is a pending distillation request's
//! continuation (`Output files: N` on the following lines), and a blank line ends it.
//! So each block is scanned exactly as the whole file would be. A block with no blank
//! line is joined to the one before it, so a file without blank lines is still right,
//! only slower.
//!
//! Memory stays bounded: at most [`WINDOW`] blocks are scanned ahead of the caller, a
//! block's bytes are never held, and its events cross to the caller in batches over a
//! bounded channel, so a worker ahead of the caller (or of a slow report) waits.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

use crate::event::{Event, EventKind};
use crate::scan::{PrefixHint, ScanOptions, Scanner, shift_lines};

/// The size of a block. Small enough that both cores stay busy to the end of a file
/// and little is held ahead, large enough that the cut search is negligible.
pub const BLOCK: u64 = 16 << 20;

/// How many blocks may be scanned ahead of the one the caller waits for.
const WINDOW: u64 = 6;

/// What the whole file held, beyond its events.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileTotals {
    pub lines: u64,
    pub hint: Option<PrefixHint>,
}

/// What a worker sends about block `k`.
enum Part {
    /// Events, in order (line numbers counted from the block's start).
    Events(Vec<Event>),
    /// The block is done: its line count and prefix hint.
    Done(u64, Option<PrefixHint>),
    Failed(io::Error),
}

/// Events are sent in batches of this many.
const BATCH: usize = 1024;

/// How many batches may wait for the caller in each worker's channel: a file of
/// nothing but markers must not pile up events.
const AHEAD: usize = 8;

/// Emptied batches, handed back to the workers: a batch of [`BATCH`] events is over
/// 100 KiB, and growing a new one for every batch (then freeing it on another
/// thread) cost 3-4 % of a 1 GiB check.
#[derive(Default)]
struct Pool(Mutex<Vec<Vec<Event>>>);

impl Pool {
    /// An empty batch with room for [`BATCH`] events.
    fn take(&self) -> Vec<Event> {
        self.0
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_else(|| Vec::with_capacity(BATCH))
    }

    /// Keeps an emptied batch for a worker, up to `most` of them (as many as can be
    /// in flight: the pool holds no more memory than the batches did).
    fn give(&self, mut batch: Vec<Event>, most: usize) {
        batch.clear();
        if let Ok(mut pool) = self.0.lock()
            && pool.len() < most
        {
            pool.push(batch);
        }
    }
}

/// The blocks' order, shared by the workers and the caller.
struct Turn {
    /// The block the caller consumes now.
    head: Mutex<u64>,
    moved: Condvar,
    abort: AtomicBool,
}

impl Turn {
    /// Waits until block `k` may go on: it is the head, or `within` of it (`false` when
    /// the scan is abandoned).
    fn wait(&self, k: u64, within: u64) -> bool {
        // A poisoned lock means the caller panicked: stop.
        let Ok(mut head) = self.head.lock() else {
            return false;
        };
        while k >= *head + within && !self.abort.load(Ordering::Relaxed) {
            match self.moved.wait(head) {
                Ok(h) => head = h,
                Err(_) => return false,
            }
        }
        !self.abort.load(Ordering::Relaxed)
    }

    fn advance(&self, to: u64) {
        if let Ok(mut head) = self.head.lock() {
            *head = to;
        }
        self.moved.notify_all();
    }

    fn stop(&self) {
        self.abort.store(true, Ordering::Relaxed);
        self.moved.notify_all();
    }
}

/// Reads `buf.len()` bytes at `offset`, or fewer at the end of the file; retries
/// interrupted reads.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The block starts found so far, shared by the threads. A block without a blank line
/// merges into the next, so finding one block's start may read on through many — in a
/// file without a blank line, to its end; each start is kept for every block the search
/// passed, and a search that reached the end answers for every later block, so the file
/// is read about once for cutting, not once per block (which made such files quadratic).
struct Cuts {
    known: Mutex<BTreeMap<u64, u64>>,
    /// The first block from which no blank line follows: every later one starts at the end.
    none_from: AtomicU64,
}

impl Cuts {
    fn new() -> Self {
        Cuts {
            known: Mutex::new(BTreeMap::new()),
            none_from: AtomicU64::new(u64::MAX),
        }
    }

    fn get(&self, k: u64) -> Option<u64> {
        if k >= self.none_from.load(Ordering::Relaxed) {
            return Some(u64::MAX);
        }
        self.known.lock().ok()?.get(&k).copied()
    }

    fn put(&self, ks: &[u64], at: u64) {
        if let Ok(mut known) = self.known.lock() {
            for &k in ks {
                known.insert(k, at);
            }
        }
    }
}

/// Where block `k` (of `block` bytes) starts: after the first blank line whose opening
/// `\n` lies in `[k·block − 1, (k+1)·block − 1)`, or where block `k + 1` starts when
/// there is none. Block 0 starts at 0; past the end of the file is `len`.
fn cut(
    Source {
        file,
        len,
        block,
        cuts,
    }: Source<'_>,
    k: u64,
    buf: &mut [u8],
) -> io::Result<u64> {
    let first = k;
    let mut k = k;
    // The blocks this search passes: they all start where it ends.
    let mut passed = Vec::new();
    let found = |passed: &[u64], at: u64| {
        cuts.put(passed, at);
        Ok(at)
    };
    loop {
        if k == 0 {
            return Ok(0);
        }
        if let Some(at) = cuts.get(k) {
            return found(&passed, at.min(len));
        }
        passed.push(k);
        let from = k * block - 1;
        if from >= len {
            return found(&passed, len);
        }
        let limit = (k + 1) * block - 1;
        // `true` after a `\n` (at or after `from`) followed only by blanks so far.
        let mut blank = false;
        let mut at = from;
        // A blank line is usually near: read a little at first, more as it takes longer.
        let mut piece = 4096.min(buf.len());
        'read: while at < len {
            let n = read_at(file, &mut buf[..piece], at)?;
            piece = (piece * 2).min(buf.len());
            if n == 0 {
                break;
            }
            for (i, &b) in buf[..n].iter().enumerate() {
                let pos = at + i as u64;
                match b {
                    b'\n' if blank => return found(&passed, pos + 1),
                    b'\n' if pos >= limit => break 'read,
                    b'\n' => blank = true,
                    b' ' | b'\t' | b'\r' => {}
                    _ => blank = false,
                }
            }
            at += n as u64;
        }
        if at >= len {
            // No blank line from here to the end: none for any later block either.
            cuts.none_from.fetch_min(first, Ordering::Relaxed);
            return found(&passed, len);
        }
        k += 1;
    }
}

/// The file being scanned: `len` bytes, in blocks of about `block`.
#[derive(Clone, Copy)]
struct Source<'f> {
    file: &'f File,
    len: u64,
    block: u64,
    cuts: &'f Cuts,
}

/// Scans block `k` on its own, sending its events as it goes.
fn scan_block(
    source: Source<'_>,
    k: u64,
    scanner: &mut Scanner,
    buf: &mut [u8],
    tx: &mpsc::SyncSender<Part>,
    pool: &Pool,
) -> io::Result<()> {
    let start = cut(source, k, buf)?;
    let end = cut(source, k + 1, buf)?;
    let file = source.file;
    scanner.restart_text_at(start);
    // The channel is bounded: a block ahead of the caller's waits for its turn once a
    // few batches are queued, and so does any block when the caller is behind. A batch
    // is sent the moment it is full, even in the middle of a read (a read of lines that
    // are all markers holds thousands of events).
    let mut out = Batches {
        batch: pool.take(),
        going: true,
        tx,
        pool,
    };
    if !read_block(file, start, end, buf, &mut |bytes| {
        scanner.feed(bytes, &mut |e| out.push(e));
        out.going
    })? {
        return Ok(());
    }
    // A file that shrank while it was read is not reported on as if it were whole.
    if file.metadata()?.len() < end {
        return Err(shrank());
    }
    if start < end {
        scanner.finish(&mut |e| out.push(e));
    }
    if out.flush() {
        let lines = if start < end { scanner.lines() } else { 0 };
        let _ = tx.send(Part::Done(lines, scanner.prefix_hint()));
    }
    Ok(())
}

/// The error of a file that shrank while it was read.
fn shrank() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the file shrank while it was read (truncated or rewritten)",
    )
}

/// Hands the bytes `[start, end)` of `file` to `scan` in pieces, in order, until it
/// returns `false` (then `Ok(false)`): straight from the page cache through a mapping
/// where it can, else read into `buf`.
fn read_block(
    file: &File,
    start: u64,
    end: u64,
    buf: &mut [u8],
    scan: &mut impl FnMut(&[u8]) -> bool,
) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    if let Ok(len) = usize::try_from(end - start)
        && let Some(window) = super::mapped::Window::map(file, start, len)
    {
        // Pieces of a few hundred KiB: a caller that stops listening is noticed soon.
        for piece in window.bytes().chunks(buf.len().max(1)) {
            if !scan(piece) {
                return Ok(false);
            }
        }
        if window.shrank() {
            return Err(shrank());
        }
        return Ok(true);
    }
    let mut at = start;
    while at < end {
        let want = buf.len().min((end - at) as usize);
        let n = read_at(file, &mut buf[..want], at)?;
        if n == 0 {
            return Err(shrank());
        }
        if !scan(&buf[..n]) {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

/// The events of a block on their way to the caller, [`BATCH`] at a time.
struct Batches<'t> {
    batch: Vec<Event>,
    /// The caller still listens.
    going: bool,
    tx: &'t mpsc::SyncSender<Part>,
    pool: &'t Pool,
}

impl Batches<'_> {
    fn push(&mut self, e: Event) {
        self.batch.push(e);
        if self.batch.len() >= BATCH && self.going {
            let full = std::mem::replace(&mut self.batch, self.pool.take());
            self.going = self.tx.send(Part::Events(full)).is_ok();
        }
    }

    /// Sends what is left; whether the caller still listens.
    fn flush(&mut self) -> bool {
        let batch = std::mem::take(&mut self.batch);
        if self.going && !batch.is_empty() {
            self.going = self.tx.send(Part::Events(batch)).is_ok();
        } else {
            // (An empty one goes back for the next block.)
            self.pool.give(batch, usize::MAX);
        }
        self.going
    }
}

/// Scans the `len` bytes of `file` (plain text) in blocks of about `block` bytes
/// ([`BLOCK`]) on `threads` threads, and hands every event to `sink` in file order,
/// with the file's line numbers.
pub fn scan_file(
    file: &File,
    len: u64,
    block: u64,
    options: &ScanOptions,
    threads: usize,
    sink: &mut impl FnMut(Event),
) -> io::Result<FileTotals> {
    let block = block.max(1);
    let blocks = len.div_ceil(block);
    let next = AtomicU64::new(0);
    let cuts = Cuts::new();
    let turn = Turn {
        head: Mutex::new(0),
        moved: Condvar::new(),
        abort: AtomicBool::new(false),
    };
    let owner: Mutex<BTreeMap<u64, usize>> = Mutex::new(BTreeMap::new());
    let pool = Pool::default();
    // Every batch that can be in flight at once, and one being filled per worker.
    let pooled = threads.max(1) * (AHEAD + 2);
    let taken = Condvar::new();
    std::thread::scope(|scope| {
        // Each worker sends the parts of one block after another, in order, on its own
        // channel; the caller takes a block's parts from the worker that has it.
        let mut channels = Vec::new();
        for w in 0..threads.max(1) {
            let (tx, rx) = mpsc::sync_channel::<Part>(AHEAD);
            channels.push(rx);
            let (next, turn, owner, taken, pool) = (&next, &turn, &owner, &taken, &pool);
            let cuts = &cuts;
            scope.spawn(move || {
                let mut buf = vec![0u8; 256 << 10];
                let mut scanner = Scanner::text_starting_at(options.clone(), 0);
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= blocks || !turn.wait(k, WINDOW) {
                        return;
                    }
                    if let Ok(mut owner) = owner.lock() {
                        owner.insert(k, w);
                    }
                    taken.notify_all();
                    let source = Source {
                        file,
                        len,
                        block,
                        cuts,
                    };
                    let scanned = scan_block(source, k, &mut scanner, &mut buf, &tx, pool);
                    if let Err(e) = scanned {
                        let _ = tx.send(Part::Failed(e));
                        return;
                    }
                }
            });
        }
        let mut totals = FileTotals::default();
        let mut prefixed_seen = false;
        let result = (|| {
            for k in 0..blocks {
                if crate::interrupt::signal().is_some() {
                    return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
                }
                // Which worker has block k (it may not have started it yet).
                let w = {
                    let mut owner = owner
                        .lock()
                        .map_err(|_| io::Error::other("a worker failed"))?;
                    loop {
                        if let Some(w) = owner.remove(&k) {
                            break w;
                        }
                        owner = taken
                            .wait(owner)
                            .map_err(|_| io::Error::other("a worker failed"))?;
                    }
                };
                loop {
                    match channels[w].recv() {
                        Ok(Part::Events(mut events)) => {
                            for mut event in events.drain(..) {
                                // Each block's scanner reports its first prefixed line;
                                // the file has one first.
                                if matches!(event.kind, EventKind::Prefixed { .. }) {
                                    if prefixed_seen {
                                        continue;
                                    }
                                    prefixed_seen = true;
                                }
                                shift_lines(&mut event, totals.lines);
                                sink(event);
                            }
                            pool.give(events, pooled);
                        }
                        Ok(Part::Done(lines, hint)) => {
                            if let Some(h) = hint {
                                let first = h.first_line + totals.lines;
                                let merged = totals.hint.get_or_insert(PrefixHint {
                                    lines: 0,
                                    first_line: first,
                                });
                                merged.lines += h.lines;
                                merged.first_line = merged.first_line.min(first);
                            }
                            totals.lines += lines;
                            break;
                        }
                        Ok(Part::Failed(e)) => return Err(e),
                        Err(_) => return Err(io::Error::other("a worker stopped")),
                    }
                }
                turn.advance(k + 1);
            }
            Ok(totals)
        })();
        // Unblock workers waiting to send or for their turn, so that they end.
        drop(channels);
        turn.stop();
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::scan_all;
    use std::io::Write;

    /// Small blocks, so that a small file has many.
    const TEST_BLOCK: u64 = 64 << 10;

    fn whole_and_in_blocks(text: &[u8]) {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text).unwrap();
        let want = scan_all(text, ScanOptions::default());
        let mut got = Vec::new();
        let totals = scan_file(
            &file,
            text.len() as u64,
            TEST_BLOCK,
            &ScanOptions::default(),
            3,
            &mut |e| got.push(e),
        )
        .unwrap();
        assert_eq!(got, want);
        let mut scanner = Scanner::default();
        scanner.feed(text, &mut |_| {});
        scanner.finish(&mut |_| {});
        assert_eq!(totals.lines, scanner.lines());
        assert_eq!(totals.hint, scanner.prefix_hint());
    }

    /// Several blocks of sessions whose cuts fall everywhere: in a distillation
    /// request's continuation, in CRLF pairs, in long lines, after blank lines.
    #[test]
    fn blocks_give_the_events_of_the_whole_file() {
        let session = "SESSION_START: researcher-2026-11-23T10:15:30\r\nPATTERN_FILES_READ: a.md\n\
                       [pane-1] TASK_START: prefixed\nTASK_START: h-1\nFILES_CREATED: x\n\n\
                       @sigma-distiller: go\nOutput files: 4\nStrategies: 0\nMore words.\n\n\
                       TASK_COMPLTE: h-1\n   \n";
        let mut text = Vec::new();
        let mut i = 0;
        while text.len() < 40 * TEST_BLOCK as usize + 12345 {
            text.extend_from_slice(session.as_bytes());
            if i % 7 == 0 {
                text.extend(std::iter::repeat_n(b'x', 70_000 + 997 * i));
                text.push(b'\n');
            }
            i += 1;
        }
        whole_and_in_blocks(&text);
        // No blank line at all: one block does it all.
        let dense: Vec<u8> = "TASK_START: t\nOutput files: 2\n"
            .repeat(3 * TEST_BLOCK as usize / 10)
            .into_bytes();
        whole_and_in_blocks(&dense);
        // Blank lines far apart (blocks merge in runs, the starts found once are
        // reused), and a blank line only near the start (none after it).
        let mut sparse = Vec::new();
        while sparse.len() < 12 * TEST_BLOCK as usize {
            sparse.extend_from_slice(&dense[..(5 * TEST_BLOCK as usize / 2).min(dense.len())]);
            sparse.extend_from_slice(b"\n");
        }
        whole_and_in_blocks(&sparse);
        let mut early = b"TASK_START: a\n\n".to_vec();
        early.extend_from_slice(&dense);
        whole_and_in_blocks(&early);
        // No trailing newline, and an empty file.
        text.extend_from_slice(b"\n\nTASK_COMPLETE: last");
        whole_and_in_blocks(&text);
        whole_and_in_blocks(b"");
    }

    /// A file that shrinks while its blocks are read is an error, not a short report
    /// (nor a crash: the blocks are mapped, and a mapping read past the end of its
    /// file faults).
    #[test]
    fn a_file_that_shrinks_while_it_is_read_is_an_error() {
        let mut file = tempfile::tempfile().unwrap();
        let line = b"TASK_START: h-1\nsome prose of the worker\n\n";
        let mut text = Vec::new();
        while text.len() < 40 * TEST_BLOCK as usize {
            text.extend_from_slice(line);
        }
        file.write_all(&text).unwrap();
        let mut cut = false;
        let scanned = scan_file(
            &file,
            text.len() as u64,
            TEST_BLOCK,
            &ScanOptions::default(),
            2,
            &mut |_| {
                if !cut {
                    // Only a few blocks are scanned ahead of the first event's: most are
                    // read after this.
                    file.set_len(TEST_BLOCK).unwrap();
                    cut = true;
                }
            },
        );
        let e = scanned.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
        assert!(e.to_string().contains("shrank"), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever the lines and wherever the cuts fall, the blocks give the events
        /// of the whole file.
        #[test]
        fn any_lines_in_any_blocks(
            lines in proptest::collection::vec(0usize..12, 0..400),
            block in 1u64..2048,
        ) {
            const LINES: [&str; 12] = [
                "SESSION_START: researcher-2026-11-23T10:15:30\n",
                "TASK_START: h-1\r\n",
                "@sigma-distiller: go\n",
                "Output files: 3\n",
                "Strategies: x\n",
                "\n",
                "  \t\r\n",
                "prose with TASK_START: inside\n",
                "Upper prose line\n",
                "progress 10%\rFILES_CREATED: 2\n",
                "[pane-1] TASK_COMPLETE: h-1\n",
                "TASK_COMPLTE: h-1",
            ];
            let text: Vec<u8> = lines.iter().flat_map(|&i| LINES[i].bytes()).collect();
            let mut file = tempfile::tempfile().unwrap();
            file.write_all(&text).unwrap();
            let mut got = Vec::new();
            let totals = scan_file(&file, text.len() as u64, block, &ScanOptions::default(), 2, &mut |e| got.push(e)).unwrap();
            proptest::prop_assert_eq!(got, scan_all(&text, ScanOptions::default()));
            let mut scanner = Scanner::default();
            scanner.feed(&text, &mut |_| {});
            scanner.finish(&mut |_| {});
            proptest::prop_assert_eq!(totals.lines, scanner.lines());
        }
    }
}
