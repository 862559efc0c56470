//! The edge that talks to the proxy: the HTTP prober, the attribution of answers, and the
//! fixed schedule that streams probe events to the owner of the state.

mod attribution;
mod capture;
mod deployments;
mod endpoint;
pub mod errors;
mod http;
mod outcome;
pub mod schedule;

pub use attribution::{Attribution, attribute};
pub use capture::{Captured, CapturingService, capture, route_from_headers};
pub use deployments::{Deployment, Deployments};
pub use endpoint::Endpoint;
pub use http::{HttpProber, ProbeSettings, http_client};
pub use outcome::{
    ErrorKind, Evidence, Failure, ProbeEvent, ProbeOutcome, ProbeReport, Role, Route, Served,
};
pub use schedule::{ControlInputs, Controls, Probe, Schedule, Stop};
