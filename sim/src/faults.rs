//! Network faults: what the network does to messages, decided per message, in virtual time.
//!
//! Mesos's own tests intercept messages with `DROP_PROTOBUF` / `FUTURE_PROTOBUF`
//! and hold or release them by hand. Here the same interventions are *data*: a
//! list of rules the world consults for every message a core sends, so a scenario
//! file can script them and a run replays them exactly.
//!
//! ```text
//!  World::send(from, to, msg) ─▶ FaultBook::on_send ─▶ Verdict { drop | delay | hold | duplicate }
//!                                  partitions first,       │
//!                                  then message rules      └─▶ trace: one `fault` record per rule applied
//! ```
//!
//! The vocabulary, read like English:
//!
//! ```
//! use mesocosm_sim::faults::{MessageFault, Partition, Slow};
//! use mesocosm_sim::SimTime;
//! use std::time::Duration;
//!
//! // "drop the first RegisterExecutor from any executor of app etl"
//! let a = MessageFault::drop("RegisterExecutor").from("executor:etl/*").nth(1);
//! // "delay every PongSlaveMessage from agent-3 by 20 s"
//! let b = MessageFault::delay("PongSlaveMessage", Duration::from_secs(20)).from("agent-3").every();
//! // "duplicate the first ACCEPT"
//! let c = MessageFault::duplicate("ACCEPT").nth(1);
//! // "cut agent-2 off from the master between 30 s and 3 min"
//! let p = Partition::between(["agent-2"], ["master"]).starting(SimTime::from_secs(30)).healing(SimTime::from_secs(180));
//! // "the driver of app slow thinks 2 s about every offer"
//! let s = Slow::actor("driver:slow", Duration::from_secs(2));
//! ```
//!
//! Every rule counts what it did. A rule that never applied is reported, because
//! a fault that silently did nothing turns a test into a false green.

use crate::actor::ActorId;
use crate::msg::Msg;
use crate::time::SimTime;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::fmt;
use std::time::Duration;

/// A set of actor names: an exact name, or a glob where `*` matches any run of
/// characters (`executor:etl/*`, `agent-*`, `*`), or a list of exact names
/// ([`Pattern::any_of`]: what `agent:<glob>` resolves to, the agents it names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// The glob, or the names joined with `|` (for display only).
    text: String,
    /// Exact names, when the pattern is a list; `None` for a glob.
    names: Option<Vec<String>>,
}

impl Pattern {
    /// Every actor.
    pub fn any() -> Pattern {
        Pattern::new("*")
    }

    /// The actors whose names match `glob`.
    pub fn new(glob: impl Into<String>) -> Pattern {
        Pattern { text: glob.into(), names: None }
    }

    /// Exactly the actors `names` names. Shown as the names joined with `|`;
    /// never read as a glob, so a `*` or a `|` in a name is that character.
    pub fn any_of(names: impl IntoIterator<Item = impl Into<String>>) -> Pattern {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        Pattern { text: names.join("|"), names: Some(names) }
    }

    /// The glob as written (a list's names joined with `|`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        match &self.names {
            Some(names) => names.iter().any(|n| n == name),
            None => glob_match(self.text.as_bytes(), name.as_bytes()),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<S: Into<String>> From<S> for Pattern {
    fn from(s: S) -> Pattern {
        Pattern::new(s)
    }
}

/// `*`-only glob matching, iterative with one backtrack point (linear enough for names).
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Which of the matching messages a rule acts on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pick {
    /// Only the n-th matching message (1-based).
    Nth(u64),
    /// The first n matching messages.
    First(u64),
    /// Every matching message.
    Every,
    /// Each matching message independently with probability p, drawn from the
    /// rule's own seeded generator.
    Probability(f64),
}

/// What the network does to a picked message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Lose it.
    Drop,
    /// Deliver it this much later than it would have arrived (later messages on
    /// the same link may overtake it).
    Delay(Duration),
    /// Deliver it twice.
    Duplicate,
    /// Keep it until this instant, then deliver it.
    HoldUntil(SimTime),
}

