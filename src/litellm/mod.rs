//! What the product knows about LiteLLM, in one place: its releases, the headers its answers
//! carry, its error texts and what they mean. The prober, the core's explanations, `check`
//! and the demo all read it here.

mod release;

pub use release::Release;
