//! What stops a command: one typed error per kind of failure, with the path or stream
//! and the `io::Error` it came from. Printed on stderr as `quant-session: error: …`,
//! exit 2 (SPEC §4).

use std::io;
use std::path::PathBuf;

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
    /// A report, as its failure says what it was doing (`writing PATH`).
    Doing(String),
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

/// Writes `quant-session: {text}` on stderr. A closed or full stderr is ignored: it
/// must never turn into a panic or stop the passthrough (the exit status still tells).
pub fn note(text: &str) {
    use std::io::Write;
    if NOTES_AS_JSON.load(std::sync::atomic::Ordering::Relaxed) {
        // JSON escapes the C0 controls; DEL and the C1 controls are escaped too, as
        // every JSON output of the tool writes them.
        let quoted = serde_json::to_string(text).unwrap_or_default();
        let mut message = String::with_capacity(quoted.len());
        for c in quoted.chars() {
            if c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) {
                message.push_str(&format!("\\u{:04x}", c as u32));
            } else {
                message.push(c);
            }
        }
        let _ = writeln!(
            std::io::stderr(),
            r#"{{"kind":"note","message":{message}}}"#
        );
        return;
    }
    let _ = writeln!(std::io::stderr(), "quant-session: {text}");
}

/// Whether notes are written as JSON Lines objects (`{"kind":"note","message":…}`):
/// when the JSON report itself goes to stderr (pipe mode, `run`), so that stderr stays
/// one JSON Lines stream a reader such as `jq` can take whole.
static NOTES_AS_JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Notes are written as JSON Lines from now on (see [`note`]).
pub fn notes_as_json() {
    NOTES_AS_JSON.store(true, std::sync::atomic::Ordering::Relaxed);
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
                WriteTo::Doing(what) => write!(f, "{what}: {source}"),
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

/// Why an input could not be read to its end.
#[derive(Debug)]
pub struct InputError {
    /// The input as reports name it.
    pub name: String,
    pub kind: InputErrorKind,
}

/// What went wrong with an input.
#[derive(Debug)]
pub enum InputErrorKind {
    /// It could not be opened (missing, a directory, no permission).
    Open(std::io::Error),
    /// Reading it failed part way.
    Read(std::io::Error),
    /// A signal stopped the run before its end.
    Interrupted,
}

impl InputError {
    pub fn new(name: &str, kind: InputErrorKind) -> Self {
        InputError {
            name: name.to_owned(),
            kind,
        }
    }

    /// The input's wrapping broke part way (corrupt gzip): `what` says how.
    pub fn damaged(name: &str, what: &str) -> Self {
        InputError::read(
            name,
            std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned()),
        )
    }

    pub fn read(name: &str, e: std::io::Error) -> Self {
        let kind = if e.kind() == std::io::ErrorKind::Interrupted {
            InputErrorKind::Interrupted
        } else {
            InputErrorKind::Read(e)
        };
        InputError::new(name, kind)
    }
}

impl InputError {
    /// What went wrong, without the input's name.
    pub fn what(&self) -> String {
        match &self.kind {
            InputErrorKind::Open(e) | InputErrorKind::Read(e) => e.to_string(),
            InputErrorKind::Interrupted => "interrupted".to_owned(),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A file's name is the transcript writer's to choose: shown escaped, so that no
        // control sequence in it reaches the terminal.
        let name = crate::sanitize::escape(self.name.as_bytes());
        match &self.kind {
            InputErrorKind::Open(e) | InputErrorKind::Read(e) => write!(f, "{name}: {e}"),
            InputErrorKind::Interrupted => write!(f, "{name}: interrupted"),
        }
    }
}

impl std::error::Error for InputError {}
