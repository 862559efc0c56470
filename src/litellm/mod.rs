//! What the product knows about LiteLLM, in one place: its releases, the headers its answers
//! carry, its error texts and what they mean. The prober, the core's explanations, `check`
//! and the demo all read it here.

pub mod errors;
pub mod headers;
pub mod model_info;
mod release;

pub use headers::{Cooling, Route, route_from_headers};
pub use release::Release;
