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
            // Each assistant message once (its records repeat its usage), last record wins.
            let mut by_id: Vec<(String, Value)> = Vec::new();
            for r in records(path) {
                if r["type"] != "assistant" || r["message"]["usage"].is_null() {
                    continue;
                }
                let id = r["message"]["id"].as_str().unwrap_or("").to_owned();
                match by_id.last_mut() {
                    Some((last, u)) if *last == id && !id.is_empty() => {
                        *u = r["message"]["usage"].clone()
                    }
                    _ => by_id.push((id, r["message"]["usage"].clone())),
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
