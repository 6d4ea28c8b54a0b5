//! The allocator against a naive reference model, step by step.
//!
//! Random sequences of allocator calls (agents come, go, disconnect; frameworks
//! subscribe in a role, leave, disconnect; grants are accepted in part or
//! declined with every kind of `refuse_seconds`; tasks end; REVIVE, SUPPRESS;
//! time passes; cycles run) drive both the real [`Allocator`] and [`Model`], a
//! deliberately simple re-implementation: it keeps grants, tasks and filters
//! as plain lists, recomputes every share and both sorts from scratch for each
//! agent, and decides each agent's fate from the Mesos rules alone. The
//! allocator's shuffle is the one thing the model does not redo: it walks the
//! agents in the order the real cycle reports ([`Cycle::order`]), after
//! checking that order is a permutation of the right candidates.
//!
//! After every step: no agent is over-committed; no resource is granted twice
//! (outstanding grants and tasks on an agent are disjoint and fit its total);
//! shares, counts and roles agree. After every cycle: each grant is exactly the
//! model's DRF choice (lowest role share ÷ weight, role count, role name, then
//! framework share, count, id, among the active, unsuppressed, unfiltered), no
//! grant is covered by a live filter of its framework, and every candidate
//! agent with free resources is idle for the reason the model gives.

use mesocosm_master::allocator::{AgentId, DEFAULT_WEIGHT, FrameworkId, MAX_REFUSE_SECONDS};
use mesocosm_master::{Allocator, AllocatorConfig, Cycle, Grant, IdleReason};
use mesocosm_proto::Resources;
use mesocosm_sim::SimTime;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

// ----- the operations ---------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    /// Register an agent of `AGENT_SIZES[size]`.
    AddAgent {
        size: u8,
    },
    RemoveAgent {
        pick: usize,
    },
    /// Deactivate an active agent, activate a deactivated one.
    ToggleAgent {
        pick: usize,
    },
    /// Subscribe a framework in `ROLES[role]`.
    Subscribe {
        role: u8,
    },
    RemoveFramework {
        pick: usize,
    },
    /// Deactivate an active framework, activate an inactive one.
    ToggleFramework {
        pick: usize,
    },
    /// Launch a task on `quarters`/4 of an outstanding grant's cpus and mem
    /// (and its first port if `port`); recover the rest with `REFUSE[refuse]`.
    Accept {
        pick: usize,
        quarters: u8,
        port: bool,
        refuse: u8,
    },
    /// Recover a whole outstanding grant with `REFUSE[refuse]`.
    Decline {
        pick: usize,
        refuse: u8,
    },
    Revive {
        pick: usize,
    },
    Suppress {
        pick: usize,
    },
    /// A task ends: its resources are recovered without a filter.
    TaskEnd {
        pick: usize,
    },
    Advance {
        millis: u32,
    },
    /// Jump to the expiry of a filter still in force (one that covers its
    /// agent's free resources, if any does), or to 1 µs before it, and run a
    /// full cycle there: the filter's last instant, or its first without.
    AdvanceToExpiry {
        pick: usize,
        early: bool,
    },
    /// A cycle of every agent, or of one agent ever added (maybe removed since).
    Cycle {
        all: bool,
        pick: usize,
    },
}

/// (cpus, mem, ports?) of the agents; the third is below `cpus:0.01|mem:32`.
const AGENT_SIZES: [(f64, f64, bool); 5] =
    [(4.0, 4096.0, true), (1.0, 1024.0, true), (0.005, 16.0, false), (8.0, 512.0, false), (2.0, 0.0, true)];
const ROLES: [&str; 3] = ["*", "a", "b"];
/// `Filters.refuse_seconds` values: none, shorter than the interval, ordinary,
/// negative and NaN (→ 5 s), exactly and beyond 365 days (→ 365 days).
const REFUSE: [f64; 10] = [0.0, 0.3, 1.0, 2.5, 5.0, 120.0, -1.0, f64::NAN, MAX_REFUSE_SECONDS, 1e9];
const MAX_FRAMEWORKS: usize = 5;

