//! `quant-session check`: the pipe filter (no FILE) and the linter of recorded
//! transcripts (FILE...).
//!
//! Pipe mode forwards every chunk to stdout the moment it is read, then scans it;
//! findings go to stderr as soon as the session machine makes them certain. File mode
//! checks the files in parallel on all cores and reports on stdout in the order the
//! files were given, findings in line order, a summary per file and a total.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{EXIT_CLEAN, EXIT_FINDINGS, EXIT_TROUBLE, Fatal, WriteTo, scan_options};
use crate::cli::{CheckArgs, ColorChoice, Format, ReportTarget};
use crate::config;
use crate::finding::Finding;
use crate::interrupt;
use crate::pipeline::{self, Analysis, InputError, Output, Pipeline, analyse, count};
use crate::report::file::{Inputs, ReportFile};
use crate::report::github::Github;
use crate::report::human::{Human, Style};
use crate::report::json::Json;
use crate::report::sarif::Sarif;
use crate::report::{self, Reporter};
use crate::rule::Rule;
use crate::rule::RuleOptions;
use crate::rule::{Level, RuleLevels};
use crate::scan::ScanOptions;
use crate::session::Sink;
use crate::source::live::{LiveStdin, Next};
use crate::source::{CHUNK, display_name};
use crate::state::SessionState;
use crate::summary::{FileSummary, Totals};

pub fn run(args: &CheckArgs) -> Result<ExitCode, Fatal> {
    interrupt::install().map_err(Fatal::Signals)?;
    // A report that nobody can receive is an I/O error, not a silent verdict.
    ensure_open(1, "stdout")?;
    if args.files.is_empty() {
        ensure_open(2, "stderr (where pipe mode reports)")?;
    }
    let (scan, rules) = settings(&args.lint.rules)?;
    let (globs, looked_for) = globs(&args.glob)?;
    let targets = expand(&args.files, &globs, &looked_for, args.no_ignore)?;
    let inputs = inputs(&args.files, &targets, &globs);
    let (mut reports, files) = open_reports(&args.lint.report, &inputs)?;
    add_exporter(args.lint.otlp_endpoint.as_deref(), &mut reports)?;
    let mut baselines = Baselines::open(&args.lint, &inputs)?;
    let outcome = if args.files.is_empty() {
        pipe(args, scan, rules, &mut reports, &mut baselines)?
    } else {
        lint(args, &targets, scan, rules, &mut reports, &mut baselines)?
    };
    baselines.finish(outcome.interrupted.or_else(interrupt::signal).is_some())?;
    conclude(outcome, reports, files, args.lint.exit_zero)
}

/// Ends a run: the report files end and take their place, and the exit status says
/// what the run saw (SPEC §4).
pub(super) fn conclude(
    outcome: Outcome,
    mut reports: Reports,
    files: Vec<ReportFile>,
    exit_zero: bool,
) -> Result<ExitCode, Fatal> {
    for (target, reporter) in &mut reports {
        reporter
            .end_run(outcome.files, outcome.totals)
            .map_err(|e| Fatal::write(WriteTo::File(target.path.clone()), e))?;
    }
    // Each report is complete (its writer flushed at the end of the run): it takes its
    // place. A run that failed before this point leaves no report file behind.
    drop(reports);
    for file in files {
        let path = file.path.clone();
        file.commit()
            .map_err(|e| Fatal::write(WriteTo::File(path.clone()), e))?;
    }
    // A signal that came with the end of input, or during the report, still counts.
    let interrupted = outcome.interrupted.or_else(interrupt::signal);
    if let (Some(sig), None) = (interrupted, outcome.interrupted) {
        super::note(&format!(
            "interrupted by {}; the report covers the input read so far",
            interrupt::name(sig)
        ));
    }
    let code = if let Some(sig) = interrupted {
        128 + sig as u8
    } else if outcome.trouble {
        EXIT_TROUBLE
    } else if (outcome.totals.errors > 0 || outcome.incomplete) && !exit_zero {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    };
    interrupt::finished();
    Ok(ExitCode::from(code))
}

/// What a run saw.
pub(super) struct Outcome {
    pub(super) files: usize,
    pub(super) totals: Totals,
    /// An input could not be read (exit 2).
    pub(super) trouble: bool,
    /// The signal that stopped the run (exit 128 + signal).
    pub(super) interrupted: Option<i32>,
    /// Checking stopped before the end of input with a session open (stdout closed):
    /// not a clean verdict.
    pub(super) incomplete: bool,
}

/// What the run reads, so that no report is written over it.
fn inputs<'g>(paths: &[PathBuf], targets: &[Target], globs: &'g GlobSet) -> Inputs<'g> {
    let mut files = Vec::new();
    for t in targets {
        let meta = match t {
            Target::File(p) => std::fs::metadata(p).ok(),
            Target::Stdin => stdin_metadata(),
        };
        if let Some(m) = meta.filter(|m| m.is_file()) {
            files.push(report::file::identity(&m));
        }
    }
    if paths.is_empty() {
        // Pipe mode: stdin may be redirected from a file (`check < x.log`).
        if let Some(m) = stdin_metadata().filter(|m| m.is_file()) {
            files.push(report::file::identity(&m));
        }
    }
    let dirs = paths
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    Inputs { files, dirs, globs }
}

