//! The simulated gateway over real HTTP, in-process, in front of mock deployments, with the
//! config the real proxy was recorded with (`fixtures/scenarios/config.yaml`): its answers
//! must look like the recorded ones (`fixtures/captures`), down to the error bodies, and the
//! real prober must attribute them right.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::demo::config_file;
use crate::demo::gateway::Gateway;
use crate::mock::{Api, MockConfig, MockServer, Mode};
use crate::probe::{
    Deployments, Endpoint, Evidence, HttpProber, Probe, ProbeSettings, Role, http_client,
};
use serde_json::{Value, json};

const PRIMARY_ID: &str = "027a60b4976e264d7fe2dc8bd46356c9813c78f0a33bc4c8116136f5a9739210";
const FALLBACK_ID: &str = "3f7c3b226644bb7ac4c85dedcc2f01c6e0ed1114cd22e5cbadd527c2f0e480a3";

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON body of a recorded answer.
fn recorded_body(capture: &str) -> Value {
    let text = fixture(&format!("captures/{capture}"));
    let json = text.lines().find(|l| l.starts_with('{')).unwrap();
    serde_json::from_str(json).unwrap()
}

/// The gateway with the recorded config, the fallback (`llama3`) and the primary
/// (`llama-fp8`) served by mocks in the given modes.
struct Setup {
    gateway: Gateway,
    fallback: MockServer,
    primary: MockServer,
    http: reqwest::Client,
}

async fn setup(config: &str, primary_mode: Mode) -> Setup {
    let settings = config_file::parse(config, false).unwrap();
    let mock = |api, model: &str, reply: &str, mode| MockConfig {
        api,
        model: model.into(),
        reply: reply.into(),
        mode,
    };
    let free = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let fallback = MockServer::start(free, mock(Api::Ollama, "llama3", "Hello!", Mode::Ok))
        .await
        .unwrap();
    let primary = MockServer::start(free, mock(Api::Openai, "llama-fp8", "Hi.", primary_mode))
        .await
        .unwrap();
    let gateway = Gateway::start(settings, vec![fallback.url(), primary.url()])
        .await
        .unwrap();
    let gateway_url = gateway.url();
    Setup {
        gateway,
        fallback,
        primary,
        http: http_client(
            Duration::from_secs(10),
            &Endpoint::parse(&gateway_url).unwrap(),
        )
        .unwrap(),
    }
}

async fn recorded_setup() -> Setup {
    setup(&fixture("scenarios/config.yaml"), Mode::Ok).await
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
        })
        .unwrap()
    }
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The `data:` events of an SSE body, `[DONE]` left out.
fn chunks(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[tokio::test]
async fn answers_carry_the_real_proxys_headers_and_model_names() {
    let mut s = recorded_setup().await;
    let answer = s.chat(false).await;
    assert_eq!(answer.status(), 200);
    for (name, value) in [
        ("x-litellm-model-group", "llama-fp8"),
        ("x-litellm-attempted-fallbacks", "0"),
        ("x-litellm-attempted-retries", "0"),
        ("x-litellm-model-id", PRIMARY_ID),
        ("x-litellm-model-api-base", "http://127.0.0.1:18080/v1"),
        ("x-litellm-version", "1.83.14"),
    ] {
        assert_eq!(header(&answer, name), Some(value), "{name}");
    }
    assert!(header(&answer, "x-litellm-call-id").is_some_and(|id| id.len() == 36));
    assert!(header(&answer, "x-litellm-response-duration-ms").is_some());
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["model"], "llama-fp8");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "Hi.");

    // Primary down: the fallback serves under its provider string (captures/02a).
    s.primary.stop();
    let answer = s.chat(false).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "x-litellm-model-group"), Some("llama3"));
    assert_eq!(header(&answer, "x-litellm-attempted-fallbacks"), Some("1"));
    assert_eq!(header(&answer, "x-litellm-model-id"), Some(FALLBACK_ID));
    assert_eq!(
        header(&answer, "x-litellm-model-api-base"),
        Some("http://127.0.0.1:11434")
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["model"], "ollama/llama3");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello!");

    // The real prober reads it all.
    let report = s.prober(false).probe().await;
    let served = report.result.unwrap();
    assert_eq!(served.role, Role::Fallback);
    assert_eq!(served.model, "ollama/llama3");
    assert_eq!(served.evidence, Evidence::ModelGroupHeader);
    assert_eq!(s.fallback.stats().completions, 2);
}

