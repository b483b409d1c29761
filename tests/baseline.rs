//! Baselines (SPEC §10) through the binary: a baseline written from a transcript keeps
//! its findings quiet when lines are inserted above them, reports only new ones (and the
//! exit status from those alone), says which entries went stale, and marks the known
//! ones in JSON (`fingerprint`, `baseline`) and SARIF (`partialFingerprints`,
//! `baselineState`, listed as suppressed, not dropped).

use assert_cmd::Command;

fn qs() -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.timeout(std::time::Duration::from_secs(60));
    c
}

const SEED: &str = "fixtures/sessions/seed-session-manager.log";

fn json_lines(text: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Records the findings of `transcript` (the seed's: one error among them) in
/// `baseline`: exit 0, recording does not judge (a "day one: record" CI step passes).
fn record(baseline: &std::path::Path, transcript: &std::path::Path) {
    qs().args(["check", "--write-baseline"])
        .arg(baseline)
        .arg(transcript)
        .assert()
        .code(0);
}

#[test]
fn lines_inserted_above_old_findings_wake_only_the_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("pane-1.log");
    let baseline = dir.path().join("baseline.jsonl");
    let seed = std::fs::read_to_string(SEED).unwrap();
    std::fs::write(&transcript, &seed).unwrap();
    // Day one: three findings (one error), recorded.
    record(&baseline, &transcript);
    let recorded = std::fs::read_to_string(&baseline).unwrap();
    assert_eq!(recorded.lines().count(), 1 + 3, "{recorded}");
    // Nothing changed: nothing to report, exit 0.
    qs().args(["check", "--baseline"])
        .arg(&baseline)
        .arg(&transcript)
        .assert()
        .code(0);
    // Lines inserted above the old findings, and a new session that crashes.
    let grown = format!(
        "worker booting\nloading model\n{seed}SESSION_START: researcher-2026-11-23T10:15:30\n"
    );
    std::fs::write(&transcript, grown).unwrap();
    let out = qs()
        .args(["check", "--format", "json", "--baseline"])
        .arg(&baseline)
        .arg(&transcript)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out.stdout);
    let new: Vec<&str> = lines
        .iter()
        .filter(|v| v["baseline"] == "new")
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        new,
        ["patterns-not-read", "missing-session-complete"],
        "{lines:#?}"
    );
    // The old ones are listed, marked, with their fingerprints.
    let unchanged = lines
        .iter()
        .filter(|v| v["baseline"] == "unchanged")
        .count();
    assert_eq!(unchanged, 3);
    assert!(
        lines
            .iter()
            .filter(|v| v["kind"] == "diagnostic")
            .all(|v| v["fingerprint"].as_str().is_some_and(|f| f.len() == 32))
    );
    // The summary counts only the new ones.
    let summary = lines.iter().find(|v| v["kind"] == "summary").unwrap();
    assert_eq!(summary["errors"], 2);
    assert_eq!(summary["warnings"], 0);
    assert_eq!(summary["baselined"], 3, "it says how many it held");
    // The human report shows only the new ones.
    let out = qs()
        .args(["check", "--format", "concise", "--baseline"])
        .arg(&baseline)
        .arg(&transcript)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("task-not-started") && text.contains("missing-session-complete"),
        "{text}"
    );
}

#[test]
fn stale_entries_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("t.log");
    let baseline = dir.path().join("b.jsonl");
    let seed = std::fs::read_to_string(SEED).unwrap();
    std::fs::write(&transcript, &seed).unwrap();
    record(&baseline, &transcript);
    // The worker was fixed: task h-002 is no longer completed without its start.
    let fixed: String = seed
        .lines()
        .filter(|l| !l.contains("h-002"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&transcript, fixed).unwrap();
    let out = qs()
        .args(["check", "--baseline"])
        .arg(&baseline)
        .arg(&transcript)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("1 entry no longer matches (stale"),
        "{stderr}"
    );
    assert!(
        stderr.contains("task-not-started task \"h-002\""),
        "{stderr}"
    );
}