/// Fails when standard descriptor `fd` was closed when the tool started (as with
/// `check FILE >&-`): see [`super::closed_at_start`].
pub(super) fn ensure_open(fd: u32, what: &str) -> Result<(), Fatal> {
    if super::closed_at_start(fd) {
        return Err(Fatal::usage(format!(
            "{what} is closed: nothing could be reported (redirect it to a file or /dev/null)"
        )));
    }
    Ok(())
}

/// What stdin is, when it can be told.
fn stdin_metadata() -> Option<std::fs::Metadata> {
    let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    File::from(fd).metadata().ok()
}

/// Scanner and rule settings: command line over configuration file over defaults.
pub(super) fn settings(args: &crate::cli::RuleArgs) -> Result<(ScanOptions, RuleOptions), Fatal> {
    let path = match (&args.config, args.no_config) {
        (_, true) => None,
        (Some(p), _) => Some(p.clone()),
        (None, false) => std::env::current_dir().ok().and_then(|d| config::find(&d)),
    };
    let loaded = match path {
        Some(p) => Some(config::load(&p).map_err(config_fatal)?),
        None => None,
    };
    let mut levels = RuleLevels::default();
    if let Some(l) = &loaded {
        l.apply_levels(&mut levels).map_err(config_fatal)?;
    }
    // The command line over the file.
    levels.command_line();
    for (level, names, flag) in [
        (Level::Warn, &args.warn, "--warn"),
        (Level::Deny, &args.deny, "--deny"),
        (Level::Allow, &args.allow, "--allow"),
        (Level::Allow, &args.ignore, "--ignore"),
    ] {
        levels
            .apply(level, names.iter().map(String::as_str))
            .map_err(|e| Fatal::usage(format!("{flag}: {e}")))?;
    }
    if !args.select.is_empty() {
        let selected = RuleLevels::parse_select(args.select.iter().map(String::as_str))
            .map_err(|e| Fatal::usage(format!("--select: {e}")))?;
        levels.select(selected);
    }
    let file = loaded.as_ref().map(|l| &l.config);
    let required_patterns = args
        .required_patterns
        .clone()
        .or_else(|| file.and_then(|f| f.required_patterns.clone()))
        .unwrap_or_else(|| RuleOptions::default().required_patterns)
        .into_iter()
        // `a.md,b.md,` (a trailing comma) names two files, not a third empty one.
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let mut frame = crate::cli::FrameArgs {
        strip_prefix: args.frame.strip_prefix.clone(),
        input: args.frame.input,
    };
    if frame.strip_prefix.is_none()
        && let Some(l) = &loaded
        && let Some(p) = &l.config.strip_prefix
    {
        // A bad regex in the file is the file's error, shown at its line.
        let value = p.get_ref();
        if crate::prefix::preset(value).is_none()
            && let Err(e) = regex::bytes::Regex::new(value)
        {
            return Err(config_fatal(l.error(
                format!(
                    "strip-prefix is not a valid regex: {}",
                    super::regex_error(&e)
                ),
                "not a valid regex",
                Some(p.span()),
            )));
        }
        frame.strip_prefix = Some(value.clone());
    }
    let scan = scan_options(&frame)?;
    let rules = RuleOptions {
        required_patterns,
        levels,
    };
    if args.show_settings {
        let text = show_settings(
            args,
            loaded.as_ref().map(|l| l.path.as_path()),
            &frame,
            &rules,
        );
        super::write_stdout(text.as_bytes())?;
        // Nothing is open yet: the settings are the whole answer.
        std::process::exit(i32::from(super::EXIT_CLEAN));
    }
    Ok((scan, rules))
}

/// `--show-settings`: the configuration file used and every rule's level.
fn show_settings(
    args: &crate::cli::RuleArgs,
    config: Option<&Path>,
    frame: &crate::cli::FrameArgs,
    rules: &RuleOptions,
) -> String {
    let shown = |p: &Path| crate::sanitize::escape(p.display().to_string().as_bytes());
    let config = match (config, args.no_config) {
        (Some(p), _) => shown(p),
        (None, true) => "none (--no-config)".to_owned(),
        (None, false) => format!("none (no {} in this directory or above)", config::FILE_NAME),
    };
    let mut out = format!("configuration: {config}\n");
    out.push_str(&format!(
        "required patterns: {}\n",
        crate::sanitize::escape(rules.required_patterns.join(", ").as_bytes())
    ));
    out.push_str(&format!(
        "strip prefix: {}\n",
        frame.strip_prefix.as_deref().map_or_else(
            || "none".to_owned(),
            |p| crate::sanitize::escape(p.as_bytes())
        )
    ));
    out.push_str("rules:\n");
    let width = Rule::ALL.iter().map(|r| r.id().len()).max().unwrap_or(0);
    for &rule in Rule::ALL {
        let level = match rules.levels.severity(rule) {
            Some(s) => s.as_str(),
            None => "allowed",
        };
        let note = if rule.default_severity().as_str() == level {
            ""
        } else {
            " (changed)"
        };
        out.push_str(&format!("  {:width$}  {level}{note}\n", rule.id()));
    }
    out
}

