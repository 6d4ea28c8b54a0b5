//! The registry: which kinds of framework a scenario file may name, by name.
//!
//! A scenario's `[[frameworks]]` table says `kind = "<kind>"`; the registry
//! finds the [`FrameworkPlugin`] registered under that kind, which reads the
//! table's `[frameworks.config]` keys (with located errors) into a
//! [`FrameworkSpec`], which makes a [`Framework`] per instance when the
//! scenario runs. A user's binary registers its own kinds and hands the
//! registry to [`crate::cli::main_with`]:
//!
//! ```no_run
//! use mesocosm::registry::Registry;
//! use std::process::ExitCode;
//!
//! fn main() -> ExitCode {
//!     let registry = Registry::default();
//!     // registry.register_framework("my-scheduler", MyPlugin);
//!     mesocosm::cli::main_with(registry)
//! }
//! ```
//!
//! It also names the allocator's sorters (`[master] role_sorter = "random"`,
//! Mesos's `--role_sorter`) and holds the programs every run's containers may
//! run.
//!
//! Built in: the `sleep-tasks` framework ([`crate::frameworks::sleep_tasks`]),
//! the `drf` and `random` sorters, Mesos's command executor. Spark's
//! spark-submits keep their own table, `[[apps]]`.

use crate::cluster::Framework;
use crate::units::parse_duration;
use mesocosm_executor::{Program, Programs};
use mesocosm_master::{Sorter, SorterChoice};
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

    /// A duration string (`"2s"`, `"1m30s"`) of at most [`crate::scenario::MAX_DURATION`].
    pub fn duration(&mut self, key: &str, default: Duration) -> Duration {
        match self.get(key).map(|v| v.into_inner()) {
            None => default,
            Some(toml::Value::String(s)) => match parse_duration(&s) {
                Ok(d) if d <= crate::scenario::MAX_DURATION => d,
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

/// The named parts a scenario file may use.
#[derive(Clone)]
pub struct Registry {
    frameworks: BTreeMap<String, Arc<dyn FrameworkPlugin>>,
    sorters: BTreeMap<String, SorterChoice>,
    programs: Programs,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("frameworks", &self.framework_kinds())
            .field("sorters", &self.sorter_names())
            .field("programs", &self.programs.names())
            .finish()
    }
}

impl Default for Registry {
    /// The built-in parts: the `sleep-tasks` framework; Mesos's `drf` and
    /// `random` sorters; Mesos's command executor for command tasks (Spark's
    /// executor backend is added by each run with Spark apps).
    fn default() -> Self {
        let mut r = Registry::empty();
        r.register_framework("sleep-tasks", crate::frameworks::sleep_tasks::SleepTasksPlugin);
        r.sorters.insert("drf".into(), SorterChoice::drf());
        r.sorters.insert("random".into(), SorterChoice::random());
        r.programs = Programs::with_mesos_command_executor();
        r
    }
}

impl Registry {
    /// A registry that knows nothing.
    pub fn empty() -> Registry {
        Registry { frameworks: BTreeMap::new(), sorters: BTreeMap::new(), programs: Programs::new() }
    }

    /// Let scenario files name `plugin` as `[[frameworks]] kind = "<kind>"`
    /// (a second registration of a kind replaces the first).
    pub fn register_framework(&mut self, kind: &str, plugin: impl FrameworkPlugin) -> &mut Self {
        self.frameworks.insert(kind.to_string(), Arc::new(plugin));
        self
    }

    /// The plugin registered as `kind`.
    pub fn framework(&self, kind: &str) -> Option<&Arc<dyn FrameworkPlugin>> {
        self.frameworks.get(kind)
    }

    /// Every registered framework kind, in order.
    pub fn framework_kinds(&self) -> Vec<&str> {
        self.frameworks.keys().map(String::as_str).collect()
    }

    /// Let `[master] role_sorter` / `framework_sorter` name a sorter of your
    /// own; `make` builds one per allocator.
    pub fn register_sorter(
        &mut self,
        name: &str,
        make: impl Fn() -> Box<dyn Sorter> + Send + Sync + 'static,
    ) -> &mut Self {
        self.sorters.insert(name.to_string(), SorterChoice::custom(name, make));
        self
    }

    /// The sorter registered as `name`.
    pub fn sorter(&self, name: &str) -> Option<SorterChoice> {
        self.sorters.get(name).cloned()
    }

    /// Every registered sorter name, in order.
    pub fn sorter_names(&self) -> Vec<&str> {
        self.sorters.keys().map(String::as_str).collect()
    }

    /// Add a program for every run's containers, asked before those
    /// registered earlier (and before Mesos's command executor).
    pub fn register_program(&mut self, program: impl Program) -> &mut Self {
        self.programs.add(program);
        self
    }

    /// The programs, in the order they are asked.
    pub fn programs(&self) -> &Programs {
        &self.programs
    }
}
