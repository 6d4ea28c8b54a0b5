//! The allocator with the default DRF sorters: exact grants, cycle by cycle.

use super::*;
use mesocosm_sim::SimTime;
use std::collections::BTreeSet;
use std::time::Duration;

fn res(cpus: f64, mem: f64) -> Resources {
    let mut r = Resources::scalar_of("cpus", cpus);
    r.add_scalar("mem", mem);
    r
}

fn set(ids: &[&str]) -> BTreeSet<AgentId> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn t(secs: u64) -> SimTime {
    SimTime::ZERO.after(Duration::from_secs(secs))
}

fn who(grants: &[Grant]) -> Vec<(&str, &str)> {
    grants.iter().map(|g| (g.agent_id.as_str(), g.framework_id.as_str())).collect()
}

/// The grantees in grant order.
fn winners(grants: &[Grant]) -> Vec<&str> {
    grants.iter().map(|g| g.framework_id.as_str()).collect()
}

/// The agents of the grants, which must be the cycle's visiting order
/// when every agent is granted.
fn granted_agents(c: &Cycle) -> Vec<&str> {
    c.grants.iter().map(|g| g.agent_id.as_str()).collect()
}

fn with_weights(weights: &[(&str, f64)]) -> Allocator {
    Allocator::new(AllocatorConfig {
        weights: weights.iter().map(|(r, w)| (r.to_string(), *w)).collect(),
        ..AllocatorConfig::default()
    })
}

#[test]
fn whole_agent_goes_to_the_first_framework() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 8192.0));
    a.add_framework("f0", "*", true);
    let c = a.allocate(t(1), &set(&["S0"]));
    assert_eq!(who(&c.grants), [("S0", "f0")]);
    assert_eq!(c.grants[0].resources, res(4.0, 8192.0));
    assert_eq!((c.grants[0].share, c.grants[0].role.as_str()), (0.0, "*"));
    assert_eq!(a.agent("S0").unwrap().available(), Resources::new());
    assert_eq!(a.share("f0"), 1.0);
    // Nothing left: the next cycle grants nothing, and nothing is idle.
    let c = a.allocate(t(2), &set(&["S0"]));
    assert!(c.grants.is_empty());
    assert!(c.idle.is_empty());
    assert_eq!(c.order, ["S0"]);
}

#[test]
fn drf_alternates_and_breaks_ties_by_id() {
    let mut a = Allocator::new(AllocatorConfig::default());
    for s in ["S0", "S1", "S2", "S3"] {
        a.add_agent(s, res(4.0, 4096.0));
    }
    a.add_framework("f1", "*", true);
    a.add_framework("f0", "*", true);
    let c = a.allocate(t(1), &a.agent_ids());
    assert_eq!(granted_agents(&c), c.order);
    // Tie at 0 → id; then the lower share; then tie at 0.25 with count 1 each → id.
    assert_eq!(winners(&c.grants), ["f0", "f1", "f0", "f1"]);
    assert_eq!(c.grants.iter().map(|g| g.share).collect::<Vec<_>>(), [0.0, 0.0, 0.25, 0.25]);
    assert!(c.grants.iter().all(|g| g.contenders == 2 && g.filtered.is_empty()));
}

#[test]
fn drf_tie_on_share_goes_to_the_lower_allocation_count() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("a1", res(1.0, 1024.0));
    a.add_agent("a2", res(1.0, 1024.0));
    a.add_agent("a3", res(2.0, 2048.0));
    a.add_agent("a4", res(4.0, 4096.0));
    a.add_framework("f0", "*", true);
    a.add_framework("f1", "*", true);
    assert_eq!(who(&a.allocate(t(1), &set(&["a1"])).grants), [("a1", "f0")]);
    assert_eq!(who(&a.allocate(t(1), &set(&["a2"])).grants), [("a2", "f1")]);
    assert_eq!(who(&a.allocate(t(1), &set(&["a3"])).grants), [("a3", "f0")]);
    // f0 gives a3 back: both hold 1/8 of the cluster, but f0 has been
    // allocated to twice and f1 once, so f1 wins despite its larger id.
    a.recover(t(1), "f0", "a3", &res(2.0, 2048.0), None);
    assert_eq!(a.share("f0"), a.share("f1"));
    assert_eq!((a.allocation_count("f0"), a.allocation_count("f1")), (2, 1));
    assert_eq!(who(&a.allocate(t(2), &set(&["a3"])).grants), [("a3", "f1")]);
}

