//! The HTML report's figure, inline SVG: who served each request over time (one mark per
//! request, its lane, shape and colour saying primary, fallback or failed), the phases as
//! bands, the markers, the primary's own lane, and the latency on a log scale below. Runs of
//! more than [`MAX_MARKS`] requests are drawn in bins, and the figure says so. Every text from
//! the record is escaped.

use std::fmt::Write as _;
use std::time::Duration;

use super::chart::{BINS, MAX_MARKS, Mark};
use super::xml::escape;
use super::{Report, What, figure};
use crate::probe::Verdict;
use crate::state::PrimaryKind;
use crate::text::format;

const WIDTH: f64 = 1200.0;
const LEFT: f64 = 200.0;
const RIGHT: f64 = 24.0;
const PLOT: f64 = WIDTH - LEFT - RIGHT;
/// The bands span from here to the axis.
const BAND_TOP: f64 = 50.0;
const ROW_PRIMARY: f64 = 98.0;
const ROW_FALLBACK: f64 = 128.0;
const ROW_FAILED: f64 = 158.0;
const LANE_TOP: f64 = 180.0;
const LANE_HEIGHT: f64 = 26.0;
const LATENCY_TOP: f64 = 226.0;
const LATENCY_BOTTOM: f64 = 376.0;
const AXIS: f64 = 382.0;
/// Marker labels this long at most, in the figure (the timeline table has them whole).
const LABEL_CHARS: usize = 28;

/// The figure, an `<svg>` element.
pub fn figure_svg(report: &Report) -> String {
    let chart = &report.chart;
    let x = |at: Duration| LEFT + at.as_secs_f64() / chart.length.as_secs_f64() * PLOT;
    let scale = LatencyScale::new(chart.fastest.min(chart.slowest), chart.slowest);
    let notes = notes(report);
    let height = AXIS + 62.0 + 20.0 * notes.len() as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title chart-desc">"#
    );
    let _ = write!(
        svg,
        r#"<title id="chart-title">Who served each request over time</title><desc id="chart-desc">{}</desc>"#,
        escape(&describe(report))
    );
    svg.push_str(DEFS);

    // The phases, behind everything.
    for phase in &report.phases {
        let (x0, x1) = (x(phase.from), x(phase.to));
        let name = phase.phase.as_str();
        let _ = write!(
            svg,
            r#"<rect class="band {name}" x="{x0:.1}" y="{BAND_TOP}" width="{:.1}" height="{:.1}"><title>{name}: {} to {}</title></rect>"#,
            (x1 - x0).max(0.0),
            AXIS - BAND_TOP,
            escape(&report.relative(phase.from)),
            escape(&report.relative(phase.to)),
        );
        let label = match x1 - x0 {
            w if w >= 90.0 => name,
            w if w >= 16.0 => &name[..1],
            _ => "",
        };
        if !label.is_empty() {
            let _ = write!(
                svg,
                r#"<text class="band-label" x="{:.1}" y="{:.1}">{label}</text>"#,
                x0 + 4.0,
                BAND_TOP + 16.0
            );
        }
    }

    // Lane names: each says its shape as well as its colour.
    for (y, class, name) in [
        (ROW_PRIMARY, "primary", "● primary"),
        (ROW_FALLBACK, "fallback", "◆ fallback"),
        (ROW_FAILED, "error", "✕ failed"),
    ] {
        let _ = write!(
            svg,
            r#"<text class="lane-name {class}" x="{:.1}" y="{:.1}" text-anchor="end">{name}</text>"#,
            LEFT - 10.0,
            y + 5.0
        );
    }
    let _ = write!(
        svg,
        r#"<text class="lane-name" x="{:.1}" y="{:.1}" text-anchor="end">primary alone</text>"#,
        LEFT - 10.0,
        LANE_TOP + LANE_HEIGHT / 2.0 + 5.0
    );
    let _ = write!(
        svg,
        r#"<text class="lane-name" x="{:.1}" y="{:.1}" text-anchor="end">latency</text>"#,
        LEFT - 70.0,
        (LATENCY_TOP + LATENCY_BOTTOM) / 2.0 + 5.0
    );

    lane(&mut svg, report, &x);
    latency_axis(&mut svg, &scale);
    match &chart.marks {
        Some(marks) => {
            for mark in marks {
                request_mark(&mut svg, report, mark, x(mark.sent_at), &scale);
            }
        }
        None => bins(&mut svg, report, &scale),
    }
    markers(&mut svg, report, &x);
    time_axis(&mut svg, report, &x);

    for (i, note) in notes.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text class="note" x="{LEFT}" y="{:.1}">{}</text>"#,
            AXIS + 76.0 + 20.0 * i as f64,
            escape(note)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// What the figure leaves out or draws otherwise, said under it.
