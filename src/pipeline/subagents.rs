//! Claude Code 2.1 subagents' own files, read beside a session file: the file-creating
//! calls of each subagent count for the task that spawned it.

use std::path::Path;

use super::{Options, Pipeline};
use crate::error::InputError;
use crate::event::{Event, EventKind};
use crate::replay::{Said, Who};
use crate::scan::ScanOptions;
use crate::sink::{Flow, Item, Sink};
use crate::source::{Input, display_name};

/// The records of Claude Code 2.1 subagents, kept beside a session file
/// `<session>.jsonl` in `<session>/subagents/agent-<id>.jsonl`. The files are found by
/// listing that directory, so a name taken from the transcript never becomes a path.
pub(super) struct Subagents {
    dir: std::path::PathBuf,
    /// The directory's `agent-<id>.jsonl` files by id, once listed.
    files: Option<Vec<(String, std::path::PathBuf)>>,
    /// The run replays (the HTML report): what each subagent said is kept too.
    replay: bool,
}

/// What a subagent's file tells its parent's input.
#[derive(Debug, Default)]
pub(super) struct Run {
    /// Its tool calls that created files (its task's files).
    pub(super) creations: Vec<Event>,
    /// What it said and did, for the replay (only when the run replays), as a
    /// subagent's: nested under the worker's call that started it.
    pub(super) said: Vec<Event>,
}

/// What the replay keeps of one subagent's file: its first messages, calls and results.
const MAX_SAID: usize = 500;

impl Subagents {
    pub(super) fn beside(session: &Path, replay: bool) -> Self {
        Subagents {
            dir: session.with_extension("").join("subagents"),
            files: None,
            replay,
        }
    }

    /// What subagent `id`'s file tells: nothing when it is not there.
    pub(super) fn run(&mut self, id: &str) -> Run {
        let dir = &self.dir;
        let files = self.files.get_or_insert_with(|| {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return Vec::new();
            };
            entries
                .filter_map(|e| {
                    let path = e.ok()?.path();
                    let name = path.file_name()?.to_str()?;
                    let id = name
                        .strip_prefix("agent-")?
                        .strip_suffix(".jsonl")?
                        .to_owned();
                    Some((id, path))
                })
                .collect()
        });
        // The id in a tool result may be the start of the file's.
        let Some((_, path)) = files.iter().find(|(file_id, _)| file_id == id).or_else(|| {
            files
                .iter()
                .find(|(file_id, _)| !id.is_empty() && file_id.starts_with(id))
        }) else {
            return Run::default();
        };
        let Ok(mut input) = Input::open(Some(path)) else {
            return Run::default();
        };
        // The subagent's file goes through a pipeline of its own (events only, no
        // rules): its file-creating calls are kept.
        let mut pipeline = Pipeline::new(
            &display_name(Some(path)),
            Options {
                scan: ScanOptions {
                    input: crate::scan::InputKind::Cli(crate::format::claude::SPEC.cli),
                    replay: self.replay,
                    ..ScanOptions::default()
                },
                ..Options::default()
            },
        );
        let mut run = Run::default();
        let mut buf = vec![0u8; crate::source::CHUNK];
        // A subagent file that cannot be read to its end gives the calls read so far.
        let _ = pipeline.read(&mut input, &mut buf, &mut run);
        run
    }
}

/// What the replay shows of a subagent's record: its messages as a subagent's, its
/// calls as made under `agent`.
fn as_subagents(said: &Said, agent: &str) -> Said {
    match said {
        Said::Message { text, .. } => Said::Message {
            who: Who::Subagent,
            text: text.clone(),
        },
        Said::More { text, .. } => Said::More {
            who: Who::Subagent,
            text: text.clone(),
        },
        Said::Call {
            tool, id, input, ..
        } => Said::Call {
            tool: tool.clone(),
            id: id.clone(),
            parent: Some(agent.to_owned()),
            input: input.clone(),
        },
        Said::Result {
            id, failed, text, ..
        } => Said::Result {
            id: id.clone(),
            failed: *failed,
            parent: Some(agent.to_owned()),
            text: text.clone(),
        },
        Said::Line(text) => Said::Line(text.clone()),
    }
}

/// Keeps the file-creating tool calls of a subagent's file (as its parent's, so with no
/// subagent of their own), and what it said for the replay.
impl Sink for Run {
    type Error = InputError;

    fn push(&mut self, input: &str, item: Item<'_>) -> Result<Flow, InputError> {
        if let Item::Event(e) = &item
            && let EventKind::Said(said) = &e.kind
        {
            if self.said.len() < MAX_SAID {
                let mut e = (*e).clone();
                e.kind = EventKind::Said(Box::new(as_subagents(said, input)));
                self.said.push(e);
            }
            return Ok(Flow::Continue);
        }
        // Only events come out of a pipeline without rules; of them, the calls that
        // create files are what the parent's task is credited with.
        if let Item::Event(e) = item
            && let EventKind::ToolCall {
                creates: Some(_), ..
            } = &e.kind
        {
            let mut e = e.clone();
            if let EventKind::ToolCall { subagent, id, .. } = &mut e.kind {
                *subagent = None;
                // The subagent's calls, credited to its parent's task: no call of the
                // worker's own (no loop is looked for in them).
                *id = None;
            }
            self.creations.push(e);
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}
