//! Agent health (SPEC §3, issue 29): the usage each CLI reported, read back through the
//! binary and compared with the figures computed here, independently, from the same
//! captures with serde_json.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn real_world() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-world");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/real-world is not here (a user's clone has no ../shared)");
        None
    }
}

/// The JSON summary's `usage` of one input, as the binary reports it.
fn reported(path: &Path) -> Option<Value> {
    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{path:?}: {out:?}"
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["kind"] == "summary")
        .and_then(|v| v.get("usage").cloned())
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// (input, output, total) as the CLI's own records say.
fn expected(kind: &str, path: &Path) -> Option<(u64, u64, u64, Option<f64>)> {
    match kind {
        "claude-stream" => {
            let results: Vec<Value> = records(path)
                .into_iter()
                .filter(|r| r["type"] == "result")
                .collect();
            let last = results.last()?;
            let cost = last["total_cost_usd"].as_f64();
            if let Some(models) = last["modelUsage"].as_object() {
                let (mut i, mut o, mut t) = (0, 0, 0);
                for m in models.values() {
                    i += n(&m["inputTokens"]);
                    o += n(&m["outputTokens"]);
                    t += n(&m["inputTokens"])
                        + n(&m["outputTokens"])
                        + n(&m["cacheReadInputTokens"])
                        + n(&m["cacheCreationInputTokens"]);
                }
                return Some((i, o, t, cost));
            }
            let (mut i, mut o, mut t) = (0, 0, 0);
            for r in &results {
                let u = &r["usage"];
                i += n(&u["input_tokens"]);
                o += n(&u["output_tokens"]);
                t += n(&u["input_tokens"])
                    + n(&u["output_tokens"])
                    + n(&u["cache_read_input_tokens"])
                    + n(&u["cache_creation_input_tokens"]);
            }
            Some((i, o, t, cost))
        }
        "claude-session" => {
            // Each assistant message once, wherever its records are (they repeat its
            // usage), the last record of an id winning.
            let mut by_id: Vec<(String, Value)> = Vec::new();
            for r in records(path) {
                if r["type"] != "assistant" || r["message"]["usage"].is_null() {
                    continue;
                }
                let id = r["message"]["id"].as_str().unwrap_or("").to_owned();
                match by_id
                    .iter_mut()
                    .find(|(seen, _)| *seen == id && !id.is_empty())
                {
                    Some((_, u)) => *u = r["message"]["usage"].clone(),
                    None => by_id.push((id, r["message"]["usage"].clone())),
                }
            }
            if by_id.is_empty() {
                return None;
            }
            let (mut i, mut o, mut t) = (0, 0, 0);
            for (_, u) in by_id {
                i += n(&u["input_tokens"]);
                o += n(&u["output_tokens"]);
                t += n(&u["input_tokens"])
                    + n(&u["output_tokens"])
                    + n(&u["cache_read_input_tokens"])
                    + n(&u["cache_creation_input_tokens"]);
            }
            Some((i, o, t, None))
        }
        "codex" => {
            let recs = records(path);
            if recs.iter().any(|r| r["type"] == "turn.completed") {
                let (mut i, mut o) = (0, 0);
                for r in recs.iter().filter(|r| r["type"] == "turn.completed") {
                    i += n(&r["usage"]["input_tokens"]);
                    o += n(&r["usage"]["output_tokens"]);
                }
                return (i + o > 0).then_some((i, o, i + o, None));
            }
            let last = recs.iter().rev().find(|r| {
                r["payload"]["type"] == "token_count" && !r["payload"]["info"].is_null()
            })?;
            let u = &last["payload"]["info"]["total_token_usage"];
            Some((
                n(&u["input_tokens"]),
                n(&u["output_tokens"]),
                n(&u["total_tokens"]),
                None,
            ))
        }
        "gemini" => {
            let text = std::fs::read_to_string(path).unwrap();
            if let Ok(doc) = serde_json::from_str::<Value>(&text) {
                let (mut i, mut o, mut t) = (0, 0, 0);
                if let Some(messages) = doc["messages"].as_array() {
                    for m in messages.iter().filter(|m| m["type"] == "gemini") {
                        i += n(&m["tokens"]["input"]);
                        o += n(&m["tokens"]["output"]);
                        t += n(&m["tokens"]["total"]);
                    }
                } else if let Some(models) = doc["stats"]["models"].as_object() {
                    for m in models.values() {
                        i += n(&m["tokens"]["prompt"]);
                        o += n(&m["tokens"]["candidates"]);
                        t += n(&m["tokens"]["total"]);
                    }
                }
                return (t > 0).then_some((i, o, t, None));
            }
            let recs = records(path);
            let (mut i, mut o, mut t) = (0, 0, 0);
            for r in recs.iter().filter(|r| r["type"] == "result") {
                i += n(&r["stats"]["input_tokens"]);
                o += n(&r["stats"]["output_tokens"]);
                t += n(&r["stats"]["total_tokens"]);
            }
            if t > 0 {
                return Some((i, o, t, None));
            }
            // A chat file in JSON Lines: the messages' tokens.
            for m in recs.iter().filter(|r| r["type"] == "gemini") {
                i += n(&m["tokens"]["input"]);
                o += n(&m["tokens"]["output"]);
                t += n(&m["tokens"]["total"]);
            }
            (t > 0).then_some((i, o, t, None))
        }
        _ => None,
    }
}

