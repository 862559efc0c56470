//! `failover-watch check`: a one-shot preflight before going on stage or into maintenance.
//! Each check is a line: what was found, and the fix where something is wrong. It takes the
//! targets as `watch` does; with several, each target is checked in turn and each of its lines
//! is led by its name.
//!
//! Each line is printed as its check finishes (a hung primary takes `--timeout`); the router's
//! settings are read as the proxy states them where the key may (`GET /router/settings`), else
//! inferred from the answers, and said so.
//!
//! ```text
//! ✓ proxy     reachable at http://127.0.0.1:4000, LiteLLM 1.83.14
//! ✓ key       accepted (2 model groups)
//! ✓ router    fallbacks llama-fp8 → llama3; allowed_fails 1, cooldown_time 10s, num_retries 0, timeout 30s
//! ✓ primary   llama-fp8: 1 deployment, openai/llama-fp8 at http://gpu:8080/v1
//! ✗ request   served by the fallback (ollama/llama3), not the primary: LiteLLM failed over
//!             fix: give the primary's deployment `api_key: "none"` (any string) in the proxy's config…
//! ✗ alone     the primary fails inside LiteLLM for want of an api_key
//!             fix: give the primary's deployment `api_key: "none"` (any string) in the proxy's config…
//! ✓ fallback  llama3 answers on its own (ollama/llama3)
//! ✓ timeouts  the proxy waits 30s for a model, less than --timeout 60s
//! ```

use std::io::{self, Write};
use std::time::Duration;

use color_eyre::eyre::Result;
use reqwest::header::AUTHORIZATION;
use serde::Serialize;

use crate::cli::config::{Layer, Target};
use crate::cli::targets::names;
use crate::cli::{CheckArgs, CheckOutput};
use crate::litellm::model_info::Deployments;
use crate::litellm::settings::{self, RouterSettings};
use crate::litellm::{self, errors::cause};
use crate::probe::{
    ErrorKind, HttpProber, Lane, Probe, ProbeReport, ProbeSettings, Role, http_client,
};
use crate::state::{PrimaryState, observe};
use crate::sys::exit::{Ended, usage};
use crate::text::format::interval;
use crate::text::sanitize::clean;

/// The longest a look-up that is not a chat request may take.
const LOOK_UP: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
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
    pub status: Status,
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

/// What `--output json` prints of one target (the whole output with one target).
#[derive(Debug, Serialize)]
pub struct Report {
    /// The primary serves and the fallback answers: nothing to fix.
    pub ok: bool,
    /// Every check could be made (the proxy was reachable).
    pub checked: bool,
    pub url: String,
    pub litellm_version: Option<String>,
    pub checks: Vec<Finding>,
    /// The router's settings as the proxy stated them, in the words of the router's line
    /// (a drill's report shows them).
    #[serde(skip)]
    pub router: Option<String>,
}

/// One target's checks, named as the watcher names the target (cleaned: a name may be a
/// group the proxy listed).
#[derive(Debug, Serialize)]
pub struct TargetReport {
    pub target: String,
    #[serde(flatten)]
    pub report: Report,
}

/// What `--output json` prints with several targets.
#[derive(Debug, Serialize)]
struct Reports<'a> {
    ok: bool,
    checked: bool,
    targets: &'a [TargetReport],
}

