//! The allocator alone, in the shape of Mesos's `DeclineOffers` benchmark.
//!
//! `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers`
//! (`src/tests/hierarchical_allocator_tests.cpp`) adds N agents of
//! `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, charges
//! `cpus:16;mem:2014;disk:1024` and 16 ports of each to the frameworks round
//! robin, and then runs allocation rounds in which every framework declines
//! every offer with `refuse_seconds = INT_MAX`. Filters pile up: after round
//! `r` every agent carries `r + 1` filters, and a cycle has to pass over them to
//! find a framework that has not refused the agent yet. Mesos's `/21` is
//! 10,000 agents × 1,000 frameworks, `/22` is 10,000 × 3,000.
//!
//! [`DeclineOffers`] drives [`Allocator`] directly (no master, no messages), as
//! the Mesos benchmark drives `HierarchicalAllocatorProcess`. [`run`] times
//! each round's cycle (wall and CPU), as the Mesos test prints
//! "round i allocate() took X to make N offers"; the decline after it is not
//! timed, as Mesos's is not.

use super::measure::thread_cpu;
use super::{OnProgress, Sample, SorterArg, Status};
use mesocosm_master::allocator::MAX_REFUSE_SECONDS;
use mesocosm_master::{Allocator, AllocatorConfig, Cycle};
use mesocosm_sim::SimTime;
use mesocosm_sim::proto::Resources;
use std::time::{Duration, Instant};

/// The workload: an allocator, its agents, and the virtual clock.
pub struct DeclineOffers {
    /// The allocator under test.
    pub alloc: Allocator,
    /// The last round's cycle, which the next round's refills (see
    /// [`Allocator::allocate_all_into`]).
    last: Cycle,
    now: SimTime,
    /// Refusal filters installed so far (none expire: `refuse_seconds` is capped at 365 days).
    pub live_filters: u64,
}

impl DeclineOffers {
    /// `agents` agents and `frameworks` frameworks, all in role `*`, with the
    /// benchmark's resources already charged round robin.
    pub fn new(agents: usize, frameworks: usize) -> DeclineOffers {
        DeclineOffers::with_sorter(agents, frameworks, SorterArg::Drf)
    }

    /// [`DeclineOffers::new`] with the frameworks ordered by `sorter`
    /// (Mesos's `--framework_sorter`; the benchmark itself uses DRF).
    pub fn with_sorter(agents: usize, frameworks: usize, sorter: SorterArg) -> DeclineOffers {
        let config = AllocatorConfig { framework_sorter: sorter.choice(), ..AllocatorConfig::default() };
        let mut alloc = Allocator::new(config);
        // Nobody reads explanations here, as in a run without `--explain`
        // (Mesos's benchmark formats none either).
        alloc.set_explain(false);
        let framework_ids: Vec<String> = (0..frameworks).map(|f| format!("bench-{f:04}")).collect();
        for id in &framework_ids {
            alloc.add_framework(id, "*", true);
        }
        let mut total = Resources::scalar_of("cpus", 24.0);
        total.add_scalar("mem", 4096.0);
        total.add_scalar("disk", 4096.0);
        total.add_range("ports", 31000, 32000);
        let mut used = Resources::scalar_of("cpus", 16.0);
        used.add_scalar("mem", 2014.0);
        used.add_scalar("disk", 1024.0);
        used.add_range("ports", 31000, 31015);
        for a in 0..agents {
            let id = format!("bench-S{a}");
            alloc.add_agent(&id, total.clone());
            if !framework_ids.is_empty() {
                alloc.allocate_used(&framework_ids[a % frameworks], &id, &used);
            }
        }
        DeclineOffers { alloc, last: Cycle::default(), now: SimTime::ZERO, live_filters: 0 }
    }

    /// One round's allocation cycle over every agent, one allocation interval
    /// after the last: the part the benchmark times. Every agent is a
    /// candidate, as in the master's periodic cycle (Mesos's benchmark
    /// advances the clock to the batch allocation over every agent). The
    /// cycle is written over the last round's, as the master writes each
    /// cycle over its last, so its lists are not allocated afresh.
    pub fn cycle(&mut self) -> &Cycle {
        self.now = self.now.after(Duration::from_secs(1));
        self.alloc.allocate_all_into(self.now, &mut self.last);
        &self.last
    }

    /// Every framework declines what the last [`DeclineOffers::cycle`]
    /// offered it, refusing it for as long as Mesos allows
    /// (`refuse_seconds = INT_MAX`, capped at 365 days).
    pub fn decline(&mut self) {
        for g in &self.last.grants {
            let refuse = MAX_REFUSE_SECONDS * 2.0;
            if self.alloc.recover(self.now, &g.framework_id, &g.agent_id, &g.resources, Some(refuse)).is_some() {
                self.live_filters += 1;
            }
        }
    }

    /// `rounds` rounds of cycle and decline, untimed (to reach a later round).
    pub fn advance(&mut self, rounds: usize) {
        for _ in 0..rounds {
            self.cycle();
            self.decline();
        }
    }
}

/// Run `rounds` rounds, timing each cycle; one allocation interval (1 s) of
/// virtual time per round.
pub fn run(agents: usize, frameworks: usize, sorter: SorterArg, rounds: u64, progress: Option<&OnProgress>) -> Sample {
    let start = Instant::now();
    let mut w = DeclineOffers::with_sorter(agents, frameworks, sorter);
    let setup = start.elapsed();
    let (mut cycles, mut cycles_cpu, mut offers) = (Vec::new(), Vec::new(), 0u64);
    let mut last_report = Instant::now();
    for round in 0..rounds {
        let (t0, c0) = (Instant::now(), thread_cpu());
        let cycle = w.cycle();
        let (took, c1) = (t0.elapsed(), thread_cpu());
        cycles.push(took);
        if let (Some(c0), Some(c1)) = (c0, c1) {
            cycles_cpu.push(c1.saturating_sub(c0));
        }
        offers += cycle.grants.len() as u64;
        w.decline();
        if let Some(p) = progress
            && (last_report.elapsed() >= super::PROGRESS_EVERY || round + 1 == rounds)
        {
            last_report = Instant::now();
            p(&Status { virtual_time: Duration::from_secs(round + 1), messages: 0, wall: start.elapsed() });
        }
    }
    Sample {
        setup: Some(setup),
        virtual_time: Duration::from_secs(rounds),
        offers,
        messages: None,
        cycles,
        cycles_cpu,
        live_filters: Some(w.live_filters),
        ..Sample::default()
    }
}
