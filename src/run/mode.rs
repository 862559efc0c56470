//! The one extension point of the dashboard: a mode (the demo, say) lends it keys and status
//! lines, and gets its key presses back. The dashboard knows no mode by name.

use tokio::sync::{mpsc, watch};

use crate::ui::{ModeAction, ModeKeys, ModeStatus};

/// A mode as the dashboard's loop meets it.
#[derive(Debug)]
pub struct ModeLink {
    /// Looked up before the dashboard's own keys, shown in the footer and the help.
    pub keys: &'static ModeKeys,
    /// Each press of one of the mode's keys: its action, as the mode coded it.
    pub presses: mpsc::UnboundedSender<ModeAction>,
    /// The mode's status lines, as they change.
    pub status: watch::Receiver<ModeStatus>,
}
