//! Reading a record (`--record`, or `--output jsonl`) back into the inputs the run's state was
//! fed: every probe sent and answered, skipped or abandoned, every marker, counters reset and
//! interval change, each at the moment it happened. The lines are the output's own schema
//! ([`crate::output::schema`]); the lines the state derives (transitions, the primary's
//! changes, notices) are read past: the replay derives them again through the same core.
//!
//! A record is untrusted input: a line longer than [`MAX_LINE_BYTES`] is damage, every text
//! read from it is cleaned as a server's text is, its times must fall within the run.

use std::collections::HashSet;
use std::io::BufRead;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};

use crate::clock::WallClock;
use crate::clock::duration::{LONGEST, from_secs};
use crate::output::schema::{
    AbandonedLine, DirectLine, Line, RECORD_VERSION, RequestLine, RouteExtras, RunLine,
};
use crate::output::{RunInfo, TargetInfo};
use crate::probe::event::{Cooling, Failure};
use crate::probe::{
    ErrorKind, Evidence, Lane, ProbeEvent, ProbeOutcome, ProbeReport, Role, Route, Served,
    TargetId, Verdict,
};
use crate::state::Input;
use crate::state::LaneConfig;
use crate::text::sanitize::clean;

/// The longest line read: a real line is a few KiB at most (a reply and an error are each
/// cut to a thousand characters when they are made); a longer one is damage.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// The longest text kept from any field of a record.
const TEXT_CHARS: usize = 2000;

/// A record read back: one run of the file.
#[derive(Debug)]
pub struct Record {
    pub info: RunInfo,
    pub wall: WallClock,
    /// The inputs in the order the state took them, each with its moment.
    pub steps: Vec<(Duration, Input)>,
    /// When the run ended: its summary's, else its last step's.
    pub end: Duration,
    /// Why the run ends early (a line cut short, another run appended after), if it does.
    pub damage: Option<String>,
    /// Which run of the file this is, from 1, and how many the file holds.
    pub run: usize,
    pub runs: usize,
}

/// What is wrong with a record, and where.
#[derive(Debug, PartialEq, Eq)]
pub struct RecordError(pub String);

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads the last run of a record line by line from `input`; `name` is what the messages
/// call it.
#[cfg(test)]
pub fn read(input: impl BufRead, name: &str) -> Result<Record, RecordError> {
    read_run(input, name, None)
}

