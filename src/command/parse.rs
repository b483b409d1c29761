//! `quant-session parse [FILE]`: the event stream as JSON Lines, for debugging a worker's
//! output and for tools that want typed events.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use super::{EXIT_CLEAN, Fatal, WriteTo, scan_options};
use crate::cli::ParseArgs;
use crate::error::{InputError, InputErrorKind};
use crate::pipeline::{Options, Pipeline};
use crate::report::events::write_event;
use crate::sink::{Flow, Item, Sink};
use crate::source::{CHUNK, Input, display_name};

/// Writes each event as a JSON line; the first write error stops the reading.
struct Events<W: Write> {
    out: W,
    failed: Option<io::Error>,
}

impl<W: Write> Sink for Events<W> {
    type Error = InputError;

    fn push(&mut self, _input: &str, item: Item<'_>) -> Result<Flow, InputError> {
        match item {
            Item::Event(event) => {
                if let Err(e) = write_event(&mut self.out, event) {
                    self.failed = Some(e);
                    return Ok(Flow::Stop);
                }
            }
            // A pipeline without rules makes no findings nor sessions; `parse` shows
            // the events alone.
            Item::Followed
            | Item::Finding(_)
            | Item::SessionEnd(_)
            | Item::SessionDrawn(..)
            | Item::Settled(_)
            | Item::Note(_)
            | Item::InputEnd(_)
            | Item::Unreadable(_)
            | Item::RunEnd { .. } => {}
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

pub fn run(args: &ParseArgs) -> Result<ExitCode, Fatal> {
    let path = args.file.as_deref();
    let name = display_name(path);
    let mut input =
        Input::open(path).map_err(|e| InputError::new(&name, InputErrorKind::Open(e)))?;
    // Events only, in one piece: no rules, no blocks.
    let mut pipeline = Pipeline::new(
        &name,
        Options {
            scan: scan_options(&args.frame)?,
            ..Options::default()
        },
    );
    let mut events = Events {
        out: BufWriter::new(io::stdout().lock()),
        failed: None,
    };
    let mut buf = vec![0u8; CHUNK];
    pipeline.read(&mut input, &mut buf, &mut events)?;
    let result = match events.failed {
        Some(e) => Err(e),
        None => events.out.flush(),
    };
    if let Some(damage) = pipeline.damage() {
        // The events up to the break are out; the input was not read to its end.
        return Err(InputError::damaged(&name, damage).into());
    }
    match result {
        Ok(()) => Ok(ExitCode::from(EXIT_CLEAN)),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::from(EXIT_CLEAN)),
        Err(e) => Err(Fatal::write(WriteTo::Events, e)),
    }
}
