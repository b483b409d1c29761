//! A session's timeline as inline SVG: a row for the session, rows of lanes for its
//! distillation, tasks, subagents and tool calls (each bar labelled with its task id or
//! name where it fits), a row of findings (each a link to its line in the replay), and
//! an axis with ticks in the input's own clock (or its lines). The legend beside it is
//! HTML ([`LEGEND`]).

use std::fmt::Write as _;

use crate::rule::Severity;
use crate::timeline::{Axis, MAX_LANES, Point, SessionSpan, SpanKind, Timeline, lanes};

/// Width of the drawing, in SVG units.
const W: f64 = 640.0;
const LEFT: f64 = 92.0;
const RIGHT: f64 = 10.0;
const ROW: f64 = 18.0;
/// Width of a character of the bars' labels, in SVG units (11px system font).
const CHAR: f64 = 6.4;

/// The legend of every timeline: what each colour is.
pub const LEGEND: &str = r#"<ul class="legend"><li><i class="sw session"></i>session</li><li><i class="sw distillation"></i>distillation</li><li><i class="sw task"></i>task</li><li><i class="sw subagent"></i>subagent</li><li><i class="sw tool"></i>tool call</li><li><i class="sw tool failed"></i>failed tool call</li><li><i class="dot error"></i>error</li><li><i class="dot warning"></i>warning</li></ul>
"#;

/// Text from a transcript, made safe.
fn text(s: &str) -> String {
    crate::sanitize::markup(s)
}

/// A bar: from, to, its label, what it is (for its hover text), its class.
struct Bar {
    a: f64,
    b: f64,
    label: String,
    what: String,
    class: &'static str,
}

/// Where a finding mark links: the anchor of its line in the replay, when shown.
pub type LinkOf<'a> = &'a dyn Fn(u64) -> Option<String>;

/// Draws a session: its first `spans` spans and its first `marks` findings (what the
/// run's cap lets through); each finding mark links where `link` says.
pub fn session(
    t: &Timeline,
    s: &SessionSpan,
    spans: usize,
    marks: usize,
    link: LinkOf<'_>,
    redact: bool,
    out: &mut String,
) {
    let start = t.at(s.start);
    let session_end = s.end.unwrap_or(s.start);
    let end = t.at(session_end).max(start + 1);
    let scale = (W - LEFT - RIGHT) / (end - start) as f64;
    let x = |p: Point| LEFT + (t.at(p) - start) as f64 * scale;
    let bar = |span_start: Point, span_end: Option<Point>| {
        let a = x(span_start);
        let b = x(span_end.unwrap_or(session_end)).max(a + 2.0);
        (a, b)
    };
    // Rows: the session, then a lane per overlapping span of each kind.
    let mut rows: Vec<(String, Vec<Bar>)> = Vec::new();
    let (a, b) = bar(s.start, s.end);
    rows.push((
        "session".into(),
        vec![Bar {
            a,
            b,
            label: s.id.clone(),
            what: format!("session {}", s.id),
            class: "session",
        }],
    ));
    for kind in [
        SpanKind::Distillation,
        SpanKind::Task,
        SpanKind::Subagent,
        SpanKind::Tool,
    ] {
        let mut bars: Vec<Bar> = Vec::new();
        for span in s.spans[..spans].iter().filter(|sp| sp.kind == kind) {
            let (a, b) = bar(span.start, span.end);
            let what = match (kind, span.end) {
                (SpanKind::Distillation, _) => "distillation".to_owned(),
                (_, Some(e)) => format!(
                    "{} {} (lines {}–{})",
                    kind.word(),
                    span.name,
                    span.start.line,
                    e.line
                ),
                (_, None) => format!(
                    "{} {} (line {}, never completed)",
                    kind.word(),
                    span.name,
                    span.start.line
                ),
            };
            let class = match kind {
                SpanKind::Task => "task",
                SpanKind::Subagent => "subagent",
                SpanKind::Distillation => "distillation",
                SpanKind::Tool if span.failed => "tool failed",
                SpanKind::Tool => "tool",
            };
            let label = match kind {
                SpanKind::Distillation => "distillation".to_owned(),
                _ => span.name.clone(),
            };
            bars.push(Bar {
                a,
                b,
                label,
                what,
                class,
            });
        }
        let ends: Vec<(f64, f64)> = bars.iter().map(|bar| (bar.a, bar.b)).collect();
        let (lane_of, count) = lanes(&ends, MAX_LANES);
        let mut rows_of_kind: Vec<Vec<Bar>> = (0..count).map(|_| Vec::new()).collect();
        for (bar, lane) in bars.into_iter().zip(lane_of) {
            rows_of_kind[lane].push(bar);
        }
        for (i, bars) in rows_of_kind.into_iter().enumerate() {
            let name = if i == MAX_LANES {
                format!("+{} overlapping", bars.len())
            } else if i == 0 {
                format!("{}s", kind.word())
            } else {
                String::new()
            };
            rows.push((name, bars));
        }
    }
    // The rows, the findings row, the axis with its tick labels.
    let findings_y = 6.0 + rows.len() as f64 * ROW + 6.0;
    let axis_y = findings_y + 12.0;
    let height = axis_y + 16.0;
    let _ = write!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {W} {height}" role="img" aria-label="timeline of session {}">"#,
        text(&s.id)
    );
    for (i, (name, bars)) in rows.iter().enumerate() {
        let y = 6.0 + i as f64 * ROW;
        let _ = write!(out, r#"<text x="4" y="{}">{}</text>"#, y + 11.0, text(name));
        for bar in bars {
            let width = bar.b - bar.a;
            let _ = write!(
                out,
                r#"<g class="bar {}"><rect x="{:.1}" y="{y:.1}" width="{width:.1}" height="{:.1}" rx="2"/><title>{}</title>"#,
                bar.class,
                bar.a,
                ROW - 5.0,
                text(&bar.what)
            );
            // The label where it fits (task ids are short), inside the bar.
            let chars = bar.label.chars().count() as f64;
            if !bar.label.is_empty() && chars * CHAR + 6.0 <= width {
                let _ = write!(
                    out,
                    r#"<text class="label" x="{:.1}" y="{:.1}">{}</text>"#,
                    bar.a + 3.0,
                    y + 10.5,
                    text(&bar.label)
                );
            }
            out.push_str("</g>");
        }
    }
    let _ = write!(
        out,
        r#"<text x="4" y="{}">findings</text>"#,
        findings_y + 4.0
    );
    for m in &s.marks[..marks] {
        let class = match m.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let circle = format!(
            r#"<circle class="{class}" cx="{:.1}" cy="{findings_y:.1}" r="5"><title>line {}: {}: {}</title></circle>"#,
            x(m.at),
            m.at.line,
            m.rule,
            text(super::message(m, redact))
        );
        match link(m.at.line) {
            Some(anchor) => {
                let _ = write!(out, r##"<a href="#{anchor}">{circle}</a>"##);
            }
            None => out.push_str(&circle),
        }
    }
    // The axis: a line, and its ticks in the input's clock (or its lines).
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{axis_y}" x2="{}" y2="{axis_y}"/>"#,
        W - RIGHT
    );
    for (at, label) in ticks(t.axis, start, end) {
        let tx = LEFT + (at - start) as f64 * scale;
        // A label near the right end ends at its tick, so that it is not cut off.
        let half = label.chars().count() as f64 * CHAR / 2.0;
        let anchor = if tx + half > W { "end" } else { "middle" };
        let _ = write!(
            out,
            r#"<line class="tick" x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{}"/><text class="tick" x="{tx:.1}" y="{}" text-anchor="{anchor}">{}</text>"#,
            axis_y - 3.0,
            axis_y + 3.0,
            axis_y + 13.0,
            text(&label)
        );
    }
    out.push_str("</svg>\n");
}