fn op() -> impl Strategy<Value = Op> {
    let refuse = 0u8..REFUSE.len() as u8;
    prop_oneof![
        3 => (0u8..AGENT_SIZES.len() as u8).prop_map(|size| Op::AddAgent { size }),
        1 => any::<usize>().prop_map(|pick| Op::RemoveAgent { pick }),
        1 => any::<usize>().prop_map(|pick| Op::ToggleAgent { pick }),
        2 => (0u8..ROLES.len() as u8).prop_map(|role| Op::Subscribe { role }),
        1 => any::<usize>().prop_map(|pick| Op::RemoveFramework { pick }),
        1 => any::<usize>().prop_map(|pick| Op::ToggleFramework { pick }),
        3 => (any::<usize>(), 0u8..=4, any::<bool>(), refuse.clone())
            .prop_map(|(pick, quarters, port, refuse)| Op::Accept { pick, quarters, port, refuse }),
        5 => (any::<usize>(), refuse).prop_map(|(pick, refuse)| Op::Decline { pick, refuse }),
        1 => any::<usize>().prop_map(|pick| Op::Revive { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Suppress { pick }),
        2 => any::<usize>().prop_map(|pick| Op::TaskEnd { pick }),
        2 => prop_oneof![0u32..1500, Just(5_000), Just(120_000)].prop_map(|millis| Op::Advance { millis }),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(pick, early)| Op::AdvanceToExpiry { pick, early }),
        8 => (any::<bool>(), any::<usize>()).prop_map(|(all, pick)| Op::Cycle { all, pick }),
    ]
}

/// The allocator's flags (`--weights`, `--min_allocatable_resources`, the
/// shuffle seed) and the agents and frameworks there from the start.
#[derive(Clone, Debug)]
struct Setup {
    weights: u8,
    mins: u8,
    seed: u64,
    agents: Vec<u8>,
    frameworks: Vec<u8>,
}

fn setup() -> impl Strategy<Value = Setup> {
    let agents = proptest::collection::vec(0u8..AGENT_SIZES.len() as u8, 0..5);
    let frameworks = proptest::collection::vec(0u8..ROLES.len() as u8, 0..4);
    (0u8..3, 0u8..4, any::<u64>(), agents, frameworks).prop_map(|(weights, mins, seed, agents, frameworks)| Setup {
        weights,
        mins,
        seed,
        agents,
        frameworks,
    })
}

fn scalars(pairs: &[(&str, f64)]) -> Resources {
    let mut r = Resources::new();
    for &(name, v) in pairs {
        r.add_scalar(name, v);
    }
    r
}

impl Setup {
    fn config(&self) -> AllocatorConfig {
        let weights: &[(&str, f64)] = match self.weights {
            0 => &[],
            1 => &[("a", 2.0)],
            _ => &[("a", 2.0), ("b", 0.5), ("*", 3.0)],
        };
        let mins = match self.mins {
            0 => vec![scalars(&[("cpus", 0.01)]), scalars(&[("mem", 32.0)])],
            1 => vec![scalars(&[("cpus", 1.0), ("mem", 1024.0)])],
            2 => vec![],
            _ => vec![scalars(&[("mem", 2048.0)]), scalars(&[("cpus", 2.0)])],
        };
        AllocatorConfig {
            allocation_interval: Duration::from_secs(1),
            min_allocatable_resources: mins,
            weights: weights.iter().map(|(r, w)| (r.to_string(), *w)).collect(),
            shuffle_seed: self.seed,
            filter_gpu_resources: true,
            // The model is DRF's: lowest role share ÷ weight first.
            ..AllocatorConfig::default()
        }
    }
}

// ----- the model --------------------------------------------------------------------

struct Agent {
    total: Resources,
    active: bool,
}

struct Framework {
    role: String,
    active: bool,
    suppressed: bool,
    /// Grants so far.
    count: u64,
}

