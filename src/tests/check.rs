//! `check` against the simulated gateway (the real proxy's run is in the end-to-end tests):
//! a healthy setup passes, the seed's missing api_key is named with its fix, an unreachable
//! proxy cannot be checked.

use std::time::Duration;

use crate::cli::{CheckArgs, CheckOutput, ProxyArgs, TargetArgs, TargetsArgs};
use crate::commands::check::{Finding, Report, Status, TargetReport, ended, print, reports};
use crate::modes::demo::config_file::{self, SEED_CONFIG};
use crate::modes::demo::gateway::Gateway;
use crate::modes::demo::stage::{Fault, Side, Stage};
use crate::sys::exit::{Ended, Usage};

fn args(url: &str, fallback: Option<&str>) -> CheckArgs {
    CheckArgs {
        proxy: ProxyArgs {
            url: url.to_owned(),
            api_key_file: None,
        },
        target: TargetArgs {
            primary: Vec::new(),
            fallback: fallback.map(str::to_owned),
            // Above the router's 30 s, as a healthy setup has it.
            timeout: Some(Duration::from_secs(60)),
            prompt: "Say hi".to_owned(),
            max_tokens: 10,
            stream: false,
        },
        targets: TargetsArgs::default(),
        output: CheckOutput::Json,
        log_file: std::env::temp_dir().join("fw-check-test.log"),
    }
}

/// What `check` reports of the proxy at `url`, with or without a `--fallback`.
async fn check_report(url: &str, fallback: Option<&str>) -> Report {
    only(reports(&args(url, fallback)).await.unwrap())
}

/// The report of the one target of `reports`.
fn only(mut reports: Vec<TargetReport>) -> Report {
    assert_eq!(reports.len(), 1, "{reports:#?}");
    reports.remove(0).report
}

/// The finding of `report` named `check`.
fn finding<'a>(report: &'a Report, check: &str) -> &'a Finding {
    let found = report.checks.iter().find(|c| c.check == check);
    found.unwrap_or_else(|| panic!("no {check} in {report:?}"))
}

/// Asserts that the finding of `report` named `check` starts with `start`.
#[track_caller]
fn assert_finding_starts(report: &Report, check: &str, start: &str) {
    let found = finding(report, check);
    assert!(found.message.starts_with(start), "{found:?}");
}

async fn gateway(config: &str) -> (Gateway, Stage) {
    let settings = config_file::parse(config, false).unwrap();
    let stage = Stage::watching(&settings, vec![("llama-fp8".into(), Some("llama3".into()))]);
    let gateway = Gateway::start(settings, stage.clone()).await.unwrap();
    (gateway, stage)
}

#[tokio::test]
async fn a_healthy_setup_passes_and_a_down_fallback_is_a_problem() {
    let (gateway, stage) = gateway(SEED_CONFIG).await;
    let report = check_report(&gateway.url(), Some("llama3")).await;
    assert!(report.ok && report.checked, "{report:#?}");
    let checks: Vec<&str> = report.checks.iter().map(|c| c.check).collect();
    assert_eq!(
        checks,
        [
            "proxy", "key", "router", "primary", "request", "alone", "fallback", "timeouts"
        ]
    );
    assert_eq!(report.litellm_version.as_deref(), Some("1.106.12"));
    let said = |check: &str| finding(&report, check).message.clone();
    // 1.106 names its release in its answers only: it is said where the proxy is.
    assert!(
        said("proxy").ends_with(", LiteLLM 1.106.12"),
        "{}",
        said("proxy")
    );
    // The fallback named as the watcher names it: its deployment's model.
    assert_eq!(
        said("fallback"),
        "llama3 answers on its own (ollama/llama3)"
    );
    stage.set(Side::Fallback, Fault::Down);
    let report = check_report(&gateway.url(), Some("llama3")).await;
    assert!(!report.ok);
    assert_finding_starts(&report, "fallback", "llama3 fails on its own");
    // The error told the router's timeout: below --timeout, as it should be.
    assert_finding_starts(&report, "timeouts", "the proxy waits 30s for a model");
}

