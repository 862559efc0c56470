//! The dashboard drawn into a test backend: snapshots of the key states at three sizes (the
//! demo's mode too), direct colour checks (snapshots drop colour), and every size from 1×1 to
//! 250×80.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

use super::wall;
use crate::modes::demo::director::KEYS;
use crate::output::{RunInfo, TargetInfo};
use crate::probe::event::Failure;
use crate::probe::{
    DirectMode, ErrorKind, Evidence, Lane, ProbeEvent, ProbeOutcome, ProbeReport, Role, Route,
    Served, TargetId,
};
use crate::state::{Monitor, MonitorConfig, Watch};
use crate::ui::{self, Dashboard, ModeStatus, ModeView, ThemeName};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn info() -> RunInfo {
    super::run_info(false)
}

/// Builds a monitor from a story told one request a second.
struct Story {
    monitor: Monitor,
    seq: u64,
}

impl Story {
    fn new() -> Self {
        Self {
            monitor: Monitor::new(MonitorConfig::default()),
            seq: 0,
        }
    }

    fn send(&mut self) -> (u64, Duration) {
        self.seq += 1;
        let at = secs((self.seq - 1) as f64);
        self.monitor.apply(&ProbeEvent::Sent {
            target: TargetId::default(),
            lane: Lane::Normal,
            seq: self.seq,
            at,
        });
        (self.seq, at)
    }

    /// Letters: P primary, F fallback, E a LiteLLM 500, T a timeout.
    fn answers(&mut self, letters: &str) -> &mut Self {
        for letter in letters.split_whitespace() {
            let (seq, sent_at) = self.send();
            let served = |role, model: &str, reply: &str, ms| {
                (
                    Ok(Served {
                        role,
                        model: model.into(),
                        evidence: Evidence::ModelGroupHeader,
                        reply: reply.into(),
                    }),
                    Some(200),
                    ms,
                )
            };
            let (result, status, ms) = match letter {
                "P" => served(Role::Primary, "llama-fp8", "Hi.", 23.0 + (seq % 7) as f64),
                "F" => served(Role::Fallback, "ollama/llama3", "Hello!", 48.0 + (seq % 5) as f64),
                "E" => (
                    Err(Failure {
                        kind: ErrorKind::Http,
                        message: "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.. Received Model Group=llama-fp8".into(),
                    }),
                    Some(500),
                    270.0,
                ),
                "T" => (
                    Err(Failure { kind: ErrorKind::Timeout, message: "no answer within 30s".into() }),
                    None,
                    30_000.0,
                ),
                other => panic!("{other}"),
            };
            self.monitor
                .apply(&ProbeEvent::Answered(Box::new(ProbeOutcome {
                    target: TargetId::default(),
                    lane: Lane::Normal,
                    seq,
                    sent_at,
                    report: ProbeReport {
                        latency: secs(ms / 1000.0),
                        status,
                        route: Route::default(),
                        ttft: None,
                        result,
                    },
                })));
        }
        self
    }

    /// The direct probe sent with the last request: U up, X failing, C cooling down (a 10 s
    /// cooldown), R refused.
    fn direct(&mut self, letter: &str) -> &mut Self {
        let (seq, sent_at) = (self.seq, secs((self.seq - 1) as f64));
        self.monitor.apply(&ProbeEvent::Sent {
            target: TargetId::default(),
            lane: Lane::Direct,
            seq,
            at: sent_at,
        });
        let what = match letter {
            "U" => "up",
            "X" => "failing",
            "C" => "cooling",
            "R" => "refused",
            other => panic!("{other}"),
        };
        self.monitor
            .apply(&super::direct_answer(seq, sent_at, what));
        self
    }

    /// Requests and their direct probes, a tick each: `F:X` a fallback answer with the primary
    /// failing on its own.
    fn ticks(&mut self, script: &str) -> &mut Self {
        for tick in script.split_whitespace() {
            let (normal, direct) = tick.split_once(':').expect("REQUEST:DIRECT");
            self.answers(normal).direct(direct);
        }
        self
    }

    fn in_flight(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            self.send();
        }
        self
    }

    /// A tick skipped because too many probes were in flight.
    fn skip(&mut self) -> &mut Self {
        let in_flight = self.monitor.in_flight().len();
        self.monitor.apply(&ProbeEvent::Skipped {
            target: TargetId::default(),
            lane: Lane::Normal,
            at: self.now(),
            in_flight,
        });
        self
    }

    fn mark(&mut self) -> &mut Self {
        let at = secs(self.seq as f64 - 0.5);
        self.monitor.mark(at, None, None);
        self
    }

    /// One second after the last request left.
    fn now(&self) -> Duration {
        secs(self.seq as f64)
    }
}

