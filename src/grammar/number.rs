//! Counts: non-negative integers that fit in 64 bits. A count that overflows is a
//! parse error, never a wrapped number.

use nom::Parser;
use nom::character::complete::digit1;

use super::error::{PResult, expect, fail_at};

/// A count: decimal digits, no sign, at most `u64::MAX`.
pub fn count(input: &str) -> PResult<'_, u64> {
    let (rest, digits) = expect("a count", digit1).parse(input)?;
    match digits.parse::<u64>() {
        Ok(n) => Ok((rest, n)),
        Err(_) => fail_at(input, "a count below 2^64"),
    }
}

/// Small decimal numbers inside dates, times and durations.
pub fn digits_u32(input: &str) -> PResult<'_, u32> {
    let (rest, digits) = digit1(input)?;
    match digits.parse::<u32>() {
        Ok(n) => Ok((rest, n)),
        Err(_) => fail_at(input, "a smaller number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parse_and_leave_the_rest() {
        assert_eq!(count("42 x"), Ok((" x", 42)));
        assert_eq!(count("18446744073709551615"), Ok(("", u64::MAX)));
    }

    #[test]
    fn counts_reject_words_signs_and_overflow() {
        for bad in ["three", "-1", "", "+3", "18446744073709551616"] {
            let err = count(bad).unwrap_err();
            let (nom::Err::Error(e) | nom::Err::Failure(e)) = err else {
                unreachable!()
            };
            assert!(e.what.starts_with("a count"), "{bad}: {e:?}");
            assert_eq!(e.rest, bad);
        }
    }
}
