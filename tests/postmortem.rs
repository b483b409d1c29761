//! `state`, `postmortem`, `summary` and `check --checkpoints` through the real binary:
//! crashed transcripts against checkpoints in every condition.

use assert_cmd::Command;
use predicates::prelude::*;

fn qs() -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> (String, i32) {
    let out = qs().args(args).output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

#[test]
fn postmortem_of_each_pane_against_its_checkpoint() {
    // pane-0 complete + ok; pane-1 crashed + the seed's truncated file; pane-2 crashed +
    // stale; pane-3 crashed during distillation + missing.
    for (pane, want) in [(0, 0), (1, 1), (2, 1), (3, 1)] {
        let file = format!("fixtures/postmortem/pane-{pane}.log");
        let args = [
            "postmortem",
            "--checkpoints",
            "fixtures/postmortem/checkpoints",
            &file,
        ];
        let (human, code) = run(&args);
        assert_eq!(code, want, "{file}");
        insta::assert_snapshot!(format!("pane-{pane}-human"), human);
        let (json, code) = run(&[&args[..], &["--format", "json"]].concat());
        assert_eq!(code, want);
        insta::assert_snapshot!(format!("pane-{pane}-json"), json);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        for key in [
            "status",
            "last_line",
            "last_marker",
            "open_tasks",
            "open_subagents",
        ] {
            assert!(v["sessions"][0].get(key).is_some(), "{key}");
        }
        for key in ["status", "path", "error", "salvaged"] {
            assert!(v["checkpoint"].get(key).is_some(), "{key}");
        }
    }
}

#[test]
fn every_checkpoint_condition_is_named() {
    let cases = [
        ("truncated-seed", "truncated"),
        ("empty", "truncated"),
        ("valid-str-datetime", "ok"),
        ("valid-isoformat", "ok"),
        ("stale", "stale"),
        ("wrong-shape", "invalid"),
        ("not-json", "invalid"),
        ("no-such-file", "missing"),
    ];
    for (name, status) in cases {
        let cp = format!("fixtures/checkpoints/{name}.json");
        let args = [
            "postmortem",
            "--format",
            "json",
            "--checkpoint",
            &cp,
            "fixtures/postmortem/pane-1.log",
        ];
        let (json, code) = run(&args);
        assert_eq!(code, 1, "pane-1 crashed");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["checkpoint"]["status"], status, "{name}");
        let (human, _) = run(&[&args[..2], &["human"], &args[3..]].concat());
        insta::assert_snapshot!(format!("checkpoint-{name}"), human);
    }
}

