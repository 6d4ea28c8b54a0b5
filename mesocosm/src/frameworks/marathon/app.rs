//! A Marathon app definition (`POST /v2/apps` JSON), read and checked.
//!
//! The fields and their defaults are Marathon's (`docs/docs/rest-api/public/api/v2/types/app.raml`,
//! `src/main/scala/mesosphere/marathon/state/AppDefinition.scala`); the checks
//! are those of `api/v2/validation/AppValidation.scala` that matter here.
//! Every problem is reported at the value (or the key) it is about, with the
//! field's JSON path (`/container/docker/image`), the way Marathon's 422
//! answers name a path.
//!
//! Three kinds of field:
//! - *modelled*: read into [`AppDefinition`] and used to build the task;
//! - *known but not modelled* (`healthChecks`, `env`, …): refused with a
//!   message that says so. Why an error and not a warning: a run that
//!   silently ignored a health check or an environment variable would show a
//!   Marathon that behaves differently from the one the file describes;
//! - *unknown*: refused as a field Marathon does not have (a typo).

use super::json::{Json, Member, Value};
use std::ops::Range;
use std::time::Duration;

/// One app, with Marathon's defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct AppDefinition {
    /// The app's path id, absolute (`/test-docker-spark`).
    pub id: String,
    /// Run by Mesos as `/bin/sh -c <cmd>`.
    pub cmd: String,
    pub cpus: f64,
    /// MiB.
    pub mem: f64,
    /// MiB.
    pub disk: f64,
    pub instances: u32,
    pub constraints: Vec<Constraint>,
    pub container: Option<DockerContainer>,
    pub port_definitions: Vec<PortDefinition>,
    /// Fetched before the task starts: `uris` (deprecated) become fetch entries with
    /// Marathon's defaults (extract for an archive, not executable, not cached).
    pub fetch: Vec<Fetch>,
    pub labels: Vec<(String, String)>,
    pub backoff: Backoff,
    pub unreachable: UnreachableStrategy,
}

/// `backoffSeconds`, `backoffFactor`, `maxLaunchDelaySeconds`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub factor: f64,
    pub max_launch_delay: Duration,
}

impl Default for Backoff {
    /// app.raml's defaults: 1 s, ×1.15, at most 300 s (Marathon 1.x before
    /// 1.9 had 3600 s; the current schema says 300).
    fn default() -> Self {
        Backoff { initial: Duration::from_secs(1), factor: 1.15, max_launch_delay: Duration::from_secs(300) }
    }
}

/// `unreachableStrategy`: what to do with an instance whose agent is unreachable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnreachableStrategy {
    /// `"disabled"`: wait for the agent; never replace the instance.
    Disabled,
    /// After `inactive_after` a replacement is launched; after `expunge_after`
    /// the old instance is forgotten (killed if its task comes back).
    Enabled { inactive_after: Duration, expunge_after: Duration },
}

impl Default for UnreachableStrategy {
    /// `UnreachableEnabled.DefaultInactiveAfter/DefaultExpungeAfter`: 0 s and
    /// 0 s in current Marathon (1.4 to 1.6 had 300 s and 600 s).
    fn default() -> Self {
        UnreachableStrategy::Enabled { inactive_after: Duration::ZERO, expunge_after: Duration::ZERO }
    }
}

/// A constraint `[field, OPERATOR, value?]`; `field` is `hostname` or an agent attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub field: String,
    pub op: Operator,
}

/// Marathon's constraint operators (`mesosphere/mesos/Constraints.scala`).
#[derive(Clone, Debug)]
pub enum Operator {
    /// At most one instance per value of the field.
    Unique,
    /// Every instance on the same value (the given one, or the first instance's).
    Cluster(Option<String>),
    /// Spread evenly over the values (the number of values, if given, is a hint).
    GroupBy(Option<u32>),
    /// The field's value matches the regular expression (whole value).
    Like(String, regex::Regex),
    /// The field's value does not match it.
    Unlike(String, regex::Regex),
    /// At most N instances per value.
    MaxPer(u32),
    /// The field's value equals the given one.
    Is(String),
}

