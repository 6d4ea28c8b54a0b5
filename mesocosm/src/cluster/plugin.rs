//! How a framework kind plugs into the scenario language: a
//! [`FrameworkPlugin`] reads its `[frameworks.config]` table through a
//! [`PluginConfig`] into a [`FrameworkSpec`], which makes one [`Framework`]
//! per instance when the cluster is built.
//!
//! ```text
//!  [[frameworks]] kind = "sleep-tasks"   (crate::registry finds the plugin by kind)
//!     [frameworks.config] ──FrameworkPlugin::parse(&mut PluginConfig)──▶ Arc<dyn FrameworkSpec>
//!                         ──FrameworkSpec::framework(name)──▶ Box<dyn Framework> ──▶ ClusterBuilder
//! ```
//!
//! The traits live with the cluster, not with the registry or the language,
//! so a framework crate depends on the cluster alone.

use super::framework::Framework;
use crate::units::parse_duration;
use mesocosm_executor::Programs;
use mesocosm_sim::MAX_VIRTUAL_TIME;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;
use toml::Spanned;

/// A kind of framework a scenario file can name.
pub trait FrameworkPlugin: Send + Sync + 'static {
    /// Read the `[frameworks.config]` table. Report every problem on `config`
    /// (each lands at its key or value, with file:line:col); return `None` if
    /// there were any.
    fn parse(&self, config: &mut PluginConfig) -> Option<Arc<dyn FrameworkSpec>>;
}

/// A framework table, read and checked: makes the framework of each instance.
pub trait FrameworkSpec: Send + Sync + fmt::Debug + 'static {
    /// A new framework named `name` (for `count = N`, `<name>-1` … `<name>-N`).
    fn framework(&self, name: &str) -> Box<dyn Framework>;

    /// Add the programs its tasks need (e.g. its own executor) to a run's
    /// programs; called once per run that has this kind. Plain command tasks
    /// need none: Mesos's command executor is always there.
    fn programs(&self, programs: &mut Programs) {
        let _ = programs;
    }
}

/// The `[frameworks.config]` table of one framework, for a plugin to read.
///
/// Every getter records a diagnostic at the offending value and returns the
/// default; [`PluginConfig::finish`] refuses keys nobody read, so a misspelt
/// key is an error, never silently ignored.
pub struct PluginConfig {
    entries: BTreeMap<String, Spanned<toml::Value>>,
    /// Where the table (or, without one, the `[[frameworks]]` header) is.
    span: Range<usize>,
    read: BTreeSet<String>,
    errors: Vec<(Range<usize>, String)>,
}

impl PluginConfig {
    pub(crate) fn new(entries: BTreeMap<String, Spanned<toml::Value>>, span: Range<usize>) -> PluginConfig {
        PluginConfig { entries, span, read: BTreeSet::new(), errors: Vec::new() }
    }

    /// A config from `key = value` pairs without positions (for Rust callers and tests).
    pub fn from_pairs(pairs: &[(&str, toml::Value)]) -> PluginConfig {
        let entries = pairs.iter().map(|(k, v)| (k.to_string(), Spanned::new(0..0, v.clone()))).collect();
        PluginConfig::new(entries, 0..0)
    }

    /// Report a problem with the value of `key` (or the table, if it has no such key).
    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        let span = self.entries.get(key).map_or_else(|| self.span.clone(), |v| v.span());
        self.errors.push((span, message.into()));
    }

    fn get(&mut self, key: &str) -> Option<Spanned<toml::Value>> {
        self.read.insert(key.to_string());
        self.entries.get(key).cloned()
    }

    /// A whole number in `range`.
    pub fn u64(&mut self, key: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> u64 {
        match self.get(key).map(|v| v.into_inner()) {
            None => default,
            Some(toml::Value::Integer(n)) if n >= 0 && range.contains(&(n as u64)) => n as u64,
            Some(v) => {
                self.error(
                    key,
                    format!("`{key}` must be a whole number from {} to {}, not {v}", range.start(), range.end()),
                );
                default
            }
        }
    }

    /// A number (an integer is taken as a float) in `range`.
    pub fn f64(&mut self, key: &str, default: f64, range: std::ops::RangeInclusive<f64>) -> f64 {
        let v = match self.get(key).map(|v| v.into_inner()) {
            None => return default,
            Some(toml::Value::Float(f)) => Some(f),
            Some(toml::Value::Integer(n)) => Some(n as f64),
            Some(_) => None,
        };
        match v {
            Some(f) if range.contains(&f) => f,
            _ => {
                self.error(key, format!("`{key}` must be a number from {} to {}", range.start(), range.end()));
                default
            }
        }
    }

    /// A duration string (`"2s"`, `"1m30s"`) of at most the longest run
    /// ([`MAX_VIRTUAL_TIME`], the scenario language's bound on every duration).
    pub fn duration(&mut self, key: &str, default: Duration) -> Duration {
        match self.get(key).map(|v| v.into_inner()) {
            None => default,
            Some(toml::Value::String(s)) => match parse_duration(&s) {
                Ok(d) if d <= MAX_VIRTUAL_TIME => d,
                Ok(_) => {
                    self.error(key, format!("`{key}` is longer than the longest run ({s})"));
                    default
                }
                Err(e) => {
                    self.error(key, format!("bad duration for `{key}`: {e}"));
                    default
                }
            },
            Some(_) => {
                self.error(key, format!("`{key}` must be a duration string like \"2s\""));
                default
            }
        }
    }

    /// A string.
    pub fn string(&mut self, key: &str, default: &str) -> String {
        match self.get(key).map(|v| v.into_inner()) {
            None => default.to_string(),
            Some(toml::Value::String(s)) => s,
            Some(_) => {
                self.error(key, format!("`{key}` must be a string"));
                default.to_string()
            }
        }
    }

    /// Refuse every key nobody read; the problems found, each at its place.
    pub fn finish(mut self, kind: &str) -> Vec<(Range<usize>, String)> {
        let known: Vec<String> = self.read.iter().cloned().collect();
        let unknown: Vec<(String, Range<usize>)> =
            self.entries.iter().filter(|(k, _)| !self.read.contains(*k)).map(|(k, v)| (k.clone(), v.span())).collect();
        for (k, span) in unknown {
            self.errors
                .push((span, format!("`{k}` is not a setting of kind `{kind}` (it takes: {})", known.join(", "))));
        }
        self.errors
    }
}
