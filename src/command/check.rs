//! `quant-session check`: the pipe filter (no FILE) and the linter of recorded
//! transcripts (FILE...).
//!
//! Pipe mode forwards every chunk to stdout the moment it is read, then scans it;
//! findings go to stderr as soon as the session machine makes them certain. File mode
//! reports to stdout, findings in line order, and a summary per file.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{EXIT_CLEAN, EXIT_FINDINGS, Fatal, scan_options};
use crate::cli::{CheckArgs, ColorChoice, Format};
use crate::finding::Finding;
use crate::input::{CHUNK, Input, display_name};
use crate::report::human::{self, Style};
use crate::report::json::{self, Totals};
use crate::rules::Severity;
use crate::scan::{PrefixHint, ScanOptions, Scanner};
use crate::session::{Machine, RuleOptions, SessionEnd, Sink};

/// Where and how findings are written.
struct Reporter<W: Write> {
    out: W,
    format: Format,
    style: Style,
    file: String,
    totals: Totals,
    /// File mode holds findings to print them in line order; pipe mode prints at once.
    held: Option<Vec<Finding>>,
    /// Print a line per ended session (pipe mode, human format).
    session_lines: bool,
    failed: Option<io::Error>,
}

impl<W: Write> Reporter<W> {
    fn write_finding(&mut self, f: &Finding) {
        let r = match self.format {
            Format::Human => self
                .out
                .write_all(human::render(f, &self.file, self.style).as_bytes())
                .and_then(|()| self.out.write_all(b"\n")),
            Format::Json => json::write_finding(&mut self.out, &self.file, f),
        };
        self.note(r);
    }

    fn note(&mut self, r: io::Result<()>) {
        if let (Err(e), None) = (r, &self.failed) {
            self.failed = Some(e);
        }
    }

    /// Prints held findings and the input's summary (with a hint when markers seemed to
    /// hide behind a line prefix).
    fn finish_input(&mut self, sessions: u64, hint: Option<PrefixHint>) {
        self.totals.sessions = sessions;
        if let Some(mut held) = self.held.take() {
            held.sort_by_key(|f| (f.primary.at.offset, f.rule));
            for f in &held {
                self.write_finding(f);
            }
            self.held = Some(Vec::new());
        }
        if let (Some(hint), Format::Human) = (hint, self.format) {
            let r = writeln!(
                self.out,
                "hint: {} look like markers behind a line prefix (first on line {}); they are \
                 not checked. Pass --strip-prefix REGEX (e.g. '\\[pane-\\d+\\] ') to check them.",
                plural(hint.lines, "line", "lines"),
                hint.first_line
            );
            self.note(r);
        }
        let r = match self.format {
            Format::Human => writeln!(
                self.out,
                "{}: {}",
                crate::sanitize::escape(self.file.as_bytes()),
                describe(self.totals)
            ),
            Format::Json => json::write_summary(&mut self.out, &self.file, self.totals),
        };
        self.note(r);
        let r = self.out.flush();
        self.note(r);
    }
}

impl<W: Write> Sink for Reporter<W> {
    fn finding(&mut self, finding: Finding) {
        match finding.severity {
            Severity::Error => self.totals.errors += 1,
            Severity::Warning => self.totals.warnings += 1,
        }
        match &mut self.held {
            Some(held) => held.push(finding),
            None => {
                self.write_finding(&finding);
                let r = self.out.flush();
                self.note(r);
            }
        }
    }

    fn session_end(&mut self, end: &SessionEnd) {
        if !self.session_lines {
            return;
        }
        let r = writeln!(
            self.out,
            "quant-session: session {} (line {}) {}: {} tasks completed, {}",
            crate::sanitize::escape(end.id.as_bytes()),
            end.start_line,
            if end.complete {
                "completed"
            } else {
                "did not complete"
            },
            end.tasks_completed,
            describe_counts(end.errors, end.warnings)
        );
        self.note(r);
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn describe_counts(errors: u64, warnings: u64) -> String {
    format!(
        "{}, {}",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings")
    )
}

fn describe(t: Totals) -> String {
    format!(
        "{}, {}",
        plural(t.sessions, "session", "sessions"),
        describe_counts(t.errors, t.warnings)
    )
}

fn style(choice: ColorChoice, terminal: bool) -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => Style::Color,
        ColorChoice::Never => Style::Plain,
        ColorChoice::Auto if terminal && !no_color => Style::Color,
        ColorChoice::Auto => Style::Plain,
    }
}

