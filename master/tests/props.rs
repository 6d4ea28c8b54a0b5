//! Random sequences of cluster events against the master's promises:
//! never over-commit an agent, never put a resource in two outstanding offers,
//! offer only to the offer's framework, and honour every refusal filter for its
//! whole duration. Whatever the sorters: the books keep these promises, the
//! sorters only choose the order, so every case runs under DRF or random.

mod common;

use common::*;
use mesocosm_master::{MasterConfig, SorterChoice, Timer};
use mesocosm_proto::{Resources, scheduler, v1};
use mesocosm_sim::{ActorId, Msg, Output, SimTime};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug)]
enum Op {
    AddAgent {
        cpus: u8,
        mem_gb: u8,
    },
    Subscribe,
    /// Accept `pick`-th outstanding offer of framework `fw`, launching a task
    /// with `quarters`/4 of its cpus and mem (and one port if `port`).
    AcceptPart {
        fw: usize,
        pick: usize,
        quarters: u8,
        port: bool,
        refuse: Option<u8>,
    },
    Decline {
        fw: usize,
        pick: usize,
        refuse: Option<u8>,
    },
    Revive {
        fw: usize,
    },
    TaskFinished {
        pick: usize,
    },
    Teardown {
        fw: usize,
    },
    Advance {
        millis: u32,
    },
}

/// `refuse` values index this table (None = no `filters` in the call).
const REFUSE: [f64; 6] = [0.0, 0.5, 3.0, 5.0, 10.0, 120.0];

fn op() -> impl Strategy<Value = Op> {
    let refuse = proptest::option::of(0u8..REFUSE.len() as u8);
    prop_oneof![
        2 => (1u8..=8, 1u8..=16).prop_map(|(cpus, mem_gb)| Op::AddAgent { cpus, mem_gb }),
        1 => Just(Op::Subscribe),
        4 => (0usize..3, 0usize..4, 0u8..=4, any::<bool>(), refuse.clone())
            .prop_map(|(fw, pick, quarters, port, refuse)| Op::AcceptPart { fw, pick, quarters, port, refuse }),
        3 => (0usize..3, 0usize..4, refuse).prop_map(|(fw, pick, refuse)| Op::Decline { fw, pick, refuse }),
        1 => (0usize..3).prop_map(|fw| Op::Revive { fw }),
        2 => (0usize..8).prop_map(|pick| Op::TaskFinished { pick }),
        1 => (0usize..6).prop_map(|fw| Op::Teardown { fw }),
        4 => (1u32..20_000).prop_map(|millis| Op::Advance { millis }),
    ]
}

struct Filter {
    agent: String,
    resources: Resources,
    expires: SimTime,
}

struct Fw {
    id: String,
    actor: String,
    live: bool,
    filters: Vec<Filter>,
}

/// The test's own view, built from what the master sent.
struct Model {
    h: Harness,
    fws: Vec<Fw>,
    /// offer id → (framework index, agent id, resources)
    offers: BTreeMap<String, (usize, String, Resources)>,
    /// task id → (framework index, agent id, agent actor)
    tasks: BTreeMap<String, (usize, String, String)>,
    totals: BTreeMap<String, Resources>,
    agents: usize,
    next_task: u64,
}

impl Model {
    fn new(sorter: SorterChoice) -> Model {
        let cfg = MasterConfig { role_sorter: sorter.clone(), framework_sorter: sorter, ..cfg() };
        Model {
            h: Harness::new(cfg),
            fws: Vec::new(),
            offers: BTreeMap::new(),
            tasks: BTreeMap::new(),
            totals: BTreeMap::new(),
            agents: 0,
            next_task: 0,
        }
    }

    /// The filter the master should install for `refuse` (as a DECLINE/ACCEPT
    /// `Filters.refuse_seconds`, absent = 5 s), computed independently.
    fn filter_secs(refuse: Option<u8>) -> Option<f64> {
        let s = refuse.map_or(5.0, |i| REFUSE[i as usize]);
        if s == 0.0 { None } else { Some(s.max(1.0)) }
    }

    fn add_filter(&mut self, fw: usize, agent: &str, resources: Resources, refuse: Option<u8>) {
        if let Some(s) = Self::filter_secs(refuse) {
            let expires = self.h.now.after(Duration::from_secs_f64(s));
            self.fws[fw].filters.push(Filter { agent: agent.to_string(), resources, expires });
        }
    }

