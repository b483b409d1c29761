//! Token usage and cost, as each agent CLI reports them (SPEC §3, agent health): never
//! estimated, never priced by a table of our own. Each format reader keeps a [`Usage`]
//! as the figures arrive; what it means is the CLI's own word:
//! - Claude Code: the last `result` record's `modelUsage` (per model, the run's totals)
//!   and `total_cost_usd`; without `modelUsage`, the `usage` of every `result` summed;
//!   without any `result` (a session file, a killed stream), each assistant message's
//!   `usage`, once per message id.
//! - Codex: every `turn.completed.usage` summed (`exec --json`); a rollout's last
//!   `token_count` (`info.total_token_usage`, the session's totals).
//! - Gemini: every `result.stats` summed (stream-json); a chat file's messages'
//!   `tokens` summed; `--output-format json`'s `stats.models`.

use serde::Serialize;

/// How many models one input's usage names; more share one entry, [`OTHER_MODELS`].
const MAX_MODELS: usize = 16;
pub const OTHER_MODELS: &str = "(other models)";

/// Token counts. `input` is as the CLI counts it (Claude's excludes the cache, Codex's
/// includes it); `total` is the CLI's own total where it reports one, else the sum of
/// the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tokens {
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_read_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_creation_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub reasoning_tokens: u64,
    pub total_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Tokens {
    pub fn add(&mut self, o: &Tokens) {
        self.input_tokens = self.input_tokens.saturating_add(o.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(o.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(o.cache_read_tokens);
        self.cache_creation_tokens = self
            .cache_creation_tokens
            .saturating_add(o.cache_creation_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(o.reasoning_tokens);
        self.total_tokens = self.total_tokens.saturating_add(o.total_tokens);
    }

    /// Fills `total` from the parts when the CLI gave none (Claude: input, cache reads
    /// and writes, output).
    pub fn totalled(mut self) -> Tokens {
        if self.total_tokens == 0 {
            self.total_tokens = self
                .input_tokens
                .saturating_add(self.output_tokens)
                .saturating_add(self.cache_read_tokens)
                .saturating_add(self.cache_creation_tokens);
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        *self == Tokens::default()
    }

    /// Takes `o` away (what an earlier record of a message counted).
    pub fn sub(&mut self, o: &Tokens) {
        self.input_tokens = self.input_tokens.saturating_sub(o.input_tokens);
        self.output_tokens = self.output_tokens.saturating_sub(o.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_sub(o.cache_read_tokens);
        self.cache_creation_tokens = self
            .cache_creation_tokens
            .saturating_sub(o.cache_creation_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_sub(o.reasoning_tokens);
        self.total_tokens = self.total_tokens.saturating_sub(o.total_tokens);
    }

    /// Sets the count a field named `key` (in any CLI's spelling) holds, from a JSON
    /// number literal; false when the key is not a token count.
    pub fn set(&mut self, key: &[u8], literal: &[u8]) -> bool {
        let field = match key {
            b"input_tokens" | b"inputTokens" | b"input" | b"prompt" | b"promptTokenCount" => {
                &mut self.input_tokens
            }
            b"output_tokens"
            | b"outputTokens"
            | b"output"
            | b"candidates"
            | b"candidatesTokenCount" => &mut self.output_tokens,
            b"cache_read_input_tokens"
            | b"cacheReadInputTokens"
            | b"cached_input_tokens"
            | b"cached"
            | b"cachedContentTokenCount" => &mut self.cache_read_tokens,
            b"cache_creation_input_tokens" | b"cacheCreationInputTokens" => {
                &mut self.cache_creation_tokens
            }
            b"reasoning_output_tokens" | b"thoughts" | b"thoughtsTokenCount" => {
                &mut self.reasoning_tokens
            }
            b"total_tokens" | b"total" | b"totalTokenCount" => &mut self.total_tokens,
            _ => return false,
        };
        *field = number(literal).unwrap_or(0);
        true
    }
}

/// A JSON number literal as a count (a fraction or a negative number is not one).
pub fn number(literal: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(literal).ok()?;
    s.parse::<u64>().ok().or_else(|| {
        s.parse::<f64>()
            .ok()
            .filter(|f| *f >= 0.0)
            .map(|f| f as u64)
    })
}

/// A JSON number literal as dollars.
pub fn dollars(literal: &[u8]) -> Option<f64> {
    std::str::from_utf8(literal)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)
}

/// One model's share.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelUsage {
    pub model: String,
    #[serde(flatten)]
    pub tokens: Tokens,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

/// What a worker's run used, as its CLI reported it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    /// Left out when the CLI reported a cost and no counts.
    #[serde(flatten, skip_serializing_if = "Tokens::is_empty")]
    pub tokens: Tokens,
    /// Only where the CLI reports it (Claude Code's `total_cost_usd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Per model, where the CLI names it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelUsage>,
}

impl Usage {
    /// Adds `tokens` used by `model` (when the CLI names it).
    pub fn add(&mut self, model: Option<&str>, tokens: &Tokens, cost: Option<f64>) {
        let tokens = tokens.totalled();
        self.tokens.add(&tokens);
        if let Some(cost) = cost {
            *self.cost_usd.get_or_insert(0.0) += cost;
        }
        if let Some(model) = model.filter(|m| !m.is_empty()) {
            let at = match self.models.iter().position(|m| m.model == model) {
                Some(at) => at,
                None if self.models.len() < MAX_MODELS => {
                    self.models.push(ModelUsage {
                        model: model.to_owned(),
                        ..ModelUsage::default()
                    });
                    self.models.len() - 1
                }
                // Past the cap, the rest share one entry.
                None => match self.models.iter().position(|m| m.model == OTHER_MODELS) {
                    Some(at) => at,
                    None => {
                        self.models.push(ModelUsage {
                            model: OTHER_MODELS.to_owned(),
                            ..ModelUsage::default()
                        });
                        self.models.len() - 1
                    }
                },
            };
            let m = &mut self.models[at];
            m.tokens.add(&tokens);
            if let Some(cost) = cost {
                *m.cost_usd.get_or_insert(0.0) += cost;
            }
        }
    }

    /// Takes away `tokens` that `add` added for `model` (a message counted again).
    pub fn remove(&mut self, model: Option<&str>, tokens: &Tokens) {
        let tokens = tokens.totalled();
        self.tokens.sub(&tokens);
        if let Some(m) = model.and_then(|model| self.models.iter_mut().find(|m| m.model == model)) {
            m.tokens.sub(&tokens);
        }
    }

    /// Adds another run's usage (a run's totals over its inputs, `--statistics`).
    pub fn merge(&mut self, other: &Usage) {
        self.tokens.add(&other.tokens);
        if let Some(cost) = other.cost_usd {
            *self.cost_usd.get_or_insert(0.0) += cost;
        }
        for m in &other.models {
            // Through `add` (which also totals), the overall counts taken back out.
            let before = self.tokens;
            let cost = self.cost_usd;
            self.add(Some(&m.model), &m.tokens, m.cost_usd);
            self.tokens = before;
            self.cost_usd = cost;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.cost_usd.is_none()
    }

    /// `12 345 tokens (10 966 in, 151 out, 85 321 cache read), $0.17`: one line for the
    /// human report and the board.
    pub fn describe(&self) -> String {
        let t = &self.tokens;
        if t.is_empty() {
            return match self.cost_usd {
                Some(cost) => format!(
                    "{} (the input reports no token counts)",
                    crate::rule::Budget::dollars(cost)
                ),
                None => "none reported".to_owned(),
            };
        }
        let mut parts = vec![
            format!("{} in", grouped(t.input_tokens)),
            format!("{} out", grouped(t.output_tokens)),
        ];
        if t.cache_read_tokens > 0 {
            parts.push(format!("{} cache read", grouped(t.cache_read_tokens)));
        }
        if t.cache_creation_tokens > 0 {
            parts.push(format!("{} cache write", grouped(t.cache_creation_tokens)));
        }
        if t.reasoning_tokens > 0 {
            parts.push(format!("{} reasoning", grouped(t.reasoning_tokens)));
        }
        let mut line = format!("{} tokens ({})", grouped(t.total_tokens), parts.join(", "));
        if let Some(cost) = self.cost_usd {
            line.push_str(&format!(", {}", crate::rule::Budget::dollars(cost)));
        }
        if !self.models.is_empty() {
            let names: Vec<&str> = self.models.iter().map(|m| m.model.as_str()).collect();
            line.push_str(&format!(" [{}]", names.join(", ")));
        }
        line
    }
}

/// `1234567` as `1 234 567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `1234567` as `1.2M`, `12345` as `12k`: for narrow columns.
pub fn short(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..10_000 => format!("{:.1}k", n as f64 / 1e3),
        10_000..1_000_000 => format!("{}k", n / 1_000),
        1_000_000..10_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{}M", n / 1_000_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_in_every_spelling_and_totals_fill_in() {
        let mut t = Tokens::default();
        assert!(t.set(b"input_tokens", b"10"));
        assert!(t.set(b"cacheReadInputTokens", b"85321"));
        assert!(t.set(b"output", b"3.0"));
        assert!(!t.set(b"duration_ms", b"5"));
        assert_eq!(t.totalled().total_tokens, 85334);
        let mut u = Usage::default();
        u.add(Some("m"), &t, Some(0.5));
        u.add(Some("m"), &t, Some(0.25));
        assert_eq!(u.models.len(), 1);
        assert_eq!(u.models[0].tokens.total_tokens, 2 * 85334);
        assert_eq!(u.cost_usd, Some(0.75));
        assert_eq!(grouped(1234567), "1 234 567");
        assert_eq!(short(12_345), "12k");
        assert_eq!(
            u.describe(),
            "170 668 tokens (20 in, 6 out, 170 642 cache read), $0.75 [m]"
        );
    }
}
