//! What a container needs before its executor can start: the fetcher's URIs
//! and the Docker image's layers, as pure data and arithmetic.
//!
//! The Docker containerizer launches in steps (`src/slave/containerizer/docker.cpp`,
//! `DockerContainerizerProcess::_launch`): **fetch** every `CommandInfo.URI`
//! into the sandbox (`mesos-fetcher`, `src/launcher/fetcher.cpp`), then **pull**
//! the image (`Docker::pull`, `src/docker/docker.cpp`), then run the executor.
//! This module answers "how long, how many bytes, and does it work" for the
//! first two; the agent (`agent/launch.rs`) turns the answers into timers.
//!
//! ```text
//!  fetch:  URI ─ cache=true and in the fetcher cache? ─ yes ─▶ copy (0 s)
//!                                                    └ no ─▶ latency + size / bandwidth
//!          extract && !executable && it holds .docker/config.json ─▶ credentials in the sandbox
//!  pull:   all layers here and !forcePullImage ─▶ `docker inspect` succeeds, no pull
//!          private repository, no credentials    ─▶ "unauthorized: authentication required"
//!          else manifest (one round trip), then each missing layer:
//!            being pulled by another launch ─▶ shared: ready when that one is
//!            else queued on the agent's link: latency + size / bandwidth
//! ```
//!
//! Time is virtual; nothing here reads a clock or draws a random number.

use mesocosm_sim::SimTime;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// `--docker_socket`'s default, as `Docker::create` turns it into `-H unix://…`.
pub const DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// One layer of an image: its content digest and compressed size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub digest: String,
    pub bytes: u64,
}

/// An image in the registry, by its full reference (`registry/repo:tag`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// The registry host the reference names (`docker.io` when it names none).
    pub registry: String,
    /// Base first, as a Dockerfile builds them.
    pub layers: Vec<Layer>,
    /// A private repository answers a manifest request without credentials with 401.
    pub private: bool,
}

impl Image {
    pub fn bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.bytes).sum()
    }
}

/// A link's speed: a fixed latency per request plus bytes over a bandwidth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Bytes per second (> 0).
    pub bandwidth: u64,
    /// One request's round trip (a manifest, a layer's blob request, a URI's GET).
    pub latency: Duration,
}

impl Link {
    /// How long `bytes` take after the request's round trip.
    pub fn transfer(&self, bytes: u64) -> Duration {
        let micros = (bytes as u128 * 1_000_000).div_ceil(self.bandwidth.max(1) as u128);
        self.latency + Duration::from_micros(micros.min(u64::MAX as u128) as u64)
    }
}

impl Default for Link {
    /// 100 MB/s and 50 ms: a data-centre registry mirror.
    fn default() -> Link {
        Link { bandwidth: 100_000_000, latency: Duration::from_millis(50) }
    }
}

/// What a URI the fetcher may be asked for holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UriFile {
    pub bytes: u64,
    /// Registries with `auths` in the `.docker/config.json` inside this archive
    /// (the seed's `docker.tar.gz`), once extracted into the sandbox.
    pub docker_config_for: Vec<String>,
    /// The fetch fails (host down, 404): `mesos-fetcher` exits 1.
    pub unreachable: bool,
}

/// The image registry and the files URIs point at, shared by every agent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    pub images: BTreeMap<String, Image>,
    pub uris: BTreeMap<String, UriFile>,
}

/// An agent's containerizer flags and links.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerConfig {
    /// `--containerizers`: which of `docker`, `mesos` this agent runs.
    pub docker: bool,
    pub mesos: bool,
    /// The registry and the URIs' contents; `None`: no image model, every image
    /// is taken as already on the agent (no pull) and URIs take no time.
    pub catalog: Option<Arc<Catalog>>,
    /// The agent's link to the registry.
    pub registry_link: Link,
    /// The agent's link to where URIs are served.
    pub fetch_link: Link,
    /// Registries `--docker_config` holds credentials for.
    pub docker_config: Vec<String>,
    /// Images already in the agent's docker store when it starts.
    pub pre_pulled: Vec<String>,
    /// `--executor_registration_timeout`.
    pub executor_registration_timeout: Duration,
    /// Windows in which this agent's registry is slow or unreachable
    /// (`[[faults]] registry = …`).
    pub registry_faults: Vec<RegistryFault>,
}

