//! A deterministic generator of realistic worker transcripts for the benchmarks,
//! following the mix of the shared `gen_transcript.py`: sequential sessions of 5-30
//! tasks with subagents, about 1% marker lines (some indented, some ANSI-coloured),
//! prose, coloured tool-call lines, fenced code with keyword decoys, rare 5-50 KB lines,
//! mid-line keyword decoys and some CRLF sessions.

/// xorshift64*: small, fast, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const WORDS: &[&str] = &[
    "the",
    "strategy",
    "signal",
    "momentum",
    "mean",
    "reversion",
    "volatility",
    "sharpe",
    "drawdown",
    "backtest",
    "out-of-sample",
    "walk-forward",
    "regime",
    "factor",
    "returns",
    "position",
    "sizing",
    "turnover",
    "slippage",
    "universe",
    "rebalance",
    "lookback",
    "z-score",
    "rolling",
    "correlation",
    "hypothesis",
    "queue",
    "evidence",
    "let",
    "me",
    "check",
    "verify",
    "I'll",
    "run",
    "the",
    "tests",
    "and",
    "then",
    "update",
    "it.",
];
const CODE: &[&str] = &[
    "import numpy as np",
    "def compute_signal(prices, lookback=252):",
    "    returns = prices.pct_change(lookback).shift(21)",
    "TASK_START_RE = re.compile(r\"^TASK_START: (t-\\d+)\")",
    "SESSION_COMPLETE_TIMEOUT = 3600",
    "    print(\"TASK_COMPLETE: \" + task_id)",
];
const ANSI: &[&str] = &["\x1b[32m", "\x1b[1;34m", "\x1b[38;5;245m", "\x1b[2m"];
const AGENTS: &[&str] = &[
    "@quant-backtester",
    "@quant-researcher",
    "@quant-risk-analyst",
];

fn pick<'a>(r: &mut Rng, from: &[&'a str]) -> &'a str {
    from[r.below(from.len() as u64) as usize]
}

fn prose(r: &mut Rng, out: &mut Vec<u8>) {
    let n = 4 + r.below(28);
    for i in 0..n {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(pick(r, WORDS).as_bytes());
    }
}

fn marker(r: &mut Rng, out: &mut Vec<u8>, eol: &[u8], text: &str) {
    let x = r.below(100);
    let ansi = x >= 93;
    match x {
        0..=81 => {}
        82..=89 => out.extend_from_slice(b"   "),
        90..=92 => out.push(b'\t'),
        _ => out.extend_from_slice(pick(r, ANSI).as_bytes()),
    }
    out.extend_from_slice(text.as_bytes());
    if ansi {
        out.extend_from_slice(b"\x1b[0m");
    }
    out.extend_from_slice(eol);
}

fn gap(r: &mut Rng, out: &mut Vec<u8>, eol: &[u8], mean: u64) {
    for _ in 0..mean / 2 + r.below(mean + 1) {
        match r.below(1000) {
            0..=599 => prose(r, out),
            600..=679 => {}
            680..=739 => {
                out.extend_from_slice(
                    b"\x1b[1;34m\xe2\x97\x8f\x1b[0m Read(strategies/momentum.py)",
                );
            }
            740..=789 => {
                out.extend_from_slice(pick(r, ANSI).as_bytes());
                prose(r, out);
                out.extend_from_slice(b"\x1b[0m");
            }
            790..=809 => {
                out.extend_from_slice(b"```python");
                for _ in 0..5 + r.below(20) {
                    out.extend_from_slice(eol);
                    out.extend_from_slice(pick(r, CODE).as_bytes());
                }
                out.extend_from_slice(eol);
                out.extend_from_slice(b"```");
            }
            810..=811 => {
                let len = 5000 + r.below(46_000) as usize;
                out.extend_from_slice(b"{\"equity_curve\": [");
                out.extend(b"1.0042,".iter().copied().cycle().take(len));
                out.extend_from_slice(b"]}");
            }
            812..=814 => {
                prose(r, out);
                out.extend_from_slice(b" TASK_COMPLETE: t-1 ");
                prose(r, out);
            }
            _ => out.extend_from_slice(b"Sharpe: 1.23  MaxDD: -12.5%  trades=420"),
        }
        out.extend_from_slice(eol);
    }
}

/// Appends whole sessions to `out` until it holds at least `bytes` bytes.
pub fn generate(bytes: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng::new(seed);
    let mut out = Vec::with_capacity(bytes + (1 << 20));
    let mut session = 0u64;
    while out.len() < bytes {
        session += 1;
        let eol: &[u8] = if r.chance(0.08) { b"\r\n" } else { b"\n" };
        let second = r.below(60);
        let sid = format!(
            "researcher-2026-11-23T10:{:02}:{second:02}.123456",
            session % 60
        );
        marker(&mut r, &mut out, eol, &format!("SESSION_START: {sid}"));
        marker(
            &mut r,
            &mut out,
            eol,
            "PATTERN_FILES_READ: what-works.md, what-fails.md",
        );
        marker(
            &mut r,
            &mut out,
            eol,
            "QUEUE_DEPTH: hypotheses=5, to-convert=3",
        );
        gap(&mut r, &mut out, eol, 60);
        let tasks = 5 + r.below(26);
        for t in 0..tasks {
            marker(&mut r, &mut out, eol, &format!("TASK_START: t-{t}"));
            gap(&mut r, &mut out, eol, 100);
            for _ in 0..r.below(5) {
                let agent = pick(&mut r, AGENTS);
                marker(&mut r, &mut out, eol, &format!("SUBAGENT_SPAWN: {agent}"));
                gap(&mut r, &mut out, eol, 110);
                marker(
                    &mut r,
                    &mut out,
                    eol,
                    &format!("SUBAGENT_COMPLETE: {agent}"),
                );
            }
            let files = r.below(6);
            marker(&mut r, &mut out, eol, &format!("FILES_CREATED: {files}"));
            marker(&mut r, &mut out, eol, &format!("TASK_COMPLETE: t-{t}"));
            gap(&mut r, &mut out, eol, 80);
        }
        marker(
            &mut r,
            &mut out,
            eol,
            "@sigma-distiller: Analyze this session and update pattern files",
        );
        gap(&mut r, &mut out, eol, 120);
        marker(&mut r, &mut out, eol, "DISTILLATION_COMPLETE");
        marker(
            &mut r,
            &mut out,
            eol,
            "PATTERNS_UPDATED: what-works.md (+2 entries)",
        );
        marker(&mut r, &mut out, eol, &format!("SESSION_COMPLETE: {sid}"));
        marker(&mut r, &mut out, eol, "DURATION: 45m");
        marker(&mut r, &mut out, eol, &format!("TASKS_COMPLETED: {tasks}"));
        marker(&mut r, &mut out, eol, "STRATEGIES_PRODUCED: 1");
        marker(&mut r, &mut out, eol, "HYPOTHESES_QUEUED: 3");
        gap(&mut r, &mut out, eol, 10);
    }
    out
}
