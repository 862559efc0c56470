//! The report for the terminal: sections of aligned columns, plain text (the record's texts
//! were cleaned of controls when read).

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr;

use super::{Report, figure, latencies, litellm_count, percent, primary_word};
use crate::probe::Role;
use crate::text::format;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", report.title());
    let _ = writeln!(out, "{}", report.run_text());
    if let Some(damage) = &report.source.damage {
        let _ = writeln!(out, "damaged record: {damage}");
    }
    let _ = writeln!(out, "verdict: {}", report.verdict_text());
    if let Some(ended) = report.setup.drill.as_ref().and_then(|d| d.ended.as_ref()) {
        let _ = writeln!(out, "drill: {ended}");
    }
    section(&mut out, "Setup", &table(&setup_rows(report)));
    let base = if report.fault.is_some() {
        "Timeline (T = the fault)"
    } else {
        "Timeline (no fault in the record: times from the start)"
    };
    section(&mut out, base, &table(&timeline_rows(report)));
    let durations: Vec<Vec<String>> = report
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
    section(&mut out, "Durations", &table(&durations));
    section(&mut out, "Requests by phase", &table(&phase_rows(report)));
    section(
        &mut out,
        "LiteLLM's own counts",
        &table(&litellm_rows(report)),
    );
    let budgets = if report.budgets.is_empty() {
        "no budgets given (--max-failed, --max-failover, --max-recovery, --min-availability)\n"
            .to_owned()
    } else {
        table(
            &report
                .budgets
                .iter()
                .map(|j| {
                    vec![
                        j.status.as_str().to_owned(),
                        j.budget.text(),
                        j.figure.clone(),
                    ]
                })
                .collect::<Vec<_>>(),
        )
    };
    section(&mut out, "Budgets", &budgets);
    let _ = writeln!(out, "\nverdict: {}", report.verdict_text());
    out
}

fn section(out: &mut String, title: &str, body: &str) {
    let _ = writeln!(out, "\n{title}");
    for line in body.lines() {
        let _ = writeln!(out, "  {line}");
    }
}

/// Rows in columns padded to their widest cell, two spaces apart.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format::fit_columns(cell, widths[c]));
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn setup_rows(report: &Report) -> Vec<Vec<String>> {
    let setup = &report.setup;
    let info = &setup.info;
    let row = |name: &str, value: String| vec![name.to_owned(), value];
    let mut rows = vec![
        row(
            "proxy",
            if info.simulated {
                format!("{} (the demo's simulated gateway)", info.first().url)
            } else {
                info.first().url.clone()
            },
        ),
        row(
            "LiteLLM release",
            setup
                .litellm_version
                .clone()
                .unwrap_or_else(|| "not recorded".to_owned()),
        ),
        row("primary group", info.first().primary.clone()),
        row(
            "fallback group",
            info.first()
                .fallback
                .clone()
                .unwrap_or_else(|| "not given".to_owned()),
        ),
    ];
    if !setup.models.is_empty() {
        let served = setup
            .models
            .iter()
            .map(|m| {
                let side = match m.role {
                    Role::Primary => "primary",
                    Role::Fallback => "fallback",
                };
                format!("{} ({side}) {}", m.model, m.requests)
            })
            .collect::<Vec<_>>()
            .join(", ");
        rows.push(row("served by", served));
    }
    let changes = match setup.interval_changes {
        0 => String::new(),
        1 => ", changed once during the run".to_owned(),
        n => format!(", changed {n} times during the run"),
    };
    rows.push(row(
        "interval",
        format!("{}{changes}", format::interval(info.first().interval)),
    ));
    rows.push(row("timeout", format::interval(info.first().timeout)));
    rows.push(row(
        "down after",
        format!("{} failed requests in a row", info.down_after),
    ));
    rows.push(row(
        "primary's lane",
        info.first().lane.mode.as_str().to_owned(),
    ));
    if info.first().stream {
        rows.push(row("stream", "on".to_owned()));
    }
    for notice in &setup.notices {
        rows.push(row("notice", notice.message.clone()));
    }
    if let Some(drill) = &setup.drill {
        rows.push(row(
            "router (drill)",
            drill
                .router
                .clone()
                .unwrap_or_else(|| "not stated".to_owned()),
        ));
        for command in &drill.commands {
            rows.push(row(
                &format!("drill {}", command.step),
                command_text(command),
            ));
        }
        if let Some(ended) = &drill.ended {
            rows.push(row("drill ended", ended.clone()));
        }
    }
    rows
}