/// Checks the targets of `args`, one after the other; exit status 0 when all is well with
/// every one, 2 when one could not be checked, else 1 when a problem was found (in JSON too,
/// with `--output json`). The text is printed a line a check, as each finishes.
pub async fn check(args: CheckArgs) -> Result<Ended> {
    let live = match args.output {
        CheckOutput::Text => Live::Stdout,
        CheckOutput::Json => Live::Quiet,
    };
    let reports = match reports_as(&args, live).await {
        Ok(reports) => reports,
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
    if args.output == CheckOutput::Json {
        let mut out = io::stdout().lock();
        match reports.as_slice() {
            [one] => serde_json::to_writer_pretty(&mut out, &one.report)?,
            many => serde_json::to_writer_pretty(
                &mut out,
                &Reports {
                    ok: many.iter().all(|r| r.report.ok),
                    checked: many.iter().all(|r| r.report.checked),
                    targets: many,
                },
            )?,
        }
        writeln!(out)?;
        out.flush()?;
    }
    ended(&reports)
}

/// One exit status for all the targets' reports: could not check one (2, naming it), else a
/// problem with one (1), else clean.
pub fn ended(reports: &[TargetReport]) -> Result<Ended> {
    let unchecked: Vec<String> = reports
        .iter()
        .filter(|r| !r.report.checked)
        .map(|r| match reports.len() {
            1 => r.report.url.clone(),
            _ => format!("{} ({})", r.target, r.report.url),
        })
        .collect();
    if !unchecked.is_empty() {
        return Err(usage(format!("could not check {}", unchecked.join(", "))));
    }
    Ok(if reports.iter().all(|r| r.report.ok) {
        Ended::Clean
    } else {
        Ended::Failed
    })
}

/// The checks of the targets of `args`, made, in order.
pub async fn reports(args: &CheckArgs) -> Result<Vec<TargetReport>> {
    reports_as(args, Live::Quiet).await
}

/// The checks of `target` before a drill, each printed on stderr as it finishes (stdout is
/// the drill's output).
pub async fn preflight(target: &Target) -> Result<Report> {
    Checks::new(target, Live::Stderr, String::new())?
        .run()
        .await
}

/// Where each finding is printed as it is made, if anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Live {
    Quiet,
    Stdout,
    Stderr,
}

impl Live {
    /// Prints `finding` where it goes, each line led by `label`; a stream that cannot be
    /// written loses the line only.
    fn print(self, label: &str, finding: &Finding) {
        let _ = match self {
            Live::Quiet => Ok(()),
            Live::Stdout => {
                let mut out = io::stdout().lock();
                print(&mut out, label, finding).and_then(|()| out.flush())
            }
            Live::Stderr => print(&mut io::stderr().lock(), label, finding),
        };
    }
}

/// The targets `args` name, as `watch` takes them (`--primary` repeated, `--all-groups`,
/// `--targets FILE`), each with its name.
async fn targets(args: &CheckArgs) -> Result<Vec<(String, Target)>> {
    let specs = crate::commands::named_targets(&args.proxy, &args.target, &args.targets).await?;
    let names = names(&specs).map_err(usage)?;
    Ok(names
        .into_iter()
        .zip(specs)
        .map(|(name, spec)| (name, Target::of_spec(spec, &args.target, &Layer::default())))
        .collect())
}

/// The longest a target's name is shown.
const NAME_CHARS: usize = 80;

/// The checks of each target in turn, each printed as it finishes where `live` says, led by
/// the target's name when there are several.
async fn reports_as(args: &CheckArgs, live: Live) -> Result<Vec<TargetReport>> {
    let targets = targets(args).await?;
    let names: Vec<String> = targets
        .iter()
        .map(|(name, _)| clean(name, NAME_CHARS))
        .collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut reports = Vec::with_capacity(targets.len());
    for ((_, target), name) in targets.iter().zip(names) {
        let label = match targets.len() {
            1 => String::new(),
            _ => format!("{name:<width$}  "),
        };
        let report = Checks::new(target, live, label)?.run().await?;
        reports.push(TargetReport {
            target: name,
            report,
        });
    }
    Ok(reports)
}

/// One finding as a line (and its fix on the next), each led by `label`.
pub fn print(out: &mut impl Write, label: &str, finding: &Finding) -> io::Result<()> {
    let mark = match finding.status {
        Status::Ok => "✓",
        Status::Problem => "✗",
        Status::Skipped => "–",
    };
    writeln!(
        out,
        "{label}{mark} {:<9} {}",
        finding.check, finding.message
    )?;
    if let Some(fix) = &finding.fix {
        writeln!(out, "{label}  {:<9} fix: {fix}", "")?;
    }
    Ok(())
}

/// What the router's settings tell the other checks.
enum Router {
    /// As the proxy states them.
    Known(RouterSettings),
    /// Not readable (said why in its finding).
    Unknown,
}