fn notes(report: &Report) -> Vec<String> {
    let chart = &report.chart;
    let mut notes = Vec::new();
    if chart.marks.is_none() {
        notes.push(format!(
            "{} requests drawn in {BINS} bins of {} (a mark per request up to {MAX_MARKS}):",
            chart.requests,
            figure(chart.bin_width())
        ));
        notes.push(
            "bar heights count each bin's requests; the latency line is each bin's slowest answer"
                .to_owned(),
        );
    }
    if chart.lane_cut {
        notes.push(format!(
            "the primary's lane shows its first {} changes",
            chart.lane.len()
        ));
    }
    notes
}

/// The patterns that tell the primary's states apart without colour.
const DEFS: &str = r##"<defs><pattern id="hatch-failing" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#f6c9c4"/><path d="M0,0 L8,8 M8,0 L0,8" stroke="#b3261e" stroke-width="1.6"/></pattern><pattern id="stripes-cooling" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#eadcf0"/><rect width="3" height="8" fill="#8e44ad"/></pattern><pattern id="dots-refused" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#eeeeee"/><circle cx="3" cy="3" r="1.3" fill="#555555"/></pattern></defs>"##;

/// The figure in words, for screen readers and as its description.
fn describe(report: &Report) -> String {
    let w = &report.whole;
    let mut said = format!(
        "{} requests: {} served by the primary, {} by the fallback, {} failed.",
        w.requests + w.abandoned,
        w.primary,
        w.fallback,
        w.failed + w.abandoned
    );
    for phase in &report.phases {
        let _ = write!(
            said,
            " {} from {} to {}.",
            phase.phase.as_str(),
            report.relative(phase.from),
            report.relative(phase.to)
        );
    }
    said
}

/// The word for a state of the primary's own lane.
pub fn lane_word(kind: PrimaryKind) -> &'static str {
    match kind {
        PrimaryKind::Up => "up",
        PrimaryKind::Failing => "failing",
        PrimaryKind::CoolingDown => "cooldown",
        PrimaryKind::Refused => "refused",
    }
}

fn lane(svg: &mut String, report: &Report, x: &impl Fn(Duration) -> f64) {
    let chart = &report.chart;
    if chart.lane.is_empty() {
        let why = if report.setup.info.first().lane.mode.is_on() {
            "no change of the primary's own state recorded"
        } else {
            "no direct probes in this run (--direct off)"
        };
        let _ = write!(
            svg,
            r#"<text class="note" x="{:.1}" y="{:.1}">{why}</text>"#,
            LEFT + 6.0,
            LANE_TOP + LANE_HEIGHT / 2.0 + 5.0
        );
        return;
    }
    for (index, segment) in chart.lane.iter().enumerate() {
        let end = chart.segment_end(index);
        let (x0, x1) = (x(segment.from), x(end));
        let word = lane_word(segment.kind);
        let class = segment.kind.as_str();
        let _ = write!(
            svg,
            r#"<rect class="lane {class}" x="{x0:.1}" y="{LANE_TOP}" width="{:.1}" height="{LANE_HEIGHT}"><title>primary {word} from {} to {}</title></rect>"#,
            (x1 - x0).max(0.5),
            escape(&report.relative(segment.from)),
            escape(&report.relative(end)),
        );
        if x1 - x0 >= 8.0 * word.len() as f64 + 10.0 {
            let _ = write!(
                svg,
                r#"<text class="lane-label" x="{:.1}" y="{:.1}">{word}</text>"#,
                x0 + 4.0,
                LANE_TOP + LANE_HEIGHT / 2.0 + 5.0
            );
        }
    }
}

/// A log scale of latency, whole decades from the fastest to the slowest answer.
struct LatencyScale {
    low: f64,
    high: f64,
}

impl LatencyScale {
    fn new(min: Duration, max: Duration) -> Self {
        let ms = |d: Duration| (d.as_secs_f64() * 1000.0).max(0.01);
        let low = ms(min).log10().floor();
        let high = ms(max).log10().ceil().max(low + 1.0);
        Self { low, high }
    }

