//! `quant-session rules`, `explain`, `completions` and `man`: documentation generated
//! from the rule table and the CLI definition.

use std::process::ExitCode;

use clap::CommandFactory;

use super::{EXIT_CLEAN, Fatal, write_stdout};
use crate::cli::Cli;
use crate::rule::Rule;

fn write_out(text: &[u8]) -> Result<ExitCode, Fatal> {
    write_stdout(text)?;
    Ok(ExitCode::from(EXIT_CLEAN))
}

/// Every rule, its default severity and summary, as a table (or JSON).
pub fn list(format: crate::cli::RulesFormat) -> Result<ExitCode, Fatal> {
    if format == crate::cli::RulesFormat::Json {
        let rules: Vec<serde_json::Value> = Rule::ALL
            .iter()
            .map(|r| {
                let family = crate::rules::family_of(*r);
                serde_json::json!({
                    "id": r.id(),
                    "family": family,
                    "severity": r.default_severity().as_str(),
                    "summary": r.summary(),
                    "fix": r.fix(),
                    "why": r.why(),
                })
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&rules).map_err(|e| Fatal::Render {
            what: "the rules",
            message: e.to_string(),
        })?;
        text.push('\n');
        return write_out(text.as_bytes());
    }
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

/// Roff text: backslashes escaped, a line never starting with a control character.
fn roff(text: &str) -> String {
    text.replace('\\', "\\e")
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The whole man page: the command, then every subcommand with all its options, the
/// exit status, the configuration file and every rule.
pub fn man() -> Result<ExitCode, Fatal> {
    let render = |e: std::io::Error| Fatal::Render {
        what: "the man page",
        message: e.to_string(),
    };
    let cmd = Cli::command();
    let mut out = Vec::new();
    let page = clap_mangen::Man::new(cmd.clone());
    page.render_title(&mut out).map_err(render)?;
    page.render_name_section(&mut out).map_err(render)?;
    page.render_synopsis_section(&mut out).map_err(render)?;
    page.render_description_section(&mut out).map_err(render)?;
    let mut text = String::from(".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        let usage = sub
            .clone()
            .bin_name(format!("quant-session {name}"))
            .render_usage()
            .to_string();
        text.push_str(&format!(
            ".SS {}\n{}\n.PP\n{}\n",
            roff(&format!("quant-session {name}")),
            roff(&sub.get_about().map(|a| a.to_string()).unwrap_or_default()),
            roff(usage.trim_start_matches("Usage: "))
        ));
        for arg in sub.get_arguments() {
            if arg.is_hide_set() || arg.get_id() == "help" {
                continue;
            }
            let mut flag = match (arg.get_short(), arg.get_long()) {
                (Some(s), Some(l)) => format!("\\fB-{s}\\fR, \\fB--{l}\\fR"),
                (None, Some(l)) => format!("\\fB--{l}\\fR"),
                (Some(s), None) => format!("\\fB-{s}\\fR"),
                (None, None) => String::new(),
            };
            if let Some(values) = arg
                .get_value_names()
                .filter(|_| arg.get_action().takes_values())
            {
                let values: Vec<String> = values.iter().map(|v| format!("<{v}>")).collect();
                if !flag.is_empty() {
                    flag.push(' ');
                }
                flag.push_str(&format!("\\fI{}\\fR", roff(&values.join(" "))));
            } else if flag.is_empty() {
                flag = format!("\\fI<{}>\\fR", arg.get_id().as_str().to_uppercase());
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            text.push_str(&format!(".TP\n{flag}\n{}\n", roff(&help)));
        }
    }
    text.push_str(&format!(
        ".SH EXIT STATUS\n.TP\n\\fB0\\fR\nEvery input was read to its end and no error-severity finding (warnings allowed).\n\
         .TP\n\\fB1\\fR\nAt least one error-severity finding, or checking stopped with a session open (stdout closed).\n\
         .TP\n\\fB2\\fR\nA usage or I/O error: a bad flag, an unreadable input, a report that could not be written.\n\
         .TP\n\\fB128+N\\fR\nInterrupted by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP), after reporting what was found.\n\
         .SH CONFIGURATION\nThe nearest \\fB{}\\fR in the current directory or above (or \\fB--config\\fR \\fIPATH\\fR; \\fB--no-config\\fR for none) may set\n\
         \\fBdeny\\fR, \\fBwarn\\fR and \\fBallow\\fR (lists of rule ids; \\fBdeny = [\"warnings\"]\\fR makes every warning an error),\n\
         \\fBrequired-patterns\\fR (a list of file names) and \\fBstrip-prefix\\fR (a regex or a preset: docker, cri, github, journald).\n\
         The command line wins over the file; \\fB--show-settings\\fR prints what is in effect.\n\
         .SH RULES\n",
        crate::config::FILE_NAME
    ));
    for rule in Rule::ALL {
        text.push_str(&format!(
            ".TP\n\\fB{}\\fR (default: {})\n{}.\n{}\n",
            rule.id(),
            rule.default_severity().as_str(),
            roff(rule.summary()),
            roff(rule.why())
        ));
    }
    text.push_str(".SH SEE ALSO\n\\fBquant-session explain\\fR \\fIRULE\\fR for a rule's example and how to fix the worker.\n");
    out.extend_from_slice(text.as_bytes());
    page.render_version_section(&mut out).map_err(render)?;
    write_out(&out)
}
