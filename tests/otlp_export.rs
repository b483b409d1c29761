//! The OTLP exporter against hostile and unusual collectors and settings, through the
//! binary (issue 28's two reviews): redirects, endpoints with paths, a traces endpoint
//! alone, a directory at a slow collector's pace, partial success, Ctrl-C in the final
//! flush, malformed headers; and what goes into the spans: a killed run, control bytes,
//! a clock never set, a path typed two ways, runs from a pipe.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// A request as the collector got it.
#[derive(Debug, Clone)]
struct Got {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// A collector on 127.0.0.1 that answers each request with `answer(n, &request)`
/// (status line and headers, then the body), keeping every request it got.
fn collector(
    answer: impl Fn(usize, &Got) -> (String, Vec<u8>) + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Got>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let kept = kept.clone();
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() {
                        return;
                    }
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = header.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let mut parts = line.split_whitespace();
                let request = Got {
                    method: parts.next().unwrap_or("").to_owned(),
                    path: parts.next().unwrap_or("").to_owned(),
                    body,
                };
                let n = {
                    let mut all = kept.lock().unwrap();
                    all.push(request.clone());
                    all.len()
                };
                let (head, body) = answer(n, &request);
                let _ = write!(
                    stream,
                    "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            });
        }
    });
    (url, got)
}

/// A collector that takes every request and never answers: its `host:port`.
fn hanging() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    at
}

fn ok() -> impl Fn(usize, &Got) -> (String, Vec<u8>) + Send + Sync + 'static {
    |_, _| ("HTTP/1.1 200 OK".to_owned(), Vec::new())
}

fn qs() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("quant-session"));
    c.env("OTEL_LOGS_EXPORTER", "none")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .env_remove("OTEL_RESOURCE_ATTRIBUTES")
        .env_remove("OTEL_SERVICE_NAME")
        .stdin(Stdio::null());
    c
}

const CLEAN: &str = "fixtures/sessions/clean.log";

fn run(c: &mut Command) -> (Option<i32>, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The spans of a `--format otlp` output (one request per line).
fn spans(otlp: &str) -> Vec<opentelemetry_proto::tonic::trace::v1::Span> {
    otlp.lines()
        .flat_map(|l| {
            serde_json::from_str::<ExportTraceServiceRequest>(l)
                .unwrap()
                .resource_spans
        })
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect()
}

fn attr(s: &opentelemetry_proto::tonic::trace::v1::Span, key: &str) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    s.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.clone()?.value)
        .map(|v| match v {
            Value::StringValue(s) => s,
            other => format!("{other:?}"),
        })
}

#[test]
fn a_redirect_is_a_failure_said_with_where_it_pointed_and_never_followed() {
    let (elsewhere, followed) = collector(ok());
    let to = format!("{elsewhere}/v1/traces");
    let (url, _) =
        collector(move |_, _| (format!("HTTP/1.1 302 Found\r\nLocation: {to}"), Vec::new()));
    let (code, _, stderr) = run(qs()
        .args([
            "check",
            "--format",
            "concise",
            "--otlp-endpoint",
            &url,
            CLEAN,
        ])
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("answered 302, a redirect to"), "{stderr}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        followed.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}

#[test]
fn the_general_endpoint_is_a_base_and_a_traces_endpoint_alone_sends_no_logs() {
    let (url, got) = collector(ok());
    let (code, _, stderr) = run(qs()
        .args(["check", "--format", "concise", "--otlp", CLEAN])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("{url}/otlp/"))
        .env_remove("OTEL_LOGS_EXPORTER"));
    assert_eq!(code, Some(0), "{stderr}");
    let mut paths: Vec<String> = got.lock().unwrap().iter().map(|g| g.path.clone()).collect();
    paths.sort();
    // The trailing slash is not doubled; a clean session has no findings to log.
    assert_eq!(paths, ["/otlp/v1/traces"]);

    // Only the traces endpoint: the logs go nowhere (not to localhost:4318).
    let (url, got) = collector(ok());
    let (code, _, stderr) = run(qs()
        .args([
            "check",
            "--format",
            "concise",
            "--otlp",
            "fixtures/sessions/crashed-mid-task.log",
        ])
        .env(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            format!("{url}/v1/traces"),
        )
        .env_remove("OTEL_LOGS_EXPORTER"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("4318"), "{stderr}");
    assert_eq!(got.lock().unwrap().len(), 1);
}

#[test]
fn a_directory_goes_at_a_slow_collectors_pace_and_arrives_whole() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(CLEAN).unwrap();
    for i in 0..300 {
        std::fs::write(dir.path().join(format!("p{i}.log")), &text).unwrap();
    }
    let (url, got) = collector(|_, _| {
        std::thread::sleep(Duration::from_millis(3));
        ("HTTP/1.1 200 OK".to_owned(), Vec::new())
    });
    let (code, _, stderr) = run(qs()
        .args(["check", "--format", "concise", "--otlp-endpoint", &url])
        .arg(dir.path()));
    assert_eq!(code, Some(0), "{stderr}");
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 300, "{stderr}");
    assert!(got.iter().all(|g| g.method == "POST" && !g.body.is_empty()));
}