    fn absorb(&mut self, outs: &[Output<Timer>]) -> Result<(), TestCaseError> {
        let now = self.h.now;
        for o in outs {
            let Output::Send { to, msg: Msg::SchedulerEvent(e) } = o else { continue };
            let Some(fw) = self.fws.iter().position(|f| f.actor == to.as_str()) else {
                return Err(TestCaseError::fail(format!("event to unknown actor {to}")));
            };
            if let Some(offers) = &e.offers {
                for offer in &offers.offers {
                    // Offers only to their framework.
                    prop_assert_eq!(&offer.framework_id.value, &self.fws[fw].id);
                    prop_assert!(self.fws[fw].live, "offer to a removed framework");
                    let r = Resources::from_protos(&offer.resources);
                    // Filters honoured for their whole duration.
                    for f in &self.fws[fw].filters {
                        prop_assert!(
                            !(f.agent == offer.agent_id.value && now < f.expires && f.resources.contains(&r)),
                            "{} re-offered [{}] on {} at {} despite a filter until {}",
                            self.fws[fw].id,
                            r,
                            offer.agent_id.value,
                            now,
                            f.expires
                        );
                    }
                    self.offers.insert(offer.id.value.clone(), (fw, offer.agent_id.value.clone(), r));
                }
            }
            if let Some(r) = &e.rescind {
                self.offers.remove(&r.offer_id.value);
            }
            if let Some(u) = &e.update {
                let s = u.status.state();
                prop_assert!(
                    !matches!(s, v1::TaskState::TaskError | v1::TaskState::TaskLost | v1::TaskState::TaskDropped),
                    "valid launches only, yet {:?}: {:?}",
                    s,
                    u.status.message
                );
            }
        }
        // No resource in two outstanding offers, nothing beyond an agent's total.
        let mut per_agent: BTreeMap<&str, Resources> = BTreeMap::new();
        for (id, (_, agent, r)) in &self.offers {
            let acc = per_agent.entry(agent).or_default();
            let free = self.totals[agent].minus(acc);
            prop_assert!(free.contains(r), "offer {} [{}] overlaps another outstanding offer on {}", id, r, agent);
            acc.add(r);
        }
        // The master's own books agree with the model.
        let book: Vec<String> = self.h.master.offers_view().into_iter().map(|o| o.id).collect();
        let mine: Vec<String> = self.offers.keys().cloned().collect();
        prop_assert_eq!(book, mine);
        for a in self.h.master.agents_view() {
            prop_assert!(
                a.total.contains(&a.allocated),
                "{} over-committed: [{}] of [{}]",
                a.hostname,
                a.allocated,
                a.total
            );
            prop_assert!(a.allocated.contains(&a.offered));
        }
        prop_assert!(self.h.master.check_invariants().is_ok(), "{:?}", self.h.master.check_invariants());
        Ok(())
    }

