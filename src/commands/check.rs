//! `failover-watch check`: a one-shot preflight before going on stage or into maintenance.
//! Each check is a line: what was found, and the fix where something is wrong.
//!
//! ```text
//! ✓ proxy     reachable at http://127.0.0.1:4000, LiteLLM 1.106.12
//! ✓ key       accepted (2 model groups)
//! ✓ primary   llama-fp8: 1 deployment, openai/llama-fp8 at http://gpu:8080/v1
//! ✗ request   served by the fallback (ollama/llama3), not the primary: LiteLLM failed over
//! ✗ alone     the primary fails inside LiteLLM for want of an api_key
//!             fix: give its deployment `api_key: "none"` (any string) in the proxy's config…
//! ✓ fallback  llama3 answers on its own (ollama/llama3)
//! ✓ timeouts  the proxy waits 30s for a model, less than --timeout 60s
//! ```

use std::io::{self, Write};
use std::time::Duration;

use color_eyre::eyre::Result;
use reqwest::header::AUTHORIZATION;
use serde::Serialize;

use crate::cli::config::Target;
use crate::cli::{CheckArgs, CheckOutput};
use crate::litellm::model_info::Deployments;
use crate::litellm::{self, errors::cause};
use crate::probe::{HttpProber, Lane, Probe, ProbeReport, ProbeSettings, Role, http_client};
use crate::state::{PrimaryState, observe};
use crate::sys::exit::{Ended, usage};
use crate::text::format::interval;
use crate::text::sanitize::clean;

/// The longest a look-up that is not a chat request may take.
const LOOK_UP: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Problem,
    Skipped,
}

/// The longest a finding's message or fix is shown.
const FINDING_CHARS: usize = 600;

/// One check's line. Its words go through [`clean`] when it is made, so nothing a server sent
/// (a group name, an `api_base`, an error body) reaches either output with a control in it or
/// with a key the process holds.
#[derive(Debug, Serialize)]
pub struct Finding {
    pub check: &'static str,
    status: Status,
    pub message: String,
    pub fix: Option<String>,
}

impl Finding {
    fn new(check: &'static str, status: Status, message: &str, fix: Option<&str>) -> Self {
        Self {
            check,
            status,
            message: clean(message, FINDING_CHARS),
            fix: fix
                .map(|fix| clean(fix, FINDING_CHARS))
                .filter(|f| !f.is_empty()),
        }
    }

    fn ok(check: &'static str, message: impl AsRef<str>) -> Self {
        Self::new(check, Status::Ok, message.as_ref(), None)
    }

    fn problem(check: &'static str, message: impl AsRef<str>, fix: impl AsRef<str>) -> Self {
        Self::new(check, Status::Problem, message.as_ref(), Some(fix.as_ref()))
    }

    fn skipped(check: &'static str, message: impl AsRef<str>) -> Self {
        Self::new(check, Status::Skipped, message.as_ref(), None)
    }
}

/// What `--output json` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The primary serves and the fallback answers: nothing to fix.
    pub ok: bool,
    /// Every check could be made (the proxy was reachable).
    pub checked: bool,
    url: String,
    pub litellm_version: Option<String>,
    pub checks: Vec<Finding>,
}

