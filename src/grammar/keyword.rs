//! The protocol's keywords (SPEC §1): the one table from which marker recognition,
//! near-miss suggestions and the grammar document's consistency test all read.

use serde::Serialize;

/// A protocol keyword: the word a marker line starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Keyword {
    SessionStart,
    PatternFilesRead,
    QueueDepth,
    TaskStart,
    SubagentSpawn,
    SubagentComplete,
    FilesCreated,
    TaskComplete,
    SigmaDistiller,
    DistillationComplete,
    PatternsUpdated,
    SessionComplete,
    Duration,
    TasksCompleted,
    StrategiesProduced,
    HypothesesQueued,
}

impl Keyword {
    /// Every keyword, in the order of SPEC §1.
    pub const ALL: [Keyword; 16] = [
        Keyword::SessionStart,
        Keyword::PatternFilesRead,
        Keyword::QueueDepth,
        Keyword::TaskStart,
        Keyword::SubagentSpawn,
        Keyword::SubagentComplete,
        Keyword::FilesCreated,
        Keyword::TaskComplete,
        Keyword::SigmaDistiller,
        Keyword::DistillationComplete,
        Keyword::PatternsUpdated,
        Keyword::SessionComplete,
        Keyword::Duration,
        Keyword::TasksCompleted,
        Keyword::StrategiesProduced,
        Keyword::HypothesesQueued,
    ];

    /// The length of the shortest keyword.
    pub const SHORTEST: usize = Keyword::length(true);
    /// The length of the longest keyword.
    pub const LONGEST: usize = Keyword::length(false);

    const fn length(shortest: bool) -> usize {
        let mut best = Keyword::ALL[0].word().len();
        let mut i = 1;
        while i < Keyword::ALL.len() {
            let len = Keyword::ALL[i].word().len();
            if (shortest && len < best) || (!shortest && len > best) {
                best = len;
            }
            i += 1;
        }
        best
    }

    /// The keyword as it is written on the line, without its colon.
    pub const fn word(self) -> &'static str {
        match self {
            Keyword::SessionStart => "SESSION_START",
            Keyword::PatternFilesRead => "PATTERN_FILES_READ",
            Keyword::QueueDepth => "QUEUE_DEPTH",
            Keyword::TaskStart => "TASK_START",
            Keyword::SubagentSpawn => "SUBAGENT_SPAWN",
            Keyword::SubagentComplete => "SUBAGENT_COMPLETE",
            Keyword::FilesCreated => "FILES_CREATED",
            Keyword::TaskComplete => "TASK_COMPLETE",
            Keyword::SigmaDistiller => "@sigma-distiller",
            Keyword::DistillationComplete => "DISTILLATION_COMPLETE",
            Keyword::PatternsUpdated => "PATTERNS_UPDATED",
            Keyword::SessionComplete => "SESSION_COMPLETE",
            Keyword::Duration => "DURATION",
            Keyword::TasksCompleted => "TASKS_COMPLETED",
            Keyword::StrategiesProduced => "STRATEGIES_PRODUCED",
            Keyword::HypothesesQueued => "HYPOTHESES_QUEUED",
        }
    }

    /// Whether the keyword is followed by `:` and a payload. Only
    /// `DISTILLATION_COMPLETE` stands alone.
    pub const fn takes_payload(self) -> bool {
        !matches!(self, Keyword::DistillationComplete)
    }

    /// Looks up the keyword spelled exactly `word`.
    pub fn from_word(word: &[u8]) -> Option<Keyword> {
        // Most words tried are the first word of a prose line ("Sharpe" is `S`): their
        // length alone rules them out.
        if !(Keyword::SHORTEST..=Keyword::LONGEST).contains(&word.len()) {
            return None;
        }
        Keyword::ALL
            .into_iter()
            .find(|k| k.word().as_bytes() == word)
    }

    /// The keyword closest to `word` within an edit distance of 2 (a letter missing,
    /// added, changed, or two swapped), for "did you mean" suggestions.
    ///
    /// An edit distance of 2 changes the length by at most 2, so a word whose length is
    /// further from every keyword's is no near miss, and is rejected before any distance
    /// is computed: a 64 KiB `A_A_A_…:` costs a length comparison, not an edit distance.
    pub fn nearest(word: &str) -> Option<Keyword> {
        Keyword::ALL
            .into_iter()
            .filter(|k| k.word().starts_with(|c: char| c.is_ascii_uppercase()))
            .filter(|k| word.len().abs_diff(k.word().len()) <= 2)
            .map(|k| (strsim::osa_distance(word, k.word()), k))
            .filter(|&(d, _)| d <= 2)
            .min_by_key(|&(d, _)| d)
            .map(|(_, k)| k)
    }
}

impl std::fmt::Display for Keyword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_round_trips_through_its_word() {
        for k in Keyword::ALL {
            assert_eq!(Keyword::from_word(k.word().as_bytes()), Some(k));
        }
        assert_eq!(Keyword::from_word(b"session_start"), None);
    }

    #[test]
    fn near_misses_suggest_the_keyword() {
        assert_eq!(
            Keyword::nearest("SESION_START"),
            Some(Keyword::SessionStart)
        );
        assert_eq!(
            Keyword::nearest("TASK_COMPLTE"),
            Some(Keyword::TaskComplete)
        );
        assert_eq!(Keyword::nearest("TSAK_START"), Some(Keyword::TaskStart));
        assert_eq!(Keyword::nearest("TASK_STARTED"), Some(Keyword::TaskStart));
        assert_eq!(Keyword::nearest("BUILD_OUTPUT"), None);
        assert_eq!(Keyword::nearest(&"A_".repeat(30_000)), None);
    }
}
