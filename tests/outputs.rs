//! The output contract through the binary (issue 25): every command feeds every report
//! the same way. The same worker output gives the same pictures from `check` on a
//! file, `check` as a pipe, `run` and `watch`; a collector that fails is said under
//! every command, never stops the checking, and makes the run exit 2.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

const FIXTURE: &str = "fixtures/sessions/multi-session.log";

fn qs() -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.timeout(Duration::from_secs(60));
    c
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)
}

/// Every JSON value in `text`, whether one document or one per line.
fn values(text: &str) -> Vec<serde_json::Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<serde_json::Value>()
        .map(|v| v.unwrap())
        .collect()
}

/// What a picture shows, without when: the names of its bars and marks.
fn drawn(format: &str, text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    match format {
        "perfetto" => {
            for v in values(text) {
                for e in v["traceEvents"].as_array().unwrap() {
                    if matches!(e["ph"].as_str(), Some("X" | "i")) {
                        names.insert(format!("{} {}", e["ph"], e["name"]));
                    }
                }
            }
        }
        "otlp" => {
            for v in values(text) {
                for rs in v["resourceSpans"].as_array().unwrap() {
                    for ss in rs["scopeSpans"].as_array().unwrap() {
                        for span in ss["spans"].as_array().unwrap() {
                            names.insert(format!("span {}", span["name"]));
                            for e in span["events"].as_array().into_iter().flatten() {
                                names.insert(format!("event {}", e["name"]));
                            }
                        }
                    }
                }
            }
        }
        "html" => {
            assert!(!text.contains("no session started"), "{text}");
            // The session and task ids of the fixture, as the page shows them.
            for name in [
                "researcher-2026-11-23T10:15:30.123456",
                "converter-2026-11-23T11:05:00",
                "backtester-2026-11-23 12:00:00.5",
                "h-017",
                "c-003",
                "b-009",
                "missing-session-complete",
            ] {
                if text.contains(name) {
                    names.insert(name.to_owned());
                }
            }
        }
        _ => unreachable!(),
    }
    names
}

/// `check FILE --report FMT=OUT`.
fn from_file(format: &str, dir: &Path) -> String {
    let out = dir.join(format!("file.{format}"));
    qs().args(["check", "--report"])
        .arg(format!("{format}={}", out.display()))
        .arg(fixture())
        .assert()
        .code(1);
    std::fs::read_to_string(out).unwrap()
}

/// `cat FILE | check --report FMT=OUT`.
fn from_pipe(format: &str, dir: &Path) -> String {
    let out = dir.join(format!("pipe.{format}"));
    let input = std::fs::read(fixture()).unwrap();
    qs().args(["check", "--report"])
        .arg(format!("{format}={}", out.display()))
        .write_stdin(input.clone())
        .assert()
        .code(1)
        .stdout(input);
    std::fs::read_to_string(out).unwrap()
}

/// `run --report FMT=OUT -- cat FILE`.
fn from_run(format: &str, dir: &Path) -> String {
    let out = dir.join(format!("run.{format}"));
    let input = std::fs::read(fixture()).unwrap();
    qs().args(["run", "--no-pty", "--report"])
        .arg(format!("{format}={}", out.display()))
        .arg("--")
        .arg("cat")
        .arg(fixture())
        .assert()
        .code(1)
        .stdout(input);
    std::fs::read_to_string(out).unwrap()
}

/// `watch --format json --report FMT=OUT DIR` over a copy of the file, stopped with
/// SIGINT once it has read the last session.
fn from_watch(format: &str, dir: &Path) -> String {
    let logs = dir.join(format!("logs-{format}"));
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::copy(fixture(), logs.join("pane-0.log")).unwrap();
    let out = dir.join(format!("watch.{format}"));
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("quant-session"))
        .args(["watch", "--format", "json", "--report"])
        .arg(format!("{format}={}", out.display()))
        .arg(&logs)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    // The third session's start, then its last finding or marker: wait for the line of
    // its task's completion to have been read (the session line of its start is told
    // before), then a moment for the rest of the file.
    loop {
        assert!(Instant::now() < deadline, "the watch never read the file");
        let Some(Ok(line)) = lines.next() else {
            panic!("the watch ended early")
        };
        if line.contains("backtester-2026-11-23 12:00:00.5") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(700));
    // SAFETY: kill(2) on a child of this test.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    for _ in lines.by_ref() {}
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn every_command_draws_the_same_pictures_of_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["perfetto", "otlp", "html"] {
        let file = drawn(format, &from_file(format, dir.path()));
        assert!(
            file.len() >= 7,
            "{format}: the file's picture draws too little: {file:?}"
        );
        for (command, text) in [
            ("check (pipe)", from_pipe(format, dir.path())),
            ("run", from_run(format, dir.path())),
            ("watch", from_watch(format, dir.path())),
        ] {
            let mut file = file.clone();
            if command == "watch" {
                // The watch stops while the input's last session is open: its worker
                // may be running, so it is not reported as cut off.
                file.retain(|mark| !mark.contains("missing-session-complete"));
            }
            assert_eq!(
                drawn(format, &text),
                file,
                "{command} --report {format}= draws other things than check on the file"
            );
        }
    }
}

/// A collector on 127.0.0.1 that answers every request `500`, counting them.
fn failing_collector() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            seen.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 {
                    break;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, count)
}

/// The `summary` objects among `text`'s lines (stderr also holds notes).
fn summaries(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "summary")
        .collect()
}

#[test]
fn a_failing_collector_is_said_and_never_stops_the_checking() {
    let (url, _) = failing_collector();
    let clean = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions/clean.log");
    // File mode: both inputs are checked and summed up; the failure names the URL.
    let out = qs()
        .args(["check", "--format", "json", "--otlp-endpoint", &url])
        .arg(fixture())
        .arg(&clean)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(summaries(&stdout).len(), 2, "{stdout}");
    assert!(
        stderr.contains(&url) && stderr.contains("500"),
        "the failure does not name the collector: {stderr}"
    );
    // Pipe mode: every session after the failed POST is still checked and reported,
    // and every byte passes through.
    let input = std::fs::read(fixture()).unwrap();
    let out = qs()
        .args(["check", "--format", "json", "--otlp-endpoint", &url])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(out.stdout, input);
    let summary = &summaries(&stderr)[0];
    assert_eq!(summary["sessions"], 3, "{stderr}");
    assert_eq!(summary["errors"], 1, "{stderr}");
    assert!(stderr.contains(&url), "{stderr}");
    // Under `run`, too: said, and exit 2.
    let out = qs()
        .args([
            "run",
            "--no-pty",
            "--format",
            "json",
            "--otlp-endpoint",
            &url,
            "--",
            "cat",
        ])
        .arg(fixture())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(out.stdout, input);
    assert_eq!(summaries(&stderr)[0]["sessions"], 3, "{stderr}");
    assert!(stderr.contains(&url), "{stderr}");
}

#[test]
fn a_report_file_that_fails_leaves_the_others_whole() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = qs()
        .args(["check", "--report", "sarif=/dev/full", "--report"])
        .arg(format!("json={}", json.display()))
        .arg(fixture())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/dev/full"), "{stderr}");
    // The human report on stdout and the JSON report are complete.
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("3 sessions")
    );
    let written = std::fs::read_to_string(json).unwrap();
    assert_eq!(summaries(&written)[0]["sessions"], 3, "{written}");
}
