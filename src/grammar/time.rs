//! Timestamps and durations as Python prints them (SPEC §1).
//!
//! Timestamps: `datetime.isoformat()` (`T`, optional fraction, optional offset
//! `+HH:MM[:SS[.ffffff]]` or `Z`), `str(datetime)` (a space for `T`), `%z` offsets
//! without a colon (`+0000`) and the logging module's comma fraction (`,788`).
//! Durations: compact (`45m`, `1h 30m 5s`) or `str(timedelta)` (`0:45:12.123456`,
//! `2 days, 0:00:04.5`, `-1 day, 23:59:59`).

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset};
use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n, take_while1};
use nom::character::complete::{char, one_of, space0};
use nom::combinator::opt;

use super::error::{Expected, PResult, expect, fail_at};
use super::marker::{Elapsed, Timestamp};
use super::number::digits_u32;

fn fixed<'a>(n: usize, what: &'static str) -> impl FnMut(&'a str) -> PResult<'a, u32> {
    move |input: &'a str| {
        let (rest, d) =
            expect(what, take_while_m_n(n, n, |c: char| c.is_ascii_digit())).parse(input)?;
        // n ≤ 4 ASCII digits always fit in u32.
        Ok((
            rest,
            d.bytes().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')),
        ))
    }
}

/// A fraction of a second: 1 to 9 digits, returned as nanoseconds.
fn fraction(input: &str) -> PResult<'_, u32> {
    let (rest, d) = expect(
        "1 to 9 digits of fraction",
        take_while_m_n(1, 9, |c: char| c.is_ascii_digit()),
    )
    .parse(input)?;
    let nanos = d
        .bytes()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    Ok((rest, nanos * 10u32.pow(9 - d.len() as u32)))
}

fn date(input: &str) -> PResult<'_, NaiveDate> {
    let (rest, (y, _, m, _, d)) = (
        fixed(4, "a four-digit year"),
        expect("`-`", char('-')),
        fixed(2, "a two-digit month"),
        expect("`-`", char('-')),
        fixed(2, "a two-digit day"),
    )
        .parse(input)?;
    if !(1..=12).contains(&m) {
        return fail_at(&input[5..], "a month from 01 to 12");
    }
    match NaiveDate::from_ymd_opt(y as i32, m, d) {
        Some(date) => Ok((rest, date)),
        None => fail_at(&input[8..], "a day that exists in that month"),
    }
}

fn time(input: &str) -> PResult<'_, NaiveTime> {
    let (rest, (h, _, mi)) = (
        fixed(2, "a two-digit hour"),
        expect("`:`", char(':')),
        fixed(2, "two-digit minutes"),
    )
        .parse(input)?;
    let (rest, secs) = opt((
        char(':'),
        fixed(2, "two-digit seconds"),
        opt((one_of(".,"), fraction)),
    ))
    .parse(rest)?;
    if h > 23 {
        return fail_at(input, "an hour from 00 to 23");
    }
    if mi > 59 {
        return fail_at(&input[3..], "minutes from 00 to 59");
    }
    let (s, nanos) = match secs {
        Some((_, s, frac)) => (s, frac.map_or(0, |(_, n)| n)),
        None => (0, 0),
    };
    if s > 59 {
        return fail_at(&input[6..], "seconds from 00 to 59");
    }
    match NaiveTime::from_hms_nano_opt(h, mi, s, nanos) {
        Some(t) => Ok((rest, t)),
        None => fail_at(input, "a valid time of day"),
    }
}

/// A UTC offset: `Z`, `+HH:MM`, `+HH:MM:SS[.ffffff]`, `+HHMM`.
fn offset(input: &str) -> PResult<'_, FixedOffset> {
    if let Ok((rest, _)) = char::<_, Expected>('Z').parse(input) {
        return Ok((rest, chrono::Utc.fix()));
    }
    let (rest, (sign, h, m, s)) = (
        one_of("+-"),
        fixed(2, "a two-digit offset hour"),
        opt((opt(char(':')), fixed(2, "two-digit offset minutes"))),
        opt((
            char(':'),
            fixed(2, "two-digit offset seconds"),
            opt((char('.'), fraction)),
        )),
    )
        .parse(input)?;
    let m = m.map_or(0, |(_, m)| m);
    let s = s.map_or(0, |(_, s, _)| s);
    if h > 23 || m > 59 || s > 59 {
        return fail_at(&input[1..], "an offset below 24 hours");
    }
    let secs = (h * 3600 + m * 60 + s) as i32;
    let secs = if sign == '-' { -secs } else { secs };
    match FixedOffset::east_opt(secs) {
        Some(o) => Ok((rest, o)),
        None => fail_at(&input[1..], "an offset below 24 hours"),
    }
}

