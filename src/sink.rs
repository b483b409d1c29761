//! The output contract: everything the pipeline produces is pushed into one [`Sink`] —
//! the events of an input, its findings, each session's end, the input's end and the
//! run's end — and every consumer is one: the reports (human, JSON, SARIF, the pictures,
//! the exporter), the wrappers that count, order, tag or draw on the way, the `watch`
//! board, `parse`'s event stream, the post-mortem's collector.
//!
//! The model is ripgrep's `grep-searcher` `Sink`: the driver pushes, each push returns
//! `Result<Flow, Self::Error>`, so a sink can fail or say "stop" (`--stop-on`, a closed
//! reader), and the driver stops pushing. What is pushed is one [`Item`]: a sink handles
//! the items it draws from and says in its own `match` which it leaves alone, and a
//! wrapper forwards every item in one line — there is no trait default that could drop
//! an item silently.

use crate::event::Event;
use crate::finding::Finding;
use crate::state::SessionState;
use crate::summary::{FileSummary, Totals};
use crate::timeline::{Axis, SessionSpan};

/// What the driver does after a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on pushing.
    Continue,
    /// Stop this input: nothing more is pushed for it (the sink has what it needs, or
    /// wants the run stopped, as `--stop-on` does).
    Stop,
}

impl Flow {
    /// The flow of two sinks fed the same item: stop when either does.
    pub fn and(self, other: Flow) -> Flow {
        if self == Flow::Stop || other == Flow::Stop {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

/// One thing the pipeline tells its sink, in the order it happens.
#[derive(Debug)]
pub enum Item<'a> {
    /// A followed file started to be read (`watch`).
    Followed,
    /// An event of the input (a marker, a tool call, the worker's exit), before the
    /// session machine checks it.
    Event(&'a Event),
    /// A rule violation, as soon as it is certain (owned: a sink may keep it, a wrapper
    /// may tag it).
    Finding(Finding),
    /// A session ended (completed, cut off by the next one, or by the end of input),
    /// with everything known about it.
    SessionEnd(&'a SessionState),
    /// A session ended and is drawn on its input's time axis (when a picture is wanted):
    /// what an exporter sends at once.
    SessionDrawn(&'a SessionSpan, Axis),
    /// No finding pushed from now on points before this byte offset: a sink that orders
    /// findings by position may hand on those before it.
    Settled(u64),
    /// Something happened to a followed file (rotated, truncated, gone): said, not a
    /// finding.
    Note(&'a str),
    /// The input ended (read to its end, or stopped): its counts and what is known.
    InputEnd(&'a FileSummary<'a>),
    /// The input could not be read (the run's verdict is then exit 2).
    Unreadable(&'a str),
    /// The run ended: how many inputs it read, and the counts of all of them.
    RunEnd { inputs: usize, totals: Totals },
}

impl Item<'_> {
    /// The same item again, for a second sink (a finding is copied).
    pub fn again(&self) -> Item<'_> {
        match self {
            Item::Followed => Item::Followed,
            Item::Event(e) => Item::Event(e),
            Item::Finding(f) => Item::Finding(f.clone()),
            Item::SessionEnd(s) => Item::SessionEnd(s),
            Item::SessionDrawn(s, axis) => Item::SessionDrawn(s, *axis),
            Item::Settled(offset) => Item::Settled(*offset),
            Item::Note(text) => Item::Note(text),
            Item::InputEnd(summary) => Item::InputEnd(summary),
            Item::Unreadable(error) => Item::Unreadable(error),
            Item::RunEnd { inputs, totals } => Item::RunEnd {
                inputs: *inputs,
                totals: *totals,
            },
        }
    }
}

/// Where the pipeline's output goes.
pub trait Sink {
    /// What a push can fail with (a report that could not be written, a baseline that
    /// could not be recorded).
    type Error;

    /// Takes one item of `input` (the input as reports name it: a path, `<stdin>`,
    /// `<worker>`).
    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, Self::Error>;

    /// Whether findings a baseline holds are shown (JSON and SARIF mark them; the other
    /// formats show only new ones, and are not given the others).
    fn shows_unchanged(&self) -> bool;
}

impl<S: Sink + ?Sized> Sink for &mut S {
    type Error = S::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, S::Error> {
        (**self).push(input, item)
    }

    fn shows_unchanged(&self) -> bool {
        (**self).shows_unchanged()
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    type Error = S::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, S::Error> {
        (**self).push(input, item)
    }

    fn shows_unchanged(&self) -> bool {
        (**self).shows_unchanged()
    }
}

/// A report: a sink whose writes fail as I/O does (the set of reports names the file).
pub type Report<'w> = Box<dyn Sink<Error = std::io::Error> + 'w>;
