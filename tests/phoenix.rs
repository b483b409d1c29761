//! OTLP against a real trace store (issue 28): Arize Phoenix, an LLM-observability store
//! agent users run (`pip install arize-phoenix`; `.ci/run` installs it in
//! `.ci/venv`). The test starts `phoenix serve` on free ports, exports to it from file
//! mode, pipe mode and `run` (binary protobuf, as Phoenix takes only that), and reads
//! the spans back through Phoenix's REST API: every span there, named by the GenAI
//! conventions, dated when the sessions ran (never 1970), a failed session an Error.
//! Skipped, saying so, when Phoenix is not installed.

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

#[test]
fn phoenix_takes_the_traces_dated_and_named_by_the_conventions() {
    let Some(phoenix) = phoenix() else {
        eprintln!("skipped: Phoenix is not installed (.ci/run installs it in .ci/venv)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let _server = Server(
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
