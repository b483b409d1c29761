//! `quant-session watch` through the binary (SPEC §8): JSON Lines on a temporary
//! directory written to by the test (appends, a new file, rotation, truncation, a
//! silent open session), and the board driven in a real terminal through tmux. Timings
//! are generous: every wait is "until it shows, or give up after many seconds".

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// The watch's JSON Lines, read on a thread as they come.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
}

impl Watch {
    fn start(args: &[&str], dir: &Path) -> Watch {
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("quant-session"))
            .arg("watch")
            .args(args)
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line that `want` accepts (seen before, or coming).
    fn expect(
        &mut self,
        what: &str,
        want: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        if let Some(v) = self.seen.iter().find(|v| want(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + WAIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if want(&v) {
                        return v;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no {what} within {WAIT:?}; seen: {:#?}", self.seen);
    }

    /// Ends the watch with `sig`; returns its exit code and every line it wrote.
    fn stop(mut self, sig: i32) -> (Option<i32>, Vec<serde_json::Value>) {
        // SAFETY: kill(2) on a child of this test.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
        let status = self.child.wait().unwrap();
        while let Ok(v) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(v);
        }
        (status.code(), std::mem::take(&mut self.seen))
    }
}

impl Drop for Watch {
    /// A test that fails before stopping the watch leaves nothing running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn is(v: &serde_json::Value, kind: &str, file: &str) -> bool {
    v["kind"] == kind && v["file"].as_str().is_some_and(|f| f.ends_with(file))
}

#[test]
fn json_lines_follow_appends_new_files_rotation_truncation_and_silence() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("pane-1.log");
    append(
        &one,
        "SESSION_START: researcher-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md\n",
    );
    let mut w = Watch::start(&["--format", "json", "--stale", "2s"], dir.path());
    // What was there is read from the start.
    let start = w.expect("session start", |v| {
        is(v, "session", "pane-1.log") && v["event"] == "start"
    });
    assert_eq!(start["session"], "researcher-2026-11-23T10:15:30");
    assert_eq!(start["line"], 1);
    // An append: its finding comes as its line is written.
    append(&one, "TASK_COMPLETE: h-9\n");
    let f = w.expect("task-not-started", |v| v["rule"] == "task-not-started");
    assert_eq!(f["line"], 3);
    // A silent open session.
    let stalled = w.expect("worker-stalled", |v| v["rule"] == "worker-stalled");
    assert!(stalled["file"].as_str().unwrap().ends_with("pane-1.log"));
    // A new file.
    let two = dir.path().join("pane-2.log");
    append(&two, "SESSION_START: converter-2026-11-23T10:15:30\n");
    w.expect("pane-2 start", |v| {
        is(v, "session", "pane-2.log") && v["event"] == "start"
    });
    // Rotation: renamed away and created again. The old one is finished and summed up.
    std::fs::rename(&one, dir.path().join("pane-1.log.1")).unwrap();
    append(&one, "SESSION_START: researcher-2026-11-23T11:00:00\n");
    w.expect("crashed old session", |v| {
        is(v, "session", "pane-1.log") && v["event"] == "crashed"
    });
    let summary = w.expect("pane-1 summary", |v| is(v, "summary", "pane-1.log"));
    assert_eq!(summary["sessions"], 1);
    w.expect("new session after rotation", |v| {
        is(v, "session", "pane-1.log") && v["session"] == "researcher-2026-11-23T11:00:00"
    });
    // Truncation: started over, with a note.
    std::fs::write(&two, "").unwrap();
    let note = w.expect("truncation note", |v| is(v, "note", "pane-2.log"));
    assert!(
        note["message"].as_str().unwrap().contains("truncated"),
        "{note}"
    );
    append(
        &two,
        "SESSION_START: converter-2026-11-23T12:00:00\nSESSION_COMPLETE: converter-2026-11-23T12:00:00\n",
    );
    w.expect("pane-2 complete", |v| {
        is(v, "session", "pane-2.log")
            && v["session"] == "converter-2026-11-23T12:00:00"
            && v["event"] == "start"
    });
    // SIGINT ends it with a summary per file, exit 130.
    let (code, all) = w.stop(libc::SIGINT);
    assert_eq!(code, Some(130));
    let last_summaries: Vec<&serde_json::Value> = all
        .iter()
        .rev()
        .take_while(|v| v["kind"] != "note")
        .filter(|v| v["kind"] == "summary")
        .collect();
    assert!(
        last_summaries
            .iter()
            .any(|v| v["file"].as_str().unwrap().ends_with("pane-1.log")),
        "{all:#?}"
    );
    assert!(
        last_summaries
            .iter()
            .any(|v| v["file"].as_str().unwrap().ends_with("pane-2.log")),
        "{all:#?}"
    );
}

#[test]
fn from_end_skips_what_is_there_and_summaries_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let summaries = dir.path().join("summaries");
    let one = logs.join("pane-3.log");
    append(&one, "TASK_COMPLETE: old-1\n");
    let mut w = Watch::start(
        &[
            "--format",
            "json",
            "--from-end",
            "--summaries",
            summaries.to_str().unwrap(),
        ],
        &logs,
    );
    // Give it a moment to open the file at its end, then write a whole session.
    std::thread::sleep(Duration::from_millis(500));
    append(
        &one,
        "SESSION_START: optimizer-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md\n@sigma-distiller: distill\nDISTILLATION_COMPLETE\nPATTERNS_UPDATED: what-works.md (+1 entries)\nSESSION_COMPLETE: optimizer-2026-11-23T10:15:30\nDURATION: 1m\nTASKS_COMPLETED: 0\nSTRATEGIES_PRODUCED: 0\nHYPOTHESES_QUEUED: 0\nTASK_START: next\n",
    );
    w.expect("complete", |v| {
        is(v, "session", "pane-3.log") && v["event"] == "complete"
    });
    let (code, all) = w.stop(libc::SIGTERM);
    assert_eq!(code, Some(143));
    assert!(
        !all.iter()
            .any(|v| v["message"].as_str().is_some_and(|m| m.contains("old-1"))),
        "the old line was read: {all:#?}"
    );
    let md = std::fs::read_to_string(summaries.join("pane-3.md")).unwrap();
    assert!(md.contains("optimizer-2026-11-23T10:15:30"), "{md}");
}

fn tmux(args: &[&str]) -> String {
    let out = StdCommand::new("tmux").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session])
}