/// Resources a framework holds on an agent: an outstanding grant or a task.
#[derive(Clone, Debug)]
struct Held {
    fw: FrameworkId,
    agent: AgentId,
    res: Resources,
}

#[derive(Debug)]
struct Filter {
    fw: FrameworkId,
    agent: AgentId,
    res: Resources,
    expires: SimTime,
}

struct Model {
    cfg: AllocatorConfig,
    now: SimTime,
    agents: BTreeMap<AgentId, Agent>,
    /// Every agent id ever added, removed ones too.
    ever: Vec<AgentId>,
    frameworks: BTreeMap<FrameworkId, Framework>,
    next_framework: u64,
    /// Role allocation counts, for roles that have a framework.
    role_counts: BTreeMap<String, u64>,
    outstanding: Vec<Held>,
    tasks: Vec<Held>,
    filters: Vec<Filter>,
}

/// A check: `Err` fails the case with what did not hold.
type Check = Result<(), TestCaseError>;

impl Model {
    fn new(cfg: AllocatorConfig) -> Model {
        Model {
            cfg,
            now: SimTime::ZERO,
            agents: BTreeMap::new(),
            ever: Vec::new(),
            frameworks: BTreeMap::new(),
            next_framework: 0,
            role_counts: BTreeMap::new(),
            outstanding: Vec::new(),
            tasks: Vec::new(),
            filters: Vec::new(),
        }
    }

    fn held(&self) -> impl Iterator<Item = &Held> {
        self.outstanding.iter().chain(&self.tasks)
    }

    fn allocated(&self, agent: &str) -> Resources {
        let mut r = Resources::new();
        for h in self.held().filter(|h| h.agent == agent) {
            r.add(&h.res);
        }
        r
    }

    fn available(&self, agent: &str) -> Resources {
        self.agents[agent].total.minus(&self.allocated(agent))
    }

    fn cluster_total(&self) -> Resources {
        let mut t = Resources::new();
        for a in self.agents.values() {
            for (name, v) in a.total.scalars() {
                t.add_scalar(name, v);
            }
        }
        t
    }

    /// The largest fraction of any scalar in the cluster that `fws` hold together.
    fn share_of(&self, fws: &BTreeSet<&str>) -> f64 {
        let mut sum = Resources::new();
        for h in self.held().filter(|h| fws.contains(h.fw.as_str())) {
            for (name, v) in h.res.scalars() {
                sum.add_scalar(name, v);
            }
        }
        let mut share: f64 = 0.0;
        for (name, total) in self.cluster_total().scalars() {
            if total > 0.0 {
                share = share.max(sum.scalar(name) / total);
            }
        }
        share
    }

    fn fw_share(&self, fw: &str) -> f64 {
        self.share_of(&[fw].into())
    }

    fn weight(&self, role: &str) -> f64 {
        self.cfg.weights.get(role).copied().unwrap_or(DEFAULT_WEIGHT)
    }

    fn role_share(&self, role: &str) -> f64 {
        let members: BTreeSet<&str> =
            self.frameworks.iter().filter(|(_, f)| f.role == role).map(|(id, _)| id.as_str()).collect();
        self.share_of(&members) / self.weight(role)
    }

    /// `Filters.refuse_seconds` → the expiry Mesos gives the filter, if any:
    /// now + max(allocation_interval, refuse clamped to [0, 365 days], with
    /// negative and NaN meaning 5 s); 0 installs none.
    fn expiry(&self, refuse: f64) -> Option<SimTime> {
        let secs = if refuse.is_nan() || refuse < 0.0 { 5.0 } else { refuse.min(365.0 * 86_400.0) };
        (secs != 0.0).then(|| self.now.after(Duration::from_secs_f64(secs).max(self.cfg.allocation_interval)))
    }

    fn filtered(&self, fw: &str, agent: &str, available: &Resources) -> bool {
        self.filters.iter().any(|f| f.fw == fw && f.agent == agent && self.now < f.expires && f.res.contains(available))
    }