fn config_fatal(e: Box<config::ConfigError>) -> Fatal {
    config_report(&e)
}

fn config_report(e: &config::ConfigError) -> Fatal {
    Fatal::Config(e.render())
}

pub(super) type Reports = Vec<(ReportTarget, Box<dyn Reporter>)>;

pub(super) fn reporter<'w>(
    format: Format,
    out: Box<dyn Write + 'w>,
    style: Style,
    pipe: bool,
) -> Box<dyn Reporter + 'w> {
    match format {
        Format::Human => Box::new(Human {
            out,
            style,
            session_lines: pipe,
        }),
        Format::Json => Box::new(Json { out }),
        Format::Github => Box::new(Github { out }),
        Format::Sarif => Box::new(Sarif::new(out)),
        Format::Concise => Box::new(crate::report::concise::Concise { out }),
        Format::Perfetto => Box::new(crate::report::perfetto::Perfetto::new(out)),
        Format::Otlp => Box::new(crate::report::otlp::Otlp::new(out)),
        Format::Html => Box::new(crate::report::html::Html::new(out)),
    }
}

/// The report on stdout (stderr in pipe mode and under `run`): `--format`, made quiet
/// by `-q`, or replaced by the counts of `--statistics`.
pub(super) fn primary_reporter<'w>(
    lint: &crate::cli::LintArgs,
    out: Box<dyn Write + 'w>,
    style: Style,
    pipe: bool,
) -> Box<dyn Reporter + 'w> {
    if lint.statistics {
        return Box::new(crate::report::quiet::Statistics::new(out));
    }
    let inner = reporter(lint.format, out, style, pipe);
    if lint.quiet {
        Box::new(crate::report::quiet::Quiet { inner })
    } else {
        inner
    }
}

/// Opens the `--report` files: each written beside its path until the run is complete,
/// and none where the run is about to read (exit 2 before anything is read).
pub(super) fn open_reports(
    targets: &[ReportTarget],
    inputs: &Inputs<'_>,
) -> Result<(Reports, Vec<ReportFile>), Fatal> {
    let mut reports = Vec::new();
    let mut files = Vec::new();
    for t in targets {
        let shown = crate::sanitize::escape(t.path.display().to_string().as_bytes());
        if let Some(why) = inputs.conflict(&t.path) {
            return Err(Fatal::usage(format!(
                "--report {shown}: {why}; refusing to overwrite what is being checked (write the report elsewhere)"
            )));
        }
        let (pending, file) = ReportFile::create(&t.path)
            .map_err(|e| Fatal::write(WriteTo::Create(shown.clone()), e))?;
        let out: Box<dyn Write> = Box::new(BufWriter::new(file));
        reports.push((t.clone(), reporter(t.format, out, Style::Plain, false)));
        files.push(pending);
    }
    Ok((reports, files))
}

/// `--otlp-endpoint`: an exporter beside the reports (its errors name the URL).
pub(super) fn add_exporter(url: Option<&str>, reports: &mut Reports) -> Result<(), Fatal> {
    let Some(url) = url else {
        return Ok(());
    };
    let endpoint = crate::report::otlp::Endpoint::parse(url).map_err(|e| {
        Fatal::usage(format!(
            "--otlp-endpoint {}",
            crate::sanitize::escape(e.as_bytes())
        ))
    })?;
    reports.push((
        ReportTarget {
            format: Format::Otlp,
            path: PathBuf::from(url),
        },
        Box::new(crate::report::otlp::OtlpPost::new(endpoint)),
    ));
    Ok(())
}

/// Whether a report draws when things happened (so the timeline must be built).
pub(super) fn pictures(primary: Format, reports: &Reports) -> bool {
    primary.pictures() || reports.iter().any(|(t, _)| t.format.pictures())
}

pub(super) fn style(choice: ColorChoice, terminal: bool) -> Style {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        ColorChoice::Always => Style::Color,
        ColorChoice::Never => Style::Plain,
        ColorChoice::Auto if set("NO_COLOR") => Style::Plain,
        ColorChoice::Auto if set("CLICOLOR_FORCE") || terminal => Style::Color,
        ColorChoice::Auto => Style::Plain,
    }
}

/// After a signal, how many more findings are still shown: the end-of-input report of a
/// huge open session must not keep an interrupted run going.
const SHOWN_AFTER_SIGNAL: u64 = 100;