/// On every real capture of every CLI, the summary's `usage` is what the CLI reported:
/// the input, output and total tokens, and the cost where the CLI gives one.
#[test]
fn usage_is_what_each_cli_reported_on_every_real_capture() {
    let Some(root) = real_world() else { return };
    let mut checked = std::collections::BTreeMap::<&str, usize>::new();
    for kind in ["claude-stream", "claude-session", "codex", "gemini"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for path in files {
            let want = expected(kind, &path);
            let got = reported(&path);
            match (want, got) {
                (None, None) => {}
                (Some((i, o, t, cost)), Some(u)) => {
                    assert_eq!(n(&u["input_tokens"]), i, "{path:?}: input {u}");
                    assert_eq!(n(&u["output_tokens"]), o, "{path:?}: output {u}");
                    assert_eq!(n(&u["total_tokens"]), t, "{path:?}: total {u}");
                    assert_eq!(u["cost_usd"].as_f64(), cost, "{path:?}: cost {u}");
                    *checked.entry(kind).or_default() += 1;
                }
                (want, got) => panic!("{path:?}: expected {want:?}, reported {got:?}"),
            }
        }
    }
    eprintln!("usage checked on {checked:?}");
    for kind in ["claude-stream", "claude-session", "codex", "gemini"] {
        assert!(
            checked.get(kind).copied().unwrap_or(0) >= 2,
            "{kind}: {checked:?}"
        );
    }
}

