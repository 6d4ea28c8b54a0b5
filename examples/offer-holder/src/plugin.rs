//! The glue that names [`OfferHolder`] for scenario files: `[[frameworks]]
//! kind = "offer-holder"` (or `"offer-holder-fixed"`), with `tasks` (default 3)
//! and `duration` (each task's sleep in seconds, default 2) under `[frameworks.config]`;
//! and the `largest-share-first` sorter for `[master] role_sorter` / `framework_sorter`.
use crate::OfferHolder;
use crate::sorter::LargestShareFirst;
use mesocosm::cluster::{Framework, FrameworkCtx, Process};
use mesocosm::registry::{FrameworkPlugin, FrameworkSpec, PluginConfig, Registry};
use mesocosm_scheduler::{MesosSchedulerDriver, framework};
use std::sync::Arc;

/// mesocosm's default registry plus both versions of the example and its sorter.
pub fn registry() -> Registry {
    let mut registry = Registry::default();
    registry.register_framework("offer-holder", Spec { tasks: 0, seconds: 0.0, fixed: false });
    registry.register_framework("offer-holder-fixed", Spec { tasks: 0, seconds: 0.0, fixed: true });
    registry.register_sorter("largest-share-first", || Box::new(LargestShareFirst));
    registry
}

#[derive(Clone, Debug)]
struct Spec {
    tasks: u32,
    seconds: f64,
    fixed: bool,
}

impl FrameworkPlugin for Spec {
    fn parse(&self, c: &mut PluginConfig) -> Option<Arc<dyn FrameworkSpec>> {
        let (tasks, seconds) = (c.u64("tasks", 3, 1..=1000) as u32, c.f64("duration", 2.0, 0.0..=3600.0));
        Some(Arc::new(Spec { tasks, seconds, fixed: self.fixed }))
    }
}

impl FrameworkSpec for Spec {
    fn framework(&self, _name: &str) -> Box<dyn Framework> {
        Box::new(self.clone())
    }
}

impl Framework for Spec {
    /// A restarted scheduler is a new process that registers as a new framework.
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
        let scheduler = OfferHolder::new(self.tasks, self.seconds, self.fixed);
        Process::new(MesosSchedulerDriver::new(ctx.master_url(), framework(ctx.name), scheduler))
    }
}
