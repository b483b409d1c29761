//! Baselines (SPEC §10): `--write-baseline FILE` records the findings of a run;
//! `--baseline FILE` then reports only the findings it does not hold, and the entries
//! that no longer match as stale.
//!
//! A finding's fingerprint ignores line numbers: it is a SHA-256 prefix (128 bits) of
//! the rule, the input's path as it names the file (relative to its repository's root,
//! else to the current directory: `./bl/x.log`, `bl/x.log` and an absolute path are one
//! input), the session's id, the normalised text of the line it is about and the
//! finding's subject (its message, in full, with line references masked: the task or
//! subagent id, the numbers compared), with a count for identical ones (the second
//! identical finding of a session is another entry). Lines added elsewhere in a
//! transcript do not wake old findings; two different findings never share one.
//!
//! A baseline file is untrusted: read as checkpoints are (a regular file, at most
//! 256 MiB, lines of at most 4 KiB), a line at a time, keeping for each entry only its
//! fingerprint, input and place in the file (a stale entry is read again to be shown).

use std::collections::HashMap;
use std::io::{self, BufRead, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::finding::Finding;
pub use crate::finding::{Known, State};

/// The fingerprint scheme, in SARIF's `partialFingerprints` key and the file.
pub const VERSION: &str = "quantSession/v2";

/// The largest baseline read, and its longest line.
const MAX_SIZE: u64 = 256 << 20;
const MAX_LINE: usize = 4096;

/// Fingerprints the findings of one input, in the order they are reported.
#[derive(Debug, Default)]
pub struct Fingerprinter {
    /// How many findings had each base fingerprint so far (the key is a hash already:
    /// it is not hashed again).
    seen: HashMap<u64, u32, std::hash::BuildHasherDefault<Prehashed>>,
    /// The line as the fingerprint sees it, the message with its line references
    /// masked, and the buffers that clean them (reused: a run with a finding on every
    /// line allocates none for them).
    text: Vec<u8>,
    subject: Vec<u8>,
    clean: Vec<u8>,
    map: Vec<u32>,
}

/// The hasher of keys that are hashes already.
#[derive(Debug, Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys come here (`write_u64`); any other input is still hashed.
        self.0 = fnv(self.0, &[bytes]);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Past this many distinct findings in one input, the count is no longer kept (they
/// share their base fingerprint's last count): memory stays bounded.
const MAX_DISTINCT: usize = 1_000_000;

/// The text of a line as the fingerprint sees it, in `out`: escape sequences and runs of
/// blanks collapsed, trimmed.
fn normalise(text: &[u8], out: &mut Vec<u8>, clean: &mut Vec<u8>, map: &mut Vec<u32>) {
    crate::frame::clean(text, clean, map);
    out.clear();
    let mut blank = false;
    for &b in clean.iter().skip_while(|b| b.is_ascii_whitespace()) {
        if b.is_ascii_whitespace() {
            blank = true;
            continue;
        }
        if blank && !out.is_empty() {
            out.push(b' ');
        }
        blank = false;
        out.push(b);
    }
}

/// A finding's message with the places it names masked (`line 12` → `line #`, also
/// `lines 3-9`, `column 4`): what it is about stays, where it is goes.
fn mask_places(message: &str, out: &mut Vec<u8>) {
    out.clear();
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        out.push(bytes[i]);
        i += 1;
        let word = [&b"line "[..], b"lines ", b"column "]
            .into_iter()
            .find(|w| out.ends_with(w));
        if word.is_some() && bytes.get(i).is_some_and(u8::is_ascii_digit) {
            while bytes
                .get(i)
                .is_some_and(|b| b.is_ascii_digit() || *b == b'-')
            {
                i += 1;
            }
            out.push(b'#');
        }
    }
}

/// FNV-1a over `parts`, its offset basis XORed with `seed`: stable across runs,
/// versions and platforms, as fingerprints and trace ids must be. Each part ends with
/// a separator, so that ("ab", "c") and ("a", "bc") differ.
pub fn fnv(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Fingerprinter {
    /// The fingerprint of `f`, reported for the input whose path key is `path` (see
    /// [`path_key`]).
    pub fn fingerprint(&mut self, path: &str, f: &Finding) -> String {
        normalise(
            &f.primary.text.bytes,
            &mut self.text,
            &mut self.clean,
            &mut self.map,
        );
        mask_places(&f.message, &mut self.subject);
        let session = f.session.as_deref().unwrap_or("");
        let mut hash = Sha256::new();
        for part in [
            f.rule.id().as_bytes(),
            path.as_bytes(),
            session.as_bytes(),
            &self.text,
            &self.subject,
        ] {
            // Each part with its length, so that ("ab", "c") and ("a", "bc") differ.
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        let base: [u8; 32] = hash.finalize().into();
        let key = u64::from_le_bytes(base[..8].try_into().expect("8 bytes"));
        let full = self.seen.len() >= MAX_DISTINCT;
        let n = match self.seen.get_mut(&key) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                if !full {
                    self.seen.insert(key, 0);
                }
                0
            }
        };
        let print: [u8; 32] = if n == 0 {
            base
        } else {
            Sha256::new()
                .chain_update(base)
                .chain_update(n.to_le_bytes())
                .finalize()
                .into()
        };
        hex(&print[..16])
    }
}

/// Bytes as lower-case hex digits.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The path of input `name` as fingerprints hold it: what it names, not how it was
/// typed. Relative to the root of the repository that holds it (the nearest directory
/// with a `.git`), else to the current directory when it is under it, else absolute;
/// with `/` between parts. A name that is not a file (`<stdin>`, a worker's name under
/// `run`) stays as it is.
pub fn path_key(name: &str) -> String {
    let Ok(path) = std::fs::canonicalize(name) else {
        return name.to_owned();
    };
    let repository = path
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf);
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize).ok();
    let relative = [repository, cwd]
        .into_iter()
        .flatten()
        .find_map(|root| path.strip_prefix(&root).ok().map(Path::to_path_buf));
    let shown: PathBuf = relative.unwrap_or(path);
    shown
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
        .replace("//", "/")
}