/// `--statistics` sums the usage of the run's inputs, and says how many reported one.
#[test]
fn statistics_sum_the_usage_of_a_run() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/shapes");
    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .args(["check", "--statistics"])
        .arg(fixtures.join("session.codex.log"))
        .arg(fixtures.join("session.gemini.log"))
        .arg(fixtures.join("session.stream-json.log"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // 6 169 (Codex) + 11 431 (Gemini); the Claude stream reports a cost only.
    assert!(
        text.contains(
            "usage: 17 600 tokens (17 108 in, 492 out, 4 992 cache read), $0.42 [gemini-2.5-pro] (as reported by 3 inputs)"
        ),
        "{text}"
    );
}

/// A real capture of each CLI kind, with one of its tool calls repeated four more times
/// in place: tool-loop fires there, and nowhere on the capture as it is.
#[test]
fn a_loop_derived_from_a_real_capture_of_each_cli_fires_and_the_capture_stays_clean() {
    let Some(root) = real_world() else { return };
    type IsCall = fn(&Value) -> bool;
    let cases: [(&str, IsCall); 5] = [
        ("claude-stream/switchboard-tool-vocabulary.jsonl", |r| {
            r["type"] == "assistant"
                && r["message"]["content"][0]["type"] == "tool_use"
                && r["parent_tool_use_id"].is_null()
        }),
        ("claude-session/spotter-short.jsonl", |r| {
            r["type"] == "assistant" && r["message"]["content"][0]["type"] == "tool_use"
        }),
        ("codex/hivemind-issue642-run1.jsonl", |r| {
            r["type"] == "item.completed" && r["item"]["type"] == "command_execution"
        }),
        ("codex/agentcmd-rollout-2025-09-25T15-12-14.jsonl", |r| {
            r["payload"]["type"] == "function_call"
        }),
        ("gemini/switchboard-tool-use.stream.jsonl", |r| {
            r["type"] == "tool_use"
        }),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, is_call) in cases {
        let path = root.join(name);
        let rules = |p: &Path| -> Vec<String> {
            let out = Command::cargo_bin("quant-session")
                .unwrap()
                .args(["check", "--format", "json"])
                .arg(p)
                .output()
                .unwrap();
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .filter(|v| v["kind"] == "diagnostic")
                .map(|v| v["rule"].as_str().unwrap().to_owned())
                .collect()
        };
        assert!(
            !rules(&path).contains(&"tool-loop".to_owned()),
            "{name} as it is"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let mut looped = String::new();
        let mut done = false;
        for line in text.lines() {
            looped.push_str(line);
            looped.push('\n');
            let call = serde_json::from_str::<Value>(line).is_ok_and(|r| is_call(&r));
            if call && !done {
                for _ in 0..4 {
                    looped.push_str(line);
                    looped.push('\n');
                }
                done = true;
            }
        }
        assert!(done, "{name}: no tool call found");
        let copy = dir.path().join(name.replace('/', "-"));
        std::fs::write(&copy, looped).unwrap();
        let found = rules(&copy);
        assert_eq!(
            found.iter().filter(|r| *r == "tool-loop").count(),
            1,
            "{name} with a call repeated: {found:?}"
        );
    }
}

/// `--budget` and `[budget]`: a bad limit is a usage error naming it; the settings show
/// the budget in effect.
#[test]
fn budgets_are_read_from_the_flag_and_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("quant-session.toml"),
        "poll-tools = [\"wait\"]\n[budget]\ntokens = 50000\nduration = \"2h\"\n",
    )
    .unwrap();
    let qs = || {
        let mut c = Command::cargo_bin("quant-session").unwrap();
        c.current_dir(dir.path());
        c
    };
    let out = qs().args(["check", "--show-settings"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("budget: tokens=50000, duration=2h\n"),
        "{text}"
    );
    assert!(text.contains("poll tools: wait\n"), "{text}");
    let out = qs()
        .args(["check", "--show-settings", "--budget", "cost=2.5"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("budget: tokens=50000, cost=$2.50, duration=2h\n"),
        "{text}"
    );
    let out = qs()
        .args(["check", "--budget", "dollars=3", "x.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--budget: unknown budget limit `dollars`"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("quant-session.toml"),
        "[budget]\ncost = -1\n",
    )
    .unwrap();
    let out = qs().args(["check", "x.log"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("[budget]: cost=-1"), "{err}");
}

/// A budget in effect, against a fixture: the findings, the exit status, and a plain
/// transcript (no usage) saying the rule was not checked.
#[test]
fn budget_exceeded_fires_once_per_limit_and_says_when_it_cannot_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .current_dir(root)
        .args([
            "check",
            "--format",
            "json",
            "--budget",
            "tokens=100000,cost=1,turns=10",
        ])
        .arg("fixtures/rules/budget-exceeded.log")
        .arg("fixtures/sessions/clean.log")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .filter(|v| v["rule"] == "budget-exceeded")
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "budget exceeded: 127 430 tokens used, over the budget of 100 000",
            "budget exceeded: $1.87 spent, over the budget of $1.00",
            "budget exceeded: 23 turns taken, over the budget of 10",
        ]
    );
    let clean = lines
        .iter()
        .find(|v| v["kind"] == "summary" && v["file"] == "fixtures/sessions/clean.log")
        .unwrap();
    assert!(
        clean["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["rule"] == "budget-exceeded"
                && n["why"] == "tokens: the input reports no token counts"),
        "{clean}"
    );
}

/// `run --stop-on budget-exceeded` stops a worker as soon as a record passes its budget,
/// not when it would have ended.
#[test]
fn run_stops_a_worker_that_passes_its_budget() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = std::time::Instant::now();
    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .current_dir(root)
        .args([
            "run",
            "--budget",
            "cost=1",
            "--stop-on",
            "budget-exceeded",
            "--format",
            "json",
            "--",
            "sh",
            "-c",
            "cat fixtures/rules/budget-exceeded.log; sleep 60",
        ])
        .timeout(std::time::Duration::from_secs(50))
        .output()
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8(out.stderr).unwrap();
    assert!(report.contains(r#""rule":"budget-exceeded""#), "{report}");
    assert!(
        report.contains(r#""worker_exit":"stopped:budget-exceeded""#),
        "{report}"
    );
}

/// The OTLP spans carry what the CLI reported (GenAI conventions): the provider, model
/// and token usage on the session's span; each tool call's id; a failed tool as an Error;
/// a subagent's calls under the worker's call that started the subagent.
#[test]
fn otlp_spans_carry_usage_tool_call_ids_failures_and_nesting() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let spans = |fixture: &str| -> Vec<Value> {
        let out = dir.path().join("traces.jsonl");
        Command::cargo_bin("quant-session")
            .unwrap()
            .current_dir(root)
            .args(["check", "--report"])
            .arg(format!("otlp={}", out.display()))
            .arg(fixture)
            .output()
            .unwrap();
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .flat_map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["resourceSpans"][0]["scopeSpans"][0]["spans"]
                    .as_array()
                    .unwrap()
                    .clone()
            })
            .collect()
    };
    let attr = |span: &Value, key: &str| -> Option<Value> {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| {
                a["value"]
                    .as_object()
                    .unwrap()
                    .values()
                    .next()
                    .unwrap()
                    .clone()
            })
    };
    let looped = spans("fixtures/rules/tool-loop.log");
    let session = &looped[0];
    assert_eq!(session["name"], "invoke_agent researcher");
    assert_eq!(attr(session, "gen_ai.provider.name").unwrap(), "anthropic");
    assert_eq!(
        attr(session, "gen_ai.response.model").unwrap(),
        "claude-sonnet-4-5"
    );
    // 6 010 uncached and 100 000 read from the cache: the conventions' input counts both.
    assert_eq!(
        attr(session, "gen_ai.usage.input_tokens").unwrap(),
        "106010"
    );
    assert_eq!(
        attr(session, "gen_ai.usage.cache_read.input_tokens").unwrap(),
        "100000"
    );
    assert_eq!(attr(session, "gen_ai.usage.output_tokens").unwrap(), "200");
    let bash: Vec<&Value> = looped
        .iter()
        .filter(|s| s["name"] == "execute_tool Bash")
        .collect();
    assert_eq!(bash.len(), 5);
    for b in &bash {
        assert_eq!(b["status"]["code"], 2, "{b}");
        assert_eq!(attr(b, "error.type").unwrap(), "tool_error");
        assert!(
            attr(b, "gen_ai.tool.call.id")
                .unwrap()
                .as_str()
                .unwrap()
                .starts_with("toolu_l")
        );
    }
    let read = looped
        .iter()
        .find(|s| s["name"] == "execute_tool Read")
        .unwrap();
    assert_eq!(read["status"]["code"], 0);
    assert_eq!(attr(read, "gen_ai.tool.call.id").unwrap(), "toolu_01");

    let nested = spans("fixtures/shapes/session.stream-json.log");
    let task = nested
        .iter()
        .find(|s| s["name"] == "execute_tool Task")
        .unwrap();
    let under: Vec<&Value> = nested
        .iter()
        .filter(|s| s["parentSpanId"] == task["spanId"])
        .collect();
    assert!(!under.is_empty(), "no call nests under the Task call");
    assert!(
        under.iter().all(|s| s["name"] == "execute_tool Write"),
        "{under:?}"
    );
}

