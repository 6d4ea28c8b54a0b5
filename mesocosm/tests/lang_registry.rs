//! `[master]`'s registry flags in the scenario language: Mesos's syntax
//! (`100%`, `1/20mins`, `20secs`), and bad values pointed at file:line:col.

use mesocosm_master::RemovalRate;
use std::time::Duration;

mod common;

use common::lang::{MINIMAL, errors, parse, position};

fn with_master(lines: &str) -> String {
    format!("{MINIMAL}[master]\n{lines}\n")
}

#[test]
fn registry_flags_take_mesos_syntax_and_default_to_mesos_defaults() {
    let s = parse(MINIMAL).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.master.recovery_agent_removal_limit, 1.0);
    assert_eq!(s.master.agent_removal_rate_limit, None);
    assert_eq!(s.master.registry_timeouts.fetch, Duration::from_secs(60));
    assert_eq!(s.master.registry_timeouts.store, Duration::from_secs(20));
    let src = with_master(
        "recovery_agent_removal_limit = \"50%\"\nagent_removal_rate_limit = \"1/20mins\"\n\
         registry_fetch_timeout = \"2mins\"\nregistry_store_timeout = \"30s\"",
    );
    let s = parse(&src).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.master.recovery_agent_removal_limit, 0.5);
    assert_eq!(s.master.agent_removal_rate_limit, Some(RemovalRate { permits: 1, per: Duration::from_secs(1200) }));
    assert_eq!(s.master.registry_timeouts.fetch, Duration::from_secs(120));
    assert_eq!(s.master.registry_timeouts.store, Duration::from_secs(30));
}

#[test]
fn bad_registry_flags_point_at_their_values() {
    for (line, value, says) in [
        ("recovery_agent_removal_limit = \"100\"", "\"100\"", "missing '%'"),
        ("recovery_agent_removal_limit = \"120%\"", "\"120%\"", "[0%-100%]"),
        ("agent_removal_rate_limit = \"20mins\"", "\"20mins\"", "<number of agents>/<duration>"),
        ("agent_removal_rate_limit = \"0/1mins\"", "\"0/1mins\"", "at least 1"),
        ("registry_store_timeout = \"0secs\"", "\"0secs\"", "must be more than 0"),
        ("registry_fetch_timeout = \"soon\"", "\"soon\"", "bad `registry_fetch_timeout`"),
    ] {
        let src = with_master(line);
        let d = errors(&src);
        assert_eq!(d.len(), 1, "{line}: {d}");
        let (l, c) = position(&src, value);
        assert_eq!((d.0[0].line, d.0[0].col), (l, c), "{line}");
        assert!(d.0[0].message.contains(says), "{line}: {}", d.0[0].message);
        assert!(d.to_string().starts_with(&format!("error: scenarios/test.toml:{l}:{c}: ")), "{d}");
    }
}
