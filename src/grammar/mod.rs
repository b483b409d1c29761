//! The grammar: from one framed line to a typed marker (SPEC §1).
//!
//! The input is a line's content after framing (ANSI removed, white space, backticks and
//! any user prefix stripped; see `frame`). [`recognize`] decides whether the line starts
//! with a keyword or a near miss; [`parse_payload`] turns the rest of the line into a
//! typed [`Marker`] or says where and why it does not parse. Nothing here knows about
//! sessions or positions in the input: offsets are relative to the content given.

mod error;
mod keyword;
pub mod marker;
mod number;
mod payload;
mod time;

use nom::Parser;
use nom::bytes::complete::tag;
use nom::character::complete::space0;

pub use error::Expected;
pub use keyword::Keyword;

use marker::Marker;

/// What the start of a framed line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recognized {
    /// Not a marker: prose, code, a keyword mid-sentence or without its colon.
    Prose,
    /// A keyword; its payload starts at byte `payload` of the content.
    Keyword { keyword: Keyword, payload: usize },
    /// An upper-case `WORD_WORD:` that is not a keyword but close to `suggestion`;
    /// the word is `content[..len]`.
    NearMiss { len: usize, suggestion: Keyword },
}

/// A byte a keyword's word (or a near miss of one) is made of: upper case, digits, `_`.
pub const fn is_word_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

/// Classifies a framed line by its first word.
pub fn recognize(content: &[u8]) -> Recognized {
    const DISTILLER: &[u8] = b"@sigma-distiller:";
    if content.starts_with(DISTILLER) {
        return Recognized::Keyword {
            keyword: Keyword::SigmaDistiller,
            payload: skip_blanks(content, DISTILLER.len()),
        };
    }
    if !content.first().is_some_and(u8::is_ascii_uppercase) {
        return Recognized::Prose;
    }
    let len = content
        .iter()
        .position(|&b| !is_word_byte(b))
        .unwrap_or(content.len());
    let (word, next) = (&content[..len], content.get(len).copied());
    match Keyword::from_word(word) {
        Some(Keyword::DistillationComplete) if next.is_none_or(|b| !b.is_ascii_alphanumeric()) => {
            Recognized::Keyword {
                keyword: Keyword::DistillationComplete,
                payload: len,
            }
        }
        Some(keyword) if keyword.takes_payload() && next == Some(b':') => Recognized::Keyword {
            keyword,
            payload: skip_blanks(content, len + 1),
        },
        Some(_) => Recognized::Prose,
        None if next == Some(b':') && word.contains(&b'_') => {
            // `word` is ASCII by construction.
            match std::str::from_utf8(word).ok().and_then(Keyword::nearest) {
                Some(suggestion) => Recognized::NearMiss { len, suggestion },
                None => Recognized::Prose,
            }
        }
        None => Recognized::Prose,
    }
}

