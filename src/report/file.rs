//! Report files (`--report FORMAT=PATH`): written beside their path and renamed into
//! place when complete, so an interrupted or failed run never leaves a half-written or
//! empty report; and never at a path the run is about to read.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use globset::GlobSet;

use crate::interrupt;

/// A report file being written: its final path and the temporary file beside it (none
/// when the path is not a regular file: a device or a pipe such as `/dev/stdout` is
/// written directly, never replaced).
#[derive(Debug)]
pub struct ReportFile {
    pub path: PathBuf,
    temp: Option<PathBuf>,
    done: bool,
}

impl ReportFile {
    /// Creates the temporary file beside `path` (same directory, so the rename is
    /// atomic), and the file to write into.
    pub fn create(path: &Path) -> io::Result<(ReportFile, File)> {
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.is_file()
            && !meta.is_dir()
        {
            let file = File::options().write(true).open(path)?;
            let direct = ReportFile {
                path: path.to_path_buf(),
                temp: None,
                done: true,
            };
            return Ok((direct, file));
        }
        // A symbolic link is written through: its target is the file replaced.
        let resolved = std::fs::canonicalize(path).ok();
        let path = resolved.as_deref().unwrap_or(path);
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        if path.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory",
            ));
        }
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.partial", std::process::id()));
        let temp = dir.join(temp_name);
        let file = File::options().write(true).create_new(true).open(&temp)?;
        interrupt::writing(temp.clone());
        Ok((
            ReportFile {
                path: path.to_path_buf(),
                temp: Some(temp),
                done: false,
            },
            file,
        ))
    }

    /// The report is complete (and flushed): it takes its place.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(temp) = &self.temp else {
            return Ok(());
        };
        let renamed = std::fs::rename(temp, &self.path);
        self.done = renamed.is_ok();
        renamed
    }
}

impl Drop for ReportFile {
    /// A report never completed is removed: the path keeps what it held before.
    fn drop(&mut self) {
        if let Some(temp) = &self.temp {
            if !self.done {
                let _ = std::fs::remove_file(temp);
            }
            interrupt::written(temp);
        }
    }
}

/// What a run reads, to keep report files off it.
pub struct Inputs<'a> {
    /// Files given by name (device and inode, when they exist).
    pub files: Vec<(u64, u64)>,
    /// Directories walked, canonical, with the globs that pick their files.
    pub dirs: Vec<PathBuf>,
    pub globs: &'a GlobSet,
}

impl Inputs<'_> {
    /// Why writing a report at `path` would overwrite an input, if it would: it is one
    /// of the files (the same device and inode, however it is named), or a directory
    /// walk would read it.
    pub fn conflict(&self, path: &Path) -> Option<&'static str> {
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::MetadataExt;
            if self.files.contains(&(meta.dev(), meta.ino())) {
                return Some("it is one of the inputs");
            }
        }
        let name = path.file_name()?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let parent = parent.canonicalize().ok()?;
        (self.globs.is_match(name) && self.dirs.iter().any(|d| parent.starts_with(d)))
            .then_some("a directory being checked holds it, and its name matches --glob")
    }
}

/// The identity (device, inode) of an open file, or of stdin.
#[cfg(unix)]
pub fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// Whether `a` and `b` name one file: the same file when both are there (however each
/// is spelled), else the same name in the same directory.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        return identity(&x) == identity(&y);
    }
    let place = |p: &Path| {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some((dir.canonicalize().ok()?, p.file_name()?.to_owned()))
    };
    match (place(a), place(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
