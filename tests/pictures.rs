//! The pictures of a session (SPEC §9) through the binary: the Perfetto trace against
//! the Trace Event format's required fields and a timestamped fixture's durations, the
//! OTLP/JSON read back through `opentelemetry-proto`'s own types (and posted to a
//! collector on 127.0.0.1), the HTML rendered by a real headless Chromium (skipped, with
//! a message, where it is missing; `.ci/run` installs it) with a screenshot kept in
//! `target/`, and a hostile transcript that renders inert.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// The binary; these tests count the trace requests, so findings are not also sent as
/// logs (`otlp_sends_the_findings_as_log_records` tests those).
fn qs() -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.timeout(std::time::Duration::from_secs(60));
    c.env("OTEL_LOGS_EXPORTER", "none");
    c
}

const SESSION_FILE: &str = "fixtures/shapes/session.transcript.log";
const HOSTILE: &str = "fixtures/hostile/html-injection.log";
/// The same payloads in a Claude Code stream: in the worker's text, a tool call's input
/// and its result.
const HOSTILE_STREAM: &str = "fixtures/hostile/html-injection.stream-json.log";

/// The page's Content-Security-Policy lets run only the page's one script, by the
/// sha256 of its text, and no other (no 'unsafe-inline', no source of scripts).
fn assert_only_our_script_may_run(html: &str) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let csp = html
        .split("http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a Content-Security-Policy");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .expect("a script-src directive");
    let script = html
        .split("<script>")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("the page's script");
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    assert_eq!(script_src, format!("script-src 'sha256-{hash}'"));
}

fn stdout(args: &[&str]) -> String {
    let out = qs().args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// The `timestamp` of the record on `line` (1-based) of a session file, in µs.
fn record_micros(file: &str, line: usize) -> i64 {
    let text = std::fs::read_to_string(file).unwrap();
    let record: serde_json::Value =
        serde_json::from_str(text.lines().nth(line - 1).unwrap()).unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(record["timestamp"].as_str().unwrap()).unwrap();
    t.timestamp_micros()
}

#[test]
fn the_perfetto_trace_has_the_required_fields_and_the_records_durations() {
    let text = stdout(&["check", "--format", "perfetto", SESSION_FILE]);
    let trace: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert!(!events.is_empty());
    for e in events {
        // Required by the Trace Event format: name, ph, pid, tid; ts for all but
        // metadata; dur for complete events; a scope for instant events.
        assert!(e["name"].is_string() && e["ph"].is_string(), "{e}");
        assert!(e["pid"].is_u64() && e["tid"].is_u64(), "{e}");
        match e["ph"].as_str().unwrap() {
            "M" => assert!(
                e["args"]["name"].is_string() || e["args"]["sort_index"].is_u64(),
                "{e}"
            ),
            "X" => assert!(
                e["ts"].is_i64() && e["dur"].as_i64().is_some_and(|d| d >= 0),
                "{e}"
            ),
            "i" => assert!(e["ts"].is_i64() && e["s"] == "t", "{e}"),
            other => panic!("unexpected phase {other}: {e}"),
        }
    }
    let find = |cat: &str, name: &str| {
        events
            .iter()
            .find(|e| e["cat"] == cat && e["name"] == name)
            .unwrap_or_else(|| panic!("no {cat} {name}"))
    };
    // The session runs from its SESSION_START record to the end of its block.
    let session = find("session", "researcher-2026-11-23T22:43:11.764000");
    assert_eq!(
        session["ts"].as_i64().unwrap(),
        record_micros(SESSION_FILE, 2)
    );
    // Task h-017 starts on line 8 and completes on line 19: its duration is the
    // records' own.
    let task = find("task", "h-017");
    assert_eq!(task["ts"].as_i64().unwrap(), record_micros(SESSION_FILE, 8));
    assert_eq!(
        task["dur"].as_i64().unwrap(),
        record_micros(SESSION_FILE, 19) - record_micros(SESSION_FILE, 8)
    );
    // The subagent overlaps the task: on a track of its own.
    let subagent = find("subagent", "@quant-backtester");
    assert_ne!(subagent["tid"], task["tid"]);
    // The finding is an instant named by its rule, on the session's track.
    let finding = find("finding", "missing-distillation");
    assert_eq!(finding["tid"], session["tid"]);
    assert_eq!(finding["args"]["line"], 27);
    // Without a clock, line numbers, and the process name says so.
    let text = stdout(&[
        "check",
        "--format",
        "perfetto",
        "fixtures/shapes/session.text.log",
    ]);
    assert!(text.contains("no clock in the input"), "{text}");
}

fn otlp_file(input: &str, dir: &Path) -> (PathBuf, ExportTraceServiceRequest) {
    let path = dir.join("traces.json");
    qs().args(["check", "--report"])
        .arg(format!("otlp={}", path.display()))
        .arg(input)
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&path).unwrap();
    (path, read_otlp_lines(&text))
}

/// An OTLP/JSON Lines file (one `ExportTraceServiceRequest` per line, as the
/// Collector's `otlpjsonfile` receiver reads it), as one request.
fn read_otlp_lines(text: &str) -> ExportTraceServiceRequest {
    assert!(text.ends_with('\n'), "{text}");
    let mut all = ExportTraceServiceRequest::default();
    for line in text.lines() {
        let request: ExportTraceServiceRequest =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not OTLP/JSON: {e}\n{line}"));
        all.resource_spans.extend(request.resource_spans);
    }
    all
}

