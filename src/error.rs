//! What stops a command: one typed error per kind of failure, with the path or stream
//! and the `io::Error` it came from. Printed on stderr as `quant-session: error: …`,
//! exit 2 (SPEC §4).

use std::io;
use std::path::PathBuf;

use crate::pipeline::InputError;

/// Where an output was going when writing it failed.
#[derive(Debug)]
pub enum WriteTo {
    /// Standard output (the passthrough, or a command's whole output).
    Stdout,
    /// The primary report (stdout or stderr).
    Report,
    /// `parse`'s event stream.
    Events,
    /// A `--report FMT=PATH` or `summary --out` file.
    File(PathBuf),
    /// A `--report` file that could not be created (as given on the command line).
    Create(String),
}

/// A failure that stops the command.
#[derive(Debug)]
pub enum Error {
    /// An input could not be opened or read to its end.
    Input(InputError),
    /// An output could not be written.
    Write { to: WriteTo, source: io::Error },
    /// The signal handlers could not be installed.
    Signals(io::Error),
    /// The command line asks for something that cannot be done (the message says why).
    Usage(String),
    /// The configuration file is wrong (rendered with its source lines).
    Config(String),
    /// A document could not be rendered (JSON, the man page).
    Render { what: &'static str, message: String },
}

impl Error {
    pub fn write(to: WriteTo, source: io::Error) -> Self {
        Error::Write { to, source }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Input(e) => write!(f, "{e}"),
            Error::Write { to, source } => match to {
                WriteTo::Stdout => write!(f, "writing stdout: {source}"),
                WriteTo::Report => write!(f, "writing the report: {source}"),
                WriteTo::Events => write!(f, "writing the events: {source}"),
                WriteTo::File(path) => write!(f, "writing {}: {source}", path.display()),
                WriteTo::Create(shown) => write!(f, "--report {shown}: {source}"),
            },
            Error::Signals(e) => write!(f, "listening for signals: {e}"),
            Error::Usage(message) => f.write_str(message),
            Error::Config(rendered) => write!(f, "bad configuration\n{rendered}"),
            Error::Render { what, message } => write!(f, "rendering {what}: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Input(e) => Some(e),
            Error::Write { source, .. } | Error::Signals(source) => Some(source),
            Error::Usage(_) | Error::Config(_) | Error::Render { .. } => None,
        }
    }
}
