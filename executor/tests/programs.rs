//! A real master and agent launch tasks through [`Programs`]: a task no program
//! runs fails loudly (TASK_FAILED reaches the framework), never stays STAGING.

use mesocosm_agent::{Agent, AgentConfig};
use mesocosm_executor::{ExecutorApi, Program, Programs};
use mesocosm_master::{Master, MasterConfig};
use mesocosm_sim::proto::mesos::v1::{
    self as v1, CommandInfo, ExecutorId, ExecutorInfo, FrameworkId, TaskId, TaskInfo, TaskState, task_status,
};
use mesocosm_sim::proto::{Resources, executor, scheduler};
use mesocosm_sim::{
    Actor, ActorId, Input, Launch, Msg, Outbox, SimTime, Transport, World, WorldConfig, run_world, trace,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One status update the framework received.
#[derive(Clone, Debug, PartialEq)]
struct Update {
    task: String,
    state: TaskState,
    message: Option<String>,
    reason: Option<task_status::Reason>,
}

/// A tiny scheduler: subscribes (with TASK_KILLING_STATE), launches `tasks` on
/// its first offer, declines the rest, records and acknowledges every update,
/// and kills a task named `victim` once it runs.
struct Launcher {
    master: ActorId,
    tasks: Vec<TaskInfo>,
    framework: Option<FrameworkId>,
    launched: bool,
    updates: Arc<Mutex<Vec<Update>>>,
}

impl Launcher {
    fn call(&self, ty: scheduler::call::Type) -> scheduler::Call {
        scheduler::Call { framework_id: self.framework.clone(), r#type: Some(ty as i32), ..Default::default() }
    }

    fn on_offer(&mut self, offer: v1::Offer, out: &mut Outbox<()>) {
        let mut call;
        if self.launched {
            call = self.call(scheduler::call::Type::Decline);
            call.decline = Some(scheduler::call::Decline { offer_ids: vec![offer.id], filters: None });
        } else {
            self.launched = true;
            let tasks = self.tasks.iter().map(|t| TaskInfo { agent_id: offer.agent_id.clone(), ..t.clone() }).collect();
            call = self.call(scheduler::call::Type::Accept);
            call.accept = Some(scheduler::call::Accept {
                offer_ids: vec![offer.id],
                operations: vec![v1::offer::Operation {
                    r#type: Some(v1::offer::operation::Type::Launch as i32),
                    launch: Some(v1::offer::operation::Launch { task_infos: tasks }),
                    ..Default::default()
                }],
                filters: None,
            });
        }
        out.send(&self.master.clone(), call);
    }
}

impl Actor for Launcher {
    type Timer = ();

    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        let master = self.master.clone();
        match input {
            Input::Start => {
                let killing = v1::framework_info::Capability {
                    r#type: Some(v1::framework_info::capability::Type::TaskKillingState as i32),
                };
                let info = v1::FrameworkInfo {
                    user: "root".into(),
                    name: "launcher".into(),
                    capabilities: vec![killing],
                    ..Default::default()
                };
                let mut call = self.call(scheduler::call::Type::Subscribe);
                call.subscribe = Some(scheduler::call::Subscribe { framework_info: info, suppressed_roles: vec![] });
                out.send(&master, call);
            }
            Input::Message { msg: Msg::SchedulerEvent(ev), .. } => match ev.r#type() {
                scheduler::event::Type::Subscribed => self.framework = ev.subscribed.map(|s| s.framework_id),
                scheduler::event::Type::Offers => {
                    for offer in ev.offers.map(|o| o.offers).unwrap_or_default() {
                        self.on_offer(offer, out);
                    }
                }
                scheduler::event::Type::Update => {
                    let Some(status) = ev.update.map(|u| u.status) else { return };
                    self.updates.lock().unwrap().push(Update {
                        task: status.task_id.value.clone(),
                        state: status.state(),
                        message: status.message.clone(),
                        reason: status.reason.map(|_| status.reason()),
                    });
                    if status.task_id.value == "victim" && status.state() == TaskState::TaskRunning {
                        let mut kill = self.call(scheduler::call::Type::Kill);
                        kill.kill = Some(scheduler::call::Kill {
                            task_id: status.task_id.clone(),
                            agent_id: status.agent_id.clone(),
                            kill_policy: None,
                        });
                        out.send(&master, kill);
                    }
                    if let (Some(uuid), Some(agent_id)) = (status.uuid, status.agent_id) {
                        let mut ack = self.call(scheduler::call::Type::Acknowledge);
                        ack.acknowledge =
                            Some(scheduler::call::Acknowledge { agent_id, task_id: status.task_id, uuid });
                        out.send(&master, ack);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

fn resources(cpus: f64, mem: f64) -> Vec<v1::Resource> {
    let mut r = Resources::scalar_of("cpus", cpus);
    r.add_scalar("mem", mem);
    r.to_protos()
}

fn command_task(id: &str, command: &str) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        resources: resources(0.5, 64.0),
        command: Some(CommandInfo { value: Some(command.into()), ..Default::default() }),
        ..Default::default()
    }
}

/// A task with an executor of the framework's own (a custom executor).
fn custom_executor_task(id: &str, command: &str) -> TaskInfo {
    TaskInfo {
        executor: Some(ExecutorInfo {
            executor_id: ExecutorId { value: format!("{id}-executor") },
            command: Some(CommandInfo { value: Some(command.into()), ..Default::default() }),
            resources: resources(0.1, 32.0),
            ..Default::default()
        }),
        command: None,
        ..command_task(id, "")
    }
}

/// Run a master, one agent and the launcher with `tasks` for 30 virtual
/// seconds, with `programs` (if any) as the world's launcher: the updates the
/// framework received, and the world.
fn run(programs: Option<Programs>, tasks: Vec<TaskInfo>) -> (Vec<Update>, World, String) {
    run_for(programs, tasks, SimTime::from_secs(30))
}

fn run_for(programs: Option<Programs>, tasks: Vec<TaskInfo>, until: SimTime) -> (Vec<Update>, World, String) {
    run_world(|| async move {
        let timeline = Timeline::default();
        let mut config = WorldConfig::new(7, Transport::Memory);
        config.trace.timeline = Some(trace::Timeline::new(Box::new(timeline.clone()), false));
        let world = World::new(config);
        if let Some(p) = programs {
            world.set_launcher(p.launcher());
        }
        let master = ActorId::new("master");
        let cfg =
            MasterConfig { me: master.clone(), id: "M".into(), hostname: "master".into(), ..MasterConfig::default() };
        world.spawn(master.clone(), Master::new(cfg), None);
        let mut agent_resources = Resources::scalar_of("cpus", 4.0);
        agent_resources.add_scalar("mem", 4096.0);
        let agent = AgentConfig {
            me: ActorId::new("agent-1"),
            master: master.clone(),
            resources: agent_resources.to_protos(),
            attributes: vec![],
            port: 5051,
            registration_delay: Duration::from_millis(10),
            version: "1.11.0".into(),
            recovered_id: None,
            backoff_seed: 1,
            containers: Default::default(),
            zk: None,
        };
        world.spawn(ActorId::new("agent-1"), Agent::new(agent), None);
        let updates = Arc::new(Mutex::new(Vec::new()));
        let framework = Launcher { master, tasks, framework: None, launched: false, updates: Arc::clone(&updates) };
        world.spawn(ActorId::new("framework"), framework, None);
        world.sleep_until(until).await;
        assert_eq!(world.violations(), vec![]);
        let updates = updates.lock().unwrap().clone();
        let timeline = String::from_utf8(timeline.0.lock().unwrap().clone()).unwrap();
        (updates, world, timeline)
    })
}

/// The timeline, written to memory.
#[derive(Clone, Default)]
struct Timeline(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Timeline {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn update(task: &str, state: TaskState, message: Option<&str>, reason: Option<task_status::Reason>) -> Update {
    Update { task: task.into(), state, message: message.map(String::from), reason }
}

fn of<'a>(updates: &'a [Update], task: &str) -> Vec<&'a Update> {
    updates.iter().filter(|u| u.task == task).collect()
}

#[test]
fn the_command_executor_runs_a_sleep_and_fails_a_command_nobody_provides() {
    let (updates, _, _) = run(
        Some(Programs::with_mesos_command_executor()),
        vec![command_task("sleeper", "sleep 2"), command_task("frob", "frobnicate")],
    );
    assert_eq!(
        of(&updates, "sleeper"),
        [
            &update("sleeper", TaskState::TaskStarting, None, None),
            &update("sleeper", TaskState::TaskRunning, None, None),
            &update("sleeper", TaskState::TaskFinished, Some("Command exited with status 0"), None),
        ]
    );
    assert_eq!(
        of(&updates, "frob"),
        [
            &update("frob", TaskState::TaskStarting, None, None),
            &update("frob", TaskState::TaskRunning, None, None),
            &update("frob", TaskState::TaskFailed, Some("Command exited with status 127"), None),
        ]
    );
}

#[test]
fn a_custom_executor_no_program_runs_fails_its_task() {
    let (updates, world, timeline) = run(
        Some(Programs::with_mesos_command_executor()),
        vec![custom_executor_task("custom", "/opt/my-executor --fast")],
    );
    // The timeline says what could not run, and which programs were asked.
    assert!(
        timeline.contains(
            "executor:launcher/custom-executor  container on agent-1 for task custom: nothing runs \"/opt/my-executor --fast\" \
             (asked: mesos-command-executor); sh: 1: /opt/my-executor: not found, exit 127"
        ),
        "{timeline}"
    );
    assert_eq!(
        of(&updates, "custom"),
        [&update(
            "custom",
            TaskState::TaskFailed,
            Some("Executor terminated"),
            Some(task_status::Reason::ExecutorTerminated)
        )]
    );
    let exit = world.exit_of(&ActorId::new("executor:launcher/custom-executor")).expect("the container exited");
    assert_eq!(exit.status, 127);
}

#[test]
fn with_no_launcher_set_a_task_fails_instead_of_staying_staging() {
    let (updates, world, timeline) = run(None, vec![command_task("lonely", "sleep 1")]);
    assert!(timeline.contains("(no launcher is set on the world)"), "{timeline}");
    assert_eq!(
        of(&updates, "lonely"),
        [&update(
            "lonely",
            TaskState::TaskFailed,
            Some("Executor terminated"),
            Some(task_status::Reason::ExecutorTerminated)
        )]
    );
    assert_eq!(world.exit_of(&ActorId::new("executor:launcher/lonely")).map(|e| e.status), Some(127));
}

#[test]
fn an_empty_program_list_fails_even_command_tasks() {
    let (updates, _, timeline) = run(Some(Programs::new()), vec![command_task("t", "sleep 1")]);
    // The agent-generated command executor is itself a program nobody provides.
    assert!(
        timeline.contains(
            "nothing runs \"/usr/libexec/mesos/mesos-executor\" (no programs are registered); \
             sh: 1: /usr/libexec/mesos/mesos-executor: not found"
        ),
        "{timeline}"
    );
    assert_eq!(
        of(&updates, "t"),
        [&update(
            "t",
            TaskState::TaskFailed,
            Some("Executor terminated"),
            Some(task_status::Reason::ExecutorTerminated)
        )]
    );
}

/// A program that starts a process which never subscribes and never exits.
struct Silent;

impl Actor for Silent {
    type Timer = ();
    fn handle(&mut self, _: Input<()>, _: &mut Outbox<()>) {}
}

impl Program for Silent {
    fn name(&self) -> &str {
        "silent"
    }
    fn runs(&self, _: &Launch) -> bool {
        true
    }
    fn start(&self, world: &World, agent: &ActorId, launch: Launch) {
        world.spawn(launch.actor, Silent, Some(agent.clone()));
    }
}

#[test]
fn a_program_that_never_subscribes_fails_its_task_at_the_registration_timeout() {
    let (updates, _, _) =
        run_for(Some(Programs::new().with(Silent)), vec![command_task("t", "sleep 1")], SimTime::from_secs(90));
    assert_eq!(
        of(&updates, "t"),
        [&update(
            "t",
            TaskState::TaskFailed,
            Some("Executor did not register within 1mins"),
            Some(task_status::Reason::ExecutorRegistrationTimeout)
        )]
    );
}

#[test]
fn a_killed_command_task_ends_killed() {
    let (updates, world, _) =
        run(Some(Programs::with_mesos_command_executor()), vec![command_task("victim", "sleep 60")]);
    assert_eq!(
        of(&updates, "victim"),
        [
            &update("victim", TaskState::TaskStarting, None, None),
            &update("victim", TaskState::TaskRunning, None, None),
            &update("victim", TaskState::TaskKilling, None, None),
            &update("victim", TaskState::TaskKilled, Some("Command terminated with signal Terminated"), None),
        ]
    );
    // The executor exited once its terminal update was acknowledged.
    assert_eq!(world.exit_of(&ActorId::new("executor:launcher/victim")).map(|e| e.status), Some(0));
}

/// A custom executor that finishes each task at once and exits once the
/// agent acknowledges the terminal update (the example of `program.rs`).
struct Instant {
    api: ExecutorApi,
    terminal: Vec<Vec<u8>>,
}

impl Actor for Instant {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        let Input::Message { msg: Msg::ExecutorEvent(ev), .. } = input else {
            if input == Input::Start {
                self.api.subscribe(out);
            }
            return;
        };
        match (ev.r#type(), ev.launch, ev.acknowledged) {
            (executor::event::Type::Launch, Some(l), _) => {
                self.api.update(l.task.task_id.clone(), TaskState::TaskRunning, None, out);
                let uuid = self.api.update(l.task.task_id, TaskState::TaskFinished, None, out);
                self.terminal.push(uuid);
            }
            (executor::event::Type::Acknowledged, _, Some(a)) if self.terminal.contains(&a.uuid) => out.exit(0),
            _ => {}
        }
    }
}

struct InstantExecutor;

impl Program for InstantExecutor {
    fn name(&self) -> &str {
        "instant-executor"
    }
    fn runs(&self, launch: &Launch) -> bool {
        launch.executor.command.as_ref().and_then(|c| c.value.as_deref()) == Some("/opt/instant-executor")
    }
    fn start(&self, world: &World, agent: &ActorId, launch: Launch) {
        let framework = launch.framework.id.clone().unwrap_or_default();
        let api = ExecutorApi::new(launch.actor.clone(), agent.clone(), launch.executor.executor_id, framework);
        world.spawn(launch.actor, Instant { api, terminal: vec![] }, Some(agent.clone()));
    }
}

#[test]
fn a_custom_executor_a_program_provides_runs_its_task() {
    let programs = Programs::with_mesos_command_executor().with(InstantExecutor);
    let (updates, world, _) = run(
        Some(programs),
        vec![custom_executor_task("quick", "/opt/instant-executor"), custom_executor_task("other", "/opt/nothing")],
    );
    assert_eq!(
        of(&updates, "quick"),
        [&update("quick", TaskState::TaskRunning, None, None), &update("quick", TaskState::TaskFinished, None, None)]
    );
    assert_eq!(world.exit_of(&ActorId::new("executor:launcher/quick-executor")).map(|e| e.status), Some(0));
    // The other executor's command is still nobody's.
    assert_eq!(of(&updates, "other").last().map(|u| u.state), Some(TaskState::TaskFailed));
}
