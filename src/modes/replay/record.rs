//! Reading a record (`--record`, or `--output jsonl`) back into the inputs the run's state was
//! fed: every probe sent and answered, skipped or abandoned, every marker and counters reset,
//! each at the moment it happened. Lines the state derives (transitions, the primary's
//! changes, notices) are not read: the replay derives them again through the same core.

use std::io::BufRead;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;

use crate::clock::WallClock;
use crate::output::RunInfo;
use crate::output::records::RECORD_VERSION;
use crate::probe::outcome::{Cooling, Failure};
use crate::probe::{
    ErrorKind, Evidence, Lane, ProbeEvent, ProbeOutcome, ProbeReport, Role, Route, Served,
};
use crate::state::Verdict;

/// One thing the state was fed, replayable as often as needed.
#[derive(Clone, Debug)]
pub enum Step {
    Probe(ProbeEvent),
    Mark {
        at: Duration,
        after_seq: u64,
        label: Option<String>,
    },
    ResetCounters {
        at: Duration,
    },
    Interval {
        at: Duration,
        every: Duration,
    },
}

/// A record read back.
#[derive(Debug)]
pub struct Record {
    pub info: RunInfo,
    pub wall: WallClock,
    /// The steps in the order the state took them, each with its moment.
    pub steps: Vec<(Duration, Step)>,
    /// When the run ended: its summary's, else its last step's.
    pub end: Duration,
    /// Why the record ends early (its last line cut short), if it does.
    pub damage: Option<String>,
}

/// What is wrong with a record, and where.
#[derive(Debug, PartialEq, Eq)]
pub struct RecordError(pub String);

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a record line by line from `input` (a week's record at the default interval is
/// 144 MiB), keeping its steps, not its text; `name` is what the messages call it.
pub fn read(mut input: impl BufRead, name: &str) -> Result<Record, RecordError> {
    let mut reader = Reader::default();
    let mut damage = None;
    let mut line = Vec::new();
    let mut number = 0;
    // Only blank lines so far: the file may be empty; else line 1's fault, told at the first
    // line with text.
    let mut only_blanks = true;
    let mut first_fault = None;
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|error| RecordError(format!("{name} cannot be read: {error}")))?;
        if read == 0 {
            break;
        }
        number += 1;
        let complete = line.ends_with(b"\n");
        if complete {
            line.pop();
        }
        let blank = line.iter().all(u8::is_ascii_whitespace);
        if only_blanks && !blank {
            only_blanks = false;
            if let Some(fault) = first_fault.take() {
                return Err(fault);
            }
        }
        let parsed = std::str::from_utf8(&line)
            .map_err(|_| "it is not text".to_owned())
            .and_then(|text| reader.line(text));
        match parsed {
            Ok(()) => {}
            // A run stopped while writing leaves its last line cut: play what came before.
            Err(why) if !complete && number > 1 && !only_blanks => {
                damage = Some(format!(
                    "{name}: line {number} is cut short ({why}): replayed up to line {}",
                    number - 1
                ));
                break;
            }
            Err(why) if number == 1 => {
                let fault = RecordError(format!(
                    "{name}: line 1 {why}: this is not a failover-watch record"
                ));
                if !blank {
                    return Err(fault);
                }
                first_fault = Some(fault);
            }
            Err(_) if only_blanks => {}
            Err(why) => return Err(RecordError(format!("{name}: line {number}: {why}"))),
        }
    }
    if only_blanks {
        return Err(RecordError(format!("{name} is empty: no record to replay")));
    }
    reader.finish(damage, name)
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Run(RunFields),
    Request(RequestFields),
    Direct(DirectFields),
    Skip(SkipFields),
    Abandoned(AbandonedFields),
    Marker(MarkerFields),
    Reset(ResetFields),
    Interval(IntervalFields),
    Summary(SummaryFields),
    /// Derived again by the replay (transitions, the primary's changes, notices), or added
    /// by a later build: not read.
    #[serde(other)]
    Derived,
}

#[derive(Deserialize)]
struct RunFields {
    record_version: u32,
    started_at: String,
    utc_offset_secs: i32,
    url: String,
    primary: String,
    fallback: Option<String>,
    interval_ms: f64,
    timeout_ms: f64,
    down_after: u32,
    stream: bool,
    simulated: bool,
    direct: bool,
}

/// What a route said that a replay needs.
#[derive(Deserialize)]
struct RouteFields {
    litellm_version: Option<String>,
    router_timeout_secs: Option<f64>,
    lookup_failure: Option<String>,
}

#[derive(Deserialize)]
struct RequestFields {
    seq: u64,
    sent_at: String,
    latency_ms: f64,
    ttft_ms: Option<f64>,
    result: Verdict,
    model: Option<String>,
    model_group: Option<String>,
    api_base: Option<String>,
    attempted_fallbacks: Option<u32>,
    status: Option<u16>,
    error_kind: Option<ErrorKind>,
    error: Option<String>,
    reply: Option<String>,
    model_id: Option<String>,
    evidence: Option<Evidence>,
    #[serde(flatten)]
    route: RouteFields,
}

