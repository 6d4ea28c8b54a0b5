//! The scenario language's deploy paths besides client mode: Marathon app
//! definitions (`[marathon]`, JSON with located errors) and cluster mode
//! (`[dispatcher]`, `--deploy-mode cluster`). Split from `lang.rs` by part of
//! the language.

use std::path::Path;

mod common;

use common::lang::{MINIMAL, errors, files, position};
use mesocosm::diag::Diagnostics;
use mesocosm::scenario::{self, Scenario};

// ---------------------------------------------------------------------------
// Marathon app definitions ([marathon], JSON)
// ---------------------------------------------------------------------------

const MARATHON: &str = r#"
[scenario]
name = "m"
[[agents]]
name = "a1"
resources = "cpus:4;mem:4096;ports:[31000-31010]"
[marathon]
[[marathon.apps]]
json = "marathon/app.json"
"#;

/// The seed's app JSON, its cmd on one line (as a JSON string must be).
const SEED_APP: &str = r#"{
  "id": "/test-docker-spark",
  "cmd": "spark-submit --master mesos://master:5050 --class Main app.jar",
  "cpus": 2,
  "mem": 512,
  "disk": 0,
  "instances": 1,
  "constraints": [],
  "container": {
    "type": "DOCKER",
    "volumes": [{"containerPath": "/data", "hostPath": "/srv", "mode": "RO"}],
    "docker": {"image": "spark", "network": "HOST", "portMappings": null, "privileged": false,
               "parameters": [], "forcePullImage": true}
  },
  "portDefinitions": [{"port": 10014, "protocol": "tcp", "labels": {}}],
  "uris": ["file:///etc/docker.tar.gz"],
  "fetch": [{"uri": "file:///etc/docker.tar.gz", "extract": true, "executable": false, "cache": false}]
}"#;

fn parse_marathon(src: &str, app: &str) -> Result<Scenario, Diagnostics> {
    let map = [("scenarios/marathon/app.json", app)];
    let mut read = files(&map);
    scenario::parse_with_reader("scenarios/test.toml", src, &mut read)
}

#[test]
fn the_seed_app_json_makes_the_marathon_framework() {
    let s = parse_marathon(MARATHON, SEED_APP).unwrap_or_else(|d| panic!("{d}"));
    let m: Vec<_> = s.frameworks.iter().filter(|f| f.kind == "marathon").collect();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].name, "marathon");
    assert!(format!("{:?}", m[0].spec).contains("/test-docker-spark"));
}

/// Bad app JSON, each refused in the JSON file at the first `needle`, with
/// a message holding `word` and, for semantic problems, the JSON path.
#[test]
fn bad_marathon_apps_are_refused_in_the_json_file_with_the_path() {
    let cases: [(&str, &str, &str, &str); 9] = [
        // A line break inside a string other than `cmd`: JSON forbids it, and
        // only the app's cmd is read leniently.
        ("\"id\": \"/test-docker-spark\"", "\"id\": \"/test-docker-spark\n\"", "\n\"", "line break"),
        ("\"cpus\": 2,", "\"cpus\": 2, ]", "]", "field name"),
        (
            "\"disk\": 0,",
            "\"disk\": 0, \"dsik\": 1,",
            "\"dsik\"",
            "`dsik` is not a field of a Marathon app here (known:",
        ),
        ("\"disk\": 0,", "\"disk\": 0, \"healthChecks\": [],", "\"healthChecks\"", "does not model"),
        ("\"constraints\": []", "\"constraints\": [[\"hostname\", \"SPREAD\"]]", "\"SPREAD\"", "/constraints/0/1"),
        ("\"disk\": 0,", "\"disk\": 0, \"backoffSeconds\": -5,", "-5", "/backoffSeconds"),
        ("\"disk\": 0,", "\"disk\": 0, \"backoffFactor\": 0.5,", "0.5", "at least 1"),
        ("\"mode\": \"RO\"", "\"mode\": \"RX\"", "\"RX\"", "/container/volumes/0/mode"),
        (
            "\"image\": \"spark\"",
            "\"image\": \"spark\", \"netwrk\": \"HOST\"",
            "\"netwrk\"",
            "/container/docker/netwrk",
        ),
    ];
    for (from, to, needle, word) in cases {
        assert!(SEED_APP.contains(from), "{from}");
        let app = SEED_APP.replacen(from, to, 1);
        let d = match parse_marathon(MARATHON, &app) {
            Ok(_) => panic!("{to}: expected diagnostics"),
            Err(d) => d,
        };
        let want = position(&app, needle);
        assert!(
            d.iter().any(|x| x.file == Path::new("scenarios/marathon/app.json")
                && (x.line, x.col) == want
                && x.message.contains(word)),
            "{to}: wanted `{word}` at {want:?}:\n{d}"
        );
    }
}

