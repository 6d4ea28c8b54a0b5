//! The offer-throughput workload the benches measure.
//!
//! A real master and `agents` real agents run on the world; `frameworks` minimal
//! frameworks subscribe and answer every offer at once: even-numbered offers with
//! an ACCEPT that launches nothing, odd ones with a DECLINE. Either way the master
//! applies the answer (the offer is consumed, the resources recovered behind a
//! filter of max(allocation_interval, refuse_seconds = 0) = 1 s), so every agent
//! is offered again one allocation cycle later. This mirrors Mesos's own
//! `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers`, but end to end through
//! the master's offer book and the scheduler API, over gRPC or in memory.
//!
//! It is a pure throughput row: the world runs without its per-step
//! invariant checks and without a digest (the `spark` workload keeps both).
//! The master runs inside [`TimedMaster`], so each allocation cycle's wall time
//! is recorded; everything else of the run is unchanged by the timing.

use super::{OnProgress, Sample, SorterArg, progress_observer};
use crate::cluster::probe::{CycleTimes, TimedMaster};
use mesocosm_agent::{Agent, AgentConfig};
use mesocosm_master::{Master, MasterConfig, MasterStats};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::{Filters, FrameworkInfo, OfferId};
use mesocosm_sim::proto::scheduler::{self, call, event};
use mesocosm_sim::trace::TraceConfig;
use mesocosm_sim::{
    Actor, ActorId, Input, Latency, Msg, Outbox, Shared, SimTime, Transport, World, WorldConfig, run_world,
};
use std::time::Duration;

/// A framework that answers every offer immediately.
pub struct Answerer {
    me: ActorId,
    master: ActorId,
    framework_id: Option<mesocosm_sim::proto::mesos::v1::FrameworkId>,
    answered: u64,
}

impl Answerer {
    fn call(&self, t: call::Type) -> scheduler::Call {
        scheduler::Call { framework_id: self.framework_id.clone(), r#type: Some(t as i32), ..Default::default() }
    }
}

impl Actor for Answerer {
    type Timer = ();

    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        match input {
            Input::Start => {
                let mut c = self.call(call::Type::Subscribe);
                c.subscribe = Some(call::Subscribe {
                    framework_info: FrameworkInfo {
                        user: "bench".into(),
                        name: self.me.to_string(),
                        ..Default::default()
                    },
                    suppressed_roles: vec![],
                });
                out.send(&self.master, c);
            }
            Input::Message { msg: Msg::SchedulerEvent(e), .. } => match e.r#type() {
                event::Type::Subscribed => self.framework_id = e.subscribed.map(|s| s.framework_id),
                event::Type::Offers => {
                    for offer in e.offers.map(|o| o.offers).unwrap_or_default() {
                        let ids: Vec<OfferId> = vec![offer.id];
                        let filters = Some(Filters { refuse_seconds: Some(0.0) });
                        let c = if self.answered.is_multiple_of(2) {
                            let mut c = self.call(call::Type::Accept);
                            c.accept = Some(call::Accept { offer_ids: ids, operations: vec![], filters });
                            c
                        } else {
                            let mut c = self.call(call::Type::Decline);
                            c.decline = Some(call::Decline { offer_ids: ids, filters });
                            c
                        };
                        self.answered += 1;
                        out.send(&self.master, c);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

/// What one run counted.
#[derive(Clone, Debug)]
pub struct OfferRun {
    pub master: MasterStats,
    pub messages: u64,
}

/// Run the workload for `virtual_secs` of virtual time (DRF, unwatched).
pub fn offer_run(agents: usize, frameworks: usize, transport: Transport, virtual_secs: u64) -> OfferRun {
    offer_run_with(agents, frameworks, SorterArg::Drf, transport, Duration::from_secs(virtual_secs), None, None)
}

/// Run the workload once, timing its allocation cycles.
pub fn run(
    agents: usize,
    frameworks: usize,
    sorter: SorterArg,
    transport: Transport,
    duration: Duration,
    progress: Option<&OnProgress>,
) -> Sample {
    let times = CycleTimes::default();
    let run = offer_run_with(agents, frameworks, sorter, transport, duration, Some(times.clone()), progress.cloned());
    Sample {
        virtual_time: duration,
        offers: run.master.offers_made,
        messages: Some(run.messages),
        cycles: times.times(),
        ..Sample::default()
    }
}

/// [`offer_run`] with every knob: the frameworks' sorter, the virtual
/// duration, cycle timing and progress.
pub fn offer_run_with(
    agents: usize,
    frameworks: usize,
    sorter: SorterArg,
    transport: Transport,
    duration: Duration,
    cycles: Option<CycleTimes>,
    progress: Option<OnProgress>,
) -> OfferRun {
    run_world(|| async move {
        let world = World::new(WorldConfig {
            seed: 1,
            transport,
            latency: Latency::Fixed(Duration::from_micros(200)),
            trace: TraceConfig::default(),
            faults: Default::default(),
            // Throughput is measured without per-step checks; the tests check them.
            check_invariants: false,
            max_steps_per_instant: WorldConfig::MAX_STEPS_PER_INSTANT,
        });
        if let Some(o) = progress_observer(progress) {
            world.observe(o);
        }
        let master_id = ActorId::new("master");
        let master = Shared::new(Master::new(MasterConfig {
            me: master_id.clone(),
            id: "bench-master".into(),
            hostname: "master".into(),
            role_sorter: sorter.choice(),
            framework_sorter: sorter.choice(),
            ..MasterConfig::default()
        }));
        match cycles {
            Some(t) => world.spawn(master_id.clone(), TimedMaster::new(master.clone(), t), None),
            None => world.spawn(master_id.clone(), master.clone(), None),
        }
        let mut res = Resources::scalar_of("cpus", 24.0);
        res.add_scalar("mem", 4096.0);
        res.add_scalar("disk", 4096.0);
        res.add_range("ports", 31000, 32000);
        for i in 0..agents {
            let id = ActorId::new(format!("agent-{i:05}"));
            let cfg = AgentConfig {
                me: id.clone(),
                master: master_id.clone(),
                resources: res.to_protos(),
                attributes: vec![],
                port: 5051,
                registration_delay: Duration::from_micros((i as u64 * 7919) % 1_000_000),
                version: "1.11.0".into(),
                recovered_id: None,
                backoff_seed: 0,
                containers: Default::default(),
                zk: None,
            };
            world.spawn(id, Agent::new(cfg), None);
        }
        for f in 0..frameworks {
            let me = ActorId::new(format!("framework-{f:04}"));
            world.spawn(me.clone(), Answerer { me, master: master_id.clone(), framework_id: None, answered: 0 }, None);
        }
        world.sleep_until(SimTime::from_duration(duration)).await;
        OfferRun { master: master.with(|m| m.stats()), messages: world.with_trace(|t| t.messages()) }
    })
}