/// A drill's command, its exit status and output in a line.
pub fn command_text(command: &super::DrillCommand) -> String {
    let status = command
        .exit_status
        .map_or("no exit status".to_owned(), |s| format!("exit {s}"));
    if command.output.is_empty() {
        format!("{} → {status}", command.command)
    } else {
        format!("{} → {status}: {}", command.command, command.output)
    }
}

pub fn timeline_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = report
        .timeline
        .iter()
        .map(|fact| {
            vec![
                report.relative(fact.at),
                report.wall.hms(fact.at),
                fact.what.title(),
                fact.what.detail(fact.seq),
            ]
        })
        .collect();
    if report.left_out > 0 {
        rows.push(vec![
            String::new(),
            String::new(),
            format!("… {} more", report.left_out),
            "primary changes and markers not listed".to_owned(),
        ]);
    }
    if rows.is_empty() {
        rows.push(vec!["nothing happened: no fault, no marker".to_owned()]);
    }
    rows
}

pub fn phase_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "phase",
            "from",
            "to",
            "requests",
            "primary",
            "fallback",
            "failed",
            "errors",
            "served",
            "p50",
            "p95",
            "max",
            "LiteLLM fallbacks",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    let mut add = |name: String, from: String, to: String, c: &super::Counts| {
        let [p50, p95, max] = latencies(c.percentiles());
        let failed = if c.abandoned > 0 {
            format!("{} (+{} unanswered)", c.failed, c.abandoned)
        } else {
            c.failed.to_string()
        };
        rows.push(vec![
            name,
            from,
            to,
            c.requests.to_string(),
            c.primary.to_string(),
            c.fallback.to_string(),
            failed,
            c.errors_text(),
            percent(c.availability()),
            p50,
            p95,
            max,
            litellm_count(c.litellm_fallbacks),
        ]);
    };
    for phase in &report.phases {
        add(
            phase.phase.as_str().to_owned(),
            report.relative(phase.from),
            report.relative(phase.to),
            &phase.counts,
        );
    }
    add(
        "whole run".to_owned(),
        report.relative(std::time::Duration::ZERO),
        report.relative(report.length),
        &report.whole,
    );
    rows
}

pub fn litellm_rows(report: &Report) -> Vec<Vec<String>> {
    let l = &report.litellm;
    let fallbacks = match l.attempted_fallbacks {
        Some(n) => format!(
            "{n} ({} of {} answers said a fallback was attempted)",
            l.answers_with_fallbacks, l.answers_with_header
        ),
        None => litellm_count(None),
    };
    let cooldowns = match (l.cooldowns, l.cooldown_time) {
        (Some(n), Some(time)) => format!("{n} (cooldown_time {})", figure(time)),
        (Some(n), None) => n.to_string(),
        (None, _) => "not recorded (no direct probes)".to_owned(),
    };
    let mut rows = vec![
        vec![
            "attempted fallbacks (x-litellm-attempted-fallbacks)".to_owned(),
            fallbacks,
        ],
        vec![
            format!(
                "cooldowns of the primary (its direct answers: {})",
                primary_word(crate::state::PrimaryKind::CoolingDown)
            ),
            cooldowns,
        ],
    ];
    let exported = |n: Option<u64>| n.map_or("not exported".to_owned(), |n| n.to_string());
    match &l.metrics {
        Some(m) => rows.extend([
            vec![
                "cooldowns started (LiteLLM's metrics)".to_owned(),
                exported(m.cooldowns),
            ],
            vec![
                "fallbacks served (LiteLLM's metrics)".to_owned(),
                match (m.fallbacks, m.fallbacks_in_cooldown) {
                    (Some(n), Some(cooling)) => {
                        format!("{n} ({cooling} because the primary was cooling down)")
                    }
                    (n, _) => exported(n),
                },
            ],
            vec![
                "fallbacks that failed too (LiteLLM's metrics)".to_owned(),
                exported(m.failed_fallbacks),
            ],
        ]),
        None => rows.push(vec![
            "LiteLLM's metrics".to_owned(),
            "not read (--proxy-metrics off, or the proxy does not export them)".to_owned(),
        ]),
    }
    rows
}