#[test]
fn otlp_reads_back_through_opentelemetry_proto_and_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let (path, request) = otlp_file(SESSION_FILE, dir.path());
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    let root = &spans[0];
    // The GenAI conventions' agent span: `invoke_agent {agent}`, the session as the
    // conversation, Unset on success.
    assert_eq!(root.name, "invoke_agent researcher");
    assert_eq!(root.trace_id.len(), 16);
    assert_eq!(root.span_id.len(), 8);
    assert!(root.parent_span_id.is_empty());
    let attr = |span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| match &v.value {
                Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                    Some(s.clone())
                }
                _ => None,
            })
    };
    assert_eq!(
        attr(root, "gen_ai.operation.name").as_deref(),
        Some("invoke_agent")
    );
    assert_eq!(
        attr(root, "gen_ai.agent.name").as_deref(),
        Some("researcher")
    );
    assert_eq!(
        attr(root, "gen_ai.conversation.id").as_deref(),
        Some("researcher-2026-11-23T22:43:11.764000")
    );
    // Every child belongs to the trace, under the root or under the task it started in
    // (session → task → subagent, tool call), a subagent's calls under its call.
    let ids: Vec<&[u8]> = spans.iter().map(|s| &s.span_id[..]).collect();
    for child in &spans[1..] {
        assert_eq!(child.trace_id, root.trace_id);
        assert!(ids.contains(&&child.parent_span_id[..]), "{child:?}");
        if child.name.starts_with("task ") || child.name == "distillation" {
            assert_eq!(child.parent_span_id, root.span_id);
        }
    }
    let task = |name: &str| spans.iter().find(|s| s.name == name).unwrap();
    assert_eq!(
        task("invoke_agent quant-backtester").parent_span_id,
        task("task h-017").span_id,
        "the subagent spawned in task h-017"
    );
    let subagent = spans
        .iter()
        .find(|s| s.name == "invoke_agent quant-backtester")
        .unwrap();
    assert_eq!(
        attr(subagent, "gen_ai.agent.name").as_deref(),
        Some("quant-backtester")
    );
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool Write")
        .unwrap();
    assert_eq!(attr(tool, "gen_ai.tool.name").as_deref(), Some("Write"));
    let task = spans.iter().find(|s| s.name == "task h-017").unwrap();
    assert_eq!(
        (task.end_time_unix_nano - task.start_time_unix_nano) as i64,
        (record_micros(SESSION_FILE, 19) - record_micros(SESSION_FILE, 8)) * 1000
    );
    // The finding is a span event on the session.
    assert!(root.events.iter().any(|e| e.name == "missing-distillation"));
    // The JSON mapping: hex ids, nanoseconds as strings, camelCase.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("\"traceId\":\"") && text.contains("\"startTimeUnixNano\":\""),
        "{text}"
    );
    // A re-export is identical.
    let again = tempfile::tempdir().unwrap();
    let (path2, _) = otlp_file(SESSION_FILE, again.path());
    assert_eq!(text, std::fs::read_to_string(path2).unwrap());
}

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            StdCommand::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(str::to_owned)
}

/// Renders `html` headless: the DOM after rendering, and the console messages.
fn render(browser: &str, html: &Path, screenshot: Option<&Path>) -> (String, String) {
    let url = format!("file://{}", html.canonicalize().unwrap().display());
    let mut cmd = StdCommand::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1100,1400",
    ]);
    match screenshot {
        Some(png) => cmd.arg(format!("--screenshot={}", png.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd.arg(&url).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_html_report_renders_in_chromium_without_console_errors() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium (.ci/run installs it: apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    qs().args(["check", "--report"])
        .arg(format!("html={}", html.display()))
        .args([SESSION_FILE, HOSTILE, "fixtures/shapes/session.text.log"])
        .assert()
        .code(1);
    let (dom, console) = render(&browser, &html, None);
    assert!(
        dom.contains("<svg class=\"timeline\""),
        "no timeline rendered:\n{dom}"
    );
    assert!(dom.contains("<rect"), "no bars:\n{dom}");
    assert!(
        dom.contains("<td>missing-distillation</td>"),
        "no findings table:\n{dom}"
    );
    let console_lines: Vec<&str> = console.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console_lines.is_empty(),
        "console messages: {console_lines:#?}"
    );
    // A screenshot, kept for review.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("html-report.png");
    let _ = std::fs::remove_file(&png);
    render(&browser, &html, Some(&png));
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "no screenshot at {}", png.display());
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn a_hostile_transcript_renders_inert() {
    let html = stdout(&["check", "--format", "html", HOSTILE, HOSTILE_STREAM]);
    // The page carries one script, its own, and forbids any other: the policy names
    // that script's hash and nothing else (no 'unsafe-inline').
    assert_eq!(html.to_lowercase().matches("<script").count(), 1, "{html}");
    assert_only_our_script_may_run(&html);
    assert!(
        !html.contains("<img") && !html.contains("<svg onload"),
        "{html}"
    );
    // The task id shows as text, the control bytes escaped.
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains(r"\x1b]0;pwned\x07"), "{html}");
    assert!(!html.bytes().any(|b| b == 0x1b || b == 0x07));
    if let Some(browser) = chromium() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hostile.html");
        std::fs::write(&path, &html).unwrap();
        let (dom, console) = render(&browser, &path, None);
        assert_eq!(dom.to_lowercase().matches("<script").count(), 1, "{dom}");
        assert!(
            !dom.contains("<img") && !dom.contains("onerror=\""),
            "{dom}"
        );
        assert!(!console.contains(":CONSOLE"), "{console}");
    }
}

/// What a fake collector received: each request's line, headers (lower-case names)
/// and body.
type Received = std::thread::JoinHandle<Vec<Request>>;

struct Request {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request as its content type says (protobuf by default, or JSON).
    fn decode(&self) -> ExportTraceServiceRequest {
        match self.header("content-type") {
            Some("application/x-protobuf") => {
                <ExportTraceServiceRequest as prost::Message>::decode(&self.body[..]).unwrap()
            }
            Some("application/json") => serde_json::from_slice(&self.body).unwrap(),
            other => panic!("content type {other:?}"),
        }
    }
}

