//! `quant-session run -- CMD` through the binary (SPEC §8): small Python and shell
//! workers, their exits and signals, a worker killed mid-line, `--stop-on`, `--stale`,
//! `--log`, a worker that checks `isatty()`, stdin passed through, the tool's own
//! signals passed on. Timings are generous: a slow machine must not fail them.

use std::io::Read;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn qs() -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.env_remove("NO_COLOR").env("COLUMNS", "100");
    c.timeout(Duration::from_secs(60));
    c
}

/// A clean session, then `sys.exit(CODE)`.
const CLEAN: &str = r#"
import sys
print("SESSION_START: researcher-2026-11-23T10:15:30")
print("PATTERN_FILES_READ: what-works.md, what-fails.md")
print("TASK_START: h-1")
print("TASK_COMPLETE: h-1")
print("@sigma-distiller: distill the session")
print("DISTILLATION_COMPLETE")
print("PATTERNS_UPDATED: what-works.md (+1 entries)")
print("SESSION_COMPLETE: researcher-2026-11-23T10:15:30")
print("DURATION: 5m")
print("TASKS_COMPLETED: 1")
print("STRATEGIES_PRODUCED: 0")
print("HYPOTHESES_QUEUED: 0")
sys.exit(int(sys.argv[1]))
"#;

