//! The scenario language's `[registry]`, `[fetcher]` and containerizer keys:
//! what a valid file becomes, and each bad input at its line and column.

use mesocosm::diag::Diagnostics;
use mesocosm::scenario::{self, Scenario};

const BASE: &str = r#"
[scenario]
name = "c"
[registry]
bandwidth = "50MB/s"
latency = "10ms"
  [[registry.layers]]
  digest = "base"
  size = "300MB"
  [[registry.layers]]
  digest = "app"
  size = "20MB"
  [[registry.images]]
  name = "registry.example.com/team/app:1"
  layers = ["base", "app"]
  private = true
  spark = false
[fetcher]
  [[fetcher.uris]]
  uri = "file:///etc/docker.tar.gz"
  size = "4kB"
  docker_config = ["registry.example.com"]
[[agents]]
name = "a1"
resources = "cpus:1;mem:1024"
containerizers = "mesos"
docker_config = ["registry.example.com"]
pre_pulled = ["registry.example.com/team/app:1"]
executor_registration_timeout = "5m"
registry_bandwidth = "5MB/s"
"#;

fn parse(src: &str) -> Result<Scenario, Diagnostics> {
    let mut read = |_: &std::path::Path| Err(std::io::Error::new(std::io::ErrorKind::NotFound, "none"));
    scenario::parse_with_reader("scenarios/test.toml", src, &mut read)
}

/// The single diagnostic of `src`: (line, column, message).
fn error(src: &str) -> (usize, usize, String) {
    let Err(d) = parse(src) else { panic!("expected a diagnostic") };
    let d = d.iter().next().expect("one diagnostic").clone();
    (d.line, d.col, d.message)
}

fn position(src: &str, needle: &str) -> (usize, usize) {
    let at = src.find(needle).expect("needle present");
    let line = src[..at].matches('\n').count() + 1;
    let col = src[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, col)
}

#[test]
fn a_registry_and_agent_flags_become_the_agents_container_config() {
    let s = parse(BASE).unwrap_or_else(|d| panic!("{d}"));
    let c = &s.agents[0].containers;
    assert!(c.mesos && !c.docker);
    assert_eq!(c.docker_config, ["registry.example.com"]);
    assert_eq!(c.pre_pulled, ["registry.example.com/team/app:1"]);
    assert_eq!(c.executor_registration_timeout, std::time::Duration::from_secs(300));
    assert_eq!(c.registry_link.bandwidth, 5_000_000);
    assert_eq!(c.registry_link.latency, std::time::Duration::from_millis(10));
    let cat = c.catalog.as_ref().expect("a catalog");
    let img = &cat.images["registry.example.com/team/app:1"];
    assert_eq!((img.registry.as_str(), img.bytes(), img.private), ("registry.example.com", 320_000_000, true));
    assert_eq!(cat.uris["file:///etc/docker.tar.gz"].docker_config_for, ["registry.example.com"]);
    assert!(!s.containers.spark_in_image["registry.example.com/team/app:1"]);
}

#[test]
fn without_a_registry_nothing_is_pulled_and_both_containerizers_run() {
    let src = "[scenario]\nname = \"c\"\n[[agents]]\nname = \"a1\"\nresources = \"cpus:1;mem:1024\"\n";
    let s = parse(src).unwrap_or_else(|d| panic!("{d}"));
    let c = &s.agents[0].containers;
    assert!(c.catalog.is_none() && c.docker && c.mesos);
    assert_eq!(c.executor_registration_timeout, std::time::Duration::from_secs(60));
}

#[test]
fn bad_container_input_is_an_error_at_its_value() {
    let cases: [(&str, &str, &str, &str); 6] = [
        ("layers = [\"base\", \"app\"]", "layers = [\"base\", \"nope\"]", "\"nope\"", "unknown layer \"nope\""),
        ("size = \"300MB\"", "size = \"-300MB\"", "\"-300MB\"", "negative"),
        ("bandwidth = \"50MB/s\"", "bandwidth = \"0MB/s\"", "\"0MB/s\"", "more than 0"),
        (
            "uri = \"file:///etc/docker.tar.gz\"",
            "uri = \"gopher://x/docker.tar.gz\"",
            "\"gopher",
            "does not support the URI scheme \"gopher\"",
        ),
        (
            "containerizers = \"mesos\"",
            "containerizers = \"mesos,rkt\"",
            "\"mesos,rkt\"",
            "unknown containerizer \"rkt\"",
        ),
        (
            "pre_pulled = [\"registry.example.com/team/app:1\"]",
            "pre_pulled = [\"x:1\"]",
            "\"x:1\"",
            "not in [[registry.images]]",
        ),
    ];
    for (good, bad, at, says) in cases {
        let src = BASE.replacen(good, bad, 1);
        assert_ne!(src, BASE, "{good} not found");
        let (line, col, msg) = error(&src);
        assert_eq!((line, col), position(&src, at), "{msg}");
        assert!(msg.contains(says), "{msg:?} should say {says:?}");
    }
}

