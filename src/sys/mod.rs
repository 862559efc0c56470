//! The process's own edges: its logs, its exit status, the signals it takes, the terminal it
//! draws on, and the API key it holds.

pub mod exit;
pub mod logging;
pub mod secret;
pub mod signals;
pub mod tui;

use std::sync::atomic::{AtomicBool, Ordering};

/// Stdout was closed when the process started.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Looks at stdout before anything else: a closed one (`>&-`) is remembered. Rust's runtime
/// puts /dev/null, opened for reading and writing, in the place of a closed standard
/// descriptor before `main`, so that every line written to it would vanish without a word; a
/// shell's `>/dev/null` opens it for writing only.
pub fn check_stdout() {
    use std::os::unix::fs::MetadataExt;
    let null = std::fs::metadata("/dev/null").map(|m| m.rdev()).ok();
    // SAFETY: fstat and fcntl(F_GETFL) only read what descriptor 1 is.
    let (rdev, mode) = unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        if libc::fstat(libc::STDOUT_FILENO, &mut stat) != 0 {
            STDOUT_CLOSED.store(true, Ordering::SeqCst);
            return;
        }
        let flags = libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFL);
        (stat.st_rdev, flags & libc::O_ACCMODE)
    };
    if null == Some(rdev) && mode == libc::O_RDWR {
        STDOUT_CLOSED.store(true, Ordering::SeqCst);
    }
}

/// Whether stdout was closed when the process started.
pub fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::SeqCst)
}