/// A window in which the registry misbehaves for one agent's pulls.
#[derive(Clone, Debug, PartialEq)]
pub struct RegistryFault {
    /// How reports name it (its `[[faults]]` table's `file:line`).
    pub label: String,
    pub from: SimTime,
    /// `None`: until the run stops.
    pub until: Option<SimTime>,
    pub effect: RegistryEffect,
}

/// What a [`RegistryFault`] does to the requests made inside its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryEffect {
    /// The registry host refuses connections: `docker pull` fails at its
    /// first request (the `/v2/` ping), one round trip after it starts.
    Unreachable,
    /// A congested link: every request's round trip is `added_latency`
    /// longer and bytes flow at the bandwidth divided by `bandwidth_divided_by`.
    Slow { bandwidth_divided_by: u64, added_latency: Duration },
}

impl RegistryFault {
    fn active(&self, t: SimTime) -> bool {
        t >= self.from && self.until.is_none_or(|u| t < u)
    }
}

impl Default for ContainerConfig {
    fn default() -> ContainerConfig {
        ContainerConfig {
            docker: true,
            mesos: true,
            catalog: None,
            registry_link: Link::default(),
            fetch_link: Link::default(),
            docker_config: Vec::new(),
            pre_pulled: Vec::new(),
            executor_registration_timeout: crate::agent::EXECUTOR_REGISTRATION_TIMEOUT,
            registry_faults: Vec::new(),
        }
    }
}

/// A URI as `CommandInfo.URI` carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchItem {
    pub uri: String,
    pub extract: bool,
    pub executable: bool,
    pub cache: bool,
}

/// The fetcher's outcome for one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// When the last URI is in the sandbox (or when the fetcher failed).
    pub done: SimTime,
    /// `Some(uri)`: `mesos-fetcher` exited 1 on it.
    pub failed: Option<String>,
    /// Registries the sandbox now has a `.docker/config.json` for; `None`: none fetched.
    pub sandbox_config: Option<Vec<String>>,
    /// One line per URI for the timeline.
    pub steps: Vec<String>,
    pub bytes: u64,
    pub cache_hits: u64,
}

/// The outcome of `docker pull` (or of the inspect that makes it unnecessary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulled {
    pub done: SimTime,
    /// `Some(stderr)`: `docker pull` exited 1 with the daemon's complaint.
    pub failed: Option<String>,
    pub steps: Vec<String>,
    pub bytes: u64,
    /// Layers found in the store or shared with another launch's pull.
    pub layers_cached: u64,
    pub layers_shared: u64,
    /// The layers this pull downloads itself (what a cancelled pull loses).
    pub started: Vec<String>,
    /// The slow registry faults that changed this pull's link.
    pub slowed_by: Vec<String>,
}

/// What one agent has on disk and on its links: the docker layer store, the
/// fetcher cache, and when each link is next free.
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Layer digest → when it is (or will be) in the store.
    layers: BTreeMap<String, SimTime>,
    /// URI → when its cache entry is (or will be) complete (`--fetcher_cache_dir`).
    fetcher_cache: BTreeMap<String, SimTime>,
    /// Layers download one after another over the agent's link (a FIFO, not
    /// a fair share; docker's three parallel downloads share the same bytes/s).
    registry_free: SimTime,
    pub totals: StoreTotals,
    /// Registry fault label → the pulls it changed (a fault that changed
    /// none is reported by the run as having done nothing).
    pub registry_fault_hits: BTreeMap<String, u64>,
}

/// Counters for the summary and expectations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreTotals {
    pub pulled_bytes: u64,
    pub fetched_bytes: u64,
    pub layer_hits: u64,
    pub layers_shared: u64,
    pub fetcher_cache_hits: u64,
    pub pulls: u64,
}

impl Store {
    /// A store holding `pre_pulled`'s layers from the start.
    pub fn new(cfg: &ContainerConfig) -> Store {
        let mut s = Store::default();
        if let Some(c) = &cfg.catalog {
            for name in &cfg.pre_pulled {
                for l in c.images.get(name).map(|i| i.layers.as_slice()).unwrap_or(&[]) {
                    s.layers.insert(l.digest.clone(), SimTime::ZERO);
                }
            }
        }
        s
    }

