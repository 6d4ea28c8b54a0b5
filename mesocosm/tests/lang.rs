//! Black-box tests of the scenario language: what a user writes, what they get back.
//!
//! Scenarios are parsed with `parse_with_reader` and an in-memory file map, so
//! these tests never touch the disk and run in milliseconds.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use mesocosm::mesos_syntax::{AttrValue, ValueSpec};
use mesocosm::scenario::{self, DurationDist};
use mesocosm::submit::{self, DeployMode, MasterUrl, SparkConf};
use mesocosm_sim::Latency;
use proptest::prelude::*;

mod common;

use common::lang::{MINIMAL, errors, files, parse, position};

/// A scenario using every feature, valid as written.
const FULL: &str = r#"
[scenario]
name = "spark-pi"
description = """Two apps share three agents."""
seed = 42
until = "30m"

[network]
latency = { min = "100us", max = "2ms" }

[master]
name = "master"
allocation_interval = "1s"
agent_ping_timeout = "15s"
max_agent_ping_timeouts = 5
offer_timeout = "30s"

[[agents]]
name = "agent"
count = 2
resources = "cpus:4;mem:8192;disk:20000;ports:[31000-32000]"
attributes = "rack:r1;zone:us-east-1a"

[[agents]]
name = "big"
resources = "cpus:8;mem:16384"

[[apps]]
submit = "spark-submit --master mesos://master:5050 --class org.apache.spark.examples.SparkPi --conf spark.cores.max=8 app.jar 100"
at = "0s"
host = "edge-1"
  [[apps.jobs]]
  name = "pi"
    [[apps.jobs.stages]]
    tasks = 100
    duration = "200ms"
    [[apps.jobs.stages]]
    tasks = 10
    duration = { uniform = ["100ms", "2s"] }

[[apps]]
submit = """spark-submit --master mesos://zk://zk-1:2181,zk-2:2181/mesos \
  --supervise \
  --class com.example.Etl \
  --conf spark.executor.memory=512M \
  etl.jar --date 2024-01-01"""
at = "1m"
spark_defaults = "conf/spark-defaults.conf"
  [[apps.jobs]]
    [[apps.jobs.stages]]
    tasks = 4
    duration = { normal = ["1s", "200ms"] }
    [[apps.jobs.stages]]
    tasks = 1
    duration = { exponential = "1s" }

[[network.links]]
from = "agent-1"
to = "master"
latency = { min = "1ms", max = "5ms" }

[[faults]]
kill = "agent:agent-2"
at = "30s"
restart_after = "1m"

[[faults]]
partition = [["agent-1"], ["master", "big"]]
one_way = true
at = "2m"
heal_after = "90s"

[[faults]]
drop = "RegisterExecutor"
from = "executor:*"
probability = 0.25
after = "10s"
before = "5m"

[[faults]]
slow = "driver:*"
think = "500ms"

[[expect]]
count = "TASK_LOST"
where = { reason = "REASON_AGENT_REMOVED" }
at_most = 3

[[expect]]
agent = "agent-1"
marked = "unreachable"
after = "3m"
before = "4m"
"#;

// ---------------------------------------------------------------------------
// Whole scenarios
// ---------------------------------------------------------------------------

