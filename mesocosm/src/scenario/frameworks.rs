//! Checking `[[frameworks]]`: a registered kind, its plugin's config, names
//! and `count`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use super::MAX_APPS;
use super::raw::RawFramework;
use crate::check::Checker;
use crate::registry::{FrameworkSpec, PluginConfig};
use crate::units::format_duration;

/// One `[[frameworks]]` instance: a registered kind, read by its plugin.
#[derive(Clone, Debug)]
pub struct FrameworkDecl {
    /// The registered kind (`kind = "sleep-tasks"`).
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
    pub(super) fn frameworks(&mut self, raw: &[Spanned<RawFramework>], until: Duration) -> Vec<FrameworkDecl> {
        let mut out: Vec<FrameworkDecl> = Vec::new();
        for f in raw {
            let r = f.get_ref();
            let kind = r.kind.get_ref();
            let Some(plugin) = self.registry.framework(kind).cloned() else {
                let known = self.registry.framework_kinds();
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                self.error(
                    r.kind.span(),
                    format!("unknown framework kind `{kind}` (known kinds: {known}; a binary can register more, see mesocosm::registry)"),
                );
                continue;
            };
            let name_ok = self.host_name(&r.name, "framework name");
            let at = self.optional_duration(&r.at, "at", Duration::ZERO);
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
            let count = match &r.count {
                None => None,
                Some(c) if (1..=MAX_APPS as i64).contains(c.get_ref()) => Some(*c.get_ref() as usize),
                Some(c) => {
                    self.error(c.span(), format!("`count` must be from 1 to {MAX_APPS}"));
                    None
                }
            };
            let (entries, span) = match &r.config {
                Some(c) => (c.get_ref().clone(), c.span()),
                None => (BTreeMap::new(), r.kind.span()),
            };
            let mut config = PluginConfig::new(entries, span);
            let spec = plugin.parse(&mut config);
            let problems = config.finish(kind);
            let ok = problems.is_empty();
            for (span, msg) in problems {
                self.error(span, msg);
            }
            let (Some(spec), true, true) = (spec, ok, name_ok) else { continue };
            let base = r.name.get_ref();
            let names: Vec<String> = match count {
                None => vec![base.clone()],
                Some(n) => (1..=n).map(|i| format!("{base}-{i}")).collect(),
            };
            for name in names {
                if out.iter().any(|d| d.name == name) {
                    self.error(r.name.span(), format!("two frameworks are named `{name}`"));
                    continue;
                }
                out.push(FrameworkDecl { kind: kind.clone(), name, at, spec: spec.clone() });
            }
        }
        out
    }
}
