//! The simulated gateway over real HTTP, in-process, its deployments played in memory, with
//! the config the real proxy was recorded with (`fixtures/scenarios/config.yaml`): its answers
//! must look like the recorded ones (`fixtures/captures`), down to the error bodies, and the
//! real prober must attribute them right.

use std::time::Duration;

use serde_json::{Value, json};

use super::{RELEASES, recorded, recorded_json, recorded_settings};
use crate::litellm::model_info::Deployments;
use crate::modes::demo::gateway::Gateway;
use crate::modes::demo::settings::Release;
use crate::modes::demo::stage::{Fault, Side, Stage};
use crate::probe::{Endpoint, Evidence, HttpProber, Lane, Probe, ProbeSettings, Role};
use crate::tests::Capture;

const PRIMARY_ID: &str = "027a60b4976e264d7fe2dc8bd46356c9813c78f0a33bc4c8116136f5a9739210";
const FALLBACK_ID: &str = "3f7c3b226644bb7ac4c85dedcc2f01c6e0ed1114cd22e5cbadd527c2f0e480a3";

/// The gateway with the recorded config: the fallback `llama3`, the primary `llama-fp8`.
struct Setup {
    gateway: Gateway,
    stage: Stage,
    http: reqwest::Client,
}

async fn recorded_setup(release: Release) -> Setup {
    let settings = recorded_settings(release);
    let stage = Stage::watching(&settings, vec![("llama-fp8".into(), Some("llama3".into()))]);
    let gateway = Gateway::start(settings, stage.clone()).await.unwrap();
    // reqwest is built without a default TLS provider; plain HTTP still needs one set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    Setup {
        gateway,
        stage,
        http,
    }
}

impl Setup {
    async fn chat(&self, stream: bool) -> reqwest::Response {
        let mut body =
            json!({"model": "llama-fp8", "messages": [{"role": "user", "content": "Say hi"}]});
        if stream {
            body["stream"] = json!(true);
        }
        self.http
            .post(format!("{}/v1/chat/completions", self.gateway.url()))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    fn prober(&self, stream: bool) -> HttpProber {
        HttpProber::new(ProbeSettings {
            endpoint: Endpoint::parse(&self.gateway.url()).unwrap(),
            key: None,
            primary: "llama-fp8".into(),
            prompt: "Say hi".into(),
            max_tokens: 10,
            stream,
            timeout: Duration::from_secs(10),
            proxy_metrics: crate::probe::ProxyMetrics::Off,
        })
        .unwrap()
    }
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The `data:` events of a recorded stream.
fn chunks_of(recording: &Capture) -> Vec<Value> {
    chunks(&String::from_utf8_lossy(&recording.body))
}

/// The `data:` events of an SSE body, `[DONE]` left out.
fn chunks(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn recorded_header<'a>(capture: &'a Capture, name: &str) -> Option<&'a str> {
    capture
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The headers that tell who served an answer, and which release answered.
const TELLING: [&str; 7] = [
    "x-litellm-model-group",
    "x-litellm-attempted-fallbacks",
    "x-litellm-attempted-retries",
    "x-litellm-model-id",
    "x-litellm-model-api-base",
    "x-litellm-model-name",
    "x-litellm-version",
];

/// The answer tells who served as the recording does, header for header.
fn assert_tells_like(answer: &reqwest::Response, recording: &Capture) {
    for name in TELLING {
        assert_eq!(
            header(answer, name),
            recorded_header(recording, name),
            "{name}"
        );
    }
}

#[tokio::test]
async fn answers_carry_the_real_proxys_headers_and_model_names() {
    for release in RELEASES {
        let s = recorded_setup(release).await;
        let answer = s.chat(false).await;
        assert_eq!(answer.status(), 200);
        assert_tells_like(&answer, &recorded(release, "01b-primary-ok.http"));
        assert!(header(&answer, "x-litellm-call-id").is_some_and(|id| id.len() == 36));
        assert!(header(&answer, "x-litellm-response-duration-ms").is_some());
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["model"], "llama-fp8");
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["choices"][0]["message"]["content"], "Hi.");

        // Primary down: the fallback serves under its provider string.
        s.stage.set(Side::Primary, Fault::Down);
        let answer = s.chat(false).await;
        assert_eq!(answer.status(), 200);
        let recording = recorded(release, "02a-primary-refused-1st.http");
        assert_tells_like(&answer, &recording);
        let body: Value = answer.json().await.unwrap();
        let recorded: Value = serde_json::from_slice(&recording.body).unwrap();
        assert_eq!(body["model"], recorded["model"], "{release:?}");
        assert_eq!(body["choices"][0]["message"]["content"], "Hello!");

        // The real prober reads it all.
        let report = s.prober(false).probe(Lane::Normal).await;
        assert_eq!(report.route.version.as_deref(), Some(release.version()));
        let served = report.result.unwrap();
        assert_eq!(served.role, Role::Fallback);
        assert_eq!(served.model, "ollama/llama3");
        assert_eq!(served.evidence, Evidence::ModelGroupHeader);
    }
}

