//! What a run reads: files as given, directories walked (as ripgrep walks them) for the
//! names the globs match, `-` for stdin; and what it reads, so that no report is
//! written over an input.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::Fatal;
use crate::report;
use crate::report::file::Inputs;

/// An input of file mode.
pub(super) enum Target {
    Stdin,
    File(PathBuf),
}

impl Target {
    pub(super) fn path(&self) -> Option<&Path> {
        match self {
            Target::Stdin => None,
            Target::File(p) => Some(p),
        }
    }
}

/// The names a directory walk reads unless `--glob` says otherwise.
/// Each may be gzip-compressed (`x.log.gz`, how old runs are kept).
pub const DEFAULT_GLOBS: [&str; 8] = [
    "*.log",
    "*.txt",
    "*.jsonl",
    "*.ndjson",
    "*.log.gz",
    "*.txt.gz",
    "*.jsonl.gz",
    "*.ndjson.gz",
];

/// The globs of a directory walk, and how they read in a message (`*.log, *.txt, …`).
pub(super) fn globs(patterns: &[String]) -> Result<(GlobSet, String), Fatal> {
    let defaults: Vec<String> = DEFAULT_GLOBS.iter().map(|g| (*g).to_owned()).collect();
    let patterns = if patterns.is_empty() {
        &defaults[..]
    } else {
        patterns
    };
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        set.add(Glob::new(p).map_err(|e| Fatal::usage(format!("--glob {p}: {e}")))?);
    }
    let set = set
        .build()
        .map_err(|e| Fatal::usage(format!("--glob: {e}")))?;
    Ok((set, patterns.join(", ")))
}

/// A directory walked in name order, as ripgrep walks it: hidden files and directories
/// and what `.gitignore` (and `.ignore`) files exclude are skipped, unless `no_ignore`.
pub(super) fn walk(dir: &Path, no_ignore: bool) -> ignore::Walk {
    ignore::WalkBuilder::new(dir)
        .standard_filters(!no_ignore)
        // A .gitignore counts outside a git repository too (a copied corpus).
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
}

/// Files to check: explicit files as given, directories walked in name order for the
/// files whose name matches the globs. A directory that holds no such file is a usage
/// error: checking nothing must not read as a clean run.
pub(super) fn expand(
    paths: &[PathBuf],
    globs: &GlobSet,
    looked_for: &str,
    no_ignore: bool,
) -> Result<Vec<Target>, Fatal> {
    let mut targets = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            targets.push(Target::Stdin);
        } else if p.is_dir() {
            let before = targets.len();
            for entry in walk(p, no_ignore) {
                match entry {
                    Ok(e)
                        if e.file_type().is_some_and(|t| t.is_file())
                            && globs.is_match(e.file_name()) =>
                    {
                        targets.push(Target::File(e.into_path()))
                    }
                    Ok(_) => {}
                    // Unreadable directories are reported when their path is opened.
                    Err(e) => {
                        let path = match &e {
                            ignore::Error::WithPath { path, .. } => path.clone(),
                            _ => p.clone(),
                        };
                        targets.push(Target::File(path))
                    }
                }
            }
            if targets.len() == before {
                return Err(Fatal::usage(format!(
                    "{}: no transcript found in this directory (looked for {looked_for}, \
                     in every subdirectory); give the files, or --glob PATTERN",
                    crate::sanitize::escape(p.display().to_string().as_bytes())
                )));
            }
        } else {
            targets.push(Target::File(p.clone()));
        }
    }
    Ok(targets)
}

/// What the run reads, so that no report is written over it.
pub(super) fn inputs<'g>(paths: &[PathBuf], targets: &[Target], globs: &'g GlobSet) -> Inputs<'g> {
    let mut files = Vec::new();
    for t in targets {
        let meta = match t {
            Target::File(p) => std::fs::metadata(p).ok(),
            Target::Stdin => stdin_metadata(),
        };
        if let Some(m) = meta.filter(|m| m.is_file()) {
            files.push(report::file::identity(&m));
        }
    }
    if paths.is_empty() {
        // Pipe mode: stdin may be redirected from a file (`check < x.log`).
        if let Some(m) = stdin_metadata().filter(|m| m.is_file()) {
            files.push(report::file::identity(&m));
        }
    }
    let dirs = paths
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    Inputs { files, dirs, globs }
}

/// What stdin is, when it can be told.
fn stdin_metadata() -> Option<std::fs::Metadata> {
    let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    File::from(fd).metadata().ok()
}
