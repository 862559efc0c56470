//! `failover-watch demo`'s help after its options: its keys, from the demo's key table, and
//! how scripts and the simulated gateway behave.

use super::director::GROUP_KEYS;

const SCRIPTS_HELP: &str = "\
Scripts:
  --script \"primary-down@10s,primary-up@40s\": TARGET-ACTION@TIME steps, TIME from the start
  (10s, 1m30s, 2.5). TARGET: primary, fallback (of group 1, unless the step names a watched
  primary group first: qwen-72b:primary-down@5s). ACTION: down (connection refused), error
  (HTTP 500), hang, slow (answers after 2 s), up.

Defaults without a terminal (--output text or jsonl):
  Without --script the built-in one runs: primary-down@5s,primary-up@20s. Without --duration
  or --count (and without --loop) the run ends after one pass of the script: its last step,
  then the router timeout if a step hangs, the cooldown and two intervals for the recovery
  to show (36 s with the seed's settings).

--loop:
  The script (the built-in one if none is given) starts over after each pass, with every
  deployment brought back up first. A pass lasts the last step's time plus the router
  timeout (if a step hangs), the cooldown and two probe intervals, rounded up to a whole
  second.

Simulated gateway:
  LiteLLM's proxy (1.106.12, or 1.83.14 with --litellm 1.83) on 127.0.0.1 (a free port),
  its router's rules (fallbacks, num_retries, timeout, allowed_fails, cooldown_time),
  headers, stream quirks and error messages. The deployments are played in memory: each is up, down, failing, hanging or
  slow, as keys and scripts switch it; api_base values are only reported. Nothing leaves
  127.0.0.1.
  Without --primary every group of the config with fallbacks of its own is watched (else
  the first group with a fallback): --groups N simulates N of them. Without --timeout
  the client waits 60 s, or the router's timeout plus 5 s when that is longer, to see what
  the gateway does when its own timeout strikes.";

/// The demo's help after the options: its keys, from the key table, then the rest.
pub fn help() -> String {
    let mut help = "Keys (dashboard):\n".to_owned();
    for binding in GROUP_KEYS.bindings {
        let (keys, what) = binding.help;
        help.push_str(&format!("  {keys:<7} {what}\n"));
    }
    help.push('\n');
    help.push_str(SCRIPTS_HELP);
    help
}
