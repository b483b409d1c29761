//! File mode's reorder buffer: findings are handed on in position order as soon as no
//! earlier one can come. A finding can only point back into the session that is open,
//! so the machine says (`Item::Settled`) at each `SESSION_START`, and per task when a
//! session closes, that nothing later points before it; memory holds one session's
//! findings, not the input's. A heap keeps them: O(log n) per finding, where sorting
//! the buffer for every finding made 400 000 findings of one session take 6 s.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::finding::Finding;
use crate::sink::{Flow, Item, Sink};

/// How many findings of an open session are held to write them in line order. Past
/// this many (a session that never closes, with a malformed marker on every line) they
/// are written in the order they became certain: memory stays bounded (a finding holds
/// at most 1 KiB of its line), at the cost of strict line order in that session.
pub const MAX_PENDING: usize = 4096;

/// A finding waiting for its turn: ordered by position, then rule, then arrival (so
/// equal ones keep the order they came in).
struct Pending {
    key: (u64, crate::rule::Rule, u64),
    finding: Finding,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// Hands findings on to `inner` in position order (everything else at once).
pub struct Ordered<S> {
    inner: S,
    pending: BinaryHeap<Reverse<Pending>>,
    arrived: u64,
}

impl<S> Ordered<S> {
    pub fn new(inner: S) -> Self {
        Ordered {
            inner,
            pending: BinaryHeap::new(),
            arrived: 0,
        }
    }

    /// The sink it forwards to (hand on the rest first: `Item::Settled(u64::MAX)`).
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Sink> Ordered<S> {
    /// Hands on, in position order, the findings before `offset`.
    fn release(&mut self, input: &str, offset: u64) -> Result<Flow, S::Error> {
        let mut flow = Flow::Continue;
        while let Some(Reverse(next)) = self.pending.peek() {
            if next.key.0 >= offset {
                break;
            }
            let Some(Reverse(next)) = self.pending.pop() else {
                break;
            };
            flow = flow.and(self.inner.push(input, Item::Finding(next.finding))?);
        }
        Ok(flow)
    }
}

impl<S: Sink> Sink for Ordered<S> {
    type Error = S::Error;

    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, S::Error> {
        match item {
            Item::Finding(finding) => {
                self.arrived += 1;
                let key = (finding.primary.at.offset, finding.rule, self.arrived);
                self.pending.push(Reverse(Pending { key, finding }));
                if self.pending.len() >= MAX_PENDING {
                    return self.release(input, u64::MAX);
                }
                Ok(Flow::Continue)
            }
            Item::Settled(offset) => {
                let flow = self.release(input, offset)?;
                Ok(flow.and(self.inner.push(input, Item::Settled(offset))?))
            }
            // The end of the input settles everything before it.
            Item::InputEnd(_) | Item::Unreadable(_) | Item::RunEnd { .. } => {
                let flow = self.release(input, u64::MAX)?;
                Ok(flow.and(self.inner.push(input, item)?))
            }
            Item::Followed
            | Item::Event(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..)
            | Item::Note(_) => self.inner.push(input, item),
        }
    }

    fn shows_unchanged(&self) -> bool {
        self.inner.shows_unchanged()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Position;
    use crate::finding::Label;
    use crate::rule::Rule;

    struct Collect(Vec<(u64, Rule, String)>);

    impl Sink for Collect {
        type Error = std::convert::Infallible;
        fn push(&mut self, _: &str, item: Item<'_>) -> Result<Flow, Self::Error> {
            if let Item::Finding(f) = item {
                self.0
                    .push((f.primary.at.offset, f.rule, f.message.to_string()));
            }
            Ok(Flow::Continue)
        }
        fn shows_unchanged(&self) -> bool {
            false
        }
    }

    fn finding(offset: u64, rule: Rule, message: &str) -> Finding {
        let at = Position {
            line: offset + 1,
            column: 1,
            offset,
            block_line: None,
        };
        let label = Label {
            at,
            len: 0,
            message: "".into(),
            text: crate::event::LineText::empty(at.line, 1, offset),
        };
        Finding::new(rule, message, label)
    }

    #[test]
    fn findings_come_out_in_position_order_when_settled_and_equal_ones_keep_their_order() {
        let mut o = Ordered::new(Collect(Vec::new()));
        let push = |o: &mut Ordered<Collect>, f| o.push("x", Item::Finding(f)).unwrap();
        push(&mut o, finding(30, Rule::TaskNotCompleted, "c"));
        push(&mut o, finding(10, Rule::TaskNotCompleted, "a1"));
        push(&mut o, finding(10, Rule::TaskNotCompleted, "a2"));
        push(&mut o, finding(20, Rule::TaskNotStarted, "b"));
        o.push("x", Item::Settled(25)).unwrap();
        let got: Vec<&str> = o.inner.0.iter().map(|(.., m)| m.as_str()).collect();
        assert_eq!(got, ["a1", "a2", "b"]);
        o.push("x", Item::Settled(u64::MAX)).unwrap();
        assert_eq!(o.into_inner().0.len(), 4);
    }

    #[test]
    fn past_the_limit_everything_held_is_handed_on() {
        let mut o = Ordered::new(Collect(Vec::new()));
        for i in (0..MAX_PENDING as u64).rev() {
            o.push("x", Item::Finding(finding(i, Rule::TaskNotCompleted, "")))
                .unwrap();
        }
        assert_eq!(o.pending.len(), 0);
        let offsets: Vec<u64> = o.inner.0.iter().map(|(at, ..)| *at).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]));
    }
}