#[test]
fn full_scenario_parses_with_every_field() {
    let s = parse(FULL).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.name, "spark-pi");
    assert_eq!(s.seed, 42);
    assert_eq!(s.until, Duration::from_secs(1800));
    assert_eq!(s.network.latency, Latency::Uniform { min: Duration::from_micros(100), max: Duration::from_millis(2) });
    assert_eq!(s.master.offer_timeout, Some(Duration::from_secs(30)));
    assert_eq!(s.faults.len(), 4);
    assert_eq!(s.expectations.len(), 2);
    assert_eq!(s.network.links.len(), 1);
    // Faults are named by their table's header line.
    assert!(s.faults[0].label.ends_with(&format!(":{}", position(FULL, "kill = ").0 - 1)), "{}", s.faults[0].label);
    assert!(s.faults[2].label.ends_with(&format!(":{}", position(FULL, "drop = ").0 - 1)), "{}", s.faults[2].label);
    let names: Vec<&str> = s.agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["agent-1", "agent-2", "big"]);
    assert_eq!(s.agents[0].resources[3].value, ValueSpec::Ranges(vec![(31000, 32000)]));
    assert_eq!(s.agents[0].attributes[1].value, AttrValue::Text("us-east-1a".into()));
    assert_eq!(s.agents[2].resources[0].role, "*");
    assert_eq!(s.agents[2].attributes_text, "");

    let pi = &s.apps[0];
    assert_eq!(pi.name, "org.apache.spark.examples.SparkPi");
    assert_eq!(pi.host, "edge-1");
    assert_eq!(pi.conf.opt_u32("spark.cores.max"), Ok(Some(8)));
    assert_eq!(pi.jobs[0].name, "pi");
    assert_eq!(pi.jobs[0].stages[0].duration, DurationDist::Fixed(Duration::from_millis(200)));
    assert_eq!(
        pi.jobs[0].stages[1].duration,
        DurationDist::Uniform { min: Duration::from_millis(100), max: Duration::from_secs(2) }
    );

    let etl = &s.apps[1];
    assert_eq!(etl.host, "edge");
    assert_eq!(etl.at, Duration::from_secs(60));
    assert_eq!(etl.submit.deploy_mode, DeployMode::Client);
    assert!(etl.submit.supervise);
    assert_eq!(etl.submit.app_args, ["--date", "2024-01-01"]);
    assert!(matches!(etl.submit.master, MasterUrl::MesosZk { .. }));
    assert_eq!(etl.jobs[0].name, "job-1");
    // Command line beats spark-defaults.conf; the file fills in the rest.
    assert_eq!(etl.conf.size_mib("spark.executor.memory", 1024), Ok(512));
    assert_eq!(etl.conf.opt_u32("spark.cores.max"), Ok(Some(2)));
    assert_eq!(etl.conf.get("spark.mesos.rejectOfferDuration"), Some("60s"));
    assert_eq!(etl.conf.get("not.spark.key"), None);
    assert_eq!(etl.conf.get("spark.driver.supervise"), Some("true"));
    assert_eq!(
        etl.jobs[0].stages[0].duration,
        DurationDist::Normal { mean: Duration::from_secs(1), stddev: Duration::from_millis(200) }
    );
}

#[test]
fn defaults_are_mesos_defaults() {
    let s = parse(MINIMAL).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.seed, 0);
    assert_eq!(s.until, Duration::from_secs(3600));
    assert_eq!(s.network.latency, Latency::DEFAULT);
    assert_eq!(s.master.name, "master");
    assert_eq!(s.master.allocation_interval, Duration::from_secs(1));
    assert_eq!(s.master.agent_ping_timeout, Duration::from_secs(15));
    assert_eq!(s.master.max_agent_ping_timeouts, 5);
    assert_eq!(s.master.offer_timeout, None);
    assert_eq!(s.apps[0].name, "app.jar");
    assert_eq!(s.apps[0].host, "edge");
    assert_eq!(s.apps[0].submit.deploy_mode, DeployMode::Client);
}

#[test]
fn unknown_key_points_at_the_key() {
    let src = MINIMAL.replace("name = \"a1\"", "name = \"a1\"\ncpu = 4");
    let d = errors(&src);
    assert_eq!(d.len(), 1);
    let (line, col) = position(&src, "cpu = 4");
    assert_eq!((d.0[0].line, d.0[0].col), (line, col));
    assert!(d.0[0].message.contains("unknown field `cpu`"), "{}", d);
    assert_eq!(d.0[0].source_line, "cpu = 4");
}

#[test]
fn bad_resources_points_at_its_line() {
    let src = MINIMAL.replace("cpus:1;mem:1024", "cpus:four");
    let d = errors(&src);
    let (line, col) = position(&src, "\"cpus:four\"");
    assert_eq!((d.0[0].line, d.0[0].col, d.0[0].span_len), (line, col, 11));
    let text = d.to_string();
    assert!(
        text.starts_with(&format!("error: scenarios/test.toml:{line}:{col}: bad resources string \"cpus:four\": ")),
        "{text}"
    );
    assert!(text.contains("`four` is not a number"), "{text}");
    assert!(text.ends_with("^^^^^^^^^^^"), "{text}");
}

#[test]
fn bad_submit_option_points_at_the_token_column() {
    let src = MINIMAL.replace("app.jar", "--foo app.jar");
    let d = errors(&src);
    let (line, col) = position(&src, "--foo");
    assert_eq!((d.0[0].line, d.0[0].col, d.0[0].span_len), (line, col, 5));
    assert_eq!(d.0[0].message, "unknown spark-submit option `--foo`");
}