    fn allocatable(&self, r: &Resources) -> bool {
        let mins = &self.cfg.min_allocatable_resources;
        mins.is_empty() || mins.iter().any(|m| m.scalars().all(|(name, v)| r.scalar(name) >= v))
    }

    /// What the cycle over `candidates` must do, walking the agents in `order`.
    fn cycle(&mut self, candidates: &BTreeSet<AgentId>, order: &[AgentId]) -> Result<Cycle, TestCaseError> {
        let want: BTreeSet<&AgentId> =
            candidates.iter().filter(|a| self.agents.get(*a).is_some_and(|a| a.active)).collect();
        let got: BTreeSet<&AgentId> = order.iter().collect();
        prop_assert_eq!(order.len(), got.len(), "an agent visited twice: {:?}", order);
        prop_assert_eq!(got, want, "the cycle visited other agents than its active candidates");

        let mut idle = BTreeMap::new();
        for a in candidates {
            if self.agents.get(a).is_some_and(|x| !x.active) && !self.available(a).is_empty() {
                idle.insert(a.clone(), IdleReason::AgentDeactivated);
            }
        }
        let eligible: Vec<FrameworkId> =
            self.frameworks.iter().filter(|(_, f)| f.active && !f.suppressed).map(|(id, _)| id.clone()).collect();
        let mut grants = Vec::new();
        for agent in order {
            let available = self.available(agent);
            if available.is_empty() {
                continue;
            }
            if eligible.is_empty() {
                let any_active = self.frameworks.values().any(|f| f.active);
                let why = if any_active { IdleReason::Suppressed } else { IdleReason::NoActiveFramework };
                idle.insert(agent.clone(), why);
                continue;
            }
            if !self.allocatable(&available) {
                idle.insert(agent.clone(), IdleReason::BelowMinAllocatable);
                continue;
            }
            // Both sorts, from scratch: role key, then framework key.
            let mut sorted: Vec<(f64, u64, String, f64, u64, FrameworkId)> = eligible
                .iter()
                .map(|id| {
                    let f = &self.frameworks[id];
                    (
                        self.role_share(&f.role),
                        self.role_counts[&f.role],
                        f.role.clone(),
                        self.fw_share(id),
                        f.count,
                        id.clone(),
                    )
                })
                .collect();
            sorted.sort_by(|x, y| {
                x.0.total_cmp(&y.0)
                    .then(x.1.cmp(&y.1))
                    .then_with(|| x.2.cmp(&y.2))
                    .then(x.3.total_cmp(&y.3))
                    .then(x.4.cmp(&y.4))
                    .then_with(|| x.5.cmp(&y.5))
            });
            let mut passed = Vec::new();
            let mut chosen = None;
            for key in sorted {
                if self.filtered(&key.5, agent, &available) {
                    passed.push(key.5.as_str().into());
                } else {
                    chosen = Some(key);
                    break;
                }
            }
            let Some((role_share, _, role, share, _, fw)) = chosen else {
                idle.insert(agent.clone(), IdleReason::Filtered(passed));
                continue;
            };
            self.outstanding.push(Held { fw: fw.clone(), agent: agent.clone(), res: available.clone() });
            self.frameworks.get_mut(&fw).unwrap().count += 1;
            *self.role_counts.get_mut(&role).unwrap() += 1;
            grants.push(Grant {
                framework_id: fw.into(),
                role: role.into(),
                agent_id: agent.as_str().into(),
                resources: available,
                share,
                role_share,
                contenders: eligible.len(),
                filtered: passed,
                // The sorters' wording is not the model's business (the
                // allocator's own tests pin it); `run_cycle` blanks it.
                role_why: String::new(),
                why: String::new(),
            });
        }
        Ok(Cycle { order: order.iter().map(|a| a.as_str().into()).collect(), grants, idle })
    }
}

// ----- driving both -----------------------------------------------------------------

struct Run {
    real: Allocator,
    model: Model,
    next_agent: u64,
}