/// A collector on 127.0.0.1 that takes `n` requests, answering each with the next of
/// `statuses` (then 200).
fn collector_answering(n: usize, statuses: &[u16]) -> (String, Received) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let statuses: Vec<u16> = statuses.to_vec();
    let handle = std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        let mut got = Vec::new();
        for stream in listener.incoming().take(n) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap();
                headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            let status = statuses.next().unwrap_or(200);
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            got.push(Request {
                line: line.trim_end().to_owned(),
                headers,
                body,
            });
        }
        got
    });
    (url, handle)
}

fn collector(n: usize) -> (String, Received) {
    collector_answering(n, &[])
}

#[test]
fn otlp_endpoint_posts_the_traces_to_a_collector() {
    // File mode: one request per input, binary protobuf (what the SDKs send by default,
    // and all some stores take).
    let (url, server) = collector(1);
    qs().args(["check", "--otlp-endpoint", &url, SESSION_FILE])
        .assert()
        .code(1);
    let got = server.join().unwrap();
    assert_eq!(got[0].line, "POST /v1/traces HTTP/1.1");
    assert_eq!(
        got[0].header("content-type"),
        Some("application/x-protobuf")
    );
    let request = got[0].decode();
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    assert_eq!(spans[0].name, "invoke_agent researcher");
    // The same trace as the file report: a re-export is identical.
    let dir = tempfile::tempdir().unwrap();
    let (_, file) = otlp_file(SESSION_FILE, dir.path());
    assert_eq!(request, file);

    // Pipe mode: each session as it ends (two sessions, two requests).
    let (url, server) = collector(2);
    let two = "SESSION_START: researcher-2026-11-23T10:15:30\nSESSION_COMPLETE: researcher-2026-11-23T10:15:30\nSESSION_START: researcher-2026-11-23T11:15:30\n";
    qs().args(["check", "--otlp-endpoint", &format!("{url}/v1/traces")])
        .write_stdin(two)
        .assert()
        .code(1);
    let got = server.join().unwrap();
    let roots: Vec<(String, u64)> = got
        .iter()
        .map(|r| {
            let r = r.decode();
            let root = &r.resource_spans[0].scope_spans[0].spans[0];
            let id = root
                .attributes
                .iter()
                .find(|kv| kv.key == "gen_ai.conversation.id")
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(
                        opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s),
                    ) => Some(s.clone()),
                    _ => None,
                })
                .unwrap();
            (id, root.start_time_unix_nano)
        })
        .collect();
    assert_eq!(
        roots.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        [
            "researcher-2026-11-23T10:15:30",
            "researcher-2026-11-23T11:15:30"
        ]
    );
    // A text input has no clock: each session is dated by its id, never 1970
    // (2026-11-23T10:15:30Z and an hour later).
    assert_eq!(roots[0].1, 1_795_428_930_000_000_000);
    assert_eq!(roots[1].1, 1_795_432_530_000_000_000);

    // A collector that is not there: said with its URL when the run ends, exit 2.
    let out = qs()
        .args([
            "check",
            "--otlp-endpoint",
            "http://127.0.0.1:9",
            SESSION_FILE,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("exporting to http://127.0.0.1:9/v1/traces: 1 of 1 requests failed"),
        "{stderr}"
    );
}

#[test]
fn otlp_follows_the_standard_environment_and_retries_a_busy_collector() {
    // `--otlp`: the endpoint, protocol, headers, compression and the resource from the
    // OTEL_* environment; a 503 is retried.
    let (url, server) = collector_answering(2, &[503]);
    qs().args(["check", "--otlp", SESSION_FILE])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &url)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api_key=s3cr%20et,x-team=quant",
        )
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "none")
        .env("OTEL_SERVICE_NAME", "fleet-7")
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=lab")
        .assert()
        .code(1);
    let got = server.join().unwrap();
    assert_eq!(got.len(), 2, "the 503 is retried");
    let last = &got[1];
    assert_eq!(last.header("content-type"), Some("application/json"));
    assert_eq!(last.header("api_key"), Some("s3cr et"));
    assert_eq!(last.header("x-team"), Some("quant"));
    let request = last.decode();
    let resource = request.resource_spans[0].resource.as_ref().unwrap();
    let value = |key: &str| {
        resource
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .map(|v| format!("{:?}", v.value))
    };
    assert!(value("service.name").unwrap().contains("fleet-7"));
    assert!(value("deployment.environment").unwrap().contains("lab"));
    // gzip, as `OTEL_EXPORTER_OTLP_COMPRESSION=gzip` asks.
    let (url, server) = collector(1);
    qs().args(["check", "--otlp", SESSION_FILE])
        .env(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            format!("{url}/v1/traces"),
        )
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        .assert()
        .code(1);
    let got = server.join().unwrap();
    assert_eq!(got[0].header("content-encoding"), Some("gzip"));
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&got[0].body[..]),
        &mut plain,
    )
    .unwrap();
    let _: ExportTraceServiceRequest = prost::Message::decode(&plain[..]).unwrap();
}

#[test]
fn a_collector_that_never_answers_never_holds_up_the_passthrough() {
    // It accepts and says nothing: the export waits on its own thread, within its
    // deadline (OTEL_EXPORTER_OTLP_TIMEOUT), while the worker's lines pass at once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("quant-session"))
        .args(["check", "--otlp-endpoint", &url])
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "2000")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    use std::io::{BufRead, Write};
    let started = std::time::Instant::now();
    for n in 0..3 {
        // A session that ends (its trace is exported), then a line that must pass.
        writeln!(
            stdin,
            "SESSION_START: researcher-2026-11-23T10:15:3{n}\nSESSION_COMPLETE: researcher-2026-11-23T10:15:3{n}\nSESSION_START: x-2026-11-23T10:15:3{n}\nline {n}"
        )
        .unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        while !line.starts_with("line") {
            line.clear();
            stdout.read_line(&mut line).unwrap();
        }
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the passthrough waited for the collector: {:?}",
        started.elapsed()
    );
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("requests failed"), "{stderr}");
}