/// One entry of a baseline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    pub message: String,
    /// Where it was when recorded (informative: matching ignores it).
    pub line: u64,
}

/// The head of a baseline file.
#[derive(Debug, Serialize, Deserialize)]
struct Head {
    version: String,
    tool: String,
}

/// A baseline read from its file: the entries not yet matched, each by its
/// fingerprint, with its input and where its line is in the file.
#[derive(Debug, Default)]
pub struct Baseline {
    path: PathBuf,
    entries: HashMap<[u8; 16], (u32, u64)>,
    /// The inputs entries are of (their path keys), by index.
    inputs: Vec<String>,
    /// The inputs of the run that were read to their end (stale entries are only those
    /// of inputs checked), by index.
    checked: std::collections::HashSet<u32>,
}

/// A fingerprint as the file holds it (32 hex digits), as bytes.
fn unhex(print: &str) -> Option<[u8; 16]> {
    let digits = print.as_bytes();
    if digits.len() != 32 {
        return None;
    }
    let mut out = [0; 16];
    for (i, pair) in digits.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

impl Baseline {
    /// Reads a baseline file (JSON Lines: a head, then an entry per line), as a
    /// checkpoint is read: a regular file, at most 256 MiB, lines of at most 4 KiB.
    pub fn read(path: &Path) -> Result<Baseline, String> {
        let shown = path.display();
        let file = crate::source::open_regular(path).map_err(|e| format!("{shown}: {e}"))?;
        let mut reader = io::BufReader::new(io::Read::take(file, MAX_SIZE + 1));
        let mut baseline = Baseline {
            path: path.to_path_buf(),
            ..Baseline::default()
        };
        let mut by_input: HashMap<String, u32> = HashMap::new();
        let mut line = Vec::new();
        let mut offset = 0u64;
        let mut number = 0u64;
        let mut head = false;
        loop {
            line.clear();
            let n = io::Read::take(&mut reader, MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("{shown}: {e}"))?;
            if n == 0 {
                break;
            }
            number += 1;
            let at = offset;
            offset += n as u64;
            if offset > MAX_SIZE {
                return Err(format!(
                    "{shown}: larger than {} MiB, not a baseline this tool wrote",
                    MAX_SIZE >> 20
                ));
            }
            if line.len() > MAX_LINE && !line.ends_with(b"\n") {
                return Err(format!(
                    "{shown}: line {number} is longer than {MAX_LINE} bytes, not a baseline entry"
                ));
            }
            if line.trim_ascii().is_empty() {
                continue;
            }
            if !head {
                let h: Head = serde_json::from_slice(&line)
                    .map_err(|e| format!("{shown}: line {number} is not a baseline head: {e}"))?;
                if h.version != VERSION {
                    return Err(format!(
                        "{shown}: baseline version `{}`, this tool reads `{VERSION}` (write it again with --write-baseline)",
                        crate::sanitize::escape(h.version.as_bytes())
                    ));
                }
                head = true;
                continue;
            }
            let entry: Entry = serde_json::from_slice(&line)
                .map_err(|e| format!("{shown}: line {number}: {e}"))?;
            let print = unhex(&entry.fingerprint).ok_or_else(|| {
                format!("{shown}: line {number}: the fingerprint is not 32 hex digits")
            })?;
            let next = baseline.inputs.len() as u32;
            let input = *by_input.entry(entry.file).or_insert_with_key(|file| {
                baseline.inputs.push(file.clone());
                next
            });
            baseline.entries.insert(print, (input, at));
        }
        if !head {
            return Err(format!("{shown}: empty, not a baseline"));
        }
        Ok(baseline)
    }

    /// Whether the baseline holds `fingerprint` (each entry matches once).
    pub fn take(&mut self, fingerprint: &str) -> bool {
        unhex(fingerprint).is_some_and(|print| self.entries.remove(&print).is_some())
    }

    /// The input whose path key is `path` was read to its end: its unmatched entries
    /// are stale.
    pub fn checked(&mut self, path: &str) {
        if let Some(i) = self.inputs.iter().position(|p| p == path) {
            self.checked.insert(i as u32);
        }
    }

    /// How many entries of inputs that were checked no longer match.
    pub fn stale_count(&self) -> usize {
        self.entries
            .values()
            .filter(|(input, _)| self.checked.contains(input))
            .count()
    }

    /// Up to `most` entries of inputs that were checked and no longer match (the
    /// first in the file), by input and line, read again from the file.
    pub fn stale(&self, most: usize) -> Vec<Entry> {
        let mut places: Vec<(u32, u64)> = self
            .entries
            .values()
            .filter(|(input, _)| self.checked.contains(input))
            .copied()
            .collect();
        places.sort_unstable();
        places.truncate(most);
        let Ok(file) = crate::source::open_regular(&self.path) else {
            return Vec::new();
        };
        let mut reader = io::BufReader::new(file);
        let mut stale: Vec<Entry> = places
            .iter()
            .filter_map(|&(_, at)| {
                reader.seek(io::SeekFrom::Start(at)).ok()?;
                let mut line = Vec::new();
                io::Read::take(&mut reader, MAX_LINE as u64 + 1)
                    .read_until(b'\n', &mut line)
                    .ok()?;
                serde_json::from_slice(&line).ok()
            })
            .collect();
        stale.sort_by(|a, b| (&a.file, a.line, &a.rule).cmp(&(&b.file, b.line, &b.rule)));
        stale
    }
}

/// Writes a baseline file as findings come (never holding them).
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        serde_json::to_writer(
            &mut out,
            &Head {
                version: VERSION.to_owned(),
                tool: format!("quant-session {}", env!("CARGO_PKG_VERSION")),
            },
        )?;
        out.write_all(b"\n")?;
        Ok(Writer { out })
    }

    pub fn add(&mut self, file: &str, f: &Finding, fingerprint: &str) -> io::Result<()> {
        serde_json::to_writer(
            &mut self.out,
            &Entry {
                fingerprint: fingerprint.to_owned(),
                rule: f.rule.id().to_owned(),
                file: file.to_owned(),
                session: f.session.as_deref().map(str::to_owned),
                message: f.message.clone(),
                line: f.primary.at.line,
            },
        )?;
        self.out.write_all(b"\n")
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        normalise(text, &mut out, &mut Vec::new(), &mut Vec::new());
        out
    }

    #[test]
    fn fingerprints_read_back_as_written() {
        let bytes: [u8; 16] = std::array::from_fn(|i| (i * 17) as u8);
        assert_eq!(unhex(&hex(&bytes)), Some(bytes));
        assert_eq!(unhex("xyz"), None);
        assert_eq!(unhex(&"g".repeat(32)), None);
    }

    #[test]
    fn places_are_masked_and_subjects_kept() {
        let mut out = Vec::new();
        mask_places(
            "session x (line 12) ends; last marker TASK_START on line 9, column 3; task \"h-17\" lines 4-8",
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "session x (line #) ends; last marker TASK_START on line #, column #; task \"h-17\" lines #"
        );
    }

    #[test]
    fn blanks_and_escapes_do_not_change_the_text() {
        assert_eq!(normalised(b"  TASK_START:   h-1 \r"), b"TASK_START: h-1");
        assert_eq!(
            normalised(b"\x1b[1mTASK_START: h-1\x1b[0m"),
            b"TASK_START: h-1"
        );
    }
}