/// Reads run `wanted` (from 1; the last when `None`) of a record line by line from `input`
/// (a week's record at the default interval is 144 MiB), keeping that run's steps, not its
/// text.
pub fn read_run(
    mut input: impl BufRead,
    name: &str,
    wanted: Option<usize>,
) -> Result<Record, RecordError> {
    let mut line = Vec::new();
    let mut number = 0;
    let mut runs = 0;
    let mut reader: Option<Reader> = None;
    let mut chosen: Option<Record> = None;
    // Only blank lines so far: the file may be empty; else line 1's fault, told at the first
    // line with text.
    let mut only_blanks = true;
    let mut first_fault = None;
    loop {
        line.clear();
        let read = read_line(&mut input, &mut line)
            .map_err(|error| RecordError(format!("{name} cannot be read: {error}")))?;
        let Some(complete) = read else { break };
        number += 1;
        if line.len() > MAX_LINE_BYTES {
            return Err(RecordError(format!(
                "{name}: line {number} is longer than {} KiB: a damaged record",
                MAX_LINE_BYTES / 1024
            )));
        }
        let blank = line.iter().all(u8::is_ascii_whitespace);
        if only_blanks && !blank {
            only_blanks = false;
            if let Some(fault) = first_fault.take() {
                return Err(fault);
            }
        }
        if blank && reader.is_some() {
            continue;
        }
        let parsed = std::str::from_utf8(&line)
            .map_err(|_| "it is not text".to_owned())
            .and_then(|text| parse(text, reader.is_none()));
        let parsed = match parsed {
            Ok(parsed) => parsed,
            // A run stopped while writing leaves its last line cut: play what came before.
            Err(why) if !complete && reader.is_some() => {
                let reader = reader.as_mut().expect("a run");
                reader.damage = Some(format!(
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
                continue;
            }
            Err(_) if only_blanks => continue,
            Err(why) => return Err(RecordError(format!("{name}: line {number}: {why}"))),
        };
        let at_line = |why: String| RecordError(format!("{name}: line {number}: {why}"));
        match (parsed, &mut reader) {
            (Line::Run(run), _) => {
                // Another run appended to the same file: the one before it ends here.
                if let Some(done) = reader.take() {
                    let record = done.finish(name, runs, 0)?;
                    if wanted == Some(runs) {
                        chosen = Some(record);
                    }
                }
                runs += 1;
                let start = Reader::start(run)
                    .map_err(|why| RecordError(format!("{name}: line {number} {why}")))?;
                reader = Some(start);
            }
            (_, None) => unreachable!("parse refuses any other first line"),
            (line, Some(run)) => run.line(line).map_err(at_line)?,
        }
    }
    if only_blanks {
        return Err(RecordError(format!("{name} is empty: no record to replay")));
    }
    if let Some(done) = reader
        && wanted.is_none_or(|n| n == runs)
    {
        chosen = Some(done.finish(name, runs, runs)?);
    }
    let mut record = chosen.ok_or_else(|| {
        let wanted = wanted.unwrap_or(runs);
        RecordError(format!(
            "{name} holds {runs} run{}: there is no run {wanted}",
            if runs == 1 { "" } else { "s" }
        ))
    })?;
    record.runs = runs;
    Ok(record)
}

/// Reads up to a line break, no more than a byte past [`MAX_LINE_BYTES`] of it; `None` at the
/// end, else whether the line was complete (its break read and dropped).
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok((!line.is_empty()).then_some(false));
        }
        let room = (MAX_LINE_BYTES + 1).saturating_sub(line.len());
        match available.iter().position(|b| *b == b'\n') {
            Some(end) if end <= room => {
                line.extend_from_slice(&available[..end]);
                input.consume(end + 1);
                return Ok(Some(true));
            }
            _ => {
                let taken = available.len().min(room);
                line.extend_from_slice(&available[..taken]);
                input.consume(taken);
                if line.len() > MAX_LINE_BYTES {
                    // Damage: the rest of the line is not read.
                    return Ok(Some(false));
                }
            }
        }
    }
}

/// One line of a record (the run's line, when `first`), every text in it cleaned as a
/// server's text is: a record may come from anywhere.
fn parse(text: &str, first: bool) -> Result<Line, String> {
    let not_json = |e: serde_json::Error| format!("is not JSON: {e}");
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(not_json)?;
    if first && value.get("type").and_then(serde_json::Value::as_str) != Some("run") {
        return Err(
            "is not the run's line (a record starts with one since record_version 1: \
                    an older failover-watch's output, or not a record)"
                .to_owned(),
        );
    }
    clean_strings(&mut value);
    serde_json::from_value(value).map_err(|e| format!("is not a line of a record: {e}"))
}

fn clean_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => *text = clean(text, TEXT_CHARS),
        serde_json::Value::Array(items) => items.iter_mut().for_each(clean_strings),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(clean_strings),
        _ => {}
    }
}

/// One run of a record, as its lines come.
struct Reader {
    run: RunLine,
    /// The run's targets, as its lines name them.
    names: Vec<String>,
    origin: DateTime<Utc>,
    /// Probes as they were sent, by time.
    sent: Vec<(Duration, TargetId, Lane, u64)>,
    /// The probes answered or abandoned, to find one told twice.
    seen: HashSet<(TargetId, Lane, u64)>,
    /// Everything else, in the order it was applied, with its moment.
    applied: Vec<(Duration, Input)>,
    end: Option<Duration>,
    damage: Option<String>,
}

impl Reader {
    fn start(run: RunLine) -> Result<Self, String> {
        match run.record_version {
            0 => return Err("has record_version 0, which no failover-watch writes".to_owned()),
            v if v > RECORD_VERSION => {
                return Err(format!(
                    "is a record_version {v} record, from a newer failover-watch (this one \
                     reads up to {RECORD_VERSION}): replay it with that version"
                ));
            }
            _ => {}
        }
        let origin = DateTime::parse_from_rfc3339(&run.started_at)
            .map_err(|e| format!("started_at {:?} is no time: {e}", run.started_at))?
            .with_timezone(&Utc);
        let names: Vec<String> = run.target_lines().into_iter().map(|t| t.name).collect();
        if names.len() > usize::from(u16::MAX) {
            return Err("lists more targets than a run can have".to_owned());
        }
        Ok(Self {
            run,
            names,
            origin,
            sent: Vec::new(),
            seen: HashSet::new(),
            applied: Vec::new(),
            end: None,
            damage: None,
        })
    }

