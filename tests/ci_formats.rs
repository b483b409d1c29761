//! The formats CI systems read besides GitHub's: JUnit XML (Jenkins, GitLab, Azure),
//! checked through the binary against the schema Jenkins reads.

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;

fn qs() -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("GITHUB_STEP_SUMMARY");
    c
}

const JUNIT_XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schemas/junit.xsd");

/// Validates `xml` against the JUnit schema with `xmllint` (Debian's libxml2-utils,
/// which `.ci/run` installs): `None` when xmllint is absent, said on stderr.
fn xmllint(xml: &Path) -> Option<Result<(), String>> {
    let out = match Process::new("xmllint")
        .args(["--noout", "--schema", JUNIT_XSD])
        .arg(xml)
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            eprintln!("skipped: xmllint is not installed (apt-get install libxml2-utils)");
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(stderr)
    })
}

/// The run's JSON Lines: (errors, warnings) over all inputs, and how many inputs.
fn json_counts(args: &[&str]) -> (u64, u64, usize) {
    let out = qs()
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let summaries: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "summary")
        .collect();
    let sum = |k: &str| summaries.iter().map(|s| s[k].as_u64().unwrap()).sum();
    (sum("errors"), sum("warnings"), summaries.len())
}

fn no_control_bytes(xml: &str) {
    assert!(
        !xml.chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{fffe}' || c == '\u{ffff}'),
        "a control character reached the XML"
    );
}

#[test]
fn junit_of_the_session_fixtures_validates_and_counts_what_json_counts() {
    let out = qs()
        .args(["check", "--format", "junit", "fixtures/sessions/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, &xml).unwrap();
    if let Some(valid) = xmllint(&path) {
        valid.unwrap();
    }
    no_control_bytes(&xml);
    let (errors, warnings, inputs) = json_counts(&["fixtures/sessions/"]);
    assert_eq!(xml.matches("<testsuite ").count(), inputs);
    assert_eq!(xml.matches("<failure ").count() as u64, errors);
    assert_eq!(xml.matches("<system-out>warning[").count() as u64, warnings);
    // A testcase per session, the clean ones too, in the order they ran.
    let multi: Vec<&str> = xml
        .lines()
        .filter(|l| l.contains("classname=\"fixtures/sessions/multi-session.log\""))
        .collect();
    assert_eq!(multi.len(), 3, "{multi:#?}");
    let case = |name: &str, end: &str| {
        format!(
            "    <testcase name=\"{name}\" classname=\"fixtures/sessions/multi-session.log\"{end}"
        )
    };
    assert_eq!(
        multi[0],
        case("researcher-2026-11-23T10:15:30.123456", "/>")
    );
    assert_eq!(multi[1], case("converter-2026-11-23T11:05:00", "/>"));
    assert_eq!(multi[2], case("backtester-2026-11-23 12:00:00.5", ">"));
    assert!(xml.contains(
        "<testsuite name=\"fixtures/sessions/multi-session.log\" tests=\"3\" failures=\"1\" errors=\"0\""
    ));
    // A failure says the rule, the line and quotes it.
    assert!(xml.contains(
        "<failure message=\"task-not-completed: task &quot;h-017&quot; was started but never completed\" type=\"task-not-completed\">line 5, column 1: task &quot;h-017&quot; was started but never completed\n    5 | TASK_START: h-017\n"
    ), "{xml}");
}

#[test]
fn junit_of_every_fixture_as_a_report_file_validates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let out = qs()
        .args(["check", "--format", "concise", "--report"])
        .arg(format!("junit={}", path.display()))
        .arg("fixtures/")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&path).unwrap();
    if let Some(valid) = xmllint(&path) {
        valid.unwrap();
    }
    no_control_bytes(&xml);
    let (errors, warnings, inputs) = json_counts(&["fixtures/"]);
    assert_eq!(xml.matches("<testsuite ").count(), inputs);
    assert_eq!(xml.matches("<failure ").count() as u64, errors);
    assert_eq!(xml.matches("<system-out>warning[").count() as u64, warnings);
    // An input with no session has one testcase that says so.
    assert!(xml.contains(
        "<testsuite name=\"fixtures/grammar/empty.log\" tests=\"1\" failures=\"0\" errors=\"0\""
    ));
    assert!(xml.contains("<system-out>warning[no-session]"), "{xml}");
}

