//! LiteLLM's own Prometheus metrics (`callbacks: ["prometheus"]`, `GET /metrics/`), read for
//! one model group: the state LiteLLM gives each of its deployments, the cooldowns it started,
//! the fallbacks it served. Pure: the text exposition in, the group's reading out.
//!
//! What LiteLLM writes, and where it misleads:
//! - `litellm_deployment_state` (0 healthy, 1 partial outage, 2 complete outage) is set per
//!   call: 1 on a failed call, 0 on a successful one, on a series labelled with the
//!   deployment's model name (`openai/llama-fp8` → `llama-fp8`); 2 when a cooldown starts, on a
//!   series labelled with the group's name. Where the two names differ, the cooldown's series
//!   is one no call ever resets: the series the calls keep current is read first.
//! - `litellm_deployment_cooled_down_total` counts cooldowns started, per deployment.
//! - `litellm_deployment_successful_fallbacks_total{requested_model}` counts fallbacks served;
//!   its `exception_class` is `RouterRateLimitError` when the primary was skipped because it
//!   was cooling down, the primary's own error class otherwise.
//! - `litellm_deployment_failed_fallbacks_total` counts fallbacks that failed too.
//!
//! Counters run from the proxy's start, count every client, and each worker exports its own
//! series: the reading sums them; the state compares readings over time.

use std::collections::BTreeMap;

/// The families read, by the name of their samples.
const STATE: &str = "litellm_deployment_state";
const COOLED_DOWN: &str = "litellm_deployment_cooled_down_total";
const FALLBACKS: &str = "litellm_deployment_successful_fallbacks_total";
const FAILED_FALLBACKS: &str = "litellm_deployment_failed_fallbacks_total";
/// The exception class of a fallback served because the primary was cooling down.
const SKIPPED_IN_COOLDOWN: &str = "RouterRateLimitError";
/// Longest line read: a sample with all of LiteLLM's labels is well under it.
pub const MAX_LINE: usize = 16 * 1024;

/// LiteLLM's state of a deployment, as `litellm_deployment_state` codes it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    Healthy,
    PartialOutage,
    CompleteOutage,
}

impl DeploymentState {
    fn of(value: f64) -> Option<Self> {
        match value.round() as i64 {
            0 => Some(Self::Healthy),
            1 => Some(Self::PartialOutage),
            2 => Some(Self::CompleteOutage),
            _ => None,
        }
    }

    /// LiteLLM's words for it.
    pub fn words(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::PartialOutage => "partial outage",
            Self::CompleteOutage => "complete outage",
        }
    }
}

/// One deployment of the group, as LiteLLM states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentReading {
    pub model_id: String,
    pub api_base: Option<String>,
    pub state: DeploymentState,
}

/// What LiteLLM's metrics say of one model group at one moment. A family the proxy does not
/// export (a release without it, no event yet) is `None`, not zero.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProxyReading {
    /// The group's deployments LiteLLM gives a state, by model id.
    pub deployments: Vec<DeploymentReading>,
    /// Cooldowns started on the group's deployments.
    pub cooldowns: Option<f64>,
    /// Fallbacks served for the group, and of them those served because it was cooling down.
    pub fallbacks: Option<f64>,
    pub fallbacks_in_cooldown: Option<f64>,
    pub failed_fallbacks: Option<f64>,
}

impl ProxyReading {
    /// The group's state: its worst deployment's.
    pub fn state(&self) -> Option<DeploymentState> {
        self.deployments.iter().map(|d| d.state).max()
    }
}

/// Which series belong to the group: its name, and its deployments (id → the model name
/// LiteLLM labels their calls with), where `/model/info` told them.
#[derive(Clone, Debug, Default)]
pub struct GroupSeries {
    pub group: String,
    /// Model id → the deployment's model without its provider (`openai/llama-fp8` →
    /// `llama-fp8`) and its configured api_base.
    pub deployments: BTreeMap<String, (String, Option<String>)>,
}

