//! What a run may spend: the limits `budget-exceeded` checks (`--budget`, `[budget]`).

use std::time::Duration;

/// What a run may spend (`--budget`, `[budget]`): any of tokens, dollars, turns, time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Budget {
    pub tokens: Option<u64>,
    pub cost: Option<f64>,
    pub turns: Option<u64>,
    pub duration: Option<Duration>,
}

impl Budget {
    pub fn is_empty(&self) -> bool {
        *self == Budget::default()
    }

    /// `tokens=N,cost=USD,turns=N,duration=DUR`, any of them; each given later replaces
    /// the same one given before.
    pub fn parse(text: &str) -> Result<Budget, String> {
        let mut budget = Budget::default();
        budget.add(text)?;
        Ok(budget)
    }

    /// `$2.50`, or `$0.0042` under a cent.
    pub fn dollars(usd: f64) -> String {
        if usd != 0.0 && usd.abs() < 0.01 {
            format!("${usd:.4}")
        } else {
            format!("${usd:.2}")
        }
    }

    /// Adds the limits of `text` to this budget.
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        if text.trim().is_empty() {
            return Err(
                "no limit given (tokens=N, cost=USD, turns=N, duration=DUR, comma-separated)"
                    .to_owned(),
            );
        }
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!(
                    "`{part}` is not LIMIT=VALUE (tokens=N, cost=USD, turns=N, duration=DUR, comma-separated; write 2000000 or 2M, not 2,000,000)"
                ));
            };
            let value = value.trim();
            // `2000000`, `2_000_000`, `2M`, `500k`.
            let count = || {
                let plain = value.replace('_', "");
                let (digits, scale) = match plain.char_indices().last() {
                    Some((i, 'k' | 'K')) => (&plain[..i], 1_000),
                    Some((i, 'm' | 'M')) => (&plain[..i], 1_000_000),
                    Some((i, 'g' | 'G')) => (&plain[..i], 1_000_000_000),
                    _ => (plain.as_str(), 1),
                };
                digits
                    .parse::<u64>()
                    .ok()
                    .and_then(|n| n.checked_mul(scale))
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        format!("{key}={value}: expected a whole number above 0 (e.g. 2000000, 2_000_000 or 2M)")
                    })
            };
            match key.trim() {
                "tokens" => self.tokens = Some(count()?),
                "turns" => self.turns = Some(count()?),
                "cost" => {
                    let usd = value.trim_start_matches('$').parse::<f64>().ok();
                    self.cost =
                        Some(usd.filter(|c| c.is_finite() && *c > 0.0).ok_or_else(|| {
                            format!("cost={value}: expected dollars above 0 (e.g. cost=2.50)")
                        })?);
                }
                "duration" => {
                    self.duration = Some(
                        crate::duration::parse(value)
                            .map_err(|e| format!("duration={value}: {e}"))?,
                    )
                }
                other => {
                    return Err(format!(
                        "unknown budget limit `{}` (tokens, cost, turns or duration)",
                        crate::sanitize::escape(other.as_bytes())
                    ));
                }
            }
        }
        Ok(())
    }

    /// `tokens=1000000, cost=$5.00`: as the findings and the settings show it.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.tokens {
            parts.push(format!("tokens={t}"));
        }
        if let Some(c) = self.cost {
            parts.push(format!("cost={}", Budget::dollars(c)));
        }
        if let Some(t) = self.turns {
            parts.push(format!("turns={t}"));
        }
        if let Some(d) = self.duration {
            parts.push(format!("duration={}", crate::duration::show(d)));
        }
        parts.join(", ")
    }
}
