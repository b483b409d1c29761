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
    Check(CheckArgs),
}

/// Options of how lines are framed.
#[derive(Debug, Args)]
pub struct FrameArgs {
    /// Strip this per-line prefix (a regex, anchored at the line start) before matching,
    /// e.g. '\[pane-\d+\] ' or '\S+Z '.
    #[arg(long, value_name = "REGEX")]
    pub strip_prefix: Option<String>,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Transcript to read; stdin when absent or `-`.
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub frame: FrameArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// miette's graphical report (plain text when not a terminal or NO_COLOR is set).
    Human,
    /// JSON Lines: a `diagnostic` object per finding, a `summary` per input.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Recorded transcripts to lint. Without any, stdin is passed through to stdout
    /// unchanged and findings go to stderr.
    pub files: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to colour the human report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Pattern files PATTERN_FILES_READ must name (comma list).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "what-works.md,what-fails.md"
    )]
    pub required_patterns: Vec<String>,
    #[command(flatten)]
    pub frame: FrameArgs,
}