/// The seed's cmd as written spans lines: read as one command line, with a
/// warning at the first line break (file:line:col of the JSON file, or of the
/// scenario for inline JSON).
#[test]
fn a_multi_line_cmd_runs_as_one_command_line_with_a_warning() {
    let from = "\"cmd\": \"spark-submit --master mesos://master:5050 --class Main app.jar\"";
    let to = "\"cmd\": \"spark-submit --master mesos://master:5050 \n            --class Main\n            app.jar\"";
    assert!(SEED_APP.contains(from));
    let app = SEED_APP.replacen(from, to, 1);
    let s = parse_marathon(MARATHON, &app).unwrap_or_else(|d| panic!("{d}"));
    let [w] = &s.warnings[..] else { panic!("one warning: {:?}", s.warnings) };
    assert_eq!(w.file, Path::new("scenarios/marathon/app.json"));
    assert_eq!((w.line, w.col), position(&app, "\n            --class"), "{w:?}");
    assert!(w.message.contains("Marathon's JSON parser refuses") && w.message.contains("sh -c"), "{}", w.message);
    let spec = format!("{:?}", s.frameworks[0].spec);
    assert!(spec.contains("spark-submit --master mesos://master:5050  --class Main app.jar"), "{spec}");
    // Inline, the warning is at the scenario's own line and column.
    let inline = MARATHON
        .replace("json = \"marathon/app.json\"", "inline = '''\n{\"id\": \"/a\", \"cmd\": \"sleep\n  1\"}\n'''");
    let s = parse_marathon(&inline, SEED_APP).unwrap_or_else(|d| panic!("{d}"));
    let [w] = &s.warnings[..] else { panic!("one warning: {:?}", s.warnings) };
    assert_eq!(w.file, Path::new("scenarios/test.toml"));
    assert_eq!((w.line, w.col), position(&inline, "\n  1"), "{w:?}");
    // A one-line cmd gives no warning.
    assert!(parse_marathon(MARATHON, SEED_APP).unwrap().warnings.is_empty());
}

#[test]
fn bad_marathon_tables_are_refused_in_the_scenario() {
    // Inline JSON: the problem at the scenario file's own line and column.
    let inline = MARATHON.replace(
        "json = \"marathon/app.json\"",
        "inline = '''\n{\"id\": \"/a\", \"cmd\": \"sleep 1\",\n \"constraints\": [[\"rack\", \"NEAR\", \"x\"]]}\n'''",
    );
    let d = parse_marathon(&inline, SEED_APP).unwrap_err();
    let want = position(&inline, "\"NEAR\"");
    assert!(
        d.iter().any(|x| (x.line, x.col) == want && x.message.contains("not a Marathon constraint operator")),
        "{d}"
    );
    // A missing file, both keys, an unknown key, no apps.
    let missing = parse_marathon(&MARATHON.replace("app.json", "nope.json"), SEED_APP).unwrap_err();
    assert!(missing.iter().any(|x| x.message.contains("cannot read the Marathon app")), "{missing}");
    let both = MARATHON.replace("json = \"marathon/app.json\"", "json = \"marathon/app.json\"\ninline = \"{}\"");
    assert!(parse_marathon(&both, SEED_APP).unwrap_err().iter().any(|x| x.message.contains("exactly one of")));
    let unknown = MARATHON.replace("[marathon]", "[marathon]\nappz = []");
    assert!(parse_marathon(&unknown, SEED_APP).unwrap_err().iter().any(|x| x.message.contains("unknown field")));
    let none = MARATHON.replace("[[marathon.apps]]\njson = \"marathon/app.json\"\n", "");
    assert!(parse_marathon(&none, SEED_APP).unwrap_err().iter().any(|x| x.message.contains("at least one")));
}

