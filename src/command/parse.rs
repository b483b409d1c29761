//! `quant-session parse [FILE]`: the event stream as JSON Lines, for debugging a worker's
//! output and for tools that want typed events.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use super::{EXIT_CLEAN, Fatal, scan_options};
use crate::cli::ParseArgs;
use crate::report::events::write_event;
use crate::scan::Scanner;
use crate::source::{CHUNK, Input, display_name};

pub fn run(args: &ParseArgs) -> Result<ExitCode, Fatal> {
    let name = display_name(args.file.as_deref());
    let mut input = Input::open(args.file.as_deref()).map_err(|e| Fatal(format!("{name}: {e}")))?;
    let mut scanner = Scanner::new(scan_options(&args.frame)?);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut buf = vec![0u8; CHUNK];
    let mut failed: Option<io::Error> = None;
    let mut sink = |event| {
        if failed.is_none()
            && let Err(e) = write_event(&mut out, &event)
        {
            failed = Some(e);
        }
    };
    loop {
        let n = input
            .read_chunk(&mut buf)
            .map_err(|e| Fatal(format!("{name}: {e}")))?;
        if n == 0 {
            break;
        }
        scanner.feed(&buf[..n], &mut sink);
    }
    scanner.finish(&mut sink);
    let result = match failed {
        Some(e) => Err(e),
        None => out.flush(),
    };
    match result {
        Ok(()) => Ok(ExitCode::from(EXIT_CLEAN)),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::from(EXIT_CLEAN)),
        Err(e) => Err(Fatal(format!("writing the events: {e}"))),
    }
}