#[tokio::test]
async fn the_seeds_missing_api_key_is_named_with_its_fix() {
    let verbatim = SEED_CONFIG.replace("          api_key: \"none\"\n", "");
    let (gateway, _) = gateway(&verbatim).await;
    let report = check_report(&gateway.url(), None).await;
    assert!(!report.ok && report.checked);
    assert_finding_starts(&report, "request", "served by the fallback");
    let alone = finding(&report, "alone");
    assert_eq!(
        alone.message,
        "the primary fails inside LiteLLM for want of an api_key"
    );
    assert!(alone.fix.as_ref().unwrap().contains("api_key: \"none\""));
    // The fallback group came from the answer that fell back.
    assert_finding_starts(&report, "fallback", "llama3 answers on its own");
}

#[tokio::test]
async fn an_unreachable_proxy_cannot_be_checked() {
    let url = format!("http://{}", super::refused_addr());
    let report = check_report(&url, None).await;
    assert!(!report.checked && !report.ok);
    assert!(
        report.checks[0]
            .message
            .starts_with("cannot reach the proxy")
    );
    let error = crate::commands::check::check(args(&url, None))
        .await
        .unwrap_err();
    assert!(error.chain().any(|e| e.is::<Usage>()));
    let ended = crate::commands::check::check(args(&url, None)).await.ok();
    assert_ne!(ended, Some(Ended::Clean));
}

/// `check` of the seed's gateway with `primary` and `fallback` asked, the primary's deployment
/// playing `fault`, the client waiting `timeout`.
async fn checked(primary: &str, fallback: Option<&str>, fault: Fault, timeout: u64) -> Report {
    let (gateway, stage) = gateway(SEED_CONFIG).await;
    stage.set(Side::Primary, fault);
    let mut args = args(&gateway.url(), fallback);
    args.target.primary = vec![primary.to_owned()];
    args.target.timeout = Some(Duration::from_secs(timeout));
    only(reports(&args).await.unwrap())
}

/// The checks named `check` in `report`.
fn all<'a>(report: &'a Report, check: &str) -> Vec<&'a Finding> {
    report.checks.iter().filter(|c| c.check == check).collect()
}

/// Each wrong setup is named for what it is, with a fix that stands on its own.
#[tokio::test]
async fn a_wrong_name_a_client_that_gives_up_first_and_an_upstream_error_are_told_apart() {
    // A fallback that does not exist: its name is wrong, said once.
    let report = checked("llama-fp8", Some("nosuchgroup"), Fault::Up, 60).await;
    let fallback = all(&report, "fallback");
    assert_eq!(fallback.len(), 1, "{report:#?}");
    assert!(
        fallback[0]
            .message
            .starts_with("the proxy has no model group nosuchgroup")
    );
    assert!(
        fallback[0]
            .fix
            .as_deref()
            .unwrap()
            .starts_with("the fallback's name is wrong")
    );
    assert!(!report.ok);
    assert!(!format!("{report:?}").contains("--primary"), "{report:#?}");

    // A primary that does not exist: its name is wrong, nothing asked of it.
    let report = checked("nosuch", None, Fault::Up, 60).await;
    let primary = finding(&report, "primary");
    assert!(
        primary
            .fix
            .as_deref()
            .unwrap()
            .starts_with("the primary's name is wrong")
    );
    for check in ["request", "alone"] {
        assert_eq!(
            finding(&report, check).status,
            Status::Skipped,
            "{report:#?}"
        );
    }
    assert!(
        !format!("{report:?}").contains("--direct off"),
        "{report:#?}"
    );

    // The primary hangs and the client gives up before the router (30 s) does.
    let report = checked("llama-fp8", Some("llama3"), Fault::Hang, 2).await;
    let alone = finding(&report, "alone");
    assert!(
        alone
            .message
            .contains("the client gave up before LiteLLM's router did"),
        "{alone:?}"
    );
    assert!(!alone.message.contains("fails inside LiteLLM"), "{alone:?}");

    // The model server answers 500: LiteLLM only relayed it.
    let report = checked("llama-fp8", Some("llama3"), Fault::Error, 60).await;
    let alone = finding(&report, "alone");
    assert!(
        alone
            .message
            .contains("answered with an error, LiteLLM relayed it"),
        "{alone:?}"
    );
    // The request fell back; its fix is the primary's, whole (no "see the next line").
    let request = finding(&report, "request");
    assert!(
        request.message.starts_with("served by the fallback"),
        "{request:?}"
    );
    assert_eq!(request.fix, alone.fix);
}

