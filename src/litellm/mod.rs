//! What the product knows about LiteLLM, in one place: its releases, the headers its answers
//! carry, its error texts and what they mean, its router's settings as it states them. The prober, the core's explanations, `check`
//! and the demo all read it here.

pub mod defaults;
pub mod errors;
pub mod headers;
pub mod health;
pub mod model_info;
pub mod prometheus;
mod release;
pub mod settings;

pub use headers::{Cooling, Route, route_from_headers};
pub use release::Release;
