//! GitLab Code Quality JSON (the `codequality` report artefact, which GitLab shows in a
//! merge request's widget): an array with an object per finding — `description`,
//! `check_name` (the rule), `fingerprint`, `severity` (`major` for an error, `minor`
//! for a warning), `location.path` and `location.lines.begin`.
//!
//! The fingerprint is the baseline's (SPEC §10, [`crate::baseline::Fingerprinter`]):
//! stable across runs and line shifts, unique per finding, so GitLab tells new findings
//! from old ones as `--baseline` does. An input that could not be read is a `blocker`
//! issue of its own: the widget never shows a clean input that was not checked.
//!
//! The array is written as a stream: `[`, each object as it comes, `]` at the end of the
//! run. Memory holds one finding at a time.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::baseline::{Fingerprinter, path_key};
use crate::finding::Finding;
use crate::rule::Severity;
use crate::sink::{Flow, Item, Sink};

/// The `check_name` of an input that could not be read (no rule has it).
pub const UNREADABLE: &str = "unreadable-input";

#[derive(Serialize)]
struct Lines {
    begin: u64,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Issue<'a> {
    description: &'a str,
    check_name: &'a str,
    fingerprint: &'a str,
    severity: &'static str,
    location: Location<'a>,
}

/// The GitLab Code Quality reporter.
pub struct Gitlab<W> {
    /// Where the JSON array goes, an issue as each finding comes.
    pub out: W,
    /// Issues written so far (a comma goes before every one but the first).
    issues: u64,
    /// The inputs being read (one in `check`, one per followed file in `watch`): each
    /// one's path as GitLab links it (relative to the repository's root, as the baseline
    /// keeps it), and its fingerprints so far.
    inputs: HashMap<String, (String, Fingerprinter)>,
}

impl<W: Write> Gitlab<W> {
    /// The report on `out`; the array opens with the first issue.
    pub fn new(out: W) -> Self {
        Gitlab {
            out,
            issues: 0,
            inputs: HashMap::new(),
        }
    }

    /// The path and fingerprints of `input`, its identical findings counted from its
    /// first.
    fn input(&mut self, input: &str) -> (&mut String, &mut Fingerprinter) {
        let (path, prints) = self
            .inputs
            .entry(input.to_owned())
            .or_insert_with(|| (path_key(input), Fingerprinter::default()));
        (path, prints)
    }

    fn write(&mut self, issue: &Issue<'_>) -> io::Result<()> {
        self.out
            .write_all(if self.issues == 0 { b"[\n  " } else { b",\n  " })?;
        crate::report::json_text::to_writer(&mut self.out, issue)?;
        self.issues += 1;
        Ok(())
    }

    fn finding(&mut self, input: &str, f: &Finding) -> io::Result<()> {
        let (path, prints) = self.input(input);
        // With --baseline or --write-baseline the finding has its fingerprint already.
        let fingerprint = match &f.baseline {
            Some(known) => known.fingerprint.clone(),
            None => prints.fingerprint(path, f),
        };
        let path = path.clone();
        let description = format!("{} (help: {})", f.message, f.help);
        self.write(&Issue {
            description: &description,
            check_name: f.rule.id(),
            fingerprint: &fingerprint,
            severity: match f.severity {
                Severity::Error => "major",
                Severity::Warning => "minor",
            },
            location: Location {
                path: &path,
                lines: Lines {
                    begin: f.primary.at.line,
                },
            },
        })
    }

    fn unreadable(&mut self, input: &str, error: &str) -> io::Result<()> {
        let path = self.input(input).0.clone();
        let fingerprint = format!(
            "{:016x}",
            crate::baseline::fnv(0, &[UNREADABLE.as_bytes(), path.as_bytes()])
        );
        // The error names the input.
        let description = format!(
            "could not be read (to its end): {}; it is not checked",
            crate::sanitize::escape(error.as_bytes())
        );
        self.write(&Issue {
            description: &description,
            check_name: UNREADABLE,
            fingerprint: &fingerprint,
            severity: "blocker",
            location: Location {
                path: &path,
                lines: Lines { begin: 1 },
            },
        })
    }

    fn end_run(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.issues == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

impl<W: Write> Sink for Gitlab<W> {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Finding(f) => self.finding(input, &f)?,
            Item::Unreadable(error) => self.unreadable(input, error)?,
            Item::RunEnd { .. } => self.end_run()?,
            Item::Followed
            | Item::Event(_)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..) => {}
            Item::InputEnd(_) => {
                self.inputs.remove(input);
                self.out.flush()?;
            }
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}