#[test]
fn dominant_share_is_the_largest_fraction_of_any_scalar() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(1.0, 6144.0));
    a.add_agent("S1", res(3.0, 2048.0));
    a.add_framework("f0", "*", true);
    a.allocate(t(1), &set(&["S0"]));
    // cpus 1/4 = 0.25, mem 6144/8192 = 0.75.
    assert_eq!(a.share("f0"), 0.75);
    assert_eq!(a.role_share("*"), 0.75);
}

#[test]
fn roles_sort_first_then_frameworks_within_the_role() {
    let mut a = Allocator::new(AllocatorConfig::default());
    for s in ["S0", "S1", "S2", "S3"] {
        a.add_agent(s, res(4.0, 4096.0));
    }
    // Role a has two frameworks, role b one. In one flat sorter the three
    // would take an agent each and a1 the fourth; with roles, a's two
    // frameworks share role a's turns, so a and b alternate and b1 gets two.
    a.add_framework("a1", "a", true);
    a.add_framework("a2", "a", true);
    a.add_framework("b1", "b", true);
    let c = a.allocate(t(1), &a.agent_ids());
    assert_eq!(winners(&c.grants), ["a1", "b1", "a2", "b1"]);
    assert_eq!(c.grants.iter().map(|g| g.role.as_str()).collect::<Vec<_>>(), ["a", "b", "a", "b"]);
    assert_eq!(c.grants.iter().map(|g| g.role_share).collect::<Vec<_>>(), [0.0, 0.0, 0.25, 0.25]);
    assert_eq!((a.role_share("a"), a.role_share("b")), (0.5, 0.5));
    assert_eq!((a.share("a1"), a.share("a2"), a.share("b1")), (0.25, 0.25, 0.5));
    assert_eq!((a.role_allocation_count("a"), a.role_allocation_count("b")), (2, 2));
}

#[test]
fn a_role_of_weight_two_holds_twice_the_share_before_it_sorts_last() {
    let mut a = with_weights(&[("a", 2.0)]);
    for s in ["S0", "S1", "S2", "S3", "S4", "S5"] {
        a.add_agent(s, res(4.0, 4096.0));
    }
    a.add_framework("fa", "a", true);
    a.add_framework("fb", "b", true);
    let c = a.allocate(t(1), &a.agent_ids());
    // Each agent is 1/6 of the cluster. Role shares ÷ weight before each
    // grant: a 0 = b 0 → name a; b 0 < a 1/12 → b; a 1/12 < b 1/6 → a;
    // a 1/6 = b 1/6 with counts 2 > 1 → b; a 1/6 < b 1/3 → a; a 1/4 < b 1/3 → a.
    assert_eq!(winners(&c.grants), ["fa", "fb", "fa", "fb", "fa", "fa"]);
    let shares: Vec<f64> = c.grants.iter().map(|g| (g.role_share * 12.0).round()).collect();
    assert_eq!(shares, [0.0, 0.0, 1.0, 2.0, 2.0, 3.0]);
    assert_eq!(a.weight("a"), 2.0);
    assert_eq!(a.weight("b"), DEFAULT_WEIGHT);
    // a holds 4/6 of the cluster, twice b's 2/6: equal once weighted.
    assert_eq!((a.share("fa"), a.share("fb")), (4.0 / 6.0, 2.0 / 6.0));
    assert_eq!(a.role_share("a"), a.role_share("b"));
}

#[test]
fn role_tie_on_share_goes_to_the_role_allocated_to_less_often() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(2.0, 2048.0));
    a.add_agent("S1", res(1.0, 1024.0));
    a.add_agent("S2", res(1.0, 1024.0));
    a.add_agent("S3", res(4.0, 4096.0));
    a.add_framework("a1", "a", true);
    a.add_framework("z1", "z", true);
    // Role a holds S1 and S2 (two grants), role z holds S0 (one grant):
    // equal shares, so z, with the lower count, comes first despite its name.
    a.allocate_used("a1", "S1", &res(1.0, 1024.0));
    a.allocate_used("a1", "S2", &res(1.0, 1024.0));
    a.allocate_used("z1", "S0", &res(2.0, 2048.0));
    assert_eq!(a.role_share("a"), a.role_share("z"));
    assert_eq!((a.role_allocation_count("a"), a.role_allocation_count("z")), (2, 1));
    assert_eq!(who(&a.allocate(t(1), &set(&["S3"])).grants), [("S3", "z1")]);
}