#[test]
fn junit_cannot_be_forged_or_broken_by_a_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("pane\"<x>&.log");
    std::fs::write(
        &name,
        "SESSION_START: r-1\"/><testcase name=\"forged\u{1b}[2J\u{0}\u{fffe}\nTASK_START: </failure><injected/>]]>\u{7}\u{9b}\nTASK_START: ok\tx\r\n",
    )
    .unwrap();
    let out = qs()
        .args(["check", "--format", "junit"])
        .arg(&name)
        .arg("fixtures/grammar/hostile.log")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, &xml).unwrap();
    if let Some(valid) = xmllint(&path) {
        valid.unwrap();
    }
    no_control_bytes(&xml);
    assert!(!xml.contains("<injected"), "{xml}");
    assert!(!xml.contains("name=\"forged"), "{xml}");
    assert!(
        xml.contains("TASK_START: &lt;/failure&gt;&lt;injected/&gt;]]&gt;\\x07\\u{9b}"),
        "{xml}"
    );
    assert!(
        xml.contains("pane&quot;&lt;x&gt;&amp;.log"),
        "the file name is escaped: {xml}"
    );
}

#[test]
fn junit_says_an_unreadable_input_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.log");
    let out = qs()
        .args(["check", "--format", "junit", "fixtures/sessions/clean.log"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let xml = String::from_utf8(out.stdout).unwrap();
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, &xml).unwrap();
    if let Some(valid) = xmllint(&path) {
        valid.unwrap();
    }
    assert!(
        xml.contains("tests=\"1\" failures=\"0\" errors=\"1\""),
        "{xml}"
    );
    assert!(
        xml.contains("<error message=\"could not be read (to its end): "),
        "{xml}"
    );
    assert!(xml.ends_with("</testsuites>\n"));
}

