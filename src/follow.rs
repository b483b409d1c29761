//! Files followed as they grow, with `tail -F` semantics (SPEC §8): new bytes are read
//! as they are written and go through the one pipeline driver; a file renamed away and
//! created again (rotation) is read to its end and finished, and the new one followed
//! from its start; a file that shrinks (truncation) is started over; a file deleted is
//! finished. Memory per file is the pipeline's (bounded) and one read buffer.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::InputError;
use crate::pipeline::{self, Pipeline};
use crate::rule::RuleOptions;
use crate::scan::ScanOptions;
use crate::sink::{Flow, Sink};

/// What happened to a followed file on a poll, besides new bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Renamed away and created again: the old file was finished, the new one starts.
    Rotated,
    /// Shorter than what was read: started over from its start.
    Truncated,
    /// Gone: finished.
    Deleted,
}

/// What a file that ended held (for its summary).
#[derive(Debug, Clone)]
pub struct Ended {
    pub sessions: u64,
    pub lines: u64,
    pub hint: Option<crate::scan::PrefixHint>,
    pub records: Option<crate::format::RecordCounts>,
    pub not_checked: Vec<(crate::rule::Rule, &'static str)>,
    /// The session still open when following stopped (the watch ended): its id and
    /// start line. Not judged: its worker may be running.
    pub open: Option<(String, u64)>,
    /// What broke in the file's wrapping (corrupt gzip).
    pub damage: Option<String>,
    /// The agent CLI that wrote the file, when it is one's transcript.
    pub cli: Option<&'static str>,
    /// The CLI's own id of the run, when it names one.
    pub conversation: Option<String>,
}

impl Ended {
    fn of(p: &Pipeline) -> Ended {
        Ended {
            sessions: p.sessions(),
            lines: p.lines(),
            hint: p.prefix_hint(),
            records: p.records(),
            not_checked: p.not_checked(),
            open: p.open_session(),
            damage: p.damage().map(str::to_owned),
            cli: p.worker_run().and_then(|w| w.cli),
            conversation: p.worker_run().and_then(|w| w.conversation),
        }
    }
}

/// One followed file.
pub struct Followed {
    pub path: PathBuf,
    file: Option<File>,
    /// Device and inode of the open file: a new pair at the path is a rotation.
    id: (u64, u64),
    /// Bytes read so far of the open file.
    offset: u64,
    pipeline: Pipeline,
    scan: ScanOptions,
    rules: RuleOptions,
    /// When bytes last came, and whether the silence since was reported, and whether
    /// a completion block left open was closed since.
    pub last_growth: Instant,
    pub stall_reported: bool,
    pub settled: bool,
}

/// Bytes read per call, at most.
const READ: usize = 256 * 1024;

impl Followed {
    /// Starts following `path`: from its start, or from its end (`from_end`).
    pub fn open(
        path: &Path,
        from_end: bool,
        scan: &ScanOptions,
        rules: &RuleOptions,
    ) -> io::Result<Followed> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory",
            ));
        }

        let offset = if from_end {
            file.seek(SeekFrom::End(0))?
        } else {
            0
        };
        // Silent since it was last written: a log untouched for hours is stalled at
        // once, not "2s" because the watch just started.
        let last_growth = written_at(&file);
        Ok(Followed {
            path: path.to_path_buf(),
            file: Some(file),
            id: (meta.dev(), meta.ino()),
            offset,
            pipeline: new_pipeline(path, scan, rules),
            scan: scan.clone(),
            rules: rules.clone(),
            last_growth,
            stall_reported: false,
            settled: false,
        })
    }

    /// The pipeline of the file being read (its sessions, lines, state).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    pub fn pipeline_mut(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }

    /// Whether the file is still followed (not deleted).
    pub fn alive(&self) -> bool {
        self.file.is_some()
    }

    /// Reads what was written since the last poll into the pipeline, and notices a
    /// rotation, truncation or deletion: then the file read so far is finished (its
    /// last sessions reported to `out`) and what it was is returned; the new file (after
    /// a rotation or truncation) is read from its start by the next poll, so that
    /// whatever is reported about the old one comes first.
    pub fn poll<S: Sink>(
        &mut self,
        buf: &mut [u8],
        out: &mut S,
    ) -> Result<Option<(Change, Ended)>, S::Error>
    where
        S::Error: From<InputError>,
    {
        if self.file.is_none() {
            return Ok(None);
        }
        self.read_available(buf, out)?;
        let now = match std::fs::metadata(&self.path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(self.error(e).into()),
        };
        let change = match &now {
            None => Change::Deleted,
            Some(m) if (m.dev(), m.ino()) != self.id => Change::Rotated,
            Some(m) if m.len() < self.offset => Change::Truncated,
            Some(_) => return Ok(None),
        };
        // The old file ends: what it holds is checked to its end.
        self.pipeline.finish(out)?;
        let ended = Ended::of(&self.pipeline);
        self.pipeline = new_pipeline(&self.path, &self.scan, &self.rules);
        self.stall_reported = false;
        self.offset = 0;
        self.reopen(change).map_err(|e| self.error(e))?;
        Ok(Some((change, ended)))
    }

    /// After a change, the file as it now is at the path.
    fn reopen(&mut self, change: Change) -> io::Result<()> {
        match change {
            Change::Deleted => self.file = None,
            Change::Rotated => match File::open(&self.path) {
                // Replaced by a directory: nothing more to follow there.
                Ok(file) if file.metadata()?.is_dir() => self.file = None,
                Ok(file) => {
                    let meta = file.metadata()?;
                    self.id = (meta.dev(), meta.ino());
                    self.file = Some(file);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => self.file = None,
                Err(e) => return Err(e),
            },
            Change::Truncated => {
                if let Some(file) = &mut self.file {
                    file.seek(SeekFrom::Start(0))?;
                }
            }
        }
        Ok(())
    }

    /// A read of the file that failed, naming it.
    fn error(&self, e: io::Error) -> InputError {
        InputError::read(self.pipeline.name(), e)
    }

    /// Reads what is there now (in bounded pieces) into the pipeline.
    fn read_available<S: Sink>(&mut self, buf: &mut [u8], out: &mut S) -> Result<(), S::Error>
    where
        S::Error: From<InputError>,
    {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let n = buf.len().min(READ);
        loop {
            let got = match file.read(&mut buf[..n]) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(InputError::read(self.pipeline.name(), e).into()),
            };
            if got == 0 {
                return Ok(());
            }
            self.offset += got as u64;
            // When it was written, not when it is read: what a log held when the watch
            // started may be hours old.
            self.last_growth = written_at(file);
            self.stall_reported = false;
            self.settled = false;
            if self.pipeline.feed(&buf[..got], out)? == Flow::Stop {
                // The sink has what it wants of this file for now.
                return Ok(());
            }
        }
    }

    /// The file fell silent after a session's completion block: the session's end is
    /// told without waiting for the next marker, its block kept open for fields still
    /// to come (the verdict is the whole file's, however late they are).
    pub fn settle<S: Sink>(&mut self, out: &mut S) -> Result<Flow, S::Error> {
        self.settled = true;
        self.pipeline.announce(out)
    }

    /// Stops following a file that may still grow (the watch ends): what is there is
    /// read, a completed session closed, and a session still open left open (stopping
    /// the watch is not a crash of the worker; [`Ended::open`] names it).
    pub fn stop<S: Sink>(&mut self, buf: &mut [u8], out: &mut S) -> Result<Ended, S::Error>
    where
        S::Error: From<InputError>,
    {
        self.read_available(buf, out)?;
        self.pipeline.settle(out)?;
        Ok(Ended::of(&self.pipeline))
    }

    /// How long the file has been silent.
    pub fn silent(&self) -> Duration {
        self.last_growth.elapsed()
    }
}

/// When `file` was last written, as an instant (now, when that cannot be told).
fn written_at(file: &File) -> Instant {
    let now = Instant::now();
    let age = file
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| m.elapsed().ok())
        .unwrap_or_default();
    now.checked_sub(age).unwrap_or(now)
}

fn new_pipeline(path: &Path, scan: &ScanOptions, rules: &RuleOptions) -> Pipeline {
    let name = crate::sanitize::escape(path.display().to_string().as_bytes());
    Pipeline::new(
        &name,
        pipeline::Options {
            scan: scan.clone(),
            rules: Some(rules.clone()),
            ..pipeline::Options::default()
        },
    )
}