/// Checks the proxy of `args`; exit status 0 when all is well, 1 with a problem found, 2 when
/// it could not check (in JSON too, with `--output json`).
pub async fn check(args: CheckArgs) -> Result<Ended> {
    let report = match report(&args).await {
        Ok(report) => report,
        Err(error) if args.output == CheckOutput::Json => {
            let why = error
                .chain()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            let answer =
                serde_json::json!({"ok": false, "checked": false, "error": clean(&why, 600)});
            println!("{answer}");
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    let mut out = io::stdout().lock();
    match args.output {
        CheckOutput::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        CheckOutput::Text => print(&mut out, &report)?,
    }
    out.flush()?;
    if !report.checked {
        return Err(usage(format!("could not check {}", report.url)));
    }
    Ok(if report.ok {
        Ended::Clean
    } else {
        Ended::Failed
    })
}

/// The checks of the proxy of `args`, made.
pub async fn report(args: &CheckArgs) -> Result<Report> {
    let env = |name: &str| std::env::var(name).ok();
    let target = Target::of_proxy(&args.proxy, &args.target, env)?;
    Checks::new(&target)?.run().await
}

fn print(out: &mut impl Write, report: &Report) -> io::Result<()> {
    for finding in &report.checks {
        let mark = match finding.status {
            Status::Ok => "✓",
            Status::Problem => "✗",
            Status::Skipped => "–",
        };
        writeln!(out, "{mark} {:<9} {}", finding.check, finding.message)?;
        if let Some(fix) = &finding.fix {
            writeln!(out, "  {:<9} fix: {fix}", "")?;
        }
    }
    Ok(())
}

struct Checks<'a> {
    target: &'a Target,
    http: reqwest::Client,
    findings: Vec<Finding>,
    version: Option<String>,
    /// The router timeout, once an error answer told it.
    router_timeout: Option<Duration>,
}

impl<'a> Checks<'a> {
    fn new(target: &'a Target) -> Result<Self> {
        Ok(Self {
            http: http_client(LOOK_UP, &target.probe.endpoint)?,
            target,
            findings: Vec::new(),
            version: None,
            router_timeout: None,
        })
    }

    fn settings(&self) -> &ProbeSettings {
        &self.target.probe
    }

    /// A GET to the proxy, with the key; its status and body.
    async fn get(&self, path: &str) -> std::result::Result<(u16, String), String> {
        let url = format!("{}{path}", self.settings().endpoint.root());
        let mut request = self.http.get(url);
        if let Some(key) = &self.settings().key {
            request = request.header(AUTHORIZATION, key.bearer());
        }
        let response = request.send().await.map_err(|e| root_cause(&e))?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| root_cause(&e))?;
        Ok((status, body))
    }

    async fn run(mut self) -> Result<Report> {
        let reachable = self.proxy().await;
        let key_ok = reachable && self.key().await;
        if key_ok {
            self.groups().await;
            self.requests().await?;
        } else if reachable {
            for check in ["primary", "request", "alone", "fallback"] {
                self.findings
                    .push(Finding::skipped(check, "the key was not accepted"));
            }
        }
        if reachable {
            self.timeouts();
        }
        // 1.106 names its release only in its answers: said where the proxy is.
        if let Some(version) = &self.version
            && let Some(proxy) = self
                .findings
                .iter_mut()
                .find(|f| f.check == "proxy" && f.status == Status::Ok)
            && !proxy.message.contains("LiteLLM")
        {
            proxy.message.push_str(&format!(", LiteLLM {version}"));
        }
        let problem = self.findings.iter().any(|f| f.status == Status::Problem);
        Ok(Report {
            ok: reachable && !problem,
            checked: reachable,
            url: clean(self.settings().endpoint.root(), FINDING_CHARS),
            litellm_version: self.version.map(|v| clean(&v, 40)),
            checks: self.findings,
        })
    }

    /// Reachable, and which LiteLLM (1.106 keeps its version behind the key: told later, by
    /// an answer's `x-litellm-version`).
    async fn proxy(&mut self) -> bool {
        let url = self.settings().endpoint.root().to_owned();
        match self.get("/health/liveliness").await {
            Err(cause) => {
                self.findings.push(Finding::problem(
                    "proxy",
                    format!("cannot reach the proxy at {url}: {cause}"),
                    "check --url, and that the proxy runs and listens there",
                ));
                false
            }
            Ok((200, _)) => {
                if let Ok((200, body)) = self.get("/health/readiness").await {
                    self.version = serde_json::from_str::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["litellm_version"].as_str().map(|v| clean(v, 40)));
                }
                let version = self
                    .version
                    .as_deref()
                    .map_or(String::new(), |v| format!(", LiteLLM {v}"));
                self.findings
                    .push(Finding::ok("proxy", format!("reachable at {url}{version}")));
                true
            }
            Ok((status, body)) => {
                self.findings.push(Finding::problem(
                    "proxy",
                    format!(
                        "{url} answered {status} to GET /health/liveliness: {}",
                        clean(&body, 200)
                    ),
                    "check --url: is this a LiteLLM proxy?",
                ));
                false
            }
        }
    }

    /// The key, as `GET /v1/models` takes it.
    async fn key(&mut self) -> bool {
        let sent = self.settings().key.is_some();
        let finding = match self.get("/v1/models").await {
            Err(cause) => Finding::problem("key", format!("GET /v1/models failed: {cause}"), ""),
            Ok((200, body)) => {
                let groups = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["data"].as_array().map(Vec::len))
                    .unwrap_or(0);
                let said = if sent { "accepted" } else { "none needed" };
                let groups = match groups {
                    1 => "1 model group".to_owned(),
                    n => format!("{n} model groups"),
                };
                Finding::ok("key", format!("{said} ({groups})"))
            }
            Ok((status, body)) => {
                let message = crate::probe::body_message(&body);
                let (said, fix) = match (status, sent) {
                    (401 | 403 | 500, false) => (
                        "the proxy wants a key",
                        "set LITELLM_API_KEY (or OPENAI_API_KEY), or use --api-key-file",
                    ),
                    (400, true) if message.contains("No connected db") => (
                        "the proxy rejected the key (LiteLLM without a database says so of a \
                         wrong key)",
                        "check the key: the proxy's master key or a virtual key",
                    ),
                    (_, true) => ("the proxy refused the key", "check the key"),
                    (_, false) => ("the proxy refused the request", ""),
                };
                Finding::problem(
                    "key",
                    format!("{said} (HTTP {status}: {})", clean(&message, 200)),
                    fix,
                )
            }
        };
        let ok = finding.status == Status::Ok;
        self.findings.push(finding);
        ok
    }

    /// The primary group and its deployments, from `GET /model/info`.
    async fn groups(&mut self) {
        let primary = self.settings().primary.clone();
        let deployments = match self.get("/model/info").await {
            Ok((200, body)) => Deployments::from_model_info(body.as_bytes()).ok(),
            _ => None,
        };
        let Some(deployments) = deployments else {
            self.findings.push(Finding::skipped(
                "primary",
                "GET /model/info did not answer with the deployments",
            ));
            return;
        };
        let group = deployments.in_group(&primary);
        if group.is_empty() {
            let groups = deployments.groups().join(", ");
            self.findings.push(Finding::problem(
                "primary",
                format!("the proxy has no model group {primary} (it has: {groups})"),
                "give the primary's model_name with --primary, or add it to the model_list",
            ));
            return;
        }
        let listed: Vec<String> = group
            .iter()
            .map(|d| match &d.api_base {
                Some(base) => format!("{} at {base}", d.model),
                None => d.model.clone(),
            })
            .collect();
        let count = match group.len() {
            1 => "1 deployment".to_owned(),
            n => format!("{n} deployments"),
        };
        self.findings.push(Finding::ok(
            "primary",
            format!("{primary}: {count}, {}", listed.join("; ")),
        ));
        if let Some(fallback) = &self.target.fallback
            && deployments.in_group(fallback).is_empty()
        {
            self.findings.push(Finding::problem(
                "fallback",
                format!("the proxy has no model group {fallback}"),
                "give the fallback's model_name with --fallback",
            ));
        }
    }

    /// One normal request, one direct request to the primary, one to the fallback.
    async fn requests(&mut self) -> Result<()> {
        let primary = HttpProber::new(self.settings().clone())?;
        let normal = self.ask(&primary, Lane::Normal).await;
        let fallback_seen = match &normal.result {
            Ok(served) if served.role == Role::Fallback => normal.route.model_group.clone(),
            _ => None,
        };
        self.findings.push(match &normal.result {
            Ok(served) if served.role == Role::Primary => Finding::ok(
                "request",
                format!("served by the primary ({})", served.model),
            ),
            Ok(served) => Finding::problem(
                "request",
                format!(
                    "served by the fallback ({}), not the primary: LiteLLM failed over",
                    served.model
                ),
                "see why on the next line",
            ),
            Err(failure) => Finding::problem(
                "request",
                format!("failed: {}", failure.message),
                "see the next lines",
            ),
        });
        let alone = self.ask(&primary, Lane::Direct).await;
        self.findings.push(explain_primary(&alone));
        let fallback = self.target.fallback.clone().or(fallback_seen);
        match fallback {
            Some(group) => {
                let settings = ProbeSettings {
                    primary: group.clone(),
                    ..self.settings().clone()
                };
                let prober = HttpProber::new(settings)?;
                let report = self.ask(&prober, Lane::Direct).await;
                // Named as the deployment's model where the proxy says it (1.106), as the
                // watcher names a fallback.
                let named = report.route.model_name.as_deref();
                self.findings.push(match &report.result {
                    Ok(served) => Finding::ok(
                        "fallback",
                        match named.unwrap_or(&served.model) {
                            model if model == group => format!("{group} answers on its own"),
                            model => format!("{group} answers on its own ({model})"),
                        },
                    ),
                    Err(failure) => Finding::problem(
                        "fallback",
                        format!("{group} fails on its own: {}", cause(&failure.message)),
                        "the safety net is down: fix the fallback before the primary goes",
                    ),
                });
            }
            None => self.findings.push(Finding::skipped(
                "fallback",
                "give --fallback GROUP to check the fallback on its own",
            )),
        }
        Ok(())
    }

    /// One request, remembering what its headers told of the proxy. Cut off, as the schedule
    /// cuts a probe off, only after the timeout and the time the prober may take to tell who
    /// served an answer that came in time.
    async fn ask(&mut self, prober: &HttpProber, lane: Lane) -> ProbeReport {
        let timeout = self.settings().timeout;
        let limit = timeout + HttpProber::ATTRIBUTION_TIME;
        let report = tokio::time::timeout(limit, prober.probe(lane))
            .await
            .unwrap_or_else(|_| ProbeReport::failed(limit, crate::probe::timeout_failure(timeout)));
        if let Some(version) = &report.route.version {
            self.version.get_or_insert_with(|| version.clone());
        }
        self.router_timeout = self.router_timeout.or(report.route.router_timeout);
        report
    }

    /// The router's timeout against `--timeout`, if an error answer told it.
    fn timeouts(&mut self) {
        let timeout = self.settings().timeout;
        let finding = match self.router_timeout {
            None => Finding::skipped(
                "timeouts",
                "the proxy's router timeout shows only on an error answer; none came",
            ),
            Some(router) if router >= timeout => Finding::problem(
                "timeouts",
                format!(
                    "the proxy waits {} for a model; --timeout {} would cut its fallback \
                     answers off",
                    interval(router),
                    interval(timeout)
                ),
                format!("give --timeout more than {}", interval(router)),
            ),
            Some(router) => Finding::ok(
                "timeouts",
                format!(
                    "the proxy waits {} for a model, less than --timeout {}",
                    interval(router),
                    interval(timeout)
                ),
            ),
        };
        self.findings.push(finding);
    }
}