impl GroupSeries {
    /// The deployment of the group a series is about, if it is one. LiteLLM 1.83's health
    /// check writes the state under an id of its own: with the group's deployments known,
    /// only their ids count.
    fn owns(&self, labels: &Labels) -> Option<String> {
        let id = labels
            .get("model_id")
            .filter(|id| !matches!(*id, "" | "None"))?;
        let known = if self.deployments.is_empty() {
            // Without `/model/info`: the series that name the group.
            labels.get("litellm_model_name") == Some(self.group.as_str())
        } else {
            self.deployments.contains_key(id)
        };
        known.then(|| id.to_owned())
    }
}

/// A deployment's state series: the one its calls keep current, any other (a cooldown's
/// under the group's name), and the api_base they name.
#[derive(Debug, Default)]
struct SeriesStates {
    current: Option<f64>,
    other: Option<f64>,
    api_base: Option<String>,
}

/// A reading in progress: fed the exposition line by line.
#[derive(Debug)]
pub struct Reader<'a> {
    group: &'a GroupSeries,
    /// Per deployment (by id), what its series say.
    states: BTreeMap<String, SeriesStates>,
    reading: ProxyReading,
}

impl<'a> Reader<'a> {
    pub fn new(group: &'a GroupSeries) -> Self {
        Self {
            group,
            states: BTreeMap::new(),
            reading: ProxyReading::default(),
        }
    }

    /// One line of the exposition; anything but a sample of the families read (or the
    /// declaration of one: exported, none counted yet) is passed by.
    pub fn line(&mut self, line: &str) {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let family = declared.split_whitespace().next().unwrap_or_default();
            let named = |name: &str| family == name || Some(family) == name.strip_suffix("_total");
            let r = &mut self.reading;
            for (name, total) in [
                (COOLED_DOWN, &mut r.cooldowns),
                (FALLBACKS, &mut r.fallbacks),
                (FAILED_FALLBACKS, &mut r.failed_fallbacks),
            ] {
                if named(name) {
                    total.get_or_insert(0.0);
                }
            }
            return;
        }
        let Some((name, labels, value)) = sample(line) else {
            return;
        };
        let add = |total: &mut Option<f64>| *total = Some(total.unwrap_or(0.0) + value);
        match name {
            STATE => {
                let Some(id) = self.group.owns(&labels) else {
                    return;
                };
                let calls_name = self.group.deployments.get(&id).map(|(model, _)| model);
                let kept_current =
                    calls_name.map(String::as_str) == labels.get("litellm_model_name");
                let entry = self.states.entry(id).or_default();
                let slot = if kept_current {
                    &mut entry.current
                } else {
                    &mut entry.other
                };
                *slot = Some(slot.map_or(value, |seen| seen.max(value)));
                if kept_current || entry.api_base.is_none() {
                    entry.api_base = labels.get("api_base").map(str::to_owned);
                }
            }
            COOLED_DOWN => {
                if self.group.owns(&labels).is_some() {
                    add(&mut self.reading.cooldowns);
                } else {
                    // Exported, if not for this group: zero, not missing.
                    self.reading.cooldowns.get_or_insert(0.0);
                }
            }
            FALLBACKS | FAILED_FALLBACKS => {
                let total = if name == FALLBACKS {
                    &mut self.reading.fallbacks
                } else {
                    &mut self.reading.failed_fallbacks
                };
                if labels.get("requested_model") != Some(self.group.group.as_str()) {
                    total.get_or_insert(0.0);
                    return;
                }
                add(total);
                if name == FALLBACKS {
                    let in_cooldown = &mut self.reading.fallbacks_in_cooldown;
                    if labels.get("exception_class") == Some(SKIPPED_IN_COOLDOWN) {
                        add(in_cooldown);
                    } else {
                        in_cooldown.get_or_insert(0.0);
                    }
                }
            }
            _ => {}
        }
    }

    pub fn finish(self) -> ProxyReading {
        let mut reading = self.reading;
        if reading.fallbacks.is_some() {
            reading.fallbacks_in_cooldown.get_or_insert(0.0);
        }
        reading.deployments = self
            .states
            .into_iter()
            .filter_map(|(model_id, series)| {
                let state = DeploymentState::of(series.current.or(series.other)?)?;
                let configured = self
                    .group
                    .deployments
                    .get(&model_id)
                    .and_then(|(_, base)| base.clone());
                Some(DeploymentReading {
                    api_base: configured.or(series.api_base),
                    model_id,
                    state,
                })
            })
            .collect();
        reading
    }
}

