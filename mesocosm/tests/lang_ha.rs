//! The scenario language's high-availability keys: `[zookeeper] servers`,
//! `[master] count`, `quorum` and `zk`, and `leader` in faults; every bad
//! value refused at its line and column, warnings where Mesos and ZooKeeper
//! start anyway.

mod common;

use common::lang::{MINIMAL, errors, parse, position};

const ZK_URL: &str = "mesos://zk://zookeeper-001:2181,zookeeper-002:2181,zookeeper-003:2181/mesos";

/// MINIMAL with `[zookeeper]` and `[master]` tables, submitting through ZooKeeper.
fn ha(zookeeper: &str, master: &str) -> String {
    MINIMAL.replace("mesos://master:5050", ZK_URL).replace("[[agents]]", &format!("{zookeeper}\n{master}\n[[agents]]"))
}

#[track_caller]
fn refused_at(src: &str, needle: &str, message: &str) {
    let d = errors(src);
    let want = position(src, needle);
    assert!(d.iter().any(|x| (x.line, x.col) == want && x.message == message), "wanted `{message}` at {want:?}:\n{d}");
}

#[test]
fn three_masters_and_three_servers_name_their_hosts_and_infer_the_zk_url() {
    let s = parse(&ha("[zookeeper]\nservers = 3", "[master]\ncount = 3")).unwrap();
    assert_eq!(s.zookeeper, 3);
    assert_eq!(s.master.names(), ["master-1", "master-2", "master-3"]);
    let zk = s.master.zk.unwrap();
    assert_eq!(zk.hosts, ["zookeeper-001", "zookeeper-002", "zookeeper-003"]);
    assert_eq!(zk.path, "/mesos");
    assert!(s.warnings.is_empty());
    // One master keeps its name, and contends alone when there is an ensemble.
    let one =
        parse(&ha("[zookeeper]\nservers = 1", "").replace(ZK_URL, "mesos://zk://zookeeper-001:2181/mesos")).unwrap();
    assert_eq!(one.master.names(), ["master"]);
    assert_eq!(one.master.zk.unwrap().hosts, ["zookeeper-001"]);
}

#[test]
fn bad_ha_values_are_refused_at_their_place() {
    let z3 = "[zookeeper]\nservers = 3";
    refused_at(&ha(z3, "[master]\ncount = 0"), "0", "`count = 0`: a Mesos cluster needs at least one master");
    refused_at(&ha(z3, "[master]\ncount = 3\nquorum = 4"), "4", "`quorum = 4` must be 1 to the 3 master(s)");
    refused_at(
        &ha("", "[master]\ncount = 3"),
        "3",
        "3 masters need ZooKeeper to elect a leader (Mesos requires --zk with several masters); add [zookeeper] servers = 3",
    );
    refused_at(
        &ha(z3, "[master]\ncount = 3\nzk = \"zk://zookeeper-004:2181/mesos\""),
        "\"zk://zookeeper-004",
        "`zk` names ZooKeeper server `zookeeper-004`, but the ensemble is zookeeper-001, zookeeper-002, zookeeper-003",
    );
    refused_at(
        &ha(z3, "[master]\nzk = \"http://x\""),
        "\"http://x\"",
        "bad `zk` URL: \"http://x\" does not start with zk://",
    );
    refused_at(&ha("[zookeeper]\nservers = 0", ""), "0", "`servers` must be 1 to 9");
    // A direct mesos://host URL cannot follow a leader among several masters.
    let direct = ha(z3, "[master]\ncount = 3").replace(ZK_URL, "mesos://master-1:5050");
    refused_at(
        &direct,
        "mesos://master-1:5050",
        "`mesos://master-1:5050` names one master, but this scenario runs 3 (master-1, master-2, master-3) electing a leader; use mesos://zk://…/mesos",
    );
}