/// A session left open, the worker then silent for a long time (Ctrl-C ends it).
const HANGS: &str = r#"
import sys, time
print("SESSION_START: researcher-2026-11-23T10:15:30", flush=True)
print("PATTERN_FILES_READ: what-works.md, what-fails.md", flush=True)
try:
    print("TASK_START: h-1", flush=True)
    print("worker: waiting", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    print("worker: interrupted", flush=True)
    sys.exit(130)
"#;

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn summary(stderr: &str) -> serde_json::Value {
    json_lines(stderr)
        .into_iter()
        .find(|v| v["kind"] == "summary")
        .unwrap_or_else(|| panic!("no summary in {stderr}"))
}

fn rules(stderr: &str) -> Vec<String> {
    json_lines(stderr)
        .into_iter()
        .filter(|v| v["kind"] == "diagnostic")
        .map(|v| v["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_clean_worker_passes_its_output_through_and_exits_0() {
    let out = qs()
        .args(["run", "--format", "json", "--", "python3", "-c", CLEAN, "0"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("SESSION_START: researcher-2026-11-23T10:15:30\n"));
    assert!(stdout.ends_with("HYPOTHESES_QUEUED: 0\n"), "{stdout:?}");
    let s = summary(&stderr);
    assert_eq!(s["sessions"], 1);
    assert_eq!(s["worker_exit"], "exit:0");
    assert!(rules(&stderr).is_empty(), "{stderr}");
}

#[test]
fn a_non_zero_exit_is_worker_error_exit_and_its_cause() {
    let out = qs()
        .args(["run", "--format", "json", "--", "python3", "-c", CLEAN, "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    // An error by default (SPEC §3: a failed run is never clean) …
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(rules(&stderr), ["worker-error-exit"]);
    assert!(stderr.contains("`exit:3`"), "{stderr}");
    assert_eq!(summary(&stderr)["worker_exit"], "exit:3");
    // … and one that tolerates it says so.
    qs().args([
        "run",
        "--warn",
        "worker-error-exit",
        "--",
        "python3",
        "-c",
        CLEAN,
        "3",
    ])
    .assert()
    .code(0);
}

#[test]
fn a_worker_killed_mid_line_keeps_every_byte_and_its_signal() {
    let script = r#"printf 'SESSION_START: researcher-2026-11-23T10:15:30\nTASK_START: h-1\nTASK_COMPL'; kill -9 $$"#;
    let out = qs()
        .args(["run", "--format", "json", "--", "sh", "-c", script])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.stdout,
        b"SESSION_START: researcher-2026-11-23T10:15:30\nTASK_START: h-1\nTASK_COMPL"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let found = rules(&stderr);
    assert!(
        found.contains(&"missing-session-complete".to_owned()),
        "{found:?}"
    );
    assert!(found.contains(&"worker-error-exit".to_owned()), "{found:?}");
    assert_eq!(summary(&stderr)["worker_exit"], "signal:SIGKILL");
    assert!(
        stderr.contains("the worker exited with `signal:SIGKILL`"),
        "{stderr}"
    );
}

#[test]
fn the_worker_sees_a_terminal_unless_no_pty_and_its_bytes_are_exact() {
    let script = "import os,sys; os.write(1, b'tty=%d\\r\\nraw\\x1b[1m\\n' % sys.stdout.isatty())";
    let out = qs()
        .args(["run", "--", "python3", "-c", script])
        .output()
        .unwrap();
    // No `\n` → `\r\n` on the way: the output is the worker's, byte for byte.
    assert_eq!(out.stdout, b"tty=1\r\nraw\x1b[1m\n");
    let out = qs()
        .args(["run", "--no-pty", "--", "python3", "-c", script])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"tty=0\r\nraw\x1b[1m\n");
}

#[test]
fn stdin_reaches_the_worker_once() {
    for pty in [true, false] {
        let mut args = vec!["run"];
        if !pty {
            args.push("--no-pty");
        }
        args.extend(["--", "python3", "-c", "print('got', input())"]);
        let out = qs().args(&args).write_stdin("hello\n").output().unwrap();
        // Not echoed by the terminal into the output: once, from the worker.
        assert_eq!(out.stdout, b"got hello\n", "pty {pty}");
    }
}

#[test]
fn log_appends_the_raw_output() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pane-1.log");
    std::fs::write(&log, "earlier\n").unwrap();
    qs().args(["run", "--log"])
        .arg(&log)
        .args(["--", "python3", "-c", CLEAN, "0"])
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("earlier\nSESSION_START:"), "{text}");
    assert!(text.ends_with("HYPOTHESES_QUEUED: 0\n"), "{text}");
}

#[test]
fn stop_on_stops_the_worker_at_the_first_such_finding_and_says_why() {
    let started = Instant::now();
    // The hanging worker read its patterns: its first error comes only when it is
    // stopped. A missing PATTERN_FILES_READ is the first error of this one.
    let script = "import time\nprint('SESSION_START: researcher-2026-11-23T10:15:30', flush=True)\nprint('TASK_START: h-1', flush=True)\ntime.sleep(60)\n";
    let out = qs()
        .args([
            "run",
            "--format",
            "json",
            "--stop-on",
            "error",
            "--",
            "python3",
            "-c",
            script,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the worker was not stopped"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stopping the worker") && stderr.contains("patterns-not-read on line 2"),
        "{stderr}"
    );
    // The tool stopped it: its cause says so, and its SIGTERM is not the worker's
    // failure (one finding, no worker-error-exit).
    assert_eq!(summary(&stderr)["worker_exit"], "stopped:patterns-not-read");
    assert_eq!(summary(&stderr)["errors"], 1, "{stderr}");
    assert!(!stderr.contains("worker-error-exit"), "{stderr}");
    // The sink said stop: what came after is passed through, not checked, and said so.
    assert!(
        stderr.contains("checking stopped at line 2 (--stop-on)"),
        "{stderr}"
    );
    // A rule id works too; an unknown one is a usage error.
    qs().args(["run", "--stop-on", "nope", "--", "true"])
        .assert()
        .code(2);
}

#[test]
fn a_worker_stopped_on_a_warning_is_not_a_clean_run() {
    // The worker is stopped at a warning: what it would have printed was never checked,
    // so the verdict cannot be 0.
    let started = Instant::now();
    let script = "import time\nprint('SESSION_START: researcher-2026-11-23T10:15:30', flush=True)\nprint('PATTERN_FILES_READ: what-works.md, what-fails.md', flush=True)\nprint('TASK_COMPLETE: h-9', flush=True)\ntime.sleep(60)\n";
    let out = qs()
        .args([
            "run",
            "--format",
            "json",
            "--stop-on",
            "warning",
            "--",
            "python3",
            "-c",
            script,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the worker was not stopped"
    );
    assert_eq!(rules(&stderr), ["task-not-started"], "{stderr}");
    assert!(
        stderr.contains("checking stopped at line 3 (--stop-on)"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
}

#[test]
fn stale_reports_a_silent_open_session() {
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("quant-session"))
        .args([
            "run", "--format", "json", "--stale", "1s", "--", "python3", "-c", HANGS,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    // Read until the stall is reported (or give up after a generous wait).
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        let n = stderr.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&seen).contains("worker-stalled") {
            break;
        }
    }
    signal(child.id(), libc::SIGTERM);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let all = String::from_utf8_lossy(&seen).into_owned() + &rest;
    assert!(all.contains(r#""rule":"worker-stalled""#), "{all}");
    assert!(all.contains("printed nothing for"), "{all}");
    assert_eq!(status.code(), Some(143), "{all}");
    // It points at the worker's last line, not past the end of its output.
    let stalled: serde_json::Value = all
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["rule"] == "worker-stalled")
        .unwrap();
    assert_eq!(stalled["line"], 4, "worker: waiting: {stalled}");
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a child of this test.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

#[test]
fn ctrl_c_reaches_the_worker_and_the_run_reports_what_it_saw() {
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("quant-session"))
            .args(["run", "--format", "json", "--", "python3", "-c", HANGS])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the worker to be waiting (its handler in place).
        let mut stdout = child.stdout.take().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("worker: waiting\n") {
            let n = stdout.read(&mut buf).unwrap();
            assert!(n > 0, "the worker ended early");
            seen.extend_from_slice(&buf[..n]);
        }
        let sent = Instant::now();
        signal(child.id(), sig);
        let status = child.wait().unwrap();
        assert!(sent.elapsed() < Duration::from_secs(5));
        let mut rest = Vec::new();
        stdout.read_to_end(&mut rest).unwrap();
        seen.extend_from_slice(&rest);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(code), "{stderr}");
        assert!(
            stderr.contains("passed on to the worker"),
            "signal {sig}: {stderr}"
        );
        let found = rules(&stderr);
        assert!(
            found.contains(&"missing-session-complete".to_owned()),
            "{found:?}"
        );
        if sig == libc::SIGINT {
            // The worker's own handler ran: Ctrl-C reached it.
            assert!(
                String::from_utf8_lossy(&seen).contains("worker: interrupted"),
                "{}",
                String::from_utf8_lossy(&seen)
            );
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    qs().args(["run"]).assert().code(2);
    let out = qs()
        .args(["run", "--", "/nonexistent/worker"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run `/nonexistent/worker`"));
    qs().args(["run", "--stale", "soon", "--", "true"])
        .assert()
        .code(2);
}

#[test]
fn run_refuses_two_outputs_at_one_path_and_points_a_failed_exit_at_the_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pane-1.log");
    std::fs::write(&log, "yesterday's pane log\n").unwrap();
    // `--log F` with a report or a baseline at F (however spelled) would overwrite the
    // pane log: refused before the worker starts.
    for clash in [
        vec!["--report".to_owned(), format!("html={}", log.display())],
        vec![
            "--write-baseline".to_owned(),
            format!("{}/./pane-1.log", dir.path().display()),
        ],
    ] {
        let out = qs()
            .args(["run", "--log"])
            .arg(&log)
            .args(&clash)
            .args(["--", "sh", "-c", "echo started > started"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("name one file"), "{stderr}");
        assert!(!dir.path().join("started").exists(), "the worker ran");
    }
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "yesterday's pane log\n"
    );
    // A failed exit points at the worker's last line of output, not past its end; and
    // the command may come without `--`.
    let out = qs()
        .args(["run", "--format", "json", "sh", "-c"])
        .arg("echo 'SESSION_START: researcher-2026-11-23T10:15:30'; echo 'Traceback: boom'; exit 3")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let exit = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["rule"] == "worker-error-exit")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(exit["line"], 2, "{exit}");
}

#[test]
fn what_children_print_after_the_worker_exits_is_read_until_exit_grace() {
    // A launcher that forks and exits: what its child prints afterwards is passed
    // through and checked, on a terminal too (the worker does not lead the terminal's
    // session, so its exit does not hang the terminal up under the child). A child
    // still printing after --exit-grace: said, never clean.
    for pty in [true, false] {
        let mut cmd = qs();
        cmd.args(["run", "--format", "concise"]);
        if !pty {
            cmd.arg("--no-pty");
        }
        let out = cmd
            .args(["--", "sh", "-c"])
            .arg("(sleep 1; echo 'SESSION_START: researcher-2026-11-23T10:15:30'; echo 'TASK_COMPLETE: x') & exit 0")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stdout.contains("TASK_COMPLETE: x"), "pty {pty}: {stdout}");
        assert!(stderr.contains("task-not-started"), "pty {pty}: {stderr}");
    }
    let started = Instant::now();
    let out = qs()
        .args([
            "run",
            "--no-pty",
            "--exit-grace",
            "1s",
            "--format",
            "concise",
            "--",
            "sh",
            "-c",
        ])
        .arg("(sleep 20; echo late) & echo 'SESSION_START: researcher-2026-11-23T10:15:30'; exit 0")
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--exit-grace"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // Its session did not end: it is running, not cut off.
    assert!(!stderr.contains("missing-session-complete"), "{stderr}");
    assert!(
        stderr.contains("still open when reading stopped"),
        "{stderr}"
    );
}

#[test]
fn with_format_json_stderr_is_one_json_lines_stream() {
    // Findings, summary and the tool's notes (the stop, where checking stopped) alike:
    // `2>&1 >/dev/null | jq` reads it whole.
    let out = qs()
        .args(["run", "--format", "json", "--stop-on", "error", "--", "sh", "-c"])
        .arg("echo 'SESSION_START: researcher-2026-11-23T10:15:30'; echo 'PATTERN_FILES_READ: a.md'; sleep 5")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let kinds: Vec<String> = stderr
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}"));
            v["kind"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(kinds.contains(&"note".to_owned()), "{stderr}");
    assert!(kinds.contains(&"summary".to_owned()), "{stderr}");
    let piped = qs()
        .args(["check", "--format", "json"])
        .write_stdin("SESSION_START: researcher-2026-11-23T10:15:30\n")
        .output()
        .unwrap();
    for line in String::from_utf8(piped.stderr).unwrap().lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"));
    }
}