/// `worker-hung` under `run`: a CLI alive `--exit-grace` after its final record, and a
/// tool result followed by `--stale` of silence; `--stop-on worker-hung` stops it. A
/// CLI that exits after its result is not hung.
#[test]
fn run_reports_and_stops_a_hung_cli() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let head: String =
        std::fs::read_to_string(root.join("fixtures/rules/worker-error-exit.ok.log"))
            .unwrap()
            .lines()
            .take(4)
            .map(|l| format!("{l}\n"))
            .collect();
    let tool = dir.path().join("tool.log");
    std::fs::write(&tool, head).unwrap();
    let run = |script: String, flags: &[&str]| {
        let started = std::time::Instant::now();
        let out = Command::cargo_bin("quant-session")
            .unwrap()
            .current_dir(root)
            .arg("run")
            .args(flags)
            .args(["--format", "json", "--", "sh", "-c", &script])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let report = String::from_utf8(out.stderr).unwrap();
        (out.status.code(), report, started.elapsed())
    };
    let (code, report, took) = run(
        "cat fixtures/rules/worker-error-exit.ok.log; sleep 40".into(),
        &["--exit-grace", "1s", "--stop-on", "worker-hung"],
    );
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    assert_eq!(code, Some(1));
    assert!(report.contains(r#""rule":"worker-hung""#), "{report}");
    assert!(
        report.contains("printed its final record and is still running 1s later"),
        "{report}"
    );
    assert!(
        report.contains(r#""worker_exit":"stopped:worker-hung""#),
        "{report}"
    );

    let (code, report, took) = run(
        format!("cat {}; sleep 40", tool.display()),
        &["--stale", "1s", "--stop-on", "worker-hung"],
    );
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    assert_eq!(code, Some(1));
    assert!(
        report.contains("last record is a tool result and nothing came for 1s"),
        "{report}"
    );
    // Said as worker-hung, not also as worker-stalled.
    assert!(!report.contains(r#""rule":"worker-stalled""#), "{report}");

    let (code, report, _) = run(
        "cat fixtures/rules/worker-error-exit.ok.log; sleep 1".into(),
        &["--exit-grace", "3s"],
    );
    assert_eq!(code, Some(0), "{report}");
    assert!(!report.contains("worker-hung"), "{report}");
}

/// `postmortem` of a stream whose last record is a rate limit: the CLI was waiting, and
/// until when.
#[test]
fn postmortem_shows_a_rate_limit_wait() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let head: String = std::fs::read_to_string(root.join("fixtures/rules/budget-exceeded.log"))
        .unwrap()
        .lines()
        .take(8)
        .map(|l| format!("{l}\n"))
        .collect();
    let path = dir.path().join("pane.log");
    std::fs::write(
        &path,
        format!(
            "{head}{}\n",
            r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1773828000},"session_id":"s"}"#
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .arg("postmortem")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("waiting          on a rate limit until 2026-03-18 10:00:00 UTC"),
        "{text}"
    );
    // A warning that a limit is near is no wait.
    std::fs::write(
        &path,
        format!(
            "{head}{}\n",
            r#"{"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning","resetsAt":1773828000},"session_id":"s"}"#
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .arg("postmortem")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8(out.stdout)
            .unwrap()
            .contains("rate limit")
    );
}

/// The pictures carry the usage: a Perfetto counter track of the tokens (and cost) as
/// the CLI reported them, the session's usage in its args, and a line in the HTML report.
#[test]
fn perfetto_and_html_show_the_usage() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let perfetto = dir.path().join("trace.json");
    let html = dir.path().join("report.html");
    Command::cargo_bin("quant-session")
        .unwrap()
        .current_dir(root)
        .args(["check", "--report"])
        .arg(format!("perfetto={}", perfetto.display()))
        .arg("--report")
        .arg(format!("html={}", html.display()))
        .arg("fixtures/rules/tool-loop.log")
        .output()
        .unwrap();
    let trace: Value = serde_json::from_str(&std::fs::read_to_string(&perfetto).unwrap()).unwrap();
    let counters: Vec<u64> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "C" && e["name"] == "usage")
        .map(|e| e["args"]["tokens"].as_u64().unwrap())
        .collect();
    // One sample per record that reports usage in the session (five messages with
    // usage, then the result, which adds no counts), never decreasing.
    assert_eq!(counters, [21240, 42481, 63723, 84966, 106210, 106210]);
    let session = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["cat"] == "session")
        .unwrap();
    assert_eq!(session["args"]["usage"]["output_tokens"], 200);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Usage, as the CLI reported it: 106 210 tokens (6 010 in, 200 out, 100 000 cache read), $1.87 [claude-sonnet-4-5]."),
        "{page}"
    );
}

