//! Termination signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT) as a channel, so the owner loop can end a
//! run the same way whatever asked it to.

use tokio::sync::mpsc;

/// Receives the name of each termination signal as it arrives. Each is taken over before this
/// returns, not when a task first runs: a drill's command started just after cannot be left
/// behind by a Ctrl-C that ended the process in between.
pub fn listen() -> mpsc::UnboundedReceiver<&'static str> {
    let (tx, rx) = mpsc::unbounded_channel();
    #[cfg(not(unix))]
    {
        let ctrl_c = tx.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if ctrl_c.send("SIGINT").is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for (kind, name) in [
            (SignalKind::interrupt(), "SIGINT"),
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
