//! The binary as users run it: pipe filter and file mode, exit codes, which stream
//! gets what, early-closed stdout and a slow producer.

use std::io::{Read, Write};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn qs() -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// `quant-session check` as a pipe filter with piped stdin and stdout.
fn spawn_check(stderr: Stdio) -> std::process::Child {
    StdCommand::new(assert_cmd::cargo::cargo_bin("quant-session"))
        .arg("check")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn pipe_mode_passes_every_byte_through_unchanged() {
    let mut inputs = vec![
        fixture("sessions/clean.log"),
        fixture("grammar/invalid-utf8.log"),
        fixture("grammar/hostile.log"),
        fixture("grammar/ansi-crlf-progress.log"),
        fixture("grammar/no-trailing-newline.log"),
        Vec::new(),
    ];
    for seed in 1..6 {
        inputs.push(noise(200_000, seed));
    }
    for input in inputs {
        let out = qs()
            .arg("check")
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert_eq!(out.stdout, input, "passthrough differs");
        assert!(matches!(out.status.code(), Some(0 | 1)));
    }
}

#[test]
fn pipe_mode_reports_on_stderr_and_exits_1_on_errors() {
    qs().arg("check")
        .write_stdin(fixture("sessions/seed-session-manager.log"))
        .assert()
        .code(1)
        .stdout(predicate::eq(fixture("sessions/seed-session-manager.log")))
        .stderr(
            predicate::str::contains("missing-distillation")
                .and(predicate::str::contains("task-not-started"))
                .and(predicate::str::contains("did not complete").not())
                .and(predicate::str::contains("1 session, 1 error, 2 warnings")),
        );
}

#[test]
fn a_clean_session_exits_0_and_says_so() {
    qs().arg("check")
        .write_stdin(fixture("sessions/clean.log"))
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "completed: 1 task completed, 0 errors, 0 warnings",
        ));
}

