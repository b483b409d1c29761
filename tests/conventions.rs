//! The conventions users bring from ruff, clippy and actionlint (issue 18), through the
//! binary: --select/--ignore/all, -q, --statistics, --no-config, --show-settings, the
//! command line over the file, the error messages, rules --format json, completions of
//! rule ids, a complete man page.

use assert_cmd::Command;

fn qs() -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.timeout(std::time::Duration::from_secs(60));
    c
}

const SEED: &str = "fixtures/sessions/seed-session-manager.log";

fn run(dir: Option<&std::path::Path>, args: &[&str]) -> (String, String, i32) {
    let mut c = qs();
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let out = c.args(args).output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap(),
    )
}

fn seed() -> String {
    format!("{}/{SEED}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn select_and_ignore_choose_the_rules() {
    let seed = seed();
    // The seed transcript: task-not-started twice (warning), missing-distillation.
    let (out, _, code) = run(
        None,
        &[
            "check",
            "--format",
            "concise",
            "--select",
            "task-not-started",
            &seed,
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("missing-distillation") && out.contains("task-not-started"),
        "{out}"
    );
    let (out, _, code) = run(
        None,
        &[
            "check",
            "--format",
            "concise",
            "--ignore",
            "missing-distillation",
            &seed,
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("task-not-started") && !out.contains("error["),
        "{out}"
    );
    let (out, _, code) = run(
        None,
        &["check", "--format", "concise", "--ignore", "all", &seed],
    );
    assert_eq!(code, 0);
    assert!(out.starts_with("0 errors, 0 warnings"), "{out}");
    let (out, _, _) = run(
        None,
        &["check", "--format", "concise", "--select", "all", &seed],
    );
    assert!(out.contains("1 error, 2 warnings"), "{out}");
}

#[test]
fn quiet_and_statistics() {
    let seed = seed();
    let (out, _, code) = run(None, &["check", "-q", "--format", "concise", &seed]);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 3, "findings only: {out}");
    let (out, _, code) = run(None, &["check", "--statistics", &seed]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("2  task-not-started"), "{out}");
    assert!(lines[1].starts_with("1  missing-distillation"), "{out}");
    assert_eq!(lines[2], "1 session, 1 error, 2 warnings in 1 input");
}

#[test]
fn the_command_line_wins_over_the_file_and_settings_can_be_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("quant-session.toml"),
        "deny = [\"warnings\"]\n",
    )
    .unwrap();
    let seed = seed();
    // The file makes every warning an error...
    let (out, _, _) = run(Some(dir.path()), &["check", "--format", "concise", &seed]);
    assert!(out.contains("3 errors, 0 warnings"), "{out}");
    // ... but the command line's --warn is what it says.
    let (out, _, _) = run(
        Some(dir.path()),
        &[
            "check",
            "--format",
            "concise",
            "--warn",
            "task-not-started",
            &seed,
        ],
    );
    assert!(out.contains("1 error, 2 warnings"), "{out}");
    // --no-config leaves the file out.
    let (out, _, _) = run(
        Some(dir.path()),
        &["check", "--format", "concise", "--no-config", &seed],
    );
    assert!(out.contains("1 error, 2 warnings"), "{out}");
    // --show-settings says which file and every rule's level, and exits 0.
    let (out, _, code) = run(
        Some(dir.path()),
        &["check", "--show-settings", "--allow", "duplicate-task"],
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with("configuration: ") && out.contains("quant-session.toml"),
        "{out}"
    );
    assert!(
        out.contains("task-not-started") && out.contains("error (changed)"),
        "{out}"
    );
    assert!(
        out.contains("duplicate-task") && out.contains("allowed (changed)"),
        "{out}"
    );
    let (out, _, _) = run(
        Some(dir.path()),
        &["check", "--show-settings", "--no-config"],
    );
    assert!(
        out.starts_with("configuration: none (--no-config)"),
        "{out}"
    );
}

#[test]
fn error_messages_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let seed = seed();
    let (_, err, code) = run(None, &["check", "--config", "nope.toml", &seed]);
    assert_eq!(code, 2);
    assert!(err.contains("nope.toml: cannot read"), "{err}");
    // A bad strip-prefix in the file: at its line, without the anchoring wrapper.
    std::fs::write(
        dir.path().join("quant-session.toml"),
        "deny = []\nstrip-prefix = \"[pane-(\\\\d+\"\n",
    )
    .unwrap();
    let (_, err, code) = run(Some(dir.path()), &["check", &seed]);
    assert_eq!(code, 2);
    assert!(err.contains("quant-session.toml:2:"), "{err}");
    assert!(
        err.contains("strip-prefix is not a valid regex") && !err.contains("^(?:"),
        "{err}"
    );
    let (_, err, code) = run(None, &["check", "--allow", "warnings", &seed]);
    assert_eq!(code, 2);
    assert!(err.contains("`warnings` is only for --deny"), "{err}");
    let (_, err, code) = run(None, &["explain", "task-not-complete"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("a similar value exists: 'task-not-completed'"),
        "{err}"
    );
    let (_, err, _) = run(None, &["check", "--strip-prefix", "[a-", &seed]);
    assert!(
        err.contains("--strip-prefix: not a valid regex") && !err.contains("^(?:"),
        "{err}"
    );
}

#[test]
fn rules_as_json_completions_and_the_man_page() {
    let (out, _, code) = run(None, &["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let rules: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rules.len(), quant_session::rule::Rule::ALL.len());
    assert!(
        rules
            .iter()
            .all(|r| r["family"].as_str().is_some_and(|f| !f.is_empty()))
    );
    // Completions offer the rule ids after --deny and explain.
    let (bash, _, _) = run(None, &["completions", "bash"]);
    assert!(bash.contains("worker-stalled") && bash.contains("task-not-started"));
    // The man page: every subcommand, the exit status, the configuration, every rule.
    let (man, _, code) = run(None, &["man"]);
    assert_eq!(code, 0);
    for sub in [
        "check",
        "run",
        "watch",
        "postmortem",
        "state",
        "summary",
        "parse",
        "explain",
    ] {
        assert!(man.contains(&format!(".SS quant-session {sub}")), "{sub}");
    }
    for section in [".SH EXIT STATUS", ".SH CONFIGURATION", ".SH RULES"] {
        assert!(man.contains(section), "{section}");
    }
    for rule in quant_session::rule::Rule::ALL {
        assert!(
            man.contains(&format!("\\fB{}\\fR", rule.id())),
            "{}",
            rule.id()
        );
    }
    assert!(man.contains("\\fB--stop-on\\fR"));
}