impl Action {
    /// The action's name in the trace: `drop`, `delay`, `duplicate`, `hold`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Delay(_) => "delay",
            Action::Duplicate => "duplicate",
            Action::HoldUntil(_) => "hold",
        }
    }
}

/// A rule over messages: which kind, from whom, to whom, which ones, when, and what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageFault {
    /// How reports and the trace name this rule (a scenario uses `file:line`).
    pub label: String,
    /// The message kind ([`Msg::kind`]: `ACCEPT`, `RegisterExecutor`…); `None` is any.
    pub kind: Option<String>,
    pub from: Pattern,
    pub to: Pattern,
    pub pick: Pick,
    pub action: Action,
    /// Only messages sent at or after this instant match.
    pub after: SimTime,
    /// Only messages sent before this instant match.
    pub before: Option<SimTime>,
}

impl MessageFault {
    fn new(kind: &str, action: Action) -> MessageFault {
        MessageFault {
            label: format!("{} {kind}", action.name()),
            kind: (kind != "*").then(|| kind.to_string()),
            from: Pattern::any(),
            to: Pattern::any(),
            pick: Pick::Every,
            action,
            after: SimTime::ZERO,
            before: None,
        }
    }

    /// Drop messages of `kind` (`"*"`: any kind).
    pub fn drop(kind: &str) -> MessageFault {
        MessageFault::new(kind, Action::Drop)
    }

    /// Delay messages of `kind` by `d`.
    pub fn delay(kind: &str, d: Duration) -> MessageFault {
        MessageFault::new(kind, Action::Delay(d))
    }

    /// Deliver messages of `kind` twice.
    pub fn duplicate(kind: &str) -> MessageFault {
        MessageFault::new(kind, Action::Duplicate)
    }

    /// Hold messages of `kind` until `t`.
    pub fn hold(kind: &str, t: SimTime) -> MessageFault {
        MessageFault::new(kind, Action::HoldUntil(t))
    }

    /// Only from actors matching `p`.
    pub fn from(mut self, p: impl Into<Pattern>) -> Self {
        self.from = p.into();
        self
    }

    /// Only to actors matching `p`.
    pub fn to(mut self, p: impl Into<Pattern>) -> Self {
        self.to = p.into();
        self
    }

    /// Only the n-th match.
    pub fn nth(mut self, n: u64) -> Self {
        self.pick = Pick::Nth(n);
        self
    }

    /// The first n matches.
    pub fn first(mut self, n: u64) -> Self {
        self.pick = Pick::First(n);
        self
    }

    /// Every match.
    pub fn every(mut self) -> Self {
        self.pick = Pick::Every;
        self
    }

    /// Each match with probability `p`.
    pub fn with_probability(mut self, p: f64) -> Self {
        self.pick = Pick::Probability(p);
        self
    }

    /// Only messages sent in `[after, before)`.
    pub fn between(mut self, after: SimTime, before: Option<SimTime>) -> Self {
        self.after = after;
        self.before = before;
        self
    }

    /// Name the rule in reports.
    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    fn matches(&self, now: SimTime, from: &ActorId, to: &ActorId, msg: &Msg) -> bool {
        now >= self.after
            && self.before.is_none_or(|b| now < b)
            && self.kind.as_deref().is_none_or(|k| k == msg.kind())
            && self.from.matches(from.as_str())
            && self.to.matches(to.as_str())
    }
}

/// Two groups of actors that cannot reach each other for a while: messages
/// crossing the cut are lost. Open connections are *not* closed (a partition
/// drops packets; it does not reset sockets), so each side learns of it only by
/// what stops arriving, as Mesos's master does through missed pings.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    pub label: String,
    pub a: Vec<Pattern>,
    pub b: Vec<Pattern>,
    /// Only `a → b` is cut (`b → a` still flows).
    pub one_way: bool,
    pub from: SimTime,
    /// When it heals (never, if `None`).
    pub until: Option<SimTime>,
}

