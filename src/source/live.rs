//! Stdin read live, on a thread of its own, for the pipe filter: chunks, the end of
//! input and signals arrive as messages, so a blocked read never keeps the filter from
//! reacting to Ctrl-C.

use std::io;

use super::{CHUNK, Input};

/// What the live stdin reader hands over.
pub enum Next {
    /// A chunk: the buffer and how many bytes of it were read. Give the buffer back
    /// with [`LiveStdin::recycle`].
    Data(Vec<u8>, usize),
    /// End of input.
    End,
    /// SIGINT, SIGTERM or SIGHUP arrived (the signal number).
    Interrupted(i32),
}

enum Msg {
    Data(Vec<u8>, usize),
    End,
    Failed(io::Error),
    Signal(i32),
}

/// Stdin read on its own thread, so that the pipe filter can react to a signal
/// while a read is blocked: the signal is a message like the chunks, and the filter
/// reports what it has seen before exiting. Buffers circulate between the two threads,
/// so nothing is allocated per chunk once the pool is warm.
pub struct LiveStdin {
    rx: std::sync::mpsc::Receiver<Msg>,
    back: std::sync::mpsc::Sender<Vec<u8>>,
}

impl LiveStdin {
    /// Starts the reader and the signal listener.
    pub fn start() -> io::Result<LiveStdin> {
        use std::sync::mpsc;
        // A few chunks in flight: enough to overlap reading and writing, bounded memory.
        let (tx, rx) = mpsc::sync_channel::<Msg>(4);
        let (back, pool) = mpsc::channel::<Vec<u8>>();
        let mut signals = signal_hook::iterator::Signals::new(crate::interrupt::SIGNALS)?;
        let signal_tx = tx.clone();
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let _ = signal_tx.send(Msg::Signal(sig));
            }
        });
        std::thread::spawn(move || {
            let mut input = Input::Stdin(io::stdin());
            loop {
                let mut buf = pool.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
                let msg = match input.read_chunk(&mut buf) {
                    Ok(0) => Msg::End,
                    Ok(n) => Msg::Data(buf, n),
                    Err(e) => Msg::Failed(e),
                };
                let last = !matches!(msg, Msg::Data(..));
                if tx.send(msg).is_err() || last {
                    break;
                }
            }
        });
        Ok(LiveStdin { rx, back })
    }

    /// The next chunk, end of input, or a signal.
    pub fn next(&self) -> io::Result<Next> {
        match self.rx.recv() {
            Ok(Msg::Data(buf, n)) => Ok(Next::Data(buf, n)),
            Ok(Msg::End) | Err(_) => Ok(Next::End),
            Ok(Msg::Failed(e)) => Err(e),
            Ok(Msg::Signal(sig)) => Ok(Next::Interrupted(sig)),
        }
    }

    /// A chunk already read when a signal came, if any (never blocks).
    pub fn already_read(&self) -> Option<(Vec<u8>, usize)> {
        loop {
            match self.rx.try_recv() {
                Ok(Msg::Data(buf, n)) => return Some((buf, n)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Returns a buffer to the reader.
    pub fn recycle(&self, buf: Vec<u8>) {
        let _ = self.back.send(buf);
    }
}