/// Feeds findings live to the primary reporter and the report files (pipe mode).
pub(super) struct Live<'r, 'w> {
    /// The input as reports name it (`<stdin>`, `<worker>`).
    pub(super) name: &'r str,
    pub(super) primary: &'r mut Box<dyn Reporter + 'w>,
    pub(super) reports: &'r mut Reports,
    pub(super) totals: Totals,
    pub(super) failed: Option<Fatal>,
    /// Findings shown since a signal came, and those then counted but not shown.
    pub(super) after_signal: u64,
    pub(super) unshown: u64,
    /// When things happened, for the reports that draw it.
    pub(super) timeline: Option<crate::timeline::Builder>,
    pub(super) baselines: &'r mut Baselines,
}

impl Live<'_, '_> {
    pub(super) fn each(&mut self, mut f: impl FnMut(&mut dyn Reporter) -> io::Result<()>) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = f(&mut **self.primary) {
            self.failed = Some(Fatal::write(WriteTo::Report, e));
            return;
        }
        for (target, r) in self.reports.iter_mut() {
            if let Err(e) = f(&mut **r) {
                self.failed = Some(Fatal::write(WriteTo::File(target.path.clone()), e));
                return;
            }
        }
    }
}

impl Live<'_, '_> {
    /// The input ended: its summary to every report, and the primary report ends (the
    /// report files end with the run: a SARIF log on stderr is closed, the concise
    /// totals line written). The first write that failed is the error.
    pub(super) fn end(&mut self, summary: &FileSummary<'_>) -> Result<(), Fatal> {
        self.each(|r| r.end_file(summary));
        if self.failed.is_none()
            && let Err(e) = self.primary.end_run(1, self.totals)
        {
            self.failed = Some(Fatal::write(WriteTo::Report, e));
        }
        match self.failed.take() {
            Some(fatal) => Err(fatal),
            None => Ok(()),
        }
    }
}

impl Output for Live<'_, '_> {
    fn event(&mut self, event: &crate::event::Event) {
        if let Some(t) = &mut self.timeline {
            t.event(event);
        }
    }
}

impl Sink for Live<'_, '_> {
    fn finding(&mut self, mut finding: Finding) {
        let unchanged = match self.baselines.tag(self.name, &mut finding) {
            Ok(unchanged) => unchanged,
            Err(e) => {
                self.failed.get_or_insert(e);
                false
            }
        };
        if let Some(t) = &mut self.timeline {
            t.finding(&finding);
        }
        if unchanged {
            // Known to the baseline: not counted, shown only where it is marked.
            let name = self.name;
            self.each(|r| {
                if r.shows_unchanged() {
                    r.finding(name, &finding)
                } else {
                    Ok(())
                }
            });
            return;
        }
        count(&mut self.totals, &finding);
        if interrupt::signal().is_some() {
            if self.after_signal >= SHOWN_AFTER_SIGNAL {
                self.unshown += 1;
                return;
            }
            self.after_signal += 1;
        }
        let name = self.name;
        self.each(|r| r.finding(name, &finding));
    }

    fn session_end(&mut self, end: &SessionState) {
        let name = self.name;
        if let Some(t) = &mut self.timeline {
            t.session_end(end);
            if let Some((session, axis)) = t.last_ended()
                && session.start.line == end.start_line
            {
                let session = session.clone();
                self.each(|r| r.session_drawn(name, &session, axis));
            }
        }
        self.each(|r| r.session_end(name, end));
    }
}