#[test]
fn submit_errors_in_multiline_strings_find_the_real_line() {
    // `"""` with line-ending backslashes: TOML removes them before the
    // tokenizer runs, so the offset must be mapped back through the quoting.
    let basic = MINIMAL.replace(
        "submit = \"spark-submit --master mesos://master:5050 app.jar\"",
        "submit = \"\"\"spark-submit --master mesos://master:5050 \\\n  --class a.B \\\n  --bogus x app.jar\"\"\"",
    );
    let d = errors(&basic);
    assert_eq!((d.0[0].line, d.0[0].col), position(&basic, "--bogus"));
    // `'''` keeps the backslashes; the shell tokenizer handles them.
    let literal = MINIMAL.replace(
        "submit = \"spark-submit --master mesos://master:5050 app.jar\"",
        "submit = '''\nspark-submit --master mesos://master:5050 \\\n  --conf \"x\" \\\n  app.jar'''",
    );
    let d = errors(&literal);
    assert_eq!((d.0[0].line, d.0[0].col), position(&literal, "\"x\""));
    assert!(d.0[0].message.contains("key=value"));
    // Escapes before the token shift the column in the file, not in the value.
    let escaped = MINIMAL.replace("app.jar\"", "--conf spark.driver.extraJavaOptions=\\\"-Dx=1\\\" --nope app.jar\"");
    let d = errors(&escaped);
    assert_eq!((d.0[0].line, d.0[0].col), position(&escaped, "--nope"));
}

#[test]
fn all_semantic_problems_are_reported() {
    let src = r#"
[scenario]
name = "many"
until = "soon"
[master]
agent_ping_timeout = "1h"
[[agents]]
name = "a"
count = 2
resources = "cpus:1"
[[agents]]
name = "a-2"
resources = "cpus:1;ports:[5-1]"
[[agents]]
name = "z"
count = 0
resources = "cpus:1"
[[apps]]
submit = "spark-submit --master mesos://other:5050 app.jar"
[[apps.jobs]]
[[apps.jobs.stages]]
tasks = 0
duration = { uniform = ["2s", "1s"] }
[[apps.jobs.stages]]
tasks = 1
duration = { gamma = "1s" }
[[apps]]
submit = "spark-submit --master mesos://master:5050 app.jar"
"#;
    let d = errors(src);
    let text = d.to_string();
    let expect = [
        ("\"soon\"", "bad duration for `until`"),
        ("\"1h\"", "Mesos requires 1s to 15m"),
        ("\"a-2\"", "`a-2` is already defined on line 8 (`a` with `count`)"),
        ("\"cpus:1;ports:[5-1]\"", "ends before it begins"),
        ("0\nresources = \"cpus:1\"\n[[apps]]", "at least 1"),
        ("0\nduration", "`tasks` must be"),
        ("[\"2s\", \"1s\"]", "uniform min 2s is greater than max 1s"),
        ("gamma", "unknown distribution `gamma`"),
        ("mesos://other:5050", "only Mesos master is `master`"),
        ("[[apps]]\nsubmit = \"spark-submit --master mesos://master", "no `[[apps.jobs]]`"),
    ];
    for (needle, msg) in expect {
        let (line, col) = position(src, needle);
        assert!(
            d.iter().any(|x| x.line == line && x.col == col && x.message.contains(msg)),
            "missing `{msg}` at {line}:{col} in:\n{text}"
        );
    }
    assert_eq!(d.len(), expect.len(), "{text}");
}

#[test]
fn master_host_and_port_must_match() {
    let src = MINIMAL.replace("mesos://master:5050", "mesos://master:5051");
    assert!(errors(&src).to_string().contains("listens on port 5050"));
    let src = MINIMAL.replace("[[agents]]", "[master]\nname = \"m1\"\n[[agents]]");
    let d = errors(&src);
    assert_eq!((d.0[0].line, d.0[0].col), position(&src, "mesos://master:5050"));
    assert!(d.0[0].message.contains("`m1`"));
    let zk = MINIMAL.replace("mesos://master:5050", "mesos://zk://zk-1:2181/mesos");
    assert!(parse(&zk).is_ok());
}

#[test]
fn conf_type_errors_point_at_their_source() {
    let src = MINIMAL.replace("app.jar", "--conf spark.cores.max=eight --executor-memory 1.5g app.jar");
    let d = errors(&src);
    assert_eq!(d.len(), 2, "{d}");
    let cores = d.iter().find(|x| x.message.starts_with("spark.cores.max=eight")).unwrap();
    assert_eq!((cores.line, cores.col), position(&src, "spark.cores.max=eight"));
    let mem = d.iter().find(|x| x.message.contains("spark.executor.memory=1.5g")).unwrap();
    assert_eq!((mem.line, mem.col), position(&src, "1.5g"));

    // A bad value in spark-defaults.conf points into that file.
    let src = MINIMAL.replace("app.jar\"", "app.jar\"\nspark_defaults = \"d.conf\"");
    let mut read =
        files(&[("scenarios/d.conf", "spark.master mesos://x\n\nspark.mesos.executor.memoryOverhead 512m\n")]);
    let d = scenario::parse_with_reader("scenarios/test.toml", &src, &mut read).unwrap_err();
    assert_eq!(d.len(), 1, "{d}");
    assert_eq!(d.0[0].file, Path::new("scenarios/d.conf"));
    assert_eq!((d.0[0].line, d.0[0].col), (3, 1));
}

