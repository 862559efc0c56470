//! LiteLLM's health check of one model group, `GET /health?model=GROUP`: it calls each of
//! the group's deployments directly (a real completion of a few tokens), not through the
//! router, so a failing deployment is not counted in the router's failure tally (both 1.83.14
//! and 1.106.12: the router's failure callback finds no `model_info` on these calls). Any
//! valid key may ask it (1.106 only for the key's models, and without their `api_base`).
//! 1.106 answers 503 when no deployment of the group is healthy; the body is the same.

use serde_json::Value;

use crate::text::sanitize::clean;

/// What the health check found of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// The healthy deployments' models (`openai/llama-fp8`).
    pub healthy: Vec<String>,
    /// The unhealthy ones: each model and the first line of its error (the rest is a stack
    /// trace).
    pub unhealthy: Vec<(String, String)>,
}

impl Health {
    /// The body of an answer (200, or 1.106's 503).
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let body: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let list = |name: &str| -> Result<Vec<Value>, String> {
            body.get(name)
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| format!("no {name} in LiteLLM's health answer"))
        };
        let model = |entry: &Value| clean(entry["model"].as_str().unwrap_or("?"), 200);
        let healthy = list("healthy_endpoints")?.iter().map(model).collect();
        let unhealthy = list("unhealthy_endpoints")?
            .iter()
            .map(|entry| {
                let error = entry["error"].as_str().unwrap_or("unhealthy");
                let first = error.split("\nstack trace:").next().unwrap_or(error);
                (model(entry), clean(first, 1000))
            })
            .collect();
        Ok(Self { healthy, unhealthy })
    }

    /// Why the group is not healthy, if it is not: the first failing deployment's error, with
    /// how many of the group fail when not all do.
    pub fn trouble(&self) -> Option<String> {
        let (_, error) = self.unhealthy.first()?;
        let total = self.healthy.len() + self.unhealthy.len();
        Some(if self.healthy.is_empty() {
            error.clone()
        } else {
            format!(
                "{} of {total} deployments fail: {error}",
                self.unhealthy.len()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_health_answer_tells_the_first_line_of_each_error() {
        // As 1.106.12 answers with its primary down (fields it adds left out).
        let body = br#"{"healthy_endpoints": [], "unhealthy_endpoints": [{"api_base":
            "http://127.0.0.1:18080/v1", "model": "openai/llama-fp8", "error":
            "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.\nstack trace: Traceback (most recent call last):\n  File ...", "model_id": "027a", "exception_status": 500}],
            "healthy_count": 0, "unhealthy_count": 1}"#;
        let health = Health::parse(body).unwrap();
        assert_eq!(
            health.trouble().as_deref(),
            Some(
                "litellm.InternalServerError: InternalServerError: OpenAIException - Connection \
                 error."
            )
        );
        let body = br#"{"healthy_endpoints": [{"model": "openai/a"}], "unhealthy_endpoints":
            [{"model": "openai/b", "error": "boom"}]}"#;
        let health = Health::parse(body).unwrap();
        assert_eq!(
            health.trouble().as_deref(),
            Some("1 of 2 deployments fail: boom")
        );
        let up =
            Health::parse(br#"{"healthy_endpoints": [{"model": "m"}], "unhealthy_endpoints": []}"#);
        assert_eq!(up.unwrap().trouble(), None);
        assert!(Health::parse(b"{}").is_err());
    }
}
