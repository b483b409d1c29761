//! Bounded under attack (issue 14): each hostile input is generated here (never a
//! committed giant file) and run through the binary. A quadratic stage would make these
//! tests take minutes instead of a second; the figures themselves (time, memory) are
//! measured by `benches/hostile.py`, never asserted on a clock here.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use predicates::prelude::*;

fn qs() -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

const START: &str = "SESSION_START: researcher-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md\n";

/// JSON Lines output, parsed.
fn lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count_rule(values: &[serde_json::Value], rule: &str) -> usize {
    values.iter().filter(|v| v["rule"] == rule).count()
}

#[test]
fn past_the_tracking_limit_tasks_are_counted_and_said_once() {
    let mut input = String::from(START);
    for i in 0..100_010 {
        input.push_str(&format!("TASK_START: t-{i}\n"));
    }
    // The last ten, started past the limit, complete: no task-not-started for them.
    for i in 100_000..100_010 {
        input.push_str(&format!("TASK_COMPLETE: t-{i}\n"));
    }
    for args in [
        &["check", "--format", "json", "-"][..],
        &["check", "--format", "json"],
    ] {
        let out = qs().args(args).write_stdin(input.clone()).output().unwrap();
        let report = if args.len() == 4 {
            out.stdout
        } else {
            out.stderr
        };
        let values = lines(&report);
        assert_eq!(count_rule(&values, "too-many-open"), 1);
        assert_eq!(count_rule(&values, "task-not-started"), 0);
        assert_eq!(count_rule(&values, "task-not-completed"), 100_000);
        assert_eq!(out.status.code(), Some(1));
    }
}

#[test]
fn past_the_tracking_limit_subagents_are_counted() {
    let mut input = String::from(START);
    input.push_str("TASK_START: h-1\n");
    for i in 0..100_005 {
        input.push_str(&format!("SUBAGENT_SPAWN: @quant-{i}\n"));
    }
    let out = qs()
        .args(["check", "--format", "json", "-"])
        .write_stdin(input)
        .output()
        .unwrap();
    let values = lines(&out.stdout);
    assert_eq!(count_rule(&values, "too-many-open"), 1);
    assert_eq!(count_rule(&values, "subagent-not-completed"), 100_000);
}

#[test]
fn sarif_of_very_many_findings_is_one_valid_log() {
    let mut input = String::from(START);
    for _ in 0..50_000 {
        input.push_str("FILES_CREATED: many\n");
    }
    let out = qs()
        .args(["check", "--format", "sarif", "-"])
        .write_stdin(input)
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results
            .iter()
            .filter(|r| r["ruleId"] == "malformed-marker")
            .count(),
        50_000
    );
}

