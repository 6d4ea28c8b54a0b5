//! Checking `[[frameworks]]`: a registered kind and its plugin's config, or
//! (no `kind`) a scripted framework (`scripted.rs`); names, `count`, and
//! `failover_of` naming another framework of the file.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use super::raw::RawFramework;
use super::{AgentSpec, MAX_APPS};
use crate::check::Checker;
use crate::registry::{FrameworkSpec, PluginConfig};
use crate::units::format_duration;

/// One `[[frameworks]]` instance: a registered kind, read by its plugin.
#[derive(Clone, Debug)]
pub struct FrameworkDecl {
    /// The registered kind (`kind = "sleep-tasks"`), or `scripted`.
    pub kind: String,
    /// Its name; the scheduler runs as actor `scheduler:<name>`.
    pub name: String,
    /// When its scheduler starts.
    pub at: Duration,
    /// What its plugin read from `[frameworks.config]`.
    pub spec: Arc<dyn FrameworkSpec>,
}

impl PartialEq for FrameworkDecl {
    fn eq(&self, other: &Self) -> bool {
        // A spec is plain data; its Debug form says everything it holds.
        (&self.kind, &self.name, self.at, format!("{:?}", self.spec))
            == (&other.kind, &other.name, other.at, format!("{:?}", other.spec))
    }
}

impl Checker<'_> {
    /// `[[frameworks]]`: each kind must be registered; its plugin reads `config`.
    pub(super) fn frameworks(
        &mut self,
        raw: &[Spanned<RawFramework>],
        agents: &[AgentSpec],
        until: Duration,
    ) -> Vec<FrameworkDecl> {
        let mut out: Vec<FrameworkDecl> = Vec::new();
        // (failover_of as written, the instances of its table, their start)
        let mut failovers: Vec<(&Spanned<String>, Vec<String>, Duration)> = Vec::new();
        for f in raw {
            let r = f.get_ref();
            let Some(kind_v) = &r.kind else {
                let name_ok = self.host_name(&r.name, "framework name");
                let at = self.optional_duration(&r.at, "at", Duration::ZERO);
                self.starts_in_run(r, at, until);
                let count = self.count(r);
                let Some(spec) = self.scripted(r, agents, until) else { continue };
                if !name_ok {
                    continue;
                }
                let spec: Arc<dyn FrameworkSpec> = Arc::new(spec);
                let names = self.instances(r, count, &out);
                if let Some(of) = &r.failover_of {
                    failovers.push((of, names.clone(), at));
                }
                for name in names {
                    out.push(FrameworkDecl { kind: "scripted".into(), name, at, spec: spec.clone() });
                }
                continue;
            };
            // A kind's settings are its plugin's, in [frameworks.config].
            for (key, span) in Self::scripted_keys(r) {
                if let Some(span) = span {
                    self.error(
                        span,
                        format!(
                            "`{key}` is a key of a scripted framework (a table without `kind`); kind `{}` \
                             reads its settings from [frameworks.config]",
                            kind_v.get_ref()
                        ),
                    );
                }
            }
            let kind = kind_v.get_ref();
            let Some(plugin) = self.registry.framework(kind).cloned() else {
                let known = self.registry.framework_kinds();
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                self.error(
                    kind_v.span(),
                    format!("unknown framework kind `{kind}` (known kinds: {known}; a binary can register more, see mesocosm::registry)"),
                );
                continue;
            };
            let name_ok = self.host_name(&r.name, "framework name");
            let at = self.optional_duration(&r.at, "at", Duration::ZERO);
            self.starts_in_run(r, at, until);
            let count = self.count(r);
            let (entries, span) = match &r.config {
                Some(c) => (c.get_ref().clone(), c.span()),
                None => (BTreeMap::new(), kind_v.span()),
            };
            let mut config = PluginConfig::new(entries, span);
            let spec = plugin.parse(&mut config);
            let problems = config.finish(kind);
            let ok = problems.is_empty();
            for (span, msg) in problems {
                self.error(span, msg);
            }
            let (Some(spec), true, true) = (spec, ok, name_ok) else { continue };
            for name in self.instances(r, count, &out) {
                out.push(FrameworkDecl { kind: kind.clone(), name, at, spec: spec.clone() });
            }
        }
        // `failover_of` names another framework of this file: its scheduler
        // holds the FrameworkID the failover instance subscribes with.
        for (of, names, at) in failovers {
            let target = of.get_ref();
            let target_at = out.iter().find(|d| d.name == *target).map(|d| d.at);
            if names.contains(target) {
                self.error(of.span(), format!("`failover_of` names this framework itself (`{target}`)"));
            } else if let Some(t) = target_at.filter(|t| *t >= at) {
                self.error(
                    of.span(),
                    format!(
                        "`{target}` starts at {}, not before this framework ({}): there is no FrameworkID to take over yet",
                        format_duration(t),
                        format_duration(at)
                    ),
                );
            } else if target_at.is_none() {
                let known: Vec<&str> =
                    out.iter().filter(|d| !names.contains(&d.name)).map(|d| d.name.as_str()).collect();
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                self.error(of.span(), format!("`failover_of` names no framework: `{target}` (frameworks: {known})"));
            }
        }
        out
    }

    fn starts_in_run(&mut self, r: &RawFramework, at: Duration, until: Duration) {
        if at >= until
            && let Some(a) = &r.at
        {
            self.error(
                a.span(),
                format!(
                    "this framework starts at {}, after the run stops at {}",
                    format_duration(at),
                    format_duration(until)
                ),
            );
        }
    }

    fn count(&mut self, r: &RawFramework) -> Option<usize> {
        match &r.count {
            None => None,
            Some(c) if (1..=MAX_APPS as i64).contains(c.get_ref()) => Some(*c.get_ref() as usize),
            Some(c) => {
                self.error(c.span(), format!("`count` must be from 1 to {MAX_APPS}"));
                None
            }
        }
    }

    /// The instance names of a table (`<name>-1` … with `count`), each new.
    fn instances(&mut self, r: &RawFramework, count: Option<usize>, out: &[FrameworkDecl]) -> Vec<String> {
        let base = r.name.get_ref();
        let names: Vec<String> = match count {
            None => vec![base.clone()],
            Some(n) => (1..=n).map(|i| format!("{base}-{i}")).collect(),
        };
        let mut fresh = Vec::new();
        for name in names {
            if out.iter().any(|d| d.name == name) {
                self.error(r.name.span(), format!("two frameworks are named `{name}`"));
                continue;
            }
            fresh.push(name);
        }
        fresh
    }
}
