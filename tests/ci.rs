//! CI use: many files and directories, the GitHub and SARIF formats, extra reports,
//! rule configuration from flags and `quant-session.toml`, exit policy, rule docs.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn qs_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("quant-session").unwrap();
    c.current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("GITHUB_STEP_SUMMARY");
    c
}

fn qs() -> Command {
    qs_in(Path::new(env!("CARGO_MANIFEST_DIR")))
}

fn stdout(c: &mut Command) -> (String, i32) {
    let out = c.output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

const MULTI: [&str; 3] = [
    "fixtures/rules/task-not-completed.log",
    "fixtures/rules/task-not-started.log",
    "fixtures/sessions/seed-session-manager.log",
];

#[test]
fn github_format_for_a_multi_file_run() {
    let (out, code) = stdout(qs().args(["check", "--format", "github"]).args(MULTI));
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn json_format_for_a_multi_file_run() {
    let (out, code) = stdout(qs().args(["check", "--format", "json"]).args(MULTI));
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn human_format_for_a_multi_file_run_ends_with_a_total() {
    let (out, _) = stdout(qs().args(["check"]).args(MULTI));
    assert!(
        out.ends_with("total: 3 sessions, 2 errors, 3 warnings\n"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn the_human_report_says_what_was_not_checked_once_per_run_and_json_per_input() {
    let (out, _) = stdout(qs().args(["check", "fixtures/sessions/"]));
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("not checked:"))
        .collect();
    assert_eq!(
        lines,
        [
            "not checked: unbacked-subagent, unbacked-files-created, tool-loop (no tool calls in the input); \
          duration-mismatch (no timestamps in the input); worker-error-exit (the input does not \
          say how the worker ended); checkpoint-problem (no --checkpoints DIR)"
        ]
    );
    // Just before the run's total.
    assert!(out.ends_with(&format!(
        "{}\ntotal: 9 sessions, 7 errors, 3 warnings\n",
        lines[0]
    )));
    // Where inputs differ, it says on how many each gap was.
    let (out, _) = stdout(qs().args([
        "check",
        "fixtures/sessions/clean.log",
        "fixtures/shapes/session.stream-json.log",
    ]));
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("not checked:"))
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].contains("(no tool calls in the input, on 1 of 2 inputs)"),
        "{out}"
    );
    // JSON keeps it in each input's summary.
    let (out, _) = stdout(qs().args(["check", "--format", "json", "fixtures/sessions/"]));
    let summaries: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "summary")
        .collect();
    assert_eq!(summaries.len(), 7);
    assert!(
        summaries
            .iter()
            .all(|s| s["not_checked"].as_array().unwrap().len() == 6)
    );
}

#[test]
fn github_annotations_cannot_be_forged_by_a_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("pane,1:evil.log");
    std::fs::write(
        &name,
        "SESSION_START: researcher-2026-11-23T10:15:30\nTASK_COMPLETE: h-1%0A::error::forged\r\n",
    )
    .unwrap();
    let (out, _) = stdout(
        qs().args([
            "check",
            "--format",
            "github",
            "fixtures/grammar/hostile.log",
        ])
        .arg(&name),
    );
    for line in out.lines() {
        assert!(
            line.starts_with("::error file=") || line.starts_with("::warning file="),
            "{line}"
        );
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
    }
    assert!(
        out.contains(r#"task "h-1%250A::error::forged" completed"#),
        "{out}"
    );
    assert!(
        out.contains("pane%2C1%3Aevil.log,line=2,col=1,title=task-not-started::"),
        "{out}"
    );
    assert!(
        out.contains(r"TASK_COMPLETE: \\u{9b}2Jclear") || out.contains(r"\u{9b}2Jclear"),
        "{out}"
    );
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let (human, code) = stdout(
        qs().args(["check", "--report"])
            .arg(format!("sarif={}", sarif.display()))
            .args(MULTI)
            .arg("fixtures/grammar/hostile.log"),
    );
    assert_eq!(code, 1);
    assert!(
        human.contains("total: 4 sessions"),
        "the human log comes from the same pass"
    );
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    // The official schema's `language` patterns have a stray `]` that Rust's regex
    // engine (rightly) rejects; escape it so the schema compiles.
    let mut schema = schema;
    assert_eq!(escape_stray_bracket(&mut schema), 2);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &log["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().unwrap().len(),
        quant_session::rule::Rule::ALL.len()
    );
    // What GitHub shows beside an alert: each rule's whole `explain` page, as text and
    // Markdown, its tags and precision; the run's category.
    for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        assert!(
            rule["help"]["text"].as_str().unwrap().starts_with(id),
            "{rule}"
        );
        let markdown = rule["help"]["markdown"].as_str().unwrap();
        assert!(
            markdown.contains("#### How to fix the worker"),
            "{markdown}"
        );
        assert!(markdown.contains("```text\n"), "{markdown}");
        assert!(rule["properties"]["tags"][0] == "quant-session", "{rule}");
        assert!(rule["properties"]["precision"].is_string(), "{rule}");
        assert!(rule.get("helpUri").is_none(), "no published repository yet");
    }
    assert_eq!(run["automationDetails"]["id"], "quant-session/");
    let results = run["results"].as_array().unwrap();
    let first = &results[0];
    assert_eq!(first["ruleId"], "task-not-completed");
    assert_eq!(first["level"], "error");
    let location = &first["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "fixtures/rules/task-not-completed.log"
    );
    assert_eq!(location["region"]["startLine"], 11);
    assert_eq!(results.len(), 12);
    assert!(results.iter().any(|r| r["relatedLocations"].is_array()));
    let mut log = log;
    log["runs"][0]["results"] = serde_json::Value::Null;
    insta::assert_json_snapshot!("sarif-without-results", log);
}

