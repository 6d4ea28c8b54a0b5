//! `[registry]`, `[fetcher]` and the agents' containerizer keys: what a
//! container needs before its executor starts (see `docs/containers.md`).
//!
//! ```toml
//! [registry]                               # optional: without it images are taken as present
//! bandwidth = "100MB/s"                    # each agent's link to the registry (default 100MB/s)
//! latency = "50ms"                         # one request's round trip: manifest, each layer (default 50ms)
//!   [[registry.layers]]
//!   digest = "sha256:base"                 # any unique name
//!   size = "300MB"                         # B, kB, MB, GB (decimal, as docker prints) or KiB, MiB, GiB
//!   [[registry.images]]
//!   name = "registry.example.com/spark:3.5.1"   # the reference spark.mesos.executor.docker.image names
//!   layers = ["sha256:base"]               # base first; each a [[registry.layers]] digest
//!   private = false                        # true: pulls need credentials for its registry
//!   spark = true                           # Spark is installed in the image (default true)
//!
//! [fetcher]                                # optional
//! bandwidth = "100MB/s"                    # each agent's link to where URIs are served
//! latency = "50ms"
//!   [[fetcher.uris]]
//!   uri = "file:///etc/docker.tar.gz"      # a URI tasks may fetch (file, http(s), ftp(s), hdfs, s3…)
//!   size = "4kB"
//!   docker_config = ["registry.example.com"]  # the archive holds .docker/config.json with these auths
//!   unreachable = false                    # true: the fetch fails
//!
//! [[agents]]
//! containerizers = "docker,mesos"          # --containerizers (default here: docker,mesos)
//! docker_config = ["registry.example.com"] # --docker_config holds auths for these registries
//! pre_pulled = ["registry.example.com/spark:3.5.1"]   # images in the docker store at start
//! executor_registration_timeout = "1m"     # --executor_registration_timeout (Mesos default 1 min)
//! registry_bandwidth = "5MB/s"             # this agent's link, instead of [registry] bandwidth
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use mesocosm_agent::images::registry_of;
use mesocosm_agent::{Catalog, ContainerConfig, Image, Layer, Link, UriFile};
use serde::Deserialize;
use toml::Spanned;

use super::raw::RawAgent;
use crate::check::Checker;
pub use crate::units::parse_size;

