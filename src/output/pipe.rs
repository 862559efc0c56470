//! Writing without ever blocking the owner of the state: an output writes into a [`Pipe`],
//! whose thread does the blocking writes (stdout into a pipe nobody reads, a terminal stopped
//! with Ctrl-S, a slow disk). What the thread cannot take in time is dropped and counted
//! (stdout), or ends the writing (the record, which must not have holes).
//!
//! The thread takes what came within [`GATHER`] of the first chunk it was woken for, and
//! writes it at once: a hundred targets' lines a second cost a few wake-ups and writes a
//! second, not one of each per line.
//!
//! ```text
//!  owner loop ── write!(pipe) … flush() ──▶ bounded queue ──▶ writer thread ──▶ stdout / file
//!                (one chunk per flush)        full: drop+count    (what came within
//!                                             or fail              GATHER, one write)
//! ```

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long the writer gathers chunks after the first before it writes them: lines reach
/// their reader at most this late.
pub const GATHER: Duration = Duration::from_millis(50);

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

/// The chunks between the owner and the writer thread.
#[derive(Debug, Default)]
struct Queue {
    /// The chunks not taken yet, one after the other.
    bytes: Vec<u8>,
    chunks: usize,
    /// The owner wants no more writing after what is queued.
    closed: bool,
    /// The thread waits for a first chunk: the next one wakes it.
    idle: bool,
    /// The thread ended: all was written, or it met this error.
    ended: bool,
    error: Option<(io::ErrorKind, String)>,
    dropped: u64,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signals a first chunk, or the close, to the thread; the thread's end to the owner.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct Pipe {
    /// What was written since the last flush: one chunk.
    pending: Vec<u8>,
    shared: Arc<Shared>,
    capacity: usize,
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
        let shared = Arc::new(Shared::default());
        let thread = shared.clone();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let mut taken = Vec::new();
                loop {
                    let mut queue = thread.lock();
                    while queue.chunks == 0 && !queue.closed {
                        queue.idle = true;
                        queue = thread
                            .changed
                            .wait(queue)
                            .unwrap_or_else(|e| e.into_inner());
                    }
                    queue.idle = false;
                    if queue.chunks == 0 {
                        break;
                    }
                    if !queue.closed {
                        queue = thread
                            .changed
                            .wait_timeout_while(queue, GATHER, |queue| !queue.closed)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                    std::mem::swap(&mut queue.bytes, &mut taken);
                    queue.chunks = 0;
                    drop(queue);
                    if let Err(error) = out.write_all(&taken).and_then(|()| out.flush()) {
                        thread.lock().error = Some((error.kind(), error.to_string()));
                        break;
                    }
                    taken.clear();
                }
                thread.lock().ended = true;
                thread.changed.notify_all();
            })?;
        Ok(Self {
            pending: Vec::new(),
            shared,
            capacity,
            overflow,
        })
    }

    /// Closes the queue and waits at most `wait` for the thread to write what is queued.
    pub fn close(&mut self, wait: Duration) -> Closed {
        let _ = self.flush();
        let mut queue = self.shared.lock();
        queue.closed = true;
        self.shared.changed.notify_all();
        let (queue, _) = self
            .shared
            .changed
            .wait_timeout_while(queue, wait, |queue| !queue.ended)
            .unwrap_or_else(|e| e.into_inner());
        Closed {
            dropped: queue.dropped,
            unfinished: !queue.ended,
        }
    }
}

/// The error the thread met, if it met one.
fn failed(queue: &Queue) -> io::Result<()> {
    match &queue.error {
        Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
        None => Ok(()),
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        failed(&self.shared.lock())?;
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// Hands what was written since the last flush to the thread, as one chunk.
    fn flush(&mut self) -> io::Result<()> {
        let mut queue = self.shared.lock();
        failed(&queue)?;
        if self.pending.is_empty() {
            return Ok(());
        }
        if queue.closed || queue.ended {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the output is closed",
            ));
        }
        if queue.chunks >= self.capacity {
            self.pending.clear();
            return match self.overflow {
                Overflow::Drop => {
                    queue.dropped += 1;
                    Ok(())
                }
                Overflow::Fail => Err(io::Error::other(
                    "the writing fell behind the run (is the disk stalled?)",
                )),
            };
        }
        queue.bytes.extend_from_slice(&self.pending);
        queue.chunks += 1;
        self.pending.clear();
        if std::mem::take(&mut queue.idle) {
            self.shared.changed.notify_all();
        }
        Ok(())
    }
}

/// A pipe let go without closing: its thread writes what is queued and ends.
impl Drop for Pipe {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
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
        let dropped = pipe.shared.lock().dropped;
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

    /// A writer that counts its writes.
    #[derive(Clone, Default)]
    struct Counted(Arc<Mutex<(usize, Vec<u8>)>>);

    impl Write for Counted {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut seen = self.0.lock().unwrap();
            seen.0 += 1;
            seen.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn chunks_that_come_together_are_written_together_in_order() {
        let counted = Counted::default();
        let mut pipe = Pipe::spawn("test-pipe", counted.clone(), 1000, Overflow::Fail).unwrap();
        for i in 0..200 {
            writeln!(pipe, "line {i}").unwrap();
            pipe.flush().unwrap();
        }
        let closed = pipe.close(Duration::from_secs(5));
        assert_eq!(closed, Closed::default());
        let (writes, bytes) = counted.0.lock().unwrap().clone();
        let expected: String = (0..200).map(|i| format!("line {i}\n")).collect();
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        // One write per chunk would be 200; the gathering takes them a few at a time at worst.
        assert!(writes < 50, "{writes} writes for 200 chunks");
    }

    #[test]
    fn a_pipe_let_go_without_closing_still_writes_what_it_was_given() {
        let counted = Counted::default();
        let mut pipe = Pipe::spawn("test-pipe", counted.clone(), 10, Overflow::Fail).unwrap();
        pipe.write_all(b"kept\n").unwrap();
        pipe.flush().unwrap();
        let shared = pipe.shared.clone();
        drop(pipe);
        let queue = shared.lock();
        let (queue, _) = shared
            .changed
            .wait_timeout_while(queue, Duration::from_secs(5), |queue| !queue.ended)
            .unwrap();
        assert!(queue.ended);
        assert_eq!(counted.0.lock().unwrap().1, b"kept\n");
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