#[test]
fn spark_defaults_problems_name_the_file() {
    let src = MINIMAL.replace("app.jar\"", "app.jar\"\nspark_defaults = \"missing.conf\"");
    let d = errors(&src);
    assert!(d.0[0].message.contains("missing.conf"), "{d}");
    assert_eq!((d.0[0].line, d.0[0].col), position(&src, "\"missing.conf\""));

    let src = MINIMAL.replace("app.jar\"", "app.jar\"\nspark_defaults = \"bad.conf\"");
    let mut read = files(&[("scenarios/bad.conf", "spark.a 1\n\\u12zz oops\n")]);
    let d = scenario::parse_with_reader("scenarios/test.toml", &src, &mut read).unwrap_err();
    assert_eq!(d.0[0].file, Path::new("scenarios/bad.conf"));
    assert_eq!(d.0[0].line, 2);
}

#[test]
fn properties_file_replaces_spark_defaults() {
    let src = MINIMAL.replace("app.jar", "--properties-file p.conf app.jar");
    let mut read = files(&[("scenarios/p.conf", "spark.cores.max 3\n")]);
    let s = scenario::parse_with_reader("scenarios/test.toml", &src, &mut read).unwrap();
    assert_eq!(s.apps[0].conf.get("spark.cores.max"), Some("3"));
    let both = src.replace("app.jar\"", "app.jar\"\nspark_defaults = \"d.conf\"");
    let d = scenario::parse_with_reader("scenarios/test.toml", &both, &mut read).unwrap_err();
    assert!(d.0[0].message.contains("reads only one"), "{d}");
}

#[test]
fn deploy_mode_from_spark_defaults() {
    // spark-defaults.conf can set the deploy mode; cluster mode submits to a
    // MesosClusterDispatcher, so a --master naming the Mesos master (and a
    // scenario without [dispatcher]) is refused at the --master word.
    let src = MINIMAL.replace("app.jar\"", "app.jar\"\nspark_defaults = \"d.conf\"");
    let mut read = files(&[("scenarios/d.conf", "spark.a 1\nspark.submit.deployMode cluster\n")]);
    let d = scenario::parse_with_reader("scenarios/test.toml", &src, &mut read).unwrap_err();
    assert_eq!(d.len(), 1, "{d}");
    assert_eq!((d.0[0].line, d.0[0].col), position(&src, "mesos://master:5050"), "{d}");
    assert!(d.0[0].message.contains("names no dispatcher"), "{d}");
    assert!(d.0[0].message.contains("declare one with [dispatcher]"), "{d}");
    // On the command line too.
    let src = MINIMAL.replace("app.jar", "--deploy-mode cluster app.jar");
    let d = errors(&src);
    assert_eq!((d.0[0].line, d.0[0].col), position(&src, "mesos://master:5050"), "{d}");
    // What spark-submit would set in cluster mode is still resolved as Spark does.
    let submit = submit::parse_spark_submit("spark-submit --master mesos://m:5050 app.jar").unwrap();
    let defaults: BTreeMap<String, String> = [("spark.submit.deployMode".to_string(), "cluster".to_string())].into();
    let conf = SparkConf::resolve(&defaults, &submit);
    assert_eq!(conf.deploy_mode(), Ok(DeployMode::Cluster));
    assert_eq!(conf.get("spark.driver.supervise"), Some("false"));
}

#[test]
fn toml_syntax_errors_are_located() {
    let d = errors("[scenario]\nname = \"x\nseed = 1\n");
    assert_eq!(d.0[0].line, 2);
    let d = errors("[scenario]\nname = 5\n");
    assert_eq!((d.0[0].line, d.0[0].col), (2, 8));
}

#[test]
fn load_reports_a_missing_file() {
    let d = scenario::load("/nonexistent/mesocosm/x.toml").unwrap_err();
    assert_eq!(d.0[0].line, 0);
    assert!(d.to_string().starts_with("error: /nonexistent/mesocosm/x.toml: cannot read"));
}

// ---------------------------------------------------------------------------
// spark-submit
// ---------------------------------------------------------------------------

/// The seed document's command, placeholders filled in, one option per line
/// with `\` continuations and a double-quoted `-D` option.
const SEED_SUBMIT: &str = "spark-submit --master mesos://zk://zookeeper-001:2181,zookeeper-002:2181,zookeeper-003:2181/mesos \\
  --class com.example.Main \\
  --conf spark.cores.max=4 \\
  --conf spark.driver.memory=512M \\
  --conf spark.executor.memory=512M \\
  --conf spark.files=/etc/app.conf \\
  --conf spark.driver.extraJavaOptions=\"-Dconfig.file=/etc/app.conf\" \\
  --conf spark.executor.extraJavaOptions=\"-Dconfig.file=/etc/app.conf\" \\
  /opt/app/app.jar --input 'hdfs://x/y z'";