fn skip_blanks(content: &[u8], from: usize) -> usize {
    from + content[from..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

/// A payload that does not parse: `at` is the byte offset of the first bad byte within
/// the payload, `len` the length of the offending token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    pub at: usize,
    pub len: usize,
    pub expected: &'static str,
}

/// Parses the payload of `keyword` (the bytes after `KEYWORD: `, trailing white space
/// already removed).
pub fn parse_payload(keyword: Keyword, payload: &[u8]) -> Result<Marker, PayloadError> {
    match keyword {
        Keyword::SigmaDistiller => {
            return Ok(Marker::DistillationRequest {
                text: String::from_utf8_lossy(payload).into_owned(),
            });
        }
        Keyword::DistillationComplete => return Ok(Marker::DistillationComplete),
        _ => {}
    }
    let text = match std::str::from_utf8(payload) {
        Ok(text) => text,
        Err(e) => {
            return Err(PayloadError {
                at: e.valid_up_to(),
                len: e.error_len().unwrap_or(1),
                expected: "UTF-8 text",
            });
        }
    };
    if text.is_empty() && keyword != Keyword::PatternFilesRead {
        return Err(PayloadError {
            at: 0,
            len: 0,
            expected: expected_for(keyword),
        });
    }
    let parsed = match keyword {
        Keyword::SessionStart => {
            payload::session_id(text).map(|(r, session)| (r, Marker::SessionStart { session }))
        }
        Keyword::SessionComplete => {
            payload::session_id(text).map(|(r, session)| (r, Marker::SessionComplete { session }))
        }
        Keyword::PatternFilesRead => {
            payload::file_list(text).map(|(r, files)| (r, Marker::PatternFilesRead { files }))
        }
        Keyword::QueueDepth => {
            payload::queue_depths(text).map(|(r, queues)| (r, Marker::QueueDepth { queues }))
        }
        Keyword::TaskStart => {
            payload::task_id(text).map(|(r, task)| (r, Marker::TaskStart { task }))
        }
        Keyword::TaskComplete => {
            payload::task_id(text).map(|(r, task)| (r, Marker::TaskComplete { task }))
        }
        Keyword::SubagentSpawn => {
            payload::agent(text).map(|(r, agent)| (r, Marker::SubagentSpawn { agent }))
        }
        Keyword::SubagentComplete => {
            payload::agent(text).map(|(r, agent)| (r, Marker::SubagentComplete { agent }))
        }
        Keyword::FilesCreated => {
            number::count(text).map(|(r, count)| (r, Marker::FilesCreated { count }))
        }
        Keyword::TasksCompleted => {
            number::count(text).map(|(r, count)| (r, Marker::TasksCompleted { count }))
        }
        Keyword::StrategiesProduced => {
            number::count(text).map(|(r, count)| (r, Marker::StrategiesProduced { count }))
        }
        Keyword::HypothesesQueued => {
            number::count(text).map(|(r, count)| (r, Marker::HypothesesQueued { count }))
        }
        Keyword::Duration => {
            time::duration(text).map(|(r, duration)| (r, Marker::Duration { duration }))
        }
        Keyword::PatternsUpdated => payload::pattern_updates(text)
            .map(|(r, updates)| (r, Marker::PatternsUpdated { updates })),
        Keyword::SigmaDistiller | Keyword::DistillationComplete => {
            unreachable!("free-text keywords return above")
        }
    };
    finish(text, parsed, expected_for(keyword))
}

/// What a keyword's payload is, for the "expected …" of an empty or unparsable payload.
fn expected_for(keyword: Keyword) -> &'static str {
    match keyword {
        Keyword::SessionStart | Keyword::SessionComplete => {
            "a session id `{worker-type}-{timestamp}`"
        }
        Keyword::PatternFilesRead => "a comma list of file names",
        Keyword::QueueDepth => "a comma list of `name=count`",
        Keyword::TaskStart | Keyword::TaskComplete => "a task id",
        Keyword::SubagentSpawn | Keyword::SubagentComplete => "an agent `@name`",
        Keyword::FilesCreated
        | Keyword::TasksCompleted
        | Keyword::StrategiesProduced
        | Keyword::HypothesesQueued => "a count",
        Keyword::Duration => "a duration (`45m`, `1h 30m`, `0:45:12`)",
        Keyword::PatternsUpdated => "a comma list of `file (+N entries)`",
        Keyword::SigmaDistiller | Keyword::DistillationComplete => "free text",
    }
}

/// A whole string as a timestamp (a transcript record's `timestamp`), if it is one.
pub fn parse_timestamp(text: &str) -> Option<marker::Timestamp> {
    match time::timestamp(text) {
        Ok(("", t)) => Some(t),
        _ => None,
    }
}

/// The continuation lines of a distillation request (`Output files: N`,
/// `Strategies: N`), recognised only on the lines right after `@sigma-distiller:`.
pub fn parse_continuation(content: &[u8]) -> Option<Result<Marker, PayloadError>> {
    let text = std::str::from_utf8(content).ok()?;
    type Make = fn(u64) -> Marker;
    let labels: [(&str, Make); 2] = [
        ("Output files:", |count| Marker::DistillationOutputFiles {
            count,
        }),
        ("Strategies:", |count| Marker::DistillationStrategies {
            count,
        }),
    ];
    for (label, make) in labels {
        if let Ok((rest, _)) = (tag::<_, _, Expected<'_>>(label), space0).parse(text) {
            let parsed = number::count(rest).map(|(r, n)| (r, make(n)));
            let offset = text.len() - rest.len();
            return Some(finish(rest, parsed, "a count").map_err(|mut e| {
                e.at += offset;
                e
            }));
        }
    }
    None
}

