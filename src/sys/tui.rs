//! The terminal, the dashboard's screen: raw mode and the alternate screen on the way in,
//! everything put back on the way out: on quit, on error, on a panic (hook) and when the guard
//! is dropped.

use std::io::{self, Stdout, Write};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};

/// Somewhere frames can be drawn: the real terminal, or a test backend.
pub trait Screen {
    fn show(&mut self, draw: &mut dyn FnMut(&mut ratatui::Frame)) -> io::Result<()>;
}

pub type RealTerminal = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back when dropped.
pub struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore();
    }
}

/// Restores the terminal; safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
}

/// Takes over the terminal. The returned guard gives it back.
///
/// A panic on this thread (the dashboard's) restores the terminal before it is reported. One
/// in a spawned task is caught by tokio and the dashboard goes on, so it only goes to the log:
/// restoring or printing would wreck the screen still in use.
pub fn enter() -> io::Result<(RealTerminal, Restore)> {
    let previous = std::panic::take_hook();
    let owner = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == owner {
            restore();
            previous(info);
        } else {
            tracing::error!(panic = %info, "a task panicked");
        }
    }));
    enable_raw_mode()?;
    let guard = Restore;
    execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
    let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((terminal, guard))
}

impl Screen for RealTerminal {
    /// Each frame inside a synchronized update, so terminals never show half a frame.
    fn show(&mut self, draw: &mut dyn FnMut(&mut ratatui::Frame)) -> io::Result<()> {
        execute!(self.backend_mut(), BeginSynchronizedUpdate)?;
        let drawn = self.draw(|frame| draw(frame)).map(|_| ());
        execute!(self.backend_mut(), EndSynchronizedUpdate)?;
        self.backend_mut().flush()?;
        drawn
    }
}
