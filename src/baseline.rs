//! Baselines (SPEC §10): `--write-baseline FILE` records the findings of a run;
//! `--baseline FILE` then reports only the findings it does not hold, and the entries
//! that no longer match as stale.
//!
//! A finding's fingerprint ignores line numbers: it is the rule, the input's path, the
//! session's id and the normalised text of the line it is about, with a count for
//! identical ones (the second identical finding of a session is another entry), so
//! lines added elsewhere in a transcript do not wake old findings.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
pub use crate::finding::{Known, State};

/// The fingerprint scheme, in SARIF's `partialFingerprints` key and the file.
pub const VERSION: &str = "quantSession/v1";

/// Fingerprints the findings of one input, in the order they are reported.
#[derive(Debug, Default)]
pub struct Fingerprinter {
    /// How many findings had each base fingerprint so far (the key is a hash already:
    /// it is not hashed again).
    seen: HashMap<u64, u32, std::hash::BuildHasherDefault<Prehashed>>,
    /// The line as the fingerprint sees it, and the buffers that clean it (reused: a
    /// run with a finding on every line allocates none for them).
    text: Vec<u8>,
    clean: Vec<u8>,
    map: Vec<u32>,
}

/// The hasher of keys that are FNV hashes already.
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
/// blanks collapsed, trimmed, at most 200 bytes.
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
        if out.len() >= 200 {
            break;
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
    /// The fingerprint of `f`, reported for input `file`.
    pub fn fingerprint(&mut self, file: &str, f: &Finding) -> String {
        normalise(
            &f.primary.text.bytes,
            &mut self.text,
            &mut self.clean,
            &mut self.map,
        );
        let text = &self.text;
        let session = f.session.as_deref().unwrap_or("");
        let base = fnv(
            0,
            &[
                f.rule.id().as_bytes(),
                file.as_bytes(),
                session.as_bytes(),
                text,
            ],
        );
        let full = self.seen.len() >= MAX_DISTINCT;
        let n = match self.seen.get_mut(&base) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                if !full {
                    self.seen.insert(base, 0);
                }
                0
            }
        };
        let full = fnv(0, &[&base.to_le_bytes(), &n.to_le_bytes()]);
        hex16(full)
    }
}

/// `n` as 16 lower-case hex digits (`format!("{n:016x}")`, without the formatter).
fn hex16(n: u64) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(16);
    for i in (0..16).rev() {
        out.push(char::from(DIGITS[((n >> (i * 4)) & 0xf) as usize]));
    }
    out
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

/// A baseline read from its file: the entries not yet matched.
#[derive(Debug, Default)]
pub struct Baseline {
    entries: HashMap<String, Entry>,
    /// The inputs of the run that were read to their end (stale entries are only those
    /// of inputs checked).
    checked: std::collections::HashSet<String>,
}

impl Baseline {
    /// Reads a baseline file (JSON Lines: a head, then an entry per line).
    pub fn read(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let head: Head = lines
            .next()
            .ok_or_else(|| format!("{}: empty, not a baseline", path.display()))
            .and_then(|l| {
                serde_json::from_str(l)
                    .map_err(|e| format!("{}: line 1 is not a baseline head: {e}", path.display()))
            })?;
        if head.version != VERSION {
            return Err(format!(
                "{}: baseline version `{}`, this tool reads `{VERSION}` (write it again with --write-baseline)",
                path.display(),
                crate::sanitize::escape(head.version.as_bytes())
            ));
        }
        let mut entries = HashMap::new();
        for (i, line) in lines.enumerate() {
            let entry: Entry = serde_json::from_str(line)
                .map_err(|e| format!("{}: line {}: {e}", path.display(), i + 2))?;
            entries.insert(entry.fingerprint.clone(), entry);
        }
        Ok(Baseline {
            entries,
            checked: Default::default(),
        })
    }

    /// Whether the baseline holds `fingerprint` (each entry matches once).
    pub fn take(&mut self, fingerprint: &str) -> bool {
        self.entries.remove(fingerprint).is_some()
    }

    /// Input `file` was read to its end: its unmatched entries are stale.
    pub fn checked(&mut self, file: &str) {
        self.checked.insert(file.to_owned());
    }

    /// The entries of inputs that were checked and no longer match, by file and line.
    pub fn stale(&self) -> Vec<&Entry> {
        let mut stale: Vec<&Entry> = self
            .entries
            .values()
            .filter(|e| self.checked.contains(&e.file))
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
    fn hex16_is_the_formatter_s() {
        for n in [0, 1, 0xabc, u64::MAX, 0x0123_4567_89ab_cdef] {
            assert_eq!(hex16(n), format!("{n:016x}"));
        }
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
