//! The executor's side of the v1 executor API: what an executor sends its agent.
//!
//! Every executor speaks the same few calls (`src/executor/executor.cpp`, the v1
//! executor library): SUBSCRIBE when it starts, then an UPDATE per task state
//! change, each with a fresh uuid the agent acknowledges with ACKNOWLEDGED.
//! [`ExecutorApi`] builds them, so a program's executor only decides *when*.
//!
//! ```
//! use mesocosm_executor::ExecutorApi;
//! use mesocosm_sim::proto::mesos::v1::{ExecutorId, FrameworkId, TaskId, TaskState};
//! use mesocosm_sim::{ActorId, Msg, Outbox, SimTime, sent_to};
//!
//! let mut api = ExecutorApi::new(
//!     ActorId::new("executor:fw/e1"),
//!     ActorId::new("agent-1"),
//!     ExecutorId { value: "e1".into() },
//!     FrameworkId { value: "F-0000".into() },
//! );
//! let mut out: Outbox<()> = Outbox::new(SimTime::ZERO);
//! api.subscribe(&mut out);
//! let uuid = api.update(TaskId { value: "t1".into() }, TaskState::TaskRunning, None, &mut out);
//! let sent = sent_to(out.outputs(), "agent-1");
//! assert_eq!(sent.iter().map(|m| m.kind()).collect::<Vec<_>>(), ["SUBSCRIBE", "UPDATE"]);
//! assert!(matches!(&sent[1], Msg::ExecutorCall(c) if c.update.as_ref().unwrap().status.uuid == Some(uuid)));
//! ```

use mesocosm_sim::ids::uuid_from;
use mesocosm_sim::proto::executor;
use mesocosm_sim::proto::mesos::v1::{ExecutorId, FrameworkId, TaskId, TaskState, TaskStatus, task_status};
use mesocosm_sim::{ActorId, Outbox};

/// One executor's calls to its agent.
#[derive(Clone, Debug)]
pub struct ExecutorApi {
    me: ActorId,
    agent: ActorId,
    executor_id: ExecutorId,
    framework_id: FrameworkId,
    /// Updates sent so far: each update's uuid derives from the actor's name and
    /// this count, so runs replay.
    updates: u64,
}

impl ExecutorApi {
    /// The API of executor `executor_id` of `framework_id`, running as actor
    /// `me`, launched by `agent`.
    pub fn new(me: ActorId, agent: ActorId, executor_id: ExecutorId, framework_id: FrameworkId) -> ExecutorApi {
        ExecutorApi { me, agent, executor_id, framework_id, updates: 0 }
    }

    /// The agent this executor talks to.
    pub fn agent(&self) -> &ActorId {
        &self.agent
    }

    /// This executor's id.
    pub fn executor_id(&self) -> &ExecutorId {
        &self.executor_id
    }

    /// A call of `type` with this executor's ids and nothing else.
    pub fn call(&self, r#type: executor::call::Type) -> executor::Call {
        executor::Call {
            executor_id: self.executor_id.clone(),
            framework_id: self.framework_id.clone(),
            r#type: Some(r#type as i32),
            ..Default::default()
        }
    }

    /// Send SUBSCRIBE (nothing unacknowledged: the executor has just started).
    pub fn subscribe<T>(&self, out: &mut Outbox<T>) {
        let mut call = self.call(executor::call::Type::Subscribe);
        call.subscribe = Some(executor::call::Subscribe::default());
        out.send(&self.agent, call);
    }

    /// Send an UPDATE of `task` to `state` (source: the executor), and return
    /// its uuid, which the agent's ACKNOWLEDGED will carry.
    pub fn update<T>(
        &mut self,
        task: TaskId,
        state: TaskState,
        message: Option<String>,
        out: &mut Outbox<T>,
    ) -> Vec<u8> {
        let (call, uuid) = self.update_call(task, state, message, out.now().as_secs_f64());
        out.send(&self.agent, call);
        uuid
    }

    /// The UPDATE call [`ExecutorApi::update`] sends, without sending it (an
    /// executor that is not connected drops it, but the uuid is spent).
    pub fn update_call(
        &mut self,
        task: TaskId,
        state: TaskState,
        message: Option<String>,
        timestamp: f64,
    ) -> (executor::Call, Vec<u8>) {
        self.updates += 1;
        let uuid = uuid_from(&[self.me.as_str().as_bytes(), b"update", &self.updates.to_le_bytes()]).to_vec();
        let mut call = self.call(executor::call::Type::Update);
        call.update = Some(executor::call::Update {
            status: TaskStatus {
                task_id: task,
                state: state as i32,
                message,
                source: Some(task_status::Source::Executor as i32),
                executor_id: Some(self.executor_id.clone()),
                timestamp: Some(timestamp),
                uuid: Some(uuid.clone()),
                ..Default::default()
            },
        });
        (call, uuid)
    }
}
