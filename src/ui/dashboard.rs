//! The dashboard's own state: what the user toggled, and what a mode shows. Pure: time is
//! passed in.

use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use super::keys::{Binding, ModeKeys, OPENED, OVERVIEW};
use super::theme::ThemeName;
use crate::output::RunInfo;
use crate::probe::TargetId;
use crate::state::{ServingKind, Watch};

/// Intervals `+` and `-` step through.
pub const INTERVAL_STEPS: [Duration; 11] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(3),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(300),
];

/// How long a status message stays in the header.
const STATUS_FOR: Duration = Duration::from_secs(4);

/// The next interval up or down the steps from `current`.
pub fn step_interval(current: Duration, longer: bool) -> Duration {
    if longer {
        INTERVAL_STEPS
            .iter()
            .copied()
            .find(|s| *s > current)
            .unwrap_or(current)
    } else {
        INTERVAL_STEPS
            .iter()
            .rev()
            .copied()
            .find(|s| *s < current)
            .unwrap_or(current)
    }
}

/// A frozen copy of the state while the display is paused.
#[derive(Clone, Debug)]
pub struct Paused {
    pub at: Duration,
    pub watch: Box<Watch>,
}

/// How long a target's row stands out after its last transition.
pub const CHANGED_FOR: Duration = Duration::from_secs(60);

/// The overview of a run of several targets: which row is selected, which target's full
/// dashboard is open, the filter on names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    /// Follows its target when the rows reorder; none chosen yet: the first row.
    pub selected: Option<TargetId>,
    /// The target whose full dashboard shows instead of the overview.
    pub open: Option<TargetId>,
    /// Only the targets whose name holds it (any case) are listed.
    pub filter: String,
    /// `/` was pressed: keys type into the filter.
    pub filtering: bool,
}

/// The longest filter typed.
const FILTER_CHARS: usize = 40;

impl Overview {
    /// The targets listed, in order: those not on their primary first (down, then on a
    /// fallback, then not answered yet), then the others, each group in the run's order.
    pub fn rows(&self, watch: &Watch, names: &[&str]) -> Vec<TargetId> {
        let filter = self.filter.to_lowercase();
        let mut rows: Vec<(u8, TargetId)> = watch
            .targets()
            .filter(|(id, _)| {
                let name = names.get(id.index()).copied().unwrap_or("");
                filter.is_empty() || name.to_lowercase().contains(&filter)
            })
            .map(|(id, monitor)| {
                let rank = match monitor.serving().kind() {
                    Some(ServingKind::Down) => 0,
                    Some(ServingKind::Fallback) => 1,
                    None => 2,
                    Some(ServingKind::Primary) => 3,
                };
                (rank, id)
            })
            .collect();
        rows.sort();
        rows.into_iter().map(|(_, id)| id).collect()
    }

    /// The row of the selected target among `rows`: the first when none is chosen or the one
    /// chosen is not listed (filtered out).
    pub fn selected_row(&self, rows: &[TargetId]) -> usize {
        self.selected
            .and_then(|selected| rows.iter().position(|id| *id == selected))
            .unwrap_or(0)
    }

    /// Moves the selection one row up or `down` among `rows`.
    pub fn step(&mut self, rows: &[TargetId], down: bool) {
        if rows.is_empty() {
            return;
        }
        let at = self.selected_row(rows);
        let next = match down {
            true => (at + 1).min(rows.len() - 1),
            false => at.saturating_sub(1),
        };
        self.selected = Some(rows[next]);
    }

    /// A key typed into the filter: Enter keeps it, Esc clears it.
    pub fn type_key(&mut self, key: KeyEvent) {
        if key.kind != KeyEventKind::Press {
            return;
        }
        match key.code {
            KeyCode::Enter => self.filtering = false,
            KeyCode::Esc => {
                self.filtering = false;
                self.filter.clear();
            }
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char(c) if !c.is_control() && self.filter.chars().count() < FILTER_CHARS => {
                self.filter.push(c);
            }
            _ => {}
        }
    }
}

/// What a mode (the demo, say) adds to the dashboard: its keys, and its status as it changes.
#[derive(Clone, Debug)]
pub struct ModeView {
    pub keys: &'static ModeKeys,
    pub status: ModeStatus,
}

/// A mode's status lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModeStatus {
    /// In the header, in place of LIVE (a replay's position).
    pub header: String,
    /// Under the state in the banner: the whole story of the mode.
    pub banner: String,
    /// First in the footer, so that a narrow screen still shows it.
    pub footer: String,
    /// The mode stands still (a replay paused): its keys say what they do then.
    pub paused: bool,
}

/// The longest label a marker takes from the keyboard.
const LABEL_CHARS: usize = 60;

/// A marker's label being typed after `m`; the marker is for the moment `m` was pressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelPrompt {
    pub at: Duration,
    /// The last request sent when `m` was pressed.
    pub after_seq: u64,
    pub text: String,
}

/// Where typing a label is after a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Typed {
    Editing,
    /// Enter: the label typed (none if empty); Esc: no label.
    Done(Option<String>),
}

impl LabelPrompt {
    pub fn new(at: Duration, after_seq: u64) -> Self {
        Self {
            at,
            after_seq,
            text: String::new(),
        }
    }

