//! The allocator's policy is a sorter: DRF by default, Mesos's `random`
//! sorter built in, and a user's own through `SorterChoice::custom`.
//!
//! The books (agents, allocations, filters, suppression) are the same for
//! every sorter; these tests change only the sorter and assert who is offered
//! what, and that the explanation is the sorter's.

mod common;

use common::*;
use mesocosm_master::{Allocator, AllocatorConfig, Grant, IdleReason, MasterConfig, SortClient, Sorter, SorterChoice};
use mesocosm_proto::Resources;
use mesocosm_sim::SimTime;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn res(cpus: f64, mem: f64) -> Resources {
    let mut r = Resources::scalar_of("cpus", cpus);
    r.add_scalar("mem", mem);
    r
}

fn t(s: u64) -> SimTime {
    SimTime::ZERO.after(Duration::from_secs(s))
}

fn one(agent: &str) -> BTreeSet<String> {
    [agent.to_string()].into()
}

fn who(grants: &[Grant]) -> Vec<(&str, &str)> {
    grants.iter().map(|g| (g.agent_id.as_str(), g.framework_id.as_str())).collect()
}

/// Four agents; `big` holds three of them, `small` holds nothing, and S3 is
/// free. Both frameworks are in role `*`.
fn big_and_small(framework_sorter: SorterChoice, seed: u64) -> Allocator {
    let mut a = Allocator::new(AllocatorConfig { framework_sorter, shuffle_seed: seed, ..AllocatorConfig::default() });
    for s in ["S0", "S1", "S2", "S3"] {
        a.add_agent(s, res(4.0, 4096.0));
    }
    a.add_framework("big", "*", true);
    a.add_framework("small", "*", true);
    for s in ["S0", "S1", "S2"] {
        a.allocate_used("big", s, &res(4.0, 4096.0));
    }
    a
}

#[test]
fn drf_always_offers_the_smaller_share_first_and_random_does_not() {
    let mut winners: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for seed in 0..64 {
        for (name, choice) in [("drf", SorterChoice::drf()), ("random", SorterChoice::random())] {
            let mut a = big_and_small(choice, seed);
            let c = a.allocate(t(1), &one("S3"));
            assert_eq!(c.grants.len(), 1, "{name}, seed {seed}: S3 is offered to someone");
            *winners.entry(name).or_default().entry(c.grants[0].framework_id.to_string()).or_default() += 1;
        }
    }
    // DRF (`compareDRF`): `small` (share 0) sorts before `big` (share 0.75)
    // whatever the seed.
    assert_eq!(winners["drf"], [("small".to_string(), 64)].into());
    // Random (`weightedShuffle`): shares do not count; with equal weights
    // each comes first about half the time.
    let random = &winners["random"];
    assert_eq!(random.values().sum::<usize>(), 64);
    assert!(random["big"] >= 20 && random["small"] >= 20, "both win often under random: {random:?}");
}

#[test]
fn a_random_grant_to_the_larger_share_says_why_in_random_terms() {
    let seed = (0..64)
        .find(|&s| big_and_small(SorterChoice::random(), s).allocate(t(1), &one("S3")).grants[0].framework_id == "big")
        .expect("some seed puts big first");
    let mut a = big_and_small(SorterChoice::random(), seed);
    let g = a.allocate(t(1), &one("S3")).grants;
    assert_eq!(who(&g), [("S3", "big")]);
    assert_eq!(g[0].why, "random draw, weight 1 of 2");
    // The role sorter is still DRF, with one role.
    assert_eq!(g[0].role_why, "DRF share 0.75, lowest of 1");
    // The books are the sorter-independent facts: big now holds everything.
    assert_eq!((g[0].share, a.share("big"), a.share("small")), (0.75, 1.0, 0.0));
}

#[test]
fn the_random_sorter_replays_by_seed_and_leaves_the_agent_shuffle_alone() {
    let run = |choice: SorterChoice, seed: u64| {
        let mut a =
            Allocator::new(AllocatorConfig { framework_sorter: choice, shuffle_seed: seed, ..Default::default() });
        for i in 0..8 {
            a.add_agent(&format!("S{i}"), res(4.0, 4096.0));
        }
        for f in ["f0", "f1", "f2"] {
            a.add_framework(f, "*", true);
        }
        let c = a.allocate(t(1), &a.agent_ids());
        (c.order, c.grants.iter().map(|g| g.framework_id.clone()).collect::<Vec<_>>())
    };
    let (order, grants) = run(SorterChoice::random(), 5);
    assert_eq!(run(SorterChoice::random(), 5), (order.clone(), grants.clone()), "same seed, same run");
    // The sorters draw from their own stream: the agents are visited in the
    // same order whatever the sorter.
    let (drf_order, drf_grants) = run(SorterChoice::drf(), 5);
    assert_eq!(order, drf_order);
    // DRF deals the three frameworks round-robin (equal shares, counts, then
    // ids); random does not at this seed.
    assert_eq!(drf_grants, ["f0", "f1", "f2", "f0", "f1", "f2", "f0", "f1"]);
    assert_ne!(grants, drf_grants);
}