#[derive(Deserialize)]
struct DirectFields {
    seq: u64,
    sent_at: String,
    latency_ms: f64,
    status: Option<u16>,
    message: Option<String>,
    cooldown_ids: Option<Vec<String>>,
    result: Verdict,
    model: Option<String>,
    error_kind: Option<ErrorKind>,
    cooldown_api_bases: Option<Vec<String>>,
    cooldown_secs: Option<f64>,
    #[serde(flatten)]
    route: RouteFields,
}

#[derive(Deserialize)]
struct SkipFields {
    at: String,
    in_flight: usize,
    lane: Lane,
}

#[derive(Deserialize)]
struct AbandonedFields {
    seq: u64,
    sent_at: String,
    waited_ms: f64,
    lane: Lane,
}

#[derive(Deserialize)]
struct MarkerFields {
    at: String,
    after_seq: u64,
    label: Option<String>,
}

#[derive(Deserialize)]
struct ResetFields {
    at: String,
}

#[derive(Deserialize)]
struct IntervalFields {
    at: String,
    interval_ms: f64,
}

#[derive(Deserialize)]
struct SummaryFields {
    duration_secs: f64,
}

#[derive(Default)]
struct Reader {
    run: Option<(RunFields, DateTime<Utc>)>,
    /// Probes as they were sent, by time.
    sent: Vec<(Duration, Lane, u64)>,
    /// Everything else, in the order it was applied, with its moment.
    applied: Vec<(Duration, Step)>,
    end: Option<Duration>,
}

impl Reader {
    fn line(&mut self, text: &str) -> Result<(), String> {
        let not_json = |e: serde_json::Error| format!("is not JSON: {e}");
        if self.run.is_none() {
            // The first line says what was watched; records without it are older than
            // record_version 1.
            let first: serde_json::Value = serde_json::from_str(text).map_err(not_json)?;
            if first.get("type").and_then(serde_json::Value::as_str) != Some("run") {
                return Err("is not the run's line (a record starts with one since \
                            record_version 1: an older failover-watch's output, or not a record)"
                    .to_owned());
            }
        }
        let line: Line = serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => format!("is not a line of a record: {e}"),
            _ => not_json(e),
        })?;
        let Some((_, origin)) = &self.run else {
            return match line {
                Line::Run(run) => self.start(run),
                _ => Err("is not the run's line".to_owned()),
            };
        };
        let origin = *origin;
        let at = |time: &str| offset(time, origin);
        match line {
            Line::Run(_) => return Err("a second run line: two records in one file?".to_owned()),
            Line::Request(r) => {
                let sent_at = at(&r.sent_at)?;
                self.answered(Lane::Normal, r.seq, sent_at, request_report(r));
            }
            Line::Direct(d) => {
                let sent_at = at(&d.sent_at)?;
                self.answered(Lane::Direct, d.seq, sent_at, direct_report(d));
            }
            Line::Skip(s) => {
                let at = at(&s.at)?;
                let step = ProbeEvent::Skipped {
                    lane: s.lane,
                    at,
                    in_flight: s.in_flight,
                };
                self.push(at, Step::Probe(step));
            }
            Line::Abandoned(a) => {
                let sent_at = at(&a.sent_at)?;
                let gone = sent_at + micros(a.waited_ms);
                self.sent.push((sent_at, a.lane, a.seq));
                let step = ProbeEvent::Abandoned {
                    lane: a.lane,
                    seq: a.seq,
                    sent_at,
                    at: gone,
                };
                self.push(gone, Step::Probe(step));
            }
            Line::Marker(m) => {
                let at = at(&m.at)?;
                let step = Step::Mark {
                    at,
                    after_seq: m.after_seq,
                    label: m.label,
                };
                self.push(at, step);
            }
            Line::Reset(r) => {
                let at = at(&r.at)?;
                self.push(at, Step::ResetCounters { at });
            }
            Line::Interval(i) => {
                let at = at(&i.at)?;
                let every = micros(i.interval_ms);
                self.push(at, Step::Interval { at, every });
            }
            Line::Summary(s) => {
                // Whole milliseconds, as the run ended (see `SessionClock::end`).
                self.end = Some(micros((s.duration_secs * 1000.0).round()));
            }
            Line::Derived => {}
        }
        Ok(())
    }

    fn start(&mut self, run: RunFields) -> Result<(), String> {
        if run.record_version > RECORD_VERSION {
            return Err(format!(
                "is a record_version {} record, from a newer failover-watch (this one reads \
                 {RECORD_VERSION})",
                run.record_version
            ));
        }
        let origin = DateTime::parse_from_rfc3339(&run.started_at)
            .map_err(|e| format!("started_at {:?} is no time: {e}", run.started_at))?
            .with_timezone(&Utc);
        self.run = Some((run, origin));
        Ok(())
    }

    fn answered(&mut self, lane: Lane, seq: u64, sent_at: Duration, report: ProbeReport) {
        self.sent.push((sent_at, lane, seq));
        let outcome = ProbeOutcome {
            lane,
            seq,
            sent_at,
            report,
        };
        let at = outcome.answered_at();
        self.push(at, Step::Probe(ProbeEvent::Answered(Box::new(outcome))));
    }

    /// Keeps the order of the record: a step is never earlier than the one before it.
    fn push(&mut self, at: Duration, step: Step) {
        let at = self.applied.last().map_or(at, |(last, _)| at.max(*last));
        self.applied.push((at, step));
    }

    fn finish(mut self, damage: Option<String>, name: &str) -> Result<Record, RecordError> {
        let Some((run, origin)) = self.run else {
            return Err(RecordError(format!("{name} has no run line: not a record")));
        };
        // Each probe leaves before its answer: the sends, in time order (the direct probe of
        // a tick first, as the schedule sends it), merged with the rest.
        self.sent
            .sort_by_key(|(at, lane, seq)| (*at, *lane == Lane::Normal, *seq));
        let sent_step = |(at, lane, seq): (Duration, Lane, u64)| {
            (at, Step::Probe(ProbeEvent::Sent { lane, seq, at }))
        };
        let mut steps = Vec::with_capacity(self.sent.len() + self.applied.len());
        let mut sent = self.sent.into_iter().peekable();
        for (at, step) in self.applied {
            while let Some(before) = sent.next_if(|(sent_at, ..)| *sent_at <= at) {
                steps.push(sent_step(before));
            }
            steps.push((at, step));
        }
        steps.extend(sent.map(sent_step));
        let last = steps.last().map_or(Duration::ZERO, |(at, _)| *at);
        let offset = FixedOffset::east_opt(run.utc_offset_secs)
            .ok_or_else(|| RecordError(format!("{name}: line 1: no such UTC offset")))?;
        let info = RunInfo {
            url: run.url,
            primary: run.primary,
            fallback: run.fallback,
            interval: micros(run.interval_ms),
            timeout: micros(run.timeout_ms),
            stream: run.stream,
            simulated: run.simulated,
            direct: run.direct,
            down_after: run.down_after,
            replay: Some(name.to_owned()),
        };
        Ok(Record {
            info,
            wall: WallClock::new(origin, offset),
            steps,
            end: self.end.unwrap_or(last).max(last),
            damage,
        })
    }
}