#[test]
fn an_open_session_with_a_malformed_marker_on_every_line_reports_them_all() {
    // More findings than file mode holds back to sort: they come in the order they
    // became certain (here, line order), every one of them, plus the session's end.
    let mut input = String::from(START);
    for _ in 0..20_000 {
        input.push_str("TASK_START: two tokens\n");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("open.log");
    std::fs::write(&file, input).unwrap();
    let out = qs()
        .args(["check", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let values = lines(&out.stdout);
    assert_eq!(count_rule(&values, "malformed-marker"), 20_000);
    assert_eq!(count_rule(&values, "missing-session-complete"), 1);
    let malformed: Vec<u64> = values
        .iter()
        .filter(|v| v["rule"] == "malformed-marker")
        .map(|v| v["line"].as_u64().unwrap())
        .collect();
    assert!(malformed.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn long_lines_of_dashes_and_underscores_are_read_in_linear_time() {
    // A session id of 64 000 bytes of `a-a-a-…` (quadratic to split before), and
    // upper-case words of 64 000 bytes of `A_A_A_…:` (an edit distance each before).
    // Under the 64 KiB head of a line (a longer line is cut, and never parsed).
    let id = "a-".repeat(32_000);
    let word = "A_".repeat(32_000);
    let mut input = String::new();
    for _ in 0..300 {
        input.push_str(&format!(
            "SESSION_START: {id}\n{word}:\nSESSION_COMPLETE: {id}\n"
        ));
    }
    let out = qs()
        .args(["check", "--format", "json", "-"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    let values = lines(&out.stdout);
    assert!(count_rule(&values, "malformed-marker") >= 300);
    assert_eq!(count_rule(&values, "unknown-marker"), 0);
    // Pipe mode passes every byte through.
    let piped = qs()
        .arg("check")
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(piped.stdout, input.as_bytes());
}

#[test]
fn a_checkpoint_cut_inside_a_huge_string_is_salvaged() {
    let dir = tempfile::tempdir().unwrap();
    let cp = dir.path().join("pane-0.json");
    let mut text = String::from(
        r#"{"state": {"worker_type": "researcher", "tasks_completed": 3, "start_time": ""#,
    );
    text.push_str(&"x".repeat(15 << 20));
    std::fs::write(&cp, text).unwrap();
    qs().args(["postmortem", "--format", "json", "--checkpoint"])
        .arg(&cp)
        .arg(fixture("postmortem/pane-0.log"))
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains(r#""status": "truncated""#)
                .and(predicate::str::contains(r#""tasks_completed": 3"#)),
        );
}

fn checkpoint_refused(cp: &Path, why: &str) {
    qs().args(["postmortem", "--format", "json", "--checkpoint"])
        .arg(cp)
        .arg(fixture("postmortem/pane-0.log"))
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains(r#""status": "invalid""#).and(predicate::str::contains(why)),
        );
}

#[test]
fn checkpoints_that_are_not_regular_files_are_refused_unread() {
    checkpoint_refused(Path::new("/dev/zero"), "not a regular file");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pane-0.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if made {
        checkpoint_refused(&fifo, "not a regular file");
    }
}

#[test]
fn a_checkpoint_over_the_cap_is_refused_whatever_its_size_claims() {
    let dir = tempfile::tempdir().unwrap();
    let cp = dir.path().join("big.json");
    let mut f = std::fs::File::create(&cp).unwrap();
    f.write_all(&vec![b' '; (16 << 20) + 10]).unwrap();
    checkpoint_refused(&cp, "too large");
}

#[test]
fn a_checkpoint_link_out_of_the_directory_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "root:SECRET-HASH:19000:0:99999:7:::\n").unwrap();
    std::os::unix::fs::symlink(secret.path(), dir.path().join("pane-0.json")).unwrap();
    for command in ["postmortem", "check"] {
        let out = qs()
            .arg(command)
            .arg("--checkpoints")
            .arg(dir.path())
            .arg(fixture("postmortem/pane-0.log"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("leads outside"), "{text}");
    }
    // A link that stays inside the directory is read.
    let inside = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("checkpoints/valid-isoformat.json"),
        inside.path().join("saved.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink("saved.json", inside.path().join("pane-0.json")).unwrap();
    qs().args(["postmortem", "--format", "json", "--checkpoints"])
        .arg(inside.path())
        .arg(fixture("postmortem/pane-0.log"))
        .assert()
        .stdout(predicate::str::contains("leads outside").not());
}

#[test]
fn a_hostile_configuration_file_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("quant-session.toml"),
        "deny = [\"\\u001b]52;c;aGk=\\u0007\\u009b31m\"]\n",
    )
    .unwrap();
    let out = qs()
        .current_dir(dir.path())
        .args(["check", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(r"\x1b]52"), "{err}");
    assert!(
        !err.chars().any(|c| c != '\n' && c.is_control()),
        "raw control character in {err:?}"
    );
}

#[test]
fn parse_and_state_escape_del_and_c1_controls_in_json() {
    let input = "SESSION_START: r\u{7f}\u{9b}-2026-11-23T10:15:30\nTASK_START: a\u{7f}b\u{9b}c\n";
    for command in ["parse", "state"] {
        let out = qs().arg(command).write_stdin(input).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(r"\u007f") && text.contains(r"\u009b"),
            "{text}"
        );
        assert!(
            !text.chars().any(|c| c != '\n' && c.is_control()),
            "{command} writes a raw control character"
        );
    }
}

#[test]
fn many_files_full_of_findings_are_reported_whole_and_in_order() {
    // The inputs after the one being reported wait for their turn once they have handed
    // over a few thousand findings, instead of piling them all up.
    let mut input = String::from(START);
    for _ in 0..10_000 {
        input.push_str("FILES_CREATED: many\n");
    }
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<_> = (0..4)
        .map(|i| dir.path().join(format!("pane-{i}.log")))
        .collect();
    for n in &names {
        std::fs::write(n, &input).unwrap();
    }
    let out = qs()
        .args(["check", "--format", "json"])
        .args(&names)
        .output()
        .unwrap();
    let values = lines(&out.stdout);
    let files: Vec<&str> = values
        .iter()
        .filter(|v| v["kind"] == "diagnostic" && v["rule"] == "malformed-marker")
        .map(|v| v["file"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 40_000);
    assert!(files.windows(2).all(|w| w[0] <= w[1]), "files interleaved");
}
