//! Interruption (SPEC §4): SIGINT, SIGTERM and SIGHUP end the tool within a second at any
//! moment, with exit 128+signal and what was found so far.
//!
//! The handler itself stores the signal in an atomic, so a signal that arrives together
//! with the end of input (Ctrl-C kills the worker too, and the two race) is never lost:
//! every stage asks [`signal`] between chunks, findings and files. Where no stage can
//! ask (a write blocked on a stalled reader, `… | check | less` paused), a watchdog
//! thread gives the run [`GRACE`] to end by itself, then says what was found so far,
//! removes the report files not yet complete, and exits.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The signals that interrupt a run.
pub const SIGNALS: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// How long a run has, after a signal, to report and exit by itself.
pub const GRACE: Duration = Duration::from_millis(800);

/// The signal received (0: none), set by the signal handler itself.
static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Set when the run has ended by itself: the watchdog stands down.
static FINISHED: AtomicBool = AtomicBool::new(false);

/// Errors and warnings found so far, for the watchdog's last word.
static ERRORS: AtomicU64 = AtomicU64::new(0);
static WARNINGS: AtomicU64 = AtomicU64::new(0);

/// Report files being written (their temporary paths): removed if the watchdog ends
/// the run, so no half-written report is ever left.
static PARTIAL_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the handlers and the watchdog (once; later calls do nothing).
pub fn install() -> std::io::Result<()> {
    if RECEIVED.get().is_some() {
        return Ok(());
    }
    let flag = Arc::new(AtomicUsize::new(0));
    for sig in SIGNALS {
        signal_hook::flag::register_usize(sig, Arc::clone(&flag), sig as usize)?;
    }
    let _ = RECEIVED.set(flag);
    let mut signals = signal_hook::iterator::Signals::new(SIGNALS)?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            watchdog(sig);
        }
    });
    Ok(())
}

/// The signal that interrupted the run, if one came.
pub fn signal() -> Option<i32> {
    let sig = RECEIVED.get()?.load(Ordering::SeqCst);
    (sig != 0).then_some(sig as i32)
}

/// The run has written its report: the watchdog must not exit under it.
pub fn finished() {
    FINISHED.store(true, Ordering::SeqCst);
}

/// Counts a finding for the watchdog's last word.
pub fn found(error: bool) {
    let counter = if error { &ERRORS } else { &WARNINGS };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A report file being written at `temp`: removed if the run is cut short.
pub fn writing(temp: PathBuf) {
    if let Ok(mut files) = PARTIAL_FILES.lock() {
        files.push(temp);
    }
}

/// The report file at `temp` is complete (renamed into place) or abandoned.
pub fn written(temp: &std::path::Path) {
    if let Ok(mut files) = PARTIAL_FILES.lock() {
        files.retain(|f| f != temp);
    }
}

/// The name of a signal, as a report says it.
pub fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// After a signal: if the run has not ended within [`GRACE`] (it is blocked), end it.
fn watchdog(sig: i32) {
    let step = Duration::from_millis(20);
    let mut waited = Duration::ZERO;
    while waited < GRACE {
        if FINISHED.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(step);
        waited += step;
    }
    if FINISHED.load(Ordering::SeqCst) {
        return;
    }
    if let Ok(files) = PARTIAL_FILES.lock() {
        for f in files.iter() {
            let _ = std::fs::remove_file(f);
        }
    }
    let count = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let text = format!(
        "quant-session: interrupted by {}, and the report could not be finished (its reader is not reading); {} and {} found so far\n",
        name(sig),
        count(ERRORS.load(Ordering::Relaxed), "error"),
        count(WARNINGS.load(Ordering::Relaxed), "warning"),
    );
    // stderr itself may be the stalled reader: say it from a thread of its own, and
    // exit whether or not it could be said.
    // It goes to a duplicate of fd 2: the run may hold the lock of `Stderr`.
    let say = std::thread::spawn(move || {
        use std::io::Write;
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            let _ = std::fs::File::from(fd).write_all(text.as_bytes());
        }
    });
    for _ in 0..10 {
        if say.is_finished() {
            break;
        }
        std::thread::sleep(step);
    }
    std::process::exit(128 + sig);
}
