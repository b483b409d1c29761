//! JUnit XML, as Jenkins, GitLab, Azure Pipelines and CircleCI read test reports: a
//! `testsuite` per input (named by its path), a `testcase` per session (named by its
//! id, its class the input), a `failure` per error finding, each warning as the
//! testcase's `system-out` (shown, not failed). Findings outside any session go to a
//! testcase `(input)`; an input with no session has a testcase that says so; an input
//! that could not be read has an `error`.
//!
//! A suite's counts stand in its opening tag, before its testcases, and are known only
//! at the input's end: the testcases of an input are written to a spool file as they
//! come and copied out behind the opening tag when the input ends. Memory holds one
//! finding at a time and the ids of the sessions of the inputs being read, however many
//! findings there are.
//!
//! Transcript text is untrusted: everything quoted goes through
//! [`crate::sanitize::escape`] (no control byte reaches the XML, where XML 1.0 forbids
//! most of them even as references) and then [`escape`] (no markup).

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::sync::Arc;

use super::FileSummary;
use crate::finding::Finding;
use crate::rule::Severity;
use crate::sanitize;
use crate::sink::{Flow, Item, Sink};

/// The testcase of findings that belong to no session.
const OUTSIDE: &str = "(input)";

/// Escapes text for XML character data or an attribute value: control characters are
/// shown escaped as every report shows them, the markup characters become entities,
/// and the characters XML 1.0 forbids (U+FFFE, U+FFFF) are shown escaped too.
pub fn escape(text: &str) -> String {
    sanitize::markup(text)
}

/// A line of the input as a report quotes it: its line end cut, every control byte and
/// every byte that is not UTF-8 shown escaped.
fn quoted(line: &[u8]) -> String {
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    sanitize::escape(&line[..end])
}

/// The testcase being written: its session (`None`: outside any session) and whether
/// it failed.
struct Case {
    session: Option<Arc<str>>,
    failed: bool,
}

/// One input's testsuite while its input is read.
struct Suite {
    /// The testcases written so far.
    spool: BufWriter<File>,
    tests: u64,
    failures: u64,
    errors: u64,
    case: Option<Case>,
    /// Testcases written per session id, and the ends said per id: two sessions of one
    /// id (a resumed worker) are two testcases, and an end is a testcase's only when
    /// more ends than testcases came.
    written: HashMap<Arc<str>, u64>,
    ends: HashMap<Arc<str>, u64>,
    /// Sessions that ended and have no testcase yet: their findings may still come (a
    /// file's findings are handed on in line order, after the session's end is said).
    ended: VecDeque<Arc<str>>,
    /// The input could not be read (to its end): its suite is complete.
    unreadable: bool,
}

impl Suite {
    fn new() -> io::Result<Suite> {
        Ok(Suite {
            spool: BufWriter::new(tempfile::tempfile()?),
            tests: 0,
            failures: 0,
            errors: 0,
            case: None,
            written: HashMap::new(),
            ends: HashMap::new(),
            ended: VecDeque::new(),
            unreadable: false,
        })
    }

    fn open_case(&mut self, input: &str, name: &str) -> io::Result<()> {
        self.tests += 1;
        writeln!(
            self.spool,
            "    <testcase name=\"{}\" classname=\"{}\">",
            escape(name),
            escape(input)
        )
    }

    fn close_case(&mut self) -> io::Result<()> {
        if let Some(case) = self.case.take() {
            self.failures += u64::from(case.failed);
            self.spool.write_all(b"    </testcase>\n")?;
        }
        Ok(())
    }

    /// A testcase for a session that ended with no finding.
    fn passed(&mut self, input: &str, session: &Arc<str>) -> io::Result<()> {
        *self.written.entry(session.clone()).or_default() += 1;
        self.tests += 1;
        writeln!(
            self.spool,
            "    <testcase name=\"{}\" classname=\"{}\"/>",
            escape(session),
            escape(input)
        )
    }

