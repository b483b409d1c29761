//! Rule configuration: severities (`--deny`, `--warn`, `--allow`, `--deny warnings`),
//! required pattern files and the line prefix, from the command line and from
//! `quant-session.toml`. Precedence: command line over file over defaults.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use miette::NamedSource;

use crate::diagnostic::FileDiagnostic;
use serde::Deserialize;
use toml::Spanned;

use crate::rules::{Rule, Severity};
use crate::sanitize;

/// The name of the configuration file, found upward from the working directory.
pub const FILE_NAME: &str = "quant-session.toml";

/// What a user can set per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

/// One source of rule levels: the configuration file, or the command line.
#[derive(Debug, Clone, Default)]
struct Layer {
    levels: HashMap<Rule, Level>,
    /// `deny warnings`: every warning that remains is reported as an error.
    deny_warnings: bool,
    /// `select`: only these rules run (the others as if allowed).
    select: Option<Vec<Rule>>,
}

/// The level of every rule: the command line over the configuration file over the
/// defaults. Within one source, `allow` beats `deny` beats `warn`, and `deny warnings`
/// makes every remaining warning an error — but a rule the command line sets (`--warn
/// X`) is what the command line says, whatever the file denied.
#[derive(Debug, Clone, Default)]
pub struct RuleLevels {
    file: Layer,
    cli: Layer,
    /// Where [`RuleLevels::apply`] writes: the file's layer until the command line's.
    on_cli: bool,
}

impl RuleLevels {
    /// What follows comes from the command line (it overrides the file).
    pub fn command_line(&mut self) {
        self.on_cli = true;
    }

    fn layer(&mut self) -> &mut Layer {
        if self.on_cli {
            &mut self.cli
        } else {
            &mut self.file
        }
    }

    /// Sets one rule's level (later calls win).
    pub fn set(&mut self, rule: Rule, level: Level) {
        self.layer().levels.insert(rule, level);
    }

    pub fn deny_warnings(&mut self) {
        self.layer().deny_warnings = true;
    }

    /// Only `rules` run (`--select`); `None`: all of them.
    pub fn select(&mut self, rules: Option<Vec<Rule>>) {
        self.layer().select = rules;
    }

    /// The severity `rule` reports with, or `None` when it is allowed (silenced).
    pub fn severity(&self, rule: Rule) -> Option<Severity> {
        let selected = |l: &Layer| l.select.as_ref().is_none_or(|s| s.contains(&rule));
        let chosen = match (self.cli.select.is_some(), self.file.select.is_some()) {
            (true, _) => selected(&self.cli),
            (false, true) => selected(&self.file),
            (false, false) => true,
        };
        if !chosen {
            return None;
        }
        let level = |l: Level| match l {
            Level::Allow => None,
            Level::Warn => Some(Severity::Warning),
            Level::Deny => Some(Severity::Error),
        };
        // The command line's own setting wins.
        if let Some(&l) = self.cli.levels.get(&rule) {
            return level(l);
        }
        let from_file = match self.file.levels.get(&rule) {
            Some(&l) => level(l)?,
            None => rule.default_severity(),
        };
        if self.cli.deny_warnings {
            return Some(Severity::Error);
        }
        if self.file.deny_warnings && !self.file.levels.contains_key(&rule) {
            return Some(Severity::Error);
        }
        Some(from_file)
    }

    /// Applies `names` (rule ids, `all`, or `warnings` for `deny`) at `level`.
    pub fn apply<'a>(
        &mut self,
        level: Level,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), String> {
        // `--deny 'x,'` splits into `x` and an empty entry: a trailing comma, not a rule.
        for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "warnings" if level == Level::Deny => self.deny_warnings(),
                "warnings" => {
                    return Err("`warnings` is only for --deny (`--deny warnings` makes every warning an error); to silence the warnings, --allow the rules themselves, or --select the ones you want".to_owned());
                }
                "all" => {
                    for &rule in Rule::ALL {
                        self.set(rule, level);
                    }
                }
                _ => match Rule::from_id(name) {
                    Some(rule) => self.set(rule, level),
                    None => return Err(unknown_rule(name)),
                },
            }
        }
        Ok(())
    }

    /// `--select` names: rule ids or `all`.
    pub fn parse_select<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<Vec<Rule>>, String> {
        let mut rules = Vec::new();
        for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
            if name == "all" {
                return Ok(None);
            }
            match Rule::from_id(name) {
                Some(rule) => rules.push(rule),
                None => return Err(unknown_rule(name)),
            }
        }
        Ok(Some(rules))
    }
}

