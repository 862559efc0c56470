//! The prober against the real proxy's recorded answers, replayed byte for byte, and against
//! the project's mock upstream in its fault modes.

use std::time::Duration;

use super::hostile::{Act, Hostile};
use super::{Capture, ReplayServer, capture, capture_in, refused_addr};
use crate::probe::event::Failure;
use crate::probe::{
    Endpoint, ErrorKind, Evidence, HttpProber, Lane, Probe, ProbeReport, ProbeSettings, Role,
};
use crate::sys::secret::ApiKey;
use crate::testkit::{Api, MockConfig, MockServer, Mode};

fn settings(url: &str, stream: bool) -> ProbeSettings {
    ProbeSettings {
        endpoint: Endpoint::parse(url).unwrap(),
        key: Some(ApiKey::new("sk-test").unwrap()),
        primary: "llama-fp8".to_owned(),
        prompt: "Say hi".to_owned(),
        max_tokens: 10,
        stream,
        timeout: Duration::from_secs(5),
        proxy_metrics: crate::probe::ProxyMetrics::Off,
    }
}

async fn probe_once(settings: ProbeSettings) -> ProbeReport {
    HttpProber::new(settings).unwrap().probe(Lane::Normal).await
}

/// One probe of the server at `url` that gives up after `timeout`.
async fn probe_within(url: &str, stream: bool, timeout: Duration) -> ProbeReport {
    let mut settings = settings(url, stream);
    settings.timeout = timeout;
    probe_once(settings).await
}

/// The failure one probe of the server at `url` reports.
async fn failure_at(url: &str, stream: bool) -> Failure {
    probe_once(settings(url, stream))
        .await
        .result
        .expect_err("the probe should fail")
}

/// A server replaying the recorded answer `name`, and the report of one probe of it.
async fn probe_recorded(name: &str, stream: bool) -> (ReplayServer, ProbeReport) {
    let server = ReplayServer::start(vec![capture(name)], None).await;
    let report = probe_once(settings(&server.url(), stream)).await;
    (server, report)
}

/// Who served the recorded answer `name`, as one probe of it tells.
async fn role_serving(name: &str) -> Role {
    let (_, report) = probe_recorded(name, false).await;
    served(&report).0
}

/// Two streaming probes of a server replaying, from `recorded`, a stream the primary served
/// and then one the fallback served, with the deployments at `/model/info`: the server and
/// both reports.
async fn probe_two_streams(
    recorded: impl Fn(&str) -> Capture,
) -> (ReplayServer, ProbeReport, ProbeReport) {
    let server = ReplayServer::start(
        vec![
            recorded("07a-stream-primary.http"),
            recorded("07b-stream-fallback-refused.http"),
        ],
        Some(recorded("08d-model-info.http")),
    )
    .await;
    let prober = HttpProber::new(settings(&server.url(), true)).unwrap();
    let first = prober.probe(Lane::Normal).await;
    let second = prober.probe(Lane::Normal).await;
    (server, first, second)
}

/// The report of one probe of a server that gives `answer`.
async fn probe_answer(answer: Capture, stream: bool) -> ProbeReport {
    let server = ReplayServer::start(vec![answer], None).await;
    probe_once(settings(&server.url(), stream)).await
}

/// The failure one probe reports for `answer`.
async fn failure_for(answer: Capture, stream: bool) -> Failure {
    probe_answer(answer, stream)
        .await
        .result
        .expect_err("the probe should fail")
}

