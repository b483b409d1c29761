//! The session keeper of `run` on a pseudo-terminal (an internal mode of the binary,
//! `quant-session __keep-session CMD…`, never typed by a user).
//!
//! The process that leads a terminal's session takes the terminal with it when it
//! exits: the kernel hangs it up, and what the processes the worker started still
//! print (a launcher that forks and exits, `… &`) is lost before `run` can read it. So
//! the worker does not lead its session: this keeper does. It starts the worker as its
//! child on the same terminal, tells `run` how the worker ended the moment it does
//! (through the descriptor named by `QS_STATUS_FD`), lets go of the terminal itself,
//! and stays until no other process of its session is left. Signals `run` passes on to
//! the worker's process group reach the keeper too: it outlives them (its handlers are
//! reset when the worker is executed, so the worker's are the default ones).

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// The argument that selects this mode.
pub const MODE: &str = "__keep-session";
/// The environment variable naming the descriptor the worker's wait status goes to.
pub const STATUS_FD: &str = "QS_STATUS_FD";

pub fn run(command: &[OsString]) -> ExitCode {
    let caught = Arc::new(AtomicBool::new(false));
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        let _ = signal_hook::flag::register(sig, caught.clone());
    }
    let status_fd = std::env::var(STATUS_FD)
        .ok()
        .and_then(|n| n.parse::<i32>().ok())
        .filter(|&fd| fd > 2)
        // SAFETY: `run` opened this descriptor for the keeper and owns no other copy
        // in this process.
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
    if let Some(fd) = &status_fd {
        let _ = rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC);
    }
    let Some((program, args)) = command.split_first() else {
        return ExitCode::from(2);
    };
    let mut child = match std::process::Command::new(program)
        .args(args)
        .env_remove(STATUS_FD)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            // `run` says it (this process's output is the worker's terminal).
            if let Some(fd) = status_fd {
                let _ = writeln!(std::fs::File::from(fd), "error {e}");
            }
            return ExitCode::from(127);
        }
    };
    // The terminal stays the session's: the keeper needs none of its descriptors.
    if let Ok(null) = std::fs::File::open("/dev/null") {
        for fd in 0..=2 {
            // SAFETY: dup2 onto the standard descriptors of this process.
            unsafe {
                libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), fd);
            }
        }
    }
    let status = loop {
        match child.wait() {
            Ok(status) => break status,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break std::os::unix::process::ExitStatusExt::from_raw(1 << 8),
        }
    };
    let raw = std::os::unix::process::ExitStatusExt::into_raw(status);
    tell(status_fd, raw);
    // Stay while other processes of the session are there: while the keeper leads
    // it, the terminal is not hung up under them.
    let me = std::process::id() as i32;
    while others_in_session(me) {
        std::thread::sleep(Duration::from_millis(100));
    }
    match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => ExitCode::from(code as u8),
        (None, Some(sig)) => ExitCode::from(128 + sig as u8),
        (None, None) => ExitCode::from(1),
    }
}

/// Writes the worker's wait status for `run`.
fn tell(fd: Option<OwnedFd>, raw: i32) {
    if let Some(fd) = fd {
        let _ = writeln!(std::fs::File::from(fd), "{raw}");
    }
}

/// Whether a process other than `me` (and not a zombie) is in session `me`.
fn others_in_session(me: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|entry| {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            return false;
        };
        if pid == me {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // pid (comm) state ppid pgrp session …; comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let session = fields.nth(2).and_then(|s| s.parse::<i32>().ok());
        session == Some(me) && state != Some("Z")
    })
}