/// A time of the record as an offset from the run's start.
fn offset(time: &str, origin: DateTime<Utc>) -> Result<Duration, String> {
    let at = DateTime::parse_from_rfc3339(time).map_err(|e| format!("{time:?} is no time: {e}"))?;
    (at.with_timezone(&Utc) - origin)
        .to_std()
        .map_err(|_| format!("{time} is before the run started"))
}

/// Milliseconds as the record writes them (whole microseconds) back into a duration.
fn micros(ms: f64) -> Duration {
    Duration::from_micros((ms * 1000.0).round().max(0.0) as u64)
}

fn route(fields: RouteFields) -> Route {
    Route {
        version: fields.litellm_version,
        router_timeout: fields
            .router_timeout_secs
            .and_then(crate::clock::duration::from_secs),
        lookup_failure: fields.lookup_failure,
        ..Route::default()
    }
}

/// What a line says came back: who served, or how it failed.
fn result(
    verdict: Verdict,
    served: impl FnOnce(Role) -> Served,
    kind: Option<ErrorKind>,
    message: Option<String>,
) -> Result<Served, Failure> {
    match verdict {
        Verdict::Primary => Ok(served(Role::Primary)),
        Verdict::Fallback => Ok(served(Role::Fallback)),
        Verdict::Error => Err(Failure {
            kind: kind.unwrap_or(ErrorKind::Http),
            message: message.unwrap_or_default(),
        }),
    }
}

fn request_report(r: RequestFields) -> ProbeReport {
    let (model, evidence, reply) = (r.model, r.evidence, r.reply);
    let served = |role| Served {
        role,
        model: model.unwrap_or_default(),
        evidence: evidence.unwrap_or(Evidence::ModelGroupHeader),
        reply: reply.unwrap_or_default(),
    };
    ProbeReport {
        latency: micros(r.latency_ms),
        status: r.status,
        route: Route {
            model_group: r.model_group,
            model_id: r.model_id,
            api_base: r.api_base,
            attempted_fallbacks: r.attempted_fallbacks,
            ..route(r.route)
        },
        ttft: r.ttft_ms.map(micros),
        result: result(r.result, served, r.error_kind, r.error),
    }
}

fn direct_report(d: DirectFields) -> ProbeReport {
    let model = d.model;
    // A direct answer's evidence and reply are not shown: none is recorded.
    let served = |role| Served {
        role,
        model: model.unwrap_or_default(),
        evidence: Evidence::ModelGroupHeader,
        reply: String::new(),
    };
    let cooling = d.cooldown_ids.map(|ids| Cooling {
        ids,
        api_bases: d.cooldown_api_bases.unwrap_or_default(),
        cooldown: d.cooldown_secs.and_then(crate::clock::duration::from_secs),
    });
    ProbeReport {
        latency: micros(d.latency_ms),
        status: d.status,
        route: Route {
            cooling,
            ..route(d.route)
        },
        ttft: None,
        result: result(d.result, served, d.error_kind, d.message),
    }
}
