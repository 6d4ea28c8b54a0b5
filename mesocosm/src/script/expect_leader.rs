//! Checking the leadership expectations: who leads, and how long a failover
//! may take. They need several masters (`[master] count > 1`): a single
//! master leads from its start and never fails over to another.
//!
//! ```toml
//! [[expect]]
//! leader = "master-3"        # master-3 is elected within the window
//! after = "40s"
//! before = "45s"
//!
//! [[expect]]
//! leader = "none"            # no master leads at that instant
//! at = "50s"
//!
//! [[expect]]
//! failover_at_most = "15s"   # every failover (in the window, if one is given)
//! ```
//!
//! Why `at`: being the leader is a state, not an event. A window counts
//! events (an election, a message); "who leads at 45 s" asks about one
//! instant, and `at` is already how a fault names an instant.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::RawExpect;
use super::cast::Cast;
use crate::check::Checker;
use crate::cluster::Expect;
use crate::units::format_duration;

/// What `leader = "none"` says: no master leads.
pub(crate) const NO_LEADER: &str = "none";

impl Checker<'_> {
    /// Several masters, or an error saying why `key` needs them.
    fn needs_masters(&mut self, cast: &Cast, span: Range<usize>, key: &str) -> bool {
        if cast.masters.is_empty() {
            self.error(
                span,
                format!(
                    "`{key}` needs several masters ([master] count > 1 with [zookeeper]): a single master leads from its start and has nobody to fail over to"
                ),
            );
            return false;
        }
        true
    }

    /// `leader = "<master>" | "none"`, with a window (elected in it) or `at`
    /// (leads at that instant). `window` is the window in words.
    pub(super) fn leader_expectation(
        &mut self,
        e: &RawExpect,
        cast: &Cast,
        until: Duration,
        window: &str,
    ) -> Option<(Expect, String)> {
        let v = e.leader.as_ref()?;
        if !self.needs_masters(cast, v.span(), "leader") {
            return None;
        }
        let name = v.get_ref();
        let master = if name == NO_LEADER {
            None
        } else if cast.masters.contains(name) {
            Some(name.clone())
        } else {
            self.error(
                v.span(),
                format!("no master is named `{name}` (masters: {}; or \"{NO_LEADER}\")", cast.masters.join(", ")),
            );
            return None;
        };
        let at = self.leader_instant(e, until)?;
        let text = match (&master, at) {
            (Some(m), None) => format!("{m} is elected leader{window}"),
            (Some(m), Some(t)) => format!("{m} leads at {}", format_duration(t)),
            (None, Some(t)) => format!("no master leads at {}", format_duration(t)),
            (None, None) => {
                self.error(v.span(), "say when no master leads: at = \"50s\"");
                return None;
            }
        };
        Some((Expect::Leader { master, at }, text))
    }

    /// `at`, if given: one instant, within the run, and not with a window.
    fn leader_instant(&mut self, e: &RawExpect, until: Duration) -> Option<Option<Duration>> {
        let Some(av) = &e.at else { return Some(None) };
        let at = self.duration(av, "at")?;
        if let Some(w) = e.after.as_ref().or(e.before.as_ref()) {
            self.error(w.span(), "`at` is one instant; `after`/`before` make a window: use one or the other");
            return None;
        }
        if at > until {
            self.error(
                av.span(),
                format!(
                    "`at = {}` is after the run stops at {} (`until`)",
                    format_duration(at),
                    format_duration(until)
                ),
            );
            return None;
        }
        Some(Some(at))
    }

    /// `failover_at_most = "15s"`: every failover whose election falls in
    /// the window (the whole run without one) takes at most that long.
    pub(super) fn failover_expectation(
        &mut self,
        v: &Spanned<String>,
        cast: &Cast,
        window: &str,
    ) -> Option<(Expect, String)> {
        if !self.needs_masters(cast, v.span(), "failover_at_most") {
            return None;
        }
        let at_most = self.duration(v, "failover_at_most")?;
        let text = format!("every failover takes at most {}{window}", format_duration(at_most));
        Some((Expect::Failover { at_most }, text))
    }
}
