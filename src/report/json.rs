//! The report as one JSON object, a stable schema (docs/report.md, `report_version`): times as
//! RFC 3339 and as signed seconds from the fault, durations in seconds, latencies in
//! milliseconds, counts as integers, `null` where the record does not say.

use serde_json::{Map, Value, json};

use super::{Bad, Counts, Fact, FaultFound, REPORT_VERSION, Report, UpFound, What};
use crate::probe::Role;
use crate::text::format::{millis, seconds};

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(&value(report)).expect("a JSON value prints");
    text.push('\n');
    text
}

/// The report as a JSON value.
pub fn value(report: &Report) -> Value {
    let setup = &report.setup;
    let info = &setup.info;
    let at = |d| report.wall.rfc3339(d);
    let t = |d| round(report.relative_secs(d));
    let phases: Vec<Value> = report
        .phases
        .iter()
        .map(|p| {
            let mut phase = Map::new();
            phase.insert("phase".into(), json!(p.phase.as_str()));
            phase.insert("from".into(), json!(at(p.from)));
            phase.insert("to".into(), json!(at(p.to)));
            phase.insert("from_t_secs".into(), json!(t(p.from)));
            phase.insert("to_t_secs".into(), json!(t(p.to)));
            phase.extend(counts(&p.counts));
            Value::Object(phase)
        })
        .collect();
    let durations: Map<String, Value> = report
        .durations
        .rows()
        .into_iter()
        .map(|row| {
            (
                format!("{}_secs", row.key),
                json!(row.lapse.map(|l| round(l.secs()))),
            )
        })
        .collect();
    let budgets: Vec<Value> = report
        .budgets
        .iter()
        .map(|j| {
            json!({
                "budget": j.budget.key(),
                "text": j.budget.text(),
                "limit": j.budget.limit(),
                "figure": j.value.map(round),
                "figure_text": j.figure,
                "status": j.status.key(),
            })
        })
        .collect();
    let litellm = &report.litellm;
    json!({
        "report_version": REPORT_VERSION,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "record": {
            "file": report.source.file,
            "run": report.source.run,
            "runs": report.source.runs,
            "damage": report.source.damage,
        },
        "setup": {
            "proxy": info.first().url,
            "simulated": info.simulated,
            "litellm_version": setup.litellm_version,
            "primary": info.first().primary,
            "fallback": info.first().fallback,
            "interval_ms": millis(info.first().interval),
            "interval_changes": setup.interval_changes,
            "timeout_ms": millis(info.first().timeout),
            "down_after": info.down_after,
            "direct": info.first().lane.mode,
            "stream": info.first().stream,
            "started_at": at(std::time::Duration::ZERO),
            "duration_secs": seconds(report.length),
            "served_by": setup.models.iter().map(|m| json!({
                "model": m.model,
                "role": role(m.role),
                "requests": m.requests,
            })).collect::<Vec<_>>(),
            "notices": setup.notices.iter().map(|n| json!({
                "at": at(n.at),
                "kind": serde_json::to_value(n.kind).unwrap_or(Value::Null),
                "message": n.message,
            })).collect::<Vec<_>>(),
            "drill": setup.drill.as_ref().map(|d| json!({
                "router": d.router,
                "commands": d.commands.iter().map(|c| json!({
                    "step": c.step,
                    "command": c.command,
                    "exit_status": c.exit_status,
                    "output": c.output,
                })).collect::<Vec<_>>(),
                "ended": d.ended,
            })),
        },
        "fault_at": report.fault.map(at),
        "timeline": report.timeline.iter().map(|f| fact(report, f)).collect::<Vec<_>>(),
        "facts_left_out": report.left_out,
        "durations": durations,
        "phases": phases,
        "whole": Value::Object(counts(&report.whole)),
        "litellm": {
            "attempted_fallbacks": litellm.attempted_fallbacks,
            "answers_with_header": litellm.answers_with_header,
            "answers_with_fallbacks": litellm.answers_with_fallbacks,
            "cooldowns": litellm.cooldowns,
            "cooldown_time_secs": litellm.cooldown_time.map(seconds),
            "metrics": litellm.metrics.map(|m| json!({
                "cooldowns": m.cooldowns,
                "fallbacks": m.fallbacks,
                "fallbacks_in_cooldown": m.fallbacks_in_cooldown,
                "failed_fallbacks": m.failed_fallbacks,
            })),
        },
        "budgets": budgets,
        "verdict": report.verdict().key(),
        "verdict_text": report.verdict_text(),
    })
}

/// Seconds or percent with three decimals.
fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn role(role: Role) -> &'static str {
    match role {
        Role::Primary => "primary",
        Role::Fallback => "fallback",
    }
}

fn counts(c: &Counts) -> Map<String, Value> {
    let errors: Map<String, Value> = c
        .by_error
        .iter()
        .map(|(kind, n)| (kind.as_str().to_owned(), json!(n)))
        .collect();
    let latency = c
        .percentiles()
        .map(|p| json!({"p50": millis(p.p50), "p95": millis(p.p95), "max": millis(p.max)}));
    let value = json!({
        "requests": c.requests,
        "primary": c.primary,
        "fallback": c.fallback,
        "failed": c.failed,
        "errors": errors,
        "slow": c.slow,
        "unanswered": c.abandoned,
        "availability_percent": c.availability().map(round),
        "latency_ms": latency,
        "litellm_attempted_fallbacks": c.litellm_fallbacks,
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("an object"),
    }
}

/// One fact: what every fact has, and its own fields.
fn fact(report: &Report, fact: &Fact) -> Value {
    let mut value = json!({
        "event": fact.what.key(),
        "at": report.wall.rfc3339(fact.at),
        "t_secs": round(report.relative_secs(fact.at)),
        "seq": fact.seq,
        "title": fact.what.title(),
        "detail": fact.what.detail(fact.seq),
    });
    let own = match &fact.what {
        What::Fault(FaultFound::Marker { id }) => json!({"found": "marker", "marker": id}),
        What::Fault(FaultFound::Inferred(bad)) => {
            json!({"found": "inferred", "marker": null, "cause": bad_key(bad)})
        }
        What::FirstBad(bad) => json!({"cause": bad_key(bad), "error_kind": match bad {
            Bad::Failed { kind, .. } => json!(kind.as_str()),
            _ => Value::Null,
        }}),
        What::Failover { model } | What::Recovery { model } => json!({"model": model}),
        What::Primary { from, to, message } => json!({
            "from": from.map(|k| k.as_str()),
            "to": to.as_str(),
            "message": message,
        }),
        What::Up(UpFound::Marker { id }) => json!({"found": "marker", "marker": id}),
        What::Up(UpFound::PrimaryState) => json!({"found": "inferred", "marker": null}),
        What::PrimaryAlone => json!({}),
        What::Marker { id, label } => json!({"marker": id, "label": label}),
    };
    if let (Value::Object(all), Value::Object(own)) = (&mut value, own) {
        all.extend(own);
    }
    value
}

fn bad_key(bad: &Bad) -> &'static str {
    match bad {
        Bad::Failed { .. } => "failed",
        Bad::Slow { .. } => "slow",
        Bad::ByFallback { .. } => "fallback",
    }
}