/// The schemes `mesos-fetcher` handles: local copies (`file`, or none), libcurl
/// (`http`, `https`, `ftp`, `ftps`), and the Hadoop client for the rest of
/// what a cluster usually configures (`src/launcher/fetcher.cpp` `download`).
pub const FETCHER_SCHEMES: &[&str] = &["file", "http", "https", "ftp", "ftps", "hdfs", "s3", "s3a", "s3n"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRegistry {
    bandwidth: Option<Spanned<String>>,
    latency: Option<Spanned<String>>,
    #[serde(default)]
    layers: Vec<RawLayer>,
    #[serde(default)]
    images: Vec<RawImage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    digest: Spanned<String>,
    size: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    name: Spanned<String>,
    layers: Vec<Spanned<String>>,
    private: Option<bool>,
    spark: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFetcher {
    bandwidth: Option<Spanned<String>>,
    latency: Option<Spanned<String>>,
    #[serde(default)]
    uris: Vec<RawUri>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUri {
    uri: Spanned<String>,
    size: Spanned<String>,
    #[serde(default)]
    docker_config: Vec<Spanned<String>>,
    unreachable: Option<bool>,
}

/// The registry and the fetcher's URIs, checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainersSpec {
    /// `None` without `[registry]` and `[fetcher]`: nothing is pulled or timed.
    pub catalog: Option<Arc<Catalog>>,
    pub registry_link: Link,
    pub fetch_link: Link,
    /// Each declared image: whether Spark is installed in it.
    pub spark_in_image: BTreeMap<String, bool>,
}

/// A bandwidth: a size per second, more than 0 (`"50MB/s"`).
pub fn parse_bandwidth(s: &str) -> Result<u64, String> {
    let Some(size) = s.trim().strip_suffix("/s") else {
        return Err(format!("{s:?} is not a bandwidth like \"50MB/s\""));
    };
    match parse_size(size)? {
        0 => Err(format!("{s:?}: a bandwidth must be more than 0")),
        b => Ok(b),
    }
}

impl Checker<'_> {
    fn size(&mut self, v: &Spanned<String>, key: &str) -> Option<u64> {
        parse_size(v.get_ref()).map_err(|e| self.error(v.span(), format!("bad `{key}`: {e}"))).ok()
    }

    fn bandwidth(&mut self, v: &Option<Spanned<String>>, key: &str) -> Option<u64> {
        let v = v.as_ref()?;
        parse_bandwidth(v.get_ref()).map_err(|e| self.error(v.span(), format!("bad `{key}`: {e}"))).ok()
    }

    fn link(&mut self, bandwidth: &Option<Spanned<String>>, latency: &Option<Spanned<String>>) -> Link {
        let d = Link::default();
        Link {
            bandwidth: self.bandwidth(bandwidth, "bandwidth").unwrap_or(d.bandwidth),
            latency: self.optional_duration(latency, "latency", d.latency),
        }
    }

    /// `[registry]` and `[fetcher]`.
    pub(super) fn containers(&mut self, reg: Option<&RawRegistry>, fetcher: Option<&RawFetcher>) -> ContainersSpec {
        let mut spec = ContainersSpec::default();
        if reg.is_none() && fetcher.is_none() {
            return spec;
        }
        let mut catalog = Catalog::default();
        if let Some(r) = reg {
            spec.registry_link = self.link(&r.bandwidth, &r.latency);
            let mut layers: BTreeMap<String, u64> = BTreeMap::new();
            for l in &r.layers {
                let Some(bytes) = self.size(&l.size, "size") else { continue };
                if layers.insert(l.digest.get_ref().clone(), bytes).is_some() {
                    self.error(l.digest.span(), format!("layer {:?} is declared twice", l.digest.get_ref()));
                }
            }
            for img in &r.images {
                let name = img.name.get_ref().clone();
                let mut ls = Vec::new();
                for d in &img.layers {
                    match layers.get(d.get_ref()) {
                        Some(b) => ls.push(Layer { digest: d.get_ref().clone(), bytes: *b }),
                        None => self.error(
                            d.span(),
                            format!("unknown layer {:?}: declare it in [[registry.layers]]", d.get_ref()),
                        ),
                    }
                }
                if img.layers.is_empty() {
                    self.error(img.name.span(), format!("image {name:?} has no layers"));
                }
                spec.spark_in_image.insert(name.clone(), img.spark.unwrap_or(true));
                let image = Image { registry: registry_of(&name), layers: ls, private: img.private.unwrap_or(false) };
                if catalog.images.insert(name.clone(), image).is_some() {
                    self.error(img.name.span(), format!("image {name:?} is declared twice"));
                }
            }
        }
        if let Some(f) = fetcher {
            spec.fetch_link = self.link(&f.bandwidth, &f.latency);
            let used: BTreeSet<String> = catalog.images.values().map(|i| i.registry.clone()).collect();
            for u in &f.uris {
                let uri = u.uri.get_ref();
                let scheme = uri.split_once("://").map(|(s, _)| s).unwrap_or("file");
                if !FETCHER_SCHEMES.contains(&scheme) {
                    self.error(
                        u.uri.span(),
                        format!(
                            "the fetcher does not support the URI scheme {scheme:?} (it fetches {})",
                            FETCHER_SCHEMES.join(", ")
                        ),
                    );
                }
                let Some(bytes) = self.size(&u.size, "size") else { continue };
                for r in &u.docker_config {
                    if reg.is_some() && !used.contains(r.get_ref()) {
                        // A credentials file for a registry no image comes from
                        // is harmless to docker (it reads only the auths it
                        // needs) but almost always a typo: warn, carry on.
                        self.warning(
                            r.span(),
                            format!(
                                "credentials for registry {:?}, which no [[registry.images]] image comes from (images come from: {})",
                                r.get_ref(),
                                used.iter().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        );
                    }
                }
                let file = UriFile {
                    bytes,
                    docker_config_for: u.docker_config.iter().map(|r| r.get_ref().clone()).collect(),
                    unreachable: u.unreachable.unwrap_or(false),
                };
                catalog.uris.insert(uri.clone(), file);
            }
        }
        spec.catalog = Some(Arc::new(catalog));
        spec
    }

    /// An agent's `containerizers`, `docker_config`, `pre_pulled`,
    /// `executor_registration_timeout` and `registry_bandwidth`.
    pub(super) fn agent_containers(&mut self, a: &RawAgent, spec: &ContainersSpec) -> ContainerConfig {
        let mut c = ContainerConfig {
            catalog: spec.catalog.clone(),
            registry_link: spec.registry_link,
            fetch_link: spec.fetch_link,
            ..Default::default()
        };
        if let Some(v) = &a.containerizers {
            c.docker = false;
            c.mesos = false;
            for name in v.get_ref().split(',').map(str::trim) {
                match name {
                    "docker" => c.docker = true,
                    "mesos" => c.mesos = true,
                    other => self.error(
                        v.span(),
                        format!("unknown containerizer {other:?} in `containerizers` (docker, mesos)"),
                    ),
                }
            }
        }
        c.docker_config = a.docker_config.iter().map(|r| r.get_ref().clone()).collect();
        for img in &a.pre_pulled {
            match spec.catalog.as_ref() {
                Some(cat) if cat.images.contains_key(img.get_ref()) => c.pre_pulled.push(img.get_ref().clone()),
                _ => self
                    .error(img.span(), format!("`pre_pulled` image {:?} is not in [[registry.images]]", img.get_ref())),
            }
        }
        c.executor_registration_timeout = self.optional_duration(
            &a.executor_registration_timeout,
            "executor_registration_timeout",
            mesocosm_agent::agent::EXECUTOR_REGISTRATION_TIMEOUT,
        );
        if let Some(b) = self.bandwidth(&a.registry_bandwidth, "registry_bandwidth") {
            c.registry_link.bandwidth = b;
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_bandwidths_read_as_docker_prints_them() {
        assert_eq!(parse_size("300MB"), Ok(300_000_000));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert!(parse_size("-1MB").unwrap_err().contains("negative"));
        assert_eq!(parse_bandwidth("5MB/s"), Ok(5_000_000));
        assert!(parse_bandwidth("0MB/s").is_err());
        assert!(parse_bandwidth("-5MB/s").unwrap_err().contains("negative"));
        assert!(parse_bandwidth("5MB").is_err());
    }
}