/// A date-time as Python prints it.
pub fn timestamp(input: &str) -> PResult<'_, Timestamp> {
    let (rest, (d, _, t, o)) = (
        date,
        expect("`T` or a space", one_of("T ")),
        time,
        opt(offset),
    )
        .parse(input)?;
    Ok((
        rest,
        Timestamp {
            local: NaiveDateTime::new(d, t),
            offset: o,
        },
    ))
}

const MICROS_PER_SEC: i64 = 1_000_000;

/// `str(timedelta)`: `[-]D day[s], H:MM:SS[.ffffff]`.
fn timedelta(input: &str) -> PResult<'_, Elapsed> {
    let (rest, days) = opt((
        opt(char('-')),
        digits_u32,
        alt((tag(" days, "), tag(" day, "))),
    ))
    .parse(input)?;
    let clock = rest;
    let (rest, (h, _, m, _, s, frac)) = (
        expect("hours", digits_u32),
        expect("`:`", char(':')),
        fixed(2, "two-digit minutes"),
        expect("`:`", char(':')),
        fixed(2, "two-digit seconds"),
        opt((char('.'), fraction)),
    )
        .parse(clock)?;
    let h_len = clock.len() - clock.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if days.is_some() && h > 23 {
        return fail_at(clock, "hours from 0 to 23 after the days");
    }
    if m > 59 {
        return fail_at(&clock[h_len + 1..], "minutes from 00 to 59");
    }
    if s > 59 {
        return fail_at(&clock[h_len + 4..], "seconds from 00 to 59");
    }
    let day_micros = match days {
        Some((neg, d, _)) => {
            let d = i64::from(d) * 86_400 * MICROS_PER_SEC;
            if neg.is_some() { -d } else { d }
        }
        None => 0,
    };
    let micros = i64::from(frac.map_or(0, |(_, n)| n) / 1000)
        + (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * MICROS_PER_SEC;
    match day_micros.checked_add(micros) {
        Some(micros) => Ok((rest, Elapsed { micros })),
        None => fail_at(input, "a shorter duration"),
    }
}

/// Compact durations: `45m`, `1h30m`, `1h 30m 5s`, `90s`, `2d 4h`, `1.5s`.
fn compact(input: &str) -> PResult<'_, Elapsed> {
    let mut rest = input;
    let mut total: i64 = 0;
    let mut parts = 0;
    loop {
        let start = rest;
        let (r, _) = space0(rest)?;
        type Part<'a> = (&'a str, Option<(char, &'a str)>, char);
        let part: PResult<'_, Part<'_>> = (
            take_while1(|c: char| c.is_ascii_digit()),
            opt((char('.'), take_while1(|c: char| c.is_ascii_digit()))),
            one_of("dhms"),
        )
            .parse(r);
        let (r, (whole, frac, unit)) = match part {
            Ok(ok) => ok,
            Err(e) if parts == 0 => {
                return Err(e.map(|mut err| {
                    err.what = "a duration (`45m`, `1h 30m`, `0:45:12`)";
                    err
                }));
            }
            Err(_) => return Ok((start, Elapsed { micros: total })),
        };
        let unit_micros = match unit {
            'd' => 86_400 * MICROS_PER_SEC,
            'h' => 3600 * MICROS_PER_SEC,
            'm' => 60 * MICROS_PER_SEC,
            _ => MICROS_PER_SEC,
        };
        let Ok(whole) = whole.parse::<i64>() else {
            return fail_at(r, "a shorter duration");
        };
        let frac_micros = frac.map_or(0.0, |(_, f)| {
            format!("0.{f}").parse::<f64>().unwrap_or(0.0) * unit_micros as f64
        });
        let Some(part) = whole
            .checked_mul(unit_micros)
            .and_then(|w| w.checked_add(frac_micros as i64))
            .and_then(|p| total.checked_add(p))
        else {
            return fail_at(start, "a shorter duration");
        };
        total = part;
        parts += 1;
        rest = r;
    }
}

