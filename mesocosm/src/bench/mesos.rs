//! Mesos's published figures, shown beside a benchmark of the same shape.
//!
//! Mesos publishes no offers-per-second figure; what it publishes is the time
//! of one allocation cycle in its allocator benchmarks, and the NSDI'11
//! paper's scalability run. Each figure below names where it comes from:
//!
//! - `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers`
//!   (`src/tests/hierarchical_allocator_tests.cpp`) is parameterised by
//!   agents {1000, 5000, 10000, 20000, 30000, 50000} × frameworks {1, 50, 100,
//!   200, 500, 1000, 3000, 6000}, index = agents index × 8 + frameworks index:
//!   `/21` is 10,000 × 1,000 and `/22` is 10,000 × 3,000. Its numbers are in
//!   the commit messages that sped it up (optimized builds).
//! - MESOS-4694 measured the same test on Mesos 0.26–0.28 at 2,000 agents.
//! - Hindman et al., "Mesos: A Platform for Fine-Grained Resource Sharing in
//!   the Data Center", NSDI 2011: 50,000 emulated slaves on 99 EC2 nodes.

use super::{BenchConfig, Workload};

/// One published figure, for a shape.
#[derive(Clone, Debug, PartialEq)]
pub struct MesosFigure {
    /// The benchmark and its shape.
    pub what: &'static str,
    /// The figure, in words.
    pub figure: &'static str,
    /// Where it was published.
    pub source: &'static str,
    /// Seconds per allocation cycle, where the figure is one (to set beside ours).
    pub cycle_secs: Option<f64>,
}

const DECLINE_21: MesosFigure = MesosFigure {
    what: "DeclineOffers/21 (10,000 agents × 1,000 frameworks)",
    figure: "1.06 s per allocation cycle making 10,000 offers (Mesos 1.7.1; 3.18–3.40 s before)",
    source: "apache/mesos commit 86653356d (2018-09-21), src/tests/hierarchical_allocator_tests.cpp",
    cycle_secs: Some(1.06),
};

const DECLINE_22: MesosFigure = MesosFigure {
    what: "DeclineOffers/22 (10,000 agents × 3,000 frameworks)",
    figure: "rounds 0–9: 2.41 / 2.47 / 2.78 s per allocation cycle (min / median / max)",
    source: "apache/mesos commit 6abe32f08 (2019-04), src/tests/hierarchical_allocator_tests.cpp",
    cycle_secs: Some(2.47),
};

const MESOS_4694_200: MesosFigure = MesosFigure {
    what: "DeclineOffers, 2,000 agents × 200 frameworks",
    figure: "~2.85–2.92 s per allocation cycle, 200 offers (Mesos 0.26–0.28; fixed in 1.1.0)",
    source: "MESOS-4694 (issues.apache.org/jira/browse/MESOS-4694)",
    cycle_secs: Some(2.9),
};

const MESOS_4694_2000: MesosFigure = MesosFigure {
    what: "DeclineOffers, 2,000 agents × 2,000 frameworks",
    figure: "~28.1–28.5 s per allocation cycle (Mesos 0.26–0.28; fixed in 1.1.0)",
    source: "MESOS-4694 (issues.apache.org/jira/browse/MESOS-4694)",
    cycle_secs: Some(28.3),
};

const NSDI_50K: MesosFigure = MesosFigure {
    what: "NSDI'11 scalability run (50,000 agents, 200 frameworks)",
    figure: "50,000 emulated slaves on 99 EC2 nodes (8 cores, 6 GB each) plus one master node; \
             overhead under 1 s",
    source: "Hindman et al., \"Mesos: A Platform for Fine-Grained Resource Sharing in the Data Center\", NSDI 2011",
    cycle_secs: None,
};

/// The figures whose shape matches `config`: the allocator figures for an
/// allocation benchmark (`decline`, or `offers` with the same agents and
/// frameworks, end to end here), the NSDI'11 run for a cluster of 50,000 agents.
pub fn mesos_figures(config: &BenchConfig) -> Vec<MesosFigure> {
    let mut found = Vec::new();
    if matches!(config.workload, Workload::Decline | Workload::Offers) {
        match (config.agents, config.frameworks) {
            (10_000, 1_000) => found.push(DECLINE_21),
            (10_000, 3_000) => found.push(DECLINE_22),
            (2_000, 200) => found.push(MESOS_4694_200),
            (2_000, 2_000) => found.push(MESOS_4694_2000),
            _ => {}
        }
    }
    if config.workload != Workload::Decline && config.agents == 50_000 {
        found.push(NSDI_50K);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::SorterArg;
    use mesocosm_sim::Transport;
    use std::time::Duration;

    fn config(workload: Workload, agents: usize, frameworks: usize) -> BenchConfig {
        BenchConfig {
            workload,
            agents,
            frameworks,
            apps: 1,
            sorter: SorterArg::Drf,
            transport: Transport::Grpc,
            duration: Duration::from_secs(10),
            runs: 1,
            step_checks: true,
        }
    }

    #[test]
    fn a_figure_is_shown_only_beside_its_own_shape() {
        assert_eq!(mesos_figures(&config(Workload::Decline, 10_000, 1_000)), [DECLINE_21]);
        assert_eq!(mesos_figures(&config(Workload::Decline, 10_000, 3_000)), [DECLINE_22]);
        assert_eq!(mesos_figures(&config(Workload::Offers, 2_000, 200)), [MESOS_4694_200]);
        assert_eq!(mesos_figures(&config(Workload::Spark, 50_000, 10)), [NSDI_50K]);
        assert!(mesos_figures(&config(Workload::Spark, 10_000, 1_000)).is_empty());
        assert!(mesos_figures(&config(Workload::Decline, 50_000, 10)).is_empty());
        assert!(mesos_figures(&config(Workload::Offers, 3, 2)).is_empty());
    }
}