#[test]
fn a_role_goes_with_its_last_framework_and_a_framework_can_move() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_agent("S1", res(4.0, 4096.0));
    a.add_framework("f0", "a", true);
    a.add_framework("f1", "b", true);
    a.allocate(t(1), &a.agent_ids());
    assert_eq!(a.roles().collect::<Vec<_>>(), ["a", "b"]);
    // f1 re-subscribes in role a: its allocation moves along.
    a.update_framework("f1", "a");
    assert_eq!(a.role("f1"), Some("a"));
    assert_eq!(a.roles().collect::<Vec<_>>(), ["a"]);
    assert_eq!((a.role_share("a"), a.role_share("b")), (1.0, 0.0));
    a.remove_framework("f0");
    assert_eq!(a.role_share("a"), 0.5);
    a.remove_framework("f1");
    assert_eq!(a.roles().count(), 0);
    assert_eq!(a.role_allocation_count("a"), 0);
    // A new framework in a starts the role afresh.
    a.add_framework("f2", "a", true);
    assert_eq!(a.role_allocation_count("a"), 0);
}

#[test]
fn the_shuffle_is_a_seeded_permutation_drawn_anew_each_cycle() {
    let ids: Vec<String> = (0..8).map(|i| format!("S{i}")).collect();
    let orders = |seed: u64| {
        let mut a = Allocator::new(AllocatorConfig { shuffle_seed: seed, ..AllocatorConfig::default() });
        for id in &ids {
            a.add_agent(id, res(1.0, 1024.0));
        }
        (0..3).map(|s| a.allocate(t(s), &a.agent_ids()).order).collect::<Vec<_>>()
    };
    let first = orders(7);
    // The same seed replays the same orders, cycle after cycle.
    assert_eq!(first, orders(7));
    for order in &first {
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, ids, "every candidate is visited exactly once");
    }
    // Each cycle draws again, and another seed draws other orders.
    assert_ne!(first[0], first[1]);
    assert_ne!(first, orders(8));
}

#[test]
fn min_allocatable_resources_is_a_list_of_alternatives() {
    let mut both = res(1.0, 1024.0);
    both.add_scalar("disk", 0.0);
    let cfg = AllocatorConfig {
        min_allocatable_resources: vec![both, Resources::scalar_of("disk", 100.0)],
        ..AllocatorConfig::default()
    };
    let a = Allocator::new(cfg);
    assert!(a.allocatable(&res(1.0, 1024.0)), "the first alternative entirely");
    assert!(!a.allocatable(&res(4.0, 512.0)), "only part of the first alternative");
    assert!(a.allocatable(&Resources::scalar_of("disk", 100.0)), "the second alternative");
    // The default: cpus:0.01|mem:32.
    let d = Allocator::default();
    assert_eq!(d.config().min_allocatable_resources, default_min_allocatable_resources());
    assert!(d.allocatable(&res(0.01, 0.0)));
    assert!(d.allocatable(&res(0.0, 32.0)));
    assert!(!d.allocatable(&res(0.005, 31.0)));
    // No alternatives: anything goes.
    let none = Allocator::new(AllocatorConfig { min_allocatable_resources: vec![], ..AllocatorConfig::default() });
    assert!(none.allocatable(&res(0.001, 0.0)));
}

#[test]
fn refusal_filter_covers_subsets_until_it_expires() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_framework("f0", "*", true);
    a.allocate(t(1), &set(&["S0"]));
    let exp = a.recover(t(1), "f0", "S0", &res(4.0, 4096.0), Some(120.0));
    assert_eq!(exp, Some(t(121)));
    for s in 2..121 {
        let c = a.allocate(t(s), &set(&["S0"]));
        assert!(c.grants.is_empty(), "filtered at {s}s");
        assert_eq!(c.idle, [("S0".to_string(), IdleReason::Filtered(vec!["f0".into()]))].into());
    }
    assert_eq!(who(&a.allocate(t(121), &set(&["S0"])).grants), [("S0", "f0")]);
}

