//! Where the proxy is: `--url` accepted with or without `/v1`, `/v1/chat/completions` and a
//! trailing slash.

use reqwest::Url;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The proxy's root, without `/v1` and without a trailing slash.
    root: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Self, String> {
        let trimmed = url.trim();
        if !trimmed.contains("://") {
            return Err(format!(
                "invalid --url {trimmed:?}: no scheme; did you mean \"http://{trimmed}\"?"
            ));
        }
        let parsed = Url::parse(trimmed).map_err(|e| format!("invalid --url {trimmed:?}: {e}"))?;
        // Not echoed: the URL would show the password on screen, in the log and in `ps`.
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(
                "invalid --url: no user or password in it, please; the key goes in \
                 LITELLM_API_KEY or --api-key-file"
                    .to_owned(),
            );
        }
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "invalid --url {trimmed:?}: the scheme must be http or https"
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(format!("invalid --url {trimmed:?}: no host"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(format!(
                "invalid --url {trimmed:?}: a query or fragment makes no sense here"
            ));
        }
        // The endpoint itself, as people copy it from a client's config, names the proxy too.
        let mut root = parsed.as_str().trim_end_matches('/');
        root = root.strip_suffix("/chat/completions").unwrap_or(root);
        root = root.strip_suffix("/v1").unwrap_or(root);
        let root = root.to_owned();
        Ok(Self { root })
    }

    /// On this machine: `localhost`, 127.0.0.0/8 or `::1`.
    pub fn is_loopback(&self) -> bool {
        let Ok(url) = Url::parse(&self.root) else {
            return false;
        };
        let host = url.host_str().unwrap_or("");
        match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => host.eq_ignore_ascii_case("localhost"),
        }
    }

    /// `http://`, no TLS.
    pub fn is_plain_http(&self) -> bool {
        self.root.starts_with("http://")
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// The proxy's host and port as the root names them (`proxy-a:4000`), to tell proxies
    /// apart in a name.
    pub fn host(&self) -> &str {
        let after_scheme = self
            .root
            .split_once("://")
            .map_or(self.root.as_str(), |(_, r)| r);
        let host = after_scheme.split('/').next().unwrap_or(after_scheme);
        host.rsplit_once('@').map_or(host, |(_, h)| h)
    }

    /// The base async-openai appends `/chat/completions` to.
    pub fn api_base(&self) -> String {
        format!("{}/v1", self.root)
    }

    pub fn model_info(&self) -> String {
        format!("{}/model/info", self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_credentials_in_the_url_without_repeating_them() {
        for url in ["http://user:s3cret@gw:4000", "http://s3cret@gw:4000"] {
            let error = Endpoint::parse(url).unwrap_err();
            assert!(!error.contains("s3cret"), "{error}");
            assert!(error.contains("--api-key-file"), "{error}");
        }
    }

    #[test]
    fn accepts_every_spelling_of_the_same_proxy() {
        for url in [
            "http://127.0.0.1:4000",
            "http://127.0.0.1:4000/",
            "http://127.0.0.1:4000/v1",
            "http://127.0.0.1:4000/v1/",
            " http://127.0.0.1:4000/v1// ",
            "http://127.0.0.1:4000/v1/chat/completions",
            "http://127.0.0.1:4000/chat/completions/",
        ] {
            let e = Endpoint::parse(url).unwrap();
            assert_eq!(e.root(), "http://127.0.0.1:4000", "{url}");
            assert_eq!(e.api_base(), "http://127.0.0.1:4000/v1");
            assert_eq!(e.model_info(), "http://127.0.0.1:4000/model/info");
        }
        let e = Endpoint::parse("https://gw.example.com/litellm/v1").unwrap();
        assert_eq!(e.api_base(), "https://gw.example.com/litellm/v1");
    }

    #[test]
    fn a_url_without_a_scheme_gets_one_suggested() {
        for url in ["127.0.0.1:4000", "localhost:4000", "gw.example.com"] {
            let error = Endpoint::parse(url).unwrap_err();
            assert!(
                error.contains(&format!("did you mean \"http://{url}\"?")),
                "{error}"
            );
        }
    }

    #[test]
    fn knows_a_proxy_on_this_machine() {
        for url in [
            "http://127.0.0.1:4000",
            "http://localhost:4000/v1",
            "http://[::1]:4000",
            "http://127.8.0.1",
        ] {
            assert!(Endpoint::parse(url).unwrap().is_loopback(), "{url}");
        }
        for url in [
            "http://litellm:4000",
            "https://10.0.0.1",
            "http://[2001:db8::1]:4000",
        ] {
            assert!(!Endpoint::parse(url).unwrap().is_loopback(), "{url}");
        }
    }

    #[test]
    fn knows_plain_http_from_tls() {
        for url in ["http://127.0.0.1:4000", "HTTP://localhost/v1"] {
            assert!(Endpoint::parse(url).unwrap().is_plain_http(), "{url}");
        }
        for url in ["https://127.0.0.1:4000", "HTTPS://gw.example.com"] {
            assert!(!Endpoint::parse(url).unwrap().is_plain_http(), "{url}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_proxy_url() {
        for url in [
            "",
            "127.0.0.1:4000",
            "ftp://host",
            "http://",
            "http://h/?a=b",
            "nonsense",
        ] {
            let err = Endpoint::parse(url).unwrap_err();
            assert!(err.starts_with("invalid --url"), "{url}: {err}");
        }
    }
}