#[test]
fn log_envelope_timestamps_are_the_clock() {
    // The same session in each envelope: the stripped timestamps place its tasks.
    for preset in ["docker", "cri", "github", "journald"] {
        let file = format!("fixtures/shapes/session.{preset}.log");
        let text = stdout(&[
            "check",
            "--strip-prefix",
            preset,
            "--format",
            "perfetto",
            &file,
        ]);
        let trace: serde_json::Value = serde_json::from_str(&text).unwrap();
        let events = trace["traceEvents"].as_array().unwrap();
        let process = events.iter().find(|e| e["name"] == "process_name").unwrap();
        assert!(
            !process["args"]["name"]
                .as_str()
                .unwrap()
                .contains("no clock"),
            "{preset}: {process}"
        );
        let task = events
            .iter()
            .find(|e| e["cat"] == "task" && e["name"] == "h-017")
            .unwrap();
        // 2026-11-23T22:43:16 to 22:43:22 in every envelope.
        assert_eq!(task["dur"], 6_000_000, "{preset}: {task}");
    }
}

/// `n` sessions of `tasks` tasks each, never completed: the worst case of SPEC §6,
/// smaller.
fn open_tasks(dir: &Path, sessions: usize, tasks: usize) -> PathBuf {
    use std::fmt::Write as _;
    let mut text = String::new();
    for s in 0..sessions {
        let _ = writeln!(text, "SESSION_START: researcher-2026-11-23T10:00:00.{s:06}");
        for t in 0..tasks {
            let _ = writeln!(text, "TASK_START: h-{s:02}-{t:05}\nbacktest run");
        }
    }
    let path = dir.join("open-tasks.log");
    std::fs::write(&path, text).unwrap();
    path
}

/// The pictures of `input`: the HTML page, the OTLP/JSON Lines and the Perfetto trace.
fn pictures(input: &Path, dir: &Path) -> (String, String, serde_json::Value) {
    let html = dir.join("report.html");
    let otlp = dir.join("traces.jsonl");
    let perfetto = dir.join("trace.json");
    qs().args(["check", "--format", "concise", "--report"])
        .arg(format!("html={}", html.display()))
        .arg("--report")
        .arg(format!("otlp={}", otlp.display()))
        .arg("--report")
        .arg(format!("perfetto={}", perfetto.display()))
        .arg(input)
        .assert()
        .code(1);
    let trace = serde_json::from_str(&std::fs::read_to_string(perfetto).unwrap()).unwrap();
    (
        std::fs::read_to_string(html).unwrap(),
        std::fs::read_to_string(otlp).unwrap(),
        trace,
    )
}

fn resource_int(r: &opentelemetry_proto::tonic::trace::v1::ResourceSpans, key: &str) -> i64 {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    r.resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::IntValue(i) => Some(*i),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {key} on {r:?}"))
}

#[test]
fn pictures_past_the_cap_per_input_say_what_they_left_out() {
    // 11 000 tasks never completed, in two sessions: 1 000 past the cap of 10 000 spans
    // per input (and as many findings, 1 000 past theirs).
    let dir = tempfile::tempdir().unwrap();
    let input = open_tasks(dir.path(), 2, 5_500);
    let (html, otlp, trace) = pictures(&input, dir.path());

    // The page says it, under the input's heading, and under the session cut short.
    assert!(
        html.contains(
            "Left out of this picture: 10000 of 11000 spans and 10000 of 11005 findings kept, \
             the rest left out (caps: 10000 spans and 10000 findings per input, 20000 of each \
             per session)."
        ),
        "{}",
        &html[..html.len().min(4000)]
    );
    assert!(html.contains("more findings of this session are not drawn."));
    // The tasks all overlap: 32 rows of them and one overflow row that counts the rest.
    assert!(
        html.contains(">+5468 overlapping</text>"),
        "no overflow row"
    );
    assert_eq!(html.matches("<rect").count(), 2 + 10_000);

    // OTLP/JSON Lines: one request per session, each a valid request; the resource says
    // what the input left out, the root of the session cut short how much of it.
    let request = read_otlp_lines(&otlp);
    assert_eq!(otlp.lines().count(), 2);
    assert_eq!(request.resource_spans.len(), 2);
    for r in &request.resource_spans {
        assert_eq!(resource_int(r, "quant_session.spans_left_out"), 1_000);
        assert_eq!(resource_int(r, "quant_session.findings_left_out"), 1_005);
        assert_eq!(resource_int(r, "quant_session.sessions_dropped"), 0);
    }
    let spans: usize = request
        .resource_spans
        .iter()
        .map(|r| r.scope_spans[0].spans.len())
        .sum();
    assert_eq!(spans, 2 + 10_000);
    let second = &request.resource_spans[1].scope_spans[0].spans[0];
    assert!(
        second
            .attributes
            .iter()
            .any(|kv| kv.key == "quant_session.dropped"),
        "{second:?}"
    );

    // Perfetto: an instant event `left out` that counts it and says why; at most 33
    // tracks of tasks per session.
    let events = trace["traceEvents"].as_array().unwrap();
    let left_out = events
        .iter()
        .find(|e| e["name"] == "left out" && e["ph"] == "i")
        .unwrap_or_else(|| panic!("no `left out` event"));
    assert_eq!(left_out["args"]["spans_seen"], 11_000);
    assert_eq!(left_out["args"]["spans_kept"], 10_000);
    assert!(
        left_out["args"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Left out of this picture: 10000 of 11000 spans")
    );
    let tracks = events.iter().filter(|e| e["name"] == "thread_name").count();
    assert!(tracks <= 2 * (1 + 33) + 1, "{tracks} tracks");
    assert!(
        events
            .iter()
            .any(|e| e["args"]["name"] == "tasks: +5468 overlapping"),
        "no overflow track"
    );
}

#[test]
fn pictures_say_which_sessions_of_an_input_they_left_out() {
    // 1 002 sessions: only the last 1 000 of an input are kept.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for s in 0..1_002 {
        text.push_str(&format!(
            "SESSION_START: researcher-2026-11-23T10:00:00.{s:06}\nTASK_START: h-{s}\n"
        ));
    }
    let input = dir.path().join("many.log");
    std::fs::write(&input, text).unwrap();
    let (html, otlp, trace) = pictures(&input, dir.path());
    let said = "the first 2 sessions of this input left out (only the last 1000 are kept)";
    assert!(html.contains(said), "no note in the page");
    let request = read_otlp_lines(&otlp);
    assert_eq!(request.resource_spans.len(), 1_000);
    assert_eq!(
        resource_int(&request.resource_spans[0], "quant_session.sessions_dropped"),
        2
    );
    let events = trace["traceEvents"].as_array().unwrap();
    let left_out = events.iter().find(|e| e["name"] == "left out").unwrap();
    assert_eq!(left_out["args"]["sessions_dropped"], 2);
    assert!(left_out["args"]["message"].as_str().unwrap().contains(said));
}