fn draw(
    width: u16,
    height: u16,
    monitor: &Monitor,
    dashboard: &Dashboard,
    now: Duration,
) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let watch = Watch::of(monitor.clone());
    terminal
        .draw(|frame| ui::draw(frame, &watch, dashboard, wall(), now))
        .unwrap();
    terminal
}

/// What the user did to the dashboard in a state.
#[derive(Clone, Copy)]
enum Toggled {
    Nothing,
    Paused,
    Help,
}

fn states() -> Vec<(&'static str, Story, Toggled)> {
    let mut all_primary = Story::new();
    all_primary.answers(&"P ".repeat(20));
    let mut failed_over = Story::new();
    failed_over.answers(&"P ".repeat(12)).mark().answers("F F");
    let mut on_fallback = Story::new();
    on_fallback
        .answers(&"P ".repeat(10))
        .mark()
        .answers(&format!("E {}", "F ".repeat(14)));
    let mut recovered = Story::new();
    recovered
        .answers(&"P ".repeat(10))
        .mark()
        .answers(&"F ".repeat(10))
        .mark()
        .answers("P P P P P");
    let mut down = Story::new();
    down.answers(&"P ".repeat(8)).answers("E E E E E");
    let mut hung = Story::new();
    hung.answers(&"P ".repeat(6))
        .answers("T")
        .in_flight(4)
        .skip();
    let mut never = Story::new();
    never.answers(&"F ".repeat(8));
    let mut paused = Story::new();
    paused.answers(&"P ".repeat(10)).answers(&"F ".repeat(4));
    let mut help = Story::new();
    help.answers(&"P ".repeat(5));
    vec![
        ("all-primary", all_primary, Toggled::Nothing),
        ("just-failed-over", failed_over, Toggled::Nothing),
        ("on-fallback-with-events", on_fallback, Toggled::Nothing),
        ("recovered", recovered, Toggled::Nothing),
        ("down", down, Toggled::Nothing),
        ("hung-in-flight", hung, Toggled::Nothing),
        ("primary-never-served", never, Toggled::Nothing),
        ("paused", paused, Toggled::Paused),
        ("help-open", help, Toggled::Help),
    ]
}

#[test]
fn snapshots_of_the_key_states_at_three_sizes() {
    for (name, story, toggled) in states() {
        let now = story.now();
        let mut dashboard = Dashboard::new(info(), ThemeName::Dark);
        match toggled {
            Toggled::Nothing => {}
            Toggled::Paused => dashboard.toggle_pause(&Watch::of(story.monitor.clone()), now),
            Toggled::Help => dashboard.help = true,
        }
        for (w, h) in [(120, 40), (80, 24), (50, 14)] {
            let terminal = draw(w, h, &story.monitor, &dashboard, now + secs(0.4));
            insta::assert_snapshot!(format!("{name}-{w}x{h}"), terminal.backend());
        }
    }
}

/// The demo's mode as the dashboard shows it, the primary and the fallback in these
/// conditions, the built-in script under way.
fn demo_mode(primary: &str, fallback: &str) -> ModeView {
    let footer = format!("primary {primary} · fallback {fallback}");
    ModeView {
        keys: &KEYS,
        status: ModeStatus {
            header: String::new(),
            banner: format!("simulated {footer} · next primary-up@20s"),
            footer,
            paused: false,
        },
    }
}

#[test]
fn demo_mode_at_three_sizes() {
    let mut story = Story::new();
    story.answers(&"P ".repeat(5)).answers(&"F ".repeat(3));
    let now = story.now();
    let mut info = info();
    info.simulated = true;
    let mut dashboard = Dashboard::new(info, ThemeName::Dark);
    dashboard.mode = Some(demo_mode("down", "up"));
    for help in [false, true] {
        dashboard.help = help;
        let name = if help { "demo-help" } else { "demo" };
        for (w, h) in [(120, 40), (80, 24), (50, 14)] {
            let terminal = draw(w, h, &story.monitor, &dashboard, now + secs(0.4));
            insta::assert_snapshot!(format!("{name}-{w}x{h}"), terminal.backend());
        }
    }
}

