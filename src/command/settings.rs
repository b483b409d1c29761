//! The settings a command checks with: the configuration file (found, or named by
//! `--config`), then the command line over it; `--show-settings` prints the result.

use std::path::Path;

use super::{Fatal, scan_options};
use crate::config;
use crate::rule::{Level, Rule, RuleLevels, RuleOptions};
use crate::scan::ScanOptions;

/// Scanner and rule settings: command line over configuration file over defaults.
pub fn settings(args: &crate::cli::RuleArgs) -> Result<(ScanOptions, RuleOptions), Fatal> {
    let path = match (&args.config, args.no_config) {
        (_, true) => None,
        (Some(p), _) => Some(p.clone()),
        (None, false) => std::env::current_dir().ok().and_then(|d| config::find(&d)),
    };
    let loaded = match path {
        Some(p) => Some(config::load(&p).map_err(config_fatal)?),
        None => None,
    };
    let mut levels = RuleLevels::default();
    if let Some(l) = &loaded {
        l.apply_levels(&mut levels).map_err(config_fatal)?;
    }
    // The command line over the file.
    levels.command_line();
    for (level, names, flag) in [
        (Level::Warn, &args.warn, "--warn"),
        (Level::Deny, &args.deny, "--deny"),
        (Level::Allow, &args.allow, "--allow"),
        (Level::Allow, &args.ignore, "--ignore"),
    ] {
        levels
            .apply(level, names.iter().map(String::as_str))
            .map_err(|e| Fatal::usage(format!("{flag}: {e}")))?;
    }
    if !args.select.is_empty() {
        let selected = RuleLevels::parse_select(args.select.iter().map(String::as_str))
            .map_err(|e| Fatal::usage(format!("--select: {e}")))?;
        levels.select(selected);
    }
    let file = loaded.as_ref().map(|l| &l.config);
    let required_patterns = args
        .required_patterns
        .clone()
        .or_else(|| file.and_then(|f| f.required_patterns.clone()))
        .unwrap_or_else(|| RuleOptions::default().required_patterns)
        .into_iter()
        // `a.md,b.md,` (a trailing comma) names two files, not a third empty one.
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let mut frame = crate::cli::FrameArgs {
        strip_prefix: args.frame.strip_prefix.clone(),
        input: args.frame.input,
    };
    if frame.strip_prefix.is_none()
        && let Some(l) = &loaded
        && let Some(p) = &l.config.strip_prefix
    {
        // A bad regex in the file is the file's error, shown at its line.
        let value = p.get_ref();
        if crate::prefix::preset(value).is_none()
            && let Err(e) = regex::bytes::Regex::new(value)
        {
            return Err(config_fatal(l.error(
                format!(
                    "strip-prefix is not a valid regex: {}",
                    super::regex_error(&e)
                ),
                "not a valid regex",
                Some(p.span()),
            )));
        }
        frame.strip_prefix = Some(value.clone());
    }
    let scan = scan_options(&frame)?;
    let mut budget = crate::rules::health::Budget::default();
    if let Some(l) = &loaded
        && let Some(table) = &l.config.budget
    {
        let t = table.get_ref();
        let mut text = Vec::new();
        if let Some(n) = t.tokens {
            text.push(format!("tokens={n}"));
        }
        if let Some(c) = t.cost {
            text.push(format!("cost={c}"));
        }
        if let Some(n) = t.turns {
            text.push(format!("turns={n}"));
        }
        match &t.duration {
            Some(toml::Value::String(d)) => text.push(format!("duration={d}")),
            Some(toml::Value::Integer(n)) => text.push(format!("duration={n}")),
            Some(other) => text.push(format!("duration={other}")),
            None => {}
        }
        budget.add(&text.join(",")).map_err(|e| {
            config_fatal(l.error(format!("[budget]: {e}"), "not a budget", Some(table.span())))
        })?;
    }
    if let Some(text) = &args.budget {
        budget
            .add(text)
            .map_err(|e| Fatal::usage(format!("--budget: {e}")))?;
    }
    let rules = RuleOptions {
        required_patterns,
        levels,
        poll_tools: file.map(|f| f.poll_tools.clone()).unwrap_or_default(),
        budget,
    };
    if args.show_settings {
        let text = show_settings(
            args,
            loaded.as_ref().map(|l| l.path.as_path()),
            &frame,
            &rules,
        );
        super::write_stdout(text.as_bytes())?;
        // Nothing is open yet: the settings are the whole answer.
        std::process::exit(i32::from(super::EXIT_CLEAN));
    }
    Ok((scan, rules))
}

/// `--show-settings`: the configuration file used and every rule's level.
fn show_settings(
    args: &crate::cli::RuleArgs,
    config: Option<&Path>,
    frame: &crate::cli::FrameArgs,
    rules: &RuleOptions,
) -> String {
    let shown = |p: &Path| crate::sanitize::escape(p.display().to_string().as_bytes());
    let config = match (config, args.no_config) {
        (Some(p), _) => shown(p),
        (None, true) => "none (--no-config)".to_owned(),
        (None, false) => format!("none (no {} in this directory or above)", config::FILE_NAME),
    };
    let mut out = format!("configuration: {config}\n");
    out.push_str(&format!(
        "required patterns: {}\n",
        crate::sanitize::escape(rules.required_patterns.join(", ").as_bytes())
    ));
    out.push_str(&format!(
        "budget: {}\n",
        if rules.budget.is_empty() {
            "none".to_owned()
        } else {
            rules.budget.describe()
        }
    ));
    if !rules.poll_tools.is_empty() {
        out.push_str(&format!(
            "poll tools: {}\n",
            crate::sanitize::escape(rules.poll_tools.join(", ").as_bytes())
        ));
    }
    out.push_str(&format!(
        "strip prefix: {}\n",
        frame.strip_prefix.as_deref().map_or_else(
            || "none".to_owned(),
            |p| crate::sanitize::escape(p.as_bytes())
        )
    ));
    out.push_str("rules:\n");
    let width = Rule::ALL.iter().map(|r| r.id().len()).max().unwrap_or(0);
    for &rule in Rule::ALL {
        let level = match rules.levels.severity(rule) {
            Some(s) => s.as_str(),
            None => "allowed",
        };
        let note = if rule.default_severity().as_str() == level {
            ""
        } else {
            " (changed)"
        };
        out.push_str(&format!("  {:width$}  {level}{note}\n", rule.id()));
    }
    out
}

fn config_fatal(e: Box<config::ConfigError>) -> Fatal {
    config_report(&e)
}

fn config_report(e: &config::ConfigError) -> Fatal {
    Fatal::Config(e.render())
}