/// An answer of `content_type` with this body.
fn answer(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Capture {
    Capture {
        status,
        headers: vec![("content-type".into(), content_type.into())],
        body: body.into(),
    }
}

/// An `application/json` answer.
fn json_answer(status: u16, body: &str) -> Capture {
    answer(status, "application/json", body)
}

/// A `text/event-stream` answer with this body.
fn event_stream(body: &str) -> Capture {
    answer(200, "text/event-stream", body)
}

/// `answer` with the header `name: value` added.
fn with_header(mut answer: Capture, name: &str, value: &str) -> Capture {
    answer.headers.push((name.into(), value.into()));
    answer
}

/// Asserts that `failure` is of `kind` and its message says `part`.
#[track_caller]
fn assert_failure(failure: &Failure, kind: ErrorKind, part: &str) {
    assert_eq!(failure.kind, kind, "{}", failure.message);
    assert!(
        failure.message.contains(part),
        "no {part:?} in {}",
        failure.message
    );
}

fn served(report: &ProbeReport) -> (Role, &str, Evidence, &str) {
    let s = report
        .result
        .as_ref()
        .unwrap_or_else(|f| panic!("failed: {f:?}"));
    (s.role, s.model.as_str(), s.evidence, s.reply.as_str())
}

#[tokio::test]
async fn primary_answers_are_attributed_by_the_model_group_header() {
    let (server, report) = probe_recorded("01b-primary-ok.http", false).await;
    assert_eq!(
        served(&report),
        (
            Role::Primary,
            "llama-fp8",
            Evidence::ModelGroupHeader,
            "Hi."
        )
    );
    assert_eq!(report.status, Some(200));
    assert_eq!(report.route.model_group.as_deref(), Some("llama-fp8"));
    assert_eq!(report.route.attempted_fallbacks, Some(0));
    assert_eq!(
        report.route.api_base.as_deref(),
        Some("http://127.0.0.1:18080/v1")
    );
    assert!(report.ttft.is_none());
    assert!(report.latency > Duration::ZERO);

    let sent = &server.received()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(sent.authorization.as_deref(), Some("Bearer sk-test"));
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["model"], "llama-fp8");
    assert_eq!(body["messages"][0]["content"], "Say hi");
    assert_eq!(body["max_tokens"], 10);
    assert!(body.get("stream").is_none());
}

#[tokio::test]
async fn fallback_answers_keep_the_model_as_the_proxy_names_it() {
    let (_, report) = probe_recorded("02a-primary-refused-1st.http", false).await;
    assert_eq!(
        served(&report),
        (
            Role::Fallback,
            "ollama/llama3",
            Evidence::ModelGroupHeader,
            "Hello!"
        )
    );
    assert_eq!(report.route.attempted_fallbacks, Some(1));
}

#[tokio::test]
async fn the_seed_verbatim_config_answers_from_the_fallback_although_the_primary_is_up() {
    let role = role_serving("00a-seed-verbatim-no-api-key-primary-up.http").await;
    assert_eq!(role, Role::Fallback);
}

#[tokio::test]
async fn an_upstream_naming_itself_otherwise_is_still_the_primary() {
    let role = role_serving("01d-primary-upstream-reports-other-model-name.http").await;
    assert_eq!(role, Role::Primary);
}

#[tokio::test]
async fn streams_are_attributed_by_deployment_although_every_chunk_names_the_primary() {
    let (server, first, second) = probe_two_streams(capture).await;
    assert_eq!(
        served(&first),
        (Role::Primary, "llama-fp8", Evidence::Deployment, "Hi.")
    );
    assert!(first.ttft.is_some());
    assert!(
        first.route.model_group.is_none(),
        "streams carry no model group"
    );
    assert_eq!(
        served(&second),
        (
            Role::Fallback,
            "ollama/llama3",
            Evidence::Deployment,
            "Hello!"
        )
    );
    // Two streams, one look-up of the deployments.
    let info_requests = server
        .received()
        .iter()
        .filter(|r| r.path == "/model/info")
        .count();
    assert_eq!(info_requests, 1);
    let sent: serde_json::Value = serde_json::from_str(&server.received()[0].body).unwrap();
    assert_eq!(sent["stream"], true);
}

#[tokio::test]
async fn litellm_1_106_streams_are_attributed_by_their_group_header() {
    let (server, first, second) =
        probe_two_streams(|name| capture_in("captures-1.106.12", name)).await;
    let (role, model, evidence, _) = served(&first);
    assert_eq!(
        (role, model, evidence),
        (Role::Primary, "llama-fp8", Evidence::ModelGroupHeader)
    );
    assert_eq!(first.route.version.as_deref(), Some("1.106.12"));
    // The chunks name the group that served; the fallback is named as a normal answer names
    // it, by its model.
    assert_eq!(
        served(&second),
        (
            Role::Fallback,
            "ollama/llama3",
            Evidence::ModelGroupHeader,
            "Hello!"
        )
    );
    // The headers said it all: no look-up of the deployments.
    assert!(server.received().iter().all(|r| r.path != "/model/info"));
}