#[test]
fn pictures_past_the_cap_per_run_say_what_they_left_out() {
    // Three inputs of 8 000 tasks never completed, each under the caps per input: 24 000
    // spans and as many findings, past the cap of 40 000 per picture and run.
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let inputs: Vec<PathBuf> = dirs
        .iter()
        .map(|d| open_tasks(d.path(), 1, 8_000))
        .collect();
    let out = tempfile::tempdir().unwrap();
    let (html, otlp, perfetto) = (
        out.path().join("report.html"),
        out.path().join("traces.jsonl"),
        out.path().join("trace.json"),
    );
    qs().args(["check", "--format", "concise", "--report"])
        .arg(format!("html={}", html.display()))
        .arg("--report")
        .arg(format!("otlp={}", otlp.display()))
        .arg("--report")
        .arg(format!("perfetto={}", perfetto.display()))
        .args(&inputs)
        .assert()
        .code(1);
    let page = std::fs::read_to_string(html).unwrap();
    assert!(
        page.contains("of this input left out of this page past its cap of 40000 per run."),
        "no run note in the page"
    );
    let request = read_otlp_lines(&std::fs::read_to_string(otlp).unwrap());
    assert!(request.resource_spans.iter().any(|r| {
        r.scope_spans[0].spans[0]
            .attributes
            .iter()
            .any(|kv| kv.key == "quant_session.left_out_past_run_cap")
    }));
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(perfetto).unwrap()).unwrap();
    assert!(
        trace["otherData"]["left_out_past_run_cap"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "left out"
                && e["args"]["left_out_past_run_cap"].as_u64().unwrap_or(0) > 0)
    );
}

#[test]
fn under_run_the_sessions_join_the_callers_trace() {
    // A worker started inside a traced job (TRACEPARENT): its sessions are spans of that
    // trace, their roots children of the job's span.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.otlp.jsonl");
    qs().args(["run", "--no-pty", "--report"])
        .arg(format!("otlp={}", path.display()))
        .args(["--", "cat", SESSION_FILE])
        .env(
            "TRACEPARENT",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .assert()
        .code(1);
    let request = read_otlp_lines(&std::fs::read_to_string(&path).unwrap());
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    let trace: Vec<u8> = (0..16)
        .map(|i| {
            u8::from_str_radix(&"4bf92f3577b34da6a3ce929d0e0e4736"[i * 2..i * 2 + 2], 16).unwrap()
        })
        .collect();
    assert!(spans.iter().all(|s| s.trace_id == trace));
    assert_eq!(
        spans[0].parent_span_id,
        vec![0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
    );
    // A malformed one is said, and the sessions keep traces of their own.
    let out = qs()
        .args(["run", "--no-pty", "--", "true"])
        .env("TRACEPARENT", "not-a-traceparent")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a W3C traceparent"));
}

#[test]
fn a_collector_that_trickles_its_answer_is_held_to_the_deadline() {
    // One byte of its status line every half second: the request's deadline
    // (OTEL_EXPORTER_OTLP_TIMEOUT) ends it, not the collector; said, exit 2.
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = stream.read(&mut buf);
                for b in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" {
                    if stream.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
            });
        }
    });
    let started = std::time::Instant::now();
    let out = qs()
        .args(["check", "--otlp-endpoint", &url, SESSION_FILE])
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "1500")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("requests failed"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

/// Findings go to the logs endpoint too, as log records in the session's trace (event
/// `quant_session.finding`); a collector without a logs route (404, as Phoenix) is said
/// once and is no failure; `OTEL_LOGS_EXPORTER=none` sends none.
#[test]
fn otlp_sends_the_findings_as_log_records() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    let with_logs = || {
        let mut c = Command::cargo_bin("quant-session").unwrap();
        c.timeout(std::time::Duration::from_secs(60));
        c.env_remove("OTEL_LOGS_EXPORTER");
        c
    };
    let (url, server) = collector(2);
    with_logs()
        .args(["check", "--otlp-endpoint", &url, SESSION_FILE])
        .assert()
        .code(1);
    let got = server.join().unwrap();
    let mut lines: Vec<&str> = got.iter().map(|r| r.line.as_str()).collect();
    lines.sort();
    assert_eq!(
        lines,
        ["POST /v1/logs HTTP/1.1", "POST /v1/traces HTTP/1.1"]
    );
    let traces = got
        .iter()
        .find(|r| r.line.contains("traces"))
        .unwrap()
        .decode();
    let logs = got.iter().find(|r| r.line.contains("logs")).unwrap();
    let logs: ExportLogsServiceRequest = prost::Message::decode(&logs.body[..]).unwrap();
    let records = &logs.resource_logs[0].scope_logs[0].log_records;
    let root = &traces.resource_spans[0].scope_spans[0].spans[0];
    assert!(!records.is_empty());
    for r in records {
        assert_eq!(r.event_name, "quant_session.finding");
        assert_eq!(r.trace_id, root.trace_id);
        assert_eq!(r.span_id, root.span_id);
        assert!(r.time_unix_nano >= root.start_time_unix_nano, "{r:?}");
        assert!(matches!(r.severity_text.as_str(), "ERROR" | "WARN"));
    }
    // As many records as span events: the same findings.
    assert_eq!(records.len(), root.events.len());

    // A collector that takes no logs: a note, and the run's verdict as without it.
    let (url, server) = collector_answering(2, &[]);
    let logs_404 = {
        // The logs request gets 404, whichever comes first.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let traces = format!("{url}/v1/traces");
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            if let Some(Ok(mut s)) = listener.incoming().next() {
                let mut buf = [0u8; 65536];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        (base, traces)
    };
    let out = with_logs()
        .args(["check", "--otlp", SESSION_FILE])
        .env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &logs_404.1)
        .env(
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            format!("{}/v1/logs", logs_404.0),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the collector answered 404 at") && stderr.contains("it takes no logs"),
        "{stderr}"
    );
    drop(server);

    // OTEL_LOGS_EXPORTER=none: traces only.
    let (url, server) = collector(1);
    with_logs()
        .args(["check", "--otlp-endpoint", &url, SESSION_FILE])
        .env("OTEL_LOGS_EXPORTER", "none")
        .assert()
        .code(1);
    let got = server.join().unwrap();
    assert_eq!(got[0].line, "POST /v1/traces HTTP/1.1");
}

