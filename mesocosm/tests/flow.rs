//! `mesocosm run … --perfetto/--mermaid` and the timeline filters, through the
//! real binary, on library scenarios with faults.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;

mod common;

use common::{library, mesocosm, text};

fn out_dir() -> PathBuf {
    common::out_dir("flow-rs")
}

/// The trace-event format's rules, checked on a run with a dropped message:
/// one named track per actor, every flow start has its finish with the same
/// id on another track, timestamps are the run's virtual microseconds, and the
/// fault is an instant where it acted.
#[test]
fn the_perfetto_export_has_a_track_per_actor_flows_for_messages_and_the_fault() {
    let dir = out_dir();
    let perfetto = dir.join("dropped.json");
    let trace = dir.join("dropped.jsonl");
    let file = library("dropped-status-update.toml");
    let o = mesocosm(&[
        "run",
        file.to_str().unwrap(),
        "--quiet",
        "--trace",
        trace.to_str().unwrap(),
        "--perfetto",
        perfetto.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&perfetto).unwrap()).expect("valid JSON");
    let events = v["traceEvents"].as_array().expect("a traceEvents array");

    let tracks: BTreeMap<(u64, u64), String> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| ((e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap()), e["args"]["name"].as_str().unwrap().into()))
        .collect();
    let by_name: BTreeMap<&str, (u64, u64)> = tracks.iter().map(|(k, v)| (v.as_str(), *k)).collect();
    assert_eq!(by_name["master"].0, 1, "the master is in the masters process");
    assert_eq!(by_name["agent-1"].0, 2, "agents in the agents process");
    assert_eq!(by_name["driver:pi"].0, 3, "the driver in the frameworks process");
    assert!(by_name.keys().any(|n| n.starts_with("executor:pi/")), "executors have tracks: {by_name:?}");

    // Every message of the JSONL trace is one flow, from its sender's track to its receiver's.
    let messages: Vec<Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r.get("proto").is_some())
        .collect();
    let starts: Vec<&Value> = events.iter().filter(|e| e["ph"] == "s").collect();
    let finishes: BTreeMap<u64, &Value> =
        events.iter().filter(|e| e["ph"] == "f").map(|e| (e["id"].as_u64().unwrap(), e)).collect();
    assert_eq!(starts.len(), messages.len());
    assert_eq!(finishes.len(), messages.len());
    let mut last = 0;
    for (s, m) in starts.iter().zip(&messages) {
        let f = finishes[&s["id"].as_u64().unwrap()];
        let at = |e: &Value| tracks[&(e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap())].clone();
        assert_eq!((at(s), at(f)), (m["from"].as_str().unwrap().to_string(), m["to"].as_str().unwrap().to_string()));
        assert_eq!((&s["ts"], &f["ts"]), (&m["t"], &m["t"]));
        assert_eq!(f["bp"], "e", "a finish binds to the receiver's slice");
        let ts = s["ts"].as_u64().unwrap();
        assert!(ts >= last && ts <= 600_000_000, "timestamps are virtual µs in order, within until: {ts}");
        last = ts;
    }

    let faults: Vec<&Value> = events.iter().filter(|e| e["cat"] == "fault").collect();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0]["ph"], "i");
    assert_eq!(faults[0]["name"], "⚡ drop master driver:pi UPDATE");
    assert_eq!(faults[0]["tid"].as_u64(), Some(by_name["master"].1));
    assert_eq!(faults[0]["args"]["rule"], "dropped-status-update.toml:30");

    // The master's DRF shares: a counter on the masters process per allocation cycle.
    let shares = std::fs::read_to_string(&trace).unwrap().lines().filter(|l| l.contains(r#""type":"shares""#)).count();
    let counters: Vec<&Value> = events.iter().filter(|e| e["ph"] == "C").collect();
    assert!(shares > 0);
    assert_eq!(counters.len(), shares);
    assert!(counters.iter().all(|c| c["pid"] == 1 && c["name"] == "DRF dominant share"), "{counters:?}");
    assert!(counters.iter().any(|c| c["args"]["pi"].is_f64()), "a share for framework pi: {counters:?}");
}

/// The filters shape the live timeline, and `mesocosm flow` prints the same
/// message lines from the saved trace.
#[test]
fn filters_keep_only_what_they_name_live_and_from_a_saved_trace() {
    let dir = out_dir();
    let trace = dir.join("gone.jsonl");
    let mermaid = dir.join("gone.mmd");
    let file = library("agent-gone.toml");
    let filters = ["--kinds", "OFFERS,ACCEPT,DECLINE,RunTaskMessage", "--only", "master,driver:*", "--to", "40s"];
    let mut args = vec!["run", file.to_str().unwrap(), "--trace", trace.to_str().unwrap()];
    args.extend(["--mermaid", mermaid.to_str().unwrap()]);
    args.extend(filters);
    let o = mesocosm(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    let timeline: Vec<&str> = stdout.lines().take_while(|l| !l.trim().is_empty()).collect();
    let messages: Vec<&str> = timeline.iter().copied().filter(|l| l.contains(" → ")).collect();
    assert!(messages.len() > 3, "{stdout}");
    for l in &messages {
        let kind = l.split("  ").nth(2).unwrap_or("");
        assert!(["OFFERS", "ACCEPT", "DECLINE", "RunTaskMessage"].contains(&kind), "kept {l}");
        let secs: f64 = l.split('s').next().unwrap().trim().parse().unwrap();
        assert!(secs <= 40.0, "after --to: {l}");
    }
    assert!(timeline.iter().any(|l| l.contains("⚡ kill")), "the kill of agent-2 at 15 s stays: {stdout}");
    assert!(!timeline.iter().any(|l| l.contains("PingSlaveMessage")), "pings are not OFFERS");
    assert!(stdout.contains("digest"), "the summary is not filtered");

    let o = mesocosm(&[&["flow", trace.to_str().unwrap()][..], &filters[..]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let saved = text(&o.stdout);
    let saved: Vec<&str> = saved.lines().filter(|l| l.contains(" → ")).collect();
    assert_eq!(saved, messages, "the same message lines, live and from the saved trace");

    let m = std::fs::read_to_string(&mermaid).unwrap();
    assert!(m.starts_with("sequenceDiagram\n    box masters\n        participant a0 as master\n"), "{m}");
    assert_eq!(m.lines().filter(|l| l.contains("->>")).count(), messages.len());
    assert!(m.contains("Note over a0,") && m.contains("⚡ kill agent-2"), "{m}");
}

#[test]
fn bad_filters_and_bad_traces_exit_2_saying_where() {
    let pi = library("spark-pi.toml");
    let o = mesocosm(&["run", pi.to_str().unwrap(), "--kinds", "OFFERS,OFFER"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).starts_with("error: --kinds: unknown message kind `OFFER` (known kinds: "),
        "{}",
        text(&o.stderr)
    );
    let o = mesocosm(&["run", pi.to_str().unwrap(), "--hide", "chatter"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("unknown group `chatter`"), "{}", text(&o.stderr));

    let bad = out_dir().join("bad.jsonl");
    std::fs::write(&bad, "{\"t\":1,\"fault\":\"kill\",\"rule\":\"r\"}\n{\"t\":2,\"from\":\"a\",\"to\":\"b\",\"proto\":\"p\",\"kind\":[]}\n").unwrap();
    let o = mesocosm(&["flow", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("bad.jsonl:2:"), "file:line:col: {err}");
    assert!(err.contains("not a trace record"), "{err}");
}

/// docs/protocol.md shows a diagram drawn from a real run; it must be what its
/// command draws today, so the learner's guide cannot drift from the code.
#[test]
fn the_protocol_guide_shows_what_its_command_draws() {
    let guide = std::fs::read_to_string(library("../docs/protocol.md")).expect("docs/protocol.md");
    let command = guide
        .lines()
        .find(|l| l.starts_with("mesocosm run scenarios/spark-pi.toml") && l.contains("--mermaid"))
        .expect("the guide gives its command");
    let shown = guide.split("```mermaid\n").nth(1).and_then(|s| s.split("```").next()).expect("a mermaid block");
    let drawn = out_dir().join("guide.mmd");
    let mut args: Vec<String> = command.split_whitespace().skip(1).map(String::from).collect();
    args[1] = library("spark-pi.toml").to_string_lossy().into_owned();
    let at = args.iter().position(|a| a == "--mermaid").unwrap() + 1;
    args[at] = drawn.to_string_lossy().into_owned();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = mesocosm(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(&drawn).unwrap(), shown, "regenerate the diagram in docs/protocol.md");
}

/// The JSONL trace keeps the narration and the containers' lifecycle for a
/// reader, and the digest does not see them: keeping a trace, or explaining,
/// never changes a digest.
#[test]
fn notes_and_events_are_in_the_trace_file_but_not_in_the_digest() {
    let file = library("agent-gone.toml");
    let trace = out_dir().join("said.jsonl");
    let digest = |o: &Output| {
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        text(&o.stdout).lines().find(|l| l.trim_start().starts_with("digest:")).expect("a digest line").to_string()
    };
    let plain = digest(&mesocosm(&["run", file.to_str().unwrap(), "--quiet"]));
    let kept = digest(&mesocosm(&["run", file.to_str().unwrap(), "--quiet", "--trace", trace.to_str().unwrap()]));
    let explained = digest(&mesocosm(&["run", file.to_str().unwrap(), "--explain"]));
    assert_eq!((&kept, &explained), (&plain, &plain));

    let said: Vec<Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r.get("type").is_some())
        .collect();
    let has = |kind: &str, actor: &str, text: &str| {
        said.iter()
            .any(|r| r["type"] == kind && r["actor"] == actor && r["text"].as_str().is_some_and(|t| t.contains(text)))
    };
    assert!(has("note", "master", "allocate "), "the master's allocation narration");
    assert!(has("event", "executor:etl/0", "container started on agent-2"), "a container's start");
    // A container's start and exit carry their agent as a field, not only in the text.
    let on_agent = |text: &str| {
        said.iter().any(|r| {
            r["type"] == "event"
                && r["actor"] == "executor:etl/0"
                && r["agent"] == "agent-2"
                && r["text"].as_str().is_some_and(|t| t.starts_with(text))
        })
    };
    assert!(on_agent("container started on ") && on_agent("exited with status "), "{said:?}");
    assert!(said.iter().filter(|r| r["actor"] == "master").all(|r| r.get("agent").is_none()), "only containers'");
    // The master's DRF shares after each cycle, outside the digest like the notes.
    assert!(said.iter().any(|r| r["type"] == "shares" && r["shares"][0]["framework"] == "etl"), "the shares");
    assert!(said.iter().all(|r| r.get("proto").is_none() && r["t"].is_u64()));
}

/// `mesocosm decode` turns every message of a real run back into its fields,
/// from the descriptors compiled into the binary.
#[test]
fn every_message_of_a_run_decodes_by_its_name() {
    let trace = out_dir().join("decode.jsonl");
    let file = library("offer-decline.toml");
    let o = mesocosm(&["run", file.to_str().unwrap(), "--quiet", "--trace", trace.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = mesocosm(&["decode", trace.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let saved = std::fs::read_to_string(&trace).unwrap();
    let decoded: Vec<Value> = text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(decoded.len(), saved.lines().count(), "one output line per record");
    let messages: Vec<&Value> = decoded.iter().filter(|r| r.get("proto").is_some()).collect();
    assert!(messages.iter().all(|m| m.get("bytes").is_none() && m["message"].is_object()));
    let decline = messages.iter().find(|m| m["kind"] == "DECLINE").expect("the scenario declines");
    assert_eq!(decline["message"]["type"], "DECLINE");
    assert!(decline["message"]["decline"]["offerIds"][0]["value"].is_string(), "{decline}");

    let line = saved.lines().position(|l| l.contains("\"kind\":\"DECLINE\"")).unwrap() + 1;
    let o = mesocosm(&["decode", trace.to_str().unwrap(), "--line", &line.to_string()]);
    let one: Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    assert_eq!(&&one, decline);
    let o = mesocosm(&["decode", trace.to_str().unwrap(), "--line", "0"]);
    assert_eq!(o.status.code(), Some(2));

    let bad = out_dir().join("bad-bytes.jsonl");
    std::fs::write(&bad, "{\"t\":1,\"from\":\"a\",\"to\":\"b\",\"proto\":\"mesos.v1.scheduler.Call\",\"kind\":\"X\",\"summary\":\"\",\"bytes\":\"Cg==\"}\n").unwrap();
    let o = mesocosm(&["decode", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("bad-bytes.jsonl:1:") && err.contains("`bytes` is not a `mesos.v1.scheduler.Call`"), "{err}");
}

/// The Mermaid export renders with the Mermaid CLI (`mmdc`, npm's
/// @mermaid-js/mermaid-cli) when it is on the PATH: a run with a fault, Mesos's
/// layer, drawn to SVG with every participant in it. Without `mmdc` the test
/// says SKIPPED past libtest's capture, so the skip shows in every run.
#[test]
fn the_mermaid_export_renders_with_the_mermaid_cli_when_installed() {
    let mmdc =
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("mmdc")).find(|f| f.is_file()));
    let Some(mmdc) = mmdc else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the Mermaid CLI check: mmdc is not on the PATH (npm install -g @mermaid-js/mermaid-cli)"
        );
        return;
    };
    let dir = out_dir();
    let (mmd, svg, config) = (dir.join("cli.mmd"), dir.join("cli.svg"), dir.join("puppeteer.json"));
    let file = library("agent-gone.toml");
    let o = mesocosm(&[
        "run",
        file.to_str().unwrap(),
        "--quiet",
        "--layer",
        "mesos",
        "--hide",
        "pings,heartbeats,acks",
        "--to",
        "20s",
        "--mermaid",
        mmd.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // mmdc drives a headless browser; point it at Debian's Chromium if there is one.
    let browser = if std::path::Path::new("/usr/bin/chromium").exists() {
        r#"{"executablePath":"/usr/bin/chromium","args":["--no-sandbox"]}"#
    } else {
        r#"{"args":["--no-sandbox"]}"#
    };
    std::fs::write(&config, browser).unwrap();
    let r = std::process::Command::new(&mmdc)
        .args(["-i", mmd.to_str().unwrap(), "-o", svg.to_str().unwrap(), "-p", config.to_str().unwrap()])
        .output()
        .expect("mmdc runs");
    assert!(r.status.success(), "mmdc failed on {}: {}{}", mmd.display(), text(&r.stdout), text(&r.stderr));
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.contains("<svg"), "{}", &drawn[..drawn.len().min(200)]);
    let source = std::fs::read_to_string(&mmd).unwrap();
    for line in source.lines().filter(|l| l.trim_start().starts_with("participant ")) {
        let name = line.split(" as ").nth(1).unwrap();
        assert!(drawn.contains(name), "the SVG names {name}");
    }
}