/// Steps between ticks on a clock, in microseconds: 1 ms to a day.
const CLOCK_STEPS: &[i64] = &[
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    15_000_000,
    30_000_000,
    60_000_000,
    120_000_000,
    300_000_000,
    600_000_000,
    900_000_000,
    1_800_000_000,
    3_600_000_000,
    7_200_000_000,
    10_800_000_000,
    21_600_000_000,
    43_200_000_000,
    86_400_000_000,
];

/// Most ticks an axis carries.
const MAX_TICKS: i64 = 8;

/// The ticks of an axis from `start` to `end` (microseconds or lines): round values of
/// the input's clock (`10:15:30`, `10:16:00`) or round line numbers, at most
/// [`MAX_TICKS`] of them, each with its label.
pub fn ticks(axis: Axis, start: i64, end: i64) -> Vec<(i64, String)> {
    let span = (end - start).max(1);
    let step = match axis {
        Axis::Clock => CLOCK_STEPS
            .iter()
            .copied()
            .find(|s| span / s < MAX_TICKS)
            .unwrap_or_else(|| span / MAX_TICKS + 1),
        Axis::Lines => {
            let mut step = 1i64;
            'found: loop {
                for m in [1, 2, 5] {
                    if span / (step * m) < MAX_TICKS {
                        step *= m;
                        break 'found;
                    }
                }
                match step.checked_mul(10) {
                    Some(s) => step = s,
                    None => break,
                }
            }
            step
        }
    };
    let first = start.div_euclid(step) * step + if start % step == 0 { 0 } else { step };
    let mut out = Vec::new();
    let mut at = first;
    while at <= end && out.len() < MAX_TICKS as usize + 1 {
        let label = match axis {
            Axis::Clock => chrono::DateTime::from_timestamp_micros(at)
                .map(|d| {
                    if step < 1_000_000 {
                        d.format("%H:%M:%S%.3f").to_string()
                    } else {
                        d.format("%H:%M:%S").to_string()
                    }
                })
                .unwrap_or_default(),
            Axis::Lines => format!("line {at}"),
        };
        out.push((at, label));
        at += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_ticks_fall_on_round_times_of_the_input() {
        // 10:15:30.5 to 10:17:10 (99.5 s): ticks every 15 s.
        let base = 1_795_428_930_000_000; // 2026-11-23T10:15:30Z
        let t = ticks(Axis::Clock, base + 500_000, base + 100_000_000);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "10:15:45", "10:16:00", "10:16:15", "10:16:30", "10:16:45", "10:17:00"
            ]
        );
    }

    #[test]
    fn line_ticks_are_round_numbers_and_few() {
        let t = ticks(Axis::Lines, 3, 118);
        let at: Vec<i64> = t.iter().map(|(a, _)| *a).collect();
        assert_eq!(at, [20, 40, 60, 80, 100]);
        assert_eq!(t[0].1, "line 20");
        assert!(ticks(Axis::Lines, 0, i64::MAX / 2).len() <= MAX_TICKS as usize + 1);
        assert_eq!(ticks(Axis::Lines, 5, 5).len(), 1);
    }
}