#[tokio::test]
async fn a_stream_names_who_served_as_each_release_does() {
    for release in RELEASES {
        let s = recorded_setup(release).await;
        s.stage.set(Side::Primary, Fault::Down);
        let answer = s.chat(true).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(
            header(&answer, "content-type"),
            Some("text/event-stream; charset=utf-8")
        );
        // 1.83: only the deployment's id and api_base tell who served; 1.106 says it all.
        let recording = recorded(release, "07b-stream-fallback-refused.http");
        assert_tells_like(&answer, &recording);
        let body = answer.text().await.unwrap();
        assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
        let chunks = chunks(&body);
        assert!(chunks.len() >= 2);
        // Every chunk names the model the recording's chunks name: the requested one on
        // 1.83, the group that served on 1.106.
        let recorded_model = chunks_of(&recording)[0]["model"].clone();
        assert!(
            chunks.iter().all(|c| c["model"] == recorded_model),
            "{release:?}: {body}"
        );
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, "Hello!");
        assert_eq!(
            chunks.last().unwrap()["choices"][0]["finish_reason"],
            "stop"
        );

        // The prober is not fooled: the deployment map (1.83) or the group header (1.106)
        // says the fallback served.
        let served = s.prober(true).probe(Lane::Normal).await.result.unwrap();
        assert_eq!(served.role, Role::Fallback);
        assert_eq!(served.model, "ollama/llama3");
        let evidence = match release {
            Release::V1_83 => Evidence::Deployment,
            Release::V1_106 => Evidence::ModelGroupHeader,
        };
        assert_eq!(served.evidence, evidence);
        assert_eq!(served.reply, "Hello!");
    }
}

#[tokio::test]
async fn with_everything_down_the_errors_are_litellms_recorded_ones() {
    for release in RELEASES {
        let s = recorded_setup(release).await;
        s.stage.set(Side::Primary, Fault::Down);
        s.stage.set(Side::Fallback, Fault::Down);
        // Three requests in a row: the primary's error with the fallback's inside it; a
        // stream's, the same JSON 500 and not SSE; then, two failures having put the primary
        // in cooldown, the router's own 429. Each says what the recording does.
        let answers = [
            (
                false,
                500,
                "06a-both-refused.http",
                ("x-litellm-timeout", Some("30")),
            ),
            (
                true,
                500,
                "06b-both-refused-stream.http",
                ("content-type", Some("application/json")),
            ),
            (
                false,
                429,
                "06a3-both-refused-third.http",
                ("x-litellm-timeout", None),
            ),
        ];
        for (stream, status, name, (telling, value)) in answers {
            let answer = s.chat(stream).await;
            let recording = recorded(release, name);
            assert_eq!(answer.status(), status, "{name}");
            assert_eq!(header(&answer, telling), value, "{name}");
            assert_eq!(
                header(&answer, "retry-after"),
                recorded_header(&recording, "retry-after"),
                "{name}"
            );
            assert_eq!(
                answer.json::<Value>().await.unwrap(),
                recorded_json(release, name),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn the_other_endpoints_answer_like_the_proxys() {
    let s = recorded_setup(Release::V1_83).await;
    let get = |path: &str| {
        let url = format!("{}{path}", s.gateway.url());
        let http = s.http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    assert_eq!(
        get("/health/liveliness").await.text().await.unwrap(),
        "\"I'm alive!\""
    );
    let models: Value = get("/v1/models").await.json().await.unwrap();
    assert_eq!(models, recorded_json(Release::V1_83, "08c-v1-models.http"));
    let info = get("/model/info").await.bytes().await.unwrap();
    let deployments = Deployments::from_model_info(&info).unwrap();
    assert_eq!(deployments.len(), 2);
    assert_eq!(
        deployments.by_id(PRIMARY_ID).unwrap().model_name,
        "llama-fp8"
    );
    assert_eq!(
        deployments.by_id(FALLBACK_ID).unwrap().api_base.as_deref(),
        Some("http://127.0.0.1:11434")
    );
    let info: Value = serde_json::from_slice(&info).unwrap();
    assert!(
        !info.to_string().contains("api_key"),
        "the key stays hidden"
    );

    let unknown = s
        .http
        .post(format!("{}/v1/chat/completions", s.gateway.url()))
        .json(&json!({"model": "nope", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let body: Value = unknown.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid model name passed in model=nope")
    );
}
