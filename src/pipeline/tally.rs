//! The one wrapper every command puts between the pipeline and its reports: it counts
//! the findings, keeps the sessions' states, draws the timeline and tells the sink it
//! wraps when a session is drawn — then forwards every item. File mode, pipe mode,
//! `run` and `watch` all count and draw through it, so a picture cannot be missing from
//! one command only.

use crate::baseline::State;
use crate::event::EventKind;
use crate::replay::Replay;
use crate::rule::Severity;
use crate::sink::{Flow, Item, Sink};
use crate::state::SessionState;
use crate::summary::Totals;
use crate::timeline::{Builder, Timeline};

/// Which sessions' states a [`Tally`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// None (file mode without `--checkpoints`: a state with 20 000 open tasks is not
    /// copied for nothing).
    Nothing,
    /// The last one (the checkpoint compares it).
    Last,
    /// The last N (`watch --summaries`: memory bounded per pane).
    Recent(usize),
    /// Every one (`state`, `postmortem`: their output lists them all).
    All,
}

/// What is counted, kept and drawn of one input; its [`Tally::through`] is the sink
/// that does it on the way to another. It outlives any one sink it wraps (`watch` keeps
/// one per pane across its looks at the fleet).
#[derive(Debug)]
pub struct Tally {
    /// Findings counted (those a baseline holds are not).
    totals: Totals,
    states: Vec<SessionState>,
    keep: Keep,
    /// Sessions ended so far.
    ended: u64,
    timeline: Option<Builder>,
    /// What the input said, for the HTML report's replay: begun by the first thing said
    /// (the scanner tells nothing unless the run replays).
    replay: Option<Replay>,
}

impl Tally {
    /// A tally keeping what `keep` says, drawing the timeline when `draw`.
    pub fn new(keep: Keep, draw: bool) -> Self {
        Tally {
            totals: Totals::default(),
            states: Vec::new(),
            keep,
            ended: 0,
            timeline: draw.then(Builder::new),
            replay: None,
        }
    }

    /// The errors and warnings counted so far (sessions are the pipeline's count).
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// The states kept so far, oldest first.
    pub fn states(&self) -> &[SessionState] {
        &self.states
    }

    /// Sessions ended so far.
    pub fn ended(&self) -> u64 {
        self.ended
    }

    /// The sink that counts, keeps and draws on the way to `inner`.
    pub fn through<S: Sink>(&mut self, inner: S) -> Through<'_, S> {
        Through { tally: self, inner }
    }

    /// Forgets the states kept (a followed file starts over).
    pub fn clear_states(&mut self) {
        self.states.clear();
    }

    /// The worker's output has no clock of its own under `run`: its arrival time is.
    pub fn tick(&mut self, micros: i64) {
        if let Some(t) = &mut self.timeline {
            t.tick(micros);
        }
    }

    /// The timeline so far, closed at `lines` (the input ended, or the watch does); a
    /// new one is begun for what follows.
    pub fn take_timeline(&mut self, lines: u64) -> Option<Timeline> {
        self.timeline
            .as_mut()
            .map(|t| std::mem::take(t).finish(lines))
    }

    /// The replay so far; a new one is begun by what is said next.
    pub fn take_replay(&mut self) -> Option<Replay> {
        self.replay.take()
    }

    /// Counts anew (a followed file was truncated or replaced).
    pub fn restart(&mut self) {
        self.totals = Totals::default();
    }

    /// Ends the input `lines` long: the counts, the states kept, the timeline and the
    /// replay.
    pub fn finish(self, lines: u64) -> Finished {
        Finished {
            totals: self.totals,
            states: self.states,
            timeline: self.timeline.map(|t| t.finish(lines)),
            replay: self.replay,
        }
    }
}

/// What a [`Tally`] gathered of an input that ended.
#[derive(Debug)]
pub struct Finished {
    pub totals: Totals,
    pub states: Vec<SessionState>,
    pub timeline: Option<Timeline>,
    pub replay: Option<Replay>,
}

/// A [`Tally`] at work in front of `inner`.
pub struct Through<'t, S> {
    tally: &'t mut Tally,
    inner: S,
}

impl<S: Sink> Sink for Through<'_, S> {
    type Error = S::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, S::Error> {
        let t = &mut *self.tally;
        let mut flow = Flow::Continue;
        match &item {
            Item::Event(event) => {
                if let Some(tl) = &mut t.timeline {
                    tl.event(event);
                }
                match &event.kind {
                    EventKind::Said(said) => {
                        t.replay.get_or_insert_default().said(event.at.line, said)
                    }
                    EventKind::Marker(_) | EventKind::Malformed(_) | EventKind::Unknown { .. } => {
                        if let Some(replay) = &mut t.replay {
                            replay.marker(event.at.line);
                        }
                    }
                    _ => {}
                }
            }
            Item::Finding(f) => {
                let unchanged = f
                    .baseline
                    .as_ref()
                    .is_some_and(|k| k.state == Some(State::Unchanged));
                if !unchanged {
                    match f.severity {
                        Severity::Error => t.totals.errors += 1,
                        Severity::Warning => t.totals.warnings += 1,
                    }
                    // For the last word of a run ended by a signal while it was blocked.
                    crate::interrupt::found(f.severity == Severity::Error);
                }
                if let Some(tl) = &mut t.timeline {
                    tl.finding(f);
                }
            }
            Item::SessionEnd(state) => {
                t.ended += 1;
                if let Some(tl) = &mut t.timeline {
                    tl.session_end(state);
                    if let Some((session, axis)) = tl.last_ended()
                        && session.start.line == state.start_line
                    {
                        flow = self.inner.push(input, Item::SessionDrawn(session, axis))?;
                    }
                }
                match t.keep {
                    Keep::Nothing => {}
                    Keep::Last => {
                        t.states.clear();
                        t.states.push((*state).clone());
                    }
                    Keep::Recent(n) => {
                        if t.states.len() >= n.max(1) {
                            t.states.remove(0);
                        }
                        t.states.push((*state).clone());
                    }
                    Keep::All => t.states.push((*state).clone()),
                }
            }
            Item::Followed
            | Item::SessionDrawn(..)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::InputEnd(_)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => {}
        }
        if flow == Flow::Stop {
            // The sink stopped at the drawing: the end is still told.
            self.inner.push(input, item)?;
            return Ok(Flow::Stop);
        }
        self.inner.push(input, item)
    }

    fn shows_unchanged(&self) -> bool {
        self.inner.shows_unchanged()
    }
}