/// The primary's own lane in each of its states, the request's story around it.
fn lane_states() -> Vec<(&'static str, Story)> {
    let mut failing = Story::new();
    failing.ticks(&"P:U ".repeat(6)).ticks("F:X");
    let mut cooling = Story::new();
    cooling.ticks(&"P:U ".repeat(6)).ticks("F:X F:C F:C F:C");
    let mut back = Story::new();
    back.ticks(&"P:U ".repeat(4))
        .ticks("F:X F:C F:C F:C F:C F:C F:C F:C F:C F:C F:C F:U");
    let mut serving_but_failing = Story::new();
    serving_but_failing
        .ticks(&"P:U ".repeat(5))
        .ticks("P:X P:X");
    let mut refused = Story::new();
    refused.ticks("P:R P:R P:R");
    vec![
        ("lane-failing", failing),
        ("lane-cooling-down", cooling),
        ("lane-primary-back", back),
        ("lane-serving-but-failing", serving_but_failing),
        ("lane-refused", refused),
    ]
}

#[test]
fn the_primarys_lane_in_each_of_its_states() {
    let mut info = info();
    info.targets[0].lane.mode = DirectMode::Probe;
    for (name, story) in lane_states() {
        let dashboard = Dashboard::new(info.clone(), ThemeName::Dark);
        let now = story.now() + secs(0.4);
        let sizes: &[(u16, u16)] = if name == "lane-cooling-down" {
            &[(120, 40), (80, 24), (50, 14)]
        } else {
            &[(120, 40)]
        };
        for (w, h) in sizes {
            let terminal = draw(*w, *h, &story.monitor, &dashboard, now);
            insta::assert_snapshot!(format!("{name}-{w}x{h}"), terminal.backend());
        }
    }
}

#[test]
fn a_paused_display_keeps_the_frozen_state_and_counts_what_came_since() {
    let mut story = Story::new();
    story.answers("P P P");
    let mut dashboard = Dashboard::new(info(), ThemeName::Dark);
    dashboard.toggle_pause(&Watch::of(story.monitor.clone()), story.now());
    story.answers("F F");
    let terminal = draw(120, 40, &story.monitor, &dashboard, story.now());
    let screen = terminal.backend().to_string();
    assert!(screen.contains("PAUSED · 2 new"), "{screen}");
    assert!(
        !screen.contains("FAILOVER"),
        "the frozen state has no failover yet"
    );
    dashboard.toggle_pause(&Watch::of(story.monitor.clone()), story.now());
    let screen = draw(120, 40, &story.monitor, &dashboard, story.now())
        .backend()
        .to_string();
    assert!(screen.contains("FAILOVER") && screen.contains("LIVE"));
}

#[test]
fn skipped_ticks_are_told_in_the_timeline() {
    let mut story = Story::new();
    story.answers("P P").in_flight(3);
    let dashboard = Dashboard::new(info(), ThemeName::Dark);
    let screen = draw(120, 40, &story.monitor, &dashboard, story.now())
        .backend()
        .to_string();
    assert!(!screen.contains("skipped"), "{screen}");
    story.skip().skip();
    let screen = draw(120, 40, &story.monitor, &dashboard, story.now())
        .backend()
        .to_string();
    assert!(screen.contains("2 skipped: too many in flight"), "{screen}");
}

#[test]
fn too_small_says_so() {
    let mut story = Story::new();
    story.answers("P F");
    let dashboard = Dashboard::new(info(), ThemeName::Dark);
    let terminal = draw(40, 10, &story.monitor, &dashboard, story.now());
    insta::assert_snapshot!("too-small-40x10", terminal.backend());
    let screen = terminal.backend().to_string();
    assert!(screen.contains("FALLBACK"));
    assert!(screen.contains("terminal too small (need 44×12"));
}

fn find(buffer: &Buffer, symbol: &str) -> Option<(u16, u16)> {
    let area = buffer.area;
    (area.top()..area.bottom())
        .flat_map(|y| (area.left()..area.right()).map(move |x| (x, y)))
        .find(|&(x, y)| buffer[(x, y)].symbol() == symbol)
}