    pub fn type_key(&mut self, key: KeyEvent) -> Typed {
        if key.kind != KeyEventKind::Press {
            return Typed::Editing;
        }
        match key.code {
            KeyCode::Enter => {
                let label = self.text.trim();
                Typed::Done((!label.is_empty()).then(|| label.to_owned()))
            }
            KeyCode::Esc => Typed::Done(None),
            KeyCode::Backspace => {
                self.text.pop();
                Typed::Editing
            }
            KeyCode::Char(c) if !c.is_control() && self.text.chars().count() < LABEL_CHARS => {
                self.text.push(c);
                Typed::Editing
            }
            _ => Typed::Editing,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    pub info: RunInfo,
    /// The probe interval now (it can change live).
    pub interval: Duration,
    pub theme: ThemeName,
    pub help: bool,
    pub paused: Option<Paused>,
    /// A short message and when it was set.
    status: Option<(String, Duration)>,
    pub mode: Option<ModeView>,
    /// A marker's label being typed.
    pub label: Option<LabelPrompt>,
    /// With several targets: the overview (or a target's dashboard opened from it).
    pub overview: Option<Overview>,
}

impl Dashboard {
    pub fn new(info: RunInfo, theme: ThemeName) -> Self {
        Self {
            interval: info.first().interval,
            theme,
            help: false,
            paused: None,
            status: None,
            mode: None,
            label: None,
            overview: info.many().then(Overview::default),
            info,
        }
    }

    /// The target whose dashboard shows (the first of a run of one).
    pub fn shown(&self) -> TargetId {
        self.overview
            .as_ref()
            .and_then(|o| o.open)
            .unwrap_or_default()
    }

    /// Whether the overview of every target shows, rather than one target's dashboard.
    pub fn showing_overview(&self) -> bool {
        self.overview.as_ref().is_some_and(|o| o.open.is_none())
    }

    /// The keys of what the screen shows, before the mode's and the dashboard's.
    pub fn screen_keys(&self) -> &'static [Binding] {
        match &self.overview {
            None => &[],
            Some(o) if o.open.is_some() => &OPENED,
            Some(_) => &OVERVIEW,
        }
    }

    /// The overview's rows as it shows them (`live`, or as paused).
    fn rows(&self, live: &Watch) -> Vec<TargetId> {
        let shown = self.paused.as_ref().map_or(live, |p| p.watch.as_ref());
        self.overview
            .as_ref()
            .map_or_else(Vec::new, |o| o.rows(shown, &self.info.names()))
    }

    /// The selection a row up or `down` the overview.
    pub fn step_selection(&mut self, live: &Watch, down: bool) {
        let rows = self.rows(live);
        if let Some(overview) = self.overview.as_mut() {
            overview.step(&rows, down);
        }
    }

    /// A key typed into the overview's filter.
    pub fn type_filter(&mut self, key: KeyEvent) {
        if let Some(overview) = self.overview.as_mut() {
            overview.type_key(key);
        }
    }

    /// Opens the selected target's full dashboard (Enter), if a row is listed.
    pub fn open_selected(&mut self, live: &Watch) {
        let rows = self.rows(live);
        if let Some(overview) = self.overview.as_mut()
            && let Some(target) = rows.get(overview.selected_row(&rows))
        {
            overview.selected = Some(*target);
            overview.open = Some(*target);
        }
    }

    pub fn say(&mut self, message: impl Into<String>, now: Duration) {
        self.status = Some((message.into(), now));
    }

    /// The status message, while it is fresh.
    pub fn status(&self, now: Duration) -> Option<&str> {
        self.status
            .as_ref()
            .filter(|(_, at)| now.saturating_sub(*at) < STATUS_FOR)
            .map(|(m, _)| m.as_str())
    }

    pub fn toggle_pause(&mut self, watch: &Watch, now: Duration) {
        self.paused = match self.paused.take() {
            Some(_) => None,
            None => Some(Paused {
                at: now,
                watch: Box::new(watch.clone()),
            }),
        };
    }
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::KeyModifiers;

    use super::*;

    #[test]
    fn a_label_is_typed_kept_short_and_given_or_not() {
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let mut prompt = LabelPrompt::new(Duration::from_secs(3), 2);
        for c in "scaled to 00".chars() {
            assert_eq!(prompt.type_key(key(KeyCode::Char(c))), Typed::Editing);
        }
        prompt.type_key(key(KeyCode::Backspace));
        assert_eq!(
            prompt.clone().type_key(key(KeyCode::Enter)),
            Typed::Done(Some("scaled to 0".to_owned()))
        );
        assert_eq!(
            prompt.clone().type_key(key(KeyCode::Esc)),
            Typed::Done(None)
        );
        for _ in 0..100 {
            prompt.type_key(key(KeyCode::Char('x')));
        }
        assert_eq!(prompt.text.chars().count(), LABEL_CHARS);
        let mut blank = LabelPrompt::new(Duration::ZERO, 0);
        blank.type_key(key(KeyCode::Char(' ')));
        assert_eq!(blank.type_key(key(KeyCode::Enter)), Typed::Done(None));
    }

    #[test]
    fn interval_steps() {
        let s = Duration::from_secs;
        assert_eq!(step_interval(s(3), true), s(5));
        assert_eq!(step_interval(s(3), false), s(2));
        assert_eq!(step_interval(Duration::from_millis(2500), false), s(2));
        assert_eq!(
            step_interval(Duration::from_millis(250), false),
            Duration::from_millis(250)
        );
        assert_eq!(step_interval(s(300), true), s(300));
    }
}
