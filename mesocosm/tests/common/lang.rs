//! What the scenario-language tests share: a file reader over fixed texts,
//! parsing with the library's spark-defaults, and where a needle sits.

use std::collections::BTreeMap;
use std::path::Path;

use mesocosm::diag::Diagnostics;
use mesocosm::scenario::{self, Scenario};

pub const DEFAULTS: &str = "# spark-defaults.conf\nspark.executor.memory 4g\nspark.cores.max=2\nspark.mesos.rejectOfferDuration: 60s\nnot.spark.key 1\n";

pub fn files(map: &[(&str, &str)]) -> impl FnMut(&Path) -> std::io::Result<String> {
    let map: BTreeMap<String, String> = map.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |p: &Path| {
        let key = p.to_string_lossy().replace('\\', "/");
        map.get(&key)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"))
    }
}

pub fn parse(src: &str) -> Result<Scenario, Diagnostics> {
    let mut read = files(&[("scenarios/conf/spark-defaults.conf", DEFAULTS)]);
    scenario::parse_with_reader("scenarios/test.toml", src, &mut read)
}

pub fn errors(src: &str) -> Diagnostics {
    match parse(src) {
        Ok(_) => panic!("expected diagnostics"),
        Err(d) => d,
    }
}

/// 1-based (line, column) of the first occurrence of `needle` in `src`.
pub fn position(src: &str, needle: &str) -> (usize, usize) {
    let at = src.find(needle).expect("needle present");
    let line = src[..at].matches('\n').count() + 1;
    let col = src[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, col)
}

pub const MINIMAL: &str = r#"
[scenario]
name = "m"
[[agents]]
name = "a1"
resources = "cpus:1;mem:1024"
[[apps]]
submit = "spark-submit --master mesos://master:5050 app.jar"
[[apps.jobs]]
[[apps.jobs.stages]]
tasks = 1
duration = "1s"
"#;