#[tokio::test]
async fn an_error_tells_the_routers_timeout_and_a_success_the_release() {
    let (_, report) = probe_recorded("06a-both-refused.http", false).await;
    assert_eq!(report.route.router_timeout, Some(Duration::from_secs(30)));
    assert_eq!(report.route.version, None);
    let (_, report) = probe_recorded("01b-primary-ok.http", false).await;
    assert_eq!(report.route.version.as_deref(), Some("1.83.14"));
    assert_eq!(report.route.router_timeout, None);
}

#[tokio::test]
async fn without_model_info_a_stream_falls_back_to_the_body_and_says_so() {
    let (_, report) = probe_recorded("07b-stream-fallback-refused.http", true).await;
    // The chunks name the primary: the only evidence left, flagged as such.
    let (_, _, evidence, _) = served(&report);
    assert_eq!(evidence, Evidence::BodyModel);
}

#[tokio::test]
async fn an_empty_stream_from_a_broken_primary_is_an_empty_reply() {
    let server = ReplayServer::start(
        vec![capture("07g-stream-garbage.http")],
        Some(capture("08d-model-info.http")),
    )
    .await;
    let report = probe_once(settings(&server.url(), true)).await;
    assert_eq!(
        served(&report),
        (Role::Primary, "llama-fp8", Evidence::Deployment, "")
    );
    assert!(report.ttft.is_none());
}

#[tokio::test]
async fn both_upstreams_down_is_an_http_error_with_litellms_message() {
    for (name, stream) in [
        ("06a-both-refused.http", false),
        ("06b-both-refused-stream.http", true),
    ] {
        let (server, report) = probe_recorded(name, stream).await;
        let failure = report.result.as_ref().unwrap_err();
        assert_failure(failure, ErrorKind::Http, "Received Model Group=llama-fp8");
        assert_eq!(report.status, Some(500), "{name}");
        assert!(
            failure.message.starts_with("litellm.InternalServerError"),
            "{name}: {}",
            failure.message
        );
        assert!(!failure.message.contains('\n'));
        // One request per probe: async-openai's own retries are off.
        assert_eq!(server.chat_requests(), 1, "{name}");
    }
}

#[tokio::test]
async fn one_probe_is_one_request_whatever_the_error() {
    let rate_limited = json_answer(
        429,
        r#"{"error":{"message":"No deployments available for selected model, Try again in 10 seconds","type":"None","param":"None","code":"429"}}"#,
    );
    let rate_limited = with_header(rate_limited, "retry-after", "0");
    let unavailable = answer(503, "text/plain", "upstream down");
    for capture in [rate_limited, unavailable] {
        let status = capture.status;
        let server = ReplayServer::start(vec![capture], None).await;
        let report = probe_once(settings(&server.url(), false)).await;
        assert_eq!(report.status, Some(status));
        assert_eq!(report.result.unwrap_err().kind, ErrorKind::Http);
        assert_eq!(server.chat_requests(), 1, "status {status}");
    }
}

#[tokio::test]
async fn auth_and_model_errors_come_with_a_hint() {
    let cases = [
        (
            "09a-no-auth-header.http",
            false,
            401,
            "the proxy wants a key",
        ),
        (
            "09a-no-auth-header.http",
            true,
            401,
            "the proxy refused the key",
        ),
        ("09b-wrong-key.http", true, 400, "rejected the key"),
        ("09f-unknown-model.http", true, 400, "check --primary"),
    ];
    for (name, with_key, status, hint) in cases {
        let server = ReplayServer::start(vec![capture(name)], None).await;
        let mut settings = settings(&server.url(), false);
        if !with_key {
            settings.key = None;
        }
        let report = probe_once(settings).await;
        assert_eq!(report.status, Some(status), "{name}");
        assert_failure(&report.result.unwrap_err(), ErrorKind::Http, hint);
    }
}

