//! Line prefixes: the log envelopes worker output arrives in (docker, CRI, GitHub,
//! journald) as named `--strip-prefix` presets, and how a line that hides a marker
//! behind such a prefix is recognised, so the report can name the flag to pass.

use std::sync::LazyLock;

use regex::bytes::Regex;

/// Named `--strip-prefix` values for the log envelopes workers' output arrives in.
pub const PRESETS: [(&str, &str); 4] = [
    // `docker logs --timestamps`: RFC 3339 with a 9-digit fraction.
    ("docker", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z "),
    // Kubernetes CRI log files: `<ts> stdout|stderr F|P <text>`.
    ("cri", r"\d{4}-\d\d-\d\dT\S+ (stdout|stderr) [FP] "),
    // GitHub Actions logs (`…1234567Z `), also behind `gh run view --log`'s `job\tstep\t`.
    (
        "github",
        r"([^\t]*\t[^\t]*\t)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ",
    ),
    // `journalctl -o short-iso`: `<ts> host unit[pid]: `.
    (
        "journald",
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:?\d\d|Z)? \S+ [^:]+: ",
    ),
];

/// The regex of a named preset.
pub fn preset(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, re)| *re)
}

/// A preset one typo away from `value` (`dockr`, `jounrald`): what the user probably
/// meant, when `value` is not itself a preset.
pub fn near_preset(value: &str) -> Option<&'static str> {
    if preset(value).is_some() || value.len() > 12 {
        return None;
    }
    PRESETS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| strsim::damerau_levenshtein(value, name) <= 2)
}

/// The presets compiled, anchored at the start of a line.
static COMPILED: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    PRESETS
        .iter()
        .filter_map(|(name, re)| Some((*name, Regex::new(&format!("^(?:{re})")).ok()?)))
        .collect()
});

/// The `--strip-prefix` value that would uncover a marker behind `prefix` (the bytes of
/// a line before its keyword): a preset when one matches it whole, otherwise a regex
/// for a bracketed pane tag (`[pane-2] `), or none.
pub fn flag_for(prefix: &[u8]) -> Option<String> {
    for (name, re) in COMPILED.iter() {
        if re.find(prefix).is_some_and(|m| m.end() == prefix.len()) {
            return Some((*name).to_owned());
        }
    }
    if prefix.first() == Some(&b'[') && prefix.ends_with(b"] ") {
        return Some(r"'\[[^]]*\] '".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_of_a_preset_is_named() {
        assert_eq!(near_preset("dockr"), Some("docker"));
        assert_eq!(near_preset("jounrald"), Some("journald"));
        assert_eq!(near_preset("docker"), None);
        assert_eq!(near_preset(r"\[pane-\d+\] "), None);
    }

    #[test]
    fn the_flag_is_the_preset_whose_prefix_it_is() {
        assert_eq!(
            flag_for(b"2026-11-23T10:15:30.123456789Z ").as_deref(),
            Some("docker")
        );
        assert_eq!(
            flag_for(b"2026-11-23T10:15:30.1Z stdout F ").as_deref(),
            Some("cri")
        );
        assert_eq!(flag_for(b"[pane-2] ").as_deref(), Some(r"'\[[^]]*\] '"));
        assert_eq!(flag_for(b"12 "), None);
    }
}