/// Pipe mode: stdin to stdout byte for byte, findings on stderr.
fn pipe(
    args: &CheckArgs,
    scan: ScanOptions,
    rules: RuleOptions,
    reports: &mut Reports,
    baselines: &mut Baselines,
) -> Result<Outcome, Fatal> {
    let stderr = io::stderr();
    let style = style(args.lint.color, stderr.is_terminal());
    // Buffered: a report is written in many small pieces, and stderr is unbuffered;
    // every reporter flushes after each finding, so findings still appear at once.
    let buffered = io::BufWriter::with_capacity(16 * 1024, stderr.lock());
    let mut primary = primary_reporter(&args.lint, Box::new(buffered), style, true);
    let drawn = pictures(args.lint.format, reports);
    let mut live = Live {
        name: "<stdin>",
        primary: &mut primary,
        reports,
        totals: Totals::default(),
        failed: None,
        after_signal: 0,
        unshown: 0,
        timeline: drawn.then(crate::timeline::Builder::new),
        baselines,
    };
    if io::stdin().is_terminal() {
        super::note(
            "reading a worker's output from the terminal; pipe a worker into \
             it (`worker | quant-session check`) or give transcript files. Ctrl-D ends input.",
        );
    }
    let input = LiveStdin::start().map_err(Fatal::Signals)?;
    // Passthrough writes go straight to a duplicate of fd 1: one write per chunk, where
    // the line-buffered `Stdout` would split each chunk at its last newline.
    let mut out: Box<dyn Write> = match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(File::from(fd)),
        Err(_) => Box::new(io::stdout()),
    };
    // Stdin has no pane checkpoint: decided before the rules go to the pipeline.
    let checkpoint_gap =
        crate::rules::checkpoint::not_checked(None, args.checkpoints.as_deref(), &rules);
    let mut pipeline = Pipeline::new(pipeline::Options {
        scan,
        rules: Some(rules),
        ..pipeline::Options::default()
    });
    let mut interrupted: Option<i32>;
    loop {
        let (buf, n) = match input.next().map_err(|e| InputError::read("<stdin>", e))? {
            Next::Data(buf, n) => (buf, n),
            Next::End => {
                // Ctrl-C kills the worker too: its end of input and the signal race,
                // and the signal counts even when the end came first.
                interrupted = interrupt::signal();
                break;
            }
            Next::Interrupted(sig) => {
                // Forward and check what was already read, then report as at the end.
                interrupted = Some(sig);
                match input.already_read() {
                    Some(chunk) => chunk,
                    None => break,
                }
            }
        };
        match out.write_all(&buf[..n]).and_then(|()| out.flush()) {
            Ok(()) => {}
            // Downstream closed (`| head`): stop quietly. Whatever was not read is not
            // checked, so the verdict is clean only if no session was left open.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                let open = pipeline.open_session();
                let at = match &open {
                    Some((id, line)) => {
                        format!("; session {id} (line {line}) was open, so the run is not clean")
                    }
                    None => String::new(),
                };
                super::note(&format!(
                    "stdout was closed: checking stopped after line {} (byte {}){at}",
                    pipeline.lines(),
                    pipeline.bytes()
                ));
                live.totals.sessions = pipeline.sessions();
                return Ok(Outcome {
                    files: 1,
                    totals: live.totals,
                    trouble: false,
                    interrupted: interrupt::signal(),
                    incomplete: open.is_some(),
                });
            }
            Err(e) => return Err(Fatal::write(WriteTo::Stdout, e)),
        }
        pipeline.feed(&buf[..n], &mut live);
        input.recycle(buf);
    }
    pipeline.finish(&mut live);
    live.totals.sessions = pipeline.sessions();
    if interrupted.is_none() {
        live.baselines.checked("<stdin>");
    }
    let timeline = live.timeline.take().map(|t| t.finish(pipeline.lines()));
    let worker = pipeline.worker_run();
    let mut not_checked = pipeline.not_checked();
    not_checked.extend(checkpoint_gap);
    let summary = FileSummary {
        file: "<stdin>",
        totals: live.totals,
        hint: pipeline.prefix_hint(),
        records: pipeline.records(),
        worker_exit: None,
        timeline: timeline.as_ref(),
        worker: worker.as_ref(),
        not_checked: &not_checked,
    };
    live.end(&summary)?;
    let interrupted = interrupted.or_else(interrupt::signal);
    if let Some(sig) = interrupted {
        let unshown = match live.unshown {
            0 => String::new(),
            n => format!(" ({n} findings after the signal are counted but not shown)"),
        };
        super::note(&format!(
            "interrupted by {}; the report covers the input read so far{unshown}",
            interrupt::name(sig)
        ));
    }
    Ok(Outcome {
        files: 1,
        totals: live.totals,
        trouble: false,
        interrupted,
        incomplete: false,
    })
}

/// An input of file mode.
enum Target {
    Stdin,
    File(PathBuf),
}

impl Target {
    fn path(&self) -> Option<&Path> {
        match self {
            Target::Stdin => None,
            Target::File(p) => Some(p),
        }
    }
}

/// The names a directory walk reads unless `--glob` says otherwise.
pub const DEFAULT_GLOBS: [&str; 4] = ["*.log", "*.txt", "*.jsonl", "*.ndjson"];

/// The globs of a directory walk, and how they read in a message (`*.log, *.txt, …`).
pub(super) fn globs(patterns: &[String]) -> Result<(GlobSet, String), Fatal> {
    let defaults: Vec<String> = DEFAULT_GLOBS.iter().map(|g| (*g).to_owned()).collect();
    let patterns = if patterns.is_empty() {
        &defaults[..]
    } else {
        patterns
    };
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        set.add(Glob::new(p).map_err(|e| Fatal::usage(format!("--glob {p}: {e}")))?);
    }
    let set = set
        .build()
        .map_err(|e| Fatal::usage(format!("--glob: {e}")))?;
    Ok((set, patterns.join(", ")))
}

/// A directory walked in name order, as ripgrep walks it: hidden files and directories
/// and what `.gitignore` (and `.ignore`) files exclude are skipped, unless `no_ignore`.
pub(super) fn walk(dir: &Path, no_ignore: bool) -> ignore::Walk {
    ignore::WalkBuilder::new(dir)
        .standard_filters(!no_ignore)
        // A .gitignore counts outside a git repository too (a copied corpus).
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
}