    /// Makes the testcase of `session` the one written to: the one before is closed,
    /// and sessions that ended before it with no finding get their testcase first.
    fn switch_to(&mut self, input: &str, session: Option<&Arc<str>>) -> io::Result<()> {
        // The same session (the very one: two sessions may share an id).
        let same = match (self.case.as_ref().map(|c| c.session.as_ref()), session) {
            (Some(Some(open)), Some(id)) => Arc::ptr_eq(open, id),
            (Some(None), None) => true,
            _ => false,
        };
        if same {
            return Ok(());
        }
        self.close_case()?;
        if let Some(id) = session {
            let before = self.ended.iter().position(|e| e == id);
            let clean = before.unwrap_or(self.ended.len());
            for ended in self.ended.drain(..clean).collect::<Vec<_>>() {
                self.passed(input, &ended)?;
            }
            if before.is_some() {
                self.ended.pop_front();
            }
            *self.written.entry(id.clone()).or_default() += 1;
        }
        self.open_case(input, session.map_or(OUTSIDE, |s| s))?;
        self.case = Some(Case {
            session: session.cloned(),
            failed: false,
        });
        Ok(())
    }

    fn finding(&mut self, input: &str, f: &Finding) -> io::Result<()> {
        self.switch_to(input, f.session.as_ref())?;
        let mut body = format!(
            "line {}, column {}: {}\n    {} | {}",
            f.primary.at.line,
            f.primary.at.column,
            f.message,
            f.primary.text.line,
            quoted(&f.primary.text.bytes)
        );
        for related in &f.related {
            body.push_str(&format!(
                "\nline {}: {}\n    {} | {}",
                related.at.line,
                related.message,
                related.text.line,
                quoted(&related.text.bytes)
            ));
        }
        body.push_str(&format!("\nhelp: {}", f.help));
        // Each line of the body is escaped alone: the line feeds between them stay.
        let body: Vec<String> = body.lines().map(escape).collect();
        let body = body.join("\n");
        match f.severity {
            Severity::Error => {
                if let Some(case) = &mut self.case {
                    case.failed = true;
                }
                writeln!(
                    self.spool,
                    "      <failure message=\"{}: {}\" type=\"{}\">{body}</failure>",
                    f.rule.id(),
                    escape(&f.message),
                    f.rule.id()
                )
            }
            Severity::Warning => writeln!(
                self.spool,
                "      <system-out>warning[{}] {body}</system-out>",
                f.rule.id()
            ),
        }
    }

    fn unreadable(&mut self, input: &str, error: &str) -> io::Result<()> {
        self.close_case()?;
        self.tests += 1;
        self.errors += 1;
        self.unreadable = true;
        writeln!(
            self.spool,
            "    <testcase name=\"{OUTSIDE}\" classname=\"{}\">\n      <error message=\"could not be read (to its end): {}\" type=\"unreadable\"/>\n    </testcase>",
            escape(input),
            escape(error)
        )
    }

    /// Writes the whole suite to `out`: the counts, the testcases from the spool, what
    /// was not checked.
    fn finish(
        mut self,
        out: &mut impl Write,
        input: &str,
        summary: Option<&FileSummary<'_>>,
    ) -> io::Result<()> {
        self.close_case()?;
        for ended in std::mem::take(&mut self.ended) {
            self.passed(input, &ended)?;
        }
        if self.tests == 0 {
            self.tests += 1;
            writeln!(
                self.spool,
                "    <testcase name=\"(no session)\" classname=\"{}\">\n      <system-out>no SESSION_START in this input: nothing to check</system-out>\n    </testcase>",
                escape(input)
            )?;
        }
        let mut spool = self.spool.into_inner().map_err(|e| e.into_error())?;
        let len = spool.stream_position()?;
        spool.seek(SeekFrom::Start(0))?;
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">",
            escape(input),
            self.tests,
            self.failures,
            self.errors
        )?;
        let copied = io::copy(&mut io::Read::take(&mut spool, len), out)?;
        if copied != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the spool of testcases was cut short",
            ));
        }
        if let Some(line) = summary.and_then(|s| super::not_checked_line(s.not_checked)) {
            writeln!(out, "    <system-out>{}</system-out>", escape(&line))?;
        }
        out.write_all(b"  </testsuite>\n")
    }
}

