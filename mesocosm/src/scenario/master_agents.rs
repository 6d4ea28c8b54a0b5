//! The cluster a scenario file describes: `[master]` (Mesos master flags,
//! bounded as `master/flags.cpp` bounds them), `[[agents]]` (`--resources`,
//! `--attributes`, `count` expansion, unique host names) and `[network]`
//! (latencies, per link too).

use std::collections::BTreeMap;
use std::time::Duration;

use mesocosm_sim::Latency;
use mesocosm_sim::faults::LinkLatency;
use toml::Spanned;

use super::raw::{RawAgent, RawLink, RawMaster};
use super::{AgentSpec, MAX_AGENTS, MIN_ALLOCATION_INTERVAL};
use crate::check::{Checker, RawArg, RawDurOrTable, scenario_duration};
use crate::cluster::MasterSpec;
use crate::diag::Diagnostic;
use crate::mesos_syntax;
use crate::script::Cast;
use crate::units::format_duration;

impl Checker<'_> {
    /// `latency = "500us"` or `{ min = …, max = … }`: one fixed latency, or a
    /// range each link draws from once (100us and 1ms when a bound is left out).
    pub(super) fn latency(&mut self, l: &Spanned<RawDurOrTable>) -> Latency {
        let (min_default, max_default) = (Latency::DEFAULT_MIN, Latency::DEFAULT_MAX);
        match l.get_ref() {
            RawDurOrTable::Str(s) => match scenario_duration(s) {
                Ok(d) => Latency::Fixed(d),
                Err(e) => {
                    self.error(l.span(), format!("bad duration for `latency`: {e}"));
                    Latency::DEFAULT
                }
            },
            RawDurOrTable::Table(entries) => {
                let (mut min, mut max) = (min_default, max_default);
                for (key, arg) in entries {
                    let slot = match key.get_ref().as_str() {
                        "min" => &mut min,
                        "max" => &mut max,
                        other => {
                            let msg = format!("unknown key `{other}` in `latency`; expected `min` and/or `max`");
                            self.error(key.span(), msg);
                            continue;
                        }
                    };
                    match arg.get_ref() {
                        RawArg::Str(s) => match scenario_duration(s) {
                            Ok(d) => *slot = d,
                            Err(e) => {
                                self.error(arg.span(), format!("bad duration for `latency.{}`: {e}", key.get_ref()))
                            }
                        },
                        RawArg::List(_) => {
                            self.error(arg.span(), format!("`latency.{}` must be one duration string", key.get_ref()))
                        }
                    }
                }
                if min > max {
                    self.error(
                        l.span(),
                        format!("latency min {} is greater than max {}", format_duration(min), format_duration(max)),
                    );
                }
                Latency::Uniform { min, max }
            }
        }
    }

    /// `[[network.links]]`: latencies between named actors (globs allowed).
    pub(super) fn links(&mut self, raw: &[Spanned<RawLink>], cast: &Cast) -> Vec<LinkLatency> {
        let mut out = Vec::new();
        for l in raw {
            let l = l.get_ref();
            let from = self.actor(cast, &l.from);
            let to = self.actor(cast, &l.to);
            let latency = self.latency(&l.latency);
            if let (Some((from, _)), Some((to, _))) = (from, to) {
                out.push(LinkLatency { from, to, latency });
            }
        }
        out
    }

    /// `[master]`: Mesos master flags over Mesos's defaults ([`MasterSpec::default`]).
    pub(super) fn master(&mut self, raw: Option<&RawMaster>) -> MasterSpec {
        let mut m = MasterSpec::default();
        let Some(raw) = raw else { return m };
        if let Some(name) = &raw.name
            && self.host_name(name, "master name")
        {
            m.name = name.get_ref().clone();
        }
        if let Some(v) = &raw.allocation_interval
            && let Some(d) = self.duration(v, "allocation_interval")
        {
            // Mesos has no lower bound, but every cycle is a step of the
            // simulated master: at 1us a 10-minute run would be 600 million
            // cycles. 1ms is far below any real setting (default 1s).
            if d < MIN_ALLOCATION_INTERVAL {
                self.error(
                    v.span(),
                    format!(
                        "`allocation_interval` is {}; mesocosm needs at least {} (each cycle is a simulated step)",
                        format_duration(d),
                        format_duration(MIN_ALLOCATION_INTERVAL)
                    ),
                );
            }
            m.allocation_interval = d;
        }
        if let Some(v) = &raw.agent_ping_timeout
            && let Some(d) = self.duration(v, "agent_ping_timeout")
        {
            // Mesos rejects --agent_ping_timeout outside [1secs, 15mins] (master/flags.cpp).
            if d < Duration::from_secs(1) || d > Duration::from_secs(15 * 60) {
                self.error(
                    v.span(),
                    format!("`agent_ping_timeout` is {}; Mesos requires 1s to 15m", format_duration(d)),
                );
            }
            m.agent_ping_timeout = d;
        }
        if let Some(v) = &raw.max_agent_ping_timeouts {
            match u32::try_from(*v.get_ref()) {
                Ok(n) if n >= 1 => m.max_agent_ping_timeouts = n,
                _ => self.error(v.span(), "`max_agent_ping_timeouts` must be at least 1 (as in Mesos)"),
            }
        }
        if let Some(v) = &raw.offer_timeout
            && let Some(d) = self.duration(v, "offer_timeout")
        {
            if d.is_zero() {
                self.error(v.span(), "`offer_timeout` must be more than 0; omit it for offers that never time out");
            }
            m.offer_timeout = Some(d);
        }
        if let Some(v) = &raw.weights {
            match mesos_syntax::parse_weights(v.get_ref()) {
                Ok(w) => m.weights = w,
                Err(e) => self.error(v.span(), format!("bad `weights` {:?}: {e}", v.get_ref())),
            }
        }
        if let Some(v) = raw.filter_gpu_resources {
            m.filter_gpu_resources = v;
        }
        self.registry_flags(raw, &mut m);
        for (key, v, slot) in [
            ("role_sorter", &raw.role_sorter, &mut m.role_sorter),
            ("framework_sorter", &raw.framework_sorter, &mut m.framework_sorter),
        ] {
            let Some(v) = v else { continue };
            match self.registry.sorter(v.get_ref()) {
                Some(s) => *slot = s,
                None => self.error(
                    v.span(),
                    format!(
                        "unknown sorter `{}` for `{key}` (known sorters: {})",
                        v.get_ref(),
                        self.registry.sorter_names().join(", ")
                    ),
                ),
            }
        }
        m
    }

    /// `[[agents]]`: each entry's resources and attributes parsed as
    /// `mesos-agent` does, `count` expanded, every host name unique.
    pub(super) fn agents(
        &mut self,
        raw: &[Spanned<RawAgent>],
        master: &str,
        spec: &super::ContainersSpec,
    ) -> Vec<AgentSpec> {
        let mut out = Vec::new();
        // Agent name → where it was first defined ("line 8", or
        // "line 8 (`agent` with `count`)"), for duplicate messages.
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut total: u64 = 0;
        for agent in raw {
            let a = agent.get_ref();
            let mut ok = self.host_name(&a.name, "agent name");
            let containers = self.agent_containers(a, spec);
            let count = match &a.count {
                None => None,
                Some(c) => match u64::try_from(*c.get_ref()) {
                    Ok(n) if n >= 1 && total + n <= MAX_AGENTS => Some(n),
                    Ok(0) | Err(_) => {
                        self.error(c.span(), "`count` must be at least 1");
                        ok = false;
                        None
                    }
                    Ok(n) => {
                        let msg = format!("`count = {n}` brings the scenario over {MAX_AGENTS} agents");
                        self.error(c.span(), msg);
                        ok = false;
                        None
                    }
                },
            };
            let resources = match mesos_syntax::parse_resources(a.resources.get_ref()) {
                Ok(r) if r.iter().any(|r| r.role != mesos_syntax::DEFAULT_ROLE) => {
                    // Parsed as Mesos would, but the allocator models unreserved
                    // resources only (runner::resources refuses the rest too).
                    let r = r.iter().find(|r| r.role != mesos_syntax::DEFAULT_ROLE).map(ToString::to_string);
                    let msg = format!(
                        "reserved resources (`{}`) are not simulated yet; use unreserved resources",
                        r.unwrap_or_default()
                    );
                    self.error(a.resources.span(), msg);
                    ok = false;
                    Vec::new()
                }
                Ok(r) => r,
                Err(e) => {
                    let msg = format!("bad resources string {:?}: {e}", a.resources.get_ref());
                    self.error(a.resources.span(), msg);
                    Vec::new()
                }
            };
            let attributes = match &a.attributes {
                None => Vec::new(),
                Some(attrs) => match mesos_syntax::parse_attributes(attrs.get_ref()) {
                    Ok(v) => v,
                    Err(e) => {
                        let msg = format!("bad attributes string {:?}: {e}", attrs.get_ref());
                        self.error(attrs.span(), msg);
                        Vec::new()
                    }
                },
            };
            if !ok {
                continue;
            }
            let base = a.name.get_ref();
            let names: Vec<String> = match count {
                None => vec![base.clone()],
                Some(n) => (1..=n).map(|i| format!("{base}-{i}")).collect(),
            };
            total += names.len() as u64;
            let line = Diagnostic::at_span(self.path, self.src, a.name.span(), "").line;
            let here = match count {
                None => format!("line {line}"),
                Some(_) => format!("line {line} (`{base}` with `count`)"),
            };
            // One diagnostic per [[agents]] entry, however many names collide.
            let mut clashes: Vec<String> = Vec::new();
            for name in names {
                if name == master {
                    clashes.push(format!("`{name}` is also the master's name"));
                } else if let Some(first) = seen.get(&name) {
                    clashes.push(format!("`{name}` is already defined on {first}"));
                } else {
                    seen.insert(name.clone(), here.clone());
                    out.push(AgentSpec {
                        name,
                        resources: resources.clone(),
                        attributes: attributes.clone(),
                        resources_text: a.resources.get_ref().clone(),
                        attributes_text: a.attributes.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default(),
                        spark_installed: a.spark_installed.unwrap_or(true),
                        containers: containers.clone(),
                    });
                }
            }
            if let Some(first) = clashes.first() {
                let more = match clashes.len() {
                    1 => String::new(),
                    n => format!(" (and {} more names from this entry)", n - 1),
                };
                let msg = format!("duplicate host name: {first}{more}; every host needs its own name");
                self.error(a.name.span(), msg);
            }
        }
        out
    }
}
