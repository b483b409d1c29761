//! `quant-session rules`, `explain`, `completions` and `man`: documentation generated
//! from the rule table and the CLI definition.

use std::process::ExitCode;

use clap::CommandFactory;

use super::{EXIT_CLEAN, Fatal, write_stdout};
use crate::cli::Cli;
use crate::rules::Rule;

fn write_out(text: &[u8]) -> Result<ExitCode, Fatal> {
    write_stdout(text)?;
    Ok(ExitCode::from(EXIT_CLEAN))
}

/// Every rule, its default severity and summary, as a table.
pub fn list() -> Result<ExitCode, Fatal> {
    let width = Rule::ALL.iter().map(|r| r.id().len()).max().unwrap_or(0);
    let mut out = String::new();
    for rule in Rule::ALL {
        out.push_str(&format!(
            "{:width$}  {:7}  {}\n",
            rule.id(),
            rule.default_severity().as_str(),
            rule.summary()
        ));
    }
    write_out(out.as_bytes())
}

/// The full documentation of one rule.
pub fn explain(id: &str) -> Result<ExitCode, Fatal> {
    match Rule::from_id(id) {
        Some(rule) => write_out(rule.documentation().as_bytes()),
        None => Err(Fatal::usage(format!(
            "unknown rule `{}`; `quant-session rules` lists them",
            crate::sanitize::escape(id.as_bytes())
        ))),
    }
}

pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode, Fatal> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "quant-session", &mut out);
    write_out(&out)
}

pub fn man() -> Result<ExitCode, Fatal> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Fatal::Render {
            what: "the man page",
            message: e.to_string(),
        })?;
    write_out(&out)
}
