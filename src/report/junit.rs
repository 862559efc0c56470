//! The report as JUnit XML, for CI systems: one test case per budget, a `failure` for a broken
//! one, `skipped` for one the record cannot measure; the durations as properties and the text
//! report as the suite's output.

use std::fmt::Write as _;

use super::xml::escape;
use super::{Report, Status};

pub fn render(report: &Report) -> String {
    let count = |status| report.budgets.iter().filter(|j| j.status == status).count();
    let (tests, failures, skipped) = (
        report.budgets.len(),
        count(Status::Fail),
        count(Status::NotMeasured),
    );
    let timestamp = report
        .wall
        .origin()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let name = escape(&report.title());
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<testsuites name="failover-watch report" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}">"#
    );
    let _ = writeln!(
        out,
        r#"  <testsuite name="{name}" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}" timestamp="{timestamp}" time="{:.3}">"#,
        report.length.as_secs_f64()
    );
    let _ = writeln!(out, "    <properties>");
    let mut property = |name: &str, value: &str| {
        let _ = writeln!(
            out,
            r#"      <property name="{}" value="{}"/>"#,
            escape(name),
            escape(value)
        );
    };
    property("record", &report.source.file);
    property("verdict", &report.verdict_text());
    if let Some(ended) = report.setup.drill.as_ref().and_then(|d| d.ended.as_ref()) {
        property("drill ended", ended);
    }
    for row in report.durations.rows() {
        let figure = row.lapse.map_or("not reached".to_owned(), |l| l.text());
        property(row.name, &figure);
    }
    let _ = writeln!(out, "    </properties>");
    for judged in &report.budgets {
        let _ = write!(
            out,
            r#"    <testcase classname="failover-watch.budgets" name="{}: {}" time="0">"#,
            judged.budget.key(),
            escape(&judged.budget.text())
        );
        let said = format!("{}: {}", judged.budget.text(), judged.figure);
        match judged.status {
            Status::Pass => {}
            Status::Fail => {
                let _ = write!(
                    out,
                    "\n      <failure type=\"budget\" message=\"{}\">budget broken: {}</failure>\n    ",
                    escape(&said),
                    escape(&said)
                );
            }
            Status::NotMeasured => {
                let _ = write!(
                    out,
                    "\n      <skipped message=\"{}\"/>\n    ",
                    escape(&said)
                );
            }
        }
        let _ = writeln!(out, "</testcase>");
    }
    let _ = writeln!(
        out,
        "    <system-out>{}</system-out>",
        escape(&super::text::render(report))
    );
    let _ = writeln!(out, "  </testsuite>");
    let _ = writeln!(out, "</testsuites>");
    out
}