#[test]
fn seed_command_line() {
    let words: Vec<String> = submit::tokenize(SEED_SUBMIT).unwrap().into_iter().map(|t| t.text).collect();
    assert!(words.contains(&"spark.driver.extraJavaOptions=-Dconfig.file=/etc/app.conf".to_string()));
    let s = submit::parse_spark_submit(SEED_SUBMIT).unwrap();
    assert_eq!(
        s.master,
        MasterUrl::MesosZk {
            servers: vec![
                ("zookeeper-001".into(), 2181),
                ("zookeeper-002".into(), 2181),
                ("zookeeper-003".into(), 2181),
            ],
            path: "/mesos".into(),
        }
    );
    assert_eq!(s.master.to_string(), "mesos://zk://zookeeper-001:2181,zookeeper-002:2181,zookeeper-003:2181/mesos");
    assert_eq!(s.conf["spark.driver.extraJavaOptions"], "-Dconfig.file=/etc/app.conf");
    assert_eq!(s.conf["spark.driver.memory"], "512M");
    assert_eq!(s.primary_resource, "/opt/app/app.jar");
    assert_eq!(s.app_args, ["--input", "hdfs://x/y z"]);
    // The seed's Marathon `cmd` has no backslashes: bare newlines separate words too.
    let bare = SEED_SUBMIT.replace(" \\\n", "\n");
    assert_eq!(submit::parse_spark_submit(&bare).unwrap(), s);
}

