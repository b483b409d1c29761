//! The reports a command writes, from its options: the primary report (`--format`, made
//! quiet by `-q` or replaced by `--statistics`), the `--report FMT=PATH` files, each
//! written beside its path until the run is complete, and the `--otlp-endpoint`
//! exporter — gathered into one [`Reports`] sink.

use std::io::{BufWriter, Write};

use super::{Fatal, WriteTo};
use crate::cli::{ColorChoice, Format, ReportTarget};
use crate::report::file::{Inputs, ReportFile};
use crate::report::github::Github;
use crate::report::human::{Human, Style};
use crate::report::json::Json;
use crate::report::sarif::Sarif;
use crate::report::set::Reports;
use crate::sink::Report;

/// The report of one format on `out`. `pipe`: a line is written as each session ends
/// (the human report in pipe mode and under `run`).
pub(super) fn reporter<'w>(
    format: Format,
    out: Box<dyn Write + 'w>,
    style: Style,
    pipe: bool,
    redact: bool,
) -> Report<'w> {
    match format {
        Format::Human => Box::new(Human::new(out, style, pipe)),
        Format::Json => Box::new(Json { out, live: pipe }),
        Format::Github => Box::new(Github {
            out,
            live: pipe,
            summary: None,
        }),
        Format::Sarif => Box::new(Sarif::new(out)),
        Format::Concise => Box::new(crate::report::concise::Concise { out, live: pipe }),
        Format::Perfetto => Box::new(crate::report::perfetto::Perfetto::new(out)),
        Format::Otlp => Box::new(crate::report::otlp::Otlp::new(out)),
        Format::Html => Box::new(crate::report::html::Html::new(out, redact)),
        Format::Junit => Box::new(crate::report::junit::Junit::new(out)),
        Format::Gitlab => Box::new(crate::report::gitlab::Gitlab::new(out)),
    }
}

/// The report on stdout (stderr in pipe mode and under `run`): `--format`, made quiet
/// by `-q`, or replaced by the counts of `--statistics`.
pub(super) fn primary_reporter<'w>(
    lint: &crate::cli::LintArgs,
    out: Box<dyn Write + 'w>,
    style: Style,
    pipe: bool,
) -> Report<'w> {
    if lint.statistics {
        return Box::new(crate::report::quiet::Statistics::new(out));
    }
    let inner: Report<'w> = match lint.format {
        // On the job's log, GitHub's report also writes the job summary.
        Format::Github => Box::new(Github {
            out,
            live: pipe,
            summary: crate::report::step_summary::StepSummary::from_env(),
        }),
        format => reporter(format, out, style, pipe, lint.redact),
    };
    // A document with its summaries dropped would be cut short (no closing tag, an
    // empty file): `-q` quiets the line formats only.
    if lint.quiet && !lint.format.document() {
        Box::new(crate::report::quiet::Quiet { inner })
    } else {
        inner
    }
}

/// The reports beside the primary one, opened before anything is read.
pub(super) struct Beside {
    members: Vec<(String, Report<'static>, Option<ReportFile>)>,
    /// Whether one of them draws (the timeline must be built).
    draws: bool,
    /// Whether one of them is the HTML report (the replay must be kept).
    replays: bool,
}

impl Beside {
    /// Opens the `--report` files (none where the run is about to read: exit 2 before
    /// anything is read) and the `--otlp-endpoint` exporter.
    /// `otlp`: export to a collector, at this URL (`--otlp-endpoint`) or where the
    /// environment says (`--otlp`: `Some(None)`).
    pub(super) fn open(
        targets: &[ReportTarget],
        otlp: Option<Option<&str>>,
        inputs: &Inputs<'_>,
        redact: bool,
    ) -> Result<Beside, Fatal> {
        let mut members = Vec::new();
        let mut draws = false;
        let mut replays = false;
        for t in targets {
            let shown = crate::sanitize::escape(t.path.display().to_string().as_bytes());
            if let Some(why) = inputs.conflict(&t.path) {
                return Err(Fatal::usage(format!(
                    "--report {shown}: {why}; refusing to overwrite what is being checked (write the report elsewhere)"
                )));
            }
            let (pending, file) = ReportFile::create(&t.path)
                .map_err(|e| Fatal::write(WriteTo::Create(shown.clone()), e))?;
            let out: Box<dyn Write> = Box::new(BufWriter::new(file));
            members.push((
                format!("writing {shown}"),
                reporter(t.format, out, Style::Plain, false, redact),
                Some(pending),
            ));
            draws |= t.format.pictures();
            replays |= t.format == Format::Html;
        }
        if let Some(url) = otlp {
            let flag = if url.is_some() {
                "--otlp-endpoint"
            } else {
                "--otlp"
            };
            // A setting of the environment is named as it is, a flag's value with its flag.
            let bad = |e: String| {
                let e = crate::sanitize::escape(e.as_bytes());
                if e.starts_with("OTEL_") {
                    Fatal::usage(e)
                } else {
                    Fatal::usage(format!("{flag} {e}"))
                }
            };
            let config = crate::report::otlp_export::Config::from_env(url).map_err(bad)?;
            let logs = crate::report::otlp_export::Config::logs_from_env(url).map_err(bad)?;
            let shown = crate::report::otlp_export::shown(&config.url);
            members.push((
                format!("exporting to {shown}"),
                Box::new(crate::report::otlp::OtlpPost::new(config, logs)),
                None,
            ));
            draws = true;
        }
        Ok(Beside {
            members,
            draws,
            replays,
        })
    }