#[test]
fn cluster_mode_needs_a_dispatcher_its_requests_name_apps_and_its_conf_starts() {
    let with =
        |extra: &str, line: &str| MINIMAL.replace("spark-submit --master mesos://master:5050 app.jar", line) + extra;
    let cluster = "spark-submit --deploy-mode cluster --master mesos://dispatcher:7077 --name pi --class Pi app.jar";
    let ok = with("[dispatcher]\n", cluster);
    let s = scenario::parse("scenarios/test.toml", &ok).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.dispatcher.as_ref().unwrap().conf.host, "dispatcher");
    // A dispatcher URL naming another host.
    let src = with("[dispatcher]\nhost = \"spark-dispatcher\"\n", cluster);
    let d = errors(&src);
    assert_eq!((d.0[0].line, d.0[0].col), position(&src, "mesos://dispatcher:7077"), "{d}");
    assert!(d.0[0].message.contains("here mesos://spark-dispatcher:7077"), "{d}");
    // A kill of a submission no app makes.
    let src = with("[dispatcher]\n[[dispatcher.requests]]\nkill = \"nope\"\nat = \"5s\"\n", cluster);
    let d = errors(&src);
    assert_eq!((d.0[0].line, d.0[0].col), position(&src, "\"nope\""), "{d}");
    assert!(d.0[0].message.contains("no cluster-mode app is named `nope`"), "{d}");
    // Negative retry settings, a non-numeric queue weight: the dispatcher would not start.
    let src = with("[dispatcher]\nconf = { \"spark.mesos.cluster.retry.wait.max\" = \"-1\" }\n", cluster);
    let d = errors(&src);
    assert_eq!((d.0[0].line, d.0[0].col), position(&src, "{ \"spark.mesos.cluster"), "{d}");
    assert!(d.0[0].message.contains("must not be negative"), "{d}");
    let src = with("[dispatcher]\nconf = { \"spark.mesos.dispatcher.queue.hi\" = \"high\" }\n", cluster);
    assert!(errors(&src).0[0].message.contains("NumberFormatException"));
}

#[test]
fn expectations_name_the_spark_submit_processes_and_the_rest_fields() {
    let cluster = "spark-submit --deploy-mode cluster --master mesos://dispatcher:7077 --name pi --class Pi app.jar";
    let base = MINIMAL.replace("spark-submit --master mesos://master:5050 app.jar", cluster)
        + "[dispatcher]\n[[dispatcher.requests]]\nkill = \"pi\"\nat = \"5s\"\n";
    let ok = base.clone()
        + "[[expect]]\ncount = \"KillSubmissionResponse\"\nto = \"spark-submit:kill:pi\"\nwhere = { message = \"Cannot find driver\" }\nexactly = 0\n"
        + "[[expect]]\napp = \"spark-submit:pi\"\nfinishes = true\n";
    scenario::parse("scenarios/test.toml", &ok).unwrap_or_else(|d| panic!("{d}"));
    // A client that does not run: the kill is about pi, not etl.
    let src =
        base.clone() + "[[expect]]\ncount = \"KillSubmissionResponse\"\nto = \"spark-submit:kill:etl\"\nexactly = 1\n";
    let d = errors(&src);
    assert_eq!((d.0[0].line, d.0[0].col), position(&src, "\"spark-submit:kill:etl\""), "{d}");
    assert!(d.0[0].message.contains("spark-submit:kill:pi"), "the known ones are listed: {d}");
    // A field the response does not have.
    let src =
        base + "[[expect]]\ncount = \"KillSubmissionResponse\"\nwhere = { driverState = \"RUNNING\" }\nexactly = 1\n";
    let d = errors(&src);
    assert_eq!(d.0[0].line, position(&src, "driverState").0, "{d}");
}

/// Marathon never exits: like the dispatcher, it is a service the run does not
/// wait for, so a scenario passes without stating that it keeps running.
#[test]
fn marathon_is_a_service_the_run_runs_beside_not_a_framework_it_waits_for() {
    let src = r#"
[scenario]
name = "m"
until = "30s"
[[agents]]
name = "a1"
resources = "cpus:4;mem:4096;ports:[31000-31010]"
[marathon]
[[marathon.apps]]
inline = '''{"id": "/web", "cmd": "sleep 600", "cpus": 1, "mem": 128}'''
"#;
    let s = scenario::parse("scenarios/test.toml", src).unwrap_or_else(|d| panic!("{d}"));
    let r = mesocosm::runner::run(&s, mesocosm::runner::RunOptions::default()).expect("the run");
    assert!(r.passed(), "{:#?}", r.checks);
    assert!(r.checks.is_empty(), "{:#?}", r.checks);
}
