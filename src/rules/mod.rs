//! Rule detection (SPEC §3), one file per family: each owns its rules' detection and
//! lists them in `RULES`. What a rule is (its id, severity and documentation) is in
//! [`crate::rule`].

pub mod checkpoint;
pub mod claims;
pub mod distillation;
pub mod health;
pub mod input;
pub mod live;
pub mod marker;
pub mod session;
pub mod subagent;
pub mod summary;
pub mod task;

use crate::rule::Rule;

/// A name or id from the transcript, quoted and escaped for a message.
pub(crate) fn q(s: &str) -> String {
    crate::sanitize::quote(s.as_bytes(), 60)
}

/// The rule families, each the owner of its rules' detection, and the rules each owns.
/// The family a rule belongs to (`session`, `task`, …).
pub fn family_of(rule: Rule) -> &'static str {
    FAMILIES
        .iter()
        .find(|(_, rules)| rules.contains(&rule))
        .map_or("", |(name, _)| name)
}

pub const FAMILIES: &[(&str, &[Rule])] = &[
    ("session", session::RULES),
    ("task", task::RULES),
    ("subagent", subagent::RULES),
    ("distillation", distillation::RULES),
    ("summary", summary::RULES),
    ("marker", marker::RULES),
    ("claims", claims::RULES),
    ("input", input::RULES),
    ("live", live::RULES),
    ("checkpoint", checkpoint::RULES),
    ("health", health::RULES),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_belongs_to_exactly_one_family() {
        for &r in Rule::ALL {
            let owners: Vec<&str> = FAMILIES
                .iter()
                .filter(|(_, rules)| rules.contains(&r))
                .map(|(name, _)| *name)
                .collect();
            assert_eq!(owners.len(), 1, "{} is owned by {owners:?}", r.id());
        }
        let listed: usize = FAMILIES.iter().map(|(_, rules)| rules.len()).sum();
        assert_eq!(listed, Rule::ALL.len());
    }
}