    /// The fetcher: every URI in order, one at a time, as `mesos-fetcher` does.
    pub fn fetch(&mut self, now: SimTime, items: &[FetchItem], cfg: &ContainerConfig) -> Fetched {
        let mut f =
            Fetched { done: now, failed: None, sandbox_config: None, steps: Vec::new(), bytes: 0, cache_hits: 0 };
        for item in items {
            let file = cfg.catalog.as_ref().and_then(|c| c.uris.get(&item.uri));
            let Some(file) = file else {
                f.steps.push(format!("fetched {} (no size declared: instant)", item.uri));
                continue;
            };
            if file.unreachable {
                // curl/copy fails after one round trip; the fetcher exits 1.
                f.done = f.done.after(cfg.fetch_link.latency);
                f.steps.push(format!("fetch {} failed: unreachable", item.uri));
                f.failed = Some(item.uri.clone());
                return f;
            }
            // `cache = true` (spark.mesos.fetcherCache.enable): a cache entry
            // being downloaded by another fetch is waited for, not downloaded
            // twice (`FetcherProcess::fetch`'s cache entry promise).
            match self.fetcher_cache.get(&item.uri).copied().filter(|_| item.cache) {
                Some(ready) => {
                    f.done = f.done.max(ready);
                    f.cache_hits += 1;
                    self.totals.fetcher_cache_hits += 1;
                    f.steps.push(format!("fetcher cache hit for {} (no download)", item.uri));
                }
                None => {
                    f.done = f.done.after(cfg.fetch_link.transfer(file.bytes));
                    f.bytes += file.bytes;
                    self.totals.fetched_bytes += file.bytes;
                    if item.cache {
                        self.fetcher_cache.insert(item.uri.clone(), f.done);
                    }
                    f.steps.push(format!(
                        "fetched {} ({}{})",
                        item.uri,
                        human_bytes(file.bytes),
                        if item.cache { ", now in the fetcher cache" } else { "" }
                    ));
                }
            }
            // `executable` wins over `extract` (`fetchUri` in src/launcher/fetcher.cpp);
            // only an extracted archive leaves `.docker/config.json` in the sandbox.
            if !file.docker_config_for.is_empty() {
                if item.extract && !item.executable {
                    let regs = f.sandbox_config.get_or_insert_with(Vec::new);
                    regs.extend(file.docker_config_for.iter().cloned());
                    f.steps.push(format!(
                        "extracted .docker/config.json into the sandbox (auths: {})",
                        file.docker_config_for.join(", ")
                    ));
                } else {
                    f.steps.push(format!("{} not extracted: its .docker/config.json stays packed", item.uri));
                }
            }
        }
        f
    }