#[test]
fn warnings_alone_exit_0() {
    qs().args(["check", "fixtures/rules/task-not-started.log"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("task-not-started"));
}

#[test]
fn pipe_mode_json_goes_to_stderr() {
    let out = qs()
        .args(["check", "--format", "json"])
        .write_stdin(fixture("rules/task-not-completed.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["kind"], "diagnostic");
    assert_eq!(lines[0]["rule"], "task-not-completed");
    assert_eq!(lines[0]["file"], "<stdin>");
    assert_eq!(lines[0]["line"], 11);
    assert_eq!(lines.last().unwrap()["kind"], "summary");
    assert_eq!(lines.last().unwrap()["errors"], 1);
}

#[test]
fn file_mode_reports_on_stdout_only() {
    qs().args([
        "check",
        "fixtures/rules/task-not-completed.log",
        "fixtures/sessions/clean.log",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::is_empty())
    .stdout(
        predicate::str::contains("fixtures/rules/task-not-completed.log:11:1")
            .and(predicate::str::contains(
                "fixtures/sessions/clean.log: 1 session, 0 errors",
            ))
            .and(predicate::str::contains(
                "total: 2 sessions, 1 error, 0 warnings",
            )),
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    qs().args(["check", "no/such/file.log"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/file.log"));
    qs().args(["parse", "fixtures"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a directory"));
    qs().args(["check", "--format", "xml"]).assert().code(2);
    qs().args([
        "check",
        "--strip-prefix",
        "(",
        "fixtures/sessions/clean.log",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("--strip-prefix"));
    qs().args(["parse", "no/such/file.log"]).assert().code(2);
}

#[test]
fn strip_prefix_finds_markers_behind_pane_tags() {
    qs().args([
        "parse",
        "--strip-prefix",
        r"\[pane-\d+\] |\S+Z ",
        "fixtures/grammar/prefixed.log",
    ])
    .assert()
    .code(0)
    .stdout(
        predicate::str::contains(r#""kind":"session_start""#)
            .and(predicate::str::contains(r#""kind":"pattern_files_read""#))
            .and(predicate::str::contains(
                r#""kind":"task_start","task":"h-001","line":3,"column":10"#,
            )),
    );
}

#[test]
fn parse_reads_stdin() {
    qs().arg("parse")
        .write_stdin("x\n  TASK_START: h-9\n")
        .assert()
        .code(0)
        .stdout(
            r#"{"kind":"task_start","task":"h-9","line":2,"column":3,"offset":4}"#.to_owned()
                + "\n",
        );
}

#[test]
fn a_slow_producers_line_is_forwarded_at_once() {
    let mut child = spawn_check(Stdio::null());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin
        .write_all(b"SESSION_START: researcher-2026-11-23T10:15:30\n")
        .unwrap();
    stdin.write_all(b"progress 50%").unwrap();
    stdin.flush().unwrap();
    let start = Instant::now();
    let want = b"SESSION_START: researcher-2026-11-23T10:15:30\nprogress 50%";
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want.len() {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "stdout closed early");
        got.extend_from_slice(&buf[..n]);
    }
    // The producer is still running (stdin open): the bytes came without waiting for it.
    assert_eq!(&got[..], &want[..]);
    assert!(start.elapsed() < Duration::from_secs(5));
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn closed_stdout_stops_quietly() {
    let mut child = spawn_check(Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1 << 16];
        for _ in 0..200 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let status = child.wait().unwrap();
    writer.join().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
}

fn interrupt_with(signal: &str, code: i32) {
    let mut child = spawn_check(Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let sent = b"SESSION_START: researcher-2026-11-23T10:15:30\nTASK_START: h-7\n";
    stdin.write_all(sent).unwrap();
    stdin.flush().unwrap();
    let mut got = vec![0u8; sent.len()];
    stdout.read_exact(&mut got).unwrap();
    assert_eq!(&got[..], &sent[..], "forwarded before the signal");
    let status = StdCommand::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(code), "{stderr}");
    assert!(stderr.contains("missing-session-complete"), "{stderr}");
    assert!(stderr.contains("task-not-completed"), "{stderr}");
    assert!(
        stderr.contains(&format!("interrupted by {signal}")),
        "{stderr}"
    );
    drop(stdin);
}

#[test]
fn sigint_reports_what_was_seen_and_exits_130() {
    interrupt_with("SIGINT", 130);
}

#[test]
fn sigterm_reports_what_was_seen_and_exits_143() {
    interrupt_with("SIGTERM", 143);
}

#[test]
fn a_closed_stderr_does_not_stop_the_passthrough_and_exits_2() {
    let mut child = spawn_check(Stdio::piped());
    drop(child.stderr.take());
    let input = std::fs::read(format!(
        "{}/fixtures/rules/task-not-completed.log",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&input).unwrap();
    drop(stdin);
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert_eq!(out, input);
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

#[test]
fn a_full_disk_for_a_report_is_an_error_exit_2() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    qs().args([
        "check",
        "--report",
        "json=/dev/full",
        "fixtures/rules/task-not-completed.log",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("/dev/full"));
    let input = fixture("rules/task-not-completed.log");
    qs().args(["check", "--report", "json=/dev/full"])
        .write_stdin(input.clone())
        .assert()
        .code(2)
        .stdout(predicate::eq(input));
}

#[test]
fn fifos_and_empty_files_are_read_like_files() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").unwrap();
    qs().arg("check")
        .arg(&empty)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 sessions"));
    let fifo = dir.path().join("pane-0.fifo");
    assert!(
        StdCommand::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, fixture("sessions/clean.log")).unwrap())
    };
    qs().arg("check")
        .arg(&fifo)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("1 session, 0 errors"));
    writer.join().unwrap();
}

#[test]
fn an_unreadable_file_is_named_with_the_reason() {
    // Reading /proc/self/mem from offset 0 fails with EIO, even for root.
    if !std::path::Path::new("/proc/self/mem").exists() {
        return;
    }
    qs().args(["check", "/proc/self/mem", "fixtures/sessions/clean.log"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/proc/self/mem: Input/output error",
        ))
        .stdout(predicate::str::contains(
            "fixtures/sessions/clean.log: 1 session",
        ));
}

#[test]
fn a_terminal_on_stdin_gets_a_hint_instead_of_a_silent_wait() {
    // script(1) gives the command a pseudo-terminal; skip where it is not installed.
    let bin = assert_cmd::cargo::cargo_bin("quant-session");
    let Ok(out) = StdCommand::new("script")
        .args(["-qec", &format!("{} check", bin.display()), "/dev/null"])
        .stdin(Stdio::null())
        .output()
    else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("reading a worker's output from the terminal"),
        "{text}"
    );
}

#[test]
fn a_file_that_grows_while_read_is_checked_up_to_where_reading_ended() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growing.log");
    std::fs::write(&path, fixture("sessions/clean.log")).unwrap();
    let grower = {
        let path = path.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            for _ in 0..2000 {
                f.write_all(b"more prose from a live worker\n").unwrap();
            }
        })
    };
    qs().args(["check", "--format", "json"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(r#""kind":"summary""#));
    grower.join().unwrap();
}

#[test]
fn envelope_presets_strip_log_prefixes() {
    for preset in ["docker", "cri", "github", "journald"] {
        let file = format!("fixtures/envelopes/{preset}.log");
        qs().args(["check", "--strip-prefix", preset, &file])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("1 session, 0 errors, 0 warnings"));
        // Without the preset the markers are behind the prefix: prose, so the input has
        // no session. That is `hidden-markers` (an error), naming the preset, in every
        // format: a wrapped transcript is never a false "clean" — GitHub's too, whose job
        // name (`gh run view --log`'s first column) starts lower-case in the fixture.
        qs().args(["check", &file]).assert().code(1).stdout(
            predicate::str::contains("0 sessions, 1 error").and(predicate::str::contains(format!(
                "--strip-prefix {preset}`"
            ))),
        );
        qs().args(["check", "--format", "github", &file])
            .assert()
            .code(1)
            .stdout(predicate::str::contains("title=hidden-markers::").and(
                predicate::str::contains(format!("--strip-prefix {preset}`")),
            ));
    }
}

#[test]
fn on_disk_transcripts_count_the_worker_not_its_sidechains() {
    for input in ["auto", "transcript"] {
        qs().args(["check", "--format", "json", "--input", input])
            .arg("fixtures/transcripts/clean-session.log")
            .assert()
            .code(0)
            .stdout(predicate::str::starts_with(
                r#"{"kind":"summary","file":"fixtures/transcripts/clean-session.log","sessions":1,"errors":0,"warnings":0,"records":"#,
            ));
    }
}

/// A stream-json session whose `Bash` call prints `big` bytes of output with markers at
/// both ends; the output appears twice in its record (`content` and
/// `tool_use_result.stdout`), as Claude Code writes it.
fn stream_with_a_huge_tool_result(big: usize) -> Vec<u8> {
    let filler = "backtest fold 7: sharpe 0.41, turnover 1.2\n".repeat(big / 43);
    let output = format!("TASK_START: h-big\n{filler}FILES_CREATED: 0\nTASK_COMPLETE: h-big\n");
    let escaped = serde_json::to_string(&output).unwrap();
    let mut s = String::new();
    s.push_str(r#"{"type":"system","subtype":"init","session_id":"s","tools":["Bash"]}"#);
    s.push('\n');
    s.push_str(r#"{"type":"assistant","message":{"content":[{"type":"text","text":"SESSION_START: researcher-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md"}]},"parent_tool_use_id":null}"#);
    s.push('\n');
    s.push_str(r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_big","name":"Bash","input":{"command":"python3 worker.py"}}]},"parent_tool_use_id":null}"#);
    s.push('\n');
    s.push_str(&format!(
        r#"{{"type":"user","message":{{"content":[{{"type":"tool_result","tool_use_id":"toolu_big","content":{escaped},"is_error":false}}]}},"parent_tool_use_id":null,"tool_use_result":{{"stdout":{escaped},"stderr":""}}}}"#
    ));
    s.push('\n');
    s.push_str(r#"{"type":"assistant","message":{"content":[{"type":"text","text":"@sigma-distiller: Analyze.\nDISTILLATION_COMPLETE\nPATTERNS_UPDATED: what-works.md (+1 entry)\nSESSION_COMPLETE: researcher-2026-11-23T10:15:30\nDURATION: 5m\nTASKS_COMPLETED: 1\nSTRATEGIES_PRODUCED: 0\nHYPOTHESES_QUEUED: 0"}]},"parent_tool_use_id":null}"#);
    s.push('\n');
    s.push_str(r#"{"type":"result","subtype":"success","is_error":false,"num_turns":3}"#);
    s.push('\n');
    s.into_bytes()
}

#[test]
fn markers_deep_inside_a_50_mb_tool_result_are_found_and_passed_through() {
    let input = stream_with_a_huge_tool_result(50 << 20);
    assert!(input.len() > 100 << 20);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    std::fs::write(&path, &input).unwrap();
    // The task starts at the beginning of the output and completes 50 MB later: a
    // skipped or half-read record would leave it open (task-not-completed).
    qs().args(["check", "--format", "json"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            r#""sessions":1,"errors":0,"warnings":0,"records":6,"unknown_records":0,"broken_records":0,"#,
        ));
    let out = qs()
        .arg("check")
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout == input,
        "passthrough of a 100 MB line is byte-exact"
    );
}

#[test]
fn a_torn_last_record_of_a_killed_worker_is_counted_not_fatal() {
    let mut input = stream_with_a_huge_tool_result(1 << 20);
    input.truncate(input.len() - 200);
    let out = qs()
        .arg("check")
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(out.stdout, input);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("missing-session-complete"), "{stderr}");
}

#[test]
fn a_large_file_read_in_parallel_blocks_reports_what_stdin_does() {
    // Over 32 MiB, a regular file is scanned in blocks on every core; stdin is read in
    // one pass. The two reports must be the same, byte for byte.
    let mut text = Vec::new();
    let sessions = [
        fixture("sessions/multi-session.log"),
        fixture("rules/summary-mismatch.log"),
        fixture("grammar/malformed.log"),
        fixture("sessions/crashed-mid-task.log"),
        fixture("grammar/ansi-crlf-progress.log"),
    ];
    let mut i = 0;
    while text.len() < 40 << 20 {
        text.extend_from_slice(&sessions[i % sessions.len()]);
        text.extend_from_slice(&noise(1000 + i % 5000, i as u64 + 1));
        text.push(b'\n');
        i += 1;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    std::fs::write(&path, &text).unwrap();
    let from_file = qs()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let from_stdin = qs()
        .args(["check", "--format", "json", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    // The fingerprints hash the input's name: compared without them.
    let unprinted = |text: &str| -> String {
        text.lines()
            .map(|l| match l.find(",\"fingerprint\":\"") {
                Some(i) => format!("{}{}", &l[..i], &l[i + 49..]),
                None => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let file_report = unprinted(&String::from_utf8(from_file.stdout).unwrap());
    let stdin_report = unprinted(&String::from_utf8(from_stdin.stdout).unwrap());
    assert!(file_report.lines().count() > 1000, "{file_report:.500}");
    assert_eq!(
        file_report.replace(&path.display().to_string(), "<stdin>"),
        stdin_report
    );
    assert_eq!(from_file.status.code(), from_stdin.status.code());
}

#[test]
fn a_report_shows_the_start_of_a_long_line_not_all_of_it() {
    // A marker whose payload runs on for 200 KB: the finding is reported, and the human
    // report quotes the line's start, cut with an ellipsis.
    let mut input = b"SESSION_START: researcher-2026-11-23T10:15:30 ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 200_000));
    input.push(b'\n');
    let out = qs()
        .arg("check")
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(out.stdout, input);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("malformed-marker"), "{stderr}");
    assert!(stderr.contains("x …"), "{stderr}");
    assert!(stderr.len() < 8000, "{} bytes of report", stderr.len());
}

#[test]
fn a_session_files_subagents_are_read_from_beside_it() {
    // Claude Code 2.1 keeps a subagent's records in <session>/subagents/agent-<id>.jsonl;
    // the file the backtester subagent writes counts for its task's FILES_CREATED.
    let summary = r#""sessions":1,"errors":0,"warnings":0"#;
    qs().args([
        "check",
        "--format",
        "json",
        "fixtures/transcripts/subagent-files.log",
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::contains(summary));
    // The same session file without its subagents directory: the file is not seen.
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join("subagent-files.log");
    std::fs::copy("fixtures/transcripts/subagent-files.log", &alone).unwrap();
    qs().args(["check", "--format", "json"])
        .arg(&alone)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            r#""rule":"unbacked-files-created","severity""#,
        ));
}

#[test]
fn pipe_mode_passes_megabytes_through_byte_for_byte() {
    // Stdin and stdout are both pipes here: the tee(2) path on Linux, where the bytes
    // forwarded and the bytes checked must be the same ones, in order.
    let mut input = Vec::new();
    let mut i = 0u64;
    while input.len() < 8 << 20 {
        input.extend_from_slice(&fixture("sessions/multi-session.log"));
        input.extend_from_slice(&noise(3000 + (i as usize % 7000), i + 1));
        input.extend_from_slice(b"\xff\x00\r\n");
        i += 1;
    }
    let out = qs()
        .arg("check")
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(out.stdout.len(), input.len());
    assert!(
        out.stdout == input,
        "the passthrough differs from the input"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{} sessions", 3 * i)),
        "{stderr:.400}"
    );
    // Written in small pieces of every size, as a worker prints: each arrives alone.
    let bin = assert_cmd::cargo::cargo_bin("quant-session");
    let mut child = StdCommand::new(bin)
        .arg("check")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let piece_input = input[..1 << 20].to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut at = 0;
        let mut k = 1usize;
        while at < piece_input.len() {
            let len = (k * 7919 % 9000 + 1).min(piece_input.len() - at);
            stdin.write_all(&piece_input[at..at + len]).unwrap();
            stdin.flush().unwrap();
            at += len;
            k += 1;
            if k.is_multiple_of(16) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    });
    let mut got = Vec::new();
    std::io::Read::read_to_end(child.stdout.as_mut().unwrap(), &mut got).unwrap();
    writer.join().unwrap();
    child.wait().unwrap();
    assert!(
        got == input[..1 << 20],
        "small pieces: the passthrough differs"
    );
}

/// A large file truncated while file mode reads it through its mappings: the read
/// ends in an I/O error (exit 2) naming what happened, not a crash (SIGBUS) nor a
/// report on half a file. The tool is stopped as soon as it has mapped a block of the
/// file, the file truncated, and the tool let go on.
#[cfg(target_os = "linux")]
#[test]
fn a_file_truncated_while_it_is_read_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    {
        let mut session = Vec::new();
        session.extend_from_slice(b"SESSION_START: researcher-2026-11-23T10:15:30\n");
        for i in 0..2000 {
            writeln!(
                session,
                "TASK_START: t-{i}\nsome prose of the worker about t-{i}\nTASK_COMPLETE: t-{i}"
            )
            .unwrap();
        }
        session.extend_from_slice(b"SESSION_COMPLETE: researcher-2026-11-23T10:15:30\n\n");
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut written = 0;
        while written < 256 << 20 {
            file.write_all(&session).unwrap();
            written += session.len();
        }
    }
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("quant-session"))
        .args(["check", "--format", "json"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let maps = format!("/proc/{pid}/maps");
    let name = path.to_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut caught = false;
    while Instant::now() < deadline {
        if std::fs::read_to_string(&maps).is_ok_and(|m| m.contains(&name)) {
            // SAFETY: signalling the child we spawned.
            unsafe { libc::kill(pid, libc::SIGSTOP) };
            caught = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
    }
    if !caught {
        // The tool read the whole file before a mapping was seen: nothing to test on
        // this machine this time (it must still have succeeded).
        assert!(child.wait().unwrap().success());
        eprintln!("skipped: the file was read before it could be truncated");
        return;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the file shrank while it was read"),
        "{stderr}"
    );
}