#[tokio::test]
async fn a_stream_names_the_primary_in_every_chunk_even_when_the_fallback_serves() {
    let mut s = recorded_setup().await;
    s.primary.stop();
    let answer = s.chat(true).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        header(&answer, "content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    // captures/07b: only the deployment's id and api_base tell who served.
    assert_eq!(header(&answer, "x-litellm-model-id"), Some(FALLBACK_ID));
    assert_eq!(header(&answer, "x-litellm-model-group"), None);
    assert_eq!(header(&answer, "x-litellm-attempted-fallbacks"), None);
    let body = answer.text().await.unwrap();
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    let chunks = chunks(&body);
    assert!(chunks.len() >= 2);
    assert!(chunks.iter().all(|c| c["model"] == "llama-fp8"), "{body}");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello!");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );

    // The prober is not fooled: the deployment map says the fallback served.
    let served = s.prober(true).probe().await.result.unwrap();
    assert_eq!(served.role, Role::Fallback);
    assert_eq!(served.model, "ollama/llama3");
    assert_eq!(served.evidence, Evidence::Deployment);
    assert_eq!(served.reply, "Hello!");
}

#[tokio::test]
async fn with_everything_down_the_errors_are_litellms_recorded_ones() {
    let mut s = recorded_setup().await;
    s.primary.stop();
    s.fallback.stop();
    // captures/06a: the primary's error, the fallback's inside it.
    let first = s.chat(false).await;
    assert_eq!(first.status(), 500);
    assert_eq!(header(&first, "x-litellm-timeout"), Some("30"));
    assert_eq!(
        first.json::<Value>().await.unwrap(),
        recorded_body("06a-both-refused.http")
    );
    // captures/06b: a stream gets the same JSON 500, not SSE.
    let stream = s.chat(true).await;
    assert_eq!(stream.status(), 500);
    assert_eq!(header(&stream, "content-type"), Some("application/json"));
    assert_eq!(
        stream.json::<Value>().await.unwrap(),
        recorded_body("06b-both-refused-stream.http")
    );
    // captures/06a3: two failures put the primary in cooldown; now the router's own 429.
    let third = s.chat(false).await;
    assert_eq!(third.status(), 429);
    assert_eq!(header(&third, "x-litellm-timeout"), None);
    assert_eq!(
        third.json::<Value>().await.unwrap(),
        recorded_body("06a3-both-refused-third.http")
    );
}

#[tokio::test]
async fn a_primary_answering_garbage_to_a_stream_gives_one_empty_chunk_and_no_fallback() {
    let s = setup(&fixture("scenarios/config.yaml"), Mode::Garbage).await;
    // captures/07g-stream-garbage.
    let answer = s.chat(true).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "x-litellm-model-id"), Some(PRIMARY_ID));
    let chunks = chunks(&answer.text().await.unwrap());
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({}));
    assert_eq!(chunks[0]["choices"][0]["finish_reason"], "stop");
    assert_eq!(s.fallback.stats().completions, 0);
    // Without streaming, garbage is a failure and the fallback serves (captures/05-garbage).
    let answer = s.chat(false).await;
    assert_eq!(header(&answer, "x-litellm-model-group"), Some("llama3"));
}

#[tokio::test]
async fn a_rate_limit_cools_the_primary_down_for_its_retry_after() {
    // cooldown_time 30 s, but the primary says Retry-After: 1.
    let config = fixture("scenarios/config.yaml").replace("cooldown_time: 10", "cooldown_time: 30");
    let s = setup(
        &config,
        Mode::RateLimited {
            retry_after_secs: 1,
        },
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            header(&s.chat(false).await, "x-litellm-model-group"),
            Some("llama3")
        );
    }
    // The second 429 started the cooldown: the third request did not reach the primary.
    assert_eq!(s.primary.stats().requests, 2);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    s.primary.set_mode(Mode::Ok);
    assert_eq!(
        header(&s.chat(false).await, "x-litellm-model-group"),
        Some("llama-fp8")
    );
}

#[tokio::test]
async fn the_other_endpoints_answer_like_the_proxys() {
    let s = recorded_setup().await;
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
    assert_eq!(models, recorded_body("08c-v1-models.http"));
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