#[test]
fn the_seeds_truncated_checkpoint_salvages_the_worker_type_and_points_at_the_break() {
    let (json, _) = run(&[
        "postmortem",
        "--format",
        "json",
        "--checkpoint",
        "fixtures/checkpoints/truncated-seed.json",
        "fixtures/postmortem/pane-1.log",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cp = &v["checkpoint"];
    assert_eq!(
        cp["salvaged"],
        serde_json::json!({"state": {"worker_type": "researcher"}})
    );
    let len = std::fs::read("fixtures/checkpoints/truncated-seed.json")
        .unwrap()
        .len();
    assert_eq!(
        cp["error"]["offset"], len,
        "the break is at the end of the file"
    );
    assert_eq!(cp["error"]["line"], 1);
    let s = &v["sessions"][0];
    assert_eq!(s["status"], "crashed");
    assert_eq!(s["last_line"], 18);
    assert_eq!(
        s["open_tasks"],
        serde_json::json!([{"task": "h-004", "line": 12}])
    );
    assert_eq!(
        s["open_subagents"],
        serde_json::json!([{"agent": "@quant-backtester", "task": "h-004", "line": 13}])
    );
    assert_eq!(s["resume"]["distillation_owed"], true);
}

#[test]
fn a_complete_session_with_an_agreeing_checkpoint_exits_0() {
    qs().args([
        "postmortem",
        "--checkpoint",
        "fixtures/checkpoints/valid-isoformat.json",
        "fixtures/postmortem/pane-0.log",
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::contains(
        "verdict: the last session completed",
    ));
    qs().args(["postmortem", "fixtures/sessions/clean.log"])
        .assert()
        .code(0);
    qs().args(["postmortem", "fixtures/sessions/crashed-mid-task.log"])
        .assert()
        .code(1);
}

#[test]
fn postmortem_usage_and_io_errors_exit_2() {
    qs().args(["postmortem", "no/such.log"]).assert().code(2);
    qs().args([
        "postmortem",
        "--checkpoints",
        "fixtures/postmortem/checkpoints",
        "-",
    ])
    .write_stdin("")
    .assert()
    .code(2)
    .stderr(predicate::str::contains("--pane"));
    qs().args([
        "postmortem",
        "--pane",
        "1",
        "fixtures/postmortem/pane-1.log",
    ])
    .assert()
    .code(2);
}

#[test]
fn state_prints_the_seeds_field_names_for_every_session() {
    let (json, code) = run(&["state", "fixtures/sessions/multi-session.log"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    for key in [
        "worker_type",
        "start_time",
        "tasks_completed",
        "files_created",
        "strategies_produced",
        "hypotheses_queued",
        "patterns_read",
        "distillation_complete",
        "session_id",
        "status",
        "open_tasks",
        "open_subagents",
        "last_line",
    ] {
        assert!(sessions[0].get(key).is_some(), "{key}");
    }
    assert_eq!(sessions[0]["strategies_produced"], 2);
    assert_eq!(sessions[2]["status"], "crashed");
    assert_eq!(sessions[2]["last_line"], v["lines"]);
}

#[test]
fn summary_writes_the_markdown_a_worker_keeps() {
    let (md, code) = run(&["summary", "fixtures/sessions/multi-session.log"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(md);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pane-0.md");
    qs().args(["summary", "-o"])
        .arg(&out)
        .arg("fixtures/sessions/multi-session.log")
        .assert()
        .code(0)
        .stdout("");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), md);
}

#[test]
fn check_with_checkpoints_adds_checkpoint_problem() {
    let (json, code) = run(&[
        "check",
        "--format",
        "json",
        "--checkpoints",
        "fixtures/postmortem/checkpoints",
        "fixtures/postmortem",
    ]);
    assert_eq!(code, 1);
    let problems: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["rule"] == "checkpoint-problem")
        .collect();
    let files: Vec<&str> = problems
        .iter()
        .map(|p| p["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "fixtures/postmortem/pane-1.log",
            "fixtures/postmortem/pane-2.log",
            "fixtures/postmortem/pane-3.log"
        ]
    );
    insta::assert_snapshot!(json);
    // Configurable like any rule.
    let (json, _) = run(&[
        "check",
        "--format",
        "json",
        "--allow",
        "checkpoint-problem",
        "--checkpoints",
        "fixtures/postmortem/checkpoints",
        "fixtures/postmortem",
    ]);
    assert!(!json.contains("checkpoint-problem"));
}

#[test]
fn on_claude_code_input_the_postmortem_names_the_cause_and_the_call_in_flight() {
    // Killed mid-subagent: no result record, the Task call never answered.
    let (human, code) = run(&["postmortem", "fixtures/stream-json/killed-torn-line.log"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("claude-code-killed", human);
    let (json, _) = run(&[
        "postmortem",
        "--format",
        "json",
        "fixtures/stream-json/killed-torn-line.log",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["cause"], "killed");
    assert_eq!(v["worker"]["in_flight"]["tool"], "Task");
    assert_eq!(v["worker"]["in_flight"]["line"], 6);
    // Out of turns after a complete session: the cause is the result's subtype, with
    // the turns and cost it reported.
    let (json, code) = run(&[
        "postmortem",
        "--format",
        "json",
        "fixtures/rules/worker-error-exit.log",
    ]);
    assert_eq!(code, 0, "the session itself completed");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["cause"], "error_max_turns");
    assert_eq!(v["worker"]["exit"]["num_turns"], 23);
    assert_eq!(v["worker"]["exit"]["total_cost_usd"], 1.87);
}
