//! The targets of a run, named every way the user can: `--primary` repeated on one proxy,
//! every group with a fallback (`--all-groups`, discovered by the command), or a targets file
//! (`--targets FILE`, TOML) for several proxies; and what the outputs call each.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::clock::duration;
use crate::probe::{DirectMode, Endpoint};
use crate::sys::exit::usage;
use crate::sys::secret::ApiKey;

/// The most targets one watcher takes: every one costs requests to a real model.
pub const MAX_TARGETS: usize = 1000;
/// The longest targets file read.
const MAX_FILE: u64 = 1 << 20;

/// One target as named, before the options fill in what it leaves out.
#[derive(Clone, Debug)]
pub struct TargetSpec {
    pub name: Option<String>,
    pub endpoint: Endpoint,
    pub key: Option<ApiKey>,
    pub primary: String,
    pub fallback: Option<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub stream: Option<bool>,
    pub direct: Option<DirectMode>,
}

impl TargetSpec {
    /// `primary` (and its expected `fallback`) on a proxy, with the options' settings.
    pub fn on(
        endpoint: &Endpoint,
        key: &Option<ApiKey>,
        primary: String,
        fallback: Option<String>,
    ) -> Self {
        Self {
            name: None,
            endpoint: endpoint.clone(),
            key: key.clone(),
            primary,
            fallback,
            interval: None,
            timeout: None,
            stream: None,
            direct: None,
        }
    }
}

/// What the outputs call each target: the name given, else its primary group, prefixed by
/// its proxy's host when the run watches more than one proxy. Two targets may not share one.
pub fn names(specs: &[TargetSpec]) -> Result<Vec<String>, String> {
    let first = specs.first().map(|s| s.endpoint.root());
    let proxies_differ = specs.iter().any(|s| Some(s.endpoint.root()) != first);
    let names: Vec<String> = specs
        .iter()
        .map(|s| match &s.name {
            Some(name) => name.clone(),
            None if proxies_differ => format!("{}/{}", s.endpoint.host(), s.primary),
            None => s.primary.clone(),
        })
        .collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(format!(
                "two targets are both called {name:?}: give one a name (targets file: name = \"...\")"
            ));
        }
    }
    Ok(names)
}