/// Files to check: explicit files as given, directories walked in name order for the
/// files whose name matches the globs. A directory that holds no such file is a usage
/// error: checking nothing must not read as a clean run.
fn expand(
    paths: &[PathBuf],
    globs: &GlobSet,
    looked_for: &str,
    no_ignore: bool,
) -> Result<Vec<Target>, Fatal> {
    let mut targets = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            targets.push(Target::Stdin);
        } else if p.is_dir() {
            let before = targets.len();
            for entry in walk(p, no_ignore) {
                match entry {
                    Ok(e)
                        if e.file_type().is_some_and(|t| t.is_file())
                            && globs.is_match(e.file_name()) =>
                    {
                        targets.push(Target::File(e.into_path()))
                    }
                    Ok(_) => {}
                    // Unreadable directories are reported when their path is opened.
                    Err(e) => {
                        let path = match &e {
                            ignore::Error::WithPath { path, .. } => path.clone(),
                            _ => p.clone(),
                        };
                        targets.push(Target::File(path))
                    }
                }
            }
            if targets.len() == before {
                return Err(Fatal::usage(format!(
                    "{}: no transcript found in this directory (looked for {looked_for}, \
                     in every subdirectory); give the files, or --glob PATTERN",
                    crate::sanitize::escape(p.display().to_string().as_bytes())
                )));
            }
        } else {
            targets.push(Target::File(p.clone()));
        }
    }
    Ok(targets)
}

/// How many findings a file-mode worker hands over at a time.
const FINDINGS_BATCH: usize = 256;

/// How many batches an input further on than the one being reported hands over before
/// it waits for its turn (4096 findings held at most per such input).
const AHEAD_BATCHES: usize = 16;

/// Which input file mode reports now, for the workers of the inputs after it.
#[derive(Default)]
struct Turn {
    /// The input being reported, and whether reporting has ended.
    now: std::sync::Mutex<(usize, bool)>,
    moved: std::sync::Condvar,
}

impl Turn {
    /// Waits until input `i` is the one being reported (or reporting has ended).
    fn wait_for(&self, i: usize) {
        // A poisoned lock means the reporting thread panicked: stop waiting.
        let Ok(mut now) = self.now.lock() else { return };
        while now.0 < i && !now.1 {
            match self.moved.wait(now) {
                Ok(n) => now = n,
                Err(_) => return,
            }
        }
    }

    fn advance(&self, i: usize) {
        if let Ok(mut now) = self.now.lock() {
            now.0 = i;
        }
        self.moved.notify_all();
    }
}

/// Ends the turns when dropped: every waiting worker goes on (and finds the channel
/// closed).
struct TurnOver<'t>(&'t Turn);

impl Drop for TurnOver<'_> {
    fn drop(&mut self) {
        if let Ok(mut now) = self.0.now.lock() {
            now.1 = true;
        }
        self.0.moved.notify_all();
    }
}

/// What file mode hears from its workers.
enum FromWorker {
    /// Findings of input `i`, in position order.
    Findings(usize, Vec<Finding>),
    /// Input `i` was read to its end (or could not be).
    Done(usize, Box<Result<Analysis, Fatal>>),
}

/// Where file mode writes: the primary report and the `--report` files.
struct FileReports<'r> {
    primary: &'r mut dyn Reporter,
    reports: &'r mut Reports,
    /// The reader of stdout went away: keep checking for the verdict only.
    stopped: bool,
}

impl FileReports<'_> {
    /// A finding, fingerprinted and told to the reports (one the baseline holds only to
    /// those that mark it).
    fn finding(
        &mut self,
        file: &str,
        mut f: Finding,
        baselines: &mut Baselines,
    ) -> Result<(), Fatal> {
        let unchanged = baselines.tag(file, &mut f)?;
        self.each(|r| {
            if unchanged && !r.shows_unchanged() {
                Ok(())
            } else {
                r.finding(file, &f)
            }
        })
    }

    fn each(
        &mut self,
        mut write: impl FnMut(&mut dyn Reporter) -> io::Result<()>,
    ) -> Result<(), Fatal> {
        if !self.stopped {
            match write(&mut *self.primary) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.stopped = true,
                Err(e) => return Err(Fatal::write(WriteTo::Report, e)),
            }
        }
        for (target, r) in self.reports.iter_mut() {
            write(&mut **r).map_err(|e| Fatal::write(WriteTo::File(target.path.clone()), e))?;
        }
        Ok(())
    }
}

