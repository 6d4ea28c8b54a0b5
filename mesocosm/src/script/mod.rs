//! The failure script of a scenario: `[[faults]]` to inject and `[[expect]]` to check.
//!
//! A fault is one table with exactly one *action* key, which says what happens;
//! the other keys say to whom, which messages and when:
//!
//! ```toml
//! [[faults]]                       # crash an actor; optionally start it again
//! kill = "agent-2"                 # master | <agent> | agent:<agent> | driver:<app> | executor:<app>/<id>; globs with *
//!                                  # with [master] count > 1: master-<n> | leader (whoever leads then) | zookeeper-00<n>
//! at = "30s"
//! restart_after = "2m"             # agents keep their id and re-register; drivers re-subscribe with their framework id
//!
//! [[faults]]                       # network partition between two groups
//! partition = [["agent-2"], ["master"]]   # or ["agent-2", "master"] for two single actors
//! at = "30s"
//! heal_after = "3m"                # optional: the partition lasts forever without it
//! one_way = true                   # optional: only messages first → second are lost
//!
//! [[faults]]                       # break an open connection (both sides see it close)
//! disconnect = ["driver:etl", "master"]
//! at = "20s"
//!
//! [[faults]]                       # message faults: drop | delay | duplicate | hold = "<message kind>" ("*": any)
//! drop = "RegisterExecutor"
//! from = "executor:etl/*"          # optional sender glob
//! to = "driver:etl"                # optional receiver glob
//! nth = 1                          # which: nth = N | first = N | every = true | probability = p (default: every)
//! after = "10s"                    # optional window on the send time
//! before = "1m"
//! # delay = "PongSlaveMessage" with by = "20s";  hold = "UPDATE" with until = "1m"
//!
//! [[faults]]                       # a slow framework: think time per offer before it answers
//! slow = "driver:hog"
//! think = "2s"
//! ```
//!
//! A fault that did nothing in the run (matched no message, found nothing to
//! kill or disconnect) fails the run, unless it says `optional = true` (any
//! action takes it): then it is only a warning.
//!
//! An expectation is one table with exactly one *subject* key:
//!
//! ```toml
//! [[expect]]
//! app = "etl"                      # the app's driver exits 0 (finishes = true) or non-zero (fails = true),
//! finishes = true                  # or has not exited when the run ends (running = true)
//! before = "5m"                    # optional window: after = …, before = …
//!
//! [[expect]]
//! framework_removed = "etl"        # the master removes the app's framework
//! reason = "failover"              # optional: a word of the master's reason
//!
//! [[expect]]
//! agent = "agent-2"                # the master marks the agent: unreachable | disconnected | reregistered | registered
//! marked = "unreachable"
//! after = "100s"
//! before = "110s"
//! # exactly = 0                    # optional: how many times (0: never); default at least once
//!
//! [[expect]]
//! count = "TASK_LOST"              # a message kind, or a task state (TASK_*: tasks whose UPDATE reached it)
//! where = { reason = "REASON_AGENT_REMOVED" }   # optional field filters (see `mesocosm_sim::fields`)
//! from = "master"                  # optional
//! to = "driver:*"                  # optional
//! at_least = 1                     # at_least = N | at_most = N | exactly = N (at_least and at_most may be combined)
//!
//! [[expect]]
//! never = "OFFERS"                 # no message of this kind …
//! to = "driver:hog"
//! after = "2m"                     # … after this time
//! ```
//!
//! Everything is checked before the run: unknown actors, kinds and fields,
//! malformed or negative durations, faults that cannot happen (after `until`,
//! before the app exists, restarting an executor) and faults that conflict
//! (killing an actor that is already dead) are diagnostics at their line.
//!
//! # Layout
//!
//! The checked forms are the cluster's ([`crate::cluster::Fault`],
//! [`crate::cluster::Expectation`], …, re-exported here); this module reads
//! the tables into them.
//! - `cast`: the actors a scenario can name, and their roles.
//! - `faults/`: `[[faults]]`, one file per fault kind, in a table.
//! - `expect`: `[[expect]]`.

use std::collections::BTreeMap;

use mesocosm_sim::fields;
use serde::Deserialize;
use toml::Spanned;

use crate::check::Checker;

mod cast;
mod expect;
mod expect_leader;
mod faults;

pub use crate::cluster::{AgentMark, AppOutcome, Expect, Expectation, Fault, FaultSpec, is_task_state};
pub(crate) use cast::Cast;

// ---------------------------------------------------------------------------
// The TOML shape
// ---------------------------------------------------------------------------

/// A group of actors: one name or a list of names.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawGroup {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    kill: Option<Spanned<String>>,
    partition: Option<Spanned<Vec<RawGroup>>>,
    disconnect: Option<Spanned<Vec<String>>>,
    drop: Option<Spanned<String>>,
    delay: Option<Spanned<String>>,
    duplicate: Option<Spanned<String>>,
    hold: Option<Spanned<String>>,
    slow: Option<Spanned<String>>,
    registry: Option<Spanned<String>>,
    expire_session: Option<Spanned<String>>,
    at: Option<Spanned<String>>,
    restart_after: Option<Spanned<String>>,
    heal_after: Option<Spanned<String>>,
    one_way: Option<Spanned<bool>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    nth: Option<Spanned<i64>>,
    first: Option<Spanned<i64>>,
    every: Option<Spanned<bool>>,
    probability: Option<Spanned<f64>>,
    after: Option<Spanned<String>>,
    before: Option<Spanned<String>>,
    by: Option<Spanned<String>>,
    until: Option<Spanned<String>>,
    think: Option<Spanned<String>>,
    agents: Option<Spanned<String>>,
    bandwidth_divided_by: Option<Spanned<i64>>,
    optional: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    app: Option<Spanned<String>>,
    finishes: Option<Spanned<bool>>,
    fails: Option<Spanned<bool>>,
    running: Option<Spanned<bool>>,
    framework_removed: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    agent: Option<Spanned<String>>,
    marked: Option<Spanned<String>>,
    count: Option<Spanned<String>>,
    never: Option<Spanned<String>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    #[serde(rename = "where")]
    wheres: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    containers: Option<Spanned<String>>,
    pulled_bytes: Option<Spanned<String>>,
    fetcher_cache_hits: Option<Spanned<i64>>,
    at_least: Option<Spanned<i64>>,
    at_most: Option<Spanned<i64>>,
    exactly: Option<Spanned<i64>>,
    after: Option<Spanned<String>>,
    before: Option<Spanned<String>>,
    leader: Option<Spanned<String>>,
    at: Option<Spanned<String>>,
    failover_at_most: Option<Spanned<String>>,
}

impl Checker<'_> {
    /// A message kind, or a diagnostic listing close ones.
    fn kind(&mut self, v: &Spanned<String>, any_ok: bool) -> Option<String> {
        let k = v.get_ref();
        if (any_ok && k == "*") || fields::is_kind(k) {
            return Some(k.clone());
        }
        let lower = k.to_ascii_lowercase();
        let close: Vec<&str> = fields::kinds()
            .into_iter()
            .filter(|c| c.to_ascii_lowercase().contains(&lower) || lower.contains(&c.to_ascii_lowercase()))
            .take(6)
            .collect();
        let hint = if close.is_empty() {
            "message kinds are the Call/Event types (ACCEPT, DECLINE, OFFERS, UPDATE, RESCIND…) and message names (RunTaskMessage, PongSlaveMessage, RegisterExecutor…)".to_string()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        self.error(v.span(), format!("unknown message kind `{k}`; {hint}"));
        None
    }
}
