//! A problem in a small file the user named (a configuration file, a checkpoint), shown
//! by miette with the file as source and a label at the offending bytes.

use std::fmt;
use std::ops::Range;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

/// A diagnostic pointing into a whole file.
#[derive(Debug)]
pub struct FileDiagnostic {
    /// Shown as the diagnostic's code (`config`, `checkpoint-problem`).
    pub code: &'static str,
    pub path: String,
    pub message: String,
    pub label: String,
    pub span: Option<Range<usize>>,
    pub source: NamedSource<String>,
}

impl FileDiagnostic {
    /// The plain-text graphical rendering.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
        if handler.render_report(&mut out, self).is_err() {
            out = format!("{}: {self}\n", self.path);
        }
        out
    }
}

impl fmt::Display for FileDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FileDiagnostic {}

impl Diagnostic for FileDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                Some(self.label.clone()),
                (span.start, span.end.saturating_sub(span.start)),
            ),
        )))
    }
}