#[test]
fn several_reports_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.jsonl");
    let gh = dir.path().join("gh.txt");
    qs().args(["check", "--format", "human", "--report"])
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("github={}", gh.display()))
        .args(MULTI)
        .assert()
        .code(1);
    let (direct, _) = stdout(qs().args(["check", "--format", "json"]).args(MULTI));
    assert_eq!(std::fs::read_to_string(&json).unwrap(), direct);
    assert_eq!(std::fs::read_to_string(&gh).unwrap().lines().count(), 5);
}

#[test]
fn pipe_mode_writes_reports_too() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.jsonl");
    qs().args(["check", "--report"])
        .arg(format!("json={}", json.display()))
        .write_stdin(std::fs::read("fixtures/rules/task-not-completed.log").unwrap())
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(text.contains(r#""rule":"task-not-completed""#));
    assert!(text.contains(r#""kind":"summary","file":"<stdin>""#));
}

#[test]
fn directories_are_walked_in_name_order_for_the_globs() {
    let (out, code) = stdout(qs().args(["check", "--format", "json", "fixtures/rules"]));
    assert_eq!(code, 1);
    let files: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "summary")
        .map(|v| v["file"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);
    let names: Vec<String> = std::fs::read_dir("fixtures/rules")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let count = |suffix: &str| names.iter().filter(|n| n.ends_with(suffix)).count();
    assert_eq!(files.len(), count(".log"));
    let (out, _) = stdout(qs().args([
        "check",
        "--format",
        "json",
        "--glob",
        "*.ok.log",
        "fixtures/rules",
    ]));
    assert_eq!(
        out.lines().count(),
        count(".ok.log"),
        "clean twins only, no findings"
    );
}

#[test]
fn output_is_the_same_however_many_threads_finish_first() {
    let (a, _) = stdout(qs().args(["check", "--format", "json", "fixtures"]));
    let (b, _) = stdout(qs().args(["check", "--format", "json", "fixtures"]));
    assert_eq!(a, b);
}

#[test]
fn an_unreadable_file_is_named_and_the_others_still_checked() {
    qs().args(["check", "no/such.log", "fixtures/sessions/clean.log"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such.log"))
        .stdout(predicate::str::contains(
            "fixtures/sessions/clean.log: 1 session",
        ));
}

#[test]
fn stdin_can_be_a_file_among_others() {
    qs().args([
        "check",
        "--format",
        "json",
        "-",
        "fixtures/sessions/clean.log",
    ])
    .write_stdin(std::fs::read("fixtures/rules/task-not-completed.log").unwrap())
    .assert()
    .code(1)
    .stdout(
        predicate::str::contains(r#""file":"<stdin>","rule":"task-not-completed""#)
            .and(predicate::str::contains("Read(").not()),
    );
}

#[test]
fn exit_policy_follows_severities() {
    let f = "fixtures/rules/task-not-started.log";
    qs().args(["check", f]).assert().code(0);
    qs().args(["check", "--deny", "task-not-started", f])
        .assert()
        .code(1);
    qs().args(["check", "--deny", "warnings", f])
        .assert()
        .code(1);
    qs().args([
        "check",
        "--deny",
        "warnings",
        "--allow",
        "task-not-started",
        f,
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::contains("0 errors, 0 warnings"));
    let g = "fixtures/rules/task-not-completed.log";
    qs().args(["check", "--warn", "task-not-completed", g])
        .assert()
        .code(0);
    qs().args(["check", "--exit-zero", g])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("task-not-completed"));
    qs().args(["check", "--deny", "task-not-complete", g])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "a similar value exists: 'task-not-completed'",
        ));
}

#[test]
fn config_file_is_found_upward_and_the_command_line_wins() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("logs/deep");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        dir.path().join("quant-session.toml"),
        "deny = [\"task-not-started\"]\nrequired-patterns = [\"what-works.md\"]\n",
    )
    .unwrap();
    let manifest = env!("CARGO_MANIFEST_DIR");
    let f = format!("{manifest}/fixtures/rules/task-not-started.log");
    qs_in(&sub).args(["check", &f]).assert().code(1);
    qs_in(&sub)
        .args(["check", "--warn", "task-not-started", &f])
        .assert()
        .code(0);
    // required-patterns from the file: naming only what-works.md is enough.
    let g = format!("{manifest}/fixtures/rules/patterns-not-read.log");
    std::fs::write(
        sub.join("only-works.log"),
        std::fs::read_to_string(&g).unwrap().replace(
            "QUEUE_DEPTH",
            "PATTERN_FILES_READ: what-works.md\nQUEUE_DEPTH",
        ),
    )
    .unwrap();
    qs_in(&sub)
        .args(["check", "only-works.log"])
        .assert()
        .code(0);
    qs_in(&sub)
        .args([
            "check",
            "--required-patterns",
            "what-works.md,what-fails.md",
            "only-works.log",
        ])
        .assert()
        .code(1);
    // --config overrides the search.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "allow = [\"task-not-started\"]\n").unwrap();
    qs_in(&sub)
        .args(["check", "--config", other.to_str().unwrap(), &f])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 warnings"));
}

#[test]
fn a_bad_config_points_into_the_toml_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("quant-session.toml"),
        "# team settings\ndeny = [\"task-not-started\", \"no-such-rule\"]\n",
    )
    .unwrap();
    let out = qs_in(dir.path())
        .args(["check", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    insta::assert_snapshot!(stderr.replace(dir.path().to_str().unwrap(), "[DIR]"));
}

#[test]
fn rules_lists_every_rule_and_explain_documents_one() {
    let (list, code) = stdout(qs().arg("rules"));
    assert_eq!(code, 0);
    for rule in quant_session::rule::Rule::ALL {
        assert!(list.contains(rule.id()));
    }
    insta::assert_snapshot!(list);
    let (doc, code) = stdout(qs().args(["explain", "task-not-completed"]));
    assert_eq!(code, 0);
    insta::assert_snapshot!(doc);
    qs().args(["explain", "nope"]).assert().code(2);
    // How each kind of input backs the claim rules.
    let (doc, _) = stdout(qs().args(["explain", "unbacked-subagent"]));
    assert!(
        doc.contains("On each input")
            && doc.contains("Task/Agent")
            && doc.contains("spawn_agent")
            && doc.contains("Gemini: not checked"),
        "{doc}"
    );
    let (doc, _) = stdout(qs().args(["explain", "unbacked-files-created"]));
    assert!(
        doc.contains("apply_patch") && doc.contains("write_file"),
        "{doc}"
    );
    let (doc, _) = stdout(qs().args(["explain", "worker-error-exit"]));
    assert!(
        doc.contains("turn.failed") && doc.contains("result.status"),
        "{doc}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let (bash, code) = stdout(qs().args(["completions", "bash"]));
    assert_eq!(code, 0);
    assert!(bash.contains("--strip-prefix") && bash.contains("explain"));
    let (man, code) = stdout(qs().arg("man"));
    assert_eq!(code, 0);
    assert!(man.contains(".TH quant-session") && man.contains("check"));
}

/// Escapes the stray `]` of the SARIF schema's language pattern wherever it occurs.
fn escape_stray_bracket(v: &mut serde_json::Value) -> usize {
    const BAD: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match v {
        serde_json::Value::String(s) if s == BAD => {
            *s = BAD.replace("}]?", "}\\]?");
            1
        }
        serde_json::Value::Array(a) => a.iter_mut().map(escape_stray_bracket).sum(),
        serde_json::Value::Object(o) => o.values_mut().map(escape_stray_bracket).sum(),
        _ => 0,
    }
}

#[test]
fn directory_walks_skip_hidden_and_gitignored_files_unless_no_ignore() {
    let dir = tempfile::tempdir().unwrap();
    for sub in [".hidden", "ignored", "kept"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::copy(
            "fixtures/sessions/clean.log",
            dir.path().join(sub).join("pane.log"),
        )
        .unwrap();
    }
    // Not a git repository: a .gitignore still counts (a copied corpus).
    std::fs::write(dir.path().join(".gitignore"), "ignored/\n").unwrap();
    let (text, code) = stdout(qs().args(["check", "--format", "concise"]).arg(dir.path()));
    assert_eq!(code, 0);
    assert!(text.ends_with("in 1 input (1 session)\n"), "{text}");
    let (text, _) = stdout(
        qs().args(["check", "--format", "concise", "--no-ignore"])
            .arg(dir.path()),
    );
    assert!(text.ends_with("in 3 inputs (3 sessions)\n"), "{text}");
}
