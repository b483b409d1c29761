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

/// The name a report uses for an input.
pub fn display_name(path: Option<&Path>) -> String {
    match path {
        None => "<stdin>".to_owned(),
        Some(p) if p.as_os_str() == "-" => "<stdin>".to_owned(),
        Some(p) => p.display().to_string(),
    }
}
