//! Termination signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT) as a channel, so the owner loop can end a
//! run the same way whatever asked it to.

use tokio::sync::mpsc;

/// Receives the name of each termination signal as it arrives.
pub fn listen() -> mpsc::UnboundedReceiver<&'static str> {
    let (tx, rx) = mpsc::unbounded_channel();
    let ctrl_c = tx.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if ctrl_c.send("SIGINT").is_err() {
                break;
            }
        }
    });
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for (kind, name) in [
            (SignalKind::terminate(), "SIGTERM"),
            (SignalKind::hangup(), "SIGHUP"),
            // Its default would end the process with the terminal still taken over.
            (SignalKind::quit(), "SIGQUIT"),
        ] {
            let tx = tx.clone();
            if let Ok(mut stream) = signal(kind) {
                tokio::spawn(async move {
                    while stream.recv().await.is_some() {
                        if tx.send(name).is_err() {
                            break;
                        }
                    }
                });
            }
        }
    }
    rx
}