    fn y(&self, latency: Duration) -> f64 {
        let ms = (latency.as_secs_f64() * 1000.0).max(0.01);
        let share = ((ms.log10() - self.low) / (self.high - self.low)).clamp(0.0, 1.0);
        LATENCY_BOTTOM - share * (LATENCY_BOTTOM - LATENCY_TOP - 6.0)
    }
}

fn latency_axis(svg: &mut String, scale: &LatencyScale) {
    let mut decade = scale.low;
    while decade <= scale.high {
        let latency = Duration::from_secs_f64(10f64.powf(decade) / 1000.0);
        let y = scale.y(latency);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT + PLOT,
            LEFT - 8.0,
            y + 5.0,
            decade_label(decade)
        );
        decade += 1.0;
    }
}

/// `0.1 ms`, `1 ms`, `100 ms`, `1 s`, `100 s`.
fn decade_label(decade: f64) -> String {
    let ms = 10f64.powf(decade);
    if ms >= 1000.0 {
        format!("{} s", ms / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

/// One request: its mark in the lane of who served it, and its latency below.
fn request_mark(svg: &mut String, report: &Report, mark: &Mark, x: f64, scale: &LatencyScale) {
    let (class, row, said) = match mark.verdict {
        Some(Verdict::Primary) => ("primary", ROW_PRIMARY, "primary"),
        Some(Verdict::Fallback) => ("fallback", ROW_FALLBACK, "fallback"),
        Some(Verdict::Error) => ("error", ROW_FAILED, "failed"),
        None => ("unanswered", ROW_FAILED, "never answered"),
    };
    let title = format!(
        "#{} sent {}: {said}, {}",
        mark.seq,
        report.relative(mark.sent_at),
        format::latency(mark.latency)
    );
    let shape = |size: f64, y: f64| match mark.verdict {
        Some(Verdict::Primary) => format!(r#"circle cx="{x:.1}" cy="{y:.1}" r="{size:.1}""#),
        Some(Verdict::Fallback) => {
            let s = size * 1.25;
            format!(
                r#"path d="M{x:.1},{:.1} l{s:.1},{s:.1} l-{s:.1},{s:.1} l-{s:.1},-{s:.1} z""#,
                y - s
            )
        }
        Some(Verdict::Error) => format!(
            r#"path d="M{:.1},{:.1} l{d:.1},{d:.1} M{:.1},{:.1} l-{d:.1},{d:.1}""#,
            x - size,
            y - size,
            x + size,
            y - size,
            d = 2.0 * size
        ),
        None => format!(
            r#"rect x="{:.1}" y="{:.1}" width="{d:.1}" height="{d:.1}""#,
            x - size,
            y - size,
            d = 2.0 * size
        ),
    };
    let element = |shape: String| shape.split(' ').next().unwrap_or_default().to_owned();
    let served = shape(4.5, row);
    let _ = write!(
        svg,
        r#"<{served} class="mark {class}"><title>{}</title></{}>"#,
        escape(&title),
        element(served.clone())
    );
    if mark.verdict.is_some() {
        let _ = write!(
            svg,
            r#"<{} class="lat {class}"/>"#,
            shape(2.6, scale.y(mark.latency))
        );
    }
}

/// Binned requests: in each lane a bar as tall as the bin's count of its kind, and the bin's
/// slowest answer on the latency scale.
fn bins(svg: &mut String, report: &Report, scale: &LatencyScale) {
    let chart = &report.chart;
    let most = chart
        .bins
        .iter()
        .map(|b| b.total())
        .max()
        .unwrap_or(0)
        .max(1);
    let width = PLOT / BINS as f64;
    let mut line = String::new();
    for (index, bin) in chart.bins.iter().enumerate() {
        let x0 = LEFT + index as f64 * width;
        for (count, row, class) in [
            (bin.primary, ROW_PRIMARY, "primary"),
            (bin.fallback, ROW_FALLBACK, "fallback"),
            (bin.failed, ROW_FAILED, "error"),
        ] {
            if count == 0 {
                continue;
            }
            let height = (24.0 * f64::from(count) / f64::from(most)).max(2.0);
            let _ = write!(
                svg,
                r#"<rect class="bin {class}" x="{x0:.2}" y="{:.1}" width="{:.2}" height="{height:.1}"/>"#,
                row + 12.0 - height,
                (width - 0.3).max(0.8)
            );
        }
        if bin.primary + bin.fallback > 0 {
            let y = scale.y(bin.max_latency);
            let _ = write!(
                line,
                "{}{x0:.1},{y:.1} {:.1},{y:.1}",
                if line.is_empty() { "M" } else { " L" },
                x0 + width
            );
        }
    }
    if !line.is_empty() {
        let _ = write!(svg, r#"<path class="lat-max" d="{line}"/>"#);
    }
}

/// The markers: a dashed line each, labelled above the bands (two rows, so that neighbours
/// do not overwrite each other).
fn markers(svg: &mut String, report: &Report, x: &impl Fn(Duration) -> f64) {
    let markers = report.timeline.iter().filter_map(|fact| match &fact.what {
        What::Marker { id, label } => Some((fact.at, *id, label.clone())),
        What::Fault(super::FaultFound::Marker { id }) => {
            Some((fact.at, *id, Some(super::DRILL_DOWN.to_owned())))
        }
        What::Up(super::UpFound::Marker { id }) => {
            Some((fact.at, *id, Some(super::DRILL_UP.to_owned())))
        }
        _ => None,
    });
    for (index, (at, id, label)) in markers.enumerate() {
        let mx = x(at);
        let name = format::marker_name(id, label.as_deref());
        let short = crate::text::sanitize::cut(&name, LABEL_CHARS);
        let y = if index % 2 == 0 { 18.0 } else { 40.0 };
        let anchor = if mx > LEFT + PLOT * 0.75 {
            "end"
        } else {
            "start"
        };
        let _ = write!(
            svg,
            r#"<line class="marker" x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{AXIS}"><title>{}</title></line><text class="marker-label" x="{mx:.1}" y="{y:.1}" text-anchor="{anchor}">{}</text>"#,
            y + 4.0,
            escape(&format!("{name} at {}", report.relative(at))),
            escape(&short)
        );
    }
}

/// The time axis, its ticks counted from the fault.
fn time_axis(svg: &mut String, report: &Report, x: &impl Fn(Duration) -> f64) {
    let length = report.chart.length.as_secs_f64();
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{AXIS}" x2="{:.1}" y2="{AXIS}"/>"#,
        LEFT + PLOT
    );
    let step = tick_step(length);
    let origin = report.fault.unwrap_or_default().as_secs_f64();
    // Ticks at whole steps from the fault, within the run.
    let first = (-origin / step).ceil() as i64;
    let last = ((length - origin) / step).floor() as i64;
    for k in first..=last {
        let secs = origin + k as f64 * step;
        let tx = x(Duration::from_secs_f64(secs.max(0.0)));
        let _ = write!(
            svg,
            r#"<line class="axis" x1="{tx:.1}" y1="{AXIS}" x2="{tx:.1}" y2="{:.1}"/><text class="tick" x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            AXIS + 6.0,
            AXIS + 24.0,
            tick_label(k as f64 * step, step, report.fault.is_some())
        );
    }
    let title = if report.fault.is_some() {
        "time from the fault (T)"
    } else {
        "time from the start (no fault in the record)"
    };
    let _ = write!(
        svg,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">{title}</text>"#,
        LEFT + PLOT / 2.0,
        AXIS + 50.0
    );
}

/// A round step giving at most about ten ticks over `length` seconds.
fn tick_step(length: f64) -> f64 {
    const STEPS: [f64; 22] = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
        3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0, 172800.0,
    ];
    STEPS
        .into_iter()
        .find(|step| length / step <= 10.0)
        .unwrap_or(length / 10.0)
}

/// `T+5 s`, `T−0.5 s`, `T+2m`, `T+3h`; without a fault, `+5 s`.
fn tick_label(secs: f64, step: f64, fault: bool) -> String {
    let sign = if secs < 0.0 { "−" } else { "+" };
    let magnitude = secs.abs();
    let value = if step < 1.0 {
        format!("{magnitude:.1} s")
    } else if step < 60.0 {
        format!("{magnitude:.0} s")
    } else if step < 3600.0 {
        format!("{:.0}m", magnitude / 60.0)
    } else {
        format!("{:.0}h", magnitude / 3600.0)
    };
    match (fault, secs == 0.0) {
        (true, true) => "T".to_owned(),
        (true, false) => format!("T{sign}{value}"),
        (false, _) => format!("{sign}{value}"),
    }
}
