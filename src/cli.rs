//! The command line: one clap definition from which help, usage errors and (later)
//! completions come.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Checks that quant workers (LLM agent sessions) follow the session protocol.
#[derive(Debug, Parser)]
#[command(name = "quant-session", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the protocol events of a transcript as JSON Lines.
    Parse(ParseArgs),
    /// Check transcripts against the protocol rules; with no FILE, act as a pipe filter.
    #[command(after_help = EXIT_STATUS)]
    Check(CheckArgs),
    /// Run a worker and check it live: its output to stdout as it comes, findings on
    /// stderr, its exit part of the verdict.
    #[command(after_help = RUN_EXIT_STATUS)]
    Run(RunArgs),
    /// Follow a fleet's transcripts as they are written: a live board on a terminal,
    /// JSON Lines otherwise.
    #[command(after_help = WATCH_EXIT_STATUS)]
    Watch(WatchArgs),
    /// Print the rebuilt state of every session as JSON (the seed's SessionState fields
    /// and more).
    State(StateArgs),
    /// What a crashed worker was doing, what is finished, what is lost, where to resume.
    Postmortem(PostmortemArgs),
    /// Write the markdown session summary a worker keeps (session-summaries/pane-N.md).
    Summary(SummaryArgs),
    /// List every rule with its default severity and summary.
    Rules {
        /// `text`: a table; `json`: every rule's id, family, default severity, summary,
        /// fix and rationale.
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Print the full documentation of a rule.
    Explain {
        /// A rule id, e.g. task-not-completed.
        #[arg(value_parser = rule_ids(), hide_possible_values = true)]
        rule: String,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

/// The exit statuses of `check` (SPEC §4), as `--help` ends.
const EXIT_STATUS: &str = "Exit status: 0 every input read to its end and clean (warnings allowed); \
1 an error-severity finding, or a session left open when checking stopped early; \
2 usage or I/O error (an unreadable input, a bad flag, a damaged gzip); \
128+N a signal ended it (130 SIGINT, 143 SIGTERM, 129 SIGHUP), after reporting what was read.";

const RUN_EXIT_STATUS: &str = "Exit status: 0 the worker's output read to its end and clean \
(warnings allowed; a worker that failed is an error); 1 an error-severity finding, or \
checking stopped (--stop-on) or cut short (--exit-grace); 2 usage or I/O error; \
128+N a signal ended it (passed on to the worker). Examples: quant-session run -- python3 \
worker.py --pane 1; quant-session run --stop-on error --log panes/pane-1.log python3 worker.py";

const WATCH_EXIT_STATUS: &str = "Exit status: 0 no error found; 1 an error-severity finding \
(sessions still open when the watch stops are running, not judged); 2 a file damaged or \
no longer readable, or a usage error; 128+N a signal ended it (130 SIGINT, 143 SIGTERM).";

/// Options of how lines are framed.
#[derive(Debug, Args)]
pub struct FrameArgs {
    /// Strip this per-line prefix (a regex, anchored at the line start) before matching,
    /// e.g. '\[pane-\d+\] ', or a preset: docker, cri, github, journald.
    #[arg(long, value_name = "REGEX", help_heading = "Input")]
    pub strip_prefix: Option<String>,
    /// What the input is; `auto` recognises each agent CLI's JSON by its first line.
    #[arg(long, value_parser = input_kind(), default_value = "auto", help_heading = "Input")]
    pub input: crate::scan::InputKind,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Transcript to read; stdin when absent or `-`.
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub frame: FrameArgs,
}

#[derive(Debug, Args)]
pub struct StateArgs {
    /// Transcript to read; stdin when absent or `-`.
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub frame: FrameArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PostmortemFormat {
    /// A readable report.
    Human,
    /// One JSON document.
    Json,
}

#[derive(Debug, Args)]
pub struct PostmortemArgs {
    /// Transcript of the worker; stdin when absent or `-`.
    pub file: Option<PathBuf>,
    /// The worker's checkpoint file.
    #[arg(long, value_name = "PATH", conflicts_with = "checkpoints")]
    pub checkpoint: Option<PathBuf>,
    /// The checkpoint directory; the file is DIR/pane-N.json, N from --pane or from the
    /// transcript's name (pane-N.log).
    #[arg(long, value_name = "DIR")]
    pub checkpoints: Option<PathBuf>,
    /// The pane number, with --checkpoints.
    #[arg(long, value_name = "N", requires = "checkpoints")]
    pub pane: Option<u32>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = PostmortemFormat::Human)]
    pub format: PostmortemFormat,
    #[command(flatten)]
    pub frame: FrameArgs,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Transcript to summarise; stdin when absent or `-`.
    pub file: Option<PathBuf>,
    /// Write the summary to this file instead of stdout.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub frame: FrameArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// miette's graphical report (plain text when not a terminal or NO_COLOR is set).
    Human,
    /// JSON Lines: a `diagnostic` object per finding, a `summary` per input.
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`).
    Github,
    /// One SARIF 2.1.0 log for the whole run.
    Sarif,
    /// One line per finding, `FILE:LINE:COL: SEVERITY[RULE] MESSAGE` (for logs, grep and
    /// editors).
    Concise,
    /// Chrome Trace Event JSON for Perfetto UI and chrome://tracing: a timeline of every
    /// session, its tasks, subagents and distillation, a mark per finding.
    Perfetto,
    /// OTLP/JSON traces: a trace per session, spans for its tasks, subagents and tool
    /// calls, findings as span events.
    Otlp,
    /// One self-contained HTML page, the run's replay: the totals and an index of the
    /// inputs (failed first), each session's timeline beside what the worker said and
    /// did (messages, tool calls and their results), findings linked to their lines.
    Html,
    /// JUnit XML for CI test reports (Jenkins, GitLab, Azure): a `testsuite` per input,
    /// a `testcase` per session, a `failure` per error finding, warnings in `system-out`.
    Junit,
    /// GitLab Code Quality JSON (the `codequality` artefact): an issue per finding with
    /// its rule, a stable fingerprint, a severity (major, minor) and its line.
    Gitlab,
}

impl Format {
    /// Whether the format draws when things happened (it needs the timeline).
    pub fn pictures(self) -> bool {
        matches!(self, Format::Perfetto | Format::Otlp | Format::Html)
    }

    /// Whether the report is one document (SARIF, JUnit, Code Quality, the pictures):
    /// its frame, counts and summaries are part of it, so `-q` leaves it whole.
    pub fn document(self) -> bool {
        !matches!(
            self,
            Format::Human | Format::Json | Format::Github | Format::Concise
        )
    }

    /// Whether the format shows every session, the clean ones too (it needs each
    /// session's end).
    pub fn sessions(self) -> bool {
        matches!(self, Format::Junit)
    }
}

/// An extra report: `FORMAT=PATH`.
#[derive(Debug, Clone)]
pub struct ReportTarget {
    pub format: Format,
    pub path: PathBuf,
}

fn parse_report(s: &str) -> Result<ReportTarget, String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=PATH, got `{s}`"))?;
    let format = Format::from_str(format, true).map_err(|_| {
        format!(
            "unknown format `{format}` (human, json, github, sarif, concise, perfetto, otlp, html, junit, gitlab)"
        )
    })?;
    if path.is_empty() {
        return Err("the report path is empty".into());
    }
    Ok(ReportTarget {
        format,
        path: PathBuf::from(path),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Transcripts to lint: files, directories (walked for --glob) or `-` for stdin.
    /// Without any, stdin is passed through to stdout unchanged and findings go to
    /// stderr.
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub lint: LintArgs,
    /// Check each `pane-N.*` transcript's checkpoint DIR/pane-N.json (adds the
    /// checkpoint-problem rule).
    #[arg(long, value_name = "DIR", help_heading = "Input")]
    pub checkpoints: Option<PathBuf>,
    /// Which files to check in directories (repeatable; default `*.log`, `*.txt`, `*.jsonl` (Claude Code session files) and `*.ndjson`, each also gzip-compressed as `*.log.gz`, …).
    #[arg(long, value_name = "GLOB", help_heading = "Input")]
    pub glob: Vec<String>,
    /// Walk directories whole: hidden files and directories, and what .gitignore
    /// excludes, too.
    #[arg(long, help_heading = "Input")]
    pub no_ignore: bool,
}

/// `quant-session run [OPTIONS] -- CMD [ARGS…]`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run the worker on plain pipes instead of a pseudo-terminal (its stdout and
    /// stderr then share one pipe; it may buffer its output and lose it when killed).
    #[arg(long, help_heading = "Worker")]
    pub no_pty: bool,
    /// Also append the worker's raw output to FILE (the pane log `tmux pipe-pane` would
    /// write).
    #[arg(long, value_name = "FILE", help_heading = "Worker")]
    pub log: Option<PathBuf>,
    /// Stop the worker at the first finding of this kind: `error`, `warning` (any
    /// finding), or rule ids (comma list). SIGTERM, then SIGKILL 5 s later.
    #[arg(
        long,
        value_name = "error|warning|RULE,…",
        value_delimiter = ',',
        help_heading = "Worker"
    )]
    pub stop_on: Vec<String>,
    /// Report `worker-stalled` when a session is open and the worker has printed
    /// nothing for this long (e.g. 30s, 15m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_stale, help_heading = "Worker")]
    pub stale: std::time::Duration,
    /// After the worker exits, read what the processes it started still print (a
    /// launcher that forks, `nohup … &`) until its terminal closes, at most this long.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_stale, help_heading = "Worker")]
    pub exit_grace: std::time::Duration,
    #[command(flatten)]
    pub lint: LintArgs,
    /// The worker and its arguments (after `--`, or after the options: what follows
    /// the command is its own).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// The values `--deny`, `--warn`, `--allow`, `--select` and `--ignore` take: rule ids,
/// `all`, and (for `--deny`) `warnings`; completions offer them.
fn rule_names() -> clap::builder::PossibleValuesParser {
    let mut values: Vec<clap::builder::PossibleValue> = crate::rule::Rule::ALL
        .iter()
        .map(|r| clap::builder::PossibleValue::new(r.id()).help(r.summary()))
        .collect();
    values.push(clap::builder::PossibleValue::new("all").help("every rule"));
    values.push(
        clap::builder::PossibleValue::new("warnings")
            .help("with --deny: every warning that remains is an error"),
    );
    // `--deny 'a,b,'`: a trailing comma is not an error.
    values.push(clap::builder::PossibleValue::new("").hide(true));
    clap::builder::PossibleValuesParser::new(values)
}

/// The rule ids `explain` takes.
fn rule_ids() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::rule::Rule::ALL
            .iter()
            .map(|r| clap::builder::PossibleValue::new(r.id()).help(r.summary())),
    )
}

fn parse_stale(s: &str) -> Result<std::time::Duration, String> {
    crate::rules::live::parse_duration(s)
}

/// What `rules` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
}

/// What `watch` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WatchFormat {
    /// A live board on a terminal (JSON Lines when stdout is not one).
    Human,
    /// JSON Lines: `diagnostic`, `session` and `summary` objects.
    Json,
}

/// `quant-session watch [PATH…]`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Transcript files, or directories whose transcripts (and those created later) are
    /// followed; the current directory when none.
    pub paths: Vec<PathBuf>,
    /// Skip what the files hold when the watch starts: follow only what is written next.
    #[arg(long, help_heading = "Watch")]
    pub from_end: bool,
    /// What to write: the board on a terminal, or JSON Lines.
    #[arg(long, value_enum, default_value_t = WatchFormat::Human, help_heading = "Watch")]
    pub format: WatchFormat,
    /// Report `worker-stalled` when a session is open and its file has not grown for
    /// this long (e.g. 30s, 15m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_stale, help_heading = "Watch")]
    pub stale: std::time::Duration,
    /// Which files to follow in directories (repeatable; default `*.log`, `*.txt`,
    /// `*.jsonl`, `*.ndjson`, and each gzip-compressed).
    #[arg(long, value_name = "GLOB", help_heading = "Watch")]
    pub glob: Vec<String>,
    /// Follow hidden files and what .gitignore excludes, too.
    #[arg(long, help_heading = "Watch")]
    pub no_ignore: bool,
    /// Compare each `pane-N.*` file's sessions with DIR/pane-N.json as they end (adds
    /// the checkpoint-problem rule).
    #[arg(long, value_name = "DIR", help_heading = "Watch")]
    pub checkpoints: Option<PathBuf>,
    /// Keep DIR/pane-N.md session summaries up to date as sessions end.
    #[arg(long, value_name = "DIR", help_heading = "Watch")]
    pub summaries: Option<PathBuf>,
    /// Also write a report in FORMAT to PATH (repeatable; each file's part as it ends,
    /// complete when the watch ends), e.g. `--report html=fleet.html`.
    #[arg(long, value_name = "FORMAT=PATH", value_parser = parse_report, help_heading = "Watch")]
    pub report: Vec<ReportTarget>,
    /// In the HTML report, show each message, tool input, tool result and transcript
    /// line by its length only (a report to attach to a bug without the run's content).
    #[arg(long, help_heading = "Watch")]
    pub redact: bool,
    /// Also export the traces to an OTLP/HTTP collector at this URL, each session as it
    /// ends (the rest of the `OTEL_EXPORTER_OTLP_*` environment applies).
    #[arg(long, value_name = "URL", help_heading = "Watch")]
    pub otlp_endpoint: Option<String>,
    /// Also export the traces where the `OTEL_EXPORTER_OTLP_*` environment says.
    #[arg(long, help_heading = "Watch")]
    pub otlp: bool,
    /// When to colour the board.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Watch")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// How findings are reported and which rules apply: `check` and `run`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Report format (on stdout; on stderr in pipe mode and under `run`).
    #[arg(long, value_enum, default_value_t = Format::Human, help_heading = "Output")]
    pub format: Format,
    /// Also write a report in FORMAT to PATH (repeatable), e.g. `--report sarif=out.sarif`.
    #[arg(long, value_name = "FORMAT=PATH", value_parser = parse_report, help_heading = "Output")]
    pub report: Vec<ReportTarget>,
    /// Also export the traces to an OTLP/HTTP collector at this URL (`http://HOST:4318`
    /// or https; `/v1/traces` unless a path is given), each session as it ends; the
    /// rest of the `OTEL_EXPORTER_OTLP_*` environment applies.
    #[arg(long, value_name = "URL", help_heading = "Output")]
    pub otlp_endpoint: Option<String>,
    /// Also export the traces where the `OTEL_EXPORTER_OTLP_*` environment says
    /// (endpoint, headers, protocol, timeout, compression), as the OpenTelemetry SDKs do.
    #[arg(long, help_heading = "Output")]
    pub otlp: bool,
    /// Report only the findings this baseline (from --write-baseline) does not hold; the
    /// exit status comes from those alone; entries that no longer match are stale.
    #[arg(long, value_name = "FILE", help_heading = "Baselines")]
    pub baseline: Option<PathBuf>,
    /// Record every finding of this run in FILE, for --baseline (exit 0: recording does
    /// not judge).
    #[arg(long, value_name = "FILE", help_heading = "Baselines")]
    pub write_baseline: Option<PathBuf>,
    /// Report the findings only: no summaries, notes or totals (a document format,
    /// sarif, junit, gitlab or a picture, stays whole).
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
    /// Instead of the findings, a count per rule (most first), the total and the usage
    /// (plain text: not with --format; other formats go in --report FMT=PATH).
    #[arg(long, conflicts_with_all = ["quiet", "format"], help_heading = "Output")]
    pub statistics: bool,
    /// Report, but always exit 0 (for adopting the tool on an existing corpus).
    #[arg(long, help_heading = "Output")]
    pub exit_zero: bool,
    /// When to colour the human report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
    /// In the HTML report, show each message, tool input, tool result and transcript
    /// line by its length only (a report to attach to a bug without the run's content).
    #[arg(long, help_heading = "Output")]
    pub redact: bool,
    #[command(flatten)]
    pub rules: RuleArgs,
}

impl LintArgs {
    /// Where traces are exported: `--otlp-endpoint URL`, or the environment's endpoint
    /// (`--otlp`), or nowhere.
    pub fn otlp(&self) -> Option<Option<&str>> {
        match (&self.otlp_endpoint, self.otlp) {
            (Some(url), _) => Some(Some(url.as_str())),
            (None, true) => Some(None),
            (None, false) => None,
        }
    }
}

/// Which rules apply and how input is read: `check`, `run` and `watch`.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Report these rules as errors; `--deny warnings` makes every warning an error.
    #[arg(long, value_name = "RULE", value_delimiter = ',', value_parser = rule_names(), hide_possible_values = true, help_heading = "Rules")]
    pub deny: Vec<String>,
    /// Report these rules as warnings.
    #[arg(long, value_name = "RULE", value_delimiter = ',', value_parser = rule_names(), hide_possible_values = true, help_heading = "Rules")]
    pub warn: Vec<String>,
    /// Do not report these rules.
    #[arg(long, value_name = "RULE", value_delimiter = ',', value_parser = rule_names(), hide_possible_values = true, help_heading = "Rules")]
    pub allow: Vec<String>,
    /// Run only these rules (`all`: every rule), as ruff's --select.
    #[arg(long, value_name = "RULE", value_delimiter = ',', value_parser = rule_names(), hide_possible_values = true, help_heading = "Rules")]
    pub select: Vec<String>,
    /// Do not run these rules (`all`: none), as ruff's --ignore (the same as --allow).
    #[arg(long, value_name = "RULE", value_delimiter = ',', value_parser = rule_names(), hide_possible_values = true, help_heading = "Rules")]
    pub ignore: Vec<String>,
    /// Use this configuration file instead of the quant-session.toml found upward.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "no_config",
        help_heading = "Configuration"
    )]
    pub config: Option<PathBuf>,
    /// Use no configuration file (not the quant-session.toml found upward).
    #[arg(long, help_heading = "Configuration")]
    pub no_config: bool,
    /// Print the settings in effect (the configuration file used, every rule's level)
    /// and exit.
    #[arg(long, help_heading = "Configuration")]
    pub show_settings: bool,
    /// Pattern files PATTERN_FILES_READ must name (comma list; default
    /// what-works.md,what-fails.md).
    #[arg(
        long,
        value_name = "FILES",
        value_delimiter = ',',
        help_heading = "Rules"
    )]
    pub required_patterns: Option<Vec<String>>,
    /// What the run may spend, as the worker's CLI reports it: any of
    /// `tokens=N,cost=USD,turns=N,duration=DUR` (budget-exceeded; over the
    /// configuration file's `[budget]`).
    #[arg(long, value_name = "LIMITS", help_heading = "Rules")]
    pub budget: Option<String>,
    #[command(flatten)]
    pub frame: FrameArgs,
}

/// The values of `--input`: `auto`, `text`, and every format's names (from
/// [`crate::format::FORMATS`]).
fn input_values() -> Vec<clap::builder::PossibleValue> {
    use clap::builder::PossibleValue;
    let mut values = vec![
        PossibleValue::new("auto").help(
            "Decided by the first non-blank line: an agent CLI's record or document, else text",
        ),
        PossibleValue::new("text").help("Plain worker output"),
    ];
    for (name, help, _) in crate::format::input_names() {
        values.push(PossibleValue::new(name).help(help));
    }
    values
}

/// Parses `--input`.
fn input_kind() -> impl clap::builder::TypedValueParser<Value = crate::scan::InputKind> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(input_values()).map(|name: String| {
        crate::scan::InputKind::named(&name).unwrap_or(crate::scan::InputKind::Auto)
    })
}