/// The JUnit XML reporter.
pub struct Junit<W> {
    /// Where the XML goes (a suite at a time, at each input's end).
    pub out: W,
    opened: bool,
    /// The suites of the inputs being read (one in `check`, one per followed file in
    /// `watch`), in the order they started.
    suites: Vec<(String, Suite)>,
}

impl<W: Write> Junit<W> {
    /// The report on `out`; nothing is written before the first input ends.
    pub fn new(out: W) -> Self {
        Junit {
            out,
            opened: false,
            suites: Vec::new(),
        }
    }

    fn open(&mut self) -> io::Result<()> {
        if !self.opened {
            self.opened = true;
            self.out.write_all(
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"quant-session\">\n",
            )?;
        }
        Ok(())
    }

    /// The suite of `input`, started if need be. An input that could not be read is
    /// complete when another input's item comes (`check` says nothing more of it).
    fn suite(&mut self, input: &str) -> io::Result<&mut Suite> {
        let done: Vec<usize> = (0..self.suites.len())
            .filter(|&i| self.suites[i].1.unreadable && self.suites[i].0 != input)
            .collect();
        for i in done.into_iter().rev() {
            let (name, suite) = self.suites.remove(i);
            self.open()?;
            suite.finish(&mut self.out, &name, None)?;
        }
        let at = match self.suites.iter().position(|(name, _)| name == input) {
            Some(at) => at,
            None => {
                self.suites.push((input.to_owned(), Suite::new()?));
                self.suites.len() - 1
            }
        };
        Ok(&mut self.suites[at].1)
    }

    fn end_input(&mut self, input: &str, summary: &FileSummary<'_>) -> io::Result<()> {
        self.suite(input)?;
        if let Some(at) = self.suites.iter().position(|(name, _)| name == input) {
            let (name, suite) = self.suites.remove(at);
            self.open()?;
            suite.finish(&mut self.out, &name, Some(summary))?;
        }
        self.out.flush()
    }

    fn end_run(&mut self) -> io::Result<()> {
        self.open()?;
        for (name, suite) in std::mem::take(&mut self.suites) {
            suite.finish(&mut self.out, &name, None)?;
        }
        self.out.write_all(b"</testsuites>\n")?;
        self.out.flush()
    }
}

impl<W: Write> Sink for Junit<W> {
    type Error = io::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> io::Result<Flow> {
        match item {
            Item::Finding(f) => self.suite(input)?.finding(input, &f)?,
            Item::SessionEnd(state) => {
                // An end with a testcase already (its findings came first, live) is
                // that testcase's; one more is a session to write.
                let suite = self.suite(input)?;
                let id: Arc<str> = Arc::from(state.session_id.as_str());
                let ends = suite.ends.entry(id.clone()).or_default();
                *ends += 1;
                let ends = *ends;
                let written = suite.written.get(&id).copied().unwrap_or(0);
                let queued = suite.ended.iter().filter(|e| **e == id).count() as u64;
                if ends > written + queued {
                    suite.ended.push_back(id);
                }
            }
            Item::Unreadable(error) => self.suite(input)?.unreadable(input, error)?,
            Item::InputEnd(summary) => self.end_input(input, summary)?,
            Item::RunEnd { .. } => self.end_run()?,
            Item::Followed
            | Item::Event(_)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::SessionDrawn(..) => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_from_the_input_becomes_markup_or_a_forbidden_character() {
        assert_eq!(
            escape("a<b>&\"'\u{1b}[2J\u{0}\u{fffe}\u{9b}\t"),
            "a&lt;b&gt;&amp;&quot;&#39;\\x1b[2J\\x00\\u{fffe}\\u{9b}&#9;"
        );
        assert_eq!(escape("</failure><x>"), "&lt;/failure&gt;&lt;x&gt;");
    }
}