#[test]
fn a_filter_does_not_cover_more_than_was_refused() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_framework("f0", "*", true);
    a.allocate(t(1), &set(&["S0"]));
    // f0 keeps 1 cpu for a task and refuses the rest...
    a.recover(t(1), "f0", "S0", &res(3.0, 4096.0), Some(60.0));
    assert!(a.allocate(t(2), &set(&["S0"])).grants.is_empty());
    // ...the task ends: 4 cpus are available, more than the filter covers.
    a.recover(t(3), "f0", "S0", &res(1.0, 0.0), None);
    assert_eq!(who(&a.allocate(t(4), &set(&["S0"])).grants), [("S0", "f0")]);
}

#[test]
fn filtered_framework_is_passed_over_for_the_next_in_drf_order() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_agent("S1", res(4.0, 4096.0));
    a.add_framework("f0", "*", true);
    a.add_framework("f1", "*", true);
    let c = a.allocate(t(1), &a.agent_ids());
    assert_eq!(winners(&c.grants), ["f0", "f1"]);
    let mine = c.grants[0].agent_id.clone();
    // f0 refuses its agent: its share drops to 0, ahead of f1 (0.5), but it is filtered.
    a.recover(t(1), "f0", &mine, &res(4.0, 4096.0), Some(10.0));
    let g = a.allocate(t(2), &set(&[&mine])).grants;
    assert_eq!(who(&g), [(mine.as_str(), "f1")]);
    assert_eq!(g[0].filtered, ["f0"]);
}

#[test]
fn refusal_timeout_follows_recover_resources() {
    let a = Allocator::new(AllocatorConfig::default());
    let cases: &[(f64, Option<f64>)] = &[
        (5.0, Some(5.0)),
        (120.0, Some(120.0)),
        (0.2, Some(1.0)),  // at least one allocation interval (MESOS-4302)
        (0.0, None),       // zero installs no filter
        (-3.0, Some(5.0)), // negative → default
        (f64::NAN, Some(5.0)),
        (1e12, Some(MAX_REFUSE_SECONDS)),
        (f64::INFINITY, Some(MAX_REFUSE_SECONDS)),
        (f64::NEG_INFINITY, Some(5.0)),
        (f64::MAX, Some(MAX_REFUSE_SECONDS)),
    ];
    for &(input, want) in cases {
        assert_eq!(a.refusal_timeout(input), want.map(Duration::from_secs_f64), "refuse_seconds={input}");
    }
}

#[test]
fn inactive_suppressed_and_unallocatable_get_nothing_and_say_why() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_agent("S1", res(0.005, 16.0));
    let c = a.allocate(t(1), &a.agent_ids());
    let every = |r: IdleReason| [("S0".to_string(), r.clone()), ("S1".to_string(), r)].into();
    assert_eq!(c.idle, every(IdleReason::NoActiveFramework));
    a.add_framework("f0", "*", false);
    assert_eq!(a.allocate(t(1), &a.agent_ids()).idle, every(IdleReason::NoActiveFramework));
    a.add_framework("f1", "*", true);
    a.suppress("f1");
    let c = a.allocate(t(1), &a.agent_ids());
    assert!(c.grants.is_empty());
    assert_eq!(c.idle, every(IdleReason::Suppressed));
    a.revive("f1");
    // S1 is below cpus:0.01|mem:32, so only S0 is offered.
    let c = a.allocate(t(1), &a.agent_ids());
    assert_eq!(who(&c.grants), [("S0", "f1")]);
    assert_eq!(c.idle, [("S1".to_string(), IdleReason::BelowMinAllocatable)].into());
    a.activate_framework("f0");
    assert!(a.allocate(t(2), &a.agent_ids()).grants.is_empty());
}

#[test]
fn a_deactivated_agent_is_not_offered_until_activated() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_agent("S1", res(4.0, 4096.0));
    a.add_framework("f0", "*", true);
    a.deactivate_agent("S0");
    let c = a.allocate(t(1), &set(&["S0", "S1"]));
    assert_eq!(who(&c.grants), [("S1", "f0")]);
    assert_eq!(c.order, ["S1"], "a deactivated agent is not a candidate");
    assert_eq!(c.idle, [("S0".to_string(), IdleReason::AgentDeactivated)].into());
    a.activate_agent("S0");
    assert_eq!(who(&a.allocate(t(2), &set(&["S0", "S1"])).grants), [("S0", "f0")]);
}

