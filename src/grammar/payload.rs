//! Payload productions: ids, agents and the comma lists of SPEC §1.

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, one_of, space0};
use nom::combinator::{cut, opt, recognize};
use nom::multi::separated_list1;
use nom::sequence::{delimited, preceded};

use super::error::{Expected, PResult, expect, fail_at};
use super::marker::{PatternUpdate, QueueDepth, SessionId};
use super::number::count;
use super::time::timestamp;

fn token(input: &str) -> PResult<'_, &str> {
    take_while1(|c: char| !c.is_whitespace())(input)
}

/// A task id: one token.
pub fn task_id(input: &str) -> PResult<'_, String> {
    let (rest, id) = expect("a task id", token).parse(input)?;
    Ok((rest, id.to_owned()))
}

/// An agent: `@name`.
pub fn agent(input: &str) -> PResult<'_, String> {
    let (rest, a) = expect(
        "an agent `@name`",
        recognize((
            char('@'),
            take_while1(|c: char| c.is_alphanumeric() || "-_.:".contains(c)),
        )),
    )
    .parse(input)?;
    Ok((rest, a.to_owned()))
}

/// A session id `{worker-type}-{timestamp}`. The worker type may contain `-`; the
/// timestamp is the suffix that parses as a date-time.
pub fn session_id(input: &str) -> PResult<'_, SessionId> {
    // Of the failed splits, report the one whose timestamp got furthest from its start.
    let mut furthest: Option<(usize, Expected<'_>)> = None;
    // The worker type holds no white space: no dash past the first space can end it.
    // Each split costs a bounded timestamp attempt, so the whole is linear.
    let space = input.find(char::is_whitespace).unwrap_or(input.len());
    for (dash, _) in input[..space].match_indices('-') {
        let (worker_type, rest) = (&input[..dash], &input[dash + 1..]);
        if worker_type.is_empty() || !rest.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        match timestamp(rest) {
            Ok((after, ts)) => {
                let id = &input[..input.len() - after.len()];
                return Ok((
                    after,
                    SessionId {
                        id: id.to_owned(),
                        worker_type: worker_type.to_owned(),
                        timestamp: ts,
                    },
                ));
            }
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                let progress = rest.len() - e.rest.len();
                let e = Expected {
                    rest: e.rest,
                    what: if e.what.is_empty() {
                        "a timestamp"
                    } else {
                        e.what
                    },
                };
                if furthest.as_ref().is_none_or(|(p, _)| progress > *p) {
                    furthest = Some((progress, e));
                }
            }
            Err(e) => return Err(e),
        }
    }
    match furthest {
        Some((_, e)) => Err(nom::Err::Failure(e)),
        None => {
            let end = input.find(char::is_whitespace).unwrap_or(input.len());
            let what = if input.is_empty() {
                "a session id `{worker-type}-{timestamp}`"
            } else {
                "`-{timestamp}` after the worker type"
            };
            fail_at(&input[end..], what)
        }
    }
}

fn file_name(input: &str) -> PResult<'_, String> {
    let (rest, name) = expect(
        "a file name",
        take_while1(|c: char| c != ',' && c != '(' && !c.is_whitespace()),
    )
    .parse(input)?;
    Ok((rest, name.to_owned()))
}

fn comma(input: &str) -> PResult<'_, char> {
    delimited(space0, char(','), space0).parse(input)
}

/// `PATTERN_FILES_READ` payload: a comma list of file names, possibly empty.
pub fn file_list(input: &str) -> PResult<'_, Vec<String>> {
    if input.is_empty() {
        return Ok((input, Vec::new()));
    }
    separated_list1(comma, cut(file_name)).parse(input)
}

fn queue_depth(input: &str) -> PResult<'_, QueueDepth> {
    let (rest, (queue, _, depth)) = (
        expect(
            "a queue name",
            take_while1(|c: char| c.is_alphanumeric() || "-_.".contains(c)),
        ),
        expect("`=`", delimited(space0, char('='), space0)),
        count,
    )
        .parse(input)?;
    Ok((
        rest,
        QueueDepth {
            queue: queue.to_owned(),
            depth,
        },
    ))
}