#[tokio::test]
async fn an_html_error_page_keeps_its_status_and_is_named_by_its_title() {
    for status in [401, 502] {
        let page = answer(
            status,
            "text/html",
            format!(
                "<html><head><title>{status} Gateway says no</title></head><body><h1>no</h1></body></html>"
            ),
        );
        let report = probe_answer(page, false).await;
        assert_eq!(report.status, Some(status));
        let said = format!("an HTML page: {status} Gateway says no");
        assert_failure(&report.result.unwrap_err(), ErrorKind::Http, &said);
    }
}

#[tokio::test]
async fn broken_json_in_a_200_is_a_decode_error_with_an_excerpt() {
    let broken = json_answer(200, "{\"id\": \"chatcmpl-1\", \"choices\": [");
    let failure = failure_for(broken, false).await;
    assert_failure(&failure, ErrorKind::Decode, "chatcmpl-1");
}

#[tokio::test]
async fn a_json_answer_without_choices_is_a_decode_error() {
    let failure = failure_for(json_answer(200, r#"{"status":"ok"}"#), false).await;
    assert_failure(&failure, ErrorKind::Decode, "no choices");
}

#[tokio::test]
async fn escape_sequences_in_a_reply_never_get_through() {
    let body = serde_json::json!({
        "id": "x", "object": "chat.completion", "created": 0, "model": "llama-fp8\u{1b}[2J",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
            "content": "\u{1b}]0;pwned\u{7}\u{1b}[31mHi\u{1b}[0m\r\nthere\u{9b}2J"}}],
    });
    let hostile = json_answer(200, &body.to_string());
    let report = probe_answer(
        with_header(hostile, "x-litellm-model-group", "llama-fp8"),
        false,
    )
    .await;
    let (_, model, _, reply) = served(&report);
    assert_eq!(reply, "Hi there");
    assert_eq!(model, "llama-fp8");
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let url = format!("http://{}", refused_addr());
    let failure = failure_at(&url, false).await;
    assert_failure(&failure, ErrorKind::Connect, "cannot connect");
}

async fn mock(mode: Mode) -> MockServer {
    let config = MockConfig {
        api: Api::Openai,
        model: "llama-fp8".into(),
        reply: "Hi.".into(),
        mode,
    };
    MockServer::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hung_answer_is_a_timeout_at_the_limit() {
    let server = mock(Mode::Hang).await;
    let report = probe_within(&server.url(), false, Duration::from_millis(300)).await;
    let failure = report.result.unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Timeout, "{}", failure.message);
    assert!(report.latency >= Duration::from_millis(300));
    assert!(report.latency < Duration::from_secs(5));
}

#[tokio::test]
async fn a_closed_connection_is_a_reset() {
    let server = mock(Mode::Reset).await;
    for stream in [false, true] {
        let failure = failure_at(&server.url(), stream).await;
        assert_eq!(failure.kind, ErrorKind::Reset, "{}", failure.message);
    }
}

#[tokio::test]
async fn garbage_from_the_upstream_is_a_decode_error() {
    let server = mock(Mode::Garbage).await;
    let failure = failure_at(&server.url(), false).await;
    assert_failure(&failure, ErrorKind::Decode, "not JSON");
}

#[tokio::test]
async fn without_a_key_no_authorization_header_is_sent() {
    let server = ReplayServer::start(vec![capture("01b-primary-ok.http")], None).await;
    let mut s = settings(&server.url(), false);
    s.key = None;
    probe_once(s).await.result.unwrap();
    assert_eq!(server.received()[0].authorization, None);
}

#[tokio::test]
async fn an_error_event_inside_a_stream_is_a_stream_error() {
    let stream = event_stream(
        "data: {\"id\":\"1\",\"model\":\"llama-fp8\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"error\":{\"message\":\"upstream went away\",\"code\":\"500\"}}\n\n",
    );
    let report = probe_answer(stream, true).await;
    let failure = report.result.as_ref().unwrap_err();
    assert_failure(failure, ErrorKind::Stream, "upstream went away");
    assert!(
        report.ttft.is_some(),
        "the first token came before the error"
    );
}

