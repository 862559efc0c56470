//! Who served an answer, from the best evidence present. Pure.
//!
//! | evidence                                    | present on                          |
//! |---------------------------------------------|-------------------------------------|
//! | `x-litellm-model-group`, `-attempted-fallbacks` | normal answers                  |
//! | `x-litellm-model-id`, `-model-api-base` + `/model/info` | streams too (their chunks always name the requested model) |
//! | the body's `model`                          | any OpenAI-compatible gateway       |

use super::event::{Evidence, Role, Route};
use crate::litellm::model_info::Deployments;

/// Who served, and under which name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    pub role: Role,
    pub model: String,
    pub evidence: Evidence,
}

/// Attributes an answer. `body_model` is the body's (or first chunk's) `model`. `None` when
/// nothing tells who served: no LiteLLM header, no known deployment, no `model` in the body.
///
/// The served model is named as LiteLLM names it in a normal answer: the requested alias when
/// the primary served (`llama-fp8`), the deployment's model string after a fallback
/// (`ollama/llama3`). A stream gets the same names through the deployment map.
pub fn attribute(
    primary: &str,
    route: &Route,
    body_model: Option<&str>,
    deployments: &Deployments,
) -> Option<Attribution> {
    let fell_back = route.attempted_fallbacks.is_some_and(|n| n > 0);
    let deployment = route
        .model_id
        .as_deref()
        .and_then(|id| deployments.by_id(id))
        .or_else(|| {
            route
                .api_base
                .as_deref()
                .and_then(|base| deployments.by_api_base(base))
        });

    if let Some(group) = route.model_group.as_deref() {
        let role = if group == primary && !fell_back {
            Role::Primary
        } else {
            Role::Fallback
        };
        let model = match role {
            Role::Primary => body_model.unwrap_or(primary).to_owned(),
            // Named as a normal answer's body names it: the deployment's model. A stream's
            // chunks name the requested model (1.83) or the served group (1.106), so the
            // model-name header (1.106) or the deployment map comes first.
            Role::Fallback => route
                .model_name
                .as_deref()
                .or_else(|| deployment.map(|d| d.model.as_str()))
                .or(body_model.filter(|model| *model != primary && *model != group))
                .unwrap_or(group)
                .to_owned(),
        };
        return Some(Attribution {
            role,
            model,
            evidence: Evidence::ModelGroupHeader,
        });
    }

    if let Some(deployment) = deployment {
        let role = if deployment.model_name == primary && !fell_back {
            Role::Primary
        } else {
            Role::Fallback
        };
        let model = match role {
            Role::Primary => primary.to_owned(),
            Role::Fallback => deployment.model.clone(),
        };
        return Some(Attribution {
            role,
            model,
            evidence: Evidence::Deployment,
        });
    }

    let model = body_model.filter(|m| !m.is_empty())?.to_owned();
    let role = if model == primary && !fell_back {
        Role::Primary
    } else {
        Role::Fallback
    };
    Some(Attribution {
        role,
        model,
        evidence: Evidence::BodyModel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litellm::model_info::Deployment;

    const PRIMARY_ID: &str = "027a60b4976e264d7fe2dc8bd46356c9813c78f0a33bc4c8116136f5a9739210";
    const FALLBACK_ID: &str = "3f7c3b226644bb7ac4c85dedcc2f01c6e0ed1114cd22e5cbadd527c2f0e480a3";

    fn deployments() -> Deployments {
        Deployments::new(vec![
            Deployment {
                id: FALLBACK_ID.into(),
                model_name: "llama3".into(),
                model: "ollama/llama3".into(),
                api_base: Some("http://127.0.0.1:11434".into()),
            },
            Deployment {
                id: PRIMARY_ID.into(),
                model_name: "llama-fp8".into(),
                model: "openai/llama-fp8".into(),
                api_base: Some("http://127.0.0.1:18080/v1".into()),
            },
        ])
    }

    fn route(group: Option<&str>, id: Option<&str>, fallbacks: Option<u32>) -> Route {
        Route {
            model_group: group.map(Into::into),
            model_id: id.map(Into::into),
            api_base: None,
            attempted_fallbacks: fallbacks,
            attempted_retries: Some(0),
            ..Route::default()
        }
    }

    /// Who served an answer to a request for `llama-fp8` whose headers tell `route` and whose
    /// body names `body_model`, `known` the deployments: role, model and evidence.
    fn attributed(
        route: &Route,
        body_model: &str,
        known: &Deployments,
    ) -> (Role, String, Evidence) {
        let a = attribute("llama-fp8", route, Some(body_model), known).expect("attributed");
        (a.role, a.model, a.evidence)
    }

    /// Who served, as [`attributed`] tells it.
    fn served(role: Role, model: &str, evidence: Evidence) -> (Role, String, Evidence) {
        (role, model.to_owned(), evidence)
    }

    #[test]
    fn normal_answers_follow_the_model_group_header() {
        let primary = route(Some("llama-fp8"), Some(PRIMARY_ID), Some(0));
        assert_eq!(
            attributed(&primary, "llama-fp8", &deployments()),
            served(Role::Primary, "llama-fp8", Evidence::ModelGroupHeader)
        );
        let fallback = route(Some("llama3"), Some(FALLBACK_ID), Some(1));
        let (role, model, _) = attributed(&fallback, "ollama/llama3", &Deployments::default());
        assert_eq!((role, model.as_str()), (Role::Fallback, "ollama/llama3"));
    }

    #[test]
    fn streams_are_attributed_by_deployment_although_chunks_name_the_primary() {
        for (id, expected) in [
            (
                FALLBACK_ID,
                served(Role::Fallback, "ollama/llama3", Evidence::Deployment),
            ),
            (
                PRIMARY_ID,
                served(Role::Primary, "llama-fp8", Evidence::Deployment),
            ),
        ] {
            let stream = route(None, Some(id), None);
            assert_eq!(attributed(&stream, "llama-fp8", &deployments()), expected);
        }
    }

    #[test]
    fn the_api_base_identifies_a_deployment_when_the_id_is_unknown() {
        let mut r = route(None, Some("unknown-id"), None);
        r.api_base = Some("http://127.0.0.1:11434".into());
        let a = attribute("llama-fp8", &r, Some("llama-fp8"), &deployments()).unwrap();
        assert_eq!((a.role, a.evidence), (Role::Fallback, Evidence::Deployment));
    }

    #[test]
    fn without_litellm_headers_the_body_model_decides() {
        let nothing = Route::default();
        for silent in [None, Some("")] {
            assert_eq!(
                attribute("gpt-4o", &nothing, silent, &Deployments::default()),
                None,
                "no evidence at all is not a fallback"
            );
        }
        let none = Route::default();
        let d = Deployments::default();
        let a = attribute("gpt-4o", &none, Some("gpt-4o"), &d).unwrap();
        assert_eq!((a.role, a.evidence), (Role::Primary, Evidence::BodyModel));
        let a = attribute("gpt-4o", &none, Some("claude-3-haiku"), &d).unwrap();
        assert_eq!(
            (a.role, a.model.as_str()),
            (Role::Fallback, "claude-3-haiku")
        );
    }

    #[test]
    fn a_stream_of_litellm_1_106_names_its_fallback_as_a_normal_answer_does() {
        // The chunks name the served group; the headers tell the deployment's model.
        let mut r = route(Some("llama3"), Some(FALLBACK_ID), Some(1));
        r.model_name = Some("ollama/llama3".into());
        let a = attribute("llama-fp8", &r, Some("llama3"), &Deployments::default()).unwrap();
        assert_eq!(
            (a.role, a.model.as_str(), a.evidence),
            (Role::Fallback, "ollama/llama3", Evidence::ModelGroupHeader)
        );
        // Without the model-name header, the group rather than a chunk's alias of it.
        r.model_name = None;
        let a = attribute("llama-fp8", &r, Some("llama3"), &Deployments::default()).unwrap();
        assert_eq!(a.model, "llama3");
    }

    #[test]
    fn attempted_fallbacks_alone_means_fallback() {
        let fell_back = route(None, None, Some(1));
        let (role, _, _) = attributed(&fell_back, "llama-fp8", &Deployments::default());
        assert_eq!(role, Role::Fallback);
    }
}
