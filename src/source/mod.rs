//! Where bytes come from: a file or stdin read in chunks, never whole ([`Input`]); stdin
//! read live on its own thread for the pipe filter ([`live`]); a large file read in
//! blocks on every core ([`parallel`]), mapped into memory where it can be ([`mapped`]).

pub mod live;
#[cfg(target_os = "linux")]
pub mod mapped;
#[cfg(unix)]
pub mod parallel;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The read size: large enough for few system calls, small enough to stay in cache.
pub const CHUNK: usize = 64 * 1024;

/// An input to read: a named file or stdin (`-` or no file).
pub enum Input {
    Stdin(io::Stdin),
    File(File),
}

impl Input {
    /// Opens `path`, or stdin for `None` and `-`.
    pub fn open(path: Option<&Path>) -> io::Result<Input> {
        match path {
            None => Ok(Input::Stdin(io::stdin())),
            Some(p) if p.as_os_str() == "-" => Ok(Input::Stdin(io::stdin())),
            Some(p) => {
                let file = File::open(p)?;
                if file.metadata()?.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "is a directory",
                    ));
                }
                Ok(Input::File(file))
            }
        }
    }

    /// Reads the next chunk; 0 at end of input. Retries interrupted reads.
    pub fn read_chunk(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let r = match self {
                Input::Stdin(s) => s.lock().read(buf),
                Input::File(f) => f.read(buf),
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }
}

/// Why a file that must be a regular file was not opened.
#[derive(Debug)]
pub enum NotRegular {
    Missing,
    /// Why, said as a message ends (`is a directory`, `cannot read: …`).
    Other(String),
}

impl std::fmt::Display for NotRegular {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotRegular::Missing => f.write_str("no such file"),
            NotRegular::Other(why) => f.write_str(why),
        }
    }
}

/// Opens `path` for reading only if it is a regular file, never waiting in `open` (a
/// file swapped for a FIFO since it was looked at): how the files the tool reads
/// besides its inputs (checkpoints, baselines) are opened, since they are untrusted.
pub fn open_regular(path: &Path) -> Result<File, NotRegular> {
    let not_regular =
        || NotRegular::Other("is not a regular file (a device, FIFO or socket); not read".into());
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(NotRegular::Missing),
        Err(e) => return Err(NotRegular::Other(format!("cannot read: {e}"))),
        Ok(m) if m.is_dir() => return Err(NotRegular::Other("is a directory".into())),
        Ok(m) if !m.is_file() => return Err(not_regular()),
        Ok(_) => {}
    }
    let mut options = File::options();
    options.read(true);
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, O_NONBLOCK);
    let file = options
        .open(path)
        .map_err(|e| NotRegular::Other(format!("cannot read: {e}")))?;
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(file),
        Ok(_) => Err(not_regular()),
        Err(e) => Err(NotRegular::Other(format!("cannot read: {e}"))),
    }
}

/// `O_NONBLOCK` on Linux.
#[cfg(target_os = "linux")]
const O_NONBLOCK: i32 = 0o4000;

/// The name a report uses for an input.
pub fn display_name(path: Option<&Path>) -> String {
    match path {
        None => "<stdin>".to_owned(),
        Some(p) if p.as_os_str() == "-" => "<stdin>".to_owned(),
        Some(p) => p.display().to_string(),
    }
}
