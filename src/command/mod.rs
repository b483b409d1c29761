//! The subcommands: each drives the pipeline for one use.

pub mod check;
pub mod parse;
pub mod postmortem;
pub mod rules;

use std::process::ExitCode;

use regex::bytes::Regex;

use crate::cli::FrameArgs;
use crate::scan::ScanOptions;

/// Exit status per SPEC §4.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_TROUBLE: u8 = 2;

/// A failure that stops the command: printed on stderr, exit 2.
#[derive(Debug)]
pub struct Fatal(pub String);

impl Fatal {
    pub fn exit(self) -> ExitCode {
        note(&format!("error: {}", self.0));
        ExitCode::from(EXIT_TROUBLE)
    }
}

/// Writes `quant-session: {text}` on stderr. A closed or full stderr is ignored: it
/// must never turn into a panic or stop the passthrough (the exit status still tells).
pub fn note(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "quant-session: {text}");
}

/// Writes a command's whole output on stdout; a reader that went away (`| head`) is not
/// an error.
pub fn write_stdout(text: &[u8]) -> Result<(), Fatal> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fatal(format!("writing stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Named `--strip-prefix` values for the log envelopes workers' output arrives in.
pub const PRESETS: [(&str, &str); 4] = [
    // `docker logs --timestamps`: RFC 3339 with a 9-digit fraction.
    ("docker", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z "),
    // Kubernetes CRI log files: `<ts> stdout|stderr F|P <text>`.
    ("cri", r"\d{4}-\d\d-\d\dT\S+ (stdout|stderr) [FP] "),
    // GitHub Actions logs (`…1234567Z `), also behind `gh run view --log`'s `job\tstep\t`.
    (
        "github",
        r"([^\t]*\t[^\t]*\t)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ",
    ),
    // `journalctl -o short-iso`: `<ts> host unit[pid]: `.
    (
        "journald",
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:?\d\d|Z)? \S+ [^:]+: ",
    ),
];

/// The regex of a named preset.
fn preset(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, re)| *re)
}

/// Scanner options from the command line.
pub fn scan_options(args: &FrameArgs) -> Result<ScanOptions, Fatal> {
    let strip_prefix = match &args.strip_prefix {
        None => None,
        Some(p) => {
            let p = preset(p).unwrap_or(p);
            let anchored = format!("^(?:{p})");
            Some(Regex::new(&anchored).map_err(|e| Fatal(format!("--strip-prefix: {e}")))?)
        }
    };
    Ok(ScanOptions {
        strip_prefix,
        input: args.input,
        join_partial: args.strip_prefix.as_deref() == Some("cri"),
    })
}
