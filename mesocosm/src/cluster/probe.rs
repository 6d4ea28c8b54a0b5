//! Watching a run from outside without changing it: what `mesocosm bench`
//! measures while a cluster runs.
//!
//! A [`Probe`] is handed to [`super::ClusterBuilder::probe`]. It can carry
//!
//! - an *observer*, which the world calls with every message it hands to the
//!   network (the virtual time, sender, receiver and message): a progress bar
//!   counts messages and reads the virtual time there;
//! - [`CycleTimes`], which makes the master run inside [`TimedMaster`]: the
//!   wall time of every master step that runs an allocation cycle is recorded.
//!
//! Neither changes the run: the observer only reads, and `TimedMaster` hands
//! every input to the master unchanged and reads the clock only around the
//! step, so the master's decisions never see it (the digest is the same with
//! and without a probe). The wall clock is read here, in the measuring path,
//! never in a core.
//!
//! The step that is timed is the one Mesos's `DeclineOffers` benchmark times
//! ("allocate() took X to make N offers",
//! `src/tests/hierarchical_allocator_tests.cpp`): the allocator's cycle plus
//! turning its grants into offers.

use mesocosm_master::{Master, Timer};
use mesocosm_sim::world::Observer;
use mesocosm_sim::{Actor, Input, Outbox, Shared};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a run is watched with (nothing, by default).
#[derive(Default)]
pub struct Probe {
    /// Called with every message the world hands to the network.
    pub observer: Option<Observer>,
    /// Where the wall time of each allocation cycle goes.
    pub cycles: Option<CycleTimes>,
}

/// The wall time of each allocation cycle, in the order they ran; a handle
/// shared between the timed master and whoever reads the times.
#[derive(Clone, Debug, Default)]
pub struct CycleTimes(Arc<Mutex<Vec<Duration>>>);

impl CycleTimes {
    /// The times recorded so far.
    pub fn times(&self) -> Vec<Duration> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn push(&self, d: Duration) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(d);
    }
}

/// A master whose allocation cycles are timed: the world runs this in place
/// of the master, and the runner still reads the master through its
/// [`Shared`] handle.
pub struct TimedMaster {
    master: Shared<Master>,
    times: CycleTimes,
}

impl TimedMaster {
    pub fn new(master: Shared<Master>, times: CycleTimes) -> TimedMaster {
        TimedMaster { master, times }
    }
}

impl Actor for TimedMaster {
    type Timer = Timer;

    fn handle(&mut self, input: Input<Timer>, out: &mut Outbox<Timer>) {
        // Mesos runs a cycle on the periodic batch timer and on the coalesced
        // event-triggered one (`HierarchicalAllocatorProcess::triggerAllocation`);
        // only a step that really ran one (the cycle counter moved) is recorded.
        let cycle = matches!(input, Input::Timer(Timer::Allocation | Timer::TriggeredAllocation));
        if !cycle {
            return self.master.handle(input, out);
        }
        let before = self.master.with(|m| m.stats().allocation_cycles);
        let start = Instant::now();
        self.master.handle(input, out);
        let took = start.elapsed();
        if self.master.with(|m| m.stats().allocation_cycles) > before {
            self.times.push(took);
        }
    }

    fn check_invariants(&self) -> Result<(), String> {
        self.master.check_invariants()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesocosm_master::MasterConfig;
    use mesocosm_sim::SimTime;

    #[test]
    fn only_steps_that_run_a_cycle_are_timed() {
        let master = Shared::new(Master::new(MasterConfig::default()));
        let times = CycleTimes::default();
        let mut timed = TimedMaster::new(master.clone(), times.clone());
        timed.step(SimTime::ZERO, Input::Start);
        assert!(times.times().is_empty(), "starting is not a cycle");
        timed.step(SimTime::ZERO.after(Duration::from_secs(1)), Input::Timer(Timer::Allocation));
        assert_eq!(times.times().len() as u64, master.with(|m| m.stats().allocation_cycles));
        assert_eq!(times.times().len(), 1);
    }
}