/// File mode: every target checked in parallel, reported in order on stdout. The
/// findings of the input being reported are written as they are settled (see
/// [`analyse`]); those of inputs further on wait for their turn.
fn lint(
    args: &CheckArgs,
    targets: &[Target],
    scan: ScanOptions,
    rules: RuleOptions,
    reports: &mut Reports,
    baselines: &mut Baselines,
) -> Result<Outcome, Fatal> {
    let stdout = io::stdout();
    let style = style(args.lint.color, stdout.is_terminal());
    let mut primary = primary_reporter(
        &args.lint,
        Box::new(BufWriter::new(stdout.lock())),
        style,
        false,
    );
    let mut outcome = Outcome {
        files: targets.len(),
        totals: Totals::default(),
        trouble: false,
        interrupted: None,
        incomplete: false,
    };
    let pictures = pictures(args.lint.format, reports);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(targets.len().max(1));
    let next = AtomicUsize::new(0);
    // Bounded (16 batches, 4096 findings): a worker that finds faster than the report
    // is written waits for it.
    let (tx, rx) = mpsc::sync_channel::<FromWorker>(16);
    let mut out = FileReports {
        primary: &mut *primary,
        reports,
        stopped: false,
    };
    let turn = Turn::default();
    let result: Result<(), Fatal> = std::thread::scope(|scope| {
        // However the reporting loop ends, no worker waits for a turn that never comes.
        let _release = TurnOver(&turn);
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, scan, rules, turn) = (&next, &scan, &rules, &turn);
            let checkpoints = args.checkpoints.as_deref();
            scope.spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(target) = targets.get(i) else { break };
                    let path = target.path();
                    let about_last = |last: &SessionState| {
                        crate::rules::checkpoint::finding(last, path, checkpoints, rules)
                    };
                    // Findings cross to the reporting thread in batches: one channel
                    // message per finding costs more than the finding (a session with
                    // a malformed marker on every line).
                    // An input further on than the one being reported hands over a
                    // few batches, then waits for its turn: findings never pile up.
                    let mut batch = Vec::new();
                    let mut sent = 0;
                    let mut emit = |f| {
                        batch.push(f);
                        if batch.len() >= FINDINGS_BATCH {
                            if sent >= AHEAD_BATCHES {
                                turn.wait_for(i);
                            }
                            sent += 1;
                            let _ = tx.send(FromWorker::Findings(i, std::mem::take(&mut batch)));
                        }
                    };
                    let checked = analyse(
                        path,
                        &mut buf,
                        scan,
                        rules,
                        crate::pipeline::Wanted {
                            all_states: false,
                            about_last: Some(&about_last),
                            timeline: pictures,
                        },
                        &mut emit,
                    );
                    if !batch.is_empty() {
                        let _ = tx.send(FromWorker::Findings(i, batch));
                    }
                    let checked = checked.map_err(Fatal::from);
                    if tx.send(FromWorker::Done(i, Box::new(checked))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Inputs further on than the one being reported: their findings so far, and
        // their end once read.
        type Waiting = (Vec<Finding>, Option<Result<Analysis, Fatal>>);
        let mut waiting: BTreeMap<usize, Waiting> = BTreeMap::new();
        let mut want = 0;
        for msg in rx {
            if let Some(sig) = interrupt::signal() {
                // Stop here: the workers see the signal too and stop reading.
                outcome.interrupted = Some(sig);
                break;
            }
            match msg {
                FromWorker::Findings(i, found) if i == want => {
                    let file = display_name(targets[i].path());
                    for f in found {
                        out.finding(&file, f, baselines)?;
                    }
                }
                FromWorker::Findings(i, found) => waiting.entry(i).or_default().0.extend(found),
                FromWorker::Done(i, checked) => waiting.entry(i).or_default().1 = Some(*checked),
            }
            // Report every input whose turn has come, as far as it was read.
            while let Some((findings, done)) = waiting.get_mut(&want) {
                let file = display_name(targets[want].path());
                for f in std::mem::take(findings) {
                    out.finding(&file, f, baselines)?;
                }
                let Some(checked) = done.take() else { break };
                waiting.remove(&want);
                want += 1;
                turn.advance(want);
                let checked = match checked {
                    Ok(c) => c,
                    Err(fatal) => {
                        super::note(&format!("error: {fatal}"));
                        outcome.trouble = true;
                        let error = fatal.to_string();
                        out.each(|r| r.unreadable(&file, &error))?;
                        continue;
                    }
                };
                // What the baseline holds is not counted.
                let known = baselines.take_unchanged(&file);
                let totals = Totals {
                    errors: checked.totals.errors.saturating_sub(known.errors),
                    warnings: checked.totals.warnings.saturating_sub(known.warnings),
                    ..checked.totals
                };
                baselines.checked(&file);
                outcome.totals.add(totals);
                let mut not_checked = checked.not_checked;
                not_checked.extend(crate::rules::checkpoint::not_checked(
                    targets[want - 1].path(),
                    args.checkpoints.as_deref(),
                    &rules,
                ));
                let summary = FileSummary {
                    file: &file,
                    totals,
                    hint: checked.hint,
                    records: checked.records,
                    worker_exit: None,
                    timeline: checked.timeline.as_ref(),
                    worker: checked.worker.as_ref(),
                    not_checked: &not_checked,
                };
                out.each(|r| r.end_file(&summary))?;
            }
        }
        Ok(())
    });
    let stopped = out.stopped;
    result?;
    if let Some(sig) = outcome.interrupted {
        super::note(&format!(
            "interrupted by {}; the report covers the inputs read so far",
            interrupt::name(sig)
        ));
    }
    if !stopped {
        match primary.end_run(outcome.files, outcome.totals) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(Fatal::write(WriteTo::Report, e)),
        }
    }
    Ok(outcome)
}

