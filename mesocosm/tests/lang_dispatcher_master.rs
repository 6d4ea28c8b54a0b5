//! The dispatcher's `--master` (`[dispatcher] master`): by default the
//! master, or the ensemble's `mesos://zk://…/mesos` when the masters contend
//! in ZooKeeper (which it passes on to the drivers it launches); a URL that
//! reaches no master or names servers outside the ensemble is refused at its
//! line and column, as a driver's `--master` is.

mod common;

use common::lang::{MINIMAL, errors, parse, position};

const ZK_URL: &str = "mesos://zk://zookeeper-001:2181,zookeeper-002:2181,zookeeper-003:2181/mesos";

/// MINIMAL with a `[dispatcher]` (whose extra keys are `dispatcher`), and
/// `[zookeeper]` + `[master]` tables when `ha`.
fn with_dispatcher(ha: bool, dispatcher: &str) -> String {
    let mut src = MINIMAL.to_string();
    if ha {
        src = src
            .replace("mesos://master:5050", ZK_URL)
            .replace("[[agents]]", "[zookeeper]\nservers = 3\n[master]\ncount = 3\n[[agents]]");
    }
    format!("{src}\n[dispatcher]\nconf = {{ \"spark.home\" = \"/opt/spark\" }}\n{dispatcher}\n")
}

#[track_caller]
fn refused_at(src: &str, needle: &str, message: &str) {
    let d = errors(src);
    let want = position(src, needle);
    assert!(d.iter().any(|x| (x.line, x.col) == want && x.message == message), "wanted `{message}` at {want:?}:\n{d}");
}

#[test]
fn the_dispatcher_master_defaults_to_the_master_or_the_ensemble() {
    let one = parse(&with_dispatcher(false, "")).unwrap();
    assert_eq!(one.dispatcher.unwrap().conf.master, "master:5050");
    let ha = parse(&with_dispatcher(true, "")).unwrap();
    assert_eq!(
        ha.dispatcher.unwrap().conf.master,
        "zk://zookeeper-001:2181,zookeeper-002:2181,zookeeper-003:2181/mesos"
    );
    // Given explicitly: `mesos://` is stripped, as MesosClusterDispatcherArguments does.
    let given = parse(&with_dispatcher(true, "master = \"mesos://zk://zookeeper-002:2181/mesos\"")).unwrap();
    assert_eq!(given.dispatcher.unwrap().conf.master, "zk://zookeeper-002:2181/mesos");
}

#[test]
fn a_dispatcher_master_reaching_no_master_is_refused_at_its_place() {
    refused_at(
        &with_dispatcher(false, "master = \"mesos://elsewhere:5050\""),
        "\"mesos://elsewhere",
        "`mesos://elsewhere:5050` names host `elsewhere`, but this scenario's only Mesos master is `master` \
         (set by [master] name); use mesos://master:5050 or mesos://zk://…/mesos",
    );
    refused_at(
        &with_dispatcher(true, "master = \"mesos://master-1:5050\""),
        "\"mesos://master-1",
        "`mesos://master-1:5050` names one master, but this scenario runs 3 (master-1, master-2, master-3) \
         electing a leader; use mesos://zk://…/mesos",
    );
    refused_at(
        &with_dispatcher(true, "master = \"mesos://zk://zookeeper-009:2181/mesos\""),
        "\"mesos://zk://zookeeper-009",
        "`mesos://zk://zookeeper-009:2181/mesos` names ZooKeeper server `zookeeper-009`, but the ensemble is \
         zookeeper-001, zookeeper-002, zookeeper-003",
    );
    let d = errors(&with_dispatcher(false, "master = \"yarn\""));
    assert!(d.iter().any(|x| x.message.starts_with("the dispatcher's `master`: ")), "{d}");
}
