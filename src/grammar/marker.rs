//! What the grammar reads from a marker's line: the marker and its typed payload
//! (SPEC §1). The scanner wraps it in an [`crate::event::Event`] with its position.

use serde::{Serialize, Serializer};

use super::Keyword;

/// A marker with its typed payload (SPEC §1).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Marker {
    SessionStart {
        session: SessionId,
    },
    PatternFilesRead {
        files: Vec<String>,
    },
    QueueDepth {
        queues: Vec<QueueDepth>,
    },
    TaskStart {
        task: String,
    },
    SubagentSpawn {
        agent: String,
    },
    SubagentComplete {
        agent: String,
    },
    FilesCreated {
        count: u64,
    },
    TaskComplete {
        task: String,
    },
    /// `@sigma-distiller: …`, the distillation request.
    DistillationRequest {
        text: String,
    },
    /// The request's `Output files: N` continuation line.
    DistillationOutputFiles {
        count: u64,
    },
    /// The request's `Strategies: N` continuation line.
    DistillationStrategies {
        count: u64,
    },
    DistillationComplete,
    PatternsUpdated {
        updates: Vec<PatternUpdate>,
    },
    SessionComplete {
        session: SessionId,
    },
    Duration {
        duration: Elapsed,
    },
    TasksCompleted {
        count: u64,
    },
    StrategiesProduced {
        count: u64,
    },
    HypothesesQueued {
        count: u64,
    },
}

impl Marker {
    /// The keyword that introduces this marker (continuation lines report the request's).
    pub fn keyword(&self) -> Keyword {
        match self {
            Marker::SessionStart { .. } => Keyword::SessionStart,
            Marker::PatternFilesRead { .. } => Keyword::PatternFilesRead,
            Marker::QueueDepth { .. } => Keyword::QueueDepth,
            Marker::TaskStart { .. } => Keyword::TaskStart,
            Marker::SubagentSpawn { .. } => Keyword::SubagentSpawn,
            Marker::SubagentComplete { .. } => Keyword::SubagentComplete,
            Marker::FilesCreated { .. } => Keyword::FilesCreated,
            Marker::TaskComplete { .. } => Keyword::TaskComplete,
            Marker::DistillationRequest { .. }
            | Marker::DistillationOutputFiles { .. }
            | Marker::DistillationStrategies { .. } => Keyword::SigmaDistiller,
            Marker::DistillationComplete => Keyword::DistillationComplete,
            Marker::PatternsUpdated { .. } => Keyword::PatternsUpdated,
            Marker::SessionComplete { .. } => Keyword::SessionComplete,
            Marker::Duration { .. } => Keyword::Duration,
            Marker::TasksCompleted { .. } => Keyword::TasksCompleted,
            Marker::StrategiesProduced { .. } => Keyword::StrategiesProduced,
            Marker::HypothesesQueued { .. } => Keyword::HypothesesQueued,
        }
    }
}

/// A session id, `{worker-type}-{timestamp}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionId {
    /// The id exactly as printed.
    pub id: String,
    pub worker_type: String,
    pub timestamp: Timestamp,
}

/// A date-time as Python prints it, with its UTC offset when it had one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub local: chrono::NaiveDateTime,
    /// Seconds east of UTC, when the timestamp was aware.
    pub offset: Option<chrono::FixedOffset>,
}

impl Timestamp {
    /// Microseconds between two timestamps, when both are naive or both aware.
    pub fn micros_until(&self, later: &Timestamp) -> Option<i64> {
        let delta = match (self.offset, later.offset) {
            (None, None) => later.local - self.local,
            (Some(a), Some(b)) => {
                let a = self.local.and_local_timezone(a).single()?;
                let b = later.local.and_local_timezone(b).single()?;
                b - a
            }
            _ => return None,
        };
        delta.num_microseconds()
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.local.format("%Y-%m-%dT%H:%M:%S%.f"))?;
        match self.offset {
            Some(o) => write!(f, "{o}"),
            None => Ok(()),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A signed length of time with microsecond precision (Python's `timedelta` resolution);
/// serialised as seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Elapsed {
    pub micros: i64,
}

impl Elapsed {
    pub fn seconds(self) -> f64 {
        self.micros as f64 / 1e6
    }
}

impl Serialize for Elapsed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Repr {
            seconds: f64,
        }
        Repr {
            seconds: self.seconds(),
        }
        .serialize(s)
    }
}

/// One `name=count` entry of `QUEUE_DEPTH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueDepth {
    pub queue: String,
    pub depth: u64,
}

/// One `file (+N entries)` entry of `PATTERNS_UPDATED`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatternUpdate {
    pub file: String,
    pub entries: i64,
}
