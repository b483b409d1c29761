//! Durations as options take them (`--stale 10s`, `--exit-grace 1h30m`, a budget's
//! `duration=90m`) and as reports show them.

use std::time::Duration;

/// `1h 2m 3s`, `15m`, `10s`.
pub fn show(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s % 3600 / 60, s % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s}s"));
    }
    parts.join(" ")
}

/// The longest duration an option takes: 30 days.
const MAX_SECONDS: u64 = 30 * 24 * 3600;

/// Parses a duration: `90` or `90s`, `15m`, `2h`, `1h30m`.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration (e.g. 30s, 15m, 1h30m)");
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = total.saturating_add(n.saturating_mul(unit));
        number.clear();
    }
    if !number.is_empty() {
        total = total.saturating_add(number.parse::<u64>().map_err(|_| bad())?);
    }
    if total == 0 {
        return Err(format!("`{text}`: a duration must be longer than 0s"));
    }
    // A bound that any clock can add to (a deadline past it would overflow).
    if total > MAX_SECONDS {
        return Err(format!("`{text}`: a duration is at most 720h (30 days)"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_past_30_days_are_refused() {
        assert!(parse("720h").is_ok());
        assert!(parse("721h").is_err());
        assert!(parse("3000000000000000h").is_err());
    }

    #[test]
    fn durations_read_and_show() {
        assert_eq!(parse("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse("0s").is_err());
        assert!(parse("ten").is_err());
        assert!(parse("5d").is_err());
        assert_eq!(show(Duration::from_secs(5400)), "1h 30m");
        assert_eq!(show(Duration::from_secs(10)), "10s");
    }
}
