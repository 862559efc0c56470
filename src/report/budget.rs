//! The budgets a report is judged by, each with its figure and PASS or FAIL, and the verdict.
//! A budget whose figure the record cannot give (no fault in it, nothing answered) is not
//! measured: said so, and it breaks nothing.

use std::time::Duration;

use super::{Counts, Durations, Lapse, figure};

/// The budgets asked for (`report --max-failed 0 --max-failover 30s ...`, or a drill's).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budgets {
    /// Failed requests in the whole run, at most.
    pub max_failed: Option<u64>,
    /// From the fault to the first fallback answer, at most.
    pub max_failover: Option<Duration>,
    /// From the up to the first primary answer through the proxy, at most.
    pub max_recovery: Option<Duration>,
    /// Successful answers' share of the answered, at least, in percent.
    pub min_availability: Option<f64>,
    /// The record's other targets (not the one reported on) never change who serves them.
    pub others_steady: bool,
}

/// One budget and its limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    MaxFailed(u64),
    MaxFailover(Duration),
    MaxRecovery(Duration),
    MinAvailability(f64),
    /// The targets not drilled (or not reported on) change who serves them no more than this.
    OthersSteady,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// The record does not give the figure.
    NotMeasured,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotMeasured => "NOT MEASURED",
        }
    }

    /// The status in the JSON report.
    pub fn key(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotMeasured => "not_measured",
        }
    }
}

/// A budget judged: its figure in words, the number behind it, and its status.
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    pub budget: Budget,
    /// The figure as measured (`3`, `0.41 s`, `99.2 %`), or why there is none.
    pub figure: String,
    /// The figure as a number (requests, seconds or percent), when measured.
    pub value: Option<f64>,
    pub status: Status,
}

impl Budget {
    /// Its key in the JSON report and the name of its JUnit test case.
    pub fn key(self) -> &'static str {
        match self {
            Budget::MaxFailed(_) => "max_failed",
            Budget::MaxFailover(_) => "max_failover",
            Budget::MaxRecovery(_) => "max_recovery",
            Budget::MinAvailability(_) => "min_availability",
            Budget::OthersSteady => "others_steady",
        }
    }

    /// The budget in words: `failed requests ≤ 0`, `time to fail over ≤ 30 s`.
    pub fn text(self) -> String {
        match self {
            Budget::MaxFailed(n) => format!("failed requests ≤ {n}"),
            Budget::MaxFailover(d) => format!("fault → first fallback answer ≤ {}", figure(d)),
            Budget::MaxRecovery(d) => {
                format!("up → first primary answer ≤ {}", figure(d))
            }
            Budget::MinAvailability(p) => format!("availability ≥ {p} %"),
            Budget::OthersSteady => "the other targets' changes of who serves = 0".to_owned(),
        }
    }

    /// The limit as a number (requests, seconds or percent).
    pub fn limit(self) -> f64 {
        match self {
            Budget::MaxFailed(n) => n as f64,
            Budget::MaxFailover(d) | Budget::MaxRecovery(d) => d.as_secs_f64(),
            Budget::MinAvailability(p) => p,
            Budget::OthersSteady => 0.0,
        }
    }
}

impl Budgets {
    /// Each budget given, in the order they are judged.
    pub fn given(&self) -> Vec<Budget> {
        [
            self.max_failed.map(Budget::MaxFailed),
            self.max_failover.map(Budget::MaxFailover),
            self.max_recovery.map(Budget::MaxRecovery),
            self.min_availability.map(Budget::MinAvailability),
            self.others_steady.then_some(Budget::OthersSteady),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Each budget given, judged against the run.
    pub fn judge(&self, whole: &Counts, durations: &Durations, facts: Facts) -> Vec<Judged> {
        let mut judged = Vec::new();
        if let Some(max) = self.max_failed {
            judged.push(Judged {
                budget: Budget::MaxFailed(max),
                figure: whole.failed.to_string(),
                value: Some(whole.failed as f64),
                status: pass_if(whole.failed <= max),
            });
        }
        if let Some(max) = self.max_failover {
            let never = (facts.fault, "no fallback answer after the fault");
            judged.push(lapse(
                Budget::MaxFailover(max),
                durations.to_failover,
                max,
                never,
            ));
        }
        if let Some(max) = self.max_recovery {
            let never = (facts.up, "no primary answer after the up");
            judged.push(lapse(
                Budget::MaxRecovery(max),
                durations.to_recovery,
                max,
                never,
            ));
        }
        if let Some(min) = self.min_availability {
            judged.push(match whole.availability() {
                Some(percent) => Judged {
                    budget: Budget::MinAvailability(min),
                    figure: format!("{percent:.2} %"),
                    value: Some(percent),
                    status: pass_if(percent >= min),
                },
                None => Judged {
                    budget: Budget::MinAvailability(min),
                    figure: "not measured: no request answered".to_owned(),
                    value: None,
                    status: Status::NotMeasured,
                },
            });
        }
        if self.others_steady {
            judged.push(match facts.others_moved {
                Some(moved) => Judged {
                    budget: Budget::OthersSteady,
                    figure: match moved {
                        1 => "1 transition".to_owned(),
                        n => format!("{n} transitions"),
                    },
                    value: Some(moved as f64),
                    status: pass_if(moved == 0),
                },
                None => Judged {
                    budget: Budget::OthersSteady,
                    figure: "not measured: the record watched one target".to_owned(),
                    value: None,
                    status: Status::NotMeasured,
                },
            });
        }
        judged
    }
}

/// Which ends of the durations the record holds: a duration without its start cannot be
/// measured, one without its end broke its budget.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    pub fault: bool,
    pub up: bool,
    /// Transitions of the record's other targets; none when it watched one.
    pub others_moved: Option<u64>,
}

fn pass_if(held: bool) -> Status {
    if held { Status::Pass } else { Status::Fail }
}

/// A duration's budget: measured, never reached (its start seen, its end not: broken), or not
/// measured (its start not in the record).
fn lapse(
    budget: Budget,
    measured: Option<Lapse>,
    max: Duration,
    (started, never): (bool, &str),
) -> Judged {
    match measured {
        Some(lapse) => Judged {
            budget,
            figure: lapse.text(),
            value: Some(lapse.secs()),
            status: pass_if(lapse.secs() <= max.as_secs_f64()),
        },
        None if started => Judged {
            budget,
            figure: format!("never: {never}"),
            value: None,
            status: Status::Fail,
        },
        None => {
            let missing = match budget {
                Budget::MaxRecovery(_) => {
                    "no up in the record (no \"drill: up\" marker, no direct probe saw the \
                     primary back)"
                }
                _ => "no fault in the record",
            };
            Judged {
                budget,
                figure: format!("not measured: {missing}"),
                value: None,
                status: Status::NotMeasured,
            }
        }
    }
}

/// The verdict over the budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    NoBudgets,
    /// Every budget held (or could not be measured).
    Held,
    /// This many broke.
    Broken(usize),
}

impl Verdict {
    pub fn of(judged: &[Judged]) -> Self {
        let broken = judged.iter().filter(|j| j.status == Status::Fail).count();
        match (judged.is_empty(), broken) {
            (true, _) => Verdict::NoBudgets,
            (false, 0) => Verdict::Held,
            (false, n) => Verdict::Broken(n),
        }
    }

    /// The verdict in the JSON report.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::NoBudgets => "no_budgets",
            Verdict::Held => "pass",
            Verdict::Broken(_) => "fail",
        }
    }
}