#[test]
fn colours_say_who_served_and_words_and_glyphs_say_it_too() {
    let mut story = Story::new();
    story.answers("P P E F F");
    let now = story.now();
    for (theme, primary, fallback, error) in [
        (ThemeName::Dark, Color::Green, Color::Yellow, Color::Red),
        (ThemeName::Light, Color::Green, Color::Magenta, Color::Red),
    ] {
        let dashboard = Dashboard::new(info(), theme);
        let terminal = draw(120, 40, &story.monitor, &dashboard, now);
        let buffer = terminal.backend().buffer();
        for (glyph, colour) in [("●", primary), ("◆", fallback), ("✗", error)] {
            let at = find(buffer, glyph).unwrap_or_else(|| panic!("no {glyph}"));
            assert_eq!(buffer[at].fg, colour, "{theme:?} {glyph}");
        }
        // The banner's big letters are in the fallback's colour.
        let block = find(buffer, "█").unwrap();
        assert_eq!(buffer[block].fg, fallback, "{theme:?} banner");
    }
    // Light: its own paper under everything, help included, whatever the terminal's colours.
    let mut dashboard = Dashboard::new(info(), ThemeName::Light);
    for help in [false, true] {
        dashboard.help = help;
        let terminal = draw(120, 40, &story.monitor, &dashboard, now);
        let buffer = terminal.backend().buffer();
        let bare = buffer
            .content()
            .iter()
            .filter(|cell| cell.bg == Color::Reset)
            .count();
        assert_eq!(
            bare, 0,
            "help {help}: cells on the terminal's own background"
        );
        // Pane borders (the banner's takes the state's colour) readable on white.
        let corners: Vec<_> = buffer
            .content()
            .iter()
            .filter(|cell| cell.symbol() == "┌")
            .map(|cell| cell.fg)
            .collect();
        assert!(corners.contains(&Color::DarkGray), "{corners:?}");
        assert!(!corners.contains(&Color::Gray), "{corners:?}");
    }
    // Mono: no colour at all, and a failure still stands out.
    let dashboard = Dashboard::new(info(), ThemeName::Mono);
    let terminal = draw(120, 40, &story.monitor, &dashboard, now);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset));
    }
    let error = find(buffer, "✗").unwrap();
    assert!(buffer[error].modifier.contains(Modifier::REVERSED));
    let screen = terminal.backend().to_string();
    assert!(screen.contains("FAILOVER") && screen.contains("◆ FALLBACK"));
}

#[test]
fn no_size_from_1x1_to_250x80_panics() {
    let mut story = Story::new();
    story
        .answers(&"P ".repeat(30))
        .mark()
        .answers("E E F F F F")
        .answers("E E E")
        .answers(&"P ".repeat(5))
        .in_flight(3);
    let now = story.now();
    let mut dashboard = Dashboard::new(info(), ThemeName::Dark);
    dashboard.mode = Some(demo_mode("down", "up"));
    let mut terminal = Terminal::new(TestBackend::new(1, 1)).unwrap();
    for width in 1..=250u16 {
        for height in 1..=80u16 {
            dashboard.help = (width + height) % 7 == 0;
            terminal.backend_mut().resize(width, height);
            terminal
                .resize(ratatui::layout::Rect::new(0, 0, width, height))
                .unwrap();
            terminal
                .draw(|frame| {
                    ui::draw(
                        frame,
                        &Watch::of(story.monitor.clone()),
                        &dashboard,
                        wall(),
                        now,
                    )
                })
                .unwrap();
        }
    }
}

/// A record is untrusted: what a replay reads from it reaches the screen cleaned, as a live
/// answer does (the prober cleans those, `tests/hostile.rs`).
#[test]
fn hostile_replies_in_a_record_never_reach_the_screen_as_controls() {
    let record = format!(
        "{}\n{}\n",
        r#"{"type":"run","record_version":1,"tool_version":"0.1.0","started_at":"2026-11-23T14:00:00.000000Z","utc_offset_secs":0,"url":"http://127.0.0.1:4000","primary":"llama-fp8","fallback":"llama3","interval_ms":1000.0,"timeout_ms":30000.0,"down_after":2,"stream":false,"simulated":false,"direct":false}"#,
        serde_json::json!({
            "type": "request", "seq": 1, "sent_at": "2026-11-23T14:00:00.000000Z",
            "latency_ms": 20.0, "ttft_ms": null, "result": "fallback",
            "model": "ollama/llama3\u{1b}]52;c;b3duZWQ=\u{7}", "model_group": "llama3",
            "api_base": null, "attempted_fallbacks": 1, "status": 200, "error_kind": null,
            "error": null, "reply": "\u{1b}[2J\u{1b}]0;pwned\u{7}evil\r\nreply\u{9b}31m",
            "model_id": null, "evidence": "model_group_header", "late": false
        })
    );
    let record = crate::modes::replay::record::read(record.as_bytes(), "hostile.jsonl").unwrap();
    let mut monitor = Monitor::new(MonitorConfig::default());
    for (_, input) in &record.steps {
        if let crate::state::Input::Probe(event) = input {
            monitor.apply(event);
        }
    }
    let dashboard = Dashboard::new(info(), ThemeName::Dark);
    let terminal = draw(160, 40, &monitor, &dashboard, secs(2.0));
    for cell in terminal.backend().buffer().content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control()),
            "control character on screen: {:?}",
            cell.symbol()
        );
    }
    let screen = terminal.backend().to_string();
    assert!(screen.contains("evil reply"), "{screen}");
    assert!(!screen.contains("pwned"), "an OSC title leaked: {screen}");
    assert!(
        !screen.contains("b3duZWQ"),
        "an OSC 52 write leaked: {screen}"
    );
}

