//! The post-mortem as a person reads it, and the markdown session summary.

use std::fmt::Write;

use miette::NamedSource;

use crate::checkpoint::{Checkpoint, CheckpointStatus};
use crate::diagnostic::FileDiagnostic;
use crate::postmortem::Postmortem;
use crate::sanitize::{escape, escape_lines_with_map};
use crate::state::{SessionState, Status};

fn duration(seconds: f64) -> String {
    let s = seconds.abs().round() as u64;
    let sign = if seconds < 0.0 { "-" } else { "" };
    match s {
        0..60 => format!("{sign}{seconds:.1}s"),
        60..3600 => format!("{sign}{}m {}s", s / 60, s % 60),
        _ => format!("{sign}{}h {}m", s / 3600, s % 3600 / 60),
    }
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// Checkpoints up to this size are shown in the report, the problem pointed at.
const SHOWN_WHOLE: usize = 64 * 1024;

/// The checkpoint's problem as a miette report pointing into the JSON file.
pub fn checkpoint_diagnostic(cp: &Checkpoint) -> Option<String> {
    let error = cp.error.as_ref()?;
    let path = cp.path.display().to_string();
    let message = format!(
        "checkpoint {}: {}",
        cp.status.as_str(),
        escape(error.message.as_bytes())
    );
    // A large file is not shown whole (its escaped copy and offset map would cost many
    // times its size): the message says where the problem is.
    if cp.text.len() > SHOWN_WHOLE {
        let at = match (error.line, error.column) {
            (Some(line), Some(column)) => format!(" (line {line}, column {column})"),
            _ => String::new(),
        };
        let diagnostic = FileDiagnostic {
            code: "checkpoint",
            path: path.clone(),
            message: format!("{message}{at}"),
            label: String::new(),
            span: None,
            source: NamedSource::new(escape(path.as_bytes()), String::new()),
        };
        return Some(diagnostic.render());
    }
    // At the end of a truncated file, point at its last byte: the JSON stops there.
    let mut map = Vec::new();
    let shown = escape_lines_with_map(cp.text.as_bytes(), &mut map);
    let span = error.offset.map(|o| {
        let o = (o as usize).min(cp.text.len().saturating_sub(1));
        map[o]..map[(o + 1).min(cp.text.len())]
    });
    let diagnostic = FileDiagnostic {
        code: "checkpoint",
        path: path.clone(),
        message,
        label: match cp.status {
            CheckpointStatus::Truncated => "the JSON stops here".to_owned(),
            _ => "here".to_owned(),
        },
        span: span.filter(|_| !cp.text.is_empty()),
        source: NamedSource::new(escape(path.as_bytes()), shown),
    };
    Some(diagnostic.render())
}

fn session(out: &mut String, s: &SessionState, elapsed: Option<f64>) {
    let status = match s.status {
        Status::Complete => "complete",
        Status::Crashed => "CRASHED",
    };
    let _ = writeln!(
        out,
        "session {} (lines {}-{}): {status}",
        escape(s.session_id.as_bytes()),
        s.start_line,
        s.last_line
    );
    if let Some(m) = &s.last_marker {
        let _ = writeln!(out, "  last marker      {} on line {}", m.marker, m.line);
    }
    let tasks = s
        .open_tasks
        .iter()
        .map(|t| format!("{} (line {})", escape(t.task.as_bytes()), t.line));
    let _ = writeln!(out, "  open tasks       {}", list(tasks));
    let subagents = s.open_subagents.iter().map(|a| match &a.task {
        Some(t) => format!(
            "{} in {} (line {})",
            escape(a.agent.as_bytes()),
            escape(t.as_bytes()),
            a.line
        ),
        None => format!("{} (line {})", escape(a.agent.as_bytes()), a.line),
    });
    let _ = writeln!(out, "  open subagents   {}", list(subagents));
    let _ = writeln!(
        out,
        "  done             {} completed, {} created, {}, {} queued",
        super::plural(s.tasks_completed, "task", "tasks"),
        super::plural(s.files_created, "file", "files"),
        super::plural(s.strategies_produced, "strategy", "strategies"),
        super::plural(s.hypotheses_queued, "hypothesis", "hypotheses")
    );
    let _ = writeln!(
        out,
        "  patterns read    {}",
        list(s.patterns_read.iter().map(|p| escape(p.as_bytes())))
    );
    let distillation = match (s.distillation_complete, s.distillation_requested) {
        (true, _) => "complete",
        (false, true) => "requested, never confirmed",
        (false, false) => "never requested",
    };
    let _ = writeln!(out, "  distillation     {distillation}");
    if let Some(e) = elapsed {
        let _ = writeln!(out, "  elapsed          {}", duration(e));
    }
    if s.status == Status::Crashed {
        let mut steps: Vec<String> = s
            .open_tasks
            .iter()
            .map(|t| format!("finish or requeue task {}", escape(t.task.as_bytes())))
            .collect();
        if !s.distillation_complete {
            steps.push("run the distillation (@sigma-distiller)".into());
        }
        steps.push("print the SESSION_COMPLETE block".into());
        let _ = writeln!(out, "  resume           {}", steps.join("; then "));
    }
}

/// The human post-mortem.
pub fn human(pm: &Postmortem) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "post-mortem of {} ({} lines, {} session{})\n",
        escape(pm.file.as_bytes()),
        pm.lines,
        pm.sessions.len(),
        if pm.sessions.len() == 1 { "" } else { "s" }
    );
    for s in &pm.sessions {
        session(&mut out, &s.state, s.elapsed_seconds);
        out.push('\n');
    }
    if let Some(cp) = &pm.checkpoint {
        let _ = writeln!(
            out,
            "checkpoint {}: {}",
            escape(cp.path.display().to_string().as_bytes()),
            cp.status.as_str()
        );
        if let Some(d) = checkpoint_diagnostic(cp) {
            out.push_str(&d);
        }
        let broken = matches!(
            cp.status,
            CheckpointStatus::Truncated | CheckpointStatus::Invalid
        );
        if let Some(v) = cp.salvaged.as_ref().filter(|_| broken) {
            let _ = writeln!(out, "  salvaged: {}", escape(v.to_string().as_bytes()));
        }
        out.push('\n');
    }
    if let Some(w) = &pm.worker {
        let ended =
            match &w.exit {
                Some(e) if !e.failed() => "exited with `success`".to_owned(),
                Some(e) if e.cause() == e.subtype.as_str() => format!(
                    "exited with `{}` (not success)",
                    escape(e.subtype.as_bytes())
                ),
                Some(e) => format!(
                    "ended with `{}` (result subtype `{}`, is_error {})",
                    e.cause(),
                    escape(e.subtype.as_bytes()),
                    e.is_error
                ),
                None if w.session_file => match &w.in_flight {
                    Some(_) => "left a tool call in flight (a session file has no result record)"
                        .to_owned(),
                    None => "was idle at the end of the session file (it has no result record)"
                        .to_owned(),
                },
                None => "was killed: no result record".to_owned(),
            };
        let mut facts = Vec::new();
        match w.exit.as_ref().and_then(|e| e.num_turns) {
            Some(n) => facts.push(format!("{n} turns")),
            None => facts.push(format!("{} assistant messages", w.messages)),
        }
        if let Some(cost) = w.exit.as_ref().and_then(|e| e.total_cost_usd) {
            facts.push(format!("${cost:.2}"));
        }
        let _ = writeln!(out, "worker process {ended}; {}", facts.join(", "));
        if let Some(resets) = &w.rate_limited {
            let until = resets
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .map(|t| format!(" until {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  waiting          on a rate limit{until}: the CLI's last record says it hit one (a wait, not a hang)"
            );
        }
        if let Some(f) = &w.in_flight {
            let what = f.subagent.as_ref().or(f.detail.as_ref());
            let _ = writeln!(
                out,
                "  in flight        {}{} (line {}), no result",
                escape(f.tool.as_bytes()),
                what.map(|d| format!(" {}", escape(d.as_bytes())))
                    .unwrap_or_default(),
                f.line
            );
        }
        out.push('\n');
    }
    let verdict = match pm.verdict {
        "complete" => "the last session completed",
        "crashed" => "the last session crashed",
        _ => "no session started",
    };
    let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "verdict: {verdict}; {}, {} in the transcript (`quant-session check` lists them)",
        plural(pm.errors, "error"),
        plural(pm.warnings, "warning")
    );
    out
}