#[test]
fn credentials_for_a_registry_no_image_uses_are_a_warning_at_their_value() {
    let src = BASE.replacen(
        "docker_config = [\"registry.example.com\"]\n[[agents]]",
        "docker_config = [\"other.example.com\"]\n[[agents]]",
        1,
    );
    assert_ne!(src, BASE);
    let s = parse(&src).unwrap_or_else(|d| panic!("a warning does not stop the run: {d}"));
    let [w] = &s.warnings[..] else { panic!("one warning: {:?}", s.warnings) };
    assert_eq!((w.line, w.col), position(&src, "\"other.example.com\""));
    assert!(w.message.contains("no [[registry.images]] image comes from"), "{}", w.message);
    let shown = mesocosm::diag::Warning(w).to_string();
    assert!(shown.starts_with(&format!("warning: scenarios/test.toml:{}:{}: ", w.line, w.col)), "{shown}");
    assert!(parse(BASE).unwrap_or_else(|d| panic!("{d}")).warnings.is_empty());
}

const OUTAGE: &str = include_str!("../../scenarios/docker-registry-outage.toml");

fn run_outage(src: &str) -> mesocosm::runner::Report {
    let s = parse(src).unwrap_or_else(|d| panic!("{d}"));
    mesocosm::runner::run(&s, mesocosm::runner::RunOptions::default()).expect("the run")
}

#[test]
fn a_registry_fault_is_checked_into_an_agent_window() {
    use mesocosm::cluster::Fault;
    use mesocosm_agent::RegistryEffect;
    let s = parse(OUTAGE).unwrap_or_else(|d| panic!("{d}"));
    let faults: Vec<&Fault> = s.faults.iter().map(|f| &f.fault).collect();
    assert!(
        matches!(
            faults[..],
            [
                Fault::Registry { effect: RegistryEffect::Unreachable, until: None, .. },
                Fault::Registry {
                    effect: RegistryEffect::Slow { bandwidth_divided_by: 10, .. },
                    until: Some(u),
                    ..
                },
            ] if *u == std::time::Duration::from_secs(30)
        ),
        "{faults:?}"
    );
}

#[test]
fn a_registry_fault_that_no_pull_meets_fails_the_run() {
    // Every pull on edge-1 happens in the first second; a window opening at
    // 4 min meets none, which is a false green unless `optional = true`.
    let src = OUTAGE.replacen("agents = \"edge-1\"\n", "agents = \"edge-1\"\nafter = \"4m\"\n", 1);
    assert_ne!(src, OUTAGE);
    let report = run_outage(&src);
    assert!(
        report.checks.iter().any(|c| c.check == "fault applied" && c.message.contains("test.toml:60")),
        "{:?}",
        report.checks
    );
    // The unreachable registry is what made the two launches fail.
    assert!(report.expectations.iter().any(|e| !e.held), "without the outage edge-1's launches succeed");
}

#[test]
fn bad_registry_faults_are_errors_at_their_value() {
    let cases: [(&str, &str, &str, &str); 4] = [
        ("registry = \"unreachable\"", "registry = \"flaky\"", "\"flaky\"", "\"unreachable\" or \"slow\""),
        ("agents = \"edge-1\"", "agents = \"master\"", "\"master\"", "only agents pull images"),
        ("bandwidth_divided_by = 10", "bandwidth_divided_by = -3", "-3\n", "1 or more"),
        ("agents = \"edge-1\"", "agents = \"edge-1\"\nby = \"7s\"", "\"7s\"", "an unreachable one refuses"),
    ];
    for (good, bad, at, says) in cases {
        let src = OUTAGE.replacen(good, bad, 1);
        assert_ne!(src, OUTAGE, "{good} not found");
        let (line, col, msg) = error(&src);
        assert_eq!((line, col), position(&src, at), "{msg}");
        assert!(msg.contains(says), "{msg:?} should say {says:?}");
    }
}

const FETCHER_CACHE: &str = include_str!("../../scenarios/fetcher-cache.toml");

#[test]
fn a_containers_expectation_holds_on_the_stores_totals_and_fails_otherwise() {
    let run = |src: &str| {
        let s = parse(src).unwrap_or_else(|d| panic!("{d}"));
        mesocosm::runner::run(&s, mesocosm::runner::RunOptions::default()).expect("the run")
    };
    let held = |r: &mesocosm::runner::Report| {
        r.expectations.iter().find(|e| e.text.starts_with("agent-1 ")).map(|e| (e.held, e.observed.clone()))
    };
    let good = run(FETCHER_CACHE);
    assert_eq!(held(&good).map(|h| h.0), Some(true), "{:?}", held(&good));
    let wrong = FETCHER_CACHE.replacen("fetcher_cache_hits = 1", "fetcher_cache_hits = 2", 1);
    assert_ne!(wrong, FETCHER_CACHE);
    let (ok, observed) = held(&run(&wrong)).expect("the expectation");
    assert!(!ok && observed.contains("1 fetcher cache hit(s)"), "{observed}");
    let src = FETCHER_CACHE.replacen("pulled_bytes = \"0B\"", "pulled_bytes = \"lots\"", 1);
    let (line, col, msg) = error(&src);
    assert_eq!((line, col), position(&src, "\"lots\""));
    assert!(msg.contains("bad `pulled_bytes`"), "{msg}");
    let src = FETCHER_CACHE.replacen("containers = \"agent-1\"", "containers = \"master\"", 1);
    let (line, col, msg) = error(&src);
    assert_eq!((line, col), position(&src, "\"master\""));
    assert!(msg.contains("names agents"), "{msg}");
}