fn wait_for(session: &str, what: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = screen(session);
        if s.contains(what) || Instant::now() > deadline {
            assert!(s.contains(what), "no {what:?} on the screen:\n{s}");
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_board_in_a_real_terminal() {
    if StdCommand::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed (.ci/run installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    append(
        &dir.path().join("pane-1.log"),
        "SESSION_START: researcher-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md\nTASK_START: h-017\nSUBAGENT_SPAWN: @quant-backtester\n",
    );
    append(
        &dir.path().join("pane-2.log"),
        "SESSION_START: converter-2026-11-23T10:15:30\nTASK_START: c-1\n",
    );
    let session = format!("qs-board-{}", std::process::id());
    open_board(&session, (150, 20), dir.path());
    let s = wait_for(&session, "pane-2.log");
    assert!(s.contains("researcher-2026-11-23T10:15:30"), "{s}");
    assert!(s.contains("h-017") && s.contains("tasks"), "{s}");
    // A finding appears on its row as it is written.
    append(&dir.path().join("pane-1.log"), "TASK_COMPLETE: nope\n");
    wait_for(&session, "task-not-started");
    // Open the second pane's findings, go back, quit.
    tmux(&["send-keys", "-t", &session, "Down"]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    let detail = wait_for(&session, "patterns-not-read");
    assert!(detail.contains("pane-2.log"), "{detail}");
    tmux(&["send-keys", "-t", &session, "Escape"]);
    wait_for(&session, "LATEST FINDING");
    let end = quit_board(&session);
    // The terminal is back to normal: the summaries and the exit status are printed.
    assert!(end.contains("pane-1.log: 1 session"), "{end}");
    assert!(end.contains("EXIT=1"), "{end}");
}

/// Starts the board on `dir` in a tmux session of `size` (columns, rows).
fn open_board(session: &str, size: (u16, u16), dir: &Path) {
    let command = format!(
        "{} watch --color never {}; echo EXIT=$?; sleep 60",
        assert_cmd::cargo::cargo_bin("quant-session").display(),
        dir.display()
    );
    let (width, height) = (size.0.to_string(), size.1.to_string());
    tmux(&[
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        &width,
        "-y",
        &height,
        &command,
    ]);
}

/// Quits the board with `q`: the screen after it, with its exit status.
fn quit_board(session: &str) -> String {
    tmux(&["send-keys", "-t", session, "q"]);
    let end = wait_for(session, "EXIT=");
    tmux(&["kill-session", "-t", session]);
    end
}

#[test]
fn checkpoints_are_compared_as_sessions_end() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let checkpoints = dir.path().join("checkpoints");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(&checkpoints).unwrap();
    // What the seed's save_checkpoint leaves when json.dump fails on a datetime.
    std::fs::write(
        checkpoints.join("pane-5.json"),
        "{\"state\": {\"worker_type\": \"researcher\", \"start_time\": ",
    )
    .unwrap();
    let mut w = Watch::start(
        &[
            "--format",
            "json",
            "--checkpoints",
            checkpoints.to_str().unwrap(),
        ],
        &logs,
    );
    append(
        &logs.join("pane-5.log"),
        "SESSION_START: researcher-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md\nTASK_START: h-1\nTASK_COMPLETE: h-1\n@sigma-distiller: distill\nDISTILLATION_COMPLETE\nPATTERNS_UPDATED: what-works.md (+1 entries)\nSESSION_COMPLETE: researcher-2026-11-23T10:15:30\nDURATION: 1m\nTASKS_COMPLETED: 1\nSTRATEGIES_PRODUCED: 0\nHYPOTHESES_QUEUED: 0\n",
    );
    // The completion block ends with the next marker or the file: a next session.
    append(
        &logs.join("pane-5.log"),
        "SESSION_START: researcher-2026-11-23T11:15:30\n",
    );
    let f = w.expect("checkpoint-problem", |v| v["rule"] == "checkpoint-problem");
    assert!(f["message"].as_str().unwrap().contains("truncated"), "{f}");
    let (code, all) = w.stop(libc::SIGINT);
    assert_eq!(code, Some(130));
    let count = all
        .iter()
        .filter(|v| v["rule"] == "checkpoint-problem")
        .count();
    // Once, for the first session as it ended. The second is still running when the
    // watch stops: not judged, so not compared with a checkpoint its worker will
    // write again.
    assert_eq!(count, 1, "{all:#?}");
}

#[test]
fn reports_beside_the_watch_are_complete_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let html = dir.path().join("fleet.html");
    let trace = dir.path().join("fleet.trace.json");
    let junit = dir.path().join("fleet.junit.xml");
    let mut w = Watch::start(
        &[
            "--format",
            "json",
            "--report",
            &format!("html={}", html.display()),
            "--report",
            &format!("perfetto={}", trace.display()),
            "--report",
            &format!("junit={}", junit.display()),
        ],
        &logs,
    );
    append(
        &logs.join("pane-1.log"),
        "SESSION_START: researcher-2026-11-23T10:15:30\nTASK_START: h-1\n",
    );
    w.expect("start", |v| {
        is(v, "session", "pane-1.log") && v["event"] == "start"
    });
    // Not there before the watch ends: a report is never half-written.
    assert!(!html.exists());
    assert!(!junit.exists());
    let (code, _) = w.stop(libc::SIGTERM);
    assert_eq!(code, Some(143));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(&format!(
            "<testcase name=\"researcher-2026-11-23T10:15:30\" classname=\"{}\">",
            logs.join("pane-1.log").display()
        )) && xml.contains("type=\"patterns-not-read\"")
            && xml.ends_with("</testsuites>\n"),
        "{xml}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("session researcher-2026-11-23T10:15:30") && page.ends_with("</html>\n"),
        "{page}"
    );
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    assert!(
        t["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["cat"] == "task" && e["name"] == "h-1")
    );
    // A report inside a watched directory is refused: it would be watched.
    let out = StdCommand::new(assert_cmd::cargo::cargo_bin("quant-session"))
        .args(["watch", "--format", "json", "--report"])
        .arg(format!("json={}", logs.join("report.log").display()))
        .arg(&logs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

const CLEAN: &str = include_str!("../fixtures/sessions/clean.log");

#[test]
fn stopping_the_watch_is_not_a_crash_of_the_workers() {
    // A worker mid-task, one that completed, one whose log was last written three hours
    // ago (dead while its session was open), and a gzip cut short.
    let dir = tempfile::tempdir().unwrap();
    let sums = tempfile::tempdir().unwrap();
    append(
        &dir.path().join("pane-1.log"),
        "SESSION_START: researcher-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md\nTASK_START: h-1\n",
    );
    append(&dir.path().join("pane-2.log"), CLEAN);
    let old = dir.path().join("pane-3.log");
    append(
        &old,
        "SESSION_START: backtester-2026-11-23T07:00:00\nPATTERN_FILES_READ: what-works.md, what-fails.md\nTASK_START: b-1\n",
    );
    let three_hours_ago = std::time::SystemTime::now() - Duration::from_secs(3 * 3600);
    std::fs::File::options()
        .append(true)
        .open(&old)
        .unwrap()
        .set_modified(three_hours_ago)
        .unwrap();
    let mut w = Watch::start(
        &[
            "--format",
            "json",
            "--summaries",
            sums.path().to_str().unwrap(),
        ],
        dir.path(),
    );
    // The dead pane is stalled at once (--stale is 15 minutes), not "2s ago".
    let stalled = w.expect("worker-stalled", |v| v["rule"] == "worker-stalled");
    assert!(
        stalled["file"].as_str().unwrap().ends_with("pane-3.log"),
        "{stalled}"
    );
    w.expect("pane-2 complete", |v| {
        is(v, "session", "pane-2.log") && v["event"] == "complete"
    });
    let (code, all) = w.stop(libc::SIGINT);
    assert_eq!(code, Some(130));
    // The running session is said to be running, not reported as crashed.
    assert!(
        !all.iter().any(|v| v["rule"] == "missing-session-complete"
            || v["rule"] == "task-not-completed"
            || v["event"] == "crashed"),
        "{all:#?}"
    );
    let note = all
        .iter()
        .find(|v| is(v, "note", "pane-1.log"))
        .unwrap_or_else(|| panic!("no note for pane-1: {all:#?}"));
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .contains("still open when the watch stopped"),
        "{note}"
    );
    // The completed pane's summary file is written.
    let md = std::fs::read_to_string(sums.path().join("pane-2.md")).unwrap();
    assert!(md.contains("researcher-2026-11-23T10:15:30.123456"), "{md}");
}

#[test]
fn the_watch_never_follows_its_own_output_and_one_pane_s_trouble_stays_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("pane-1.log");
    let two = dir.path().join("pane-2.log");
    append(
        &one,
        "SESSION_START: researcher-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md\n",
    );
    append(&two, "SESSION_START: converter-2026-11-23T10:15:30\n");
    // `watch --format json DIR > DIR/out.log`.
    let out = dir.path().join("out.log");
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("quant-session"))
        .args(["watch", "--format", "json"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wait_in_out = |what: &str| {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = std::fs::read_to_string(&out).unwrap();
            if text.contains(what) {
                return text;
            }
            assert!(Instant::now() < deadline, "no {what} in:\n{text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_in_out("converter-2026-11-23T10:15:30");
    // A followed file replaced by a directory: that pane's note; the watch goes on.
    std::fs::remove_file(&two).unwrap();
    std::fs::create_dir(&two).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    append(&one, "TASK_COMPLETE: h-9\n");
    let text = wait_in_out("task-not-started");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the watch ended:\n{text}"
    );
    // SAFETY: kill(2) on a child of this test.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !text.contains("out.log"),
        "it followed its own output:\n{text}"
    );
}

#[test]
fn the_board_fits_the_terminal_and_counts_what_state_counts() {
    if StdCommand::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed (.ci/run installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // clean.log: FILES_CREATED 3 in its task, and 3 again in its completion block.
    append(&dir.path().join("pane-1.log"), CLEAN);
    // A nested SESSION_START: the new session is starting, not crashed.
    append(
        &dir.path().join("pane-2.log"),
        "SESSION_START: converter-2026-11-23T10:15:30.000001\nSESSION_START: converter-2026-11-23T10:15:30.000002\n",
    );
    for width in [80, 200] {
        let session = format!("qs-fit-{}-{width}", std::process::id());
        open_board(&session, (width, 24), dir.path());
        let s = wait_for(&session, "complete");
        let row = |pane: &str| {
            s.lines()
                .find(|l| l.contains(pane))
                .unwrap_or_else(|| panic!("no {pane} row:\n{s}"))
                .to_owned()
        };
        let one = row("pane-1");
        let two = row("pane-2");
        assert!(
            one.split_whitespace().any(|w| w == "3"),
            "FILES 3: {one}\n{s}"
        );
        assert!(
            !one.split_whitespace().any(|w| w == "6"),
            "counted twice: {one}"
        );
        assert!(
            two.contains("start") && !two.contains("crashed"),
            "{two}\n{s}"
        );
        if width >= 200 {
            assert!(
                one.contains("researcher-2026-11-23T10:15:30.123456"),
                "{one}"
            );
            assert!(s.contains("LATEST FINDING"), "{s}");
        } else {
            // The end of the id, which tells two sessions of one second apart.
            assert!(two.contains("30.000002"), "{two}\n{s}");
            assert!(s.lines().all(|l| l.chars().count() <= 80), "{s}");
        }
        let end = quit_board(&session);
        assert!(end.contains("EXIT=1"), "nested-session is an error: {end}");
    }
}

#[test]
fn a_block_field_that_comes_late_is_read_as_check_reads_it() {
    // The session's end is told once its file is silent after the completion block,
    // but the block stays open: a field written seconds later is the block's, not a
    // marker outside any session, and nothing is reported missing.
    let dir = tempfile::tempdir().unwrap();
    let pane = dir.path().join("pane-1.log");
    let (head, last) = CLEAN.trim_end().rsplit_once('\n').unwrap();
    append(&pane, &format!("{head}\n"));
    let mut w = Watch::start(&["--format", "json"], dir.path());
    w.expect("complete", |v| {
        is(v, "session", "pane-1.log") && v["event"] == "complete"
    });
    std::thread::sleep(Duration::from_millis(1500));
    append(&pane, &format!("{last}\n"));
    std::thread::sleep(Duration::from_millis(1000));
    let (code, all) = w.stop(libc::SIGTERM);
    assert_eq!(code, Some(143));
    let diagnostics: Vec<_> = all.iter().filter(|v| v["kind"] == "diagnostic").collect();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let summary = all.iter().find(|v| is(v, "summary", "pane-1.log")).unwrap();
    assert_eq!(summary["errors"], 0);
    assert_eq!(summary["warnings"], 0);
}

/// Agent health on the board: the USAGE column (tokens and cost as the CLI reported
/// them), a CLI waiting on a rate limit shown as `rate-limited` (not stalled, however long
/// it waits), and the column gone on an 80-column board.
#[test]
fn the_board_shows_usage_and_rate_limit_waits() {
    if StdCommand::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed (.ci/run installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let stream = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/budget-exceeded.log"),
    )
    .unwrap();
    append(&dir.path().join("pane-1.log"), &stream);
    // A worker mid-task whose CLI hit its limit and waits for the reset.
    let head: String = stream.lines().take(8).map(|l| format!("{l}\n")).collect();
    append(
        &dir.path().join("pane-2.log"),
        &format!(
            "{head}{}\n",
            r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":4102444800,"rateLimitType":"five_hour"},"session_id":"s"}"#
        ),
    );
    let session = format!("qs-usage-{}", std::process::id());
    let command = format!(
        "{} watch --stale 1s --color never {}; echo EXIT=$?; sleep 60",
        assert_cmd::cargo::cargo_bin("quant-session").display(),
        dir.path().display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "150",
        "-y",
        "24",
        &command,
    ]);
    let s = wait_for(&session, "rate-limited");
    assert!(s.contains("USAGE"), "{s}");
    assert!(s.contains("127k $1.87"), "{s}");
    // Past --stale, still waiting: no worker-stalled.
    std::thread::sleep(Duration::from_millis(2500));
    let s = screen(&session);
    let two = s.lines().find(|l| l.contains("pane-2")).unwrap().to_owned();
    assert!(
        two.contains("rate-limited") && !two.contains("stalled"),
        "{s}"
    );
    quit_board(&session);

    let narrow = format!("qs-usage80-{}", std::process::id());
    open_board(&narrow, (80, 24), dir.path());
    let s = wait_for(&narrow, "rate-limited");
    assert!(!s.contains("USAGE"), "{s}");
    assert!(s.lines().all(|l| l.chars().count() <= 80), "{s}");
    quit_board(&narrow);
}