    fn offer_of(&self, fw: usize, pick: usize) -> Option<String> {
        let mine: Vec<&String> = self.offers.iter().filter(|(_, (f, _, _))| *f == fw).map(|(id, _)| id).collect();
        (!mine.is_empty()).then(|| mine[pick % mine.len()].clone())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let outs = match *op {
            Op::AddAgent { cpus, mem_gb } => {
                let name = format!("agent-{}", self.agents);
                self.totals.insert(agent_id(self.agents as u64), agent_resources(cpus as f64, mem_gb as f64 * 1024.0));
                self.agents += 1;
                let mut outs = self.h.add_agent(&name, cpus as f64, mem_gb as f64 * 1024.0);
                outs.extend(self.h.settle());
                outs
            }
            Op::Subscribe => {
                if self.fws.len() >= 3 {
                    return Ok(());
                }
                let name = format!("f{}", self.fws.len());
                let actor = format!("driver:{name}");
                self.fws.push(Fw {
                    id: framework_id(self.fws.len() as u64),
                    actor: actor.clone(),
                    live: true,
                    filters: vec![],
                });
                let mut outs = self.h.msg(&actor, subscribe_call(&name, false));
                outs.extend(self.h.settle());
                outs
            }
            Op::AcceptPart { fw, pick, quarters, port, refuse } => {
                let Some(f) = self.fws.get(fw).filter(|f| f.live) else { return Ok(()) };
                let (fid, actor) = (f.id.clone(), f.actor.clone());
                let Some(oid) = self.offer_of(fw, pick) else { return Ok(()) };
                let (_, agent, offered) = self.offers.remove(&oid).unwrap();
                let q = quarters as f64 / 4.0;
                let mut want = Resources::new();
                want.add_scalar("cpus", (offered.scalar("cpus") * q * 10.0).floor() / 10.0);
                want.add_scalar("mem", (offered.scalar("mem") * q).floor());
                if port && let Some(&(b, _)) = offered.ranges("ports").first() {
                    want.add_range("ports", b, b);
                }
                let tasks = if want.is_empty() {
                    vec![]
                } else {
                    let tid = format!("t{}", self.next_task);
                    self.next_task += 1;
                    let host = format!("agent-{}", agent.rsplit('S').next().unwrap());
                    self.tasks.insert(tid.clone(), (fw, agent.clone(), host));
                    vec![command_task(&tid, &agent, &want)]
                };
                let call = accept(&fid, &[&oid], tasks, refuse.map(|i| REFUSE[i as usize]));
                let outs = self.h.msg(&actor, call);
                let rest = offered.minus(&want);
                if !rest.is_empty() {
                    self.add_filter(fw, &agent, rest, refuse);
                }
                outs
            }
            Op::Decline { fw, pick, refuse } => {
                let Some(f) = self.fws.get(fw).filter(|f| f.live) else { return Ok(()) };
                let (fid, actor) = (f.id.clone(), f.actor.clone());
                let Some(oid) = self.offer_of(fw, pick) else { return Ok(()) };
                let (_, agent, offered) = self.offers.remove(&oid).unwrap();
                let outs = self.h.msg(&actor, decline(&fid, &[&oid], refuse.map(|i| REFUSE[i as usize])));
                prop_assert!(
                    !outs.iter().any(|o| matches!(o, Output::SetTimer { timer: Timer::TriggeredAllocation, .. })),
                    "a decline triggered a cycle"
                );
                self.add_filter(fw, &agent, offered, refuse);
                outs
            }
            Op::Revive { fw } => {
                let Some(f) = self.fws.get_mut(fw).filter(|f| f.live) else { return Ok(()) };
                f.filters.clear();
                let (fid, actor) = (f.id.clone(), f.actor.clone());
                let mut outs = self.h.msg(&actor, call(&fid, scheduler::call::Type::Revive));
                outs.extend(self.h.settle());
                outs
            }
            Op::TaskFinished { pick } => {
                if self.tasks.is_empty() {
                    return Ok(());
                }
                let tid = self.tasks.keys().nth(pick % self.tasks.len()).unwrap().clone();
                let (fw, agent, host) = self.tasks.remove(&tid).unwrap();
                let uuid = [self.next_task as u8; 16];
                self.h.msg(&host, status_update(&self.fws[fw].id, &agent, &tid, v1::TaskState::TaskFinished, &uuid))
            }
            Op::Teardown { fw } => {
                let Some(f) = self.fws.get_mut(fw).filter(|f| f.live) else { return Ok(()) };
                f.live = false;
                f.filters.clear();
                let (fid, actor) = (f.id.clone(), f.actor.clone());
                self.offers.retain(|_, (f, _, _)| *f != fw);
                self.tasks.retain(|_, (f, _, _)| *f != fw);
                let outs = self.h.msg(&actor, call(&fid, scheduler::call::Type::Teardown));
                let closed = Output::Disconnect { peer: ActorId::new(&actor) };
                prop_assert!(outs.contains(&closed), "TEARDOWN closes the stream");
                outs
            }
            Op::Advance { millis } => {
                // Step through every timer so each cycle's offers are checked at its own time.
                let end = self.h.now.after(Duration::from_millis(millis as u64));
                loop {
                    let next = self.h.now.after(Duration::from_millis(250)).min(end);
                    let outs = self.h.advance_to(next);
                    self.absorb(&outs)?;
                    if next == end {
                        break;
                    }
                }
                return Ok(());
            }
        };
        self.absorb(&outs)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn offers_never_overcommit_and_filters_hold(
        ops in proptest::collection::vec(op(), 1..60),
        random in any::<bool>(),
    ) {
        let mut m = Model::new(if random { SorterChoice::random() } else { SorterChoice::drf() });
        for op in &ops {
            m.apply(op)?;
        }
        // Let everything settle for a while more, then check once again.
        m.apply(&Op::Advance { millis: 130_000 })?;
    }
}