    /// A time of the record as an offset from the run's start, within the run's possible
    /// length.
    fn at(&self, time: &str) -> Result<Duration, String> {
        let at =
            DateTime::parse_from_rfc3339(time).map_err(|e| format!("{time:?} is no time: {e}"))?;
        let offset = (at.with_timezone(&Utc) - self.origin)
            .to_std()
            .map_err(|_| format!("{time} is before the run started"))?;
        if offset > LONGEST {
            return Err(format!(
                "{time} is years after the run started: a damaged record"
            ));
        }
        Ok(offset)
    }

    /// The target a line names: its place in the run line's list (a line of a record from
    /// before several targets names none: the one).
    fn target_of(&self, line: &Line) -> Result<TargetId, String> {
        match line.target() {
            None | Some("") => Ok(TargetId::default()),
            Some(name) => self
                .names
                .iter()
                .position(|n| n == name)
                .map(|i| TargetId(i as u16))
                .ok_or_else(|| format!("names a target {name:?} the run's line does not list")),
        }
    }

    fn line(&mut self, line: Line) -> Result<(), String> {
        let target = self.target_of(&line)?;
        match line {
            Line::Run(_) => unreachable!("a run line starts a new run"),
            Line::Request(r) => {
                let sent_at = self.at(&r.sent_at)?;
                self.answered(target, Lane::Normal, r.seq, sent_at, request_report(r))?;
            }
            Line::Direct(d) => {
                let sent_at = self.at(&d.sent_at)?;
                self.answered(target, Lane::Direct, d.seq, sent_at, direct_report(d))?;
            }
            Line::Health(d) => {
                let sent_at = self.at(&d.sent_at)?;
                self.answered(target, Lane::Health, d.seq, sent_at, direct_report(d))?;
            }
            Line::Skip(s) => {
                let at = self.at(&s.at)?;
                let event = ProbeEvent::Skipped {
                    target,
                    lane: s.lane,
                    at,
                    in_flight: s.in_flight,
                };
                self.push(at, Input::Probe(event));
            }
            Line::Abandoned(AbandonedLine {
                seq,
                sent_at,
                waited_ms,
                target: _,
                lane,
            }) => {
                let sent_at = self.at(&sent_at)?;
                self.first(target, lane, seq)?;
                let gone = sent_at + micros(waited_ms);
                self.sent.push((sent_at, target, lane, seq));
                let event = ProbeEvent::Abandoned {
                    target,
                    lane,
                    seq,
                    sent_at,
                    at: gone,
                };
                self.push(gone, Input::Probe(event));
            }
            Line::ProxyView(view) => {
                let at = self.at(&view.at)?;
                let event = ProbeEvent::ProxyView {
                    target,
                    at,
                    reading: view.reading(),
                };
                self.push(at, Input::Probe(event));
            }
            Line::Marker(m) => {
                let at = self.at(&m.at)?;
                let input = Input::Mark {
                    at,
                    after_seq: Some(m.after_seq),
                    label: m.label.filter(|l| !l.is_empty()),
                };
                self.push(at, input);
            }
            Line::Reset(r) => {
                let at = self.at(&r.at)?;
                self.push(at, Input::ResetCounters { at });
            }
            Line::Interval(i) => {
                let at = self.at(&i.at)?;
                let every = micros(i.interval_ms);
                if every.is_zero() {
                    return Err("an interval of zero".to_owned());
                }
                self.push(at, Input::Interval { at, every });
            }
            Line::Summary(s) => {
                // Whole milliseconds, as the run ended (see `SessionClock::end`).
                let end = micros((s.duration_secs * 1000.0).round());
                if end > LONGEST {
                    return Err("the summary's duration is years long: a damaged record".into());
                }
                self.end = Some(end);
            }
            Line::Transition(_)
            | Line::Notice(_)
            | Line::Primary(_)
            | Line::Totals(_)
            | Line::Unknown => {}
        }
        Ok(())
    }

    /// A probe told once only.
    fn first(&mut self, target: TargetId, lane: Lane, seq: u64) -> Result<(), String> {
        if self.seen.insert((target, lane, seq)) {
            return Ok(());
        }
        let what = match lane {
            Lane::Normal => "request",
            Lane::Direct => "direct probe",
            Lane::Health => "health check",
        };
        Err(format!(
            "{what} #{seq} a second time: two runs mixed in one file, or a damaged record"
        ))
    }