    /// `Docker::pull`: inspect first unless forced; then `docker pull`, whose
    /// credentials come from the sandbox's `.docker/config.json` if the
    /// fetcher left one there, else from `--docker_config` (`Docker::__pull`
    /// sets HOME to whichever it uses).
    pub fn pull(
        &mut self,
        now: SimTime,
        image: &str,
        force: bool,
        sandbox_config: Option<&[String]>,
        cfg: &ContainerConfig,
    ) -> Pulled {
        let mut p = Pulled {
            done: now,
            failed: None,
            steps: Vec::new(),
            bytes: 0,
            layers_cached: 0,
            layers_shared: 0,
            started: Vec::new(),
            slowed_by: Vec::new(),
        };
        let Some(catalog) = &cfg.catalog else {
            p.steps.push(format!("image {image} taken as present (no [registry] declared)"));
            return p;
        };
        let cmd = format!("docker -H {DOCKER_HOST} pull {image}");
        let img = catalog.images.get(image);
        if let Some(img) = img {
            let present = img.layers.iter().all(|l| self.layers.get(&l.digest).is_some_and(|t| *t <= now));
            if present && !force {
                p.steps.push(format!("docker inspect {image}: already in the store, no pull"));
                p.layers_cached = img.layers.len() as u64;
                self.totals.layer_hits += p.layers_cached;
                return p;
            }
        }
        let link = self.registry_link_at(now, cfg, &mut p);
        // The daemon's first request is the registry's `/v2/` ping; a refused
        // connection ends the pull there. Go's dialer names the resolved
        // address (`dial tcp 10.0.0.7:443`); the simulation has no addresses,
        // so the message names the registry host and port instead.
        let registry = img.map(|i| i.registry.clone()).unwrap_or_else(|| registry_of(image));
        if let Some(f) = cfg.registry_faults.iter().find(|f| f.active(now) && f.effect == RegistryEffect::Unreachable) {
            *self.registry_fault_hits.entry(f.label.clone()).or_default() += 1;
            p.done = now.after(link.latency);
            let host = if registry.contains(':') { registry.clone() } else { format!("{registry}:443") };
            p.failed = Some(format!(
                "Failed to run '{cmd}': exited with status 1; stderr='Error response from daemon: Get https://{registry}/v2/: dial tcp {host}: connect: connection refused'"
            ));
            p.steps.push(format!("registry {registry} unreachable (fault {}): connection refused", f.label));
            return p;
        }
        let Some(img) = img else {
            p.done = now.after(link.latency);
            p.failed = Some(format!(
                "Failed to run '{cmd}': exited with status 1; stderr='Error response from daemon: manifest for {image} not found'"
            ));
            return p;
        };
        let (creds, from) = match sandbox_config {
            Some(regs) => (regs.iter().any(|r| r == &img.registry), "the sandbox's .docker/config.json"),
            None => (cfg.docker_config.iter().any(|r| r == &img.registry), "--docker_config"),
        };
        // The manifest request is one round trip; a private repository
        // answers it 401 without credentials for its registry.
        p.done = now.after(link.latency);
        if img.private && !creds {
            let (repo, tag) = repo_and_tag(image, &img.registry);
            p.failed = Some(format!(
                "Failed to run '{cmd}': exited with status 1; stderr='Error response from daemon: Get https://{}/v2/{repo}/manifests/{tag}: unauthorized: authentication required'",
                img.registry
            ));
            p.steps.push(format!("manifest of {image}: 401, no credentials for {} in {from}", img.registry));
            return p;
        }
        self.totals.pulls += 1;
        p.steps.push(format!(
            "{} manifest of {image}{}",
            if force { "forcePullImage: re-checked the" } else { "fetched the" },
            if img.private { format!(" (credentials from {from})") } else { String::new() }
        ));
        let manifest_done = p.done;
        for l in &img.layers {
            match self.layers.get(&l.digest).copied() {
                Some(t) if t <= manifest_done => {
                    p.layers_cached += 1;
                    self.totals.layer_hits += 1;
                    p.steps.push(format!("layer {}: already exists", short(&l.digest)));
                }
                Some(t) => {
                    // Another launch's pull is downloading it: docker shares
                    // the download instead of starting a second one.
                    p.layers_shared += 1;
                    self.totals.layers_shared += 1;
                    p.done = p.done.max(t);
                    p.steps.push(format!("layer {}: shared with a pull in progress (ready {t})", short(&l.digest)));
                }
                None => {
                    let start = manifest_done.max(self.registry_free);
                    let end = start.after(self.registry_link_at(start, cfg, &mut p).transfer(l.bytes));
                    self.registry_free = end;
                    self.layers.insert(l.digest.clone(), end);
                    p.started.push(l.digest.clone());
                    p.bytes += l.bytes;
                    p.done = p.done.max(end);
                    p.steps.push(format!("layer {}: pulled {} (done {end})", short(&l.digest), human_bytes(l.bytes)));
                }
            }
        }
        self.totals.pulled_bytes += p.bytes;
        for label in std::mem::take(&mut p.slowed_by) {
            *self.registry_fault_hits.entry(label).or_default() += 1;
        }
        p
    }

    /// The agent's registry link as a request starting at `t` sees it: every
    /// slow window open at `t` divides the bandwidth and adds its latency.
    /// Each window that changed it is remembered on `p` (counted once per pull).
    fn registry_link_at(&self, t: SimTime, cfg: &ContainerConfig, p: &mut Pulled) -> Link {
        let mut link = cfg.registry_link;
        for f in cfg.registry_faults.iter().filter(|f| f.active(t)) {
            if let RegistryEffect::Slow { bandwidth_divided_by, added_latency } = f.effect {
                link.bandwidth = (link.bandwidth / bandwidth_divided_by.max(1)).max(1);
                link.latency += added_latency;
                if !p.slowed_by.contains(&f.label) {
                    p.slowed_by.push(f.label.clone());
                    p.steps.push(format!("registry slowed by fault {}", f.label));
                }
            }
        }
        link
    }
}

