//! Building what a framework sends: its FrameworkInfo, and TaskInfos cut from offers.

use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::v1::{CommandInfo, FrameworkInfo, Offer, TaskId, TaskInfo};

/// A FrameworkInfo named `name`, run as user `root`, with `failover_timeout`
/// 0: the master removes the framework as soon as its scheduler disconnects
/// (Mesos's default). Set other fields on the result.
///
/// ```
/// let info = mesocosm_scheduler::framework("offer-holder");
/// assert_eq!(info.name, "offer-holder");
/// ```
pub fn framework(name: &str) -> FrameworkInfo {
    FrameworkInfo { user: "root".into(), name: name.into(), failover_timeout: Some(0.0), ..Default::default() }
}

/// Everything `offer` holds, for `contains`/`subtract` arithmetic.
pub fn offered(offer: &Offer) -> Resources {
    Resources::from_protos(&offer.resources)
}

/// Scalar resources in Mesos's `--resources` syntax: `"cpus:1;mem:128"`.
///
/// ```
/// let r = mesocosm_scheduler::resources("cpus:1;mem:128").unwrap();
/// assert_eq!(r.scalar("mem"), 128.0);
/// assert!(mesocosm_scheduler::resources("cpus:lots").is_err());
/// ```
pub fn resources(text: &str) -> Result<Resources, String> {
    let mut r = Resources::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, value) = entry.split_once(':').ok_or_else(|| format!("{entry:?} is not name:value"))?;
        let v: f64 = value.trim().parse().map_err(|_| format!("{entry:?}: {value:?} is not a number"))?;
        if !v.is_finite() || v < 0.0 {
            return Err(format!("{entry:?}: a scalar must be finite and not negative"));
        }
        r.add_scalar(name.trim(), v);
    }
    Ok(r)
}

/// A command task `id` on `offer`'s agent using `resources`, running `command`
/// with Mesos's command executor (the agent generates the executor).
///
/// ```
/// use mesocosm_sim::proto::v1::{AgentId, Offer};
/// let offer = Offer { agent_id: AgentId { value: "S1".into() }, ..Default::default() };
/// let need = mesocosm_scheduler::resources("cpus:1").unwrap();
/// let t = mesocosm_scheduler::task("t-1", &offer, &need, "sleep 2");
/// assert_eq!(t.agent_id.value, "S1");
/// assert_eq!(t.command.unwrap().value.as_deref(), Some("sleep 2"));
/// ```
pub fn task(id: &str, offer: &Offer, resources: &Resources, command: &str) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: resources.to_protos(),
        command: Some(CommandInfo { value: Some(command.into()), shell: Some(true), ..Default::default() }),
        ..Default::default()
    }
}