    fn answered(
        &mut self,
        target: TargetId,
        lane: Lane,
        seq: u64,
        sent_at: Duration,
        report: ProbeReport,
    ) -> Result<(), String> {
        self.first(target, lane, seq)?;
        self.sent.push((sent_at, target, lane, seq));
        let outcome = ProbeOutcome {
            target,
            lane,
            seq,
            sent_at,
            report,
        };
        let at = outcome.answered_at();
        if at > LONGEST {
            return Err("an answer years after the run started: a damaged record".to_owned());
        }
        self.push(at, Input::Probe(ProbeEvent::Answered(Box::new(outcome))));
        Ok(())
    }

    /// Keeps the order of the record: a step is never earlier than the one before it.
    fn push(&mut self, at: Duration, input: Input) {
        let at = self.applied.last().map_or(at, |(last, _)| at.max(*last));
        self.applied.push((at, input));
    }

    fn finish(self, name: &str, run: usize, runs: usize) -> Result<Record, RecordError> {
        let Self {
            run: line,
            origin,
            mut sent,
            applied,
            end,
            damage,
            ..
        } = self;
        // Each probe leaves before its answer: the sends, in time order (the direct probe of
        // a tick first, as the schedule sends it), merged with the rest.
        sent.sort_by_key(|(at, target, lane, seq)| (*at, *target, *lane == Lane::Normal, *seq));
        let sent_step = |(at, target, lane, seq): (Duration, TargetId, Lane, u64)| {
            let event = ProbeEvent::Sent {
                target,
                lane,
                seq,
                at,
            };
            (at, Input::Probe(event))
        };
        let mut steps = Vec::with_capacity(sent.len() + applied.len());
        let mut sent = sent.into_iter().peekable();
        for (at, input) in applied {
            while let Some(before) = sent.next_if(|(sent_at, ..)| *sent_at <= at) {
                steps.push(sent_step(before));
            }
            steps.push((at, input));
        }
        steps.extend(sent.map(sent_step));
        let last = steps.last().map_or(Duration::ZERO, |(at, _)| *at);
        let offset = FixedOffset::east_opt(line.utc_offset_secs)
            .ok_or_else(|| RecordError(format!("{name}: the run's line: no such UTC offset")))?;
        if line.down_after == 0 {
            return Err(RecordError(format!(
                "{name}: the run's line has a down_after of zero"
            )));
        }
        let mut targets = Vec::new();
        for target in line.target_lines() {
            let interval = micros(target.interval_ms);
            let timeout = micros(target.timeout_ms);
            if interval.is_zero() || timeout.is_zero() {
                return Err(RecordError(format!(
                    "{name}: the run's line gives {} an interval or timeout of zero",
                    target.name
                )));
            }
            targets.push(TargetInfo {
                name: target.name,
                url: target.url,
                primary: target.primary,
                fallback: target.fallback,
                interval,
                timeout,
                stream: target.stream,
                lane: LaneConfig {
                    mode: target.direct,
                    failures_to_cool: target.failures_to_cool,
                    cooldown: target.cooldown_secs.and_then(from_secs),
                },
            });
        }
        let info = RunInfo {
            targets,
            simulated: line.simulated,
            down_after: line.down_after,
            replay: Some(name.to_owned()),
        };
        Ok(Record {
            info,
            wall: WallClock::new(origin, offset),
            steps,
            end: end.unwrap_or(last).max(last),
            damage,
            run,
            runs,
        })
    }
}

/// Milliseconds as the record writes them (whole microseconds) back into a duration, at most
/// the longest a run may take.
fn micros(ms: f64) -> Duration {
    let micros = (ms * 1000.0).round();
    if micros.is_nan() || micros <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_micros(micros.min(LONGEST.as_micros() as f64 + 1.0) as u64)
}

fn route(fields: RouteExtras) -> Route {
    Route {
        version: fields.litellm_version,
        router_timeout: fields.router_timeout_secs.and_then(from_secs),
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

fn request_report(r: RequestLine) -> ProbeReport {
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

fn direct_report(d: DirectLine) -> ProbeReport {
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
        cooldown: d.cooldown_secs.and_then(from_secs),
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