/// A duration in either notation.
pub fn duration(input: &str) -> PResult<'_, Elapsed> {
    alt((timedelta, compact)).parse(input).map_err(|e| {
        e.map(|mut err| {
            if err.rest.len() == input.len() {
                err.what = "a duration (`45m`, `1h 30m`, `0:45:12`)";
            }
            err
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> String {
        let (rest, t) = timestamp(s).unwrap();
        assert_eq!(rest, "", "{s}");
        t.to_string()
    }

    fn secs(s: &str) -> f64 {
        let (rest, d) = duration(s).unwrap();
        assert_eq!(rest, "", "{s}");
        d.seconds()
    }

    fn rejects<O: std::fmt::Debug>(p: fn(&str) -> PResult<'_, O>, s: &str, at: usize, what: &str) {
        match p(s) {
            Ok((rest, v)) if !rest.is_empty() => {
                assert_eq!(s.len() - rest.len(), at, "{s}: stopped elsewhere ({v:?})")
            }
            Ok(v) => panic!("{s} parsed as {v:?}"),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                assert_eq!(s.len() - e.rest.len(), at, "{s}: {e:?}");
                assert!(e.what.contains(what), "{s}: {e:?}");
            }
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn python_timestamps_parse() {
        assert_eq!(
            ts("2026-11-23T10:15:30.123456"),
            "2026-11-23T10:15:30.123456"
        );
        assert_eq!(ts("2026-11-23T10:15:30"), "2026-11-23T10:15:30");
        assert_eq!(ts("2026-11-23T10:15:30.123"), "2026-11-23T10:15:30.123");
        assert_eq!(ts("2026-11-23T10:15"), "2026-11-23T10:15:00");
        assert_eq!(
            ts("2026-11-23 22:55:26.176071"),
            "2026-11-23T22:55:26.176071"
        );
        assert_eq!(ts("2026-11-24 00:05:51,788"), "2026-11-24T00:05:51.788");
        assert_eq!(ts("2026-11-23T10:15:30+00:00"), "2026-11-23T10:15:30+00:00");
        assert_eq!(ts("2026-11-23T10:15:30-08:00"), "2026-11-23T10:15:30-08:00");
        assert_eq!(
            ts("2026-11-23T10:15:30+05:30:15"),
            "2026-11-23T10:15:30+05:30:15"
        );
        assert_eq!(ts("2026-11-23T10:15:30Z"), "2026-11-23T10:15:30+00:00");
        assert_eq!(ts("2026-11-23T10:15:30+0000"), "2026-11-23T10:15:30+00:00");
    }

    #[test]
    fn impossible_timestamps_are_rejected_where_they_go_wrong() {
        rejects(timestamp, "2026-13-01T00:00:00", 5, "month");
        rejects(timestamp, "2026-02-30T00:00:00", 8, "day");
        rejects(timestamp, "2026-11-23T24:00:00", 11, "hour");
        rejects(timestamp, "2026-11-23T10:61:00", 14, "minutes");
        rejects(timestamp, "2026-11-23T10:15:99", 17, "seconds");
        rejects(timestamp, "2026-11-23X10:15:30", 10, "`T`");
        rejects(timestamp, "26-11-23T10:15:30", 0, "year");
    }

    #[test]
    fn compact_durations_parse() {
        assert_eq!(secs("45m"), 2700.0);
        assert_eq!(secs("1h30m"), 5400.0);
        assert_eq!(secs("1h 30m 5s"), 5405.0);
        assert_eq!(secs("90s"), 90.0);
        assert_eq!(secs("1.5s"), 1.5);
        assert_eq!(secs("2d 1h"), 176_400.0);
    }

    #[test]
    fn timedelta_durations_parse() {
        assert_eq!(secs("0:45:12.123456"), 2712.123456);
        assert_eq!(secs("0:00:00.000082"), 0.000082);
        assert_eq!(secs("1 day, 2:03:04"), 93_784.0);
        assert_eq!(secs("1 day, 2:03:04.5"), 93_784.5);
        assert_eq!(secs("2 days, 0:00:04.500000"), 172_804.5);
        assert_eq!(secs("-1 day, 23:59:59"), -1.0);
        assert_eq!(secs("12:00:00"), 43_200.0);
    }

    #[test]
    fn bad_durations_are_rejected() {
        rejects(duration, "forty", 0, "a duration");
        rejects(duration, "1 day, 99:99:99", 7, "hours");
        rejects(duration, "0:61:00", 2, "minutes");
        rejects(duration, "0:00:75", 5, "seconds");
        rejects(duration, "", 0, "a duration");
    }
}
