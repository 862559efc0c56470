//! The proxy's API key: read from the environment or a file, sent only in the Authorization
//! header, never printed, logged or recorded.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::RwLock;

use secrecy::{ExposeSecret, SecretString};

/// Where a key is looked for, in order, when no `--api-key-file` is given.
pub const KEY_ENV_VARS: [&str; 2] = ["LITELLM_API_KEY", "OPENAI_API_KEY"];

/// What stands where a server echoed the key.
const REDACTED: &str = "[API key]";

/// The longest key file read: a key is short; more is not a key file.
const KEY_FILE_LIMIT: u64 = 4096;

/// Every key the process was given, so that whatever writes a line (the log, whichever crate
/// logs) can blank them out.
static KNOWN: RwLock<Vec<SecretString>> = RwLock::new(Vec::new());

/// `text` with every key the process holds blanked out.
pub fn redact_known(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    let mut text = Cow::Borrowed(text);
    for key in known.iter() {
        let key = key.expose_secret();
        if text.contains(key) {
            text = Cow::Owned(text.replace(key, REDACTED));
        }
    }
    text
}

/// Blanks `key` out of every text from now on, whether or not it is the key in use: a key
/// the environment holds, which a drill's command may print.
pub fn blank_out(key: &str) {
    let key = key.trim();
    if key.is_empty() {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k.expose_secret() == key) {
        known.push(SecretString::from(key.to_owned()));
    }
}

#[derive(Clone)]
pub struct ApiKey(SecretString);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// Validates a key: it must fit in an HTTP header.
    pub fn new(key: &str) -> Result<Self, String> {
        let key = key.trim();
        if key.is_empty() {
            return Err("the API key is empty".to_owned());
        }
        if !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(
                "the API key contains spaces or characters that cannot go in an HTTP header"
                    .to_owned(),
            );
        }
        blank_out(key);
        Ok(Self(SecretString::from(key.to_owned())))
    }

    /// The `Authorization` header value, marked sensitive so no debug output shows it.
    pub fn bearer(&self) -> reqwest::header::HeaderValue {
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.0.expose_secret()))
                .expect("validated as header-safe when created");
        value.set_sensitive(true);
        value
    }

    /// `text` with every copy of every key this process loaded blanked out (this one
    /// included): a server may echo what it was sent (the Authorization header in an error
    /// page, say).
    pub fn redact(&self, text: &mut String) {
        if let Cow::Owned(redacted) = redact_known(text) {
            *text = redacted;
        }
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    /// The key from `--api-key-file`, else the first of [`KEY_ENV_VARS`] that is set; no key
    /// at all is fine for a proxy without a master key.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, String> {
        if let Some(path) = file {
            let first_line = first_line(path)
                .map_err(|e| format!("cannot read the API key file {}: {e}", path.display()))?;
            return Self::new(&first_line)
                .map(Some)
                .map_err(|e| format!("{e} (in {})", path.display()));
        }
        for name in KEY_ENV_VARS {
            if let Some(value) = env(name).filter(|v| !v.trim().is_empty()) {
                return Self::new(&value)
                    .map(Some)
                    .map_err(|e| format!("{e} (in {name})"));
            }
        }
        Ok(None)
    }
}

/// The first line of a key file: a regular file, read no further than a key can be long.
fn first_line(path: &Path) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !metadata.is_file() {
        // A FIFO would block, a device (/dev/zero) never end.
        return Err("it is not a regular file".to_owned());
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(KEY_FILE_LIMIT).read_to_end(&mut head))
        .map_err(|e| e.to_string())?;
    let end = head.iter().position(|b| *b == b'\n');
    let line = match end {
        Some(end) => &head[..end],
        None if head.len() as u64 >= KEY_FILE_LIMIT => {
            return Err(format!(
                "its first line is longer than {KEY_FILE_LIMIT} bytes: that is no key"
            ));
        }
        None => &head[..],
    };
    String::from_utf8(line.to_vec()).map_err(|_| "its first line is not UTF-8 text".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let key = ApiKey::new("sk-very-secret").unwrap();
        assert!(!format!("{key:?}").contains("sk-very-secret"));
        assert!(!format!("{:?}", key.bearer()).contains("sk-very-secret"));
    }

    #[test]
    fn litellm_key_wins_over_openai_key_and_a_file_wins_over_both() {
        let vars = [
            ("OPENAI_API_KEY", "sk-openai"),
            ("LITELLM_API_KEY", "sk-litellm"),
        ];
        let key = ApiKey::load(None, env(&vars)).unwrap().unwrap();
        assert_eq!(key.secret().expose_secret(), "sk-litellm");
        let key = ApiKey::load(None, env(&vars[..1])).unwrap().unwrap();
        assert_eq!(key.secret().expose_secret(), "sk-openai");
        assert!(ApiKey::load(None, env(&[])).unwrap().is_none());

        let dir = std::env::temp_dir().join(format!("fw-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "sk-from-file\n").unwrap();
        let key = ApiKey::load(Some(&file), env(&vars)).unwrap().unwrap();
        assert_eq!(key.secret().expose_secret(), "sk-from-file");
        // Only the first line is the key: a comment below it is not.
        std::fs::write(&file, "  sk-first-line \r\n# the proxy's master key\n").unwrap();
        let key = ApiKey::load(Some(&file), env(&vars)).unwrap().unwrap();
        assert_eq!(key.secret().expose_secret(), "sk-first-line");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_key_file_is_read_no_further_than_a_key_and_only_when_it_is_a_file() {
        let refused = |path: &Path| ApiKey::load(Some(path), env(&[])).unwrap_err();
        // A device never ends, a FIFO would block: neither is read.
        assert!(refused(Path::new("/dev/zero")).contains("not a regular file"));
        let dir = std::env::temp_dir().join(format!("fw-keyfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(refused(&fifo).contains("not a regular file"));
        }
        let file = dir.join("key");
        std::fs::write(&file, "x".repeat(10_000)).unwrap();
        assert!(refused(&file).contains("longer than 4096 bytes"));
        // What follows the first line is not the key, even when it is not text.
        let mut bytes = b"sk-first\n".to_vec();
        bytes.extend([0xff, 0xfe, 0x00]);
        std::fs::write(&file, bytes).unwrap();
        let key = ApiKey::load(Some(&file), env(&[])).unwrap().unwrap();
        assert_eq!(key.secret().expose_secret(), "sk-first");
        std::fs::write(&file, [0xff, b'\n']).unwrap();
        assert!(refused(&file).contains("not UTF-8"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_echoed_key_is_blanked_out() {
        let key = ApiKey::new("sk-echoed-123").unwrap();
        let mut text = "invalid header: Bearer sk-echoed-123 (sk-echoed-123)".to_owned();
        key.redact(&mut text);
        assert_eq!(text, "invalid header: Bearer [API key] ([API key])");
    }

    #[test]
    fn unusable_keys_are_refused_without_echoing_them() {
        let err = ApiKey::new("sk-bad\nkey").unwrap_err();
        assert!(!err.contains("sk-bad"));
        assert!(
            ApiKey::load(Some(Path::new("/nonexistent/key")), env(&[]))
                .unwrap_err()
                .contains("cannot read the API key file /nonexistent/key")
        );
    }
}
