//! Agent health (SPEC §3): whether the worker is looping (`tool-loop`) and whether it
//! spent more than it may (`budget-exceeded`), read from its CLI's own records. The
//! session machine feeds these the worker's tool calls and the usage its CLI reports.

use std::time::Duration;

use crate::event::Event;
use crate::finding::{Finding, Label};
pub use crate::rule::Budget;
use crate::rule::Rule;
use crate::usage::Usage;

/// The rules of this family.
pub const RULES: &[Rule] = &[Rule::ToolLoop, Rule::BudgetExceeded, Rule::WorkerHung];

/// Tools that poll by design: calling them again with the same input is waiting, not
/// looping (Claude Code's background shells and tasks, Codex's `write_stdin` to a
/// running command, which with no characters reads its new output).
pub const POLL_TOOLS: &[&str] = &["BashOutput", "TaskOutput", "write_stdin"];

/// How many identical calls in a row make a loop.
pub const REPEATS: usize = 5;
/// How many times two calls alternate (A B counted once) to make a loop.
pub const ALTERNATIONS: usize = 4;
const WINDOW: usize = 2 * ALTERNATIONS;

/// One call as the loop watch compares it: its tool and input, digested together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Call {
    key: u64,
}

/// The worker's last calls, in a ring of [`WINDOW`]: enough to see either loop, without
/// keeping more than a few words per input.
#[derive(Debug, Default)]
pub struct LoopWatch {
    ring: [Option<Call>; WINDOW],
    next: usize,
    /// The loop going on was reported: said once, until another call breaks it.
    reported: bool,
}

impl LoopWatch {
    /// The call at `at` of `tool` with input digest `input`: a finding when it makes a
    /// loop not reported yet.
    pub fn call(
        &mut self,
        tool: &str,
        input: u64,
        subagent: Option<&str>,
        event: &Event,
    ) -> Option<Finding> {
        let key = crate::format::Digest::of(tool.as_bytes()) ^ input.rotate_left(17);
        self.ring[self.next % WINDOW] = Some(Call { key });
        self.next += 1;
        let last = |back: usize| -> Option<Call> {
            (back < WINDOW && back < self.next)
                .then(|| self.ring[(self.next - 1 - back) % WINDOW])
                .flatten()
        };
        let repeated = (1..REPEATS).all(|b| last(b) == last(0));
        let alternating = last(1) != last(0)
            && (2..WINDOW).all(|b| last(b) == last(b % 2))
            && last(WINDOW - 1).is_some();
        if !(repeated || alternating) {
            self.reported = false;
            return None;
        }
        if std::mem::replace(&mut self.reported, true) {
            return None;
        }
        let tool = super::q(tool);
        let who = match subagent {
            None => "the worker".to_owned(),
            Some(call) => format!("a subagent (of call {})", super::q(call)),
        };
        let message = if repeated {
            format!(
                "{who} called {tool} {REPEATS} times in a row with the same input: it is looping"
            )
        } else {
            format!(
                "{who} alternated between {tool} and another call {ALTERNATIONS} times with the same inputs: it is looping"
            )
        };
        Some(Finding::new(
            Rule::ToolLoop,
            message,
            Label::marker(event, "the call that completes the loop"),
        ))
    }
}

/// Which limits were passed already (each is said once per input).
#[derive(Debug, Default)]
pub struct Spent {
    tokens: bool,
    cost: bool,
    turns: bool,
    duration: bool,
}

impl Spent {
    /// The usage reported so far, at `event`, against `budget`.
    pub fn usage(&mut self, budget: &Budget, usage: &Usage, event: &Event) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some(limit) = budget.tokens
            && usage.tokens.total_tokens > limit
            && !std::mem::replace(&mut self.tokens, true)
        {
            out.push(exceeded(
                event,
                format!(
                    "{} tokens used, over the budget of {}",
                    crate::usage::grouped(usage.tokens.total_tokens),
                    crate::usage::grouped(limit)
                ),
            ));
        }
        if let (Some(limit), Some(cost)) = (budget.cost, usage.cost_usd)
            && cost > limit
            && !std::mem::replace(&mut self.cost, true)
        {
            out.push(exceeded(
                event,
                format!(
                    "{} spent, over the budget of {}",
                    Budget::dollars(cost),
                    Budget::dollars(limit)
                ),
            ));
        }
        out
    }

    /// The turns a run took, against `budget`.
    pub fn turns(&mut self, budget: &Budget, turns: u64, event: &Event) -> Option<Finding> {
        let limit = budget.turns?;
        (turns > limit && !std::mem::replace(&mut self.turns, true)).then(|| {
            exceeded(
                event,
                format!("{turns} turns taken, over the budget of {limit}"),
            )
        })
    }

    /// The time since the input's first record, against `budget`.
    pub fn elapsed(
        &mut self,
        budget: &Budget,
        elapsed: Duration,
        event: &Event,
    ) -> Option<Finding> {
        let limit = budget.duration?;
        (elapsed > limit && !std::mem::replace(&mut self.duration, true)).then(|| {
            exceeded(
                event,
                format!(
                    "{} since the first record, over the budget of {}",
                    crate::duration::show(elapsed),
                    crate::duration::show(limit)
                ),
            )
        })
    }
}

/// What the worker's last record was, for `worker-hung`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LastRecord {
    #[default]
    Other,
    /// Its final record (a result, a turn's end).
    Exit,
    /// A tool's result: the model's next turn is awaited.
    ToolResult,
    /// A rate limit: the CLI waits for it to reset (at this Unix time, when it says).
    RateLimited { resets_at: Option<i64> },
}