#[test]
fn sarif_marks_baselined_results_as_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("b.jsonl");
    record(&baseline, SEED.as_ref());
    let sarif = dir.path().join("out.sarif");
    qs().args(["check", "--baseline"])
        .arg(&baseline)
        .arg("--report")
        .arg(format!("sarif={}", sarif.display()))
        .arg(SEED)
        .assert()
        .code(0);
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "listed, not dropped");
    for r in results {
        assert_eq!(r["baselineState"], "unchanged");
        assert_eq!(r["suppressions"][0]["kind"], "external");
        assert!(
            r["partialFingerprints"]["quantSession/v2"].is_string(),
            "{r}"
        );
    }
}

#[test]
fn bad_baselines_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "not json\n").unwrap();
    let out = qs()
        .args(["check", "--baseline"])
        .arg(&bad)
        .arg(SEED)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.jsonl"));
    qs().args(["check", "--baseline"])
        .arg(dir.path().join("missing.jsonl"))
        .arg(SEED)
        .assert()
        .code(2);
    // Never written over an input.
    qs().args(["check", "--write-baseline", SEED, SEED])
        .assert()
        .code(2);
}

fn summary_of(args: &[&str]) -> serde_json::Value {
    let out = qs()
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    json_lines(&out.stdout)
        .into_iter()
        .find(|v| v["kind"] == "summary")
        .unwrap()
}

