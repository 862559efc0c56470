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
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let stdout = std::io::stdout();
    let null = std::fs::metadata("/dev/null").map(|m| m.rdev()).ok();
    let closed = match rustix::fs::fstat(stdout.as_fd()) {
        Err(_) => true,
        Ok(stat) => {
            let mode =
                rustix::fs::fcntl_getfl(stdout.as_fd()).map(|f| f & rustix::fs::OFlags::RWMODE);
            null == Some(stat.st_rdev) && mode == Ok(rustix::fs::OFlags::RDWR)
        }
    };
    STDOUT_CLOSED.store(closed, Ordering::SeqCst);
}

/// Whether stdout was closed when the process started.
pub fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::SeqCst)
}