#[test]
fn the_proxys_release_and_a_notice_show() {
    let mut monitor = Monitor::new(MonitorConfig {
        timeout: secs(30.0),
        ..MonitorConfig::default()
    });
    for (seq, version, router_timeout) in [(1, Some("1.106.12"), None), (2, None, Some(30.0))] {
        monitor.apply(&ProbeEvent::Sent {
            target: TargetId::default(),
            lane: Lane::Normal,
            seq,
            at: secs(seq as f64),
        });
        monitor.apply(&ProbeEvent::Answered(Box::new(ProbeOutcome {
            target: TargetId::default(),
            lane: Lane::Normal,
            seq,
            sent_at: secs(seq as f64),
            report: ProbeReport {
                latency: secs(0.02),
                status: Some(200),
                route: Route {
                    version: version.map(str::to_owned),
                    router_timeout: router_timeout.map(secs),
                    ..Route::default()
                },
                ttft: None,
                result: Ok(Served {
                    role: Role::Primary,
                    model: "llama-fp8".into(),
                    evidence: Evidence::ModelGroupHeader,
                    reply: "Hi.".into(),
                }),
            },
        })));
    }
    let dashboard = Dashboard::new(info(), ThemeName::Dark);
    let screen = draw(120, 40, &monitor, &dashboard, secs(3.0))
        .backend()
        .to_string();
    assert!(screen.contains("LiteLLM 1.106.12"), "{screen}");
    assert!(
        screen.contains("⚠ the proxy waits 30 s for a model; --timeout 30s will cut its"),
        "{screen}"
    );
}

