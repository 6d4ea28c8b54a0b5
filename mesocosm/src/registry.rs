//! The registry: which kinds of framework a scenario file may name, by name.
//!
//! A scenario's `[[frameworks]]` table says `kind = "<kind>"`; the registry
//! finds the [`FrameworkPlugin`] registered under that kind, which reads the
//! table's `[frameworks.config]` keys (with located errors) into a
//! [`FrameworkSpec`], which makes a [`Framework`](crate::cluster::Framework) per instance when the
//! scenario runs. A user's binary registers its own kinds and hands the
//! registry to `mesocosm::cli::main_with`:
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

pub use crate::cluster::plugin::{FrameworkPlugin, FrameworkSpec, PluginConfig};
use mesocosm_executor::{Program, Programs};
use mesocosm_master::{Sorter, SorterChoice};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

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
