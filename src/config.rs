//! Rule configuration: severities (`--deny`, `--warn`, `--allow`, `--deny warnings`),
//! required pattern files and the line prefix, from the command line and from
//! `quant-session.toml`. Precedence: command line over file over defaults.

use std::path::{Path, PathBuf};

use miette::NamedSource;

use crate::diagnostic::FileDiagnostic;
use serde::Deserialize;
use toml::Spanned;

use crate::rule::{Level, RuleLevels};
use crate::sanitize;

/// The name of the configuration file, found upward from the working directory.
pub const FILE_NAME: &str = "quant-session.toml";

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
    /// Tools that poll by design: exempt from tool-loop.
    #[serde(default)]
    pub poll_tools: Vec<String>,
    /// `[budget]`: what a run may spend (budget-exceeded).
    pub budget: Option<Spanned<BudgetTable>>,
}

/// `[budget]` in `quant-session.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetTable {
    pub tokens: Option<u64>,
    pub cost: Option<f64>,
    pub turns: Option<u64>,
    /// `"90m"`, or seconds as a number (`90`), as the command line takes it.
    pub duration: Option<toml::Value>,
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
    use crate::rule::{Rule, Severity};

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
