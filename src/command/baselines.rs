//! `--baseline` and `--write-baseline` (SPEC §10) as a sink in front of the reports:
//! each finding gets its fingerprint and is recorded; one the baseline holds is marked
//! `unchanged`, shown only by the formats that mark it, and not counted.

use std::fs::File;
use std::io::BufWriter;

use super::{Fatal, WriteTo};
use crate::finding::Finding;
use crate::report::file::{Inputs, ReportFile};
use crate::sink::{Flow, Item, Sink};
use crate::summary::Totals;

/// `--baseline` and `--write-baseline` (SPEC §10), between the findings and the
/// reports: each finding gets its fingerprint; one the baseline holds is `unchanged`,
/// shown only by the formats that mark it, and not counted.
pub(super) struct Baselines {
    baseline: Option<crate::baseline::Baseline>,
    writer: Option<(ReportFile, crate::baseline::Writer<BufWriter<File>>)>,
    /// The input being reported, its path as fingerprints hold it, and its
    /// fingerprints so far.
    file: String,
    key: String,
    prints: crate::baseline::Fingerprinter,
    /// Findings of the input being reported that the baseline holds, by severity.
    pub(super) unchanged: Totals,
    /// Findings of the whole run that the baseline held (not reported).
    hidden: u64,
}

impl Baselines {
    pub(super) fn open(lint: &crate::cli::LintArgs, inputs: &Inputs<'_>) -> Result<Self, Fatal> {
        let baseline = match &lint.baseline {
            Some(path) => Some(crate::baseline::Baseline::read(path).map_err(|e| {
                Fatal::usage(format!(
                    "--baseline {}",
                    crate::sanitize::escape(e.as_bytes())
                ))
            })?),
            None => None,
        };
        let writer = match &lint.write_baseline {
            Some(path) => {
                let shown = crate::sanitize::escape(path.display().to_string().as_bytes());
                if let Some(why) = inputs.conflict(path) {
                    return Err(Fatal::usage(format!(
                        "--write-baseline {shown}: {why}; refusing to overwrite what is being checked"
                    )));
                }
                let (pending, file) = ReportFile::create(path)
                    .map_err(|e| Fatal::write(WriteTo::Create(shown.clone()), e))?;
                let writer = crate::baseline::Writer::new(BufWriter::new(file))
                    .map_err(|e| Fatal::write(WriteTo::File(path.clone()), e))?;
                Some((pending, writer))
            }
            None => None,
        };
        Ok(Baselines {
            baseline,
            writer,
            file: String::new(),
            key: String::new(),
            prints: Default::default(),
            unchanged: Totals::default(),
            hidden: 0,
        })
    }

    /// Whether a baseline is read (`--baseline`): summaries then say how many findings
    /// it held.
    pub(super) fn reading(&self) -> bool {
        self.baseline.is_some()
    }

    /// Whether a baseline is written (`--write-baseline`): the run records, it does not
    /// judge (exit 0 unless something failed).
    pub(super) fn writing(&self) -> bool {
        self.writer.is_some()
    }

    /// Fingerprints `f` (reported for `file`), records it, and says whether the baseline
    /// held it.
    pub(super) fn tag(&mut self, file: &str, f: &mut Finding) -> Result<bool, Fatal> {
        if self.file != file {
            self.file = file.to_owned();
            self.key = crate::baseline::path_key(file);
            self.prints = Default::default();
            self.unchanged = Totals::default();
        }
        let fingerprint = self.prints.fingerprint(&self.key, f);
        if let Some((pending, writer)) = &mut self.writer {
            writer
                .add(&self.key, f, &fingerprint)
                .map_err(|e| Fatal::write(WriteTo::File(pending.path.clone()), e))?;
        }
        let state = self.baseline.as_mut().map(|b| {
            if b.take(&fingerprint) {
                crate::baseline::State::Unchanged
            } else {
                crate::baseline::State::New
            }
        });
        let unchanged = state == Some(crate::baseline::State::Unchanged);
        if unchanged {
            self.hidden += 1;
            match f.severity {
                crate::rule::Severity::Error => self.unchanged.errors += 1,
                crate::rule::Severity::Warning => self.unchanged.warnings += 1,
            }
        }
        f.baseline = Some(Box::new(crate::baseline::Known { fingerprint, state }));
        Ok(unchanged)
    }

    /// The findings of `file` the baseline held (counted off its totals), and a fresh
    /// count for the next input.
    pub(super) fn take_unchanged(&mut self, file: &str) -> Totals {
        let known = if self.file == file {
            self.unchanged
        } else {
            Totals::default()
        };
        self.unchanged = Totals::default();
        self.file.clear();
        known
    }

    /// Input `file` was read to its end.
    pub(super) fn checked(&mut self, file: &str) {
        if let Some(b) = &mut self.baseline {
            b.checked(&crate::baseline::path_key(file));
        }
    }

    /// The run ended: the baseline file takes its place; stale entries are said.
    pub(super) fn finish(self, interrupted: bool) -> Result<(), Fatal> {
        if let Some((pending, writer)) = self.writer {
            let path = pending.path.clone();
            writer
                .finish()
                .map_err(|e| Fatal::write(WriteTo::File(path.clone()), e))?;
            if !interrupted {
                pending
                    .commit()
                    .map_err(|e| Fatal::write(WriteTo::File(path.clone()), e))?;
            }
        }
        if let Some(b) = &self.baseline {
            super::note(&format!(
                "baseline: {} it holds {} not reported",
                crate::finding::plural(self.hidden, "finding", "findings"),
                if self.hidden == 1 { "was" } else { "were" }
            ));
            let count = b.stale_count();
            if count > 0 {
                const SHOWN: usize = 20;
                let mut text = format!(
                    "baseline: {} no longer match{} (stale; write the baseline again to drop them):",
                    crate::finding::plural(count as u64, "entry", "entries"),
                    if count == 1 { "es" } else { "" }
                );
                for e in b.stale(SHOWN) {
                    text.push_str(&format!(
                        "\n  {}:{}: {} {}",
                        crate::sanitize::escape(e.file.as_bytes()),
                        e.line,
                        crate::sanitize::escape(e.rule.as_bytes()),
                        crate::sanitize::escape(e.message.as_bytes())
                    ));
                }
                if count > SHOWN {
                    text.push_str(&format!("\n  and {} more", count - SHOWN));
                }
                super::note(&text);
            }
        }
        Ok(())
    }
}

/// Tags every finding on its way to `inner` (pipe mode and `run`, where findings come
/// in the order they are reported).
pub(super) struct Tagged<'b, S> {
    pub(super) baselines: &'b mut Baselines,
    pub(super) inner: S,
}

impl<S: Sink<Error = Fatal>> Sink for Tagged<'_, S> {
    type Error = Fatal;

    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, Fatal> {
        match item {
            Item::Finding(mut f) => {
                self.baselines.tag(input, &mut f)?;
                self.inner.push(input, Item::Finding(f))
            }
            Item::Followed
            | Item::Event(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::InputEnd(_)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => self.inner.push(input, item),
        }
    }

    fn shows_unchanged(&self) -> bool {
        self.inner.shows_unchanged()
    }
}
