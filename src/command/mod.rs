//! The subcommands: each drives the pipeline for one use.

mod baselines;
pub mod board;
pub mod check;
pub mod keeper;
mod live;
mod outcome;
pub mod parse;
pub mod postmortem;
mod reports;
pub mod rules;
pub mod run;
mod settings;
mod walk;
pub mod watch;

use std::process::ExitCode;

use regex::bytes::Regex;

use crate::cli::FrameArgs;
use crate::scan::ScanOptions;

/// Exit status per SPEC §4.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_TROUBLE: u8 = 2;

pub use crate::error::{Error as Fatal, WriteTo};

/// Fails when standard descriptor `fd` was closed when the tool started (as with
/// `check FILE >&-`): see [`super::closed_at_start`].
pub fn ensure_open(fd: u32, what: &str) -> Result<(), Fatal> {
    if closed_at_start(fd) {
        return Err(Fatal::usage(format!(
            "{what} is closed: nothing could be reported (redirect it to a file or /dev/null)"
        )));
    }
    Ok(())
}

/// Reports a failure that stops the command on stderr: exit 2.
pub fn fail(error: Fatal) -> ExitCode {
    note(&format!("error: {error}"));
    ExitCode::from(EXIT_TROUBLE)
}

/// Standard descriptors (bit `fd` for 0, 1, 2) that were closed when the process
/// started, as recorded by [`record_closed_descriptors`].
static CLOSED_AT_START: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Records which of stdin, stdout and stderr are closed. It must run before Rust's
/// runtime starts, which reopens a closed one on `/dev/null` (so a report written to a
/// closed stdout would vanish without an error): the binary calls it from a constructor
/// in `.init_array`. Linux only (it asks `/proc`); elsewhere nothing is recorded.
pub fn record_closed_descriptors() {
    for fd in 0..3u8 {
        if cfg!(target_os = "linux")
            && std::path::Path::new("/proc/self/fd").exists()
            && std::fs::symlink_metadata(format!("/proc/self/fd/{fd}")).is_err()
        {
            CLOSED_AT_START.fetch_or(1 << fd, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// Whether standard descriptor `fd` was closed when the process started.
pub fn closed_at_start(fd: u32) -> bool {
    fd < 3 && CLOSED_AT_START.load(std::sync::atomic::Ordering::SeqCst) & (1 << fd) != 0
}

pub use crate::error::note;

/// Writes a command's whole output on stdout; a reader that went away (`| head`) is not
/// an error.
pub fn write_stdout(text: &[u8]) -> Result<(), Fatal> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fatal::write(WriteTo::Stdout, e))
        }
        _ => Ok(()),
    }
}

/// A regex error, as one escaped message (the regex crate's spans the lines).
pub fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(&text)
        .trim()
        .trim_start_matches("error: ")
        .to_owned();
    let pattern = text.lines().nth(1).unwrap_or("").trim();
    crate::sanitize::escape(format!("{last} (in `{pattern}`)").as_bytes())
}

/// Scanner options from the command line.
pub fn scan_options(args: &FrameArgs) -> Result<ScanOptions, Fatal> {
    let strip_prefix = match &args.strip_prefix {
        None => None,
        Some(p) => {
            if let Some(near) = crate::prefix::near_preset(p) {
                note(&format!(
                    "warning: --strip-prefix `{}` is not a preset and is used as a regex; did you mean `{near}`?",
                    crate::sanitize::escape(p.as_bytes())
                ));
            }
            let p = crate::prefix::preset(p).unwrap_or(p);
            // The pattern alone first: its error must not show the anchoring wrapper.
            Regex::new(p).map_err(|e| {
                Fatal::usage(format!(
                    "--strip-prefix: not a valid regex: {}",
                    regex_error(&e)
                ))
            })?;
            let anchored = format!("^(?:{p})");
            Some(
                Regex::new(&anchored)
                    .map_err(|e| Fatal::usage(format!("--strip-prefix: {}", regex_error(&e))))?,
            )
        }
    };
    Ok(ScanOptions {
        strip_prefix,
        input: args.input,
        join_partial: args.strip_prefix.as_deref() == Some("cri"),
        replay: false,
    })
}