#[test]
fn junit_reports_a_supervised_worker() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let out = qs()
        .args(["run", "--format", "junit", "--report"])
        .arg(format!("junit={}", path.display()))
        .args([
            "--",
            "sh",
            "-c",
            "printf 'SESSION_START: researcher-2026-11-23T10:15:30\\nTASK_START: h-1\\n'",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let file = std::fs::read_to_string(&path).unwrap();
    for xml in [&stderr, &file] {
        assert!(
            xml.contains(
                "<testcase name=\"researcher-2026-11-23T10:15:30\" classname=\"&lt;worker&gt;\">"
            ),
            "{xml}"
        );
        assert!(xml.contains("type=\"task-not-completed\""), "{xml}");
    }
    if let Some(valid) = xmllint(&path) {
        valid.unwrap();
    }
}

/// GitLab Code Quality: the report of `args`, parsed, after checking it against GitLab's
/// schema for an issue and what GitLab's documentation asks of a custom tool's report.
fn gitlab_issues(report: &str) -> Vec<serde_json::Value> {
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    let gitlab: serde_json::Value =
        serde_json::from_str(include_str!("data/schemas/gitlab-codequality.json")).unwrap();
    // GitLab's parser validates each element; the report is the array of them.
    let schema = serde_json::json!({ "type": "array", "items": gitlab });
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The documented format ("Implement a custom tool"): every field the widget reads.
    let documented = serde_json::json!({
        "type": "array",
        "items": {
            "type": "object",
            "required": ["description", "check_name", "fingerprint", "severity", "location"],
            "properties": {
                "description": { "type": "string", "minLength": 1 },
                "check_name": { "type": "string", "minLength": 1 },
                "fingerprint": { "type": "string", "pattern": "^[0-9a-f]{16,}$" },
                "severity": { "enum": ["info", "minor", "major", "critical", "blocker"] },
                "location": {
                    "type": "object",
                    "required": ["path", "lines"],
                    "properties": {
                        "path": { "type": "string", "minLength": 1 },
                        "lines": {
                            "type": "object",
                            "required": ["begin"],
                            "properties": { "begin": { "type": "integer", "minimum": 1 } }
                        }
                    }
                }
            }
        }
    });
    let validator = jsonschema::validator_for(&documented).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    report.as_array().unwrap().clone()
}

#[test]
fn gitlab_code_quality_of_every_fixture_validates_with_a_unique_fingerprint_each() {
    let out = qs()
        .args(["check", "--format", "gitlab", "fixtures/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let issues = gitlab_issues(&String::from_utf8(out.stdout).unwrap());
    let (errors, warnings, _) = json_counts(&["fixtures/"]);
    let severity = |s: &str| issues.iter().filter(|i| i["severity"] == s).count() as u64;
    assert_eq!(severity("major"), errors);
    assert_eq!(severity("minor"), warnings);
    let prints: std::collections::HashSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), issues.len(), "fingerprints are unique");
    let first = issues
        .iter()
        .find(|i| i["location"]["path"] == "fixtures/sessions/crashed-mid-task.log")
        .unwrap();
    assert_eq!(first["check_name"], "missing-session-complete");
    assert_eq!(first["location"]["lines"]["begin"], 1);
    assert!(
        first["description"]
            .as_str()
            .unwrap()
            .starts_with("session \"researcher-2026-11-23T10:15:30.123456\" never completed"),
        "{first}"
    );
}

#[test]
fn gitlab_fingerprints_are_the_baselines_and_survive_lines_added_above() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pane-1.log");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions/crashed-mid-task.log"),
    )
    .unwrap();
    std::fs::write(&log, &text).unwrap();
    let baseline = dir.path().join("baseline.jsonl");
    let report = dir.path().join("codequality.json");
    let run = |extra: &[&str]| {
        qs().args(["check", "--format", "json", "--report"])
            .arg(format!("gitlab={}", report.display()))
            .args(extra)
            .arg(&log)
            .output()
            .unwrap();
        let issues = gitlab_issues(&std::fs::read_to_string(&report).unwrap());
        let mut prints: Vec<String> = issues
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap().to_owned())
            .collect();
        prints.sort();
        prints
    };
    let plain = run(&[]);
    assert_eq!(plain.len(), 2);
    let recorded = run(&["--write-baseline", baseline.to_str().unwrap()]);
    assert_eq!(plain, recorded);
    let mut in_baseline: Vec<String> = std::fs::read_to_string(&baseline)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["fingerprint"].as_str().unwrap().to_owned()
        })
        .collect();
    in_baseline.sort();
    assert_eq!(plain, in_baseline);
    // Lines added above move the findings, not their fingerprints.
    std::fs::write(&log, format!("worker booting\n\n{text}")).unwrap();
    assert_eq!(run(&[]), plain);
}