impl Partition {
    /// Cut both directions between groups `a` and `b`, from time 0, forever.
    pub fn between<A, B>(a: A, b: B) -> Partition
    where
        A: IntoIterator,
        A::Item: Into<Pattern>,
        B: IntoIterator,
        B::Item: Into<Pattern>,
    {
        let a: Vec<Pattern> = a.into_iter().map(Into::into).collect();
        let b: Vec<Pattern> = b.into_iter().map(Into::into).collect();
        Partition {
            label: format!("partition {} | {}", join(&a), join(&b)),
            a,
            b,
            one_way: false,
            from: SimTime::ZERO,
            until: None,
        }
    }

    /// Cut only `a → b`.
    pub fn one_way(mut self) -> Self {
        self.one_way = true;
        self
    }

    /// Start at `t`.
    pub fn starting(mut self, t: SimTime) -> Self {
        self.from = t;
        self
    }

    /// Heal at `t`.
    pub fn healing(mut self, t: SimTime) -> Self {
        self.until = Some(t);
        self
    }

    /// Name the partition in reports.
    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Whether a message `from → to` sent at `now` is lost to this partition.
    pub fn cuts(&self, now: SimTime, from: &str, to: &str) -> bool {
        let active = now >= self.from && self.until.is_none_or(|u| now < u);
        let in_a = |n: &str| self.a.iter().any(|p| p.matches(n));
        let in_b = |n: &str| self.b.iter().any(|p| p.matches(n));
        active && ((in_a(from) && in_b(to)) || (!self.one_way && in_b(from) && in_a(to)))
    }
}

fn join(ps: &[Pattern]) -> String {
    ps.iter().map(Pattern::as_str).collect::<Vec<_>>().join(",")
}

/// A slow scheduler: before handling an OFFERS event, the actor thinks for
/// `per_offer` × the number of offers in it, handling nothing else meanwhile.
/// The offers stay outstanding all that time: the pessimistic-concurrency
/// pathology of the Omega paper (§3.4), where one slow framework starves others.
#[derive(Clone, Debug, PartialEq)]
pub struct Slow {
    pub label: String,
    pub actor: Pattern,
    pub per_offer: Duration,
    pub from: SimTime,
    pub until: Option<SimTime>,
}

impl Slow {
    /// `actor` takes `per_offer` for each offer it receives.
    pub fn actor(actor: impl Into<Pattern>, per_offer: Duration) -> Slow {
        let actor = actor.into();
        Slow { label: format!("slow {actor}"), actor, per_offer, from: SimTime::ZERO, until: None }
    }

    /// Only for OFFERS arriving in `[from, until)`.
    pub fn between(mut self, from: SimTime, until: Option<SimTime>) -> Self {
        self.from = from;
        self.until = until;
        self
    }

    /// Name the rule in reports.
    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
}

/// A latency for the links between some actors, overriding the world's default.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkLatency {
    pub from: Pattern,
    pub to: Pattern,
    pub latency: crate::latency::Latency,
}

/// Every fault a world applies to messages.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    pub messages: Vec<MessageFault>,
    pub partitions: Vec<Partition>,
    pub slow: Vec<Slow>,
    /// First match wins.
    pub links: Vec<LinkLatency>,
}

/// How often one rule applied during a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultReport {
    pub label: String,
    /// Messages (or, for a slow actor, OFFERS events) it acted on.
    pub applied: u64,
}

/// What the network does with one message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    /// Lost, by this rule.
    pub dropped_by: Option<String>,
    /// Extra time before it enters its link.
    pub delay: Duration,
    /// How many extra copies are delivered.
    pub copies: u32,
    /// `(rule label, action name)` for every rule that applied, for the trace.
    pub applied: Vec<(String, &'static str)>,
}

/// The running state of the rules: counters and random generators.
pub(crate) struct FaultBook {
    faults: Faults,
    matched: Vec<u64>,
    applied: Vec<u64>,
    partition_drops: Vec<u64>,
    slowed: Vec<u64>,
    rngs: Vec<Option<ChaCha8Rng>>,
}