pub fn run(args: &CheckArgs) -> Result<ExitCode, Fatal> {
    let scan = scan_options(&args.frame)?;
    let rules = RuleOptions {
        required_patterns: args.required_patterns.clone(),
    };
    let errors = if args.files.is_empty() {
        pipe(args, scan, rules)?
    } else {
        lint(args, &args.files, scan, rules)?
    };
    Ok(ExitCode::from(if errors > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }))
}

/// Pipe mode: stdin to stdout byte for byte, findings on stderr.
fn pipe(args: &CheckArgs, scan: ScanOptions, rules: RuleOptions) -> Result<u64, Fatal> {
    let stderr = io::stderr();
    let mut reporter = Reporter {
        out: stderr.lock(),
        format: args.format,
        style: style(args.color, stderr.is_terminal()),
        file: "<stdin>".to_owned(),
        totals: Totals::default(),
        held: None,
        session_lines: args.format == Format::Human,
        failed: None,
    };
    let mut input = Input::open(None).map_err(|e| Fatal(format!("<stdin>: {e}")))?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut scanner = Scanner::new(scan);
    let mut machine = Machine::new(rules);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = input
            .read_chunk(&mut buf)
            .map_err(|e| Fatal(format!("<stdin>: {e}")))?;
        if n == 0 {
            break;
        }
        match out.write_all(&buf[..n]).and_then(|()| out.flush()) {
            Ok(()) => {}
            // Downstream closed (`| head`): stop quietly with the verdict so far.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                return Ok(reporter.totals.errors);
            }
            Err(e) => return Err(Fatal(format!("writing stdout: {e}"))),
        }
        scanner.feed(&buf[..n], &mut |event| machine.event(&event, &mut reporter));
    }
    scanner.finish(&mut |event| machine.event(&event, &mut reporter));
    machine.finish(&mut reporter);
    reporter.finish_input(machine.sessions(), scanner.prefix_hint());
    if let Some(e) = reporter.failed {
        return Err(Fatal(format!("writing the report: {e}")));
    }
    Ok(reporter.totals.errors)
}

/// File mode: each transcript checked in turn, the report on stdout.
fn lint(
    args: &CheckArgs,
    files: &[PathBuf],
    scan: ScanOptions,
    rules: RuleOptions,
) -> Result<u64, Fatal> {
    let stdout = io::stdout();
    let mut reporter = Reporter {
        out: io::BufWriter::new(stdout.lock()),
        format: args.format,
        style: style(args.color, stdout.is_terminal()),
        file: String::new(),
        totals: Totals::default(),
        held: Some(Vec::new()),
        session_lines: false,
        failed: None,
    };
    let mut all = Totals::default();
    let mut buf = vec![0u8; CHUNK];
    for path in files {
        reporter.file = display_name(Some(path));
        reporter.totals = Totals::default();
        let (sessions, hint) =
            check_file(path, &mut buf, scan.clone(), rules.clone(), &mut reporter)?;
        reporter.finish_input(sessions, hint);
        all.sessions += reporter.totals.sessions;
        all.errors += reporter.totals.errors;
        all.warnings += reporter.totals.warnings;
        if let Some(e) = reporter.failed.take() {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(all.errors);
            }
            return Err(Fatal(format!("writing the report: {e}")));
        }
    }
    if files.len() > 1 && args.format == Format::Human {
        let r =
            writeln!(reporter.out, "total: {}", describe(all)).and_then(|()| reporter.out.flush());
        reporter.note(r);
    }
    Ok(all.errors)
}

fn check_file<W: Write>(
    path: &Path,
    buf: &mut [u8],
    scan: ScanOptions,
    rules: RuleOptions,
    reporter: &mut Reporter<W>,
) -> Result<(u64, Option<PrefixHint>), Fatal> {
    let name = display_name(Some(path));
    let mut input = Input::open(Some(path)).map_err(|e| Fatal(format!("{name}: {e}")))?;
    let mut scanner = Scanner::new(scan);
    let mut machine = Machine::new(rules);
    loop {
        let n = input
            .read_chunk(buf)
            .map_err(|e| Fatal(format!("{name}: {e}")))?;
        if n == 0 {
            break;
        }
        scanner.feed(&buf[..n], &mut |event| machine.event(&event, reporter));
    }
    scanner.finish(&mut |event| machine.event(&event, reporter));
    machine.finish(reporter);
    Ok((machine.sessions(), scanner.prefix_hint()))
}