#[tokio::test]
async fn a_stream_that_is_not_one_or_is_cut_short_is_a_stream_error() {
    let chunk =
        r#"data: {"id":"1","model":"llama-fp8","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#;
    let cases = [
        // Not an event stream at all: a plain completion, garbage, or only the end mark.
        (
            json_answer(
                200,
                r#"{"id":"x","model":"llama-fp8","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi"}}]}"#,
            ),
            "no event stream",
        ),
        (event_stream("this is not JSON"), "no event stream"),
        (event_stream("data: [DONE]\n\n"), "no event stream"),
        // Chunks, then the connection ends without the last one.
        (
            event_stream(&format!("{chunk}\n\n{chunk}\n\n")),
            "ended after 2 chunks without a finish_reason",
        ),
    ];
    for (given, expected) in cases {
        let failure = failure_for(given, true).await;
        assert_failure(&failure, ErrorKind::Stream, expected);
    }
}

#[tokio::test]
async fn garbage_in_streaming_mode_is_no_success() {
    let server = mock(Mode::Garbage).await;
    let failure = failure_at(&server.url(), true).await;
    assert_eq!(failure.kind, ErrorKind::Stream, "{}", failure.message);
}

#[tokio::test]
async fn an_answer_that_names_nobody_is_not_a_fallback() {
    let anonymous = json_answer(
        200,
        r#"{"id":"x","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi"}}]}"#,
    );
    let failure = failure_for(anonymous, false).await;
    assert_failure(&failure, ErrorKind::Decode, "does not say who served it");
}