impl FaultBook {
    pub(crate) fn new(faults: Faults, seed: u64) -> FaultBook {
        let rngs = faults
            .messages
            .iter()
            .enumerate()
            .map(|(i, f)| {
                // One generator per rule, named by its position and label, so
                // adding a rule never shifts another rule's draws.
                matches!(f.pick, Pick::Probability(_)).then(|| {
                    ChaCha8Rng::seed_from_u64(crate::seed::derive_seed(seed, &["fault", &i.to_string(), &f.label]))
                })
            })
            .collect();
        FaultBook {
            matched: vec![0; faults.messages.len()],
            applied: vec![0; faults.messages.len()],
            partition_drops: vec![0; faults.partitions.len()],
            slowed: vec![0; faults.slow.len()],
            rngs,
            faults,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.faults.messages.is_empty() && self.faults.partitions.is_empty() && self.faults.slow.is_empty()
    }

    /// The latency override for the link `from → to`, if any.
    pub(crate) fn link_latency(&self, from: &ActorId, to: &ActorId) -> Option<crate::latency::Latency> {
        self.faults.links.iter().find(|l| l.from.matches(from.as_str()) && l.to.matches(to.as_str())).map(|l| l.latency)
    }

    /// Decide what happens to `msg`, sent `from → to` at `now`.
    pub(crate) fn on_send(&mut self, now: SimTime, from: &ActorId, to: &ActorId, msg: &Msg) -> Verdict {
        let mut v = Verdict::default();
        for (i, p) in self.faults.partitions.iter().enumerate() {
            if p.cuts(now, from.as_str(), to.as_str()) {
                self.partition_drops[i] += 1;
                v.applied.push((p.label.clone(), "partition"));
                v.dropped_by = Some(p.label.clone());
                return v;
            }
        }
        for (i, f) in self.faults.messages.iter().enumerate() {
            if !f.matches(now, from, to, msg) {
                continue;
            }
            self.matched[i] += 1;
            let n = self.matched[i];
            let picked = match f.pick {
                Pick::Nth(k) => n == k,
                Pick::First(k) => n <= k,
                Pick::Every => true,
                Pick::Probability(p) => {
                    let rng = self.rngs[i].as_mut();
                    rng.is_some_and(|r| crate::seed::unit_interval(r) < p)
                }
            };
            if !picked {
                continue;
            }
            self.applied[i] += 1;
            v.applied.push((f.label.clone(), f.action.name()));
            match f.action {
                Action::Drop => {
                    v.dropped_by = Some(f.label.clone());
                    return v;
                }
                Action::Delay(d) => v.delay += d,
                Action::Duplicate => v.copies += 1,
                Action::HoldUntil(t) => v.delay = v.delay.max(t.since(now)),
            }
        }
        v
    }

    /// How long `actor` thinks before handling `msg` (zero unless a slow rule applies).
    pub(crate) fn think_time(&mut self, now: SimTime, actor: &ActorId, msg: &Msg) -> Option<(String, Duration)> {
        let offers = match msg {
            Msg::SchedulerEvent(e) => e.offers.as_ref().map(|o| o.offers.len()).unwrap_or(0),
            _ => 0,
        };
        if offers == 0 {
            return None;
        }
        for (i, s) in self.faults.slow.iter().enumerate() {
            if s.actor.matches(actor.as_str()) && now >= s.from && s.until.is_none_or(|u| now < u) {
                self.slowed[i] += 1;
                return Some((s.label.clone(), s.per_offer * offers as u32));
            }
        }
        None
    }

    /// What each rule did.
    pub(crate) fn reports(&self) -> Vec<FaultReport> {
        let m = self.faults.messages.iter().zip(&self.applied).map(|(f, n)| (f.label.clone(), *n));
        let p = self.faults.partitions.iter().zip(&self.partition_drops).map(|(f, n)| (f.label.clone(), *n));
        let s = self.faults.slow.iter().zip(&self.slowed).map(|(f, n)| (f.label.clone(), *n));
        m.chain(p).chain(s).map(|(label, applied)| FaultReport { label, applied }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::sparkrpc;

    fn reg() -> Msg {
        Msg::from(sparkrpc::RegisterExecutor::default())
    }

    #[test]
    fn globs_match_names() {
        assert!(Pattern::new("executor:etl/*").matches("executor:etl/3"));
        assert!(!Pattern::new("executor:etl/*").matches("executor:pi/3"));
        assert!(Pattern::new("agent-*").matches("agent-10"));
        assert!(Pattern::new("*").matches(""));
        assert!(Pattern::new("a*b*c").matches("aXXbYc"));
        assert!(!Pattern::new("a*b*c").matches("aXXbY"));
        assert!(Pattern::new("master").matches("master"));
        assert!(!Pattern::new("master").matches("master-2"));
    }

    #[test]
    fn nth_drops_exactly_one() {
        let mut b = FaultBook::new(
            Faults { messages: vec![MessageFault::drop("RegisterExecutor").nth(2)], ..Default::default() },
            1,
        );
        let (e, d) = (ActorId::new("executor:etl/0"), ActorId::new("driver:etl"));
        let drops: Vec<bool> = (0..4).map(|_| b.on_send(SimTime::ZERO, &e, &d, &reg()).dropped_by.is_some()).collect();
        assert_eq!(drops, [false, true, false, false]);
        assert_eq!(b.reports()[0].applied, 1);
    }

    #[test]
    fn filters_by_sender_and_time() {
        let f = MessageFault::delay("RegisterExecutor", Duration::from_secs(5))
            .from("executor:etl/*")
            .between(SimTime::from_secs(10), Some(SimTime::from_secs(20)));
        let mut b = FaultBook::new(Faults { messages: vec![f], ..Default::default() }, 1);
        let d = ActorId::new("driver:etl");
        let etl = ActorId::new("executor:etl/0");
        let pi = ActorId::new("executor:pi/0");
        assert_eq!(b.on_send(SimTime::from_secs(5), &etl, &d, &reg()).delay, Duration::ZERO);
        assert_eq!(b.on_send(SimTime::from_secs(15), &pi, &d, &reg()).delay, Duration::ZERO);
        assert_eq!(b.on_send(SimTime::from_secs(15), &etl, &d, &reg()).delay, Duration::from_secs(5));
        assert_eq!(b.on_send(SimTime::from_secs(20), &etl, &d, &reg()).delay, Duration::ZERO);
    }

    #[test]
    fn partitions_cut_one_or_both_ways_until_healed() {
        let p = Partition::between(["agent-2"], ["master"])
            .starting(SimTime::from_secs(30))
            .healing(SimTime::from_secs(90));
        assert!(!p.cuts(SimTime::from_secs(29), "agent-2", "master"));
        assert!(p.cuts(SimTime::from_secs(30), "agent-2", "master"));
        assert!(p.cuts(SimTime::from_secs(60), "master", "agent-2"));
        assert!(!p.cuts(SimTime::from_secs(90), "master", "agent-2"));
        let one = p.clone().one_way();
        assert!(one.cuts(SimTime::from_secs(60), "agent-2", "master"));
        assert!(!one.cuts(SimTime::from_secs(60), "master", "agent-2"));
    }

    #[test]
    fn probability_draws_replay_and_differ_by_seed() {
        let run = |seed| {
            let f = MessageFault::drop("*").with_probability(0.5);
            let mut b = FaultBook::new(Faults { messages: vec![f], ..Default::default() }, seed);
            let (x, y) = (ActorId::new("x"), ActorId::new("y"));
            (0..64).map(|_| b.on_send(SimTime::ZERO, &x, &y, &reg()).dropped_by.is_some()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let dropped = run(7).iter().filter(|d| **d).count();
        assert!((16..=48).contains(&dropped), "p=0.5 dropped {dropped} of 64");
    }
}