/// A sample's labels, as written.
#[derive(Debug, Default)]
struct Labels(Vec<(String, String)>);

impl Labels {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `name{label="value",...} value [timestamp]`, for the families read only (the others are
/// not even split).
fn sample(line: &str) -> Option<(&'static str, Labels, f64)> {
    if line.len() > MAX_LINE {
        return None;
    }
    let name = [STATE, COOLED_DOWN, FALLBACKS, FAILED_FALLBACKS]
        .into_iter()
        .find(|name| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))
        })?;
    let rest = &line[name.len()..];
    let (labels, rest) = match rest.strip_prefix('{') {
        Some(inside) => labels(inside)?,
        None => (Labels::default(), rest),
    };
    let value: f64 = rest.split_whitespace().next()?.parse().ok()?;
    value.is_finite().then_some((name, labels, value))
}

/// The labels up to the closing brace, and what follows it.
fn labels(mut rest: &str) -> Option<(Labels, &str)> {
    let mut found = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((Labels(found), after));
        }
        let (name, after) = rest.split_once('=')?;
        let mut chars = after.strip_prefix('"')?.char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        found.push((name.trim().to_owned(), value));
        rest = &after[1 + end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> GroupSeries {
        GroupSeries {
            group: "llama-fp8".to_owned(),
            deployments: BTreeMap::from([(
                "a82c".to_owned(),
                (
                    "llama-fp8".to_owned(),
                    Some("http://gpu:8080/v1".to_owned()),
                ),
            )]),
        }
    }

    fn read(text: &str) -> ProxyReading {
        let group = group();
        let mut reader = Reader::new(&group);
        text.lines().for_each(|line| reader.line(line));
        reader.finish()
    }

    #[test]
    fn the_groups_series_are_summed_and_the_others_passed_by() {
        let reading = read(concat!(
            "# HELP litellm_deployment_state LLM Deployment Analytics\n",
            "# TYPE litellm_deployment_state gauge\n",
            "litellm_deployment_state{api_base=\"http://gpu:8080/v1\",api_provider=\"openai\",litellm_model_name=\"llama-fp8\",model_id=\"a82c\"} 2.0\n",
            "litellm_deployment_state{api_base=\"http://127.0.0.1:11434\",api_provider=\"ollama\",litellm_model_name=\"llama3\",model_id=\"77f0\"} 0.0\n",
            "litellm_deployment_cooled_down_total{api_base=\"http://gpu:8080/v1\",api_provider=\"openai\",exception_status=\"500\",litellm_model_name=\"llama-fp8\",model_id=\"a82c\"} 2.0\n",
            "litellm_deployment_cooled_down_total{api_base=\"x\",api_provider=\"ollama\",exception_status=\"500\",litellm_model_name=\"llama3\",model_id=\"77f0\"} 5.0\n",
            "litellm_deployment_successful_fallbacks_total{api_key_alias=\"None\",exception_class=\"Openai.InternalServerError\",exception_status=\"500\",fallback_model=\"llama3\",hashed_api_key=\"88dc\",model_id=\"a82c\",requested_model=\"llama-fp8\",team=\"None\",team_alias=\"None\"} 2.0\n",
            "litellm_deployment_successful_fallbacks_total{exception_class=\"RouterRateLimitError\",exception_status=\"None\",fallback_model=\"llama3\",hashed_api_key=\"88dc\",requested_model=\"llama-fp8\"} 12.0\n",
            "litellm_deployment_successful_fallbacks_total{exception_class=\"RouterRateLimitError\",fallback_model=\"x\",requested_model=\"other\"} 40.0\n",
            "litellm_deployment_successful_fallbacks_created 1.7e9\n",
            "litellm_proxy_total_requests_metric_total{route=\"/chat/completions\"} 90.0\n",
        ));
        assert_eq!(
            reading.deployments,
            [DeploymentReading {
                model_id: "a82c".to_owned(),
                api_base: Some("http://gpu:8080/v1".to_owned()),
                state: DeploymentState::CompleteOutage,
            }]
        );
        assert_eq!(reading.state(), Some(DeploymentState::CompleteOutage));
        assert_eq!(reading.cooldowns, Some(2.0));
        assert_eq!(reading.fallbacks, Some(14.0));
        assert_eq!(reading.fallbacks_in_cooldown, Some(12.0));
        // Not exported by this proxy: missing, not zero.
        assert_eq!(reading.failed_fallbacks, None);
    }

    #[test]
    fn the_series_its_calls_keep_current_wins_over_the_cooldowns_stale_one() {
        // The group `fast` over `ollama/llama3`: calls label `llama3`, the cooldown `fast`.
        let group = GroupSeries {
            group: "fast".to_owned(),
            deployments: BTreeMap::from([("77f0".to_owned(), ("llama3".to_owned(), None))]),
        };
        let mut reader = Reader::new(&group);
        for line in [
            "litellm_deployment_state{api_base=\"http://127.0.0.1:11434\",litellm_model_name=\"fast\",model_id=\"77f0\"} 2",
            "litellm_deployment_state{api_base=\"http://127.0.0.1:11434/api/generate\",litellm_model_name=\"llama3\",model_id=\"77f0\"} 0",
        ] {
            reader.line(line);
        }
        let reading = reader.finish();
        assert_eq!(reading.state(), Some(DeploymentState::Healthy));
        assert_eq!(
            reading.deployments[0].api_base.as_deref(),
            Some("http://127.0.0.1:11434/api/generate")
        );
    }

    #[test]
    fn a_family_declared_without_samples_is_exported_and_zero() {
        let reading = read(concat!(
            "# HELP litellm_deployment_cooled_down_total LLM Deployment Analytics\n",
            "# TYPE litellm_deployment_cooled_down_total counter\n",
            "# TYPE litellm_deployment_successful_fallbacks counter\n",
        ));
        assert_eq!(reading.cooldowns, Some(0.0));
        // OpenMetrics names a counter's family without `_total`.
        assert_eq!(reading.fallbacks, Some(0.0));
        assert_eq!(reading.fallbacks_in_cooldown, Some(0.0));
        assert_eq!(reading.failed_fallbacks, None);
    }

    #[test]
    fn a_health_checks_own_series_is_not_a_deployment() {
        // 1.83's health check of `llama-fp8` writes the state under an id no deployment has.
        let reading = read(concat!(
            "litellm_deployment_state{api_base=\"http://gpu:8080/v1\",litellm_model_name=\"llama-fp8\",model_id=\"a82c\"} 0.0\n",
            "litellm_deployment_state{api_base=\"\",litellm_model_name=\"llama-fp8\",model_id=\"ee73\"} 1.0\n",
        ));
        assert_eq!(reading.state(), Some(DeploymentState::Healthy));
        assert_eq!(reading.deployments.len(), 1);
        // Without the deployments, the series that name the group are all there is.
        let unknown = GroupSeries {
            group: "llama-fp8".to_owned(),
            deployments: BTreeMap::new(),
        };
        let mut reader = Reader::new(&unknown);
        reader
            .line("litellm_deployment_state{litellm_model_name=\"llama-fp8\",model_id=\"a82c\"} 2");
        reader.line("litellm_deployment_state{litellm_model_name=\"llama3\",model_id=\"77f0\"} 1");
        assert_eq!(
            reader.finish().state(),
            Some(DeploymentState::CompleteOutage)
        );
    }

    #[test]
    fn hostile_lines_are_read_past() {
        let reading = read(concat!(
            "litellm_deployment_state{model_id=\"a82c\" 2\n",
            "litellm_deployment_state{model_id=\"a82c\",api_base=\"a\\\"b\\\\c\"} NaN\n",
            "litellm_deployment_state{model_id=\"a82c\"} 7\n",
            "litellm_deployment_state_other{model_id=\"a82c\"} 1\n",
            "litellm_deployment_cooled_down_total{model_id=\"a82c\"} +Inf\n",
            "litellm_deployment_cooled_down_total{model_id=\"a82c\",api_base=\"a\\\"b\"} 3 1700000000000\n",
        ));
        assert_eq!(reading.deployments, []);
        assert_eq!(reading.cooldowns, Some(3.0));
        let long = format!(
            "litellm_deployment_cooled_down_total{{model_id=\"a82c\",x=\"{}\"}} 1",
            "y".repeat(MAX_LINE)
        );
        assert_eq!(read(&long).cooldowns, None);
    }
}
