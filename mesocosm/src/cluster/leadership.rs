//! Who led when, and how long each failover took, read back from a run.
//!
//! Each contending master records its own transitions in its history
//! ([`MasterEvent::Elected`] when its group elects it,
//! [`MasterEvent::LeadershipLost`] or [`MasterEvent::Aborted`] when it exits),
//! and the run records when a fault killed a master. Put together, in time
//! order, they give the leadership periods:
//!
//! ```text
//!   master-2 ──elected 0.012 s────────────────killed 30.0 s
//!                                                   ╲ failover 12.0 s
//!   master-3                                         elected 42.0 s ─────── (end of run)
//! ```
//!
//! A **failover** runs from the moment the previous leader stopped leading
//! (killed, aborted, or exited because its group told it it no longer leads)
//! to the next election. When the next leader is elected while the previous
//! one still believes it leads (it was cut off from ZooKeeper but not yet told:
//! a split brain, `Master::detected` only learns of it when its session
//! expires), there was no moment without a leader the detectors could follow:
//! the failover took 0 s, and the report says how long the split brain lasted.
//!
//! A standalone master records none of this: single-master runs have no
//! leadership periods and their reports do not change.

use super::judge::Evidence;
use mesocosm_master::MasterEvent;
use mesocosm_sim::SimTime;
use std::fmt;
use std::time::Duration;

/// How a leadership period ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// A fault killed the master.
    Killed,
    /// The master exited on its own: upstream's log line says why.
    Exited(String),
}

/// One master's time as the leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub master: String,
    pub from: SimTime,
    /// When and how it ended; `None`: it led to the end of the run.
    pub until: Option<(SimTime, Ended)>,
}

impl Period {
    fn covers(&self, t: SimTime) -> bool {
        self.from <= t && self.until.as_ref().is_none_or(|(u, _)| t < *u)
    }
}

/// One hand-over from a leader to the next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failover {
    pub from: String,
    pub to: String,
    /// When the previous leader stopped leading (`None`: it never did).
    pub stopped: Option<SimTime>,
    pub elected: SimTime,
}

impl Failover {
    /// How long the cluster had no leader: 0 when the next one was elected
    /// before the previous one stopped (a split brain).
    pub fn took(&self) -> Duration {
        match self.stopped {
            Some(s) if s < self.elected => self.elected.since(s),
            _ => Duration::ZERO,
        }
    }

    /// How long two masters both believed they led, if they did.
    pub fn split_brain(&self) -> Option<Duration> {
        match self.stopped {
            Some(s) if s > self.elected => Some(s.since(self.elected)),
            _ => None,
        }
    }
}

impl fmt::Display for Failover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {} in {}", self.from, self.to, secs(self.took()))?;
        match (self.split_brain(), self.stopped) {
            (Some(overlap), Some(s)) => write!(
                f,
                " (elected at {}; {} led on until {}: {} of split brain)",
                secs(self.elected.since(SimTime::ZERO)),
                self.from,
                secs(s.since(SimTime::ZERO)),
                secs(overlap)
            ),
            (_, None) => write!(f, " ({} still believed it led at the end)", self.from),
            _ => Ok(()),
        }
    }
}

/// Every leadership period of a run, in order of election.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leaderships {
    pub periods: Vec<Period>,
}

/// What happened to one master, for [`Leaderships::build`].
enum Mark<'a> {
    Elected,
    Ended(Ended),
    /// `MasterEvent::Aborted` (only ends a period it is in).
    Aborted(&'a str),
}