/// Rules of the checks that reviews broke, each through the binary: what a loop is not,
/// how usage adds up, and what a budget cannot check.
#[test]
fn reviewed_edge_cases_of_loops_usage_and_budgets() {
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, text: &str, flags: &[&str]| -> (Vec<Value>, i32) {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = Command::cargo_bin("quant-session")
            .unwrap()
            .args(["check", "--format", "json"])
            .args(flags)
            .arg(&path)
            .output()
            .unwrap();
        let lines = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (lines, out.status.code().unwrap())
    };
    let rules = |lines: &[Value]| -> Vec<String> {
        lines
            .iter()
            .filter(|v| v["kind"] == "diagnostic")
            .map(|v| v["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    let summary = |lines: &[Value]| {
        lines
            .iter()
            .find(|v| v["kind"] == "summary")
            .unwrap()
            .clone()
    };

    // Codex: edit, test, edit, test… is work, not a loop; one patch adding six files is
    // one call.
    let mut codex = String::from(
        "{\"type\":\"thread.started\",\"thread_id\":\"t\"}\n{\"type\":\"turn.started\"}\n",
    );
    for i in 0..5 {
        codex.push_str(&format!(
            "{{\"type\":\"item.completed\",\"item\":{{\"id\":\"item_{}\",\"type\":\"file_change\",\"changes\":[{{\"path\":\"/w/src/lib.rs\",\"kind\":\"update\"}}],\"status\":\"completed\"}}}}\n",
            2 * i
        ));
        codex.push_str(&format!(
            "{{\"type\":\"item.completed\",\"item\":{{\"id\":\"item_{}\",\"type\":\"command_execution\",\"command\":\"bash -lc 'cargo test'\",\"aggregated_output\":\"FAILED\",\"exit_code\":1,\"status\":\"completed\"}}}}\n",
            2 * i + 1
        ));
    }
    let adds: Vec<String> = (0..6)
        .map(|i| format!("{{\"path\":\"/w/m{i}.py\",\"kind\":\"add\"}}"))
        .collect();
    codex.push_str(&format!(
        "{{\"type\":\"item.completed\",\"item\":{{\"id\":\"item_99\",\"type\":\"file_change\",\"changes\":[{}],\"status\":\"completed\"}}}}\n",
        adds.join(",")
    ));
    codex.push_str("{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":10,\"cached_input_tokens\":0,\"output_tokens\":5}}\n");
    let (lines, _) = check("codex.jsonl", &codex, &["--budget", "cost=1"]);
    assert!(
        !rules(&lines).contains(&"tool-loop".to_owned()),
        "{lines:?}"
    );
    // Codex reports no cost: the cost limit is said to be unchecked.
    assert!(
        summary(&lines)["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["why"] == "cost: the input reports no cost"),
        "{lines:?}"
    );

    // Claude: a message's records interleaved with another's count once per id.
    let msg = |id: &str, input: u64, parent: &str| {
        format!(
            "{{\"type\":\"assistant\",\"message\":{{\"id\":\"{id}\",\"model\":\"m\",\"content\":[{{\"type\":\"text\",\"text\":\"x\"}}],\"usage\":{{\"input_tokens\":{input},\"output_tokens\":10}}}},\"parent_tool_use_id\":{parent}}}\n"
        )
    };
    let interleaved = [
        msg("A", 1000, "\"toolu_1\""),
        msg("B", 2000, "\"toolu_2\""),
        msg("A", 1000, "\"toolu_1\""),
        msg("B", 2000, "\"toolu_2\""),
    ]
    .concat();
    let (lines, _) = check("interleaved.jsonl", &interleaved, &[]);
    assert_eq!(summary(&lines)["usage"]["total_tokens"], 3020);

    // Two runs in one log (a restarted worker): their figures add up.
    let result = |run: &str, input: u64, cost: f64| {
        format!(
            "{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"num_turns\":2,\"session_id\":\"{run}\",\"total_cost_usd\":{cost},\"modelUsage\":{{\"m\":{{\"inputTokens\":{input},\"outputTokens\":10,\"costUSD\":{cost}}}}}}}\n"
        )
    };
    let two = [result("run-1", 1000, 0.5), result("run-2", 2000, 0.25)].concat();
    let (lines, code) = check("two-runs.jsonl", &two, &["--budget", "cost=0.6"]);
    let usage = &summary(&lines)["usage"];
    assert_eq!(usage["total_tokens"], 3020, "{usage}");
    assert_eq!(usage["cost_usd"], 0.75, "{usage}");
    assert_eq!(code, 1);
    assert!(rules(&lines).contains(&"budget-exceeded".to_owned()));

    // A subagent's loop is the subagent's, named as such.
    let grep = |i: u64| {
        format!(
            "{{\"type\":\"assistant\",\"message\":{{\"id\":\"s{i}\",\"content\":[{{\"type\":\"tool_use\",\"id\":\"toolu_s{i}\",\"name\":\"Grep\",\"input\":{{\"pattern\":\"TODO\"}}}}]}},\"parent_tool_use_id\":\"toolu_task\"}}\n"
        )
    };
    let sub: String = (0..5).map(grep).collect();
    let (lines, _) = check("sub.jsonl", &sub, &[]);
    let message = lines
        .iter()
        .find(|v| v["rule"] == "tool-loop")
        .map(|v| v["message"].as_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        message.starts_with("a subagent (of call \"toolu_task\") called \"Grep\" 5 times"),
        "{lines:?}"
    );

    // Budgets as people write them.
    let settings = |budget: &str| {
        Command::cargo_bin("quant-session")
            .unwrap()
            .args(["check", "--show-settings", "--budget", budget])
            .output()
            .unwrap()
    };
    let out = settings("tokens=2M,cost=0.005");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("budget: tokens=2000000, cost=$0.0050\n"),
        "{text}"
    );
    let out = settings("");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("no limit given")
    );
}

/// `run` keeps a background agent's run alive past a `result` (Claude Code 2.1), times
/// the worker for `--budget duration`, and a bad TRACEPARENT is a note, not a crash.
#[test]
fn run_knows_background_agents_times_its_worker_and_survives_a_bad_traceparent() {
    let dir = tempfile::tempdir().unwrap();
    let stream = dir.path().join("bg.jsonl");
    std::fs::write(
        &stream,
        concat!(
            r#"{"type":"system","subtype":"init","session_id":"r","model":"m"}"#, "\n",
            r#"{"type":"system","subtype":"task_started","task_id":"bg1","description":"long"}"#, "\n",
            r#"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"waiting","session_id":"r"}"#, "\n",
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .args([
            "run",
            "--exit-grace",
            "1s",
            "--stop-on",
            "worker-hung",
            "--",
            "sh",
            "-c",
        ])
        .arg(format!("cat {}; sleep 3", stream.display()))
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let report = String::from_utf8(out.stderr).unwrap();
    assert!(!report.contains("worker-hung"), "{report}");

    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .args([
            "run",
            "--budget",
            "duration=1s",
            "--format",
            "json",
            "--",
            "sh",
            "-c",
        ])
        .arg("echo 'SESSION_START: researcher-2026-11-23T10:15:30'; sleep 3")
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let report = String::from_utf8(out.stderr).unwrap();
    assert!(
        report.contains("budget exceeded: the worker has run for"),
        "{report}"
    );
    assert!(!report.contains("duration: no timestamps"), "{report}");

    let out = Command::cargo_bin("quant-session")
        .unwrap()
        .env("TRACEPARENT", "00-a€a€a€a€a€a€a€a€-0000000000000001-01")
        .args(["run", "--", "true"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(101), "{out:?}");
}

/// The GitHub job summary's usage column: tokens, cost and turns as the CLI reported.
#[test]
fn the_job_summary_shows_the_usage() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    Command::cargo_bin("quant-session")
        .unwrap()
        .current_dir(root)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["check", "--format", "github"])
        .arg("fixtures/rules/budget-exceeded.log")
        .arg("fixtures/shapes/session.codex.log")
        .output()
        .unwrap();
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains(
            "| fixtures/rules/budget-exceeded.log | 1 | 0 | 0 | 127k tokens, &#36;1.87, 23 turns |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| fixtures/shapes/session.codex.log | 1 | 1 | 0 | 6.2k tokens |"),
        "{md}"
    );
}

/// The health rules on every CLI kind (`fixtures/health_shapes.py` writes one session as
/// each kind): the same five backtests in a row are one tool-loop, the 150 000 tokens
/// each CLI reports pass a 100 000-token budget once, and nothing else fires; without a
/// budget the loop alone is left. Under `run`, each stream kind's final record followed
/// by a live process is worker-hung.
#[test]
fn the_health_rules_give_one_verdict_on_every_cli_kind() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let kinds = [
        "stream-json",
        "transcript",
        "codex",
        "codex-rollout",
        "gemini",
        "gemini-chat",
    ];
    let check = |flags: &[&str], file: &str| {
        let out = Command::cargo_bin("quant-session")
            .unwrap()
            .current_dir(root)
            .args(["check", "--format", "json"])
            .args(flags)
            .arg(file)
            .output()
            .unwrap();
        let mut rules = Vec::new();
        let mut total = None;
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            match v["kind"].as_str() {
                Some("diagnostic") => rules.push(v["rule"].as_str().unwrap().to_owned()),
                Some("summary") => total = v["usage"]["total_tokens"].as_u64(),
                _ => {}
            }
        }
        rules.sort();
        (out.status.code(), rules, total)
    };
    for kind in kinds {
        let file = format!("fixtures/shapes/health.{kind}.log");
        let (code, rules, total) = check(&["--budget", "tokens=100000"], &file);
        assert_eq!(code, Some(1), "{file}");
        assert_eq!(rules, ["budget-exceeded", "tool-loop"], "{file}");
        assert_eq!(total, Some(150_000), "{file}");
        let (code, rules, _) = check(&[], &file);
        assert_eq!(
            (code, rules),
            (Some(0), vec!["tool-loop".to_owned()]),
            "{file}"
        );
        // The shapes' protocol session, with its single tool call per command, has no loop.
        let clean = format!("fixtures/shapes/session.{kind}.log");
        let (_, rules, _) = check(&["--budget", "tokens=1000000"], &clean);
        assert!(
            !rules
                .iter()
                .any(|r| r == "tool-loop" || r == "budget-exceeded"),
            "{clean}: {rules:?}"
        );
    }
    // The stream kinds end with the CLI's final record: alive after it is hung.
    for kind in ["stream-json", "codex", "gemini"] {
        let file = format!("fixtures/shapes/health.{kind}.log");
        let out = Command::cargo_bin("quant-session")
            .unwrap()
            .current_dir(root)
            .args(["run", "--exit-grace", "1s", "--stop-on", "worker-hung"])
            .args(["--format", "json", "--", "sh", "-c"])
            .arg(format!("cat {file}; sleep 40"))
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .unwrap();
        let report = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{kind}: {report}");
        assert!(
            report.contains(r#""rule":"worker-hung""#),
            "{kind}: {report}"
        );
        assert!(
            report.contains(r#""worker_exit":"stopped:worker-hung""#),
            "{kind}: {report}"
        );
    }
}