struct Checks<'a> {
    target: &'a Target,
    http: reqwest::Client,
    findings: Vec<Finding>,
    /// Where each finding is printed as it is made.
    live: Live,
    /// What leads each printed line: the target's name when there are several.
    label: String,
    /// The router's settings as stated, for the report.
    router_said: Option<String>,
    version: Option<String>,
    /// The release was said on the proxy's line already.
    version_said: bool,
    /// The router timeout, once an error answer told it.
    router_timeout: Option<Duration>,
}

impl<'a> Checks<'a> {
    fn new(target: &'a Target, live: Live, label: String) -> Result<Self> {
        Ok(Self {
            http: http_client(LOOK_UP, &target.probe.endpoint)?,
            target,
            findings: Vec::new(),
            live,
            label,
            router_said: None,
            version: None,
            version_said: false,
            router_timeout: None,
        })
    }

    fn settings(&self) -> &ProbeSettings {
        &self.target.probe
    }

    /// Keeps a finding, printed at once when live.
    fn found(&mut self, finding: Finding) {
        self.live.print(&self.label, &finding);
        self.findings.push(finding);
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
            let router = self.router().await;
            let groups = self.groups().await;
            self.route(&router, groups.as_ref());
            self.requests(&router, groups.as_ref()).await?;
            self.timeouts(&router);
        } else if reachable {
            for check in [
                "router", "primary", "request", "alone", "fallback", "timeouts",
            ] {
                self.found(Finding::skipped(check, "the key was not accepted"));
            }
        }
        // 1.106 names its release only in its answers: said where the proxy is.
        if let Some(version) = self.version.clone()
            && !self.version_said
            && let Some(proxy) = self
                .findings
                .iter_mut()
                .find(|f| f.check == "proxy" && f.status == Status::Ok)
        {
            proxy.message.push_str(&format!(", LiteLLM {version}"));
            let release = Finding::ok("release", format!("LiteLLM {version} (from its answers)"));
            self.live.print(&self.label, &release);
        }
        let problem = self.findings.iter().any(|f| f.status == Status::Problem);
        Ok(Report {
            ok: reachable && !problem,
            checked: reachable,
            url: clean(self.settings().endpoint.root(), FINDING_CHARS),
            litellm_version: self.version.map(|v| clean(&v, 40)),
            checks: self.findings,
            router: self.router_said,
        })
    }

    /// Reachable, and which LiteLLM (1.106 keeps its version behind the key: told later, by
    /// an answer's `x-litellm-version`).
    async fn proxy(&mut self) -> bool {
        let url = self.settings().endpoint.root().to_owned();
        match self.get("/health/liveliness").await {
            Err(cause) => {
                self.found(Finding::problem(
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
                self.version_said = self.version.is_some();
                let version = self
                    .version
                    .as_deref()
                    .map_or(String::new(), |v| format!(", LiteLLM {v}"));
                self.found(Finding::ok("proxy", format!("reachable at {url}{version}")));
                true
            }
            Ok((status, body)) => {
                self.found(Finding::problem(
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
                    (400, true) if litellm::errors::wrong_key(&message) => (
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
        self.found(finding);
        ok
    }

    /// The router's settings as the proxy states them, where the key may read them.
    async fn router(&mut self) -> Router {
        let root = self.settings().endpoint.root().to_owned();
        let key = self.settings().key.clone();
        let primary = self.settings().primary.clone();
        match settings::read(&self.http, &root, key.as_ref(), LOOK_UP).await {
            Ok(settings) => {
                let said = settings.describe(&primary);
                self.router_said = Some(clean(&said, FINDING_CHARS));
                let finding = match settings.source {
                    settings::Source::RouterSettings => {
                        Finding::ok("router", format!("{said} (as the proxy states them)"))
                    }
                    settings::Source::ModelsMetadata => Finding::ok(
                        "router",
                        format!(
                            "{said} (from /v1/models: the key may not read /router/settings, \
                             so the cooldown and the router's timeout are inferred below)"
                        ),
                    ),
                };
                self.found(finding);
                Router::Known(settings)
            }
            Err(why) => {
                self.found(Finding::skipped(
                    "router",
                    format!("cannot read the router's settings ({why}): inferred below"),
                ));
                Router::Unknown
            }
        }
    }

    /// The primary group and its deployments, from `GET /model/info`; the deployments, when
    /// they could be read.
    async fn groups(&mut self) -> Option<Deployments> {
        let primary = self.settings().primary.clone();
        let deployments = match self.get("/model/info").await {
            Ok((200, body)) => Deployments::from_model_info(body.as_bytes()).ok(),
            _ => None,
        };
        let Some(deployments) = deployments else {
            self.found(Finding::skipped(
                "primary",
                "GET /model/info did not answer with the deployments",
            ));
            return None;
        };
        let group = deployments.in_group(&primary);
        if group.is_empty() {
            let groups = deployments.groups().join(", ");
            self.found(Finding::problem(
                "primary",
                format!("the proxy has no model group {primary} (it has: {groups})"),
                "the primary's name is wrong: give its model_name with --primary, or add it to \
                 the model_list",
            ));
            return Some(deployments);
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
        self.found(Finding::ok(
            "primary",
            format!("{primary}: {count}, {}", listed.join("; ")),
        ));
        Some(deployments)
    }

    /// Whether a fallback is configured for the primary, and the one `--fallback` names.
    fn route(&mut self, router: &Router, deployments: Option<&Deployments>) {
        let primary = self.settings().primary.clone();
        let named = self.target.fallback.clone();
        if let (Some(fallback), Some(deployments)) = (&named, deployments)
            && deployments.in_group(fallback).is_empty()
        {
            let groups = deployments.groups().join(", ");
            self.found(Finding::problem(
                "fallback",
                format!("the proxy has no model group {fallback} (it has: {groups})"),
                "the fallback's name is wrong: give its model_name with --fallback",
            ));
            return;
        }
        let Router::Known(settings) = router else {
            return;
        };
        let configured = settings.fallbacks_of(&primary);
        match (&named, configured) {
            (_, []) => self.found(Finding::problem(
                "route",
                format!("no fallback is configured for {primary}: when it fails, requests fail"),
                format!(
                    "add one under router_settings: fallbacks: [{{\"{primary}\": [\"{}\"]}}]",
                    named.as_deref().unwrap_or("GROUP")
                ),
            )),
            (Some(fallback), configured) if !configured.contains(fallback) => {
                self.found(Finding::problem(
                    "route",
                    format!(
                        "{primary} falls back to {}, not to {fallback}",
                        configured.join(", ")
                    ),
                    format!(
                        "give --fallback {} (or add {fallback} to the primary's fallbacks)",
                        configured[0]
                    ),
                ));
            }
            _ => {}
        }
    }

    /// One normal request, one direct request to the primary, one to the fallback.
    async fn requests(&mut self, router: &Router, deployments: Option<&Deployments>) -> Result<()> {
        let primary_name = self.settings().primary.clone();
        let exists = |group: &str| deployments.is_none_or(|d| !d.in_group(group).is_empty());
        if !exists(&primary_name) {
            for check in ["request", "alone", "fallback"] {
                self.found(Finding::skipped(
                    check,
                    format!("not asked: the proxy has no model group {primary_name}"),
                ));
            }
            return Ok(());
        }
        let primary = HttpProber::new(self.settings().clone())?;
        let normal = self.ask(&primary, Lane::Normal).await;
        let alone_report = self.ask(&primary, Lane::Direct).await;
        let alone = explain_primary(&alone_report, self.settings().timeout, self.router_timeout);
        let fallback_seen = match &normal.result {
            Ok(served) if served.role == Role::Fallback => normal.route.model_group.clone(),
            _ => None,
        };
        // The fix of a request that did not reach the primary is the fix of why the primary
        // fails on its own: it stands alone in the JSON too.
        let why_fix = alone
            .fix
            .clone()
            .unwrap_or_else(|| "look in the proxy's log for the primary's error".to_owned());
        self.found(match &normal.result {
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
                why_fix,
            ),
            Err(failure) => Finding::problem(
                "request",
                format!("failed: {}", failure.message),
                match alone.status {
                    Status::Ok => "the primary answers on its own: the route to it fails; look \
                                   in the proxy's log"
                        .to_owned(),
                    _ => why_fix,
                },
            ),
        });
        self.found(alone);
        let configured = match router {
            Router::Known(settings) => settings.fallbacks_of(&primary_name).first().cloned(),
            Router::Unknown => None,
        };
        let named = self.target.fallback.clone();
        let fallback = named.clone().or(configured).or(fallback_seen);
        match fallback {
            // Said already: the fallback's name is wrong.
            Some(group) if !exists(&group) => {}
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
                let finding = match (&report.result, observe(Lane::Direct, &report)) {
                    (Err(failure), _) if report.rate_limited() => rate_limited("fallback", failure),
                    (Ok(served), _) => Finding::ok(
                        "fallback",
                        match named.unwrap_or(&served.model) {
                            model if model == group => format!("{group} answers on its own"),
                            model => format!("{group} answers on its own ({model})"),
                        },
                    ),
                    (Err(failure), PrimaryState::Refused { .. }) => Finding::problem(
                        "fallback",
                        format!(
                            "cannot ask {group} on its own, so the route to it is not verified: {}",
                            failure.message
                        ),
                        "the key may not send disable_fallbacks: check with the master key",
                    ),
                    (Err(failure), _) => Finding::problem(
                        "fallback",
                        format!("{group} fails on its own: {}", cause(&failure.message)),
                        "the safety net is down: fix the fallback before the primary goes",
                    ),
                };
                self.found(finding);
            }
            None => self.found(Finding::problem(
                "fallback",
                match router {
                    Router::Unknown => "no fallback could be verified: the router's settings \
                                           are not readable and the primary served the request"
                        .to_owned(),
                    Router::Known(_) => {
                        format!("no fallback is configured for {primary_name}")
                    }
                },
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

    /// The router's timeout against `--timeout`: as the proxy states it, else as an error
    /// answer told it.
    fn timeouts(&mut self, router: &Router) {
        let timeout = self.settings().timeout;
        let (router_timeout, how) = match router {
            Router::Known(settings) if settings.timeout.is_some() => {
                (settings.timeout, "as the router's settings say")
            }
            _ => (self.router_timeout, "as an error answer told"),
        };
        let finding = match router_timeout {
            None => Finding::skipped(
                "timeouts",
                "the proxy's router timeout shows only in its settings or on an error answer; \
                 neither told it",
            ),
            Some(router) if router >= timeout => Finding::problem(
                "timeouts",
                format!(
                    "the proxy waits {} for a model ({how}); --timeout {} would cut its \
                     fallback answers off",
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
        self.found(finding);
    }
}

/// The primary on its own (a direct request), explained; `timeout` is the client's, `router`
/// the router's where known.
fn explain_primary(report: &ProbeReport, timeout: Duration, router: Option<Duration>) -> Finding {
    // The client gave up before LiteLLM did: LiteLLM's own word on the primary never came.
    if report
        .failure()
        .is_some_and(|f| f.kind == ErrorKind::Timeout)
    {
        let longer = router.map_or(String::new(), |r| {
            format!(" (the router waits {})", interval(r))
        });
        return Finding::problem(
            "alone",
            format!(
                "the primary did not answer within --timeout {}: the client gave up before \
                 LiteLLM's router did{longer}",
                interval(timeout)
            ),
            "the primary hangs or is slow: give --timeout more than the router's timeout to \
             see LiteLLM's own error",
        );
    }
    if let Some(failure) = report.failure().filter(|_| report.rate_limited()) {
        return rate_limited("alone", failure);
    }
    match observe(Lane::Direct, report) {
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
            "the key may not send disable_fallbacks (try the master key); without it, watch \
             with --direct off",
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

/// A request the proxy's rate limit for the key refused: nothing learnt of the group asked.
fn rate_limited(check: &'static str, failure: &crate::probe::event::Failure) -> Finding {
    Finding::problem(
        check,
        format!("not checked: {}", failure.message),
        "check again once the limit's window has passed, or with a key without rpm_limit, \
         tpm_limit or max_parallel_requests (the watcher's probes count against them)",
    )
}

/// The innermost cause of a reqwest error (its own message hides it), cut for a line.
fn root_cause(error: &reqwest::Error) -> String {
    clean(&crate::probe::innermost_cause(error), 300)
}