/// `--baseline` and `--write-baseline` (SPEC §10), between the findings and the
/// reports: each finding gets its fingerprint; one the baseline holds is `unchanged`,
/// shown only by the formats that mark it, and not counted.
pub(super) struct Baselines {
    baseline: Option<crate::baseline::Baseline>,
    writer: Option<(ReportFile, crate::baseline::Writer<BufWriter<File>>)>,
    /// The input being reported, and its fingerprints so far.
    file: String,
    prints: crate::baseline::Fingerprinter,
    /// Findings of the input being reported that the baseline holds, by severity.
    pub(super) unchanged: Totals,
}

impl Baselines {
    pub(super) fn open(lint: &crate::cli::LintArgs, inputs: &Inputs<'_>) -> Result<Self, Fatal> {
        let baseline = match &lint.baseline {
            Some(path) => Some(crate::baseline::Baseline::read(path).map_err(|e| {
                Fatal::usage(format!(
                    "--baseline {}",
                    crate::sanitize::escape(e.as_bytes())
                ))
            })?),
            None => None,
        };
        let writer = match &lint.write_baseline {
            Some(path) => {
                let shown = crate::sanitize::escape(path.display().to_string().as_bytes());
                if let Some(why) = inputs.conflict(path) {
                    return Err(Fatal::usage(format!(
                        "--write-baseline {shown}: {why}; refusing to overwrite what is being checked"
                    )));
                }
                let (pending, file) = ReportFile::create(path)
                    .map_err(|e| Fatal::write(WriteTo::Create(shown.clone()), e))?;
                let writer = crate::baseline::Writer::new(BufWriter::new(file))
                    .map_err(|e| Fatal::write(WriteTo::File(path.clone()), e))?;
                Some((pending, writer))
            }
            None => None,
        };
        Ok(Baselines {
            baseline,
            writer,
            file: String::new(),
            prints: Default::default(),
            unchanged: Totals::default(),
        })
    }

    /// Fingerprints `f` (reported for `file`), records it, and says whether the baseline
    /// held it.
    pub(super) fn tag(&mut self, file: &str, f: &mut Finding) -> Result<bool, Fatal> {
        if self.file != file {
            self.file = file.to_owned();
            self.prints = Default::default();
            self.unchanged = Totals::default();
        }
        let fingerprint = self.prints.fingerprint(file, f);
        if let Some((pending, writer)) = &mut self.writer {
            writer
                .add(file, f, &fingerprint)
                .map_err(|e| Fatal::write(WriteTo::File(pending.path.clone()), e))?;
        }
        let state = self.baseline.as_mut().map(|b| {
            if b.take(&fingerprint) {
                crate::baseline::State::Unchanged
            } else {
                crate::baseline::State::New
            }
        });
        let unchanged = state == Some(crate::baseline::State::Unchanged);
        if unchanged {
            match f.severity {
                crate::rule::Severity::Error => self.unchanged.errors += 1,
                crate::rule::Severity::Warning => self.unchanged.warnings += 1,
            }
        }
        f.baseline = Some(Box::new(crate::baseline::Known { fingerprint, state }));
        Ok(unchanged)
    }

    /// The findings of `file` the baseline held (counted off its totals), and a fresh
    /// count for the next input.
    pub(super) fn take_unchanged(&mut self, file: &str) -> Totals {
        let known = if self.file == file {
            self.unchanged
        } else {
            Totals::default()
        };
        self.unchanged = Totals::default();
        self.file.clear();
        known
    }

    /// Input `file` was read to its end.
    pub(super) fn checked(&mut self, file: &str) {
        if let Some(b) = &mut self.baseline {
            b.checked(file);
        }
    }

    /// The run ended: the baseline file takes its place; stale entries are said.
    pub(super) fn finish(self, interrupted: bool) -> Result<(), Fatal> {
        if let Some((pending, writer)) = self.writer {
            let path = pending.path.clone();
            writer
                .finish()
                .map_err(|e| Fatal::write(WriteTo::File(path.clone()), e))?;
            if !interrupted {
                pending
                    .commit()
                    .map_err(|e| Fatal::write(WriteTo::File(path.clone()), e))?;
            }
        }
        if let Some(b) = &self.baseline {
            let stale = b.stale();
            if !stale.is_empty() {
                const SHOWN: usize = 20;
                let mut text = format!(
                    "baseline: {} no longer match{} (stale; write the baseline again to drop them):",
                    crate::finding::plural(stale.len() as u64, "entry", "entries"),
                    if stale.len() == 1 { "es" } else { "" }
                );
                for e in stale.iter().take(SHOWN) {
                    text.push_str(&format!(
                        "\n  {}:{}: {} {}",
                        crate::sanitize::escape(e.file.as_bytes()),
                        e.line,
                        crate::sanitize::escape(e.rule.as_bytes()),
                        crate::sanitize::escape(e.message.as_bytes())
                    ));
                }
                if stale.len() > SHOWN {
                    text.push_str(&format!("\n  and {} more", stale.len() - SHOWN));
                }
                super::note(&text);
            }
        }
        Ok(())
    }
}