/// The markdown session summary (`session-summaries/pane-N.md`).
pub fn summary_markdown(file: &str, states: &[SessionState], errors: u64, warnings: u64) -> String {
    let cell = |s: &str| escape(s.as_bytes()).replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(out, "# Session summary: {}\n", cell(file));
    let _ = writeln!(
        out,
        "| session | status | tasks | files | strategies | hypotheses queued | patterns updated | duration |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for s in states {
        let updated = list(
            s.patterns_updated
                .iter()
                .map(|u| format!("{} ({:+})", cell(&u.file), u.entries)),
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&s.session_id),
            match s.status {
                Status::Complete => "complete",
                Status::Crashed => "crashed",
            },
            s.tasks_completed,
            s.files_created,
            s.strategies_produced,
            s.hypotheses_queued,
            updated,
            s.duration_seconds.map_or("—".to_owned(), duration)
        );
    }
    let totals = states.iter().fold((0, 0, 0, 0), |t, s| {
        (
            t.0 + s.tasks_completed,
            t.1 + s.files_created,
            t.2 + s.strategies_produced,
            t.3 + s.hypotheses_queued,
        )
    });
    let _ = writeln!(
        out,
        "\n**Totals:** {}, {} completed, {} created, {} produced, {} queued.\n",
        super::plural(states.len() as u64, "session", "sessions"),
        super::plural(totals.0, "task", "tasks"),
        super::plural(totals.1, "file", "files"),
        super::plural(totals.2, "strategy", "strategies"),
        super::plural(totals.3, "hypothesis", "hypotheses")
    );
    let _ = writeln!(
        out,
        "**Protocol violations:** {errors} errors, {warnings} warnings (`quant-session check {}` for details).",
        cell(file)
    );
    for s in states.iter().filter(|s| s.status == Status::Crashed) {
        let _ = writeln!(
            out,
            "\n- Session {} crashed after line {}; open tasks: {}.",
            cell(&s.session_id),
            s.last_line,
            list(s.open_tasks.iter().map(|t| cell(&t.task)))
        );
    }
    out
}
