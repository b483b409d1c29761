//! The grammar's error: where parsing stopped and what it expected there.

use nom::error::{ErrorKind, FromExternalError, ParseError};
use nom::{IResult, Parser};

/// A parse failure inside a payload. `rest` is the input from the first bad byte on;
/// its length gives the position. `what` names the production that failed
/// ("a count", "a timestamp"); the innermost named production wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected<'a> {
    pub rest: &'a str,
    pub what: &'static str,
}

impl<'a> ParseError<&'a str> for Expected<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        Expected {
            rest: input,
            what: "",
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    /// Of two failed alternatives, report the one that got further.
    fn or(self, other: Self) -> Self {
        if other.rest.len() < self.rest.len() {
            other
        } else {
            self
        }
    }
}

impl<'a, E> FromExternalError<&'a str, E> for Expected<'a> {
    fn from_external_error(input: &'a str, kind: ErrorKind, _e: E) -> Self {
        Self::from_error_kind(input, kind)
    }
}

/// The result type of every payload parser.
pub type PResult<'a, O> = IResult<&'a str, O, Expected<'a>>;

/// Names what `parser` parses, so its failures say "expected {what}".
pub fn expect<'a, O>(
    what: &'static str,
    mut parser: impl Parser<&'a str, Output = O, Error = Expected<'a>>,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    move |input| {
        parser.parse(input).map_err(|e| {
            e.map(|mut err| {
                if err.what.is_empty() {
                    err.what = what;
                }
                err
            })
        })
    }
}

/// Fails at `input` with "expected {what}", as a hard failure (no backtracking).
pub fn fail_at<'a, O>(input: &'a str, what: &'static str) -> PResult<'a, O> {
    Err(nom::Err::Failure(Expected { rest: input, what }))
}
