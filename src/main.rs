//! The `quant-session` binary: parses the command line and runs a subcommand.

use std::process::ExitCode;

use clap::Parser;
use quant_session::cli::{Cli, Command};
use quant_session::command;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Parse(args) => command::parse::run(args),
        Command::Check(args) => command::check::run(args),
        Command::State(args) => command::postmortem::state(args),
        Command::Postmortem(args) => command::postmortem::postmortem(args),
        Command::Summary(args) => command::postmortem::summary(args),
        Command::Rules => command::rules::list(),
        Command::Explain { rule } => command::rules::explain(rule),
        Command::Completions { shell } => command::rules::completions(*shell),
        Command::Man => command::rules::man(),
    };
    result.unwrap_or_else(command::Fatal::exit)
}