    /// Whether a report draws when things happened, with a primary report of
    /// `primary` format.
    pub(super) fn draws(&self, primary: Format) -> bool {
        self.draws || primary.pictures()
    }

    /// Whether a report replays the inputs (the HTML report), with a primary report of
    /// `primary` format: the scanner then keeps what the inputs say.
    pub(super) fn replays(&self, primary: Format) -> bool {
        self.replays || primary == Format::Html
    }

    /// The set without a primary report (`watch`, whose view is beside it).
    pub(super) fn alone(self) -> Reports<'static> {
        let mut set = Reports::without_primary();
        for (what, report, file) in self.members {
            set.add(what, report, file);
        }
        set
    }

    /// The whole set: `primary` first (`pipe_may_close`: its reader may go away, as
    /// stdout's may in file mode), then these.
    pub(super) fn with<'w>(self, primary: Report<'w>, pipe_may_close: bool) -> Reports<'w> {
        let mut set = Reports::new(primary, pipe_may_close);
        for (what, report, file) in self.members {
            set.add(what, report, file);
        }
        set
    }
}

/// Colours for a report on a terminal (or not), as `--color` says.
pub(super) fn style(choice: ColorChoice, terminal: bool) -> Style {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        ColorChoice::Always => Style::Color,
        ColorChoice::Never => Style::Plain,
        ColorChoice::Auto if set("NO_COLOR") => Style::Plain,
        ColorChoice::Auto if set("CLICOLOR_FORCE") || terminal => Style::Color,
        ColorChoice::Auto => Style::Plain,
    }
}

/// SPEC §4: no two of the files a run writes or reads besides its inputs (`--report`
/// files, `--write-baseline`, `--baseline`, `run --log`) may name one file: one would
/// overwrite the other (a pane log lost under a report). A usage error before anything
/// starts.
pub(super) fn distinct_files(
    lint: &crate::cli::LintArgs,
    log: Option<&std::path::Path>,
) -> Result<(), Fatal> {
    let mut named: Vec<(String, &std::path::Path)> = lint
        .report
        .iter()
        .map(|r| {
            (
                format!("--report {:?}=", r.format).to_lowercase(),
                r.path.as_path(),
            )
        })
        .collect();
    named.extend(
        lint.write_baseline
            .as_deref()
            .map(|p| ("--write-baseline ".to_owned(), p)),
    );
    named.extend(
        lint.baseline
            .as_deref()
            .map(|p| ("--baseline ".to_owned(), p)),
    );
    named.extend(log.map(|p| ("--log ".to_owned(), p)));
    for (i, (first, a)) in named.iter().enumerate() {
        for (second, b) in &named[i + 1..] {
            if crate::report::file::same_file(a, b) {
                let shown = |p: &std::path::Path| {
                    crate::sanitize::escape(p.display().to_string().as_bytes())
                };
                return Err(Fatal::usage(format!(
                    "{first}{} and {second}{} name one file: one would overwrite the other",
                    shown(a),
                    shown(b)
                )));
            }
        }
    }
    Ok(())
}
