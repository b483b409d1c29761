//! The CI integrations the repository ships (issue 18), validated against their
//! published JSON schemas (SchemaStore's, kept in tests/data/schemas): `action.yml`,
//! `.pre-commit-hooks.yaml`, and every workflow in the README's CI section, as written.

fn validate(schema: &str, document: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn yaml(text: &str) -> serde_json::Value {
    serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

#[test]
fn the_action_is_a_valid_composite_action() {
    let action = yaml(&std::fs::read_to_string("action.yml").unwrap());
    let errors = validate(include_str!("data/schemas/github-action.json"), &action);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(runs.iter().any(|r| r.contains("cargo install --locked")));
    assert!(
        runs.iter()
            .any(|r| r.contains("--format github") && r.contains("sarif="))
    );
    assert!(steps.iter().any(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
    }));
    // Inputs reach the shell as variables, never pasted into a script.
    assert!(!runs.iter().any(|r| r.contains("${{")), "{runs:#?}");
    // The job summary is `--format github`'s (GitHub sets GITHUB_STEP_SUMMARY); an input
    // turns it off.
    assert_eq!(action["inputs"]["job-summary"]["default"], "true");
    assert!(
        runs.iter()
            .any(|r| r.contains("--format github") && r.contains("unset GITHUB_STEP_SUMMARY"))
    );
}

#[test]
fn the_pre_commit_hook_is_valid_and_takes_json_lines() {
    let hooks = yaml(&std::fs::read_to_string(".pre-commit-hooks.yaml").unwrap());
    let errors = validate(include_str!("data/schemas/pre-commit-hooks.json"), &hooks);
    assert!(errors.is_empty(), "{errors:#?}");
    // Two kinds, one behaviour: built with cargo, or installed as a Python wheel.
    let hooks = hooks.as_array().unwrap();
    let languages: Vec<&str> = hooks
        .iter()
        .map(|h| h["language"].as_str().unwrap())
        .collect();
    assert_eq!(languages, ["rust", "python"]);
    for hook in hooks {
        assert_eq!(hook["entry"], hooks[0]["entry"]);
        let files = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();
        for name in ["logs/pane-1.log", "a.txt", "session.jsonl", "run.ndjson"] {
            assert!(files.is_match(name), "{name}");
        }
        assert!(!files.is_match("src/main.rs"));
    }
    // The Python hook installs the package pyproject.toml describes: maturin's binary.
    let pyproject: toml::Value =
        toml::from_str(&std::fs::read_to_string("pyproject.toml").unwrap()).unwrap();
    assert_eq!(
        pyproject["build-system"]["build-backend"].as_str(),
        Some("maturin")
    );
    assert_eq!(
        pyproject["tool"]["maturin"]["bindings"].as_str(),
        Some("bin")
    );
    assert_eq!(pyproject["project"]["name"].as_str(), Some("quant-session"));
}

#[test]
fn the_readme_workflows_are_valid_as_written() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let section = &readme[readme.find("#### CI: copy from here").unwrap()..];
    let section = &section[..section.find("\n### ").unwrap()];
    let mut workflows = 0;
    for block in section.split("```yaml\n").skip(1) {
        let text = &block[..block.find("```").unwrap()];
        let doc = yaml(text);
        if doc.get("jobs").is_none() {
            continue; // the pre-commit configuration
        }
        workflows += 1;
        let errors = validate(include_str!("data/schemas/github-workflow.json"), &doc);
        assert!(errors.is_empty(), "{errors:#?}\n{text}");
        assert!(doc.get("on").is_some(), "{text}");
        assert_eq!(doc["permissions"]["security-events"], "write");
        assert_eq!(doc["permissions"]["contents"], "read");
    }
    assert_eq!(workflows, 2);
}

#[test]
fn the_schemas_reject_what_github_and_pre_commit_would() {
    // The checks above can fail: a job without runs-on, an action with an unknown
    // runner, a hook without an entry.
    let job = yaml("on: push\njobs:\n  a:\n    steps:\n      - run: true\n");
    assert!(!validate(include_str!("data/schemas/github-workflow.json"), &job).is_empty());
    let action = yaml("name: x\ndescription: y\nruns:\n  using: nope\n");
    assert!(!validate(include_str!("data/schemas/github-action.json"), &action).is_empty());
    let hook = yaml("- id: x\n  name: x\n  language: rust\n");
    assert!(!validate(include_str!("data/schemas/pre-commit-hooks.json"), &hook).is_empty());
}
