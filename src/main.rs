//! The `quant-session` binary: parses the command line and runs a subcommand.

use std::process::ExitCode;

use clap::Parser;
use quant_session::cli::{Cli, Command};
use quant_session::command;

/// Runs before Rust's runtime, which reopens a closed stdin, stdout or stderr on
/// `/dev/null`: records which were closed, so `check FILE >&-` is an I/O error rather
/// than a report written nowhere.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static RECORD_CLOSED_DESCRIPTORS: extern "C" fn() = {
    extern "C" fn record() {
        command::record_closed_descriptors();
    }
    record
};

fn main() -> ExitCode {
    // `run`'s session keeper (an internal mode, not a subcommand a user types).
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|a| a == command::keeper::MODE) {
        let rest: Vec<_> = args.skip_while(|a| a == "--").collect();
        return command::keeper::run(&rest);
    }
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Parse(args) => command::parse::run(args),
        Command::Check(args) => command::check::run(args),
        Command::Run(args) => command::run::run(args),
        Command::Watch(args) => command::watch::run(args),
        Command::State(args) => command::postmortem::state(args),
        Command::Postmortem(args) => command::postmortem::postmortem(args),
        Command::Summary(args) => command::postmortem::summary(args),
        Command::Rules { format } => command::rules::list(*format),
        Command::Explain { rule } => command::rules::explain(rule),
        Command::Completions { shell } => command::rules::completions(*shell),
        Command::Man => command::rules::man(),
    };
    result.unwrap_or_else(command::fail)
}
