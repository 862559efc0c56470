//! The report as one self-contained HTML page: no script, font, image or stylesheet from
//! elsewhere, so it opens offline and can be mailed or attached as it is. Large type for a
//! projector, a print stylesheet for paper. The markup is also well-formed XML (every element
//! closed, no named entity but XML's), which the tests check with a strict parser. Every text
//! from the record is escaped.

use std::fmt::Write as _;

use super::svg::{figure_svg, lane_word};
use super::text::{litellm_rows, phase_rows, setup_rows, timeline_rows};
use super::xml::escape;
use super::{Report, Status, Verdict};
use crate::state::PrimaryKind;

pub fn render(report: &Report) -> String {
    let title = escape(&report.title());
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"generator\" content=\"failover-watch {}\"/>\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "<header>\n<h1>{title}</h1>");
    let _ = writeln!(out, "<p class=\"run\">{}</p>", escape(&report.run_text()));
    if let Some(damage) = &report.source.damage {
        let _ = writeln!(
            out,
            "<p class=\"damage\"><strong>Damaged record:</strong> {}</p>",
            escape(damage)
        );
    }
    let (class, badge) = match report.verdict() {
        Verdict::NoBudgets => ("none", "–"),
        Verdict::Held => ("pass", "✓ PASS"),
        Verdict::Broken(_) => ("fail", "✗ FAIL"),
    };
    let _ = writeln!(
        out,
        "<p class=\"verdict {class}\"><span class=\"badge\">{badge}</span> {}</p>",
        escape(&report.verdict_words())
    );
    if let Some(ended) = report.setup.drill.as_ref().and_then(|d| d.ended.as_ref()) {
        let _ = writeln!(out, "<p class=\"run\">drill: {}</p>", escape(ended));
    }
    let _ = writeln!(out, "</header>");

    let _ = writeln!(out, "<section>\n<h2>Durations</h2>\n<div class=\"cards\">");
    for row in report.durations.rows() {
        let figure = row.lapse.map_or("—".to_owned(), |l| l.text());
        let _ = writeln!(
            out,
            "<div class=\"card\"><div class=\"figure\">{}</div><div class=\"name\">{}</div><div class=\"spans\">{}</div></div>",
            escape(&figure),
            escape(row.name),
            escape(row.spans)
        );
    }
    let _ = writeln!(out, "</div>\n</section>");

    let _ = writeln!(
        out,
        "<section>\n<h2>Who served, over time</h2>\n<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n</section>",
        figure_svg(report),
        legend()
    );
    let _ = writeln!(out, "<section>\n<h2>Budgets</h2>");
    if report.budgets.is_empty() {
        let _ = writeln!(out, "<p>No budgets given.</p>");
    } else {
        let rows: Vec<Vec<Cell>> = report
            .budgets
            .iter()
            .map(|j| {
                let (class, mark) = match j.status {
                    Status::Pass => ("pass", "✓"),
                    Status::Fail => ("fail", "✗"),
                    Status::NotMeasured => ("none", "–"),
                };
                vec![
                    Cell::Classed(class, format!("{mark} {}", j.status.as_str())),
                    Cell::Text(j.budget.text()),
                    Cell::Text(j.figure.clone()),
                ]
            })
            .collect();
        table(&mut out, &["status", "budget", "figure"], rows);
    }
    let _ = writeln!(out, "</section>");

    let _ = writeln!(out, "<section>\n<h2>Timeline</h2>");
    let rows = timeline_rows(report).into_iter().map(texts).collect();
    table(&mut out, &["time", "clock", "fact", "detail"], rows);
    let _ = writeln!(out, "</section>");

    let _ = writeln!(out, "<section>\n<h2>Requests by phase</h2>");
    let mut phases = phase_rows(report);
    let header = phases.remove(0);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&mut out, &header, phases.into_iter().map(texts).collect());
    let _ = writeln!(out, "</section>");

    let _ = writeln!(out, "<section>\n<h2>LiteLLM's own counts</h2>");
    let rows = litellm_rows(report).into_iter().map(texts).collect();
    table(&mut out, &["count", "figure"], rows);
    let _ = writeln!(out, "</section>");

    let _ = writeln!(out, "<section>\n<h2>Setup</h2>");
    let rows = setup_rows(report).into_iter().map(texts).collect();
    table(&mut out, &["setting", "value"], rows);
    let _ = writeln!(out, "</section>");

    let _ = writeln!(
        out,
        "<footer>Made by failover-watch {} from {}.</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        escape(&report.source.file)
    );
    out
}

