//! OTLP against a real trace store (issue 28): Arize Phoenix, an LLM-observability store
//! agent users run (`pip install arize-phoenix`; `.ci/run` installs it in
//! `.ci/venv`). The test starts `phoenix serve` on free ports, exports to it from file
//! mode, pipe mode and `run` (binary protobuf, as Phoenix takes only that), and reads
//! the spans back through Phoenix's REST API: every span there, named by the GenAI
//! conventions, dated when the sessions ran (never 1970), a failed session an Error.
//! Skipped, saying so, when Phoenix is not installed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `phoenix`: `QS_PHOENIX`, else `.ci/venv/bin/phoenix`, else on PATH.
fn phoenix() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("QS_PHOENIX") {
        return Some(PathBuf::from(p));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/venv/bin/phoenix");
    if venv.exists() {
        return Some(venv);
    }
    Command::new("phoenix")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        .filter(|s| s.success())
        .map(|_| PathBuf::from("phoenix"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The Phoenix server, stopped when dropped (a failing test leaves nothing running).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(url: &str) -> Option<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    agent
        .get(url)
        .call()
        .ok()?
        .into_body()
        .read_to_string()
        .ok()
}

/// A Phoenix server on free loopback ports, with its working directory; `None` (the
/// test says it is skipped) when Phoenix is not installed.
fn start_phoenix() -> Option<(Server, String, tempfile::TempDir)> {
    let Some(phoenix) = phoenix() else {
        eprintln!("skipped: Phoenix is not installed (.ci/run installs it in .ci/venv)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let server = Server(
        Command::new(&phoenix)
            .arg("serve")
            .env("PHOENIX_WORKING_DIR", dir.path())
            .env("PHOENIX_PORT", http.to_string())
            .env("PHOENIX_GRPC_PORT", grpc.to_string())
            .env("PHOENIX_HOST", "127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{http}");
    let started = Instant::now();
    while get(&format!("{base}/healthz")).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "Phoenix did not start"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    Some((server, base, dir))
}

#[test]
fn phoenix_takes_the_traces_dated_and_named_by_the_conventions() {
    let Some((_server, base, _dir)) = start_phoenix() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, code) in [
        ("fixtures/shapes/session.transcript.log", 1),
        ("fixtures/sessions/clean.log", 0),
    ] {
        let out = Command::new(assert_cmd::cargo::cargo_bin("quant-session"))
            .args(["check", "--format", "concise", "--otlp-endpoint", &base])
            .arg(root.join(file))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Pipe mode and `run` export each session as it ends: two more sessions, one each
    // (the second crashes: its worker is cut off).
    let piped = "SESSION_START: converter-2026-11-24T09:00:00\nPATTERN_FILES_READ: what-works.md, what-fails.md\n@sigma-distiller: distill\nDISTILLATION_COMPLETE\nPATTERNS_UPDATED: what-works.md (+1 entries)\nSESSION_COMPLETE: converter-2026-11-24T09:00:00\nDURATION: 1m\nTASKS_COMPLETED: 0\nSTRATEGIES_PRODUCED: 0\nHYPOTHESES_QUEUED: 0\n";
    assert_cmd::Command::cargo_bin("quant-session")
        .unwrap()
        .args(["check", "--otlp-endpoint", &base])
        .write_stdin(piped)
        .assert()
        .code(0);
    assert_cmd::Command::cargo_bin("quant-session")
        .unwrap()
        .args(["run", "--no-pty", "--otlp"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &base)
        .args([
            "--",
            "sh",
            "-c",
            "echo 'SESSION_START: optimizer-2026-11-24T10:00:00'",
        ])
        .assert()
        .code(1);
    // Phoenix writes what it takes in the background: read until all 20 spans are there
    // (17, then a session with its distillation, then a bare session).
    let mut spans = Vec::new();
    let started = Instant::now();
    while spans.len() < 20 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
        if let Some(text) = get(&format!("{base}/v1/projects/default/spans?limit=100")) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            spans = v["data"].as_array().cloned().unwrap_or_default();
        }
    }
    assert_eq!(spans.len(), 20, "{spans:#?}");
    let named = |name: &str| {
        spans
            .iter()
            .filter(|s| s["name"] == name)
            .cloned()
            .collect::<Vec<_>>()
    };
    // The session file's failed session, and the plain transcript's clean one.
    let roots = named("invoke_agent researcher");
    assert_eq!(roots.len(), 2, "{spans:#?}");
    let status = |s: &serde_json::Value| s["status_code"].as_str().unwrap_or("").to_owned();
    let mut statuses: Vec<String> = roots.iter().map(status).collect();
    statuses.sort();
    assert_eq!(statuses, ["ERROR", "UNSET"]);
    assert!(!named("execute_tool Write").is_empty());
    assert!(!named("invoke_agent quant-backtester").is_empty());
    assert_eq!(status(&named("invoke_agent converter")[0]), "UNSET");
    assert_eq!(status(&named("invoke_agent optimizer")[0]), "ERROR");
    // Dated when the sessions ran: a recorded one by its records or its session id,
    // the one `run` watched by the clock as its lines came (today).
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for span in &spans {
        let start = span["start_time"].as_str().unwrap();
        assert!(
            start.starts_with("2026-11-2") || start.starts_with(&today),
            "{span}"
        );
    }
    assert!(
        named("invoke_agent converter")[0]["start_time"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-24T09:00:00")
    );
    assert!(
        named("invoke_agent optimizer")[0]["start_time"]
            .as_str()
            .unwrap()
            .starts_with(&today)
    );
    assert!(
        roots.iter().any(|r| r["start_time"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-23T10:15:30.123456")),
        "{roots:#?}"
    );
}

/// The files under `dir`, at any depth.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every span of a project in Phoenix (its REST API pages by cursor), by span id.
fn phoenix_spans(base: &str, project: &str) -> HashMap<String, serde_json::Value> {
    let mut spans = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/v1/projects/{project}/spans?limit=100&cursor={c}"),
            None => format!("{base}/v1/projects/{project}/spans?limit=100"),
        };
        let Some(text) = get(&url) else { return spans };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for span in v["data"].as_array().into_iter().flatten() {
            let id = span["context"]["span_id"].as_str().unwrap().to_owned();
            spans.insert(id, span.clone());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return spans,
        }
    }
}

/// The spans a `--report otlp=PATH` file holds, by span id: name, parent, trace, start
/// (as Phoenix shows it, to the microsecond) and attributes.
fn written_spans(path: &Path) -> HashMap<String, serde_json::Value> {
    let mut spans = HashMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let request: serde_json::Value = serde_json::from_str(line).unwrap();
        for resource in request["resourceSpans"].as_array().unwrap() {
            for scope in resource["scopeSpans"].as_array().unwrap() {
                for span in scope["spans"].as_array().unwrap() {
                    spans.insert(span["spanId"].as_str().unwrap().to_owned(), span.clone());
                }
            }
        }
    }
    spans
}

/// A time as microseconds since the epoch: Phoenix's ISO form, or OTLP's nanoseconds.
fn phoenix_micros(time: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(time.as_str().unwrap())
        .unwrap()
        .timestamp_micros()
}

fn otlp_micros(nanos: &serde_json::Value) -> i64 {
    nanos.as_str().unwrap().parse::<i64>().unwrap() / 1000
}

/// The root spans' ids of each input a `--report otlp=PATH` file holds (its resource's
/// `quant_session.input`).
fn roots_by_input(path: &Path) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let request: serde_json::Value = serde_json::from_str(line).unwrap();
        for resource in request["resourceSpans"].as_array().unwrap() {
            let input = resource["resource"]["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == "quant_session.input")
                .and_then(|a| a["value"]["stringValue"].as_str())
                .unwrap()
                .to_owned();
            let ids: Vec<String> = resource["scopeSpans"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["spans"].as_array().unwrap())
                .filter(|s| s["parentSpanId"].as_str().unwrap_or("").is_empty())
                .map(|s| s["spanId"].as_str().unwrap().to_owned())
                .collect();
            if !ids.is_empty() {
                out.push((input, ids));
            }
        }
    }
    out
}

/// Phoenix holds exactly the spans the command also wrote to its `--report otlp` file:
/// every span, with its name, trace, parent and start time.
fn assert_phoenix_shows(base: &str, project: &str, written: &Path) {
    let want = written_spans(written);
    assert!(!want.is_empty(), "{project}: nothing written");
    let mut got = HashMap::new();
    let started = Instant::now();
    while got.len() < want.len() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
        got = phoenix_spans(base, project);
    }
    assert_eq!(got.len(), want.len(), "{project}: {got:#?}");
    for (id, w) in &want {
        let g = got
            .get(id)
            .unwrap_or_else(|| panic!("{project}: span {w} missing"));
        assert_eq!(g["name"], w["name"], "{project}: {g}");
        assert_eq!(g["context"]["trace_id"], w["traceId"], "{project}: {g}");
        let parent = w["parentSpanId"].as_str().filter(|p| !p.is_empty());
        assert_eq!(g["parent_id"].as_str(), parent, "{project}: {g}");
        assert_eq!(
            phoenix_micros(&g["start_time"]),
            otlp_micros(&w["startTimeUnixNano"]),
            "{project}: {g}"
        );
        // Never 1970: every input is dated by its records, its session ids, its
        // file's time or its arrival.
        assert!(g["start_time"].as_str().unwrap() > "2025", "{project}: {g}");
    }
}

/// One real capture of each agent CLI kind (none prints the protocol): each is traced
/// as its CLI's run, `invoke_agent {cli}` with its tool calls under it.
const CAPTURES: [(&str, &str); 6] = [
    (
        "claude-stream/obers_ui-last_raw_stream-3038d2df.jsonl",
        "claude-code",
    ),
    ("claude-session/spotter-short.jsonl", "claude-code"),
    ("codex/hivemind-issue642-run1.jsonl", "codex"),
    ("codex/agentcmd-rollout-2025-09-25T15-12-14.jsonl", "codex"),
    ("gemini/switchboard-tool-use.stream.jsonl", "gemini-cli"),
    (
        "gemini/agentcmd-session-2025-10-27T19-55-981c87cb.json",
        "gemini-cli",
    ),
];

/// Issue 28's bar: Phoenix shows every session of `fixtures/sessions/` and of every real
/// capture (each of the six below its CLI's run, with its tool calls) — the spans `--report otlp` writes, no more, no less — through
/// both protocols (binary protobuf gzipped; OTLP/JSON through a relay that reads it with
/// protobuf's strict JSON parser, as Phoenix takes protobuf only), from `check` on files
/// and on a pipe, from `run` and from a `watch` stopped by Ctrl-C. A session still open
/// when the watch stopped is sent, and not as a crash.
#[test]
fn phoenix_shows_every_session_and_capture_from_every_command_through_both_protocols() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let real = root.join("../shared/real-world");
    if !real.is_dir() {
        eprintln!("skipped: ../shared/real-world is absent (the real captures)");
        return;
    }
    let Some((_server, base, _dir)) = start_phoenix() else {
        return;
    };
    let venv_python = root.join(".ci/venv/bin/python");
    let mut relay = Server(
        Command::new(&venv_python)
            .arg(root.join("tests/data/otlp_json_relay.py"))
            .arg(&base)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut port = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(relay.0.stdout.take().unwrap()),
        &mut port,
    )
    .unwrap();
    let json_base = format!("http://127.0.0.1:{}", port.trim());
    let work = tempfile::tempdir().unwrap();
    // Each case's inputs under a path of its own: ids are derived from the path, and
    // Phoenix keeps one span per id.
    let inputs = |case: &str| -> (PathBuf, Vec<PathBuf>, Vec<String>) {
        let dir = work.path().join(case);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(root.join("fixtures/sessions")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        // Every real capture, named by its path there (`codex/x.jsonl`: `codex-x.jsonl`).
        let mut documents = Vec::new();
        let mut stems = Vec::new();
        for from in walk(&real) {
            let name = from.strip_prefix(&real).unwrap().to_str().unwrap();
            // Not the notes beside them (SOURCES.md, expected-causes.json).
            if !name.contains('/') {
                continue;
            }
            let to = dir.join(name.replace('/', "-"));
            stems.push(to.file_stem().unwrap().to_str().unwrap().to_owned());
            std::fs::copy(&from, &to).unwrap();
            if name.ends_with(".json") {
                documents.push(to);
            }
        }
        (dir, documents, stems)
    };
    let qs = |project: &str| {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("quant-session"));
        c.env(
            "OTEL_RESOURCE_ATTRIBUTES",
            format!("openinference.project.name={project}"),
        )
        .env("OTEL_LOGS_EXPORTER", "none")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL");
        c
    };
    let written = |case: &str| work.path().join(format!("{case}.otlp.jsonl"));

    // check on files, both protocols.
    for (case, protocol, endpoint) in [
        ("check-protobuf", "http/protobuf", &base),
        ("check-json", "http/json", &json_base),
    ] {
        let (dir, documents, captures) = inputs(case);
        let out = qs(case)
            .args(["check", "--format", "concise", "--otlp-endpoint", endpoint])
            .arg("--report")
            .arg(format!("otlp={}", written(case).display()))
            // The directory, and the Gemini documents a directory walk leaves out (a
            // `.json` file there may be anything).
            .arg(&dir)
            .args(&documents)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
            .env("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
            .output()
            .unwrap();
        // Sessions of fixtures/sessions/ fail: exit 1, not 2 (every request delivered).
        assert_eq!(
            out.status.code(),
            Some(1),
            "{case}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_phoenix_shows(&base, case, &written(case));
        // Every capture is traced: its CLI's run (none prints the protocol). The
        // report file says which input each root span is of.
        let spans = phoenix_spans(&base, case);
        let roots = roots_by_input(&written(case));
        for stem in &captures {
            let Some((_, ids)) = roots.iter().find(|(input, _)| {
                Path::new(input).file_stem().and_then(|s| s.to_str()) == Some(stem)
            }) else {
                panic!("{case}: {stem} has no trace")
            };
            for id in ids {
                let name = spans[id]["name"].as_str().unwrap();
                assert!(name.starts_with("invoke_agent "), "{case}: {stem}: {name}");
            }
        }
        assert!(captures.len() >= 50, "{captures:?}");
        // Each of six is its CLI's run, named by the CLI, with the CLI's own id of the
        // run (else the file's name) and its tool calls under it.
        for (capture, cli) in CAPTURES {
            let stem = capture.trim_end_matches(".jsonl").trim_end_matches(".json");
            let stem = stem.replace('/', "-");
            let (_, ids) = roots
                .iter()
                .find(|(input, _)| {
                    input.ends_with(&format!("/{stem}.jsonl"))
                        || input.ends_with(&format!("/{stem}.json"))
                })
                .unwrap_or_else(|| panic!("{case}: {capture} has no trace"));
            let run = &spans[&ids[0]];
            assert_eq!(run["name"], format!("invoke_agent {cli}"), "{run}");
            assert!(
                run["attributes"]["gen_ai.conversation.id"].is_string(),
                "{run}"
            );
            let id = &run["context"]["span_id"];
            assert!(
                spans.values().any(|s| s["parent_id"] == *id
                    && s["name"].as_str().unwrap().starts_with("execute_tool ")),
                "{case}: {capture} has no tool span"
            );
        }
        // A subagent's calls under the worker's call that started it.
        let agent_calls: Vec<&serde_json::Value> = spans
            .values()
            .filter(|s| s["name"] == "execute_tool Agent")
            .collect();
        assert!(
            spans.values().any(|s| agent_calls
                .iter()
                .any(|a| s["parent_id"] == a["context"]["span_id"])),
            "{case}: no call nested under a subagent's Agent call"
        );
    }

    // check on a pipe, and run: the worker's output as it comes.
    let stream = real.join(CAPTURES[0].0);
    let case = "pipe";
    let out = qs(case)
        .args(["check", "--otlp-endpoint", &base, "--report"])
        .arg(format!("otlp={}", written(case).display()))
        .stdin(std::fs::File::open(&stream).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_phoenix_shows(&base, case, &written(case));
    let case = "run";
    let out = qs(case)
        .args(["run", "--no-pty", "--otlp-endpoint", &base, "--report"])
        .arg(format!("otlp={}", written(case).display()))
        .args(["--", "sh", "-c"])
        .arg(format!(
            "cat '{}'",
            real.join("codex/hivemind-issue642-run1.jsonl").display()
        ))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{out:?}");
    assert_phoenix_shows(&base, case, &written(case));
    let run = phoenix_spans(&base, case);
    assert!(
        run.values().any(|s| s["name"] == "invoke_agent codex"),
        "{run:#?}"
    );

    // watch, stopped by Ctrl-C: what it followed is delivered before it exits.
    let case = "watch";
    let dir = work.path().join(case);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["clean.log", "crashed-mid-task.log"] {
        std::fs::copy(root.join("fixtures/sessions").join(file), dir.join(file)).unwrap();
    }
    std::fs::copy(real.join(CAPTURES[4].0), dir.join("gemini.jsonl")).unwrap();
    let watch = qs(case)
        .args([
            "watch",
            "--format",
            "json",
            "--otlp-endpoint",
            &base,
            "--report",
        ])
        .arg(format!("otlp={}", written(case).display()))
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let pid = watch.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let started = Instant::now();
    let out = watch.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "slow to stop");
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert_phoenix_shows(&base, case, &written(case));
    let spans = phoenix_spans(&base, case);
    let open: Vec<_> = spans
        .values()
        .filter(|s| s["attributes"]["quant_session.session.status"] == "open")
        .collect();
    assert_eq!(open.len(), 1, "{spans:#?}");
    assert_eq!(open[0]["status_code"], "UNSET", "{}", open[0]);
    assert!(
        spans
            .values()
            .any(|s| s["name"] == "invoke_agent gemini-cli"),
        "{spans:#?}"
    );
}