#[test]
fn spans_the_collector_refused_are_said_and_fail_the_run() {
    // ExportTraceServiceResponse { partial_success { rejected_spans: 3, error_message } }
    #[derive(Clone, PartialEq, prost::Message)]
    struct Partial {
        #[prost(int64, tag = "1")]
        rejected: i64,
        #[prost(string, tag = "2")]
        why: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct Answer {
        #[prost(message, optional, tag = "1")]
        partial: Option<Partial>,
    }
    let body = prost::Message::encode_to_vec(&Answer {
        partial: Some(Partial {
            rejected: 3,
            why: "quota exceeded".into(),
        }),
    });
    let (url, _) = collector(move |_, _| {
        (
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf".to_owned(),
            body.clone(),
        )
    });
    let (code, _, stderr) = run(qs().args([
        "check",
        "--format",
        "concise",
        "--otlp-endpoint",
        &url,
        CLEAN,
    ]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the collector refused 3 spans") && stderr.contains("quota exceeded"),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_in_the_final_flush_names_the_collector() {
    let url = format!("http://{}", hanging());
    let child = qs()
        .args([
            "check",
            "--format",
            "concise",
            "--otlp-endpoint",
            &url,
            CLEAN,
        ])
        .env_remove("OTEL_LOGS_EXPORTER")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains(&format!("exporting to {url}/v1/traces")),
        "{stderr}"
    );
    assert!(!stderr.contains("its reader is not reading"), "{stderr}");
}

#[test]
fn malformed_settings_are_refused_before_anything_is_read() {
    for (var, value) in [
        ("OTEL_EXPORTER_OTLP_HEADERS", "a=b,broken"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "bad key=1"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x=1%0d%0aX-Injected:%20yes"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
    ] {
        let (code, _, stderr) = run(qs()
            .args(["check", "--otlp-endpoint", "http://127.0.0.1:9", CLEAN])
            .env(var, value));
        assert_eq!(code, Some(2), "{var}={value}: {stderr}");
        assert!(stderr.contains(var), "{var}={value}: {stderr}");
        assert!(!stderr.contains("--otlp-endpoint OTEL"), "{stderr}");
    }
    let (code, _, stderr) =
        run(qs().args(["check", "--otlp-endpoint", "http://127.0.0.1:", CLEAN]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no port number"), "{stderr}");
}

#[test]
fn what_the_spans_say_of_killed_runs_hostile_names_unset_clocks_and_paths() {
    let dir = tempfile::tempdir().unwrap();
    let otlp = |args: &[&str], file: &Path| {
        let (_, out, _) = run(qs()
            .args(["check", "--format", "otlp"])
            .args(args)
            .arg(file));
        spans(&out)
    };
    // A Claude stream cut off mid-call (no `result`): the run crashed.
    let cut = dir.path().join("cut.jsonl");
    std::fs::write(
        &cut,
        concat!(
            r#"{"type":"system","subtype":"init","session_id":"s-1","model":"claude-sonnet-4-5","tools":[]}"#,
            "\n",
            r#"{"type":"assistant","message":{"id":"m1","role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash\u001b[2J\u202e","input":{"command":"ls"}}]},"session_id":"s-1"}"#,
            "\n"
        ),
    )
    .unwrap();
    let got = otlp(&[], &cut);
    let root = got.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
    assert_eq!(root.name, "invoke_agent claude-code");
    assert_eq!(root.status.as_ref().unwrap().code, 2, "Error: {root:?}");
    assert_eq!(attr(root, "gen_ai.conversation.id").as_deref(), Some("s-1"));
    // The tool's name, escape sequence and bidi control included, is escaped.
    let tool = got.iter().find(|s| !s.parent_span_id.is_empty()).unwrap();
    assert!(
        !tool.name.contains('\u{1b}') && !tool.name.contains('\u{202e}'),
        "{:?}",
        tool.name
    );
    assert!(
        tool.name.starts_with("execute_tool Bash"),
        "{:?}",
        tool.name
    );

    // A session whose id says 1970 (a clock never set): dated by the file instead.
    let epoch = dir.path().join("epoch.log");
    std::fs::write(
        &epoch,
        std::fs::read_to_string(CLEAN)
            .unwrap()
            .replace("2026-11-23T10:15:30.123456", "1970-01-01T00:00:01"),
    )
    .unwrap();
    let got = otlp(&[], &epoch);
    assert!(
        got.iter()
            .all(|s| s.start_time_unix_nano > 946_684_800_000_000_000),
        "{:?}",
        got.iter()
            .map(|s| s.start_time_unix_nano)
            .collect::<Vec<_>>()
    );

    // One file typed two ways: one trace.
    let here = std::env::current_dir().unwrap();
    let a = otlp(&[], Path::new(CLEAN));
    let b = otlp(&[], &here.join(".").join(CLEAN));
    assert_eq!(a[0].trace_id, b[0].trace_id);
}

#[test]
fn two_runs_from_a_pipe_are_two_traces() {
    // A Codex stream names its thread: that is the run's conversation; a stream that
    // names none still gets a trace of its own per run.
    let with_id = std::fs::read_to_string("fixtures/shapes/health.codex.log")
        .unwrap()
        .replace("SESSION_START: ", "session start ");
    let without_id: String = with_id
        .lines()
        .filter(|l| !l.contains("thread.started"))
        .map(|l| format!("{l}\n"))
        .collect();
    let piped = |text: &str| {
        let out = assert_cmd::Command::cargo_bin("quant-session")
            .unwrap()
            .env("OTEL_LOGS_EXPORTER", "none")
            .args(["check", "--format", "otlp"])
            .write_stdin(text.to_owned())
            .output()
            .unwrap();
        // In pipe mode the input passes to stdout; the report goes to stderr.
        let got = spans(&String::from_utf8_lossy(&out.stderr));
        got.into_iter()
            .find(|s| s.parent_span_id.is_empty())
            .unwrap()
    };
    let a = piped(&with_id);
    assert_eq!(
        attr(&a, "gen_ai.conversation.id").as_deref(),
        Some("019a2d7a-6455-7170-a661-c6d8b94c6aaa")
    );
    let b = piped(&without_id);
    std::thread::sleep(Duration::from_millis(5));
    let c = piped(&without_id);
    assert_eq!(attr(&b, "gen_ai.conversation.id"), None, "no id is made up");
    assert_ne!(b.trace_id, c.trace_id, "two runs, two traces");
}

#[test]
fn a_hanging_collector_holds_a_directory_up_for_one_deadline_at_most() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(CLEAN).unwrap();
    for i in 0..300 {
        std::fs::write(dir.path().join(format!("p{i}.log")), &text).unwrap();
    }
    let url = format!("http://user:secret@{}", hanging());
    let started = Instant::now();
    let (code, _, stderr) = run(qs()
        .args(["check", "--format", "concise", "--otlp-endpoint", &url])
        .arg(dir.path())
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"));
    // Reading waits one deadline for room, then drops; the end waits one more.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("requests dropped"), "{stderr}");
    assert!(
        !stderr.contains("secret"),
        "the password is never shown: {stderr}"
    );
}

#[test]
fn run_names_the_cli_run_and_a_resumed_session_is_a_trace_of_its_own() {
    let capture = "fixtures/shapes/health.codex.log";
    let text = std::fs::read_to_string(capture)
        .unwrap()
        .replace("SESSION_START: ", "session start ");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.jsonl");
    std::fs::write(&file, text).unwrap();
    let root = |extra: &[&str]| {
        let report = dir.path().join("otlp.jsonl");
        let (_, _, stderr) = run(qs()
            .args(["run", "--no-pty", "--report"])
            .arg(format!("otlp={}", report.display()))
            .args(extra)
            .args(["--", "cat"])
            .arg(&file));
        let got = spans(&std::fs::read_to_string(&report).unwrap_or_else(|_| panic!("{stderr}")));
        got.into_iter()
            .find(|s| s.parent_span_id.is_empty())
            .unwrap()
    };
    let a = root(&[]);
    assert_eq!(a.name, "invoke_agent codex");
    assert_eq!(
        attr(&a, "gen_ai.conversation.id").as_deref(),
        Some("019a2d7a-6455-7170-a661-c6d8b94c6aaa"),
        "the CLI's thread id, under run too"
    );
    std::thread::sleep(Duration::from_millis(5));
    // The same thread again (a resumed session): one conversation, two traces.
    let b = root(&[]);
    assert_eq!(
        attr(&a, "gen_ai.conversation.id"),
        attr(&b, "gen_ai.conversation.id")
    );
    assert_ne!(a.trace_id, b.trace_id);
}
