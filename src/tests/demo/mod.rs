//! The demo: its pure core (config files, settings, script, LiteLLM's error wording), its
//! router against the real proxy's recorded timelines, its gateway over HTTP against recorded
//! answers, and its mode on the dashboard.

mod config_file;
mod dashboard;
mod director;
mod errors;
mod gateway;
mod router;
mod script;
mod settings;
mod stage;

use serde_json::Value;

use crate::modes::demo::settings::{GatewaySettings, Release};
use crate::tests::{Capture, capture_in, fixture};

/// The releases of LiteLLM the real proxy was recorded on.
const RELEASES: [Release; 2] = [Release::V1_83, Release::V1_106];

/// The config the real proxy was recorded with (`fixtures/scenarios/config.yaml`: the seed's,
/// pointed at loopback mocks), as `release` runs it.
fn recorded_settings(release: Release) -> GatewaySettings {
    let config = fixture("scenarios/config.yaml");
    let mut settings = crate::modes::demo::config_file::parse(&config, false).unwrap();
    settings.release = release;
    settings
}

/// The recorded answer `name` of `release`.
fn recorded(release: Release, name: &str) -> Capture {
    let recordings = match release {
        Release::V1_83 => "captures",
        Release::V1_106 => "captures-1.106.12",
    };
    capture_in(recordings, name)
}

/// The JSON body of the recorded answer `name` of `release`.
fn recorded_json(release: Release, name: &str) -> Value {
    serde_json::from_slice(&recorded(release, name).body).unwrap()
}