/// How long a rate-limit wait that names no reset time is taken for a wait.
const UNTIMED_WAIT: Duration = Duration::from_secs(3600);

/// Whether a worker whose last record is `last`, silent for `silent`, is waiting on a
/// rate limit (not stalled): until the reset time it names, else for an hour.
pub fn waiting(last: LastRecord, silent: Duration) -> bool {
    match last {
        LastRecord::RateLimited {
            resets_at: Some(at),
        } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            now < at
        }
        LastRecord::RateLimited { resets_at: None } => silent < UNTIMED_WAIT,
        _ => false,
    }
}

/// `worker-hung`: the CLI's last record is `last` (`Exit` or `ToolResult`), and it has
/// been silent (`Exit`: alive) for `silent` since, at the line `text`.
pub fn hung(
    last: LastRecord,
    silent: Duration,
    text: std::sync::Arc<crate::event::LineText>,
) -> Finding {
    let message = match last {
        LastRecord::Exit => format!(
            "the agent CLI printed its final record and is still running {} later: it hangs",
            crate::duration::show(silent)
        ),
        _ => format!(
            "the agent CLI's last record is a tool result and nothing came for {}: it waits on the model, or hangs",
            crate::duration::show(silent)
        ),
    };
    let label = match last {
        LastRecord::Exit => "the final record",
        _ => "the last record read",
    };
    Finding::new(Rule::WorkerHung, message, whole_line(text, label))
}

/// A label on the whole of a line the run read last (`text`).
fn whole_line(text: std::sync::Arc<crate::event::LineText>, message: &str) -> Label {
    Label {
        at: crate::event::Position {
            line: text.line.max(1),
            column: 1,
            offset: text.offset,
            block_line: None,
        },
        len: text.bytes.len() as u64,
        message: message.to_owned().into(),
        text,
    }
}

/// `budget-exceeded` under `run`, which times the worker itself: `elapsed` since it
/// started, at the last line read (`text`).
pub fn over_time(
    elapsed: Duration,
    limit: Duration,
    text: std::sync::Arc<crate::event::LineText>,
) -> Finding {
    Finding::new(
        Rule::BudgetExceeded,
        format!(
            "budget exceeded: the worker has run for {}, over the budget of {}",
            crate::duration::show(elapsed),
            crate::duration::show(limit)
        ),
        whole_line(text, "the last line read then"),
    )
}

fn exceeded(event: &Event, what: String) -> Finding {
    Finding::new(
        Rule::BudgetExceeded,
        format!("budget exceeded: {what}"),
        Label::marker(event, "the record that passed it"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, LineText, Position};

    fn event(line: u64) -> Event {
        Event {
            at: Position {
                line,
                column: 1,
                offset: 0,
                block_line: None,
            },
            kind: EventKind::Clock(
                crate::grammar::parse_timestamp("2026-11-23T10:00:00Z").unwrap(),
            ),
            text: LineText::empty(line, 1, 0),
        }
    }

    fn feed(calls: &[(&str, u64)]) -> Vec<u64> {
        let mut w = LoopWatch::default();
        calls
            .iter()
            .enumerate()
            .filter_map(|(i, (tool, input))| w.call(tool, *input, None, &event(i as u64 + 1)))
            .map(|f| f.primary.at.line)
            .collect()
    }

    #[test]
    fn five_same_calls_or_four_alternations_loop_once() {
        assert_eq!(feed(&[("Read", 1); 4]), Vec::<u64>::new());
        assert_eq!(feed(&[("Read", 1); 9]), [5]);
        // Another input, another tool, or a call between: no loop.
        assert!(
            feed(&[
                ("Read", 1),
                ("Read", 1),
                ("Read", 2),
                ("Read", 1),
                ("Read", 1)
            ])
            .is_empty()
        );
        assert!(
            feed(&[
                ("Read", 1),
                ("Grep", 1),
                ("Read", 1),
                ("Read", 1),
                ("Read", 1)
            ])
            .is_empty()
        );
        let ab: Vec<(&str, u64)> = (0..8)
            .map(|i| if i % 2 == 0 { ("Bash", 1) } else { ("Read", 2) })
            .collect();
        assert_eq!(feed(&ab), [8]);
        assert!(feed(&ab[..7]).is_empty());
        // Broken, then looping again: said again.
        let mut again = vec![("Read", 1); 5];
        again.push(("Grep", 3));
        again.extend([("Read", 1); 5]);
        assert_eq!(feed(&again), [5, 11]);
    }

    #[test]
    fn budgets_read_and_refuse() {
        let b = Budget::parse("tokens=1_000_000, cost=$2.50,turns=40,duration=90m").unwrap();
        assert_eq!(b.tokens, Some(1_000_000));
        assert_eq!(b.cost, Some(2.5));
        assert_eq!(b.turns, Some(40));
        assert_eq!(b.duration, Some(Duration::from_secs(5400)));
        assert_eq!(
            b.describe(),
            "tokens=1000000, cost=$2.50, turns=40, duration=1h 30m"
        );
        for bad in [
            "tokens",
            "tokens=-1",
            "cost=free",
            "cost=0",
            "dollars=3",
            "duration=soon",
        ] {
            assert!(Budget::parse(bad).is_err(), "{bad}");
        }
    }
}