impl PartialEq for Operator {
    fn eq(&self, other: &Self) -> bool {
        use Operator::*;
        match (self, other) {
            (Unique, Unique) => true,
            (Cluster(a), Cluster(b)) => a == b,
            (GroupBy(a), GroupBy(b)) => a == b,
            (Like(a, _), Like(b, _)) | (Unlike(a, _), Unlike(b, _)) | (Is(a), Is(b)) => a == b,
            (MaxPer(a), MaxPer(b)) => a == b,
            _ => false,
        }
    }
}

/// The operators, as written.
pub const OPERATORS: [&str; 7] = ["UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"];

/// `container` with `type: DOCKER`.
#[derive(Clone, Debug, PartialEq)]
pub struct DockerContainer {
    pub image: String,
    /// `HOST` (default), `BRIDGE`, `USER` or `NONE`.
    pub network: String,
    pub port_mappings: Vec<PortMapping>,
    pub privileged: bool,
    pub parameters: Vec<(String, String)>,
    pub force_pull_image: bool,
    pub volumes: Vec<VolumeSpec>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VolumeSpec {
    pub container_path: String,
    pub host_path: String,
    /// `RO` or `RW`.
    pub mode: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PortMapping {
    pub container_port: u32,
    /// 0: any port of the offer.
    pub host_port: u32,
    pub protocol: String,
}

/// One `portDefinitions` entry: with `requirePorts` false (the default), a
/// host port is taken from the offer's ranges and `port` is the service port.
#[derive(Clone, Debug, PartialEq)]
pub struct PortDefinition {
    pub port: u32,
    pub protocol: String,
    pub name: Option<String>,
}

/// One `fetch` entry (Mesos's `CommandInfo.URI`).
#[derive(Clone, Debug, PartialEq)]
pub struct Fetch {
    pub uri: String,
    pub extract: bool,
    pub executable: bool,
    pub cache: bool,
}

impl AppDefinition {
    /// The host ports each instance needs from an offer: one per port mapping
    /// (BRIDGE/USER networking) or per port definition (HOST); 0 means any.
    pub fn host_ports(&self) -> Vec<u32> {
        match &self.container {
            Some(c) if c.network != "HOST" && !c.port_mappings.is_empty() => {
                c.port_mappings.iter().map(|m| m.host_port).collect()
            }
            _ => self.port_definitions.iter().map(|_| 0).collect(),
        }
    }

    /// The id as Marathon's task ids begin: the path without its leading `/`,
    /// each further `/` as `_` (`PathId.safePath`): `/prod/web` → `prod_web`.
    pub fn safe_id(&self) -> String {
        self.id.trim_start_matches('/').replace('/', "_")
    }

    /// The id as a hostname (`PathId.toHostname`), the task's name: the
    /// path's segments reversed, joined by `.`: `/prod/web` → `web.prod`.
    pub fn hostname(&self) -> String {
        let mut parts: Vec<&str> = self.id.trim_start_matches('/').split('/').collect();
        parts.reverse();
        parts.join(".")
    }
}

/// A problem in an app definition, at a byte range of its JSON text.
pub type Problem = (Range<usize>, String);

/// Fields of an app Marathon has and mesocosm does not model.
pub const UNMODELLED: &[&str] = &[
    "args",
    "user",
    "env",
    "executor",
    "healthChecks",
    "readinessChecks",
    "check",
    "dependencies",
    "upgradeStrategy",
    "acceptedResourceRoles",
    "version",
    "versionInfo",
    "gpus",
    "networks",
    "secrets",
    "residency",
    "taskKillGracePeriodSeconds",
    "killSelection",
    "ipAddress",
    "requirePorts",
    "storeUrls",
    "role",
    "tty",
    "resourceLimits",
    "executorResources",
];

const APP_FIELDS: [&str; 16] = [
    "id",
    "cmd",
    "cpus",
    "mem",
    "disk",
    "instances",
    "constraints",
    "container",
    "portDefinitions",
    "uris",
    "fetch",
    "labels",
    "backoffSeconds",
    "backoffFactor",
    "maxLaunchDelaySeconds",
    "unreachableStrategy",
];

/// Check `json` as one app; every problem found, or the app.
pub fn read_app(json: &Json) -> Result<AppDefinition, Vec<Problem>> {
    let mut c = Check { problems: Vec::new() };
    let app = c.app(json);
    match (app, c.problems.is_empty()) {
        (Some(app), true) => Ok(app),
        _ => Err(c.problems),
    }
}

struct Check {
    problems: Vec<Problem>,
}

/// An object's members by name, after refusing the names not in `known`.
struct Fields<'a> {
    members: &'a [Member],
    path: String,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Json> {
        self.members.iter().find(|m| m.key == key).map(|m| &m.value).filter(|v| v.value != Value::Null)
    }
    fn path(&self, key: &str) -> String {
        format!("{}/{key}", self.path)
    }
}

impl Check {
    fn problem(&mut self, at: Range<usize>, path: &str, message: impl AsRef<str>) {
        self.problems
            .push((at, format!("{} (at JSON path {})", message.as_ref(), if path.is_empty() { "/" } else { path })));
    }

