//! A snapshot per fixture of what a user sees: the event stream (`parse`), the human
//! report and the JSON report (`check`), through the real binary. Plus the assertions
//! every fixture must satisfy whatever its snapshot says.

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;

fn run(args: &[&str]) -> (String, i32) {
    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("reports are UTF-8"),
        out.status.code().unwrap(),
    )
}

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

/// Rules reported in a JSON report.
fn rules_of(json: &str) -> BTreeSet<String> {
    json.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "diagnostic")
        .map(|v| v["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn fixtures() {
    insta::glob!("../fixtures", "**/*.log", |path| {
        let file = relative(path);
        let (events, code) = run(&["parse", &file]);
        assert_eq!(code, 0);
        insta::assert_snapshot!("events", events);

        let (human, human_code) = run(&["check", "--format", "human", &file]);
        insta::assert_snapshot!("human", human);
        for c in human.chars() {
            assert!(
                c == '\n' || !(c.is_control()),
                "{file}: the human report writes control character {c:?}"
            );
        }

        let (json, json_code) = run(&["check", "--format", "json", &file]);
        insta::assert_snapshot!("json", json);
        assert_eq!(human_code, json_code);
        let rules = rules_of(&json);
        let errors = json.lines().any(|l| l.contains(r#""severity":"error""#));
        assert_eq!(json_code, if errors { 1 } else { 0 }, "{file}");

        let name = path.file_name().unwrap().to_str().unwrap();
        if name.ends_with(".ok.log") || file == "fixtures/sessions/clean.log" {
            assert!(rules.is_empty(), "{file} is clean but reports {rules:?}");
        } else if let Some(rule) = file
            .strip_prefix("fixtures/rules/")
            .and_then(|f| f.strip_suffix(".log"))
        {
            let mut want: BTreeSet<String> = [rule.to_owned()].into();
            if rule == "nested-session" {
                // A new SESSION_START also cuts the open session off (SPEC §3).
                want.insert("missing-session-complete".into());
            }
            assert_eq!(rules, want, "{file} must trigger exactly its rule");
        }
    });
}

#[test]
fn every_rule_but_checkpoints_has_a_fixture_and_a_clean_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    for rule in quant_session::rules::Rule::ALL {
        if *rule == quant_session::rules::Rule::CheckpointProblem {
            continue;
        }
        assert!(
            dir.join(format!("{}.log", rule.id())).exists(),
            "no fixture for {rule}"
        );
        assert!(
            dir.join(format!("{}.ok.log", rule.id())).exists(),
            "no clean twin for {rule}"
        );
    }
}

#[test]
fn the_seed_session_manager_output_reports_what_it_leaves_out() {
    let (json, code) = run(&[
        "check",
        "--format",
        "json",
        "fixtures/sessions/seed-session-manager.log",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        rules_of(&json),
        [
            "missing-distillation".to_owned(),
            "task-not-started".to_owned()
        ]
        .into()
    );
}

#[test]
fn the_same_session_gives_the_same_verdict_as_text_and_as_stream_json() {
    let verdict = |file: &str| {
        let (json, code) = run(&["check", "--format", "json", file]);
        let rules: Vec<String> = json
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["kind"] == "diagnostic")
            .map(|v| v["rule"].as_str().unwrap().to_owned())
            .collect();
        (rules, code)
    };
    assert_eq!(
        verdict("fixtures/sessions/seed-session-manager.log"),
        verdict("fixtures/stream-json/seed-through-bash.log")
    );
    // The clean session printed by a Claude Code worker (quoted markers in a read file,
    // a subagent prompt and the subagent's own text are not the worker's).
    let (rules, code) = verdict("fixtures/rules/worker-error-exit.ok.log");
    assert!(rules.is_empty() && code == 0, "{rules:?}");
    // Forcing text mode reads the JSON lines as prose: no session at all.
    let (json, _) = run(&[
        "check",
        "--format",
        "json",
        "--input",
        "text",
        "fixtures/stream-json/seed-through-bash.log",
    ]);
    assert!(json.contains(r#""sessions":0"#), "{json}");
}

/// Rules and severities reported, in order, the session count and the exit code.
fn verdict(args: &[&str]) -> (Vec<(String, String)>, String, i32) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let (json, code) = run(&all);
    let values: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let findings = values
        .iter()
        .filter(|v| v["kind"] == "diagnostic")
        .map(|v| (v["rule"].to_string(), v["severity"].to_string()))
        .collect();
    let sessions = values
        .iter()
        .find(|v| v["kind"] == "summary")
        .map(|v| v["sessions"].to_string())
        .unwrap();
    (findings, sessions, code)
}

#[test]
fn one_session_in_every_shape_gets_one_verdict() {
    // fixtures/claude_code.py writes the same scripted session as the worker's text,
    // Claude Code stream-json, a Claude Code session file, and the text in each log
    // envelope (the CRI one with a marker split across a partial line).
    let text = verdict(&["fixtures/shapes/session.text.log"]);
    assert_eq!(text.0.len(), 1, "the session has one violation: {text:?}");
    assert_eq!(text.1, "1");
    for shape in ["stream-json", "transcript"] {
        let file = format!("fixtures/shapes/session.{shape}.log");
        assert_eq!(verdict(&[&file]), text, "{file}");
        let forced = verdict(&["--input", shape, &file]);
        assert_eq!(forced, text, "{file} with --input {shape}");
    }
    for preset in ["docker", "cri", "github", "journald"] {
        let file = format!("fixtures/shapes/session.{preset}.log");
        assert_eq!(
            verdict(&["--strip-prefix", preset, &file]),
            text,
            "{file} with --strip-prefix {preset}"
        );
    }
}