/// Real captures of each CLI, read where the project keeps them (`../shared`), never
/// copied in: a Claude Code stream with subagents, a Claude Code session file, a Codex
/// exec stream, a Gemini stream.
const CAPTURES: &[&str] = &[
    "../shared/real-world/claude-stream/obers_ui-last_raw_stream-3038d2df.jsonl",
    "../shared/real-world/claude-session/agentcmd-full-session-four.jsonl",
    "../shared/real-world/codex/hivemind-issue642-run1.jsonl",
    "../shared/real-world/gemini/switchboard-tool-use.stream.jsonl",
];

/// The first `n` characters of `s` up to its first line break, as a browser's DOM
/// serializes text (`&`, `<`, `>` as entities).
fn as_dom_text(s: &str, n: usize) -> String {
    let head: String = s.chars().take_while(|c| *c != '\n').take(n).collect();
    head.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// What a capture's worker said first and the first input of a tool it called (a
/// string value of the input), from the capture's own records.
fn said_and_called(capture: &str) -> (String, String) {
    let text = std::fs::read_to_string(capture).unwrap();
    let (mut said, mut called) = (None, None);
    for line in text.lines() {
        let Ok(r) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let first_string = |v: &serde_json::Value| {
            v.as_object()
                .and_then(|o| o.values().find_map(|v| v.as_str().map(str::to_owned)))
        };
        match r["type"].as_str() {
            // Claude Code: the assistant's blocks.
            Some("assistant") if r["parent_tool_use_id"].is_null() => {
                for b in r["message"]["content"].as_array().into_iter().flatten() {
                    match b["type"].as_str() {
                        Some("text") if said.is_none() => {
                            said = b["text"].as_str().map(str::to_owned)
                        }
                        Some("tool_use") if called.is_none() => called = first_string(&b["input"]),
                        _ => {}
                    }
                }
            }
            // Codex exec: completed items.
            Some("item.completed") => match r["item"]["type"].as_str() {
                Some("agent_message") if said.is_none() => {
                    said = r["item"]["text"].as_str().map(str::to_owned)
                }
                Some("command_execution") if called.is_none() => {
                    called = r["item"]["command"].as_str().map(str::to_owned)
                }
                _ => {}
            },
            // Gemini: the assistant's messages and the tools it used.
            Some("message") if r["role"] == "assistant" && said.is_none() => {
                said = r["content"].as_str().map(str::to_owned)
            }
            Some("tool_use") if called.is_none() => called = first_string(&r["parameters"]),
            _ => {}
        }
    }
    (
        said.unwrap_or_else(|| panic!("{capture}: no message of the worker")),
        called.unwrap_or_else(|| panic!("{capture}: no tool call")),
    )
}

/// The start tags of a DOM (text nodes hold `&lt;`, never `<`).
fn tags(dom: &str) -> impl Iterator<Item = &str> {
    dom.split('<').skip(1).filter_map(|t| t.split('>').next())
}

/// The value of the attribute `name` in a start tag.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    tag.split(&format!(" {name}=\"")).nth(1)?.split('"').next()
}

/// Every element id of a DOM.
fn ids(dom: &str) -> std::collections::HashSet<&str> {
    tags(dom).filter_map(|t| attribute(t, "id")).collect()
}

/// The attribute `name` of the element whose `id` is `id`, in a DOM.
fn element<'d>(dom: &'d str, id: &str) -> &'d str {
    let at = dom
        .find(&format!(" id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id}"));
    let start = dom[..at].rfind('<').unwrap();
    let tag: String = dom[start + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let end = dom[at..]
        .find(&format!("</{tag}>"))
        .map_or(dom.len(), |e| at + e);
    &dom[start..end]
}