/// `QUEUE_DEPTH` payload: a comma list of `name=count`.
pub fn queue_depths(input: &str) -> PResult<'_, Vec<QueueDepth>> {
    separated_list1(comma, cut(queue_depth)).parse(input)
}

fn entries(input: &str) -> PResult<'_, i64> {
    let (rest, (sign, n)) = (opt(one_of("+-")), count).parse(input)?;
    let Ok(n) = i64::try_from(n) else {
        return fail_at(input, "a smaller number of entries");
    };
    Ok((rest, if sign == Some('-') { -n } else { n }))
}

fn pattern_update(input: &str) -> PResult<'_, PatternUpdate> {
    let (rest, (file, _, entries, _, _)) = (
        file_name,
        expect("`(`", preceded(space0, char('('))),
        expect("a number of entries (`+2`)", entries),
        expect(
            "` entries)` or ` entry)`",
            preceded(char(' '), alt((tag("entries"), tag("entry")))),
        ),
        expect("`)`", char(')')),
    )
        .parse(input)?;
    Ok((rest, PatternUpdate { file, entries }))
}

/// `PATTERNS_UPDATED` payload: a comma list of `file (+N entries)`.
pub fn pattern_updates(input: &str) -> PResult<'_, Vec<PatternUpdate>> {
    separated_list1(comma, cut(pattern_update)).parse(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_at<O: std::fmt::Debug>(r: PResult<'_, O>, input: &str) -> (usize, &'static str) {
        match r {
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => (input.len() - e.rest.len(), e.what),
            other => panic!("{input}: {other:?}"),
        }
    }

    #[test]
    fn session_ids_split_at_the_timestamp() {
        let (_, id) = session_id("quant-researcher-2026-11-23T10:15:30.123456").unwrap();
        assert_eq!(id.worker_type, "quant-researcher");
        assert_eq!(id.timestamp.to_string(), "2026-11-23T10:15:30.123456");
        let (_, id) = session_id("researcher-2026-11-23 22:55:00.340086").unwrap();
        assert_eq!(id.worker_type, "researcher");
        let (_, id) = session_id("pane-2-2026-11-23T10:15:30+00:00").unwrap();
        assert_eq!(id.worker_type, "pane-2");
    }

    #[test]
    fn session_ids_without_a_good_timestamp_point_at_the_fault() {
        let input = "researcher-2026-13-23T10:15:30";
        assert_eq!(
            err_at(session_id(input), input),
            (16, "a month from 01 to 12")
        );
        let input = "researcher";
        assert_eq!(
            err_at(session_id(input), input),
            (10, "`-{timestamp}` after the worker type")
        );
    }

    #[test]
    fn agents_need_an_at_sign() {
        assert_eq!(agent("@quant-backtester").unwrap().1, "@quant-backtester");
        assert_eq!(err_at(agent("quant"), "quant"), (0, "an agent `@name`"));
    }

    #[test]
    fn file_lists_may_be_empty() {
        assert_eq!(file_list("").unwrap().1, Vec::<String>::new());
        assert_eq!(
            file_list("what-works.md, what-fails.md").unwrap().1,
            ["what-works.md", "what-fails.md"]
        );
        let input = "what-works.md, ";
        assert_eq!(err_at(file_list(input), input), (15, "a file name"));
    }

    #[test]
    fn queue_depths_are_typed() {
        let (_, q) = queue_depths("hypotheses=5, to-convert=3").unwrap();
        assert_eq!(q[1].queue, "to-convert");
        assert_eq!(q[1].depth, 3);
        let input = "hypotheses=many";
        assert_eq!(err_at(queue_depths(input), input), (11, "a count"));
    }

    #[test]
    fn pattern_updates_take_signed_entries() {
        let (_, u) = pattern_updates(
            "what-works.md (+2 entries), what-fails.md (+1 entry), x.md (-1 entries), y.md (0 entries)",
        )
        .unwrap();
        let n: Vec<i64> = u.iter().map(|u| u.entries).collect();
        assert_eq!(n, [2, 1, -1, 0]);
        let input = "what-works.md (+two entries)";
        assert_eq!(err_at(pattern_updates(input), input), (16, "a count"));
        let input = "what-works.md";
        assert_eq!(err_at(pattern_updates(input), input), (13, "`(`"));
    }
}
