//! Writing without ever blocking the owner of the state: an output writes into a [`Pipe`],
//! whose thread does the blocking writes (stdout into a pipe nobody reads, a terminal stopped
//! with Ctrl-S, a slow disk). What the thread cannot take in time is dropped and counted
//! (stdout), or ends the writing (the record, which must not have holes).
//!
//! ```text
//!  owner loop ── write!(pipe) … flush() ──▶ bounded queue ──▶ writer thread ──▶ stdout / file
//!                (one chunk per flush)        full: drop+count or fail
//! ```

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happens to a chunk the thread cannot take in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Dropped and counted: a reader that does not keep up loses lines, the run goes on.
    Drop,
    /// The writing fails: a record with a hole would replay a different run.
    Fail,
}

/// How a pipe ended.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Closed {
    /// Chunks dropped because the reader did not keep up.
    pub dropped: u64,
    /// The thread had not written everything when the wait ended.
    pub unfinished: bool,
}

/// What the writer thread tells the owner: the first error it met, and how much was dropped.
#[derive(Debug, Default)]
struct Shared {
    error: Mutex<Option<(io::ErrorKind, String)>>,
    dropped: AtomicU64,
}

pub struct Pipe {
    /// What was written since the last flush: one chunk.
    pending: Vec<u8>,
    queue: Option<SyncSender<Vec<u8>>>,
    shared: Arc<Shared>,
    /// Closed by the thread when it ends.
    finished: Receiver<()>,
    overflow: Overflow,
}

impl Pipe {
    /// Writes to `out` on a thread named `name`, at most `capacity` chunks waiting.
    pub fn spawn(
        name: &str,
        mut out: impl Write + Send + 'static,
        capacity: usize,
        overflow: Overflow,
    ) -> io::Result<Self> {
        let (queue, chunks) = mpsc::sync_channel::<Vec<u8>>(capacity);
        let (finished_tx, finished) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let told = shared.clone();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                for chunk in chunks {
                    if let Err(error) = out.write_all(&chunk).and_then(|()| out.flush()) {
                        let mut slot = told.error.lock().unwrap_or_else(|e| e.into_inner());
                        *slot = Some((error.kind(), error.to_string()));
                        break;
                    }
                }
                drop(finished_tx);
            })?;
        Ok(Self {
            pending: Vec::new(),
            queue: Some(queue),
            shared,
            finished,
            overflow,
        })
    }

    /// The error the thread met, if it met one.
    fn failed(&self) -> io::Result<()> {
        let slot = self.shared.error.lock().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
            None => Ok(()),
        }
    }

    /// Chunks dropped so far.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Closes the queue and waits at most `wait` for the thread to write what is queued.
    pub fn close(&mut self, wait: Duration) -> Closed {
        let _ = self.flush();
        self.queue = None;
        let unfinished = matches!(
            self.finished.recv_timeout(wait),
            Err(RecvTimeoutError::Timeout)
        );
        Closed {
            dropped: self.dropped(),
            unfinished,
        }
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.failed()?;
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// Hands what was written since the last flush to the thread, as one chunk.
    fn flush(&mut self) -> io::Result<()> {
        self.failed()?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.pending);
        let Some(queue) = &self.queue else {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the output is closed",
            ));
        };
        match queue.try_send(chunk) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => match self.overflow {
                Overflow::Drop => {
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Overflow::Fail => Err(io::Error::other(
                    "the writing fell behind the run (is the disk stalled?)",
                )),
            },
            // The thread ended: it met an error, told above unless it came just now.
            Err(TrySendError::Disconnected(_)) => {
                self.failed()?;
                Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the output is closed",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that blocks until it is let go, like a pipe nobody reads.
    struct Stalled(std::sync::mpsc::Receiver<()>, Arc<Mutex<Vec<u8>>>);

    impl Write for Stalled {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _ = self.0.recv();
            self.1.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_reader_never_blocks_the_writer_and_what_overflows_is_counted() {
        let (release, held) = std::sync::mpsc::channel();
        let written = Arc::new(Mutex::new(Vec::new()));
        let stalled = Stalled(held, written.clone());
        let mut pipe = Pipe::spawn("test-pipe", stalled, 4, Overflow::Drop).unwrap();
        // The thread holds one chunk, the queue four more: the rest are dropped at once.
        for i in 0..100 {
            writeln!(pipe, "line {i}").unwrap();
            pipe.flush().unwrap();
        }
        let dropped = pipe.dropped();
        assert!((94..=96).contains(&dropped), "{dropped} dropped");
        for _ in 0..100 {
            let _ = release.send(());
        }
        let closed = pipe.close(Duration::from_secs(5));
        assert_eq!(closed.dropped, dropped);
        assert!(!closed.unfinished);
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        assert!(text.starts_with("line 0\n"), "{text}");
        assert_eq!(text.lines().count() as u64, 100 - dropped);
    }

    #[test]
    fn a_writer_that_falls_behind_fails_when_it_must_not_drop() {
        let (_release, held) = std::sync::mpsc::channel();
        let stalled = Stalled(held, Arc::default());
        let mut pipe = Pipe::spawn("test-pipe", stalled, 1, Overflow::Fail).unwrap();
        let results: Vec<_> = (0..5)
            .map(|_| {
                pipe.write_all(b"x\n").unwrap();
                pipe.flush()
            })
            .collect();
        assert!(results.iter().any(Result::is_err), "{results:?}");
        // Closing does not wait past its bound for a thread that cannot write.
        assert!(pipe.close(Duration::from_millis(50)).unfinished);
    }

    #[test]
    fn a_closed_reader_ends_the_writing_with_its_error() {
        struct Gone;
        impl Write for Gone {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut pipe = Pipe::spawn("test-pipe", Gone, 4, Overflow::Drop).unwrap();
        pipe.write_all(b"first\n").unwrap();
        pipe.flush().unwrap();
        // The thread met the error; it is told at the next write or flush.
        let closed = pipe.close(Duration::from_secs(5));
        assert!(!closed.unfinished);
        let error = pipe.write_all(b"more").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }
}