#[test]
fn an_even_ensemble_and_a_minority_quorum_warn_but_run() {
    let s = parse(&ha("[zookeeper]\nservers = 4", "[master]\ncount = 3")).unwrap();
    assert_eq!(
        s.warnings[0].message,
        "an ensemble of 4 servers tolerates no more failures than one of 3: ZooKeeper recommends an odd number of servers"
    );
    let s = parse(&ha("[zookeeper]\nservers = 3", "[master]\ncount = 4\nquorum = 2")).unwrap();
    assert_eq!(
        s.warnings[0].message,
        "`quorum = 2` is not a majority of 4 masters; Mesos requires quorum > masters/2 so that two leaders cannot both write the registry"
    );
    assert_eq!(s.master.quorum, Some(2));
}

#[test]
fn leader_names_whoever_leads_and_master_is_ambiguous_with_several() {
    let fault = |who: &str| format!("[[faults]]\nkill = \"{who}\"\nat = \"10s\"\n");
    let base = ha("[zookeeper]\nservers = 3", "[master]\ncount = 3");
    assert!(parse(&format!("{base}{}", fault("leader"))).is_ok());
    assert!(parse(&format!("{base}{}", fault("master-2"))).is_ok());
    assert!(parse(&format!("{base}{}", fault("zookeeper-003"))).is_ok());
    let src = format!("{base}{}", fault("master"));
    refused_at(
        &src,
        "\"master\"\nat",
        "`master` is ambiguous with 3 masters: name one (master-1, master-2, master-3) or `leader`, whichever leads when the fault fires",
    );
    let one = format!("{MINIMAL}{}", fault("leader"));
    refused_at(&one, "\"leader\"", "`leader` needs several masters ([master] count > 1); the one master is `master`");
}

#[test]
fn a_spark_zk_url_is_checked_against_the_ensemble_or_warned_about_without_one() {
    // With an ensemble, every server the URL names must be one of it.
    let src = ha("[zookeeper]\nservers = 3", "[master]\ncount = 3")
        .replace("zookeeper-003:2181/mesos", "zookeeper-007:2181/mesos");
    refused_at(
        &src,
        "mesos://zk://",
        "`mesos://zk://zookeeper-001:2181,zookeeper-002:2181,zookeeper-007:2181/mesos` names ZooKeeper server \
         `zookeeper-007`, but the ensemble is zookeeper-001, zookeeper-002, zookeeper-003",
    );
    // Without one, the seed's URL still runs, and the user is told nothing detects a leader.
    let s = parse(&ha("", "")).unwrap();
    let [w] = &s.warnings[..] else { panic!("one warning: {:?}", s.warnings) };
    assert_eq!((w.line, w.col), position(&ha("", ""), "mesos://zk://"));
    assert!(
        w.message.contains("declares no [zookeeper]: the driver talks to the one master `master` directly"),
        "{}",
        w.message
    );
    assert!(parse(&ha("[zookeeper]\nservers = 3", "")).unwrap().warnings.is_empty());
}

#[test]
fn a_name_that_matches_nobody_lists_the_masters_and_servers_there_are() {
    let base = ha("[zookeeper]\nservers = 3", "[master]\ncount = 3");
    let src = format!("{base}[[faults]]\nkill = \"master-4\"\nat = \"10s\"\n");
    let d = errors(&src);
    assert!(
        d.iter().any(|x| x.message.starts_with(
            "`master-4` names no actor; actors are master-1, master-2, master-3 (or `leader`), \
             zookeeper-001, zookeeper-002, zookeeper-003, "
        )),
        "{d}"
    );
}

/// Three masters and three servers, with `expect` appended as `[[expect]]` tables.
fn ha_expect(expect: &str) -> String {
    format!("{}\n{expect}", ha("[zookeeper]\nservers = 3", "[master]\ncount = 3"))
}