#[test]
fn used_resources_of_a_reregistering_agent_count_toward_drf() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_agent("S1", res(4.0, 4096.0));
    a.add_framework("f0", "*", false);
    a.add_framework("f1", "*", true);
    a.allocate_used("f0", "S0", &res(1.0, 1024.0));
    assert_eq!(a.agent("S0").unwrap().available(), res(3.0, 3072.0));
    assert_eq!((a.share("f0"), a.allocation_count("f0")), (0.125, 1));
    assert_eq!(a.role_allocation_count("*"), 1);
    a.activate_framework("f0");
    // f1 (share 0) gets the first agent visited; then f0 (0.125) beats f1
    // (0.375 or 0.5, whichever agent f1 got).
    let c = a.allocate(t(1), &set(&["S0", "S1"]));
    assert_eq!(granted_agents(&c), c.order);
    assert_eq!(winners(&c.grants), ["f1", "f0"]);
}

#[test]
fn revive_clears_filters() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_framework("f0", "*", true);
    a.allocate(t(1), &set(&["S0"]));
    a.recover(t(1), "f0", "S0", &res(4.0, 4096.0), Some(1000.0));
    assert!(a.allocate(t(2), &set(&["S0"])).grants.is_empty());
    a.revive("f0");
    assert_eq!(who(&a.allocate(t(2), &set(&["S0"])).grants), [("S0", "f0")]);
}

#[test]
fn deactivating_a_framework_clears_its_filters() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_framework("f0", "*", true);
    a.allocate(t(1), &set(&["S0"]));
    a.recover(t(1), "f0", "S0", &res(4.0, 4096.0), Some(1000.0));
    a.deactivate_framework("f0");
    assert!(a.filters("f0").unwrap().is_empty());
    a.activate_framework("f0");
    assert_eq!(who(&a.allocate(t(2), &set(&["S0"])).grants), [("S0", "f0")]);
}

#[test]
fn a_gpu_agent_goes_only_to_gpu_capable_frameworks_unless_the_filter_is_off() {
    let mut gpu = res(4.0, 4096.0);
    gpu.add_scalar("gpus", 2.0);
    for filter in [true, false] {
        let mut a = Allocator::new(AllocatorConfig { filter_gpu_resources: filter, ..AllocatorConfig::default() });
        a.add_agent("G0", gpu.clone());
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", "*", true);
        let c = a.allocate(t(1), &set(&["G0", "S1"]));
        let mut got = who(&c.grants);
        got.sort();
        if filter {
            assert_eq!(got, [("S1", "f0")]);
            assert_eq!(c.idle.get("G0"), Some(&IdleReason::GpuAgentFiltered));
            // With the capability it gets the GPU agent too.
            a.set_gpu_resources("f0", true);
            assert_eq!(who(&a.allocate(t(2), &set(&["G0"])).grants), [("G0", "f0")]);
        } else {
            assert_eq!(got, [("G0", "f0"), ("S1", "f0")]);
        }
    }
}

#[test]
fn removing_agents_and_frameworks_releases_their_allocations() {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent("S0", res(4.0, 4096.0));
    a.add_agent("S1", res(4.0, 4096.0));
    a.add_framework("f0", "*", true);
    a.allocate(t(1), &a.agent_ids());
    a.remove_agent("S1");
    assert_eq!(a.cluster_total(), &res(4.0, 4096.0));
    assert_eq!((a.share("f0"), a.role_share("*")), (1.0, 1.0));
    a.remove_framework("f0");
    assert_eq!(a.agent("S0").unwrap().allocated, Resources::new());
}

/// DRF's order from a sorter that does not say it is keyed: the allocator
/// sorts before every agent, the walk every non-keyed sorter takes.
#[derive(Debug)]
struct SortedEveryTime(DrfSorter);

impl Sorter for SortedEveryTime {
    fn name(&self) -> &str {
        "drf, sorted every time"
    }
    fn sort(&mut self, clients: &[SortClient<'_>], rng: &mut dyn rand::Rng) -> Vec<usize> {
        self.0.sort(clients, rng)
    }
    fn explain(&self, client: &SortClient<'_>, clients: &[SortClient<'_>]) -> String {
        self.0.explain(client, clients)
    }
}

