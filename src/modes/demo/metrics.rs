//! The simulated gateway's own Prometheus metrics, as LiteLLM's `prometheus` callback writes
//! the series failover-watch reads (`GET /metrics/`): each deployment's state (1 on a failed
//! call, 0 on a successful one, 2 when a cooldown starts), the cooldowns started, the
//! fallbacks served and failed. Pure: the router tells it what happened.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::settings::DeploymentConfig;

#[derive(Clone, Debug, Default)]
pub struct GatewayMetrics {
    /// Per deployment (its index), `litellm_deployment_state`.
    state: BTreeMap<usize, u8>,
    /// Per deployment and the status of the failure that started it.
    cooled_down: BTreeMap<(usize, u16), u64>,
    /// Per requested group, fallback group and the primary's exception class.
    fallbacks: BTreeMap<(String, String, String), u64>,
    failed_fallbacks: BTreeMap<(String, String), u64>,
}

/// The exception class LiteLLM gives a fallback served because the requested group was
/// cooling down.
pub const IN_COOLDOWN: &str = "RouterRateLimitError";

impl GatewayMetrics {
    pub fn succeeded(&mut self, deployment: usize) {
        self.state.insert(deployment, 0);
    }

    pub fn failed(&mut self, deployment: usize) {
        self.state.insert(deployment, 1);
    }

    pub fn cooled_down(&mut self, deployment: usize, status: u16) {
        self.state.insert(deployment, 2);
        *self.cooled_down.entry((deployment, status)).or_default() += 1;
    }

    pub fn fell_back(&mut self, requested: &str, fallback: &str, class: &str) {
        let key = (requested.to_owned(), fallback.to_owned(), class.to_owned());
        *self.fallbacks.entry(key).or_default() += 1;
    }

    pub fn fallback_failed(&mut self, requested: &str, fallback: &str) {
        let key = (requested.to_owned(), fallback.to_owned());
        *self.failed_fallbacks.entry(key).or_default() += 1;
    }

    /// The text exposition of these series.
    pub fn exposition(&self, deployments: &[DeploymentConfig]) -> String {
        let mut out = String::new();
        let labels = |index: usize| {
            let d = &deployments[index];
            let (provider, called) = d.model.split_once('/').unwrap_or(("openai", &d.model));
            format!(
                "api_base=\"{}\",api_provider=\"{provider}\",litellm_model_name=\"{called}\",model_id=\"{}\"",
                escape(d.api_base.as_deref().unwrap_or("")),
                escape(&d.id)
            )
        };
        let _ = writeln!(
            out,
            "# HELP litellm_deployment_state LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage"
        );
        let _ = writeln!(out, "# TYPE litellm_deployment_state gauge");
        for (index, state) in &self.state {
            let _ = writeln!(
                out,
                "litellm_deployment_state{{{}}} {state}.0",
                labels(*index)
            );
        }
        let _ = writeln!(
            out,
            "# HELP litellm_deployment_cooled_down_total LLM Deployment Analytics - Number of times a deployment has been cooled down by LiteLLM load balancing logic. exception_status is the status of the exception that caused the deployment to be cooled down"
        );
        let _ = writeln!(out, "# TYPE litellm_deployment_cooled_down_total counter");
        for ((index, status), count) in &self.cooled_down {
            let _ = writeln!(
                out,
                "litellm_deployment_cooled_down_total{{{},exception_status=\"{status}\"}} {count}.0",
                labels(*index)
            );
        }
        let _ = writeln!(
            out,
            "# HELP litellm_deployment_successful_fallbacks_total LLM Deployment Analytics - Number of successful fallback requests from primary model -> fallback model"
        );
        let _ = writeln!(
            out,
            "# TYPE litellm_deployment_successful_fallbacks_total counter"
        );
        for ((requested, fallback, class), count) in &self.fallbacks {
            let status = if class == IN_COOLDOWN { "None" } else { "500" };
            let _ = writeln!(
                out,
                "litellm_deployment_successful_fallbacks_total{{api_key_alias=\"None\",exception_class=\"{}\",exception_status=\"{status}\",fallback_model=\"{}\",hashed_api_key=\"None\",requested_model=\"{}\",team=\"None\",team_alias=\"None\"}} {count}.0",
                escape(class),
                escape(fallback),
                escape(requested)
            );
        }
        let _ = writeln!(
            out,
            "# HELP litellm_deployment_failed_fallbacks_total LLM Deployment Analytics - Number of failed fallback requests from primary model -> fallback model"
        );
        let _ = writeln!(
            out,
            "# TYPE litellm_deployment_failed_fallbacks_total counter"
        );
        for ((requested, fallback), count) in &self.failed_fallbacks {
            let _ = writeln!(
                out,
                "litellm_deployment_failed_fallbacks_total{{api_key_alias=\"None\",exception_class=\"Openai.InternalServerError\",exception_status=\"500\",fallback_model=\"{}\",hashed_api_key=\"None\",requested_model=\"{}\",team=\"None\",team_alias=\"None\"}} {count}.0",
                escape(fallback),
                escape(requested)
            );
        }
        out
    }
}

/// A label value as the exposition writes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