fn not_checked(summary: &serde_json::Value) -> Vec<String> {
    summary["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_summary_says_what_was_not_checked() {
    // Plain text: no tool calls, no timestamps, no process end, no checkpoints.
    let text = summary_of(&["fixtures/shapes/session.text.log"]);
    assert_eq!(
        not_checked(&text),
        [
            "unbacked-subagent",
            "unbacked-files-created",
            "tool-loop",
            "duration-mismatch",
            "worker-error-exit",
            "checkpoint-problem"
        ]
    );
    assert_eq!(text["not_checked"][3]["why"], "no timestamps in the input");
    // A Claude Code session file: calls and timestamps are there, the process end is not.
    let session = summary_of(&["fixtures/shapes/session.transcript.log"]);
    assert_eq!(
        not_checked(&session),
        ["worker-error-exit", "checkpoint-problem"]
    );
    // Gemini has no subagent tool.
    let gemini = summary_of(&["fixtures/shapes/session.gemini.log"]);
    assert!(not_checked(&gemini).contains(&"unbacked-subagent".to_owned()));
    assert!(!not_checked(&gemini).contains(&"unbacked-files-created".to_owned()));
    // With checkpoints, a pane-N file is checked; an allowed rule is not listed.
    let pane = summary_of(&[
        "--checkpoints",
        "fixtures/postmortem/checkpoints",
        "--allow",
        "duration-mismatch",
        "fixtures/postmortem/pane-0.log",
    ]);
    let missing = not_checked(&pane);
    assert!(
        !missing.contains(&"checkpoint-problem".to_owned()),
        "{missing:?}"
    );
    assert!(
        !missing.contains(&"duration-mismatch".to_owned()),
        "{missing:?}"
    );
    // The human report says it in one line; SARIF as a tool notification.
    let out = qs()
        .args(["check", "fixtures/shapes/session.text.log"])
        .output()
        .unwrap();
    let human = String::from_utf8(out.stdout).unwrap();
    assert!(
        human.contains(
            "not checked: unbacked-subagent, unbacked-files-created, tool-loop (no tool calls in the input)"
        ),
        "{human}"
    );
    let out = qs()
        .args([
            "check",
            "--format",
            "sarif",
            "fixtures/shapes/session.text.log",
        ])
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    assert!(
        invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("not checked")
    );
    // An unreadable input: the execution did not succeed, and it says which.
    let out = qs()
        .args([
            "check",
            "--format",
            "sarif",
            "fixtures/shapes/session.text.log",
            "/nonexistent.log",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation
            .to_string()
            .contains("/nonexistent.log could not be read")
    );
}

#[test]
fn a_path_typed_differently_names_the_same_input() {
    // Written as `bl/x.log` from the repository's root; read as `./bl/x.log`, `bl` (a
    // directory walk), an absolute path, and `x.log` from inside `bl/`: the same
    // fingerprints, so nothing returns and the summary says how many were held.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("bl")).unwrap();
    std::fs::copy(SEED, root.join("bl/x.log")).unwrap();
    qs().current_dir(root)
        .args(["check", "--write-baseline", "base.jsonl", "bl/x.log"])
        .assert()
        .code(0);
    let absolute = root.join("bl").display().to_string();
    for (cwd, path, baseline) in [
        (root.to_path_buf(), "./bl/x.log", "base.jsonl"),
        (root.to_path_buf(), "bl", "base.jsonl"),
        (root.to_path_buf(), absolute.as_str(), "base.jsonl"),
        (root.join("bl"), "x.log", "../base.jsonl"),
        (root.join("bl"), ".//x.log", "../base.jsonl"),
    ] {
        let out = qs()
            .current_dir(&cwd)
            .args(["check", "--format", "json", "--baseline", baseline, path])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{path} from {}: {stderr}",
            cwd.display()
        );
        let lines = json_lines(&out.stdout);
        let summary = lines.iter().find(|v| v["kind"] == "summary").unwrap();
        assert_eq!(summary["baselined"], 3, "{path}: {summary}");
        assert!(
            stderr.contains("baseline: 3 findings it holds were not reported"),
            "{stderr}"
        );
        assert!(!stderr.contains("stale"), "{path}: {stderr}");
    }
}

#[test]
fn two_findings_alike_in_their_first_200_bytes_are_two_entries() {
    // Two unfinished tasks whose TASK_START lines agree on their first 200 bytes: the
    // old one recorded, the new one must still be reported.
    let dir = tempfile::tempdir().unwrap();
    let pad = "x".repeat(220);
    let one = format!(
        "SESSION_START: researcher-2026-11-23T10:15:30\nTASK_START: h-1 {pad} a\nSESSION_COMPLETE: researcher-2026-11-23T10:15:30\n"
    );
    let transcript = dir.path().join("t.log");
    std::fs::write(&transcript, &one).unwrap();
    let baseline = dir.path().join("base.jsonl");
    record(&baseline, &transcript);
    let two = one.replace(
        "SESSION_COMPLETE",
        &format!("TASK_START: h-1 {pad} b\nSESSION_COMPLETE"),
    );
    std::fs::write(&transcript, two).unwrap();
    let out = qs()
        .args(["check", "--format", "json", "--baseline"])
        .arg(&baseline)
        .arg(&transcript)
        .output()
        .unwrap();
    let new: Vec<_> = json_lines(&out.stdout)
        .into_iter()
        .filter(|v| v["kind"] == "diagnostic" && v["baseline"] == "new")
        .collect();
    assert!(!new.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_baseline_is_read_as_an_untrusted_file() {
    // Not a regular file (a device, a FIFO): refused at once; a line longer than 4 KiB:
    // refused with its number. Never read whole.
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        for path in [fifo.as_path(), std::path::Path::new("/dev/zero")] {
            let out = qs()
                .args(["check", "--baseline"])
                .arg(path)
                .arg(SEED)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{stderr}");
            assert!(stderr.contains("not a regular file"), "{stderr}");
        }
    }
    let long = dir.path().join("long.jsonl");
    std::fs::write(
        &long,
        format!(
            "{{\"version\":\"quantSession/v2\",\"tool\":\"x\"}}\n{}\n",
            "y".repeat(5000)
        ),
    )
    .unwrap();
    let out = qs()
        .args(["check", "--baseline"])
        .arg(&long)
        .arg(SEED)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 2 is longer than 4096 bytes"),
        "{stderr}"
    );
}