#[test]
fn kept_standings_grant_exactly_what_sorting_before_every_agent_grants() {
    let unkeyed = SorterChoice::custom("drf-unkeyed", || Box::new(SortedEveryTime(DrfSorter)));
    let cfg =
        AllocatorConfig { weights: [("b".to_string(), 2.0)].into(), shuffle_seed: 11, ..AllocatorConfig::default() };
    let mut keyed = Allocator::new(cfg.clone());
    let mut sorted = Allocator::new(AllocatorConfig { role_sorter: unkeyed.clone(), framework_sorter: unkeyed, ..cfg });
    let mut gpu = res(8.0, 8192.0);
    gpu.add_scalar("gpus", 1.0);
    // A small linear congruential stream picks the answers, the same for both.
    let mut draw = 7u64;
    let mut next = move |n: u64| {
        draw = draw.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (draw >> 33) % n
    };
    let refuse = [0.0, 0.5, 3.0, 10.0, 1e9];
    for a in [&mut keyed, &mut sorted] {
        for i in 0..12 {
            a.add_agent(&format!("S{i:02}"), if i % 5 == 0 { gpu.clone() } else { res(4.0 + i as f64, 4096.0) });
        }
        for (i, role) in ["a", "a", "b", "b", "b", "c", "*"].iter().enumerate() {
            a.add_framework(&format!("f{i}"), role, true);
            a.set_gpu_resources(&format!("f{i}"), i % 3 == 0);
        }
    }
    let mut live_filters = 0;
    for round in 1..=60u64 {
        let now = t(round);
        let (k, s) = (keyed.allocate(now, &keyed.agent_ids()), sorted.allocate(now, &sorted.agent_ids()));
        assert_eq!(k, s, "cycle {round}");
        for g in &k.grants {
            let (pick, keep) = (next(refuse.len() as u64) as usize, next(3) == 0);
            let mut back = g.resources.clone();
            if keep {
                back.subtract(&Resources::scalar_of("cpus", 1.0));
            }
            for a in [&mut keyed, &mut sorted] {
                if a.recover(now, &g.framework_id, &g.agent_id, &back, Some(refuse[pick])).is_some() {
                    live_filters += 1;
                }
            }
        }
        let fw = format!("f{}", next(7));
        match round % 10 {
            3 => [&mut keyed, &mut sorted].into_iter().for_each(|a| a.revive(&fw)),
            5 => [&mut keyed, &mut sorted].into_iter().for_each(|a| a.suppress(&fw)),
            8 => [&mut keyed, &mut sorted].into_iter().for_each(|a| a.deactivate_framework(&fw)),
            9 => [&mut keyed, &mut sorted].into_iter().for_each(|a| {
                a.activate_framework(&fw);
                a.revive(&fw);
            }),
            _ => {}
        }
        if round % 17 == 0 {
            let gone = format!("S{:02}", next(12));
            for a in [&mut keyed, &mut sorted] {
                a.remove_agent(&gone);
                a.add_agent(&gone, res(6.0, 2048.0));
            }
        }
    }
    assert!(live_filters > 100, "the workload installs filters ({live_filters})");
}

#[test]
fn the_expiry_index_holds_exactly_the_filters_in_force() {
    let mut a = Allocator::new(AllocatorConfig::default());
    for s in ["S0", "S1", "S2"] {
        a.add_agent(s, res(4.0, 4096.0));
    }
    a.add_framework("f0", "*", true);
    a.add_framework("f1", "*", true);
    let bag = res(4.0, 4096.0);
    for (fw, agent, secs) in [("f0", "S0", 10.0), ("f0", "S1", 100.0), ("f1", "S1", 10.0), ("f1", "S2", 1000.0)] {
        a.recover(t(0), fw, agent, &bag, Some(secs));
    }
    let count = |a: &Allocator, fw: &str| a.filters(fw).unwrap().values().map(Vec::len).sum::<usize>();
    assert_eq!((a.expiries.len(), count(&a, "f0"), count(&a, "f1")), (4, 2, 2));
    // At 10 s the two 10 s filters lapse, and only they leave the index.
    a.allocate(t(10), &BTreeSet::new());
    assert_eq!((a.expiries.len(), count(&a, "f0"), count(&a, "f1")), (2, 1, 1));
    assert_eq!(a.filters("f0").unwrap().keys().collect::<Vec<_>>(), ["S1"]);
    // Two filters on S1 refusing the same bag share it.
    a.recover(t(10), "f1", "S1", &bag, Some(50.0));
    let (f0, f1) = (a.filters("f0").unwrap(), a.filters("f1").unwrap());
    assert!(Arc::ptr_eq(&f0["S1"][0].resources, &f1["S1"][0].resources));
    // Revive, agent removal and framework removal each take their filters out of the index.
    a.revive("f0");
    assert_eq!((a.expiries.len(), count(&a, "f0")), (2, 0));
    a.remove_agent("S2");
    assert_eq!((a.expiries.len(), count(&a, "f1")), (1, 1));
    a.remove_framework("f1");
    assert!(a.expiries.is_empty());
    assert!(a.agents.iter().flatten().all(|e| e.refusals.of(0).is_none() && e.refusals.of(1).is_none()));
}