#[test]
fn shorthand_beats_conf_and_conf_beats_defaults() {
    let s = submit::parse_spark_submit(
        "spark-submit --master mesos://m:5050 --total-executor-cores 6 --conf spark.cores.max=2 \
         --conf spark.executor.cores=1 --executor-cores 3 --conf spark.app.name=c --name n \
         --driver-memory 2g --executor-memory 3g --driver-cores 2 --jars a.jar,b.jar --files f \
         --conf spark.task.cpus=1 app.jar",
    )
    .unwrap();
    assert_eq!(s.conf["spark.cores.max"], "6");
    assert_eq!(s.conf["spark.executor.cores"], "3");
    assert_eq!(s.conf["spark.app.name"], "n");
    assert_eq!(s.conf["spark.driver.memory"], "2g");
    assert_eq!(s.conf["spark.executor.memory"], "3g");
    assert_eq!(s.conf["spark.driver.cores"], "2");
    assert_eq!(s.conf["spark.jars"], "a.jar,b.jar");
    assert_eq!(s.conf["spark.files"], "f");
    assert_eq!(s.conf["spark.master"], "mesos://m:5050");

    let defaults: BTreeMap<String, String> = [
        ("spark.task.cpus", "2"),
        ("spark.cores.max", "99"),
        ("spark.locality.wait", "0"),
        ("spark.app.name", "from-file"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let conf = SparkConf::resolve(&defaults, &s);
    assert_eq!(conf.get("spark.task.cpus"), Some("1"));
    assert_eq!(conf.get("spark.cores.max"), Some("6"));
    assert_eq!(conf.get("spark.locality.wait"), Some("0"));
    assert_eq!(conf.app_name(), "n");
    assert_eq!(conf.get("spark.submit.deployMode"), Some("client"));
}

#[test]
fn app_name_fallbacks_follow_spark_submit() {
    let no_defaults = BTreeMap::new();
    let with_class =
        submit::parse_spark_submit("spark-submit --master mesos://m --class a.b.Main x/y/app.jar").unwrap();
    assert_eq!(SparkConf::resolve(&no_defaults, &with_class).app_name(), "a.b.Main");
    let jar_only = submit::parse_spark_submit("spark-submit --master mesos://m x/y/app.jar").unwrap();
    assert_eq!(SparkConf::resolve(&no_defaults, &jar_only).app_name(), "app.jar");
    let file: BTreeMap<String, String> = [("spark.app.name".to_string(), "f".to_string())].into();
    assert_eq!(SparkConf::resolve(&file, &with_class).app_name(), "f");
}

// ---------------------------------------------------------------------------
// Never panic
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Bounds, time arithmetic and located refusals (issue 10)
// ---------------------------------------------------------------------------

/// `src` is refused with a diagnostic at the first `needle` whose message
/// contains `word`.
#[track_caller]
fn refused_at(src: &str, needle: &str, word: &str) {
    let d = errors(src);
    let want = position(src, needle);
    assert!(
        d.iter().any(|x| (x.line, x.col) == want && x.message.contains(word)),
        "wanted `{word}` at {want:?} ({needle}):\n{d}"
    );
}

#[test]
fn every_count_is_bounded_before_anything_is_allocated() {
    // Inside the old documented range (≤ u32::MAX), but no run can hold it.
    let src = MINIMAL.replace("tasks = 1", "tasks = 4000000000");
    refused_at(&src, "4000000000", "between 1 and 10000000");
    let src = MINIMAL.replace("tasks = 1", "tasks = 10000001");
    refused_at(&src, "10000001", "between 1 and 10000000");
    assert!(parse(&MINIMAL.replace("tasks = 1", "tasks = 10000000")).is_ok());
    // The bound is on the whole scenario, too.
    let two = MINIMAL.replace(
        "tasks = 1\nduration = \"1s\"",
        "tasks = 6000000\nduration = \"1s\"\n[[apps.jobs.stages]]\ntasks = 5000000\nduration = \"1s\"",
    );
    refused_at(&two, "5000000\n", "over 10000000 tasks in all");
    // Scalars: 1e300 was silently saturated to i64::MAX thousandths.
    for big in ["cpus:1e300", "cpus:1e308", "mem:2000000000", "cpus:1;disk:1e10"] {
        let src = MINIMAL.replace("cpus:1;mem:1024", big);
        refused_at(&src, &format!("\"{big}\""), "more than the largest scalar");
    }
    assert!(parse(&MINIMAL.replace("cpus:1;mem:1024", "cpus:1000000000;mem:1024")).is_ok());
    // Apps: each is a driver actor.
    let app = &MINIMAL[MINIMAL.find("[[apps]]").unwrap()..];
    let many = format!("{MINIMAL}{}", app.repeat(scenario::MAX_APPS));
    let d = errors(&many);
    assert!(d.iter().any(|x| x.message.contains("at most 10000 apps")), "{}", d.0[0]);
}

#[test]
fn durations_are_whole_microseconds_and_no_longer_than_a_run() {
    let cases = [
        // Sub-microsecond: 0 on the clock, so a timer re-armed at the same instant.
        (
            "[scenario]\nname = \"m\"",
            "[scenario]\nname = \"m\"\nuntil = \"0.5us\"",
            "\"0.5us\"",
            "whole number of microseconds",
        ),
        (
            "[[agents]]",
            "[master]\nallocation_interval = \"0.5us\"\n[[agents]]",
            "\"0.5us\"",
            "whole number of microseconds",
        ),
        ("duration = \"1s\"", "duration = \"1.0000005s\"", "\"1.0000005s\"", "whole number of microseconds"),
        // Each allocation cycle is a simulated step: 1us would be 600 million per 10 minutes.
        ("[[agents]]", "[master]\nallocation_interval = \"999us\"\n[[agents]]", "\"999us\"", "at least 1ms"),
        // Longer than any run: `until` (was an exit-2 message without a line).
        ("[scenario]\nname = \"m\"", "[scenario]\nname = \"m\"\nuntil = \"19h\"", "\"19h\"", "longest run"),
        // A fault time of 2^64 s overflowed when the restart was added (exit 101).
        (
            "duration = \"1s\"\n",
            "duration = \"1s\"\n[[faults]]\nkill = \"a1\"\nat = \"18446744073709551615s\"\nrestart_after = \"18446744073709551615s\"\n",
            "\"18446744073709551615s\"",
            "longest run",
        ),
        (
            "duration = \"1s\"\n",
            "duration = \"1s\"\n[[faults]]\nkill = \"a1\"\nat = \"10s\"\nrestart_after = \"5124095576030431h\"\n",
            "\"5124095576030431h\"",
            "longest run",
        ),
        ("duration = \"1s\"", "duration = { exponential = \"100d\" }", "\"100d\"", "longest run"),
    ];
    for (from, to, needle, word) in cases {
        let src = MINIMAL.replace(from, to);
        assert_ne!(src, MINIMAL, "{from}");
        refused_at(&src, needle, word);
    }
    // The longest run is accepted, and so is every duration up to it.
    let src = MINIMAL.replace("[scenario]\nname = \"m\"", "[scenario]\nname = \"m\"\nuntil = \"18h\"");
    assert_eq!(parse(&src).unwrap().until, scenario::MAX_DURATION);
}

#[test]
fn spark_values_rejected_after_parsing_point_at_their_word() {
    let cases = [
        // Rejected by Spark's config checks: exit 2 used to name no line.
        ("spark.executor.memoryOverheadFactor=nan", "expected a number"),
        ("spark.executor.memoryOverheadFactor=0", "greater than 0"),
        ("spark.mesos.containerizer=lxc", "should be one of docker, mesos"),
        ("spark.blockManager.port=80", "between 1024 and 65535"),
        // Used to become port 0 silently.
        ("spark.driver.port=99999999999", "non-negative whole number"),
        ("spark.driver.port=70000", "between 1024 and 65535"),
        // Mesos `roles::validate`.
        ("spark.mesos.role=..", "not a valid Mesos role"),
        ("spark.mesos.role=/eng", "not a valid Mesos role"),
        ("spark.mesos.role=eng/", "not a valid Mesos role"),
        ("spark.mesos.role=eng//ml", "not a valid Mesos role"),
        ("spark.mesos.role=eng/-ml", "not a valid Mesos role"),
        // Mesos refuses failover_timeout that is not a Duration.
        ("spark.mesos.driver.failoverTimeout=1e20", "Invalid failover_timeout"),
        // 213503983 days wrapped the clock and fired forever.
        ("spark.dynamicAllocation.executorIdleTimeout=213503983d", "too long"),
        ("spark.executor.heartbeatInterval=0", "period > 0"),
    ];
    for (conf, word) in cases {
        let src = MINIMAL.replace("app.jar", &format!("--conf {conf} app.jar"));
        refused_at(&src, conf, word);
    }
    let src = MINIMAL.replace(
        "app.jar",
        "--conf spark.dynamicAllocation.enabled=true --conf spark.dynamicAllocation.schedulerBacklogTimeout=0 app.jar",
    );
    refused_at(&src, "spark.dynamicAllocation.schedulerBacklogTimeout=0", "must be > 0");
    // Hierarchical roles and tiny failover timeouts are fine.
    let ok = MINIMAL.replace(
        "app.jar",
        "--conf spark.mesos.role=eng/ml --conf spark.mesos.driver.failoverTimeout=0.0000001 --conf spark.driver.port=7077 app.jar",
    );
    parse(&ok).unwrap_or_else(|d| panic!("{d}"));
}

#[test]
fn reserved_resources_are_refused_at_their_line() {
    let src = MINIMAL.replace("cpus:1;mem:1024", "cpus(spark):1;mem:1024");
    refused_at(&src, "\"cpus(spark):1;mem:1024\"", "reserved resources (`cpus(spark):1`)");
}

#[test]
fn a_slow_framework_after_the_run_is_refused() {
    let src = format!("{MINIMAL}[[faults]]\nslow = \"driver:*\"\nthink = \"1s\"\nafter = \"2h\"\n");
    refused_at(&src, "\"2h\"", "after the run stops at 1h");
}

#[test]
fn an_expectation_after_the_run_is_refused() {
    let src = format!("{MINIMAL}[[expect]]\nnever = \"OFFERS\"\nafter = \"2h\"\n");
    refused_at(&src, "\"2h\"", "the run stops at 1h");
    let src = format!("{MINIMAL}[[expect]]\nnever = \"OFFERS\"\nafter = \"59m\"\n");
    assert!(parse(&src).is_ok());
}

#[test]
fn a_where_value_of_the_wrong_type_is_bad_input() {
    let src =
        format!("{MINIMAL}[[expect]]\ncount = \"DECLINE\"\nwhere = {{ refuse_seconds = \"lots\" }}\nat_least = 1\n");
    refused_at(&src, "\"lots\"", "is a number");
    let src =
        format!("{MINIMAL}[[expect]]\ncount = \"PingSlaveMessage\"\nwhere = {{ connected = \"yes\" }}\nat_least = 1\n");
    refused_at(&src, "\"yes\"", "true or false");
    for good in ["refuse_seconds = 120", "refuse_seconds = \"120\"", "refuse_seconds = 1.5"] {
        let src = format!("{MINIMAL}[[expect]]\ncount = \"DECLINE\"\nwhere = {{ {good} }}\nat_least = 1\n");
        parse(&src).unwrap_or_else(|d| panic!("{good}: {d}"));
    }
}

#[test]
fn huge_resource_strings_cost_near_linear_time() {
    // 8,000 port ranges took 37 s; sets were quadratic too (now also bounded).
    let ranges: Vec<String> = (0..20_000u64).map(|i| format!("{}-{}", 3 * i, 3 * i + 1)).collect();
    let set: Vec<String> = (0..1_000).map(|i| format!("v{i}")).collect();
    let many: Vec<String> = (0..5_000).map(|i| format!("ports:[{}-{}]", 100_000 + 3 * i, 100_000 + 3 * i)).collect();
    let text = format!("cpus:1;mem:1024;ports:[{}];colours:{{{}}};{}", ranges.join(","), set.join(","), many.join(";"));
    let specs = mesocosm::mesos_syntax::parse_resources(&text).unwrap();
    let protos = mesocosm::runner::resources(&specs).unwrap();
    let r = mesocosm_sim::proto::Resources::from_protos(&protos);
    assert_eq!(r.ranges("ports").len(), 25_000);
    let src = MINIMAL.replace("cpus:1;mem:1024", &text);
    parse(&src).unwrap_or_else(|d| panic!("{d}"));
    // A set is at most 1,000 items (the run compares whole sets at every step).
    let huge: Vec<String> = (0..20_000).map(|i| format!("v{i}")).collect();
    let src = MINIMAL.replace("cpus:1;mem:1024", &format!("cpus:1;mem:1024;colours:{{{}}}", huge.join(",")));
    refused_at(&src, "\"cpus:1;mem:1024;colours", "a set has at most 1000 items, this one 20000");
}

/// A scratch directory for tests that need real files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mesocosm-lang-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn files_that_are_not_utf8_are_located_at_the_first_bad_byte() {
    let dir = scratch("utf8");
    let file = dir.join("bad.toml");
    let mut bytes = b"[scenario]\nname = \"m\"\n# caf".to_vec();
    bytes.extend_from_slice(&[0xe9, b'\n']); // Latin-1 é
    std::fs::write(&file, &bytes).unwrap();
    let d = scenario::load(&file).unwrap_err();
    assert_eq!((d.0[0].line, d.0[0].col), (3, 6), "{d}");
    assert!(d.to_string().contains("not UTF-8"), "{d}");

    // A spark-defaults file: the message names its line and column.
    let conf = dir.join("d.conf");
    std::fs::write(&conf, b"spark.a 1\nspark.b \xff\n").unwrap();
    let src = MINIMAL.replace("app.jar\"", "app.jar\"\nspark_defaults = \"d.conf\"");
    let d = scenario::parse(dir.join("s.toml"), &src).unwrap_err();
    assert!(d.to_string().contains(&format!("{}:2:9", conf.display())), "{d}");
}

#[test]
fn spark_defaults_reads_are_capped() {
    let dir = scratch("cap");
    let big = dir.join("big.conf");
    std::fs::write(&big, "# padding\n".repeat(200_000)).unwrap(); // 2 MB
    let src = MINIMAL.replace("app.jar\"", "app.jar\"\nspark_defaults = \"big.conf\"");
    let d = scenario::parse(dir.join("s.toml"), &src).unwrap_err();
    assert!(d.to_string().contains("larger than 1048576 bytes"), "{d}");
    assert_eq!((d.0[0].line, d.0[0].col), position(&src, "\"big.conf\""));
    // /dev/zero used to be read until 2 GB.
    if Path::new("/dev/zero").exists() {
        let src = MINIMAL.replace("app.jar\"", "app.jar\"\nspark_defaults = \"/dev/zero\"");
        let d = scenario::parse("s.toml", &src).unwrap_err();
        assert!(d.to_string().contains("larger than"), "{d}");
    }
}

#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
    Duplicate(usize, usize),
}