fn pick<T>(items: &[T], pick: usize) -> Option<&T> {
    (!items.is_empty()).then(|| &items[pick % items.len()])
}

fn same(a: &Resources, b: &Resources) -> bool {
    a.contains(b) && b.contains(a)
}

impl Run {
    fn new(s: &Setup) -> Run {
        Run { real: Allocator::new(s.config()), model: Model::new(s.config()), next_agent: 0 }
    }

    fn framework_ids(&self) -> Vec<FrameworkId> {
        self.model.frameworks.keys().cloned().collect()
    }

    fn agent_ids(&self) -> Vec<AgentId> {
        self.model.agents.keys().cloned().collect()
    }

    fn run_cycle(&mut self, candidates: BTreeSet<AgentId>) -> Check {
        let now = self.model.now;
        let got = self.real.allocate(now, &candidates);
        let order: Vec<AgentId> = got.order.iter().map(|a| a.to_string()).collect();
        let want = self.model.cycle(&candidates, &order)?;
        for (i, (g, w)) in got.grants.iter().zip(&want.grants).enumerate() {
            let g = Grant { role_why: String::new(), why: String::new(), ..g.clone() };
            prop_assert_eq!(&g, w, "grant {} of the cycle at {}", i, now);
        }
        prop_assert_eq!(got.grants.len(), want.grants.len(), "grants at {}: {:?}", now, got.grants);
        prop_assert_eq!(&got.idle, &want.idle, "idle agents at {}", now);
        for g in &got.grants {
            let live = self.model.filters.iter().find(|f| {
                f.fw == g.framework_id && f.agent == g.agent_id && now < f.expires && f.res.contains(&g.resources)
            });
            prop_assert!(live.is_none(), "{:?} granted despite {:?}", g, live);
        }
        // Every candidate's resources: granted (so nothing is free now), all
        // offered or used, or idle for a stated reason.
        for a in candidates.iter().filter(|a| self.model.agents.contains_key(*a)) {
            let free = !self.model.available(a).is_empty();
            prop_assert_eq!(free, got.idle.contains_key(a), "{}: free resources if and only if an idle reason", a);
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Check {
        let now = self.model.now;
        match *op {
            Op::AddAgent { size } => {
                let (cpus, mem, ports) = AGENT_SIZES[size as usize];
                let mut total = scalars(&[("cpus", cpus), ("mem", mem)]);
                if ports {
                    total.add_range("ports", 31000, 31009);
                }
                let id = format!("S{}", self.next_agent);
                self.next_agent += 1;
                self.real.add_agent(&id, total.clone());
                self.model.agents.insert(id.clone(), Agent { total, active: true });
                self.model.ever.push(id);
            }
            Op::RemoveAgent { pick: p } => {
                let Some(id) = pick(&self.agent_ids(), p).cloned() else { return Ok(()) };
                self.real.remove_agent(&id);
                let m = &mut self.model;
                m.agents.remove(&id);
                m.outstanding.retain(|h| h.agent != id);
                m.tasks.retain(|h| h.agent != id);
                m.filters.retain(|f| f.agent != id);
            }
            Op::ToggleAgent { pick: p } => {
                let Some(id) = pick(&self.agent_ids(), p).cloned() else { return Ok(()) };
                let a = self.model.agents.get_mut(&id).unwrap();
                a.active = !a.active;
                if a.active { self.real.activate_agent(&id) } else { self.real.deactivate_agent(&id) }
            }
            Op::Subscribe { role } => {
                if self.model.frameworks.len() >= MAX_FRAMEWORKS {
                    return Ok(());
                }
                let role = ROLES[role as usize].to_string();
                let id = format!("f{}", self.model.next_framework);
                self.model.next_framework += 1;
                self.real.add_framework(&id, &role, true);
                self.model.role_counts.entry(role.clone()).or_insert(0);
                self.model.frameworks.insert(id, Framework { role, active: true, suppressed: false, count: 0 });
            }
            Op::RemoveFramework { pick: p } => {
                let Some(id) = pick(&self.framework_ids(), p).cloned() else { return Ok(()) };
                self.real.remove_framework(&id);
                let m = &mut self.model;
                let f = m.frameworks.remove(&id).unwrap();
                m.outstanding.retain(|h| h.fw != id);
                m.tasks.retain(|h| h.fw != id);
                m.filters.retain(|x| x.fw != id);
                if !m.frameworks.values().any(|x| x.role == f.role) {
                    m.role_counts.remove(&f.role);
                }
            }
            Op::ToggleFramework { pick: p } => {
                let Some(id) = pick(&self.framework_ids(), p).cloned() else { return Ok(()) };
                let f = self.model.frameworks.get_mut(&id).unwrap();
                f.active = !f.active;
                if f.active {
                    self.real.activate_framework(&id)
                } else {
                    // `deactivateFramework` clears the framework's offer filters.
                    self.model.filters.retain(|x| x.fw != id);
                    self.real.deactivate_framework(&id)
                }
            }
            Op::Accept { pick, quarters, port, refuse } => {
                if self.model.outstanding.is_empty() {
                    return Ok(());
                }
                let g = self.model.outstanding.remove(pick % self.model.outstanding.len());
                let part =
                    |name: &str| ((g.res.scalar(name) * 1000.0).round() as i64 * quarters as i64 / 4) as f64 / 1000.0;
                let mut used = scalars(&[("cpus", part("cpus")), ("mem", part("mem"))]);
                if port && let Some(&(b, _)) = g.res.ranges("ports").first() {
                    used.add_range("ports", b, b);
                }
                prop_assert!(g.res.contains(&used));
                let rest = g.res.minus(&used);
                if !used.is_empty() {
                    self.model.tasks.push(Held { res: used, ..g.clone() });
                }
                if !rest.is_empty() {
                    self.recover_with_filter(&g.fw, &g.agent, rest, REFUSE[refuse as usize])?;
                }
            }
            Op::Decline { pick, refuse } => {
                if self.model.outstanding.is_empty() {
                    return Ok(());
                }
                let g = self.model.outstanding.remove(pick % self.model.outstanding.len());
                self.recover_with_filter(&g.fw, &g.agent, g.res, REFUSE[refuse as usize])?;
            }
            Op::Revive { pick: p } => {
                let Some(id) = pick(&self.framework_ids(), p).cloned() else { return Ok(()) };
                self.real.revive(&id);
                self.model.frameworks.get_mut(&id).unwrap().suppressed = false;
                self.model.filters.retain(|f| f.fw != id);
            }
            Op::Suppress { pick: p } => {
                let Some(id) = pick(&self.framework_ids(), p).cloned() else { return Ok(()) };
                self.real.suppress(&id);
                self.model.frameworks.get_mut(&id).unwrap().suppressed = true;
            }
            Op::TaskEnd { pick } => {
                if self.model.tasks.is_empty() {
                    return Ok(());
                }
                let t = self.model.tasks.remove(pick % self.model.tasks.len());
                let until = self.real.recover(now, &t.fw, &t.agent, &t.res, None);
                prop_assert_eq!(until, None, "a task's end installs no filter");
            }
            Op::Advance { millis } => self.model.now = now.after(Duration::from_millis(millis as u64)),
            Op::AdvanceToExpiry { pick, early } => {
                // A filter still in force, preferably one that covers what
                // its agent has free, so the cycle lands on its boundary.
                let live: Vec<&Filter> = self.model.filters.iter().filter(|f| f.expires > now).collect();
                let covering: Vec<&Filter> = live
                    .iter()
                    .copied()
                    .filter(|f| {
                        let free = self.model.available(&f.agent);
                        !free.is_empty() && f.res.contains(&free)
                    })
                    .collect();
                let Some(f) = self::pick(if covering.is_empty() { &live } else { &covering }, pick) else {
                    return Ok(());
                };
                let at = if early { SimTime(f.expires.0 - 1) } else { f.expires };
                self.model.now = at.max(now);
                let all = self.model.agents.keys().cloned().collect();
                self.run_cycle(all)?;
            }
            Op::Cycle { all, pick } => {
                let candidates = if all {
                    self.model.agents.keys().cloned().collect()
                } else {
                    self::pick(&self.model.ever, pick).cloned().into_iter().collect()
                };
                self.run_cycle(candidates)?;
            }
        }
        self.check()
    }

    /// Recover `res` with a refusal filter, as DECLINE and ACCEPT do.
    fn recover_with_filter(&mut self, fw: &str, agent: &str, res: Resources, refuse: f64) -> Check {
        let until = self.real.recover(self.model.now, fw, agent, &res, Some(refuse));
        let want = self.model.expiry(refuse);
        prop_assert_eq!(until, want, "filter of refuse_seconds={} at {}", refuse, self.model.now);
        if let Some(expires) = want {
            self.model.filters.push(Filter { fw: fw.to_string(), agent: agent.to_string(), res, expires });
        }
        Ok(())
    }

    /// The invariants that hold between any two steps.
    fn check(&self) -> Check {
        let (real, m) = (&self.real, &self.model);
        let ids: BTreeSet<AgentId> = m.agents.keys().cloned().collect();
        prop_assert_eq!(real.agent_ids(), ids);
        for (id, a) in &m.agents {
            let slot = real.agent(id).unwrap();
            prop_assert!(same(&slot.total, &a.total));
            prop_assert_eq!(slot.deactivated, !a.active);
            // Never over-committed, per scalar and per range.
            prop_assert!(
                slot.total.contains(&slot.allocated),
                "{} over-committed: [{}] of [{}]",
                id,
                slot.allocated,
                slot.total
            );
            for (name, v) in slot.allocated.scalars() {
                prop_assert!(v <= slot.total.scalar(name), "{}: {} {} of {}", id, name, v, slot.total.scalar(name));
            }
            // Never granted twice: the grants and tasks on the agent are
            // disjoint and fit its total, and they are what the allocator holds.
            let mut acc = Resources::new();
            for h in m.held().filter(|h| h.agent == *id) {
                prop_assert!(a.total.minus(&acc).contains(&h.res), "[{}] on {} overlaps [{}]", h.res, id, acc);
                acc.add(&h.res);
            }
            prop_assert!(
                same(&slot.allocated, &acc),
                "{}: allocator [{}], grants + tasks [{}]",
                id,
                slot.allocated,
                acc
            );
        }
        for (id, f) in &m.frameworks {
            prop_assert_eq!(real.role(id), Some(f.role.as_str()));
            prop_assert_eq!(real.allocation_count(id), f.count, "count of {}", id);
            prop_assert_eq!(real.is_suppressed(id), f.suppressed);
            prop_assert_eq!(real.share(id), m.fw_share(id), "share of {}", id);
        }
        let roles: Vec<&String> = real.roles().collect();
        prop_assert_eq!(roles, m.role_counts.keys().collect::<Vec<_>>());
        for (role, count) in &m.role_counts {
            prop_assert_eq!(real.role_allocation_count(role), *count, "count of role {}", role);
            prop_assert_eq!(real.role_share(role), m.role_share(role), "share of role {}", role);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn allocator_matches_the_reference_model(s in setup(), ops in proptest::collection::vec(op(), 1..40)) {
        let mut run = Run::new(&s);
        for &size in &s.agents {
            run.apply(&Op::AddAgent { size })?;
        }
        for &role in &s.frameworks {
            run.apply(&Op::Subscribe { role })?;
        }
        run.apply(&Op::Cycle { all: true, pick: 0 })?;
        for op in &ops {
            run.apply(op)?;
        }
        // A last full cycle, once the filters that are short have run out.
        run.apply(&Op::Advance { millis: 10_000 })?;
        run.apply(&Op::Cycle { all: true, pick: 0 })?;
    }
}