/// Requires the whole payload to be consumed and turns a nom error into a
/// [`PayloadError`] with a position.
fn finish(
    text: &str,
    parsed: nom::IResult<&str, Marker, Expected<'_>>,
    fallback: &'static str,
) -> Result<Marker, PayloadError> {
    let error = match parsed {
        Ok((rest, marker)) => {
            let rest_trimmed = rest.trim_start();
            if rest_trimmed.is_empty() {
                return Ok(marker);
            }
            Expected {
                rest: rest_trimmed,
                what: "end of line",
            }
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => e,
        Err(nom::Err::Incomplete(_)) => Expected {
            rest: "",
            what: fallback,
        },
    };
    let at = text.len() - error.rest.len();
    Err(PayloadError {
        at,
        len: token_len(error.rest.as_bytes()),
        expected: if error.what.is_empty() {
            fallback
        } else {
            error.what
        },
    })
}

/// Length of the token at the start of `rest`, for underlining what was found.
pub fn token_len(rest: &[u8]) -> usize {
    let stop = |b: &u8| b.is_ascii_whitespace() || matches!(b, b',' | b'(' | b')');
    match rest.first() {
        None => 0,
        Some(b) if stop(b) => 1,
        Some(b) if b.is_ascii_digit() => rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len()),
        Some(_) => rest.iter().position(stop).unwrap_or(rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Marker, PayloadError> {
        match recognize(line.as_bytes()) {
            Recognized::Keyword { keyword, payload } => {
                parse_payload(keyword, &line.as_bytes()[payload..])
            }
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn keywords_need_their_colon_and_a_line_start() {
        assert_eq!(
            recognize(b"TASK_START events are logged"),
            Recognized::Prose
        );
        assert_eq!(recognize(b"the TASK_START: x"), Recognized::Prose);
        assert_eq!(recognize(b"session_start: x"), Recognized::Prose);
        assert_eq!(
            recognize(b"TASK_START_RE = re.compile()"),
            Recognized::Prose
        );
        assert_eq!(
            recognize(b"TASK_START:h-1"),
            Recognized::Keyword {
                keyword: Keyword::TaskStart,
                payload: 11
            }
        );
        assert_eq!(
            recognize(b"DISTILLATION_COMPLETE (3 patterns)"),
            Recognized::Keyword {
                keyword: Keyword::DistillationComplete,
                payload: 21
            }
        );
        assert_eq!(recognize(b"DISTILLATION_COMPLETED"), Recognized::Prose);
    }

    #[test]
    fn near_misses_are_recognised_with_their_suggestion() {
        assert_eq!(
            recognize(b"SESION_START: x"),
            Recognized::NearMiss {
                len: 12,
                suggestion: Keyword::SessionStart
            }
        );
        assert_eq!(recognize(b"BUILD_STATUS: ok"), Recognized::Prose);
        assert_eq!(recognize(b"NOTE: ok"), Recognized::Prose);
    }

    #[test]
    fn payloads_become_typed_markers() {
        assert_eq!(
            parse("FILES_CREATED: 3"),
            Ok(Marker::FilesCreated { count: 3 })
        );
        assert_eq!(
            parse("PATTERN_FILES_READ:"),
            Ok(Marker::PatternFilesRead { files: vec![] })
        );
        assert_eq!(
            parse("TASK_COMPLETE: h-017"),
            Ok(Marker::TaskComplete {
                task: "h-017".into()
            })
        );
    }

    #[test]
    fn bad_payloads_say_where_and_what() {
        assert_eq!(
            parse("FILES_CREATED: three"),
            Err(PayloadError {
                at: 0,
                len: 5,
                expected: "a count"
            })
        );
        assert_eq!(
            parse("FILES_CREATED: 3 files"),
            Err(PayloadError {
                at: 2,
                len: 5,
                expected: "end of line"
            })
        );
        assert_eq!(
            parse("SESSION_START:"),
            Err(PayloadError {
                at: 0,
                len: 0,
                expected: "a session id `{worker-type}-{timestamp}`"
            })
        );
    }

    #[test]
    fn invalid_utf8_in_a_structured_payload_is_malformed() {
        let line = b"TASK_START: h-\xff1";
        let Recognized::Keyword { keyword, payload } = recognize(line) else {
            panic!()
        };
        assert_eq!(
            parse_payload(keyword, &line[payload..]),
            Err(PayloadError {
                at: 2,
                len: 1,
                expected: "UTF-8 text"
            })
        );
    }

    #[test]
    fn continuation_lines_of_the_distillation_request() {
        assert_eq!(
            parse_continuation(b"Output files: 4"),
            Some(Ok(Marker::DistillationOutputFiles { count: 4 }))
        );
        assert_eq!(
            parse_continuation(b"Strategies: two"),
            Some(Err(PayloadError {
                at: 12,
                len: 3,
                expected: "a count"
            }))
        );
        assert_eq!(parse_continuation(b"Update patterns."), None);
    }
}