/// A targets file: one `[[target]]` table per target. Unknown keys and bad values are refused
/// with the file, the line and what is wrong.
pub fn read_file(
    path: &Path,
    env: impl Fn(&str) -> Option<String>,
    default_key: &Option<ApiKey>,
) -> color_eyre::eyre::Result<Vec<TargetSpec>> {
    let shown = path.display();
    let refuse = |why: String| usage(format!("--targets {shown}: {why}"));
    let metadata = std::fs::metadata(path).map_err(|e| refuse(e.to_string()))?;
    if !metadata.is_file() || metadata.len() > MAX_FILE {
        return Err(refuse(format!(
            "not a file of at most {} KiB",
            MAX_FILE >> 10
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| refuse(e.to_string()))?;
    parse(&text, env, default_key).map_err(refuse)
}

/// A file's text into its targets.
fn parse(
    text: &str,
    env: impl Fn(&str) -> Option<String>,
    default_key: &Option<ApiKey>,
) -> Result<Vec<TargetSpec>, String> {
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let file: File = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => format!("line {}: {}", line_of(span.start), e.message()),
        None => e.message().to_owned(),
    })?;
    if file.target.is_empty() {
        return Err("no [[target]] in it".to_owned());
    }
    if file.target.len() > MAX_TARGETS {
        return Err(format!("more than {MAX_TARGETS} targets"));
    }
    file.target
        .into_iter()
        .map(|entry| {
            let at = format!("line {}", line_of(entry.primary.span().start));
            let bad = |what: &str, why: String| format!("{at}: {what}: {why}");
            let endpoint = Endpoint::parse(entry.url.get_ref()).map_err(|e| bad("url", e))?;
            let primary = entry.primary.into_inner().trim().to_owned();
            if primary.is_empty() {
                return Err(bad("primary", "must name a model group".to_owned()));
            }
            let key = match (&entry.api_key_env, &entry.api_key_file) {
                (Some(_), Some(_)) => {
                    return Err(bad(
                        "api_key_env and api_key_file",
                        "one or the other".to_owned(),
                    ));
                }
                (Some(name), None) => {
                    let value = env(name)
                        .ok_or_else(|| bad("api_key_env", format!("{name} is not set")))?;
                    Some(ApiKey::new(&value).map_err(|e| bad("api_key_env", e))?)
                }
                (None, Some(file)) => {
                    ApiKey::load(Some(file), |_| None).map_err(|e| bad("api_key_file", e))?
                }
                (None, None) => default_key.clone(),
            };
            let wait = |what: &str, text: &Option<String>| {
                text.as_deref()
                    .map(|t| duration::wait(t).map_err(|e| bad(what, format!("{t:?} {e}"))))
                    .transpose()
            };
            let direct = entry
                .direct
                .as_deref()
                .map(|mode| {
                    <DirectMode as clap::ValueEnum>::from_str(mode, true)
                        .map_err(|_| bad("direct", format!("{mode:?} is not quiet, probe or off")))
                })
                .transpose()?;
            Ok(TargetSpec {
                name: entry
                    .name
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty()),
                endpoint,
                key,
                primary,
                fallback: entry
                    .fallback
                    .map(|f| f.trim().to_owned())
                    .filter(|f| !f.is_empty()),
                interval: wait("interval", &entry.interval)?,
                timeout: wait("timeout", &entry.timeout)?,
                stream: entry.stream,
                direct,
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    target: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    url: toml::Spanned<String>,
    primary: toml::Spanned<String>,
    name: Option<String>,
    fallback: Option<String>,
    api_key_env: Option<String>,
    api_key_file: Option<std::path::PathBuf>,
    interval: Option<String>,
    timeout: Option<String>,
    stream: Option<bool>,
    direct: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Vec<TargetSpec>, String> {
        let env = |name: &str| (name == "TEAM_KEY").then(|| "sk-team".to_owned());
        parse(text, env, &None)
    }

    #[test]
    fn a_file_of_two_proxies_names_each_target_by_host_and_group() {
        let specs = parsed(
            r#"
[[target]]
url = "http://proxy-a:4000"
primary = "llama-fp8"
fallback = "llama3"

[[target]]
url = "http://proxy-b:4000/v1"
primary = "qwen-72b"
name = "qwen"
api_key_env = "TEAM_KEY"
interval = "10s"
direct = "probe"
stream = true
"#,
        )
        .unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[1].interval, Some(Duration::from_secs(10)));
        assert_eq!(specs[1].direct, Some(DirectMode::Probe));
        assert_eq!(specs[1].stream, Some(true));
        assert!(specs[1].key.is_some() && specs[0].key.is_none());
        assert_eq!(names(&specs).unwrap(), ["proxy-a:4000/llama-fp8", "qwen"]);
    }

    #[test]
    fn unknown_keys_and_bad_values_say_the_line() {
        let unknown = parsed("[[target]]\nurl = \"http://a\"\nprimary = \"p\"\nprimry = \"q\"\n")
            .unwrap_err();
        assert!(
            unknown.starts_with("line 4: unknown field `primry`"),
            "{unknown}"
        );
        let bad =
            parsed("\n[[target]]\nurl = \"http://a\"\nprimary = \"p\"\ninterval = \"soon\"\n")
                .unwrap_err();
        assert!(bad.starts_with("line 4: interval: \"soon\""), "{bad}");
        let missing = parsed("[[target]]\nprimary = \"p\"\n").unwrap_err();
        assert!(missing.contains("missing field `url`"), "{missing}");
        let unset =
            parsed("[[target]]\nurl = \"http://a\"\nprimary = \"p\"\napi_key_env = \"NOPE\"\n")
                .unwrap_err();
        assert_eq!(unset, "line 3: api_key_env: NOPE is not set");
        assert_eq!(parsed("").unwrap_err(), "no [[target]] in it");
    }

    #[test]
    fn two_targets_of_one_name_are_refused() {
        let endpoint = Endpoint::parse("http://a:4000").unwrap();
        let specs = [
            TargetSpec::on(&endpoint, &None, "g".into(), None),
            TargetSpec::on(&endpoint, &None, "g".into(), None),
        ];
        assert!(names(&specs).unwrap_err().contains("both called \"g\""));
    }
}