/// A table cell: text, or text with a class (a status).
enum Cell {
    Text(String),
    Classed(&'static str, String),
}

fn texts(row: Vec<String>) -> Vec<Cell> {
    row.into_iter().map(Cell::Text).collect()
}

fn table(out: &mut String, header: &[&str], rows: Vec<Vec<Cell>>) {
    // A table of many columns in smaller type, to fit a screen's width.
    let class = if header.len() > 8 {
        " class=\"wide\""
    } else {
        ""
    };
    let _ = write!(out, "<div class=\"scroll\"><table{class}>\n<thead><tr>");
    for name in header {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(name));
    }
    let _ = writeln!(out, "</tr></thead>\n<tbody>");
    for row in rows {
        let _ = write!(out, "<tr>");
        for cell in row {
            match cell {
                Cell::Text(text) => {
                    let _ = write!(out, "<td>{}</td>", escape(&text));
                }
                Cell::Classed(class, text) => {
                    let _ = write!(out, "<td class=\"status {class}\">{}</td>", escape(&text));
                }
            }
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody>\n</table></div>");
}

/// What the figure's marks and patterns mean, each drawn as in the figure.
fn legend() -> String {
    let swatch = |shape: &str, name: &str| {
        format!(
            "<span class=\"key\"><svg xmlns=\"http://www.w3.org/2000/svg\" class=\"swatch\" viewBox=\"0 0 20 20\" aria-hidden=\"true\">{shape}</svg>{name}</span>"
        )
    };
    let lane = |kind: PrimaryKind| {
        swatch(
            &format!(
                "<rect class=\"lane {}\" x=\"1\" y=\"4\" width=\"18\" height=\"12\"/>",
                kind.as_str()
            ),
            &format!("primary {}", lane_word(kind)),
        )
    };
    [
        swatch(
            "<circle class=\"mark primary\" cx=\"10\" cy=\"10\" r=\"5\"/>",
            "served by the primary",
        ),
        swatch(
            "<path class=\"mark fallback\" d=\"M10,3 l7,7 l-7,7 l-7,-7 z\"/>",
            "served by the fallback",
        ),
        swatch(
            "<path class=\"mark error\" d=\"M5,5 l10,10 M15,5 l-10,10\"/>",
            "failed",
        ),
        lane(PrimaryKind::Up),
        lane(PrimaryKind::Failing),
        lane(PrimaryKind::CoolingDown),
        swatch(
            "<line class=\"marker\" x1=\"10\" y1=\"1\" x2=\"10\" y2=\"19\"/>",
            "marker",
        ),
    ]
    .join(" ")
}

/// The page's look: large type for a projector, colour never alone (the marks' shapes, the
/// lanes' patterns, the words PASS and FAIL), a print stylesheet. No `<` or `&` in it, so
/// that the page stays well-formed XML.
const STYLE: &str = r##"
:root { --primary: #0072b2; --fallback: #e69f00; --error: #c62828; --ink: #1a1a1a; --muted: #5f6368; --rule: #c8c8c8; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; font-size: 20px; line-height: 1.4; color: var(--ink); background: #ffffff; }
body { margin: 0 auto; padding: 1rem 1.5rem 2rem; max-width: 1500px; }
h1 { font-size: 1.9rem; margin: 0.2rem 0 0.3rem; }
h2 { font-size: 1.4rem; margin: 1.6rem 0 0.6rem; border-bottom: 2px solid var(--rule); }
.run { color: var(--muted); margin: 0.2rem 0 0.6rem; }
.damage { border-left: 6px solid var(--error); padding-left: 0.6rem; }
.verdict { display: inline-block; font-size: 1.5rem; font-weight: 700; padding: 0.35rem 0.9rem; border: 3px solid currentColor; border-radius: 6px; margin: 0.3rem 0; }
.verdict.pass, .status.pass { color: #1b5e20; }
.verdict.fail, .status.fail { color: #b71c1c; }
.verdict.none, .status.none { color: var(--muted); }
.badge { margin-right: 0.4rem; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8rem; }
.card { border: 2px solid var(--rule); border-radius: 8px; padding: 0.5rem 1rem; min-width: 12rem; flex: 1 1 12rem; }
.card .figure { font-size: 2.2rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.card .name { font-weight: 600; }
.card .spans { color: var(--muted); font-size: 0.85rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; margin: 0.4rem 0 0.8rem; }
th, td { text-align: left; padding: 0.25rem 0.6rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th, td:not(:last-child) { white-space: nowrap; }
td:last-child { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table.wide { font-size: 0.8rem; }
table.wide th, table.wide td { padding: 0.25rem 0.4rem; }
th { background: #f1f3f4; }
.status { font-weight: 700; white-space: nowrap; }
figure { margin: 0.6rem 0 1rem; }
figcaption { font-size: 0.9rem; color: var(--ink); }
.key { display: inline-block; margin-right: 1.1rem; white-space: nowrap; }
svg.swatch { width: 1.1em; height: 1.1em; vertical-align: -0.2em; margin-right: 0.3em; }
svg.chart { width: 100%; height: auto; display: block; }
svg text { font-family: inherit; font-size: 15px; fill: var(--ink); }
svg .tick, svg .note { fill: var(--muted); }
svg .note { font-size: 14px; }
svg .lane-name { font-weight: 600; }
svg .lane-name.primary { fill: var(--primary); }
svg .lane-name.fallback { fill: #9a6700; }
svg .lane-name.error { fill: var(--error); }
.band.baseline { fill: #eef4fa; }
.band.down { fill: #fdecea; }
.band.recovering { fill: #fff4dc; }
.band.settled { fill: #eaf6ec; }
svg .band-label { font-weight: 600; fill: var(--muted); }
.mark.primary, .lat.primary, .bin.primary { fill: var(--primary); }
.mark.fallback, .lat.fallback, .bin.fallback { fill: var(--fallback); stroke: #7a5200; stroke-width: 0.6; }
.mark.error, .lat.error { fill: none; stroke: var(--error); stroke-width: 2.2; }
.bin.error { fill: var(--error); }
.mark.unanswered { fill: none; stroke: var(--error); stroke-width: 1.6; }
.lat-max { fill: none; stroke: #333333; stroke-width: 1.4; }
.lane.up { fill: #009e73; }
.lane.failing { fill: url(#hatch-failing); stroke: #b3261e; stroke-width: 0.8; }
.lane.cooling_down { fill: url(#stripes-cooling); stroke: #8e44ad; stroke-width: 0.8; }
.lane.refused { fill: url(#dots-refused); }
svg .lane-label { font-size: 13px; font-weight: 700; fill: #ffffff; paint-order: stroke; stroke: #222222; stroke-width: 2.5px; }
.marker { stroke: #222222; stroke-width: 1.6; stroke-dasharray: 5 4; }
svg .marker-label { font-weight: 600; }
.grid { stroke: #d9d9d9; stroke-width: 1; }
.axis { stroke: #444444; stroke-width: 1.2; }
svg .axis-title { fill: var(--muted); }
footer { margin-top: 2rem; color: var(--muted); font-size: 0.85rem; }
@media print {
  html { font-size: 10.5pt; }
  body { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure, table, .card, header { break-inside: avoid; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
@page { size: A4 landscape; margin: 12mm; }
"##;
