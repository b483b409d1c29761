//! The distillation rules (SPEC §3): every session is distilled before it completes,
//! on request, with the pattern files updated, and no work starts after it.

use crate::event::Event;
use crate::finding::{Finding, Label};
use crate::rule::Rule;
use crate::rules::q;

/// The rules of this family.
pub const RULES: &[Rule] = &[
    Rule::MissingDistillation,
    Rule::DistillationNotRequested,
    Rule::PatternsNotUpdated,
    Rule::WorkAfterDistillation,
];

/// `work-after-distillation`: `task` started after the distillation at `distilled`.
pub fn work_after(task: &str, event: &Event, distilled: &Label) -> Finding {
    Finding::new(
        Rule::WorkAfterDistillation,
        format!("task {} started after the distillation", q(task)),
        Label::marker(event, "this work is not distilled"),
    )
    .related(Label {
        message: "distillation completed here".into(),
        ..distilled.clone()
    })
}

/// `distillation-not-requested`: a `DISTILLATION_COMPLETE` with no request before it.
pub fn not_requested(request: Option<&Label>, event: &Event) -> Option<Finding> {
    request.is_none().then(|| {
        Finding::new(
            Rule::DistillationNotRequested,
            "DISTILLATION_COMPLETE without a distillation request",
            Label::marker(event, "no @sigma-distiller: request before this"),
        )
    })
}

/// What the session's distillation looks like when it completes.
pub struct AtComplete<'a> {
    pub distilled: Option<&'a Label>,
    pub request: Option<&'a Label>,
    pub patterns_updated: bool,
    /// The `SESSION_COMPLETE` and the session's start.
    pub complete: &'a Label,
    pub start: &'a Label,
}

/// `missing-distillation` (never requested, or requested but never confirmed) or
/// `patterns-not-updated`, at `SESSION_COMPLETE`.
pub fn at_complete(at: AtComplete<'_>) -> Option<Finding> {
    match (at.distilled, at.request) {
        (Some(_), _) if at.patterns_updated => None,
        (Some(d), _) => Some(
            Finding::new(
                Rule::PatternsNotUpdated,
                "distillation completed but no PATTERNS_UPDATED followed",
                at.complete.clone(),
            )
            .related(d.clone()),
        ),
        (None, Some(req)) => Some(
            Finding::new(
                Rule::MissingDistillation,
                "session completed without DISTILLATION_COMPLETE: the distillation was requested but never confirmed",
                at.complete.clone(),
            )
            .related(req.clone()),
        ),
        (None, None) => Some(
            Finding::new(
                Rule::MissingDistillation,
                "session completed without distillation: @sigma-distiller was never invoked",
                at.complete.clone(),
            )
            .related(at.start.clone()),
        ),
    }
}
