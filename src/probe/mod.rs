//! The edge that talks to the proxy: the HTTP prober, the attribution of answers, and the
//! fixed schedule that streams probe events to the owner of the state.

mod attribution;
mod capture;
mod endpoint;
mod errors;
pub mod event;
mod http;
pub mod schedule;

pub use endpoint::Endpoint;
#[cfg(test)]
pub use errors::http_failure;
pub use errors::{body_message, innermost_cause, timeout_failure};
pub use event::{
    DirectMode, ErrorKind, Evidence, Lane, ProbeEvent, ProbeOutcome, ProbeReport, Role, Route,
    Served, TargetId, Verdict,
};
pub use http::{HttpProber, ProbeSettings, ProxyMetrics, ProxyShare, http_client};
pub use schedule::{Controls, Probe, Schedule, Stop};