/// The words in `rect`, borders excluded, line after line, joined by single spaces.
fn words_in(buffer: &Buffer, rect: Rect) -> String {
    let mut text = String::new();
    for y in rect.top()..rect.bottom() {
        for x in rect.left()..rect.right() {
            let symbol = buffer[(x, y)].symbol();
            text.push_str(if "│┌┐└┘─".contains(symbol) {
                " "
            } else {
                symbol
            });
        }
        text.push(' ');
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every state the snapshots show, and the primary never serving with its lane telling why,
/// and the demo's mode.
fn every_state() -> Vec<(String, Story, Dashboard)> {
    let mut cases = Vec::new();
    for (name, story, toggled) in states() {
        let mut dashboard = Dashboard::new(info(), ThemeName::Dark);
        if let Toggled::Paused = toggled {
            dashboard.toggle_pause(&Watch::of(story.monitor.clone()), story.now());
        }
        cases.push((name.to_owned(), story, dashboard));
    }
    let mut lane = info();
    lane.targets[0].lane.mode = DirectMode::Probe;
    let mut never = Story::new();
    never.ticks(&"F:X ".repeat(5));
    for (name, story) in lane_states()
        .into_iter()
        .chain([("lane-never-served", never)])
    {
        cases.push((
            name.to_owned(),
            story,
            Dashboard::new(lane.clone(), ThemeName::Dark),
        ));
    }
    let mut demo = Story::new();
    demo.answers(&"P ".repeat(5)).answers(&"F ".repeat(3));
    let mut dashboard = Dashboard::new(
        RunInfo {
            simulated: true,
            ..lane
        },
        ThemeName::Dark,
    );
    dashboard.mode = Some(demo_mode("down", "up"));
    cases.push(("demo".to_owned(), demo, dashboard));
    cases
}

#[test]
fn from_100x30_on_nothing_the_readme_promises_is_cut() {
    let never_served = "⚠ llama-fp8 has not served once: check its deployment \
                        (LiteLLM's openai/ needs an api_key)";
    let no_transition = "No transition yet. m marks a moment (\"scaled down now\").";
    for (name, story, dashboard) in every_state() {
        let monitor = &story.monitor;
        for (w, h) in [(100, 30), (120, 40), (160, 50)] {
            let terminal = draw(w, h, monitor, &dashboard, story.now() + secs(0.4));
            let buffer = terminal.backend().buffer();
            let areas =
                ui::layout::areas(buffer.area, dashboard.info.first().lane.mode.is_on()).unwrap();
            let at = format!("{name} at {w}x{h}");
            let banner = words_in(buffer, areas.banner);
            if monitor.primary_never_served() && monitor.counters().fallback >= 3 {
                assert!(banner.contains(never_served), "{at}: {banner}");
            }
            let events = words_in(buffer, areas.events.unwrap());
            if monitor.transitions().len() + monitor.markers().len() == 0 {
                assert!(events.contains(no_transition), "{at}: {events}");
            }
            let timeline = words_in(buffer, areas.timeline.unwrap());
            let footer = words_in(buffer, areas.footer.unwrap());
            for (pane, text) in [
                ("events", &events),
                ("timeline", &timeline),
                ("footer", &footer),
            ] {
                assert!(!text.contains('…'), "{at}: the {pane} is cut: {text}");
            }
            // The whole footer, or whole entries: the dashboard's own all show (the pause key
            // saying what it does while paused); with a mode, all of the mode's keys do.
            let said = |b: &ui::Binding, paused: bool| {
                b.footer.map(|(keys, what)| {
                    format!(
                        "{keys} {}",
                        b.footer_paused.filter(|_| paused).unwrap_or(what)
                    )
                })
            };
            let paused = dashboard.paused.is_some();
            match &dashboard.mode {
                None => {
                    for entry in ui::DASHBOARD.iter().filter_map(|b| said(b, paused)) {
                        assert!(footer.contains(&entry), "{at}: {footer}");
                    }
                }
                Some(mode) => {
                    for entry in mode.keys.bindings.iter().filter_map(|b| said(b, false)) {
                        assert!(footer.contains(&entry), "{at}: {footer}");
                    }
                }
            }
            // The legend's entries come whole or not at all.
            let legend = [
                "● primary",
                "◆ fallback",
                "✗ failed",
                "▲ transition",
                "primary alone: ▪ up × failing ◔ cooldown",
            ];
            let shown = match (
                monitor.in_flight().is_empty(),
                dashboard.info.first().lane.mode,
            ) {
                // The requests in flight take the legend's line.
                (false, _) => 0,
                (true, lane) => 4 + usize::from(lane.is_on()),
            };
            for entry in legend.iter().take(shown) {
                assert!(timeline.contains(entry), "{at}: {entry:?} in {timeline}");
            }
        }
    }
}

/// The quiet lane's probes leave between ticks: each sits under the last request sent before
/// it, and nothing under the requests the primary served (nothing was asked).
#[test]
fn the_quiet_lanes_probes_sit_under_the_request_they_followed() {
    let mut story = Story::new();
    story.answers("P P F F P");
    // LiteLLM's health check asked after request 3 (the failover): the primary failing.
    let sent_at = secs(2.1);
    story.monitor.apply(&ProbeEvent::Sent {
        target: TargetId::default(),
        lane: Lane::Health,
        seq: 1,
        at: sent_at,
    });
    let ProbeEvent::Answered(mut health) = super::direct_answer(1, sent_at, "failing") else {
        unreachable!()
    };
    health.lane = Lane::Health;
    story.monitor.apply(&ProbeEvent::Answered(health));
    let mut quiet = info();
    quiet.targets[0].lane.mode = DirectMode::Quiet;
    let dashboard = Dashboard::new(quiet, ThemeName::Mono);
    let terminal = draw(100, 30, &story.monitor, &dashboard, story.now());
    let buffer = terminal.backend().buffer();
    let row = |y: u16| -> Vec<String> {
        (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_owned())
            .collect()
    };
    let (y, cells) = (0..buffer.area.height)
        .map(|y| (y, row(y)))
        .find(|(_, cells)| cells.concat().contains("●●◆◆●"))
        .expect("the timeline's requests");
    let start = cells.concat().find("●●◆◆●").unwrap();
    let column = cells
        .iter()
        .scan(0, |at, cell| {
            let here = *at;
            *at += cell.len();
            Some(here)
        })
        .position(|at| at == start)
        .unwrap();
    let under: String = row(y + 1)[column..column + 5].concat();
    assert_eq!(under, "  ×  ", "under ●●◆◆●");
}

/// LiteLLM's own word (its metrics) sits in the banner beside the watcher's.
#[test]
fn the_banner_gives_litellms_own_word_where_a_row_is_left() {
    use crate::litellm::prometheus::{DeploymentReading, DeploymentState, ProxyReading};
    let mut story = Story::new();
    story.answers("P P F F F");
    let reading = |state, cooldowns: f64, fallbacks: f64| ProxyReading {
        deployments: vec![DeploymentReading {
            model_id: "a82c".into(),
            api_base: Some("http://gpu:8080/v1".into()),
            state,
        }],
        cooldowns: Some(cooldowns),
        fallbacks: Some(fallbacks),
        fallbacks_in_cooldown: Some(0.0),
        failed_fallbacks: None,
    };
    for (at, reading) in [
        (1.0, reading(DeploymentState::Healthy, 4.0, 30.0)),
        (4.5, reading(DeploymentState::CompleteOutage, 5.0, 33.0)),
    ] {
        story.monitor.apply(&ProbeEvent::ProxyView {
            target: TargetId::default(),
            at: secs(at),
            reading: Ok(reading),
        });
    }
    let dashboard = Dashboard::new(info(), ThemeName::Dark);
    let terminal = draw(120, 40, &story.monitor, &dashboard, story.now());
    let buffer = terminal.backend().buffer();
    let areas = ui::layout::areas(buffer.area, false).unwrap();
    let banner = words_in(buffer, areas.banner);
    assert!(
        banner.contains("LiteLLM: llama-fp8 complete outage · 1 cooldown · 3 fallbacks"),
        "{banner}"
    );
}

/// Twelve targets on one proxy: most on their primary, one failed over a few seconds ago, one
/// down, one not answered yet.
fn twelve() -> (RunInfo, Watch) {
    const NAMES: [&str; 12] = [
        "llama-fp8",
        "qwen-72b",
        "mistral-large",
        "llama3-70b",
        "phi-4",
        "gemma-27b",
        "deepseek-r1",
        "command-r",
        "mixtral-8x22b",
        "yi-34b",
        "granite-8b",
        "olmo-13b",
    ];
    let mut info = info();
    let seed = info.targets[0].clone();
    info.targets = NAMES
        .iter()
        .map(|name| TargetInfo {
            name: (*name).into(),
            primary: (*name).into(),
            ..seed.clone()
        })
        .collect();
    let monitors = NAMES
        .iter()
        .map(|name| {
            let mut story = Story::new();
            match *name {
                "qwen-72b" => story.answers(&"P ".repeat(30)).answers("E F F F F"),
                "deepseek-r1" => story.answers(&"P ".repeat(20)).answers(&"E ".repeat(15)),
                "granite-8b" => story.in_flight(1),
                _ => story.answers(&"P ".repeat(35)),
            };
            story.monitor
        })
        .collect();
    (info, Watch::of_all(monitors))
}

fn draw_watch(w: u16, h: u16, watch: &Watch, dashboard: &Dashboard, now: Duration) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|frame| ui::draw(frame, watch, dashboard, wall(), now))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let width = buffer.area.width as usize;
    buffer
        .content
        .chunks(width)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_overview_puts_the_targets_off_their_primary_first_at_projector_and_laptop_sizes() {
    let (info, watch) = twelve();
    let dashboard = Dashboard::new(info, ThemeName::Dark);
    let now = secs(35.4);
    for (w, h) in [(120, 40), (80, 24)] {
        let screen = draw_watch(w, h, &watch, &dashboard, now);
        insta::assert_snapshot!(format!("overview-{w}x{h}"), screen);
        assert!(
            screen
                .contains("12 targets: 9 on their primary · 1 on a fallback · 1 down · 1 waiting"),
            "{screen}"
        );
        let row = |name: &str| {
            screen
                .lines()
                .position(|l| l.contains(&format!(" {name} ")))
                .unwrap()
        };
        // The text of a target's row.
        let line = |name: &str| screen.lines().nth(row(name)).unwrap();
        assert!(row("deepseek-r1") < row("qwen-72b"), "{screen}");
        assert!(row("qwen-72b") < row("granite-8b"), "{screen}");
        assert!(row("granite-8b") < row("llama-fp8"), "{screen}");
        assert!(line("deepseek-r1").contains("✗ DOWN"));
        assert!(line("qwen-72b").contains("◆ FALLBACK"));
        // Changed within the minute: marked, besides by colour.
        assert!(line("qwen-72b").contains("! qwen-72b"), "{screen}");
        assert!(!line("llama-fp8").contains("! llama-fp8"));
    }
}

#[test]
fn the_overview_scrolls_and_says_how_many_rows_are_hidden() {
    let (mut info, watch) = twelve();
    let mut monitors: Vec<Monitor> = watch.targets().map(|(_, m)| m.clone()).collect();
    let seed = info.targets.clone();
    for round in 1..4 {
        for (target, monitor) in seed.iter().zip(watch.targets().map(|(_, m)| m)) {
            info.targets.push(TargetInfo {
                name: format!("{}-{round}", target.name),
                ..target.clone()
            });
            monitors.push(monitor.clone());
        }
    }
    let watch = Watch::of_all(monitors);
    let mut dashboard = Dashboard::new(info, ThemeName::Dark);
    let screen = draw_watch(80, 24, &watch, &dashboard, secs(35.4));
    // 48 rows in 18 lines: 17 rows, the last line says how many are hidden.
    assert!(screen.contains("↓ 31 more below"), "{screen}");
    for _ in 0..60 {
        dashboard.step_selection(&watch, true);
    }
    let screen = draw_watch(80, 24, &watch, &dashboard, secs(35.4));
    assert!(
        screen.contains("↑ 31 more above") && !screen.contains("below"),
        "{screen}"
    );
    let selected = screen.lines().find(|l| l.contains("▶")).unwrap();
    assert!(selected.contains("olmo-13b-3"), "{screen}");
}

#[test]
fn enter_opens_a_targets_dashboard_esc_comes_back_and_slash_filters() {
    let (info, watch) = twelve();
    let mut dashboard = Dashboard::new(info, ThemeName::Dark);
    let now = secs(35.4);
    // The first row is the target down; one down is the one on a fallback.
    dashboard.step_selection(&watch, true);
    assert_eq!(
        dashboard.overview.as_ref().unwrap().selected,
        Some(TargetId(1))
    );
    dashboard.open_selected(&watch);
    assert_eq!(dashboard.shown(), TargetId(1));
    let screen = draw_watch(120, 40, &watch, &dashboard, now);
    assert!(screen.contains("qwen-72b: qwen-72b → llama3"), "{screen}");
    assert!(
        screen.contains("FALLBACK") && screen.contains("NOW SERVING"),
        "{screen}"
    );
    assert!(screen.contains("esc overview"), "{screen}");
    assert_eq!(dashboard.screen_keys().len(), 1);
    dashboard.overview.as_mut().unwrap().open = None;
    for key in [
        KeyCode::Char('/'),
        KeyCode::Char('L'),
        KeyCode::Char('l'),
        KeyCode::Char('a'),
    ] {
        if key == KeyCode::Char('/') {
            dashboard.overview.as_mut().unwrap().filtering = true;
            continue;
        }
        dashboard.type_filter(KeyEvent::new(key, KeyModifiers::NONE));
    }
    let screen = draw_watch(120, 40, &watch, &dashboard, now);
    assert!(screen.contains("filter: Lla▏  (2 of 12)"), "{screen}");
    assert!(
        screen.contains(" llama-fp8 ") && screen.contains(" llama3-70b "),
        "{screen}"
    );
    assert!(!screen.contains(" qwen-72b "), "{screen}");
    // The selected target filtered out, the first row left is selected, and opens.
    let selected = screen.lines().find(|l| l.contains("▶")).unwrap();
    assert!(selected.contains("llama-fp8"), "{screen}");
    dashboard.open_selected(&watch);
    assert_eq!(dashboard.shown(), TargetId(0));
    dashboard.overview.as_mut().unwrap().open = None;
    dashboard.type_filter(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    let screen = draw_watch(120, 40, &watch, &dashboard, now);
    assert!(
        screen.contains(" qwen-72b ") && !screen.contains("filter:"),
        "{screen}"
    );
}

#[test]
fn a_run_of_one_target_has_no_overview() {
    let dashboard = Dashboard::new(info(), ThemeName::Dark);
    assert!(dashboard.overview.is_none() && dashboard.screen_keys().is_empty());
    assert!(!dashboard.showing_overview());
}