#[tokio::test]
async fn a_key_echoed_by_the_server_is_never_shown() {
    let echo_in_error = json_answer(
        401,
        r#"{"error":{"message":"bad Authorization: Bearer sk-test","type":"auth_error","param":null,"code":"401"}}"#,
    );
    let echo_in_reply = json_answer(
        200,
        r#"{"id":"x","model":"llama-fp8","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"you sent sk-test"}}]}"#,
    );
    let echo_in_reply = with_header(echo_in_reply, "x-litellm-model-group", "llama-fp8");
    let failure = failure_for(echo_in_error, false).await;
    assert!(!failure.message.contains("sk-test"), "{}", failure.message);
    assert!(
        failure.message.contains("Bearer [API key]"),
        "{}",
        failure.message
    );
    let report = probe_answer(echo_in_reply, false).await;
    assert_eq!(served(&report).3, "you sent [API key]");
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed() {
    let moved = Capture {
        status: 302,
        headers: vec![(
            "location".into(),
            format!("http://{}/v1/chat/completions", super::refused_addr()),
        )],
        body: Vec::new(),
    };
    let server = ReplayServer::start(vec![moved], None).await;
    let report = probe_once(settings(&server.url(), false)).await;
    assert_eq!(report.status, Some(302));
    assert_failure(&report.result.unwrap_err(), ErrorKind::Http, "check --url");
    assert_eq!(server.chat_requests(), 1);
}

#[tokio::test]
async fn what_is_not_http_is_a_protocol_error_with_the_reason() {
    let cases = [
        (Act::Raw("SSH-2.0-OpenSSH_9.6\r\n"), "invalid HTTP version"),
        (
            Act::Raw("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
            "invalid HTTP header",
        ),
        (
            Act::Raw("HTTP/1.1 2000 OK\r\n\r\n"),
            "invalid HTTP status-code",
        ),
        (Act::HeadTooLarge, "message head is too large"),
    ];
    for (act, reason) in cases {
        let server = Hostile::start(act, Act::Hang).await;
        for stream in [false, true] {
            let failure = failure_at(&server.url(), stream).await;
            assert_failure(&failure, ErrorKind::Protocol, reason);
            assert!(
                failure.message.starts_with("the answer is not valid HTTP"),
                "{}",
                failure.message
            );
        }
    }
    // A connection closed before or inside the answer is no protocol error.
    for act in [Act::CloseEarly, Act::CloseMidBody] {
        let server = Hostile::start(act, Act::Hang).await;
        let failure = failure_at(&server.url(), false).await;
        assert_eq!(failure.kind, ErrorKind::Reset, "{}", failure.message);
    }
}

#[tokio::test]
async fn a_stream_that_stops_after_its_first_tokens_keeps_its_status_and_first_token() {
    let server = Hostile::start(Act::StreamThenHang, Act::Hang).await;
    let report = probe_within(&server.url(), true, Duration::from_millis(400)).await;
    let failure = report.result.unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Timeout);
    assert_eq!(failure.message, "no answer within 400ms");
    assert_eq!(report.status, Some(200));
    assert_eq!(report.route.model_id.as_deref(), Some("dep-1"));
    let ttft = report.ttft.expect("the first token was seen");
    assert!(ttft < Duration::from_millis(400), "{ttft:?}");
    assert!(report.latency >= Duration::from_millis(400));
}

#[tokio::test]
async fn a_hung_model_info_never_turns_a_stream_that_came_into_a_timeout() {
    let server = Hostile::start(Act::Stream, Act::Hang).await;
    let report = probe_within(&server.url(), true, Duration::from_secs(1)).await;
    // Attributed by the chunk's model, and said why.
    let (role, model, evidence, _) = served(&report);
    assert_eq!(
        (role, model, evidence),
        (Role::Primary, "llama-fp8", Evidence::BodyModel)
    );
    let why = report.route.lookup_failure.as_deref().unwrap();
    assert_eq!(why, "GET /model/info: no answer within 1s");
    // Timed to the stream's end, not to the end of the look-up.
    assert!(
        report.latency < Duration::from_secs(1),
        "{:?}",
        report.latency
    );
}

#[tokio::test]
async fn a_model_info_that_fails_or_lies_is_said_with_its_reason() {
    for (act, reason) in [
        (Act::EchoError(500), "GET /model/info answered 500"),
        (
            Act::Raw("HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nnot json!"),
            "GET /model/info",
        ),
    ] {
        let server = Hostile::start(Act::Stream, act).await;
        let report = probe_once(settings(&server.url(), true)).await;
        assert!(report.result.is_ok());
        let why = report.route.lookup_failure.as_deref().unwrap();
        assert!(why.contains(reason), "{why}");
        assert!(!why.contains("sk-test"), "the key is blanked out: {why}");
    }
}

/// The targets of one proxy share one read of its metrics, each taking its own group's
/// series from it.
#[tokio::test]
async fn the_targets_of_a_proxy_share_one_read_of_its_metrics_each_its_own_group() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::probe::{ProxyMetrics, ProxyShare, http_client};

    const METRICS: &str = concat!(
        "# TYPE litellm_deployment_successful_fallbacks_total counter\n",
        "litellm_deployment_successful_fallbacks_total{fallback_model=\"x\",requested_model=\"a\"} 3.0\n",
        "litellm_deployment_successful_fallbacks_total{fallback_model=\"x\",requested_model=\"b\"} 5.0\n",
    );
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let app = axum::Router::new().route(
        "/metrics/",
        axum::routing::get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { METRICS }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let target = |group: &str| ProbeSettings {
        primary: group.to_owned(),
        proxy_metrics: ProxyMetrics::Auto,
        ..settings(&url, false)
    };
    let first = target("a");
    let http = http_client(first.timeout, &first.endpoint).unwrap();
    let share = ProxyShare::new(http, vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]);
    let a = HttpProber::sharing(first, share.clone()).unwrap();
    let b = HttpProber::sharing(target("b"), share.clone()).unwrap();
    let c = HttpProber::sharing(target("c"), share).unwrap();
    let of_a = a.proxy_view().await.unwrap().unwrap();
    let of_b = b.proxy_view().await.unwrap().unwrap();
    assert_eq!((of_a.fallbacks, of_b.fallbacks), (Some(3.0), Some(5.0)));
    // A group without fallbacks yet: the family is exported, so none is zero, not unknown.
    let of_c = c.proxy_view().await.unwrap().unwrap();
    assert_eq!(of_c.fallbacks, Some(0.0));
    assert_eq!(
        reads.load(Ordering::SeqCst),
        1,
        "one read for the three targets"
    );
}
