//! `quant-session parse [FILE]`: the event stream as JSON Lines, for debugging a worker's
//! output and for tools that want typed events.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use super::{EXIT_CLEAN, Fatal, WriteTo, scan_options};
use crate::cli::ParseArgs;
use crate::event::Event;
use crate::finding::Finding;
use crate::pipeline::{InputError, InputErrorKind, Options, Output, Pipeline};
use crate::report::events::write_event;
use crate::session::Sink;
use crate::source::{CHUNK, Input, display_name};

/// Writes each event as a JSON line; the first write error stops the writing.
struct Events<W: Write> {
    out: W,
    failed: Option<io::Error>,
}

impl<W: Write> Sink for Events<W> {
    fn finding(&mut self, _: Finding) {}
}

impl<W: Write> Output for Events<W> {
    fn event(&mut self, event: &Event) {
        if self.failed.is_none()
            && let Err(e) = write_event(&mut self.out, event)
        {
            self.failed = Some(e);
        }
    }
}

pub fn run(args: &ParseArgs) -> Result<ExitCode, Fatal> {
    let path = args.file.as_deref();
    let name = display_name(path);
    let mut input =
        Input::open(path).map_err(|e| InputError::new(&name, InputErrorKind::Open(e)))?;
    // Events only, in one piece: no rules, no blocks.
    let mut pipeline = Pipeline::new(Options {
        scan: scan_options(&args.frame)?,
        ..Options::default()
    });
    let mut events = Events {
        out: BufWriter::new(io::stdout().lock()),
        failed: None,
    };
    let mut buf = vec![0u8; CHUNK];
    pipeline.read(&mut input, &name, &mut buf, &mut events)?;
    let result = match events.failed {
        Some(e) => Err(e),
        None => events.out.flush(),
    };
    match result {
        Ok(()) => Ok(ExitCode::from(EXIT_CLEAN)),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::from(EXIT_CLEAN)),
        Err(e) => Err(Fatal::write(WriteTo::Events, e)),
    }
}