#[test]
fn the_replay_shows_every_input_kind_and_links_findings_both_ways_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium (.ci/run installs it: apt-get install chromium)");
        return;
    };
    if let Some(missing) = CAPTURES.iter().find(|c| !Path::new(c).exists()) {
        eprintln!("skipped: {missing} is not there (the real captures live in ../shared)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("replay.html");
    qs().args(["check", "--report"])
        .arg(format!("html={}", html.display()))
        .args(CAPTURES)
        .args(["fixtures/shapes/", HOSTILE_STREAM])
        .assert()
        .code(1);
    let (dom, console) = render(&browser, &html, None);
    let console_lines: Vec<&str> = console.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console_lines.is_empty(), "console: {console_lines:#?}");
    // The page's script ran (its hash let it): the search box is shown.
    assert!(dom.contains("<div id=\"tools\">"), "the script did not run");
    // Without its script (blocked, or scripts off) the page reads the same; only the
    // search box stays hidden.
    let page = std::fs::read_to_string(&html).unwrap();
    let (head, rest) = page.split_once("<script>").unwrap();
    let without = dir.path().join("without-script.html");
    std::fs::write(
        &without,
        format!("{head}{}", rest.split_once("</script>").unwrap().1),
    )
    .unwrap();
    let (still, _) = render(&browser, &without, None);
    assert!(
        still.contains("<div id=\"tools\" hidden=\"\">"),
        "the script ran"
    );
    assert_eq!(
        still.matches("<li class=\"").count(),
        dom.matches("<li class=\"").count()
    );

    // The totals and the index come before the first input, failed inputs first.
    let first_input = dom.find("<section class=\"input\"").expect("no input part");
    let totals = dom.find("id=\"totals\"").expect("no totals");
    let index = dom.find("id=\"index\"").expect("no index");
    assert!(totals < index && index < first_input);
    let verdicts: Vec<&str> = dom[index..first_input]
        .split("<td class=\"")
        .skip(1)
        .filter_map(|c| c.split('>').nth(1)?.split('<').next())
        .collect();
    assert_eq!(verdicts.len(), CAPTURES.len() + 19, "{verdicts:?}");
    let first_not_failed = verdicts.iter().position(|v| *v != "failed").unwrap();
    assert!(
        verdicts[first_not_failed..].iter().all(|v| *v != "failed"),
        "failed inputs not first: {verdicts:?}"
    );

    // Every internal link resolves.
    let ids = ids(&dom);
    let hrefs: Vec<&str> = tags(&dom)
        .filter_map(|t| attribute(t, "href")?.strip_prefix('#'))
        .collect();
    assert!(hrefs.len() > 100, "{} links", hrefs.len());
    for href in &hrefs {
        assert!(ids.contains(href), "#{href} leads nowhere");
    }

    // Each capture: its part, with the worker's first message and a tool's input.
    let parts: Vec<&str> = dom.split("<section class=\"input\"").skip(1).collect();
    for capture in CAPTURES {
        let part = parts
            .iter()
            .find(|p| p.contains(&format!("<h2>{capture}</h2>")))
            .unwrap_or_else(|| panic!("no part for {capture}"));
        let (said, called) = said_and_called(capture);
        let said = as_dom_text(said.trim_start(), 40);
        let called = as_dom_text(&called, 40);
        assert!(said.len() >= 8 && called.len() >= 8, "{said:?} {called:?}");
        eprintln!("{capture}: said {said:?}, called {called:?}");
        assert!(part.contains(&said), "{capture}: no message {said:?}");
        assert!(
            part.contains(&called),
            "{capture}: no tool input {called:?}"
        );
        assert!(part.contains("<details>"), "{capture}: no folded result");
    }
    // Every shape of the fixtures: agent CLIs show messages and calls, plain
    // transcripts their lines with the marker lines marked.
    for kind in [
        "stream-json",
        "transcript",
        "codex",
        "codex-rollout",
        "gemini",
        "gemini-chat",
        "gemini-json",
    ] {
        let name = format!("<h2>fixtures/shapes/session.{kind}.log</h2>");
        let part = parts.iter().find(|p| p.contains(&name)).unwrap();
        assert!(
            part.contains("<li class=\"msg worker\""),
            "{kind}: no message"
        );
        if kind != "gemini-json" {
            assert!(part.contains("<li class=\"call"), "{kind}: no tool call");
        }
    }
    let text = parts
        .iter()
        .find(|p| p.contains("<h2>fixtures/shapes/session.text.log</h2>"))
        .unwrap();
    assert!(text.contains("<li class=\"line marker\""), "no marker line");
    assert!(text.contains("<li class=\"line\""), "no plain line");
    // A Claude Code subagent's calls are nested under the worker's.
    let stream = parts
        .iter()
        .find(|p| p.contains("<h2>fixtures/shapes/session.stream-json.log</h2>"))
        .unwrap();
    assert!(
        stream.contains("<li class=\"call nested\""),
        "no nested call"
    );

    // From the index to an input, to a finding, to its line, and back.
    let row = element(&dom, "index");
    let to_input = row
        .split("href=\"#")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let input = element(&dom, to_input);
    let finding = input
        .split("<tr class=\"finding\" id=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a finding in the first input listed");
    let to_line = element(&dom, finding)
        .split("class=\"to-line\" href=\"#")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the finding links to its line");
    let line = element(&dom, to_line);
    assert!(
        line.contains(&format!("href=\"#{finding}\"")),
        "the line does not link back to {finding}: {line}"
    );

    // Markup in what the worker said stays text.
    let hostile = parts
        .iter()
        .find(|p| p.contains(&format!("<h2>{HOSTILE_STREAM}</h2>")))
        .unwrap();
    assert!(hostile.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(hostile.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(hostile.contains("&lt;iframe src=javascript:alert(5)&gt;"));
    assert!(hostile.contains(r"\x1b]0;pwned\x07"));
    for tag in ["<img", "<iframe", "<svg onload"] {
        assert!(!dom.contains(tag), "{tag} in the DOM");
    }
    assert_eq!(dom.matches("<script").count(), 1);
}

#[test]
fn redact_shows_the_replay_by_lengths_only() {
    let html = stdout(&["check", "--format", "html", "--redact", HOSTILE_STREAM]);
    assert!(html.contains("[message: "), "{html}");
    assert!(html.contains("[result: 64 bytes redacted]"), "{html}");
    for secret in ["alert(", "pwned", "onload", "echo"] {
        assert!(!html.contains(secret), "{secret} in a redacted page");
    }
    // The protocol stays: the session, the findings.
    assert!(html.contains("researcher-2026-11-23T10:15:30"));
    assert!(html.contains("missing-distillation"));
}

#[test]
fn a_session_files_subagents_are_nested_in_the_replay() {
    // Claude Code 2.1 keeps a subagent's records beside the session file: what the
    // subagent said and did is shown under the worker's, where its run is told.
    let html = stdout(&[
        "check",
        "--format",
        "html",
        "fixtures/transcripts/subagent-files.log",
    ]);
    let nested = html
        .split("<li class=\"msg subagent nested\"")
        .nth(1)
        .expect("no subagent message");
    assert!(
        nested.starts_with('>') || nested.starts_with(" id="),
        "{nested}"
    );
    assert!(
        nested.contains("TASK_COMPLETE: inside-the-subagent"),
        "{nested}"
    );
    assert!(html.contains("<li class=\"call nested\""), "{html}");
    assert!(html.contains("<li class=\"result nested\""), "{html}");
}

/// A `watch` runs until Ctrl-C: stopping it still delivers what it followed (each
/// file's sessions, a session still open as `open` and no crash, an agent CLI's
/// transcript without protocol sessions as the CLI's run), and a collector that takes
/// nothing holds the stop up for half a second and is said.
#[test]
fn a_watch_stopped_by_ctrl_c_delivers_its_last_traces() {
    let dir = tempfile::tempdir().unwrap();
    let watched = dir.path().join("panes");
    std::fs::create_dir(&watched).unwrap();
    for file in ["clean.log", "crashed-mid-task.log"] {
        std::fs::copy(
            Path::new("fixtures/sessions").join(file),
            watched.join(file),
        )
        .unwrap();
    }
    // A Codex transcript whose worker never printed the protocol.
    let codex = std::fs::read_to_string("fixtures/shapes/health.codex.log")
        .unwrap()
        .replace("SESSION_START: ", "session start ");
    std::fs::write(watched.join("codex.jsonl"), codex).unwrap();
    let watch = |url: &str| {
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("quant-session"))
            .args(["watch", "--format", "json", "--otlp-endpoint", url])
            .arg(&watched)
            .env("OTEL_LOGS_EXPORTER", "none")
            .env("OTEL_EXPORTER_OTLP_TIMEOUT", "10000")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_secs(2));
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        let started = std::time::Instant::now();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            started.elapsed(),
        )
    };

    // clean.log's session as it ends; the other two files' when the watch stops.
    let (url, server) = collector(3);
    let (code, stderr, _) = watch(&url);
    assert_eq!(code, Some(130), "{stderr}");
    let got = server.join().unwrap();
    let spans: Vec<_> = got
        .iter()
        .flat_map(|r| r.decode().resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect();
    let root = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name && s.parent_span_id.is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "{name}: {:?}",
                    spans.iter().map(|s| &s.name).collect::<Vec<_>>()
                )
            })
    };
    let attr = |s: &opentelemetry_proto::tonic::trace::v1::Span, key: &str| {
        s.attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.clone())
            .and_then(|v| v.value)
    };
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    let researchers: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "invoke_agent researcher")
        .collect();
    assert_eq!(researchers.len(), 2);
    let open: Vec<_> = researchers
        .iter()
        .filter(|s| {
            attr(s, "quant_session.session.status") == Some(Value::StringValue("open".into()))
        })
        .collect();
    assert_eq!(
        open.len(),
        1,
        "the session still open when the watch stopped"
    );
    assert_eq!(open[0].status.as_ref().unwrap().code, 0, "Unset, not Error");
    let codex = root("invoke_agent codex");
    assert_eq!(
        attr(codex, "gen_ai.conversation.id"),
        Some(Value::StringValue(
            "019a2d7a-6455-7170-a661-c6d8b94c6aaa".into()
        )),
        "the CLI's thread id"
    );
    assert_eq!(
        attr(codex, "gen_ai.usage.input_tokens"),
        Some(Value::IntValue(120_000))
    );
    let tools = spans
        .iter()
        .filter(|s| s.parent_span_id == codex.span_id && s.name.starts_with("execute_tool"))
        .count();
    assert_eq!(tools, 7, "its two reads and five backtests");

    // A collector that accepts and never answers: the stop waits half a second, no
    // more, and says what was not delivered.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let (code, stderr, took) = watch(&url);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    assert!(stderr.contains("not sent within the deadline"), "{stderr}");
    assert!(!stderr.contains("could not be finished"), "{stderr}");
}

