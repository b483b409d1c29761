//! Claude Code 2.1 subagents' own files, read beside a session file: the file-creating
//! calls of each subagent count for the task that spawned it.

use std::path::Path;

use super::{Options, Pipeline};
use crate::error::InputError;
use crate::event::{Event, EventKind};
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
}

impl Subagents {
    pub(super) fn beside(session: &Path) -> Self {
        Subagents {
            dir: session.with_extension("").join("subagents"),
            files: None,
        }
    }

    /// The tool calls of subagent `id` that created files (they are its task's files):
    /// none when its file is not there.
    pub(super) fn creations(&mut self, id: &str) -> Vec<Event> {
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
            return Vec::new();
        };
        let Ok(mut input) = Input::open(Some(path)) else {
            return Vec::new();
        };
        // The subagent's file goes through a pipeline of its own (events only, no
        // rules): its file-creating calls are kept.
        let mut pipeline = Pipeline::new(
            &display_name(Some(path)),
            Options {
                scan: ScanOptions {
                    input: crate::scan::InputKind::Cli(crate::format::claude::SPEC.cli),
                    ..ScanOptions::default()
                },
                ..Options::default()
            },
        );
        let mut calls = Creations(Vec::new());
        let mut buf = vec![0u8; crate::source::CHUNK];
        // A subagent file that cannot be read to its end gives the calls read so far.
        let _ = pipeline.read(&mut input, &mut buf, &mut calls);
        calls.0
    }
}

/// Keeps the file-creating tool calls of a subagent's file (as its parent's, so with no
/// subagent of their own).
struct Creations(Vec<Event>);

impl Sink for Creations {
    type Error = InputError;

    fn push(&mut self, _input: &str, item: Item<'_>) -> Result<Flow, InputError> {
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
            self.0.push(e);
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}