fn apply(src: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = src.chars().collect();
    for e in edits {
        let n = chars.len().max(1);
        match *e {
            Edit::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
            Edit::Delete(i) if !chars.is_empty() => {
                chars.remove(i % n);
            }
            Edit::Replace(i, c) if !chars.is_empty() => chars[i % n] = c,
            Edit::Duplicate(i, len) if !chars.is_empty() => {
                let start = i % n;
                let end = (start + len % 40).min(chars.len());
                let copy: Vec<char> = chars[start..end].to_vec();
                chars.splice(start..start, copy);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn edit() -> impl Strategy<Value = Edit> {
    let c = prop_oneof![
        proptest::char::any(),
        proptest::sample::select(vec![
            '"', '\'', '\\', '\n', '[', ']', '{', '}', '=', ',', ':', ';', '-', '0', '9', '#', ' ', 'é'
        ]),
    ];
    prop_oneof![
        (any::<usize>(), c.clone()).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), c).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, l)| Edit::Duplicate(i, l)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in ".{0,400}") {
        if let Err(d) = parse(&src) {
            let _ = d.to_string();
        }
        let _ = submit::parse_spark_submit(&src);
        let _ = submit::parse_properties(&src);
        let _ = mesocosm::mesos_syntax::parse_resources(&src);
        let _ = mesocosm::mesos_syntax::parse_attributes(&src);
        let _ = mesocosm::units::parse_duration(&src);
    }

    #[test]
    fn mutated_scenarios_never_panic(edits in proptest::collection::vec(edit(), 1..8)) {
        let src = apply(FULL, &edits);
        if let Err(d) = parse(&src) {
            for x in &d {
                prop_assert!(x.line >= 1, "{x}");
                prop_assert!(x.span_len >= 1);
            }
            let _ = d.to_string();
        }
    }

    #[test]
    fn mutated_submit_lines_never_panic(edits in proptest::collection::vec(edit(), 1..8)) {
        let line = apply(SEED_SUBMIT, &edits);
        if let Err(e) = submit::parse_spark_submit(&line) {
            prop_assert!(e.offset + e.len <= line.len());
            prop_assert!(line.get(e.offset..e.offset + e.len).is_some());
        }
    }
}
