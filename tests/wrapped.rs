//! SPEC §4: an input is read whatever its wrapping, with the verdict of the plain file.
//! Every shape of `fixtures/shapes/` (one scripted session as each CLI prints it) is
//! wrapped as users keep or capture it: gzip, UTF-16 with a byte-order mark (both byte
//! orders, PowerShell's `>`), UTF-8 with one, a CLI's warning printed before its stream
//! on the pseudo-terminal (the streams CLIs print on stdout), and the JSON documents
//! written on one line. Each must give
//! the plain file's verdict in file mode and in pipe mode, where the passthrough stays
//! byte for byte what came in.

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;

/// A Node warning, as Claude Code and Gemini CLI print it on the pseudo-terminal
/// before their first record when `run` merges stderr into stdout.
const NODE_WARNING: &str = "(node:4242) [DEP0040] DeprecationWarning: The `punycode` module is \
deprecated. Please use a userland alternative instead.\n(Use `node --trace-deprecation ...` to \
show where the warning was created)\n";

/// What a verdict is made of: the findings (rule and severity, in order), the number of
/// sessions and records, and the exit status.
type Verdict = (Vec<(String, String)>, String, String, i32);

fn quant() -> Command {
    let mut cmd = Command::cargo_bin("quant-session").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn verdict_of(json: &str, code: i32) -> Verdict {
    let values: Vec<serde_json::Value> = json
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let findings = values
        .iter()
        .filter(|v| v["kind"] == "diagnostic")
        .map(|v| (v["rule"].to_string(), v["severity"].to_string()))
        .collect();
    let summary = values
        .iter()
        .find(|v| v["kind"] == "summary")
        .unwrap_or_else(|| panic!("no summary in {json}"));
    (
        findings,
        summary["sessions"].to_string(),
        summary["records"].to_string(),
        code,
    )
}

/// The verdict on `file` in file mode.
fn file_verdict(args: &[&str], file: &Path) -> Verdict {
    let out = quant()
        .args(["check", "--format", "json"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{}: {stderr}", file.display());
    verdict_of(
        &String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

/// The verdict on `bytes` in pipe mode; the passthrough must be exactly `bytes`.
fn pipe_verdict(args: &[&str], bytes: &[u8], what: &str) -> Verdict {
    let out = quant()
        .args(["check", "--format", "json"])
        .args(args)
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert!(
        out.stdout == bytes,
        "{what}: the passthrough is not byte for byte"
    );
    verdict_of(
        &String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap(),
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

fn utf16(bytes: &[u8], big_endian: bool) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut out = if big_endian {
        vec![0xfe, 0xff]
    } else {
        vec![0xff, 0xfe]
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

/// A pretty-printed JSON document written on one line, its keys in their order (a raw
/// line break cannot be inside a JSON string, so each line's indentation is outside).
fn one_line(bytes: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut out: String = text.lines().map(str::trim_start).collect();
    out.push('\n');
    out.into_bytes()
}

/// Every shape, with the options it is read with.
fn shapes() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut shapes: Vec<(&str, Vec<&str>)> = [
        "text",
        "transcript",
        "stream-json",
        "codex",
        "codex-rollout",
        "gemini",
        "gemini-chat",
        "gemini-json",
    ]
    .into_iter()
    .map(|s| (s, vec![]))
    .collect();
    for preset in ["docker", "cri", "github", "journald"] {
        shapes.push((preset, vec!["--strip-prefix", preset]));
    }
    shapes
}

#[test]
fn every_shape_wrapped_gets_the_plain_verdict_in_file_and_pipe_mode() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for (shape, args) in shapes() {
        let plain_path = root.join(format!("fixtures/shapes/session.{shape}.log"));
        let plain = std::fs::read(&plain_path).unwrap();
        let expected = file_verdict(&args, &plain_path);
        assert_eq!(expected.0.len(), 1, "{shape}: one violation: {expected:?}");
        let mut variants: Vec<(&str, Vec<u8>)> = vec![
            ("gzip", gzip(&plain)),
            ("utf-16le", utf16(&plain, false)),
            ("utf-16be", utf16(&plain, true)),
            ("utf-8 bom", [&[0xef, 0xbb, 0xbf][..], &plain].concat()),
        ];
        // A warning comes before what a CLI prints on stdout (its stream), never
        // before the files it writes on disk (session files, rollouts, chats).
        if ["text", "stream-json", "codex", "gemini"].contains(&shape) {
            variants.push((
                "a warning before it",
                [NODE_WARNING.as_bytes(), &plain].concat(),
            ));
        }
        if shape.starts_with("gemini-") {
            let line = one_line(&plain);
            variants.push(("on one line, gzip", gzip(&line)));
            variants.push(("on one line", line));
        }
        for (wrapping, bytes) in variants {
            let what = format!("{shape} as {wrapping}");
            let path = dir.path().join(format!("{shape}-{checked}.log"));
            std::fs::write(&path, &bytes).unwrap();
            let mut got = file_verdict(&args, &path);
            if wrapping == "a warning before it" && expected.2 == "null" {
                // Plain text: the warning's two lines are two more lines of text.
                got.2 = expected.2.clone();
            }
            assert_eq!(got, expected, "{what}, file mode");
            assert_eq!(
                pipe_verdict(&args, &bytes, &what),
                expected,
                "{what}, pipe mode"
            );
            checked += 1;
        }
    }
    assert!(checked >= 56, "{checked} variants");
}

#[test]
fn a_json_object_in_a_plain_transcript_does_not_make_it_a_stream() {
    // Only a record some CLI writes opens a stream after lines of text: a worker that
    // prints its own JSON keeps its transcript plain (no records, no worker exit).
    let plain = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/shapes/session.text.log");
    let expected = file_verdict(&[], &plain);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.log");
    let text = std::fs::read_to_string(&plain).unwrap();
    std::fs::write(
        &path,
        format!("Loading config\n{{\"type\":\"config\",\"depth\":3}}\n{text}"),
    )
    .unwrap();
    assert_eq!(file_verdict(&[], &path), expected);
}

#[test]
fn a_one_line_chat_of_many_messages_loses_none() {
    // Every message of a chat written on one line is read, however many: the findings
    // after the 4 096th message are there, on line 1 (no record is dropped to bound
    // memory: the reader hands each on as it completes).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chat = std::fs::read(root.join("fixtures/shapes/session.gemini-chat.log")).unwrap();
    let chat = String::from_utf8(one_line(&chat)).unwrap();
    let filler: String = (0..6000)
        .map(|i| {
            format!(
                r#"{{"id":"f-{i}","timestamp":"2026-11-23T22:43:11.000Z","type":"info","content":"waiting"}},"#
            )
        })
        .collect();
    let at = chat.find(r#""messages": ["#).unwrap() + r#""messages": ["#.len();
    let mut bytes = format!("{}{filler}{}", &chat[..at], &chat[at..]).into_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.json");
    std::fs::write(&path, &bytes).unwrap();
    let out = quant()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let json = String::from_utf8(out.stdout).unwrap();
    let findings: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "diagnostic")
        .collect();
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["rule"], "missing-distillation");
    assert_eq!(findings[0]["line"], 1, "{json}");
    assert!(json.contains("\"records\":6004"), "{json}");
    assert_eq!(out.status.code(), Some(1));
    // The same through a pipe.
    bytes.push(b'\n');
    let piped = pipe_verdict(&[], &bytes, "one-line chat");
    assert_eq!(piped.3, 1);
    assert_eq!(piped.0.len(), 1);
}

#[test]
fn broken_gzip_is_said_and_never_clean() {
    // A gzip cut short (a crashed logger) or corrupt: what came before the break is
    // checked, the error is said, and the exit is 2 (the input was not read to its end).
    let plain =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions/clean.log"))
            .unwrap();
    let whole = gzip(&plain);
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok.log.gz");
    std::fs::write(&ok, &whole).unwrap();
    quant().args(["check"]).arg(&ok).assert().code(0);
    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &whole[..whole.len() - 12]).unwrap();
    let mut corrupt = whole.clone();
    let n = corrupt.len();
    corrupt[n - 6] ^= 0xff; // the length in the trailer
    let bad = dir.path().join("bad.log.gz");
    std::fs::write(&bad, &corrupt).unwrap();
    for (path, bytes) in [(&cut, &whole[..whole.len() - 12]), (&bad, &corrupt[..])] {
        let out = quant().args(["check"]).arg(path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert!(stderr.contains("gzip data is damaged"), "{stderr}");
        // What came before the break is reported and summed up.
        let out = quant()
            .args(["check", "--format", "json"])
            .arg(path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let json = String::from_utf8_lossy(&out.stdout);
        assert!(json.contains(r#""kind":"summary""#), "{json}");
        for command in ["state", "parse"] {
            let out = quant().arg(command).arg(path).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{command}");
        }
        let out = quant().args(["check"]).write_stdin(bytes).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "pipe: {stderr}");
        assert!(
            stderr.contains("<stdin>: the gzip data is damaged"),
            "{stderr}"
        );
        assert_eq!(out.stdout, bytes, "the passthrough is byte for byte");
    }
}

#[test]
fn directory_walks_read_gzip_transcripts() {
    let dir = tempfile::tempdir().unwrap();
    let violation = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/shapes/session.text.log"),
    )
    .unwrap();
    std::fs::write(dir.path().join("old-run.log.gz"), gzip(&violation)).unwrap();
    std::fs::write(dir.path().join("backup.tar.gz"), gzip(b"not a transcript")).unwrap();
    let out = quant()
        .args(["check", "--format", "concise"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("old-run.log.gz:20:1: error[missing-distillation]"),
        "{stdout}"
    );
    assert!(!stdout.contains("backup.tar.gz"), "{stdout}");
}

#[test]
fn text_before_a_session_opens_only_a_stream_a_cli_starts() {
    // After a line of text, only a record a CLI's stream starts with opens a stream: a
    // worker that prints a CLI's answer (a Gemini JSON document, a Claude `result`) keeps
    // its plain transcript plain, with the plain verdict.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for (base, prelude) in [
        (
            "fixtures/sessions/crashed-mid-task.log",
            "Asking gemini for a second opinion:\n{\n  \"response\": \"The answer is 4\",\n  \"stats\": {}\n}\n",
        ),
        (
            "fixtures/sessions/crashed-mid-task.log",
            "Loading config\n{\"sessionId\":\"abc\",\"messages\":[]}\n",
        ),
        (
            "fixtures/sessions/clean.log",
            "npm warn x\n{\"type\":\"result\",\"subtype\":\"error_max_turns\",\"is_error\":true}\n",
        ),
        (
            "fixtures/sessions/clean.log",
            "npm warn x\n{\"type\":\"user\"}\n",
        ),
    ] {
        let plain = root.join(base);
        let expected = file_verdict(&[], &plain);
        let path = dir.path().join("t.log");
        let text = std::fs::read_to_string(&plain).unwrap();
        std::fs::write(&path, format!("{prelude}{text}")).unwrap();
        let mut got = file_verdict(&[], &path);
        got.2 = expected.2.clone();
        assert_eq!(got, expected, "{base} after {prelude:?}");
    }
}

#[test]
fn gzip_nested_past_two_layers_is_refused_not_a_crash() {
    let plain =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions/clean.log"))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = plain.clone();
    for layers in 1..=3000 {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        z.write_all(&bytes).unwrap();
        bytes = z.finish().unwrap();
        if matches!(layers, 2 | 3 | 3000) {
            let path = dir.path().join(format!("n{layers}.log.gz"));
            std::fs::write(&path, &bytes).unwrap();
            let out = quant().arg("check").arg(&path).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let want = if layers == 2 { 0 } else { 2 };
            assert_eq!(out.status.code(), Some(want), "{layers} layers: {stderr}");
            if layers > 2 {
                assert!(stderr.contains("gzip nested more than 2 deep"), "{stderr}");
            }
        }
    }
}

#[test]
fn a_large_wrapped_file_is_unwrapped_whatever_input_says() {
    // Files from 32 MiB are read in blocks on every core, as plain text: a UTF-16 or
    // byte-order-marked one must not be, even with `--input text`. And a `\r` before a
    // stream's first record (a spinner) is seen by the block reader as by the scanner.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let crashed = std::fs::read_to_string(root.join("fixtures/sessions/crashed-mid-task.log"))
        .unwrap()
        .replace("MemoryError\n", "");
    let mut text = crashed.clone();
    while text.len() < 17 << 20 {
        text.push_str("backtest output: sharpe 1.2, drawdown 8%, turnover 0.4, fine\n");
    }
    let dir = tempfile::tempdir().unwrap();
    let plain_path = dir.path().join("plain.log");
    std::fs::write(&plain_path, &text).unwrap();
    let expected = file_verdict(&["--input", "text"], &plain_path);
    assert!(expected.3 == 1, "{expected:?}");
    let wide = dir.path().join("wide.log");
    std::fs::write(&wide, utf16(text.as_bytes(), false)).unwrap();
    assert!(std::fs::metadata(&wide).unwrap().len() >= 32 << 20);
    assert_eq!(
        file_verdict(&["--input", "text"], &wide),
        expected,
        "UTF-16"
    );
    let mut bom = vec![0xef, 0xbb, 0xbf];
    bom.extend_from_slice(text.as_bytes());
    bom.extend_from_slice(text.as_bytes());
    let bom_path = dir.path().join("bom.log");
    std::fs::write(&bom_path, &bom).unwrap();
    let twice = file_verdict(&["--input", "text"], &bom_path);
    assert_eq!(twice.3, 1);
    assert_eq!(
        twice.1, "2",
        "both sessions, the first on line 1: {twice:?}"
    );
    // A spinner's `\r` before a stream's first record.
    let stream = std::fs::read_to_string(root.join("fixtures/stream-json/api-error.log")).unwrap();
    let mut spun = format!("Loading…\r{stream}");
    while spun.len() < 33 << 20 {
        spun.push_str("npm notice: a line of the CLI's stderr, merged on the terminal\n");
    }
    let spun_path = dir.path().join("spun.log");
    std::fs::write(&spun_path, &spun).unwrap();
    let file = file_verdict(&[], &spun_path);
    let pipe = pipe_verdict(&[], spun.as_bytes(), "spun");
    assert_eq!(file, pipe);
    assert_eq!(file.3, 1, "{file:?}");
}
