//! LiteLLM's defaults for what a config leaves out: what the router does then.

use std::time::Duration;

/// `openai.DEFAULT_MAX_RETRIES`, used when neither settings section sets `num_retries`.
pub const NUM_RETRIES: u32 = 2;
/// `litellm.request_timeout`.
pub const TIMEOUT: Duration = Duration::from_secs(6000);
/// `DEFAULT_COOLDOWN_TIME_SECONDS`.
pub const COOLDOWN: Duration = Duration::from_secs(5);
/// `litellm.allowed_fails`: a router whose `allowed_fails` equals it uses the failure-rate
/// policy instead of counting failures.
pub const ALLOWED_FAILS: u32 = 3;
/// `ROUTER_MAX_FALLBACKS`.
pub const MAX_FALLBACKS: u32 = 5;