#[test]
fn a_random_role_sorter_takes_weights_as_probabilities_not_shares() {
    // Role a (weight 3) holds three agents, role b (weight 1) none; S3 is free.
    let first = |role_sorter: SorterChoice, seed: u64| {
        let weights = [("a".to_string(), 3.0)].into();
        let mut a = Allocator::new(AllocatorConfig { role_sorter, weights, shuffle_seed: seed, ..Default::default() });
        for s in ["S0", "S1", "S2", "S3"] {
            a.add_agent(s, res(4.0, 4096.0));
        }
        a.add_framework("fa", "a", true);
        a.add_framework("fb", "b", true);
        for s in ["S0", "S1", "S2"] {
            a.allocate_used("fa", s, &res(4.0, 4096.0));
        }
        a.allocate(t(1), &one("S3")).grants.remove(0)
    };
    let mut drf = BTreeMap::<String, usize>::new();
    let mut random = BTreeMap::<String, usize>::new();
    for seed in 0..400 {
        *drf.entry(first(SorterChoice::drf(), seed).role.to_string()).or_default() += 1;
        *random.entry(first(SorterChoice::random(), seed).role.to_string()).or_default() += 1;
    }
    // DRF: a's 0.75 ÷ 3 = 0.25 is above b's 0, so b always goes first.
    assert_eq!(drf, [("b".to_string(), 400)].into());
    // Random: a comes first with probability 3 / (3 + 1), its share ignored.
    assert!((260..=340).contains(&random["a"]), "role a first in about 3 of 4 draws: {random:?}");
    let g = (0..400).map(|s| first(SorterChoice::random(), s)).find(|g| g.role == "a").unwrap();
    assert_eq!(g.role_why, "random draw, weight 3 of 4");
}

/// A user's policy: the framework that already holds the most goes first
/// (the opposite of DRF), ties by id.
#[derive(Debug)]
struct LargestShareFirst;

impl Sorter for LargestShareFirst {
    fn name(&self) -> &str {
        "largest-first"
    }
    fn sort(&mut self, clients: &[SortClient<'_>], _rng: &mut dyn rand::Rng) -> Vec<usize> {
        let mut order: Vec<usize> = (0..clients.len()).collect();
        order.sort_by(|&a, &b| clients[b].dominant_share().total_cmp(&clients[a].dominant_share()));
        order
    }
    fn explain(&self, client: &SortClient<'_>, clients: &[SortClient<'_>]) -> String {
        format!("holds {} of the cluster, most of {}", client.dominant_share(), clients.len())
    }
}

#[test]
fn a_custom_sorter_plugs_in_and_changes_the_grants() {
    let choice = SorterChoice::custom("largest-first", || Box::new(LargestShareFirst));
    for seed in 0..8 {
        let mut a = big_and_small(choice.clone(), seed);
        let g = a.allocate(t(1), &one("S3")).grants;
        assert_eq!(who(&g), [("S3", "big")], "seed {seed}");
        assert_eq!(g[0].why, "holds 0.75 of the cluster, most of 2");
    }
    // Refusal filters are the books' business, not the sorter's: once big
    // declines S3, small gets it, and the grant says big was passed over.
    let mut a = big_and_small(choice, 0);
    a.allocate(t(1), &one("S3"));
    a.recover(t(1), "big", "S3", &res(4.0, 4096.0), Some(60.0));
    let g = a.allocate(t(2), &one("S3")).grants;
    assert_eq!(who(&g), [("S3", "small")]);
    assert_eq!(g[0].filtered, ["big"]);
}

#[test]
fn a_custom_sorter_cannot_offer_to_a_suppressed_framework() {
    let mut a = big_and_small(SorterChoice::custom("largest-first", || Box::new(LargestShareFirst)), 0);
    a.suppress("big");
    a.suppress("small");
    let c = a.allocate(t(1), &one("S3"));
    assert!(c.grants.is_empty());
    assert_eq!(c.idle, [("S3".to_string(), IdleReason::Suppressed)].into());
}

/// A broken policy: it forgets its last client.
#[derive(Debug)]
struct Forgetful;

impl Sorter for Forgetful {
    fn name(&self) -> &str {
        "forgetful"
    }
    fn sort(&mut self, clients: &[SortClient<'_>], _rng: &mut dyn rand::Rng) -> Vec<usize> {
        (0..clients.len().saturating_sub(1)).collect()
    }
    fn explain(&self, _client: &SortClient<'_>, _clients: &[SortClient<'_>]) -> String {
        String::new()
    }
}

#[test]
#[should_panic(expected = "sorter `forgetful` returned [0] for 2 clients: not a permutation of 0..2")]
fn a_sorter_that_breaks_the_permutation_contract_is_named() {
    let mut a = big_and_small(SorterChoice::custom("forgetful", || Box::new(Forgetful)), 0);
    a.allocate(t(1), &one("S3"));
}

#[test]
fn the_masters_notes_speak_the_sorters_language() {
    let mut h = Harness::new(MasterConfig { framework_sorter: SorterChoice::random(), ..cfg() });
    h.add_agent("agent-1", 4.0, 8192.0);
    h.subscribe("a");
    h.subscribe("b");
    let notes = notes(&h.settle());
    assert_eq!(notes.len(), 1);
    let note = &notes[0];
    assert!(note.starts_with("allocate agent-1 [cpus:4;mem:8192;ports:[31000-32000]] to "), "{note}");
    assert!(note.ends_with(" (random draw, weight 1 of 2)"), "{note}");
    assert!(!note.contains("DRF"), "{note}");
    assert_eq!(h.master.config().framework_sorter, SorterChoice::random());
}
