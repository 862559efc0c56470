//! The proxy's deployments, as LiteLLM's `GET /model/info` lists them: which model group a deployment id or an
//! api_base belongs to. Needed for streams, whose answers carry no model-group header.

use serde::Deserialize;

use crate::text::sanitize::clean;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// `model_info.id`, the value of `x-litellm-model-id`.
    pub id: String,
    /// The model group (`model_name`).
    pub model_name: String,
    /// `litellm_params.model`, the provider string (`ollama/llama3`).
    pub model: String,
    pub api_base: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deployments {
    list: Vec<Deployment>,
}

impl Deployments {
    pub fn new(list: Vec<Deployment>) -> Self {
        Self { list }
    }

    /// Parses the body of `GET /model/info`.
    pub fn from_model_info(body: &[u8]) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Body {
            data: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            model_name: String,
            #[serde(default)]
            litellm_params: Params,
            #[serde(default)]
            model_info: Info,
        }
        #[derive(Deserialize, Default)]
        struct Params {
            model: Option<String>,
            api_base: Option<String>,
        }
        #[derive(Deserialize, Default)]
        struct Info {
            id: Option<String>,
        }
        let body: Body = serde_json::from_slice(body)?;
        // Names shown on screen come from the proxy: made safe like every other text from it.
        let safe = |text: &str| clean(text, 200);
        Ok(Self::new(
            body.data
                .into_iter()
                .filter_map(|e| {
                    Some(Deployment {
                        id: e.model_info.id?,
                        model: safe(e.litellm_params.model.as_deref().unwrap_or(&e.model_name)),
                        model_name: safe(&e.model_name),
                        api_base: e.litellm_params.api_base.as_deref().map(safe),
                    })
                })
                .collect(),
        ))
    }

    /// The deployments of a model group.
    pub fn in_group(&self, group: &str) -> Vec<&Deployment> {
        self.list.iter().filter(|d| d.model_name == group).collect()
    }

    /// The model groups, in the order the list first names them.
    pub fn groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = Vec::new();
        for d in &self.list {
            if !groups.contains(&d.model_name.as_str()) {
                groups.push(&d.model_name);
            }
        }
        groups
    }

    pub fn by_id(&self, id: &str) -> Option<&Deployment> {
        self.list.iter().find(|d| d.id == id)
    }

    /// A deployment by api_base, only when exactly one deployment uses it.
    pub fn by_api_base(&self, api_base: &str) -> Option<&Deployment> {
        let norm = |s: &str| s.trim_end_matches('/').to_owned();
        let wanted = norm(api_base);
        let mut matches = self
            .list
            .iter()
            .filter(|d| d.api_base.as_deref().map(norm).as_deref() == Some(wanted.as_str()));
        let first = matches.next()?;
        matches.next().is_none().then_some(first)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_litellm_model_info() {
        let body = br#"{"data":[
            {"model_name":"llama3","litellm_params":{"api_base":"http://127.0.0.1:11434","model":"ollama/llama3"},"model_info":{"id":"abc","db_model":false}},
            {"model_name":"llama-fp8","litellm_params":{"api_base":"http://127.0.0.1:18080/v1","model":"openai/llama-fp8"},"model_info":{"id":"def"}},
            {"model_name":"no-id","litellm_params":{"model":"x"},"model_info":{}}
        ]}"#;
        let d = Deployments::from_model_info(body).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d.by_id("abc").unwrap().model, "ollama/llama3");
        assert_eq!(d.by_id("def").unwrap().model_name, "llama-fp8");
        assert_eq!(
            d.by_api_base("http://127.0.0.1:18080/v1/").unwrap().id,
            "def"
        );
        assert!(d.by_id("zzz").is_none());
    }

    #[test]
    fn names_from_the_proxy_are_made_safe() {
        let body = br#"{"data":[{"model_name":"llama3\u001b[2J","litellm_params":{"model":"ollama/\u001b]0;x\u0007llama3"},"model_info":{"id":"abc"}}]}"#;
        let d = Deployments::from_model_info(body).unwrap();
        let deployment = d.by_id("abc").unwrap();
        assert_eq!(deployment.model_name, "llama3");
        assert_eq!(deployment.model, "ollama/llama3");
    }

    #[test]
    fn a_shared_api_base_identifies_nothing() {
        let shared = |id: &str, group: &str| Deployment {
            id: id.into(),
            model_name: group.into(),
            model: group.into(),
            api_base: Some("http://gpu:8000/v1".into()),
        };
        let d = Deployments::new(vec![shared("a", "big"), shared("b", "small")]);
        assert!(d.by_api_base("http://gpu:8000/v1").is_none());
    }
}