#[test]
fn gitlab_says_an_unreadable_input_is_a_blocker_and_an_empty_run_is_an_empty_array() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.log");
    let out = qs()
        .args(["check", "--format", "gitlab"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let issues = gitlab_issues(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["severity"], "blocker");
    assert_eq!(issues[0]["check_name"], "unreadable-input");
    let out = qs()
        .args(["check", "--format", "gitlab", "fixtures/sessions/clean.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "[]\n");
}

#[test]
fn very_many_findings_make_one_valid_junit_and_gitlab_report() {
    let mut input = String::from(
        "SESSION_START: researcher-2026-11-23T10:15:30\nPATTERN_FILES_READ: what-works.md, what-fails.md\n",
    );
    for _ in 0..20_000 {
        input.push_str("FILES_CREATED: many\n");
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("many.log");
    std::fs::write(&log, input).unwrap();
    let junit = dir.path().join("junit.xml");
    let out = qs()
        .args(["check", "--format", "gitlab", "--report"])
        .arg(format!("junit={}", junit.display()))
        .arg(&log)
        .output()
        .unwrap();
    let issues = gitlab_issues(&String::from_utf8(out.stdout).unwrap());
    let malformed = issues
        .iter()
        .filter(|i| i["check_name"] == "malformed-marker")
        .count();
    assert_eq!(malformed, 20_000);
    // Identical findings still have fingerprints of their own.
    let prints: std::collections::HashSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), issues.len());
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("type=\"malformed-marker\"").count(), 20_000);
    if let Some(valid) = xmllint(&junit) {
        valid.unwrap();
    }
}

#[test]
fn github_appends_a_job_summary_that_a_transcript_cannot_forge() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "an earlier step's summary\n").unwrap();
    let hostile = dir.path().join("pane|1 <b>`x`.log");
    std::fs::write(
        &hostile,
        "SESSION_START: r-2026-11-23T10:15:30\nTASK_COMPLETE: a|b`<img src=x>@team\u{1b}[2J\n\n| forged | row |\n",
    )
    .unwrap();
    let out = qs()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "check",
            "--format",
            "github",
            "fixtures/rules/",
            "fixtures/sessions/",
        ])
        .arg(&hostile)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The annotations are unchanged on stdout.
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().all(|l| l.starts_with("::")), "{stdout}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("an earlier step's summary\n## quant-session\n\n:x: "),
        "appended: {md}"
    );
    let mut args = vec!["fixtures/rules/", "fixtures/sessions/"];
    let hostile_arg = hostile.to_str().unwrap().to_owned();
    args.push(&hostile_arg);
    let (errors, warnings, inputs) = json_counts(&args);
    assert!(
        md.contains(&format!(
            ":x: {errors} errors, {warnings} warnings in {inputs} inputs ("
        )),
        "{md}"
    );
    // A row per input, each with exactly its five cells, whatever the names hold.
    let rows: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| input |"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    // At most 100 input rows; the rest are counted under the table.
    let shown = inputs.min(100);
    assert_eq!(rows.len(), 2 + shown, "{md}");
    if inputs > shown {
        assert!(
            md.contains(&format!("and {} more inputs", inputs - shown)),
            "{md}"
        );
    }
    assert!(
        rows.iter().all(|r| r.matches('|').count() == 6),
        "{rows:#?}"
    );
    assert!(rows.contains(&"| fixtures/sessions/clean.log | 1 | 0 | 0 | — |"));
    // The first 20 findings, each with its four cells, and how many more.
    let listed: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| severity |"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(listed.len(), 2 + 20, "{md}");
    assert!(
        listed.iter().all(|r| r.matches('|').count() == 5),
        "{listed:#?}"
    );
    assert!(md.contains(&format!(
        "and {} more findings: see the annotations and the job log",
        errors + warnings - 20
    )));
    assert!(md.contains("### The first 20 findings"));
    // Nothing from the transcript is markup, a mention or a line of its own.
    for forged in ["<img", "<b>", "@team", "| forged |", "`x`", "\u{1b}"] {
        assert!(!md.contains(forged), "{forged:?} in {md}");
    }
    assert!(
        md.contains("pane&#124;1 &#60;b&#62;&#96;x&#96;.log |"),
        "{md}"
    );
}

#[test]
fn the_job_summary_is_written_only_by_the_report_on_the_job_log() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step-summary.md");
    let annotations = dir.path().join("annotations.txt");
    qs().env("GITHUB_STEP_SUMMARY", &summary)
        .args(["check", "--format", "json", "--report"])
        .arg(format!("github={}", annotations.display()))
        .arg("fixtures/sessions/clean.log")
        .assert()
        .code(0);
    assert!(!summary.exists());
    qs().env("GITHUB_STEP_SUMMARY", &summary)
        .args(["check", "--format", "github", "fixtures/sessions/clean.log"])
        .assert()
        .code(0);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(
        md,
        "## quant-session\n\n:white_check_mark: 0 errors, 0 warnings in 1 input (1 session)\n\n\
         | input | sessions | errors | warnings | usage |\n\
         | --- | ---: | ---: | ---: | --- |\n\
         | fixtures/sessions/clean.log | 1 | 0 | 0 | — |\n\n"
    );
}