/// Six agents (S3 deactivated) and two frameworks: books on which a cycle
/// grants, idles an agent and, after declines, filters.
fn six_agents_two_frameworks_s3_deactivated() -> Allocator {
    let mut a = Allocator::default();
    for s in 0..6 {
        a.add_agent(&format!("S{s}"), res(4.0, 4096.0));
    }
    a.add_framework("f1", "*", true);
    a.add_framework("f2", "*", true);
    a.deactivate_agent("S3");
    a
}

#[test]
fn allocate_all_is_allocate_over_every_agent_id() {
    // Two allocators with the same books: one asked with every id, one with none.
    let build = six_agents_two_frameworks_s3_deactivated;
    let (mut by_ids, mut all) = (build(), build());
    for round in 0..4 {
        let want = by_ids.allocate(t(round), &by_ids.agent_ids());
        let got = all.allocate_all(t(round));
        assert_eq!(got, want, "round {round}");
        assert_eq!(got.idle.get("S3"), Some(&IdleReason::AgentDeactivated));
        // Each framework declines half of what it got, so filters and frees differ by round.
        for g in want.grants.iter().step_by(2) {
            by_ids.recover(t(round), &g.framework_id, &g.agent_id, &g.resources, Some(2.0));
            all.recover(t(round), &g.framework_id, &g.agent_id, &g.resources, Some(2.0));
        }
    }
}

#[test]
fn a_cycle_handed_back_is_refilled_exactly_as_a_new_one_in_the_same_memory() {
    // Four allocators with the same books: two make a new `Cycle` every
    // round, two write every round over the one they got last time (stale
    // grants, order and idle agents included).
    let build = six_agents_two_frameworks_s3_deactivated;
    let (mut fresh, mut into, mut fresh_all, mut all_into) = (build(), build(), build(), build());
    let (mut kept, mut kept_all) = (Cycle::default(), Cycle::default());
    let mut lists = None;
    for round in 0..5 {
        // Fewer candidates in odd rounds, so a stale longer list would show.
        let candidates = if round % 2 == 1 { set(&["S0", "S3", "S5"]) } else { fresh.agent_ids() };
        let want = fresh.allocate(t(round), &candidates);
        into.allocate_into(t(round), &candidates, &mut kept);
        assert_eq!(kept, want, "round {round}");
        assert_eq!(kept.idle.get("S3"), Some(&IdleReason::AgentDeactivated), "round {round}");
        let want_all = fresh_all.allocate_all(t(round));
        all_into.allocate_all_into(t(round), &mut kept_all);
        assert_eq!(kept_all, want_all, "round {round}");
        // From the second round on, the lists are the ones round 0 allocated.
        let now = (kept.grants.as_ptr(), kept.order.as_ptr());
        match lists {
            None => lists = Some(now),
            Some(first) => assert_eq!(now, first, "round {round} refilled its lists in place"),
        }
        // Each framework declines what it got, so the next round has free agents.
        let declines =
            [(&mut fresh, &want), (&mut into, &want), (&mut fresh_all, &want_all), (&mut all_into, &want_all)];
        for (a, c) in declines {
            for g in &c.grants {
                a.recover(t(round), &g.framework_id, &g.agent_id, &g.resources, Some(0.5));
            }
        }
    }
}
