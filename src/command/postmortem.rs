//! `quant-session state`, `postmortem` and `summary`: what a transcript says about its
//! sessions, for people and for supervisor scripts.

use std::process::ExitCode;

use super::{EXIT_CLEAN, EXIT_FINDINGS, Fatal, WriteTo, scan_options, write_stdout};
use std::path::Path;

use crate::checkpoint::{self, pane_of};
use crate::cli::{FrameArgs, PostmortemArgs, PostmortemFormat, StateArgs, SummaryArgs};
use crate::pipeline::{Analysis, analyse};
use crate::postmortem::Postmortem;
use crate::report::postmortem::{human, summary_markdown};
use crate::rule::RuleOptions;
use crate::sink::{Flow, Item, Sink};
use crate::source::{CHUNK, display_name};

/// The whole input through the pipeline, every session's state kept; the findings
/// only counted (these commands report states, not findings).
fn analyse_all(file: Option<&Path>, frame: &FrameArgs) -> Result<Analysis, Fatal> {
    let scan = scan_options(frame)?;
    let mut buf = vec![0u8; CHUNK];
    analyse(
        file,
        &mut buf,
        &scan,
        &RuleOptions::default(),
        crate::pipeline::Wanted {
            keep: crate::pipeline::Keep::All,
            about_last: None,
            timeline: false,
        },
        StatesOnly,
    )
    .and_then(|(analysis, _)| match &analysis.damage {
        // What the states would say of a damaged input is not all of it.
        Some(damage) => Err(Fatal::Input(crate::error::InputError::damaged(
            &display_name(file),
            damage,
        ))),
        None => Ok(analysis),
    })
}

/// `state`, `postmortem` and `summary` report the sessions' states and the counts the
/// pipeline's tally keeps; no finding is shown one by one.
struct StatesOnly;

impl Sink for StatesOnly {
    type Error = Fatal;

    fn push(&mut self, _input: &str, item: Item<'_>) -> Result<Flow, Fatal> {
        match item {
            Item::Followed
            | Item::Event(_)
            | Item::Finding(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::InputEnd(_)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => Ok(Flow::Continue),
        }
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

/// `state`: every session's rebuilt state as one JSON document.
pub fn state(args: &StateArgs) -> Result<ExitCode, Fatal> {
    let analysis = analyse_all(args.file.as_deref(), &args.frame)?;
    let doc = serde_json::json!({
        "file": display_name(args.file.as_deref()),
        "lines": analysis.lines,
        "sessions": analysis.states,
    });
    let mut text = crate::report::json_text::to_string_pretty(&doc).map_err(json_error)?;
    text.push('\n');
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::from(EXIT_CLEAN))
}

/// `postmortem`: the report, exit 1 when the last session crashed or the checkpoint is
/// not ok.
pub fn postmortem(args: &PostmortemArgs) -> Result<ExitCode, Fatal> {
    let checkpoint_at = match (&args.checkpoint, &args.checkpoints) {
        (Some(p), _) => Some((p.clone(), None)),
        (None, Some(dir)) => {
            let pane = args
                .pane
                .or_else(|| args.file.as_deref().and_then(pane_of))
                .ok_or_else(|| {
                    Fatal::usage(
                        "--checkpoints needs --pane N when the transcript is not named pane-N.*",
                    )
                })?;
            Some((dir.clone(), Some(pane)))
        }
        (None, None) => None,
    };
    let analysis = analyse_all(args.file.as_deref(), &args.frame)?;
    let checkpoint = checkpoint_at.map(|(path, pane)| {
        let mut cp = match pane {
            Some(pane) => checkpoint::read_in(&path, pane),
            None => checkpoint::read(&path),
        };
        checkpoint::compare(&mut cp, analysis.states.last());
        cp
    });
    let read = crate::postmortem::Read {
        states: analysis.states,
        lines: analysis.lines,
        worker: analysis.worker,
        totals: analysis.totals,
    };
    let report = Postmortem::new(display_name(args.file.as_deref()), read, checkpoint);
    let text = match args.format {
        PostmortemFormat::Human => human(&report),
        PostmortemFormat::Json => {
            let mut t = crate::report::json_text::to_string_pretty(&report).map_err(json_error)?;
            t.push('\n');
            t
        }
    };
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::from(if report.failed() {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }))
}

/// `summary`: the markdown session summary, on stdout or in `--output`.
pub fn summary(args: &SummaryArgs) -> Result<ExitCode, Fatal> {
    let analysis = analyse_all(args.file.as_deref(), &args.frame)?;
    let text = summary_markdown(
        &display_name(args.file.as_deref()),
        &analysis.states,
        analysis.totals.errors,
        analysis.totals.warnings,
    );
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| Fatal::write(WriteTo::File(path.clone()), e))?
        }
        None => write_stdout(text.as_bytes())?,
    }
    Ok(ExitCode::from(EXIT_CLEAN))
}

fn json_error(e: std::io::Error) -> Fatal {
    Fatal::Render {
        what: "the JSON",
        message: e.to_string(),
    }
}