#[test]
fn quiet_leaves_the_document_formats_whole() {
    for format in ["junit", "gitlab", "sarif"] {
        let out = qs()
            .args(["check", "-q", "--format", format])
            .args([
                "fixtures/sessions/clean.log",
                "fixtures/sessions/crashed-mid-task.log",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8(out.stdout).unwrap();
        match format {
            "junit" => {
                assert!(text.ends_with("</testsuites>\n"), "{text}");
                assert_eq!(text.matches("<testsuite ").count(), 2, "{text}");
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("junit.xml");
                std::fs::write(&path, &text).unwrap();
                if let Some(valid) = xmllint(&path) {
                    valid.unwrap();
                }
            }
            "gitlab" => assert_eq!(gitlab_issues(&text).len(), 2),
            _ => {
                let log: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 2);
            }
        }
    }
    // The line formats are quieted as before: findings only.
    let out = qs()
        .args([
            "check",
            "-q",
            "--format",
            "concise",
            "fixtures/sessions/crashed-mid-task.log",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
}

/// A run of more than 100 inputs: the job summary's table shows 100 rows and counts the
/// rest under it.
#[test]
fn the_job_summary_caps_its_table_at_100_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for i in 0..103 {
        std::fs::write(
            logs.join(format!("pane-{i:03}.log")),
            "SESSION_START: r-2026-11-23T10:15:30\n",
        )
        .unwrap();
    }
    let summary = dir.path().join("step-summary.md");
    qs().env("GITHUB_STEP_SUMMARY", &summary)
        .args(["check", "--format", "github"])
        .arg(&logs)
        .output()
        .unwrap();
    let md = std::fs::read_to_string(&summary).unwrap();
    let rows = md.lines().filter(|l| l.contains(".log | 1 | ")).count();
    assert_eq!(rows, 100, "{md}");
    assert!(md.contains("and 3 more inputs"), "{md}");
}

/// Two sessions of one id in one input (a resumed worker) are two testcases, each with
/// its own findings; a clean one repeated is two passing testcases.
#[test]
fn sessions_sharing_an_id_are_testcases_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let clean = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions/clean.log"),
    )
    .unwrap();
    let twice = dir.path().join("twice.log");
    std::fs::write(&twice, format!("{clean}{clean}")).unwrap();
    let out = qs()
        .args(["check", "--format", "junit"])
        .arg(&twice)
        .output()
        .unwrap();
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(xml.contains("tests=\"2\" failures=\"0\""), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    let aba = dir.path().join("aba.log");
    std::fs::write(
        &aba,
        "SESSION_START: a-2026-11-23T10:15:30\nTASK_START: t\nTASK_COMPLETE: t\n\
         SESSION_START: b-2026-11-23T10:15:30\n\
         SESSION_START: a-2026-11-23T10:15:30\nTASK_START: u\n",
    )
    .unwrap();
    let out = qs()
        .args(["check", "--format", "junit"])
        .arg(&aba)
        .output()
        .unwrap();
    let xml = String::from_utf8(out.stdout).unwrap();
    // The last session's open task is in the last testcase named `a`, not the first.
    let last_a = xml
        .rfind("<testcase name=\"a-2026-11-23T10:15:30\"")
        .unwrap();
    let first_a = xml
        .find("<testcase name=\"a-2026-11-23T10:15:30\"")
        .unwrap();
    assert!(first_a < last_a, "{xml}");
    let u = xml.find("task &quot;u&quot;").unwrap();
    assert!(u > last_a, "{xml}");
    assert!(
        !xml[first_a..last_a].contains("task &quot;u&quot;"),
        "{xml}"
    );
}

/// No link or emoji from a transcript in the job summary, and no control sequence of a
/// file's name on stderr when it cannot be read.
#[test]
fn no_link_emoji_or_terminal_sequence_from_a_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pane.log");
    std::fs::write(
        &log,
        "SESSION_START: r-2026-11-23T10:15:30\nTASK_COMPLETE: see https://evil.example/login :shipit:\n",
    )
    .unwrap();
    let summary = dir.path().join("summary.md");
    let missing = dir.path().join("a\u{1b}]0;pwned\u{7}\nb.log");
    let out = qs()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["check", "--format", "github"])
        .arg(&log)
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(!md.contains("https://") && !md.contains(":shipit:"), "{md}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    assert!(stderr.contains(r"a\x1b]0;pwned\x07\x0ab.log"), "{stderr}");
}