impl Store {
    /// A pull killed at `now` (the container was destroyed): the daemon drops
    /// the layers it had not finished, so a later pull downloads them again;
    /// finished layers stay in the store. The link is free from `now` on.
    /// Returns the layers dropped.
    pub fn cancel_pull(&mut self, now: SimTime, started: &[String]) -> usize {
        let mut dropped = 0;
        for d in started {
            if self.layers.get(d).is_some_and(|t| *t > now) {
                self.layers.remove(d);
                dropped += 1;
            }
        }
        if dropped > 0 {
            self.registry_free = self.registry_free.min(now);
        }
        dropped
    }
}

/// The repository and tag of `image` as the registry's v2 API names them
/// (`library/` for an official Docker Hub image).
fn repo_and_tag(image: &str, registry: &str) -> (String, String) {
    let rest = image.strip_prefix(&format!("{registry}/")).unwrap_or(image);
    let (repo, tag) = match rest.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r.to_string(), t.to_string()),
        _ => (rest.to_string(), "latest".to_string()),
    };
    let repo = if registry == "docker.io" && !repo.contains('/') { format!("library/{repo}") } else { repo };
    (repo, tag)
}

/// The registry host an image reference names: its first component if that
/// looks like a host (has `.` or `:`, or is `localhost`), else Docker Hub.
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first.to_string(),
        _ => "docker.io".to_string(),
    }
}

fn short(digest: &str) -> &str {
    let d = digest.strip_prefix("sha256:").unwrap_or(digest);
    &d[..d.len().min(12)]
}

/// Bytes as the timeline prints them (decimal units, as docker does).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "kB")];
    for (size, unit) in UNITS {
        if b >= size {
            return format!("{:.1} {unit}", b as f64 / size as f64);
        }
    }
    format!("{b} B")
}

/// A duration as stout's `operator<<(Duration)` prints it (the unit that keeps
/// the value ≥ 1, the value with up to 6 significant digits): `1mins`, `90secs`
/// is `1.5mins`. Mesos puts it in "Executor did not register within 1mins".
pub fn stout_duration(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    let units: [(f64, &str); 8] = [
        (7.0 * 86_400e9, "weeks"),
        (86_400e9, "days"),
        (3_600e9, "hrs"),
        (60e9, "mins"),
        (1e9, "secs"),
        (1e6, "ms"),
        (1e3, "us"),
        (1.0, "ns"),
    ];
    let (size, unit) = units.iter().find(|(s, _)| ns >= *s).copied().unwrap_or((1.0, "ns"));
    let v = ns / size;
    // `%g`-like: 6 significant digits, trailing zeros dropped.
    let digits = 6 - (v.abs().log10().floor() as i32 + 1).clamp(1, 6);
    let mut s = format!("{v:.*}", digits as usize);
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stout_prints_durations_in_the_largest_whole_unit() {
        assert_eq!(stout_duration(Duration::from_secs(60)), "1mins");
        assert_eq!(stout_duration(Duration::from_secs(90)), "1.5mins");
        assert_eq!(stout_duration(Duration::from_secs(300)), "5mins");
        assert_eq!(stout_duration(Duration::from_secs(30)), "30secs");
        assert_eq!(stout_duration(Duration::from_secs(7200)), "2hrs");
    }

    #[test]
    fn image_references_name_their_registry_and_repository() {
        assert_eq!(registry_of("registry.example.com/spark:3.5.1"), "registry.example.com");
        assert_eq!(registry_of("localhost:5000/spark"), "localhost:5000");
        assert_eq!(registry_of("example/spark:3.5.1"), "docker.io");
        assert_eq!(
            repo_and_tag("registry.example.com/team/spark:3.5.1", "registry.example.com"),
            ("team/spark".into(), "3.5.1".into())
        );
        assert_eq!(repo_and_tag("ubuntu", "docker.io"), ("library/ubuntu".into(), "latest".into()));
    }

    #[test]
    fn a_transfer_is_latency_plus_bytes_over_bandwidth() {
        let l = Link { bandwidth: 10_000_000, latency: Duration::from_millis(100) };
        assert_eq!(l.transfer(50_000_000), Duration::from_millis(5_100));
    }
}