/// A primary without a fallback configured: the route cannot be verified, and that is a
/// problem, not a silent pass.
#[tokio::test]
async fn no_fallback_configured_is_a_problem() {
    let config = SEED_CONFIG.replace(
        "      fallbacks:\n        - \"llama-fp8\": [\"llama3\"]\n",
        "",
    );
    assert_ne!(
        config, SEED_CONFIG,
        "the seed's fallbacks were not taken out"
    );
    let (gateway, _) = gateway(&config).await;
    let report = check_report(&gateway.url(), None).await;
    assert!(!report.ok && report.checked, "{report:#?}");
    let route = finding(&report, "route");
    assert!(
        route
            .message
            .starts_with("no fallback is configured for llama-fp8"),
        "{route:?}"
    );
    assert!(
        finding(&report, "router")
            .message
            .starts_with("no fallback for llama-fp8")
    );
}

/// Several targets are checked as `watch` takes them, each line led by the target's name, one
/// exit status for all: a problem with one is a problem of the check.
#[tokio::test]
async fn several_targets_are_each_checked_and_named() {
    let (gateway, _) = gateway(SEED_CONFIG).await;
    let mut two = args(&gateway.url(), None);
    two.target.primary = vec!["llama-fp8".to_owned(), "llama3".to_owned()];
    let checked = reports(&two).await.unwrap();
    let named: Vec<(&str, bool, bool)> = checked
        .iter()
        .map(|r| (r.target.as_str(), r.report.checked, r.report.ok))
        .collect();
    // llama3 has no fallback of its own: a problem, said for it alone.
    assert_eq!(
        named,
        [("llama-fp8", true, true), ("llama3", true, false)],
        "{checked:#?}"
    );
    assert!(
        checked[1].report.checks.iter().any(|f| f.check == "route"
            && f.message
                .starts_with("no fallback is configured for llama3")),
        "{checked:#?}"
    );
    assert_eq!(ended(&checked).unwrap(), Ended::Failed);
    assert_eq!(ended(&checked[..1]).unwrap(), Ended::Clean);

    // In JSON, each report names its target.
    let json = serde_json::to_value(&checked[1]).unwrap();
    assert_eq!(json["target"], "llama3");
    assert_eq!(json["ok"], false);
    assert!(json["checks"].is_array());

    // A target that cannot be checked makes the whole check one that could not be made,
    // named in the error.
    let down = format!("http://{}", super::refused_addr());
    let unreachable = only(reports(&args(&down, None)).await.unwrap());
    let url = unreachable.url.clone();
    let all = [
        checked.into_iter().next().unwrap(),
        TargetReport {
            target: "far".to_owned(),
            report: unreachable,
        },
    ];
    let error = ended(&all).unwrap_err();
    assert!(error.chain().any(|e| e.is::<Usage>()));
    assert_eq!(error.to_string(), format!("could not check far ({url})"));
    assert!(url.starts_with(&down), "{url}");
}

/// The lines of a finding, led by the target's name when there are several; none without.
#[test]
fn a_findings_lines_are_led_by_the_targets_label() {
    let lines = |label: &str, finding: &Finding| {
        let mut out = Vec::new();
        print(&mut out, label, finding).unwrap();
        String::from_utf8(out).unwrap()
    };
    let problem = Finding {
        check: "route",
        status: Status::Problem,
        message: "no fallback".to_owned(),
        fix: Some("add one".to_owned()),
    };
    assert_eq!(
        lines("", &problem),
        "✗ route     no fallback\n            fix: add one\n"
    );
    assert_eq!(
        lines("llama3     ", &problem),
        "llama3     ✗ route     no fallback\nllama3                 fix: add one\n"
    );
}