impl Leaderships {
    /// Put together every master incarnation's history (`(name, history)`)
    /// and the kills (`(name, when)`).
    pub fn build<'a>(
        histories: impl IntoIterator<Item = (String, &'a [(SimTime, MasterEvent)])>,
        deaths: &[(String, SimTime)],
    ) -> Leaderships {
        let mut marks: Vec<(SimTime, String, Mark<'a>)> = Vec::new();
        for (name, history) in histories {
            for (t, e) in history {
                let mark = match e {
                    MasterEvent::Elected { .. } => Mark::Elected,
                    MasterEvent::LeadershipLost { reason, .. } => Mark::Ended(Ended::Exited(reason.clone())),
                    MasterEvent::Aborted { reason } => Mark::Aborted(reason),
                    _ => continue,
                };
                marks.push((*t, name.clone(), mark));
            }
        }
        marks.extend(deaths.iter().map(|(name, t)| (*t, name.clone(), Mark::Ended(Ended::Killed))));
        // Stable: at one instant, each master's own order is kept.
        marks.sort_by_key(|(t, _, _)| *t);
        let mut periods: Vec<Period> = Vec::new();
        for (t, name, mark) in marks {
            let open = periods.iter_mut().find(|p| p.master == name && p.until.is_none());
            match (mark, open) {
                (Mark::Elected, None) => periods.push(Period { master: name, from: t, until: None }),
                // Re-elected after a ZooKeeper blip: the same period.
                (Mark::Elected, Some(_)) => {}
                (Mark::Ended(how), Some(p)) => p.until = Some((t, how)),
                (Mark::Aborted(reason), Some(p)) => p.until = Some((t, Ended::Exited(reason.to_string()))),
                (Mark::Ended(_) | Mark::Aborted(_), None) => {}
            }
        }
        Leaderships { periods }
    }

    /// Whether any master was ever elected through ZooKeeper.
    pub fn is_empty(&self) -> bool {
        self.periods.is_empty()
    }

    /// The leader at instant `t`: the newest election among the periods that
    /// cover it (during a split brain, the detectors follow the newest).
    pub fn leader_at(&self, t: SimTime) -> Option<&str> {
        self.periods.iter().filter(|p| p.covers(t)).max_by_key(|p| p.from).map(|p| p.master.as_str())
    }

    /// Every hand-over: each period to the next one elected.
    pub fn failovers(&self) -> Vec<Failover> {
        self.periods
            .windows(2)
            .map(|w| Failover {
                from: w[0].master.clone(),
                to: w[1].master.clone(),
                stopped: w[0].until.as_ref().map(|(t, _)| *t),
                elected: w[1].from,
            })
            .collect()
    }

    /// The last leader, if it stopped leading and nobody was elected after:
    /// when it stopped. A failover that never finished.
    pub fn leaderless_since(&self) -> Option<(&str, SimTime)> {
        let last = self.periods.last()?;
        last.until.as_ref().map(|(t, _)| (last.master.as_str(), *t))
    }

    /// The periods in a few words: "master-2 0.012–30.0 s (killed), master-3 from 42.004 s".
    pub fn describe(&self) -> String {
        if self.periods.is_empty() {
            return "no master was ever elected".to_string();
        }
        self.periods
            .iter()
            .map(|p| {
                let from = secs(p.from.since(SimTime::ZERO));
                match &p.until {
                    None => format!("{} from {from}", p.master),
                    Some((u, how)) => {
                        let how = match how {
                            Ended::Killed => "killed",
                            Ended::Exited(_) => "exited",
                        };
                        format!("{} {}–{} ({how})", p.master, from.trim_end_matches(" s"), secs(u.since(SimTime::ZERO)))
                    }
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `leader = …`: `(held, what happened instead)`. Without `at`, `master`
/// must be elected at an instant `in_window` accepts; with it, lead then.
pub(crate) fn judge_leader(
    master: Option<&str>,
    at: Option<Duration>,
    in_window: impl Fn(SimTime) -> bool,
    ev: &Evidence,
) -> (bool, String) {
    let l = ev.leaderships;
    let leaders = format!("leaders: {}", l.describe());
    match (master, at) {
        (Some(m), None) => {
            let elected: Vec<SimTime> = l.periods.iter().filter(|p| p.master == m).map(|p| p.from).collect();
            let held = elected.iter().any(|t| in_window(*t));
            let seen = match &elected[..] {
                [] => format!("{m} was never elected"),
                ts => format!(
                    "{m} was elected at {}",
                    ts.iter().map(|t| secs(t.since(SimTime::ZERO))).collect::<Vec<_>>().join(", ")
                ),
            };
            (held, format!("{seen}; {leaders}"))
        }
        (_, Some(at)) => {
            let t = SimTime::from_duration(at);
            let now = l.leader_at(t);
            let seen = match now {
                Some(n) => format!("{n} led at {}", secs(at)),
                None => format!("no master led at {}", secs(at)),
            };
            (now == master, format!("{seen}; {leaders}"))
        }
        // The checker refuses `leader = "none"` without `at`.
        (None, None) => (false, leaders),
    }
}

/// `failover_at_most = …`: `(held, what happened)`. Every failover whose
/// election `in_window` accepts took at most `at_most`; one that never
/// finished (no election after the last leader stopped, by the end of the
/// run) fails it, and so does a run with no failover at all: the bound was
/// never put to the test.
pub(crate) fn judge_failovers(at_most: Duration, in_window: impl Fn(SimTime) -> bool, ev: &Evidence) -> (bool, String) {
    let l = ev.leaderships;
    let failovers: Vec<Failover> = l.failovers().into_iter().filter(|f| in_window(f.elected)).collect();
    let unfinished = l.leaderless_since().filter(|(_, t)| in_window(*t));
    let mut seen: Vec<String> = failovers.iter().map(|f| f.to_string()).collect();
    if let Some((m, t)) = unfinished {
        seen.push(format!(
            "{m} stopped leading at {} and no master was elected by the end at {}",
            secs(t.since(SimTime::ZERO)),
            secs(ev.ended_at.since(SimTime::ZERO))
        ));
    }
    if seen.is_empty() {
        return (false, format!("no failover happened; leaders: {}", l.describe()));
    }
    let held = unfinished.is_none() && failovers.iter().all(|f| f.took() <= at_most);
    (held, seen.join("; "))
}

/// Seconds, to the millisecond, with at least one decimal: "12.0 s", "42.004 s".
pub fn secs(d: Duration) -> String {
    let s = format!("{:.3}", d.as_secs_f64());
    let s = s.trim_end_matches('0');
    let s = if s.ends_with('.') { format!("{s}0") } else { s.to_string() };
    format!("{s} s")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimTime {
        SimTime::from_duration(Duration::from_millis(ms))
    }

    fn elected(master: &str) -> MasterEvent {
        MasterEvent::Elected { master: master.into() }
    }

    #[test]
    fn a_killed_leader_and_its_successor_give_one_failover() {
        let m2 = [(at(12), elected("master-2"))];
        let m3 = [(at(42_004), elected("master-3"))];
        let l = Leaderships::build(
            [("master-2".to_string(), &m2[..]), ("master-3".to_string(), &m3[..])],
            &[("master-2".to_string(), at(30_000))],
        );
        assert_eq!(l.describe(), "master-2 0.012–30.0 s (killed), master-3 from 42.004 s");
        let f = l.failovers();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].to_string(), "master-2 → master-3 in 12.004 s");
        assert_eq!(l.leader_at(at(29_999)), Some("master-2"));
        assert_eq!(l.leader_at(at(30_000)), None);
        assert_eq!(l.leader_at(at(42_004)), Some("master-3"));
        assert_eq!(l.leaderless_since(), None);
    }

    #[test]
    fn a_split_brain_takes_no_time_and_says_how_long_it_lasted() {
        let reason = "Lost candidacy as a leader... committing suicide!";
        let m2 = [
            (at(10), elected("master-2")),
            (at(34_000), MasterEvent::LeadershipLost { master: "master-2".into(), reason: reason.into() }),
        ];
        let m3 = [(at(30_000), elected("master-3"))];
        let l = Leaderships::build([("master-2".to_string(), &m2[..]), ("master-3".to_string(), &m3[..])], &[]);
        let f = &l.failovers()[0];
        assert_eq!(f.took(), Duration::ZERO);
        assert_eq!(
            f.to_string(),
            "master-2 → master-3 in 0.0 s (elected at 30.0 s; master-2 led on until 34.0 s: 4.0 s of split brain)"
        );
        // The detectors follow the newest election.
        assert_eq!(l.leader_at(at(31_000)), Some("master-3"));
    }

    #[test]
    fn an_abort_ends_a_period_and_no_election_leaves_the_cluster_leaderless() {
        let m1 = [(at(5), elected("master-1")), (at(41_000), MasterEvent::Aborted { reason: "registry".into() })];
        let l = Leaderships::build([("master-1".to_string(), &m1[..])], &[]);
        assert!(l.failovers().is_empty());
        assert_eq!(l.leaderless_since(), Some(("master-1", at(41_000))));
        assert_eq!(l.describe(), "master-1 0.005–41.0 s (exited)");
    }
}