/// The page after its reviews: `--redact` keeps the findings' messages out too (they
/// quote the transcript); an input that could not be read is named at the top; a run
/// interrupted by Ctrl-C says so there.
#[test]
fn the_page_never_reads_cleaner_than_the_run_was() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.log");
    std::fs::write(
        &secret,
        "SESSION_START: researcher-2026-11-23T10:15:30\nFILES_CREATED: sk-live-0123456789\n",
    )
    .unwrap();
    let page = dir.path().join("page.html");
    let out = qs()
        .args(["check", "--redact", "--report"])
        .arg(format!("html={}", page.display()))
        .arg(&secret)
        .arg(dir.path().join("missing.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("sk-live"),
        "the redacted page quotes the payload"
    );
    assert!(html.contains("malformed-marker"), "the rule is still named");
    assert!(
        html.contains("Not read in full"),
        "the unreadable input is said"
    );
    assert!(html.contains("missing.log"));

    // Interrupted while reading a pipe: the page says the run was cut short.
    let page = dir.path().join("cut.html");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("quant-session"))
        .args(["check", "--report"])
        .arg(format!("html={}", page.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    use std::io::Write;
    writeln!(
        stdin,
        "SESSION_START: researcher-2026-11-23T10:15:30\nTASK_START: h-1"
    )
    .unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(130));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("The run was interrupted by SIGINT"), "{html}");
}