#[test]
fn leader_and_failover_expectations_read_as_they_are_worded() {
    let s = parse(&ha_expect(
        "[[expect]]\nleader = \"master-3\"\nafter = \"40s\"\nbefore = \"45s\"\n\
         [[expect]]\nleader = \"master-2\"\nat = \"29s\"\n\
         [[expect]]\nleader = \"none\"\nat = \"50s\"\n\
         [[expect]]\nleader = \"master-1\"\n\
         [[expect]]\nfailover_at_most = \"15s\"\n\
         [[expect]]\nfailover_at_most = \"1m\"\nafter = \"30s\"\n",
    ))
    .unwrap();
    let texts: Vec<&str> = s.expectations.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "master-3 is elected leader between 40s and 45s",
            "master-2 leads at 29s",
            "no master leads at 50s",
            "master-1 is elected leader",
            "every failover takes at most 15s",
            "every failover takes at most 1m after 30s",
        ]
    );
}

#[test]
fn bad_leader_and_failover_expectations_are_refused_at_their_place() {
    let src = ha_expect("[[expect]]\nleader = \"master-4\"\n");
    refused_at(
        &src,
        "\"master-4\"",
        "no master is named `master-4` (masters: master-1, master-2, master-3; or \"none\")",
    );
    let src = ha_expect("[[expect]]\nleader = \"none\"\nafter = \"5s\"\n");
    refused_at(&src, "\"none\"", "say when no master leads: at = \"50s\"");
    let src = ha_expect("[[expect]]\nleader = \"master-1\"\nat = \"5s\"\nbefore = \"9s\"\n");
    refused_at(&src, "\"9s\"", "`at` is one instant; `after`/`before` make a window: use one or the other");
    let src = ha_expect("[[expect]]\nleader = \"master-1\"\nat = \"2h\"\n");
    refused_at(&src, "\"2h\"", "`at = 2h` is after the run stops at 1h (`until`)");
    let src = ha_expect("[[expect]]\nfailover_at_most = \"soon\"\n");
    assert!(
        errors(&src).iter().any(|d| d.message.starts_with("bad duration for `failover_at_most`")),
        "{}",
        errors(&src)
    );
    let src = ha_expect("[[expect]]\ncount = \"SUBSCRIBED\"\nat_least = 1\nat = \"5s\"\n");
    assert!(errors(&src).iter().any(|d| d.message.contains("`at`")), "{}", errors(&src));
    // One master: nobody to elect or fail over to.
    let one = format!("{MINIMAL}\n[[expect]]\nleader = \"master\"\n");
    let why = "needs several masters ([master] count > 1 with [zookeeper]): a single master leads from its start and has nobody to fail over to";
    refused_at(&one, "\"master\"\n", &format!("`leader` {why}"));
    let one = format!("{MINIMAL}\n[[expect]]\nfailover_at_most = \"15s\"\n");
    refused_at(&one, "\"15s\"", &format!("`failover_at_most` {why}"));
}

#[test]
fn expire_session_names_one_zookeeper_client() {
    let ok = parse(&ha_expect("[[faults]]\nexpire_session = \"master-2\"\nat = \"30s\"\n")).unwrap();
    assert_eq!(ok.faults.len(), 1);
    let src = ha_expect("[[faults]]\nexpire_session = \"zookeeper-001\"\nat = \"30s\"\n");
    refused_at(
        &src,
        "\"zookeeper-001\"\nat",
        "zookeeper-001 holds no ZooKeeper session (its clients are the masters, the agents and the drivers)",
    );
    let src = ha_expect("[[faults]]\nexpire_session = \"master-*\"\nat = \"30s\"\n");
    refused_at(&src, "\"master-*\"", "`master-*`: expire_session names one ZooKeeper client, not a glob");
    let src = format!("{MINIMAL}\n[[faults]]\nexpire_session = \"master\"\nat = \"30s\"\n");
    refused_at(&src, "\"master\"\nat", "`expire_session` needs ZooKeeper: add [zookeeper] servers = 3");
}
