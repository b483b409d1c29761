//! The levels a user sets per rule (configuration file, then command line) and the
//! options the session machine checks with: built by the caller from the configuration,
//! so the machine never reads it.

use std::collections::HashMap;

use super::{Rule, Severity};

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

/// Settings of the rules.
#[derive(Debug, Clone)]
pub struct RuleOptions {
    /// Pattern files `PATTERN_FILES_READ` must name.
    pub required_patterns: Vec<String>,
    /// The severity of each rule (or whether it is allowed).
    pub levels: RuleLevels,
    /// Tools that poll by design, besides `rules::health::POLL_TOOLS` (`poll-tools`).
    pub poll_tools: Vec<String>,
    /// What a run may spend (`--budget`, `[budget]`).
    pub budget: super::Budget,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            required_patterns: vec!["what-works.md".into(), "what-fails.md".into()],
            levels: RuleLevels::default(),
            poll_tools: Vec::new(),
            budget: Default::default(),
        }
    }
}