    /// `json` as an object whose fields are among `known` (`unmodelled` named as such).
    fn object<'a>(&mut self, json: &'a Json, path: &str, known: &[&str], unmodelled: &[&str]) -> Option<Fields<'a>> {
        let Value::Object(members) = &json.value else {
            self.problem(json.span.clone(), path, format!("expected an object, found {}", json.kind()));
            return None;
        };
        for m in members {
            let p = format!("{path}/{}", m.key);
            if known.contains(&m.key.as_str()) {
                continue;
            }
            if unmodelled.contains(&m.key.as_str()) {
                self.problem(
                    m.key_span.clone(),
                    &p,
                    format!("`{}` is a Marathon field that mesocosm does not model; remove it", m.key),
                );
            } else {
                self.problem(
                    m.key_span.clone(),
                    &p,
                    format!("`{}` is not a field of a Marathon app here (known: {})", m.key, known.join(", ")),
                );
            }
        }
        Some(Fields { members, path: path.to_string() })
    }

    fn string(&mut self, f: &Fields, key: &str) -> Option<String> {
        let v = f.get(key)?;
        match &v.value {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.problem(v.span.clone(), &f.path(key), format!("`{key}` must be a string, not {}", v.kind()));
                None
            }
        }
    }

    fn bool(&mut self, f: &Fields, key: &str, default: bool) -> bool {
        let Some(v) = f.get(key) else { return default };
        match v.value {
            Value::Bool(b) => b,
            _ => {
                self.problem(v.span.clone(), &f.path(key), format!("`{key}` must be true or false, not {}", v.kind()));
                default
            }
        }
    }

    /// A number of at least `min` (and a whole one if `integer`).
    fn number(&mut self, f: &Fields, key: &str, default: f64, min: f64, max: f64, integer: bool) -> f64 {
        let Some(v) = f.get(key) else { return default };
        let what = if integer { "a whole number" } else { "a number" };
        match v.value {
            Value::Number { value, integer: is_int } if (is_int || !integer) && (min..=max).contains(&value) => value,
            Value::Number { value, .. } if value < min => {
                self.problem(v.span.clone(), &f.path(key), format!("`{key}` must be at least {min}, not {value}"));
                default
            }
            _ => {
                self.problem(
                    v.span.clone(),
                    &f.path(key),
                    format!("`{key}` must be {what} from {min} to {max}, not {}", &v.kind()),
                );
                default
            }
        }
    }

    fn array<'a>(&mut self, f: &Fields<'a>, key: &str) -> &'a [Json] {
        let Some(v) = f.get(key) else { return &[] };
        match &v.value {
            Value::Array(items) => items,
            _ => {
                self.problem(v.span.clone(), &f.path(key), format!("`{key}` must be an array, not {}", v.kind()));
                &[]
            }
        }
    }

    fn app(&mut self, json: &Json) -> Option<AppDefinition> {
        let f = self.object(json, "", &APP_FIELDS, UNMODELLED)?;
        let id = match (f.get("id"), self.string(&f, "id")) {
            (Some(v), Some(id)) => {
                self.app_id(v, &id);
                if id.starts_with('/') { id } else { format!("/{id}") }
            }
            _ => {
                self.problem(json.span.start..json.span.start + 1, "/id", "an app needs an `id`");
                String::new()
            }
        };
        let cmd = self.string(&f, "cmd").unwrap_or_default();
        if f.get("cmd").is_none() {
            self.problem(
                json.span.start..json.span.start + 1,
                "/cmd",
                "an app needs a `cmd` (mesocosm runs the task's command; an image's own entrypoint and `args` are not modelled)",
            );
        } else if cmd.trim().is_empty()
            && let Some(v) = f.get("cmd")
        {
            self.problem(v.span.clone(), "/cmd", "`cmd` is empty");
        }
        // Bounds: app.raml's minimums; the maximums keep the numbers sane.
        let cpus = self.number(&f, "cpus", 1.0, 0.001, 1e6, false);
        let mem = self.number(&f, "mem", 128.0, 0.0, 1e9, false);
        let disk = self.number(&f, "disk", 0.0, 0.0, 1e12, false);
        let instances = self.number(&f, "instances", 1.0, 0.0, 10_000.0, true) as u32;
        let defaults = Backoff::default();
        let backoff = Backoff {
            initial: Duration::from_secs(self.number(&f, "backoffSeconds", 1.0, 0.0, 86_400.0, true) as u64),
            factor: self.number(&f, "backoffFactor", defaults.factor, 1.0, 100.0, false),
            max_launch_delay: Duration::from_secs(
                self.number(&f, "maxLaunchDelaySeconds", 300.0, 0.0, 86_400.0, true) as u64
            ),
        };
        let constraints = self.constraints(&f);
        let container = f.get("container").and_then(|c| self.container(c));
        let port_definitions = self.port_definitions(&f);
        let mut from_uris: Vec<Fetch> = Vec::new();
        for (i, u) in self.array(&f, "uris").iter().enumerate() {
            match &u.value {
                // AppNormalization: each `uris` entry becomes a fetch entry that
                // extracts an archive (FetchUri.isExtract: by its extension).
                Value::String(s) => {
                    from_uris.push(Fetch { uri: s.clone(), extract: is_archive(s), executable: false, cache: false })
                }
                _ => self.problem(
                    u.span.clone(),
                    &format!("/uris/{i}"),
                    format!("a URI must be a string, not {}", u.kind()),
                ),
            }
        }
        let mut fetch: Vec<Fetch> = Vec::new();
        for (i, e) in self.array(&f, "fetch").iter().enumerate() {
            let path = format!("/fetch/{i}");
            let Some(ef) = self.object(e, &path, &["uri", "extract", "executable", "cache"], &["destPath"]) else {
                continue;
            };
            let Some(uri) = self.string(&ef, "uri") else {
                self.problem(e.span.clone(), &path, "a fetch entry needs a `uri`");
                continue;
            };
            let extract = self.bool(&ef, "extract", true);
            let executable = self.bool(&ef, "executable", false);
            let cache = self.bool(&ef, "cache", false);
            fetch.push(Fetch { uri, extract, executable, cache });
        }
        // Marathon 1.x answered GET /v2/apps with `uris` echoing `fetch`, so a
        // definition copied from it (the seed's) has both, naming the same
        // URIs: read `fetch`. Different lists are refused, as current
        // Marathon refuses both ("cannot specify both uris and fetch fields").
        let same = from_uris.iter().map(|u| &u.uri).eq(fetch.iter().map(|f| &f.uri));
        if fetch.is_empty() {
            fetch = from_uris;
        } else if !from_uris.is_empty()
            && !same
            && let Some(u) = f.get("uris")
        {
            self.problem(
                u.span.clone(),
                "/uris",
                "`uris` and `fetch` name different URIs: give only `fetch` (Marathon: cannot specify both uris and fetch fields)",
            );
        }
        let labels = self.labels(f.get("labels"), "/labels");
        let unreachable = self.unreachable(f.get("unreachableStrategy"));
        Some(AppDefinition {
            id,
            cmd,
            cpus,
            mem,
            disk,
            instances,
            constraints,
            container,
            port_definitions,
            fetch,
            labels,
            backoff,
            unreachable,
        })
    }

    /// `PathId` validation: segments of lowercase letters, digits, `-` and
    /// `.`, each starting and ending with a letter or digit.
    fn app_id(&mut self, v: &Json, id: &str) {
        let segments: Vec<&str> = id.trim_start_matches('/').split('/').collect();
        let ok = segments.iter().all(|s| {
            !s.is_empty()
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
                && s.starts_with(|c: char| c.is_ascii_alphanumeric())
                && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        });
        if !ok {
            self.problem(
                v.span.clone(),
                "/id",
                format!(
                    "`{id}` is not a valid app id: each path segment may hold only lowercase letters, digits, `-` and `.`, \
                     starting and ending with a letter or digit"
                ),
            );
        }
    }

    fn constraints(&mut self, f: &Fields) -> Vec<Constraint> {
        let mut out = Vec::new();
        for (i, c) in self.array(f, "constraints").iter().enumerate() {
            let path = format!("/constraints/{i}");
            let Value::Array(parts) = &c.value else {
                self.problem(
                    c.span.clone(),
                    &path,
                    "a constraint is an array: [field, OPERATOR] or [field, OPERATOR, value]",
                );
                continue;
            };
            let strings: Vec<Option<&str>> =
                parts.iter().map(|p| if let Value::String(s) = &p.value { Some(s.as_str()) } else { None }).collect();
            if !(2..=3).contains(&parts.len()) || strings.iter().any(Option::is_none) {
                self.problem(
                    c.span.clone(),
                    &path,
                    "a constraint is an array of 2 or 3 strings: [field, OPERATOR, value]",
                );
                continue;
            }
            let field = strings[0].unwrap_or_default().to_string();
            let op_text = strings[1].unwrap_or_default();
            let value = strings.get(2).copied().flatten();
            let op_span = parts[1].span.clone();
            let value_span = parts.get(2).map_or(c.span.clone(), |p| p.span.clone());
            let need = |this: &mut Check, what: &str| {
                this.problem(c.span.clone(), &path, format!("{op_text} needs a value: {what}"));
            };
            let op = match op_text {
                "UNIQUE" => {
                    if value.is_some() {
                        self.problem(value_span, &format!("{path}/2"), "UNIQUE takes no value");
                        continue;
                    }
                    Operator::Unique
                }
                "CLUSTER" => Operator::Cluster(value.map(str::to_string)),
                "GROUP_BY" => match value.map(str::parse::<u32>) {
                    None => Operator::GroupBy(None),
                    Some(Ok(n)) if n > 0 => Operator::GroupBy(Some(n)),
                    Some(_) => {
                        self.problem(
                            value_span,
                            &format!("{path}/2"),
                            "GROUP_BY's value must be a positive whole number",
                        );
                        continue;
                    }
                },
                "LIKE" | "UNLIKE" => {
                    let Some(v) = value else {
                        need(self, "a regular expression");
                        continue;
                    };
                    // Marathon matches the whole value (Java's String.matches).
                    match regex::Regex::new(&format!("^(?:{v})$")) {
                        Ok(re) if op_text == "LIKE" => Operator::Like(v.to_string(), re),
                        Ok(re) => Operator::Unlike(v.to_string(), re),
                        Err(e) => {
                            let first = e.to_string().lines().last().unwrap_or_default().to_string();
                            self.problem(
                                value_span,
                                &format!("{path}/2"),
                                format!("`{v}` is not a valid regular expression: {first}"),
                            );
                            continue;
                        }
                    }
                }
                "MAX_PER" => match value.map(str::parse::<u32>) {
                    Some(Ok(n)) if n > 0 => Operator::MaxPer(n),
                    None => {
                        need(self, "the most instances per value");
                        continue;
                    }
                    Some(_) => {
                        self.problem(
                            value_span,
                            &format!("{path}/2"),
                            "MAX_PER's value must be a positive whole number",
                        );
                        continue;
                    }
                },
                "IS" => {
                    let Some(v) = value else {
                        need(self, "the value the field must have");
                        continue;
                    };
                    Operator::Is(v.to_string())
                }
                other => {
                    self.problem(
                        op_span,
                        &format!("{path}/1"),
                        format!("`{other}` is not a Marathon constraint operator (known: {})", OPERATORS.join(", ")),
                    );
                    continue;
                }
            };
            out.push(Constraint { field, op });
        }
        out
    }

    fn container(&mut self, json: &Json) -> Option<DockerContainer> {
        let f = self.object(json, "/container", &["type", "volumes", "docker", "portMappings"], &["linuxInfo"])?;
        match self.string(&f, "type").as_deref() {
            Some("DOCKER") | None => {}
            Some(other) => {
                let at = f.get("type").map_or(json.span.clone(), |v| v.span.clone());
                self.problem(
                    at,
                    "/container/type",
                    format!("container type `{other}` is not modelled (only DOCKER: the Docker containerizer)"),
                );
                return None;
            }
        }
        let Some(dj) = f.get("docker") else {
            self.problem(json.span.clone(), "/container/docker", "a DOCKER container needs `docker` with an `image`");
            return None;
        };
        let d = self.object(
            dj,
            "/container/docker",
            &["image", "network", "portMappings", "privileged", "parameters", "forcePullImage"],
            &["credential", "pullConfig"],
        )?;
        let image = self.string(&d, "image").unwrap_or_default();
        if image.is_empty() {
            self.problem(dj.span.clone(), "/container/docker/image", "a Docker container needs a non-empty `image`");
        }
        let network = self.string(&d, "network").unwrap_or_else(|| "HOST".into());
        if !["HOST", "BRIDGE", "USER", "NONE"].contains(&network.as_str())
            && let Some(v) = d.get("network")
        {
            self.problem(
                v.span.clone(),
                "/container/docker/network",
                format!("`{network}` is not a Docker network mode (HOST, BRIDGE, USER, NONE)"),
            );
        }
        let mut port_mappings = Vec::new();
        // Marathon takes portMappings from `container` (current) or `container.docker` (legacy).
        for (fields, base) in [(&d, "/container/docker"), (&f, "/container")] {
            for (i, m) in self.array(fields, "portMappings").iter().enumerate() {
                let path = format!("{base}/portMappings/{i}");
                let Some(mf) = self.object(
                    m,
                    &path,
                    &["containerPort", "hostPort", "protocol", "servicePort"],
                    &["name", "labels", "networkNames"],
                ) else {
                    continue;
                };
                let container_port = self.number(&mf, "containerPort", 0.0, 0.0, 65535.0, true) as u32;
                let host_port = self.number(&mf, "hostPort", 0.0, 0.0, 65535.0, true) as u32;
                self.number(&mf, "servicePort", 0.0, 0.0, 65535.0, true);
                let protocol = self.string(&mf, "protocol").unwrap_or_else(|| "tcp".into());
                port_mappings.push(PortMapping { container_port, host_port, protocol });
            }
        }
        let privileged = self.bool(&d, "privileged", false);
        let force_pull_image = self.bool(&d, "forcePullImage", false);
        let mut parameters = Vec::new();
        for (i, p) in self.array(&d, "parameters").iter().enumerate() {
            let path = format!("/container/docker/parameters/{i}");
            let Some(pf) = self.object(p, &path, &["key", "value"], &[]) else { continue };
            match (self.string(&pf, "key"), self.string(&pf, "value")) {
                (Some(k), Some(v)) => parameters.push((k, v)),
                _ => self.problem(p.span.clone(), &path, "a Docker parameter needs a `key` and a `value`"),
            }
        }
        let mut volumes = Vec::new();
        for (i, v) in self.array(&f, "volumes").iter().enumerate() {
            let path = format!("/container/volumes/{i}");
            let Some(vf) = self.object(
                v,
                &path,
                &["containerPath", "hostPath", "mode"],
                &["persistent", "external", "secret", "image"],
            ) else {
                continue;
            };
            let (Some(container_path), Some(host_path)) =
                (self.string(&vf, "containerPath"), self.string(&vf, "hostPath"))
            else {
                self.problem(v.span.clone(), &path, "a host volume needs `containerPath` and `hostPath`");
                continue;
            };
            let mode = self.string(&vf, "mode").unwrap_or_default();
            if mode != "RO" && mode != "RW" {
                let at = vf.get("mode").map_or(v.span.clone(), |m| m.span.clone());
                self.problem(at, &format!("{path}/mode"), "a volume's `mode` must be RO or RW");
                continue;
            }
            volumes.push(VolumeSpec { container_path, host_path, mode });
        }
        Some(DockerContainer { image, network, port_mappings, privileged, parameters, force_pull_image, volumes })
    }

    fn port_definitions(&mut self, f: &Fields) -> Vec<PortDefinition> {
        let mut out = Vec::new();
        for (i, p) in self.array(f, "portDefinitions").iter().enumerate() {
            let path = format!("/portDefinitions/{i}");
            let Some(pf) = self.object(p, &path, &["port", "protocol", "name", "labels"], &[]) else { continue };
            let port = self.number(&pf, "port", 0.0, 0.0, 65535.0, true) as u32;
            let protocol = self.string(&pf, "protocol").unwrap_or_else(|| "tcp".into());
            if !["tcp", "udp", "udp,tcp", "tcp,udp"].contains(&protocol.as_str())
                && let Some(v) = pf.get("protocol")
            {
                self.problem(v.span.clone(), &format!("{path}/protocol"), "`protocol` must be tcp, udp or udp,tcp");
            }
            let name = self.string(&pf, "name");
            self.labels(pf.get("labels"), &format!("{path}/labels"));
            out.push(PortDefinition { port, protocol, name });
        }
        out
    }

    fn labels(&mut self, json: Option<&Json>, path: &str) -> Vec<(String, String)> {
        let Some(json) = json else { return Vec::new() };
        let Value::Object(members) = &json.value else {
            self.problem(json.span.clone(), path, format!("labels are an object of strings, not {}", json.kind()));
            return Vec::new();
        };
        let mut out = Vec::new();
        for m in members {
            match &m.value.value {
                Value::String(s) => out.push((m.key.clone(), s.clone())),
                _ => {
                    self.problem(m.value.span.clone(), &format!("{path}/{}", m.key), "a label's value must be a string")
                }
            }
        }
        out
    }

    fn unreachable(&mut self, json: Option<&Json>) -> UnreachableStrategy {
        let path = "/unreachableStrategy";
        let Some(json) = json else { return UnreachableStrategy::default() };
        if json.value == Value::String("disabled".into()) {
            return UnreachableStrategy::Disabled;
        }
        let Some(f) = self.object(json, path, &["inactiveAfterSeconds", "expungeAfterSeconds"], &[]) else {
            return UnreachableStrategy::default();
        };
        let inactive = self.number(&f, "inactiveAfterSeconds", 0.0, 0.0, 86_400.0, true);
        let expunge = self.number(&f, "expungeAfterSeconds", 0.0, 0.0, 86_400.0, true);
        // UnreachableEnabled's validator: inactiveAfter ≤ expungeAfter.
        if inactive > expunge {
            self.problem(
                f.get("inactiveAfterSeconds").map_or(json.span.clone(), |v| v.span.clone()),
                &format!("{path}/inactiveAfterSeconds"),
                format!("inactiveAfterSeconds ({inactive}) must not be more than expungeAfterSeconds ({expunge})"),
            );
        }
        UnreachableStrategy::Enabled {
            inactive_after: Duration::from_secs(inactive as u64),
            expunge_after: Duration::from_secs(expunge as u64),
        }
    }
}

/// Whether Mesos's fetcher would extract `uri` (by its extension, as
/// `FetchUri.isExtract`).
fn is_archive(uri: &str) -> bool {
    [".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"].iter().any(|e| uri.ends_with(e))
}