fn unknown_rule(name: &str) -> String {
    let nearest = Rule::ALL
        .iter()
        .map(|r| (strsim::levenshtein(name, r.id()), r.id()))
        .min()
        .filter(|(d, _)| *d <= 3);
    match nearest {
        Some((_, id)) => format!("unknown rule `{name}` (did you mean `{id}`?)"),
        None => format!("unknown rule `{name}` (`quant-session rules` lists them)"),
    }
}

/// The keys of `quant-session.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
    #[serde(default)]
    pub warn: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    pub required_patterns: Option<Vec<String>>,
    pub strip_prefix: Option<Spanned<String>>,
}

/// A configuration file and what it set.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub text: String,
    pub config: FileConfig,
}

/// A configuration file that cannot be used, pointing into it.
pub type ConfigError = FileDiagnostic;

impl Loaded {
    /// An error pointing at `span` of this file.
    pub fn error(
        &self,
        message: impl Into<String>,
        label: impl Into<String>,
        span: Option<std::ops::Range<usize>>,
    ) -> Box<ConfigError> {
        // The file is untrusted (it is found automatically in a checked-out repository):
        // what is shown of it, and any message quoting it, is escaped (SPEC §4).
        let path = sanitize::escape(self.path.display().to_string().as_bytes());
        let mut map = Vec::new();
        let shown = sanitize::escape_lines_with_map(self.text.as_bytes(), &mut map);
        let last = map.len() - 1;
        let span = span.map(|r| map[r.start.min(last)]..map[r.end.min(last)]);
        Box::new(ConfigError {
            code: "config",
            message: sanitize::escape(message.into().as_bytes()),
            label: sanitize::escape(label.into().as_bytes()),
            span,
            source: NamedSource::new(path.clone(), shown),
            path,
        })
    }

    /// Applies the file's rule levels to `levels`.
    pub fn apply_levels(&self, levels: &mut RuleLevels) -> Result<(), Box<ConfigError>> {
        for (level, names) in [
            (Level::Warn, &self.config.warn),
            (Level::Deny, &self.config.deny),
            (Level::Allow, &self.config.allow),
        ] {
            for name in names {
                levels
                    .apply(level, [name.get_ref().as_str()])
                    .map_err(|m| self.error(m, "not a rule id", Some(name.span())))?;
            }
        }
        Ok(())
    }
}

/// Finds `quant-session.toml` in `start` or the nearest directory above it.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Reads and parses a configuration file.
pub fn load(path: &Path) -> Result<Loaded, Box<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let shown = sanitize::escape(path.display().to_string().as_bytes());
        Box::new(ConfigError {
            code: "config",
            path: shown.clone(),
            message: format!("{shown}: cannot read: {e}"),
            label: String::new(),
            span: None,
            source: NamedSource::new(shown, String::new()),
        })
    })?;
    parse(path, text)
}

/// Parses the text of configuration file `path` (read by [`load`]).
pub fn parse(path: &Path, text: String) -> Result<Loaded, Box<ConfigError>> {
    let mut loaded = Loaded {
        path: path.to_owned(),
        text,
        config: FileConfig::default(),
    };
    match toml::from_str::<FileConfig>(&loaded.text) {
        Ok(config) => loaded.config = config,
        Err(e) => {
            let message = e.message().to_owned();
            return Err(loaded.error(message.clone(), message, e.span()));
        }
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_warnings_turns_remaining_warnings_into_errors_but_allow_still_silences() {
        let mut levels = RuleLevels::default();
        levels
            .apply(Level::Deny, ["warnings"])
            .and_then(|()| levels.apply(Level::Allow, ["duplicate-task"]))
            .unwrap();
        assert_eq!(levels.severity(Rule::TaskNotStarted), Some(Severity::Error));
        assert_eq!(levels.severity(Rule::DuplicateTask), None);
    }

    #[test]
    fn unknown_rules_suggest_the_nearest() {
        let mut levels = RuleLevels::default();
        let e = levels
            .apply(Level::Warn, ["task-not-complete"])
            .unwrap_err();
        assert!(e.contains("did you mean `task-not-completed`"), "{e}");
    }

    #[test]
    fn bad_files_point_at_the_offending_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "deny = [\"task-not-started\", \"no-such-rule\"]\n").unwrap();
        let loaded = load(&path).unwrap();
        let e = loaded.apply_levels(&mut RuleLevels::default()).unwrap_err();
        assert_eq!(e.span, Some(28..42));
        std::fs::write(&path, "deny = 3\n").unwrap();
        assert!(load(&path).unwrap_err().span.is_some());
        std::fs::write(&path, "colour = true\n").unwrap();
        assert!(load(&path).unwrap_err().message.contains("unknown field"));
    }
}
