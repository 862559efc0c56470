//! The report in Markdown, to paste in a ticket: the same tables as the text, every cell from
//! the record escaped so that a model name or an error message cannot break a table or turn
//! into a link, an image or HTML.

use std::fmt::Write as _;

use super::text::{litellm_rows, phase_rows, setup_rows, timeline_rows};
use super::{Report, Status};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", escape(&report.title()));
    let _ = writeln!(out, "Record: {}\n", escape(&report.run_text()));
    if let Some(damage) = &report.source.damage {
        let _ = writeln!(out, "**Damaged record:** {}\n", escape(damage));
    }
    let _ = writeln!(out, "**Verdict: {}**", escape(&report.verdict_text()));
    if let Some(ended) = report.setup.drill.as_ref().and_then(|d| d.ended.as_ref()) {
        let _ = writeln!(out, "\n**Drill:** {}", escape(ended));
    }

    let _ = writeln!(out, "\n## Budgets\n");
    if report.budgets.is_empty() {
        let _ = writeln!(out, "No budgets given.");
    } else {
        let rows: Vec<Vec<String>> = report
            .budgets
            .iter()
            .map(|j| {
                let mark = match j.status {
                    Status::Pass => "✅",
                    Status::Fail => "❌",
                    Status::NotMeasured => "➖",
                };
                vec![
                    format!("{mark} {}", j.status.as_str()),
                    j.budget.text(),
                    j.figure.clone(),
                ]
            })
            .collect();
        table(&mut out, &["status", "budget", "figure"], &rows);
    }

    let _ = writeln!(out, "\n## Durations\n");
    let rows: Vec<Vec<String>> = report
        .durations
        .rows()
        .into_iter()
        .map(|row| {
            vec![
                row.name.to_owned(),
                row.lapse.map_or("—".to_owned(), |l| l.text()),
                row.spans.to_owned(),
            ]
        })
        .collect();
    table(&mut out, &["duration", "figure", "from → to"], &rows);

    let heading = if report.fault.is_some() {
        "Timeline (T = the fault)"
    } else {
        "Timeline (no fault in the record: times from the start)"
    };
    let _ = writeln!(out, "\n## {heading}\n");
    table(
        &mut out,
        &["time", "clock", "fact", "detail"],
        &timeline_rows(report),
    );

    let _ = writeln!(out, "\n## Requests by phase\n");
    let mut phases = phase_rows(report);
    let header: Vec<String> = phases.remove(0);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&mut out, &header, &phases);

    let _ = writeln!(out, "\n## LiteLLM's own counts\n");
    table(&mut out, &["count", "figure"], &litellm_rows(report));

    let _ = writeln!(out, "\n## Setup\n");
    table(&mut out, &["setting", "value"], &setup_rows(report));
    out
}

/// A table with `header`, each cell escaped; a short row is padded with empty cells.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let line = |cells: Vec<String>| format!("| {} |", cells.join(" | "));
    let _ = writeln!(out, "{}", line(header.iter().map(|h| escape(h)).collect()));
    let _ = writeln!(
        out,
        "{}",
        line(header.iter().map(|_| "---".into()).collect())
    );
    for row in rows {
        let cells = (0..header.len())
            .map(|i| row.get(i).map_or(String::new(), |c| escape(c)))
            .collect();
        let _ = writeln!(out, "{}", line(cells));
    }
}

/// `text` safe within a Markdown line or table cell: the characters that make tables,
/// emphasis, code, links, images and HTML are escaped; line breaks become spaces. (No line
/// starts with a record's text, so `#`, `-` and `1.` cannot make a heading or a list.)
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