/// The primary on its own (a direct request), explained.
fn explain_primary(report: &ProbeReport) -> Finding {
    match observe(report) {
        PrimaryState::Up | PrimaryState::Unknown => {
            Finding::ok("alone", "the primary answers on its own")
        }
        PrimaryState::CoolingDown(cooldown) => {
            let held = cooldown
                .configured
                .map_or(String::new(), |c| format!(" ({} at a time)", interval(c)));
            Finding::problem(
                "alone",
                format!("LiteLLM holds the primary in its cooldown{held}: it failed recently"),
                "check again once the cooldown has ended to see why it fails (a deployment \
                 without api_key fails at every request), or look in the proxy's log",
            )
        }
        PrimaryState::Refused { message } => Finding::problem(
            "alone",
            format!("cannot ask the primary on its own: {message}"),
            "the key may not allow disable_fallbacks; run with --direct off",
        ),
        PrimaryState::Failing { message, kind } => {
            let (said, fix) = litellm::errors::diagnose(&message);
            let said = said.unwrap_or_else(|| {
                format!(
                    "the primary fails inside LiteLLM ({}): {}",
                    kind.as_str(),
                    cause(&message)
                )
            });
            Finding::problem("alone", said, fix)
        }
    }
}

/// The innermost cause of a reqwest error (its own message hides it), cut for a line.
fn root_cause(error: &reqwest::Error) -> String {
    clean(&crate::probe::innermost_cause(error), 300)
}
