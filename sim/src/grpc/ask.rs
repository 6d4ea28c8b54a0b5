//! Asks (Spark's `ask`: RetrieveSparkAppConfig, RegisterExecutor, Heartbeat)
//! and what becomes of any call once its result is known.
//!
//! An ask is a unary call whose response is the reply the receiver's core
//! sends back, on its own link, some latency later. Spark's `ask` returns a
//! future at once and the sender goes on sending, so the link that carries an
//! ask waits only until the request is in the receiver's mailbox (its
//! [`Carry`] rings, see [`Carry::watch`]); the call waits for its reply on a
//! task of its own:
//!
//! ```text
//!  link(asker → asked) ─ask_apart─▶ request lands ─▶ link goes on with its next message
//!                          └─ task: … reply's link wakes … response ─▶ asker's mailbox
//! ```
//!
//! Waiting for the reply on the link instead held the asker's next messages
//! (an executor's StatusUpdate after its Heartbeat) back for the reply's round
//! trip on gRPC but not in memory, so the two transports gave different traces.

use super::{Conn, Net, TransportRefusal, origin};
use crate::actor::{ActorId, Refusal};
use crate::mailbox::Delivery;
use crate::msg::Msg;
use crate::proto::mesocosm::rpc::coarse_grained_scheduler_client::CoarseGrainedSchedulerClient;
use crate::transit::{Carry, Leg};
use tokio::sync::oneshot;
use tonic::{Code, Status};

/// What became of a call, once its result is known: a refusal the receiver's
/// core made reaches the caller's core, a peer that went away is a lost
/// message, anything else is the transport's own refusal.
pub(super) fn settle(
    net: &Net,
    from: &ActorId,
    to: &ActorId,
    kind: &'static str,
    result: Result<(), Status>,
    answer: Option<Carry>,
) -> Result<(), TransportRefusal> {
    // The receiver's core refused the call: its answer reaches the caller's core.
    if let Err(status) = &result
        && let Some(refusal) = status_refusal(status)
    {
        net.mailboxes.deliver(from, Delivery::Refused { peer: to.clone(), kind, refusal });
        drop(answer);
        return Ok(());
    }
    match result {
        Ok(()) => Ok(()),
        // The receiver is gone (killed, restarted, exited before answering)
        // or a fault lost an ask's reply: lost as over a broken connection.
        Err(status) if matches!(status.code(), Code::Unavailable | Code::Cancelled) => {
            tracing::debug!(%from, %to, %status, "delivery failed: the peer went away");
            Ok(())
        }
        Err(status) => {
            Err(TransportRefusal { kind, status: format!("gRPC status {:?}: {}", status.code(), status.message()) })
        }
    }
}

/// Make an ask on a task of its own and wait only until its request has landed
/// in the receiver's mailbox (`landed` rings): `None`, the link goes on, and
/// the task puts the reply in the asker's mailbox when it comes back (a
/// transport refusal after that goes to `late`). `Some(result)`: the call
/// ended before its request landed (the receiver was gone), and the link
/// settles it as any call.
pub(super) async fn ask_apart(
    net: &Net,
    ch: Conn,
    from: &ActorId,
    to: &ActorId,
    msg: Msg,
    landed: oneshot::Receiver<()>,
    late: impl FnOnce(TransportRefusal) + Send + 'static,
) -> Option<Result<(), Status>> {
    let (done, ended) = oneshot::channel();
    let (n, f, t) = (net.clone(), from.clone(), to.clone());
    let kind = msg.kind();
    // Not owned by the asker: as a link's, an exited asker's call ends on its
    // own (`Net::forget` drops the waiting reply), and owning one task per ask
    // would grow the asker's list of tasks for as long as it runs.
    tokio::spawn(async move {
        let result = ask(&n, ch, &f, &t, msg).await;
        // The link moved on when the request landed: this task settles the rest.
        if let Err(result) = done.send(result) {
            let answer = n.transit().take_carry(&t, &f, Leg::Answer);
            if let Err(refused) = settle(&n, &f, &t, kind, result, answer) {
                late(refused);
            }
        }
    });
    tokio::select! { biased;
        result = ended => Some(result.unwrap_or_else(|_| Err(Status::cancelled("the ask's task ended")))),
        _ = landed => None,
    }
}

/// One ask: its request, then its reply into the asker's mailbox, landing the
/// reply's carry (handed over when the reply's link woke).
async fn ask(net: &Net, ch: Conn, from: &ActorId, to: &ActorId, msg: Msg) -> Result<(), Status> {
    macro_rules! ask {
        ($method:ident, $m:expr, $reply:ident) => {{
            let r = CoarseGrainedSchedulerClient::with_origin(ch, origin()).$method(tonic::Request::new($m)).await;
            let carry = net.transit().take_carry(to, from, Leg::Reply);
            let r = r?;
            net.mailboxes
                .deliver(from, Delivery::Message { from: to.clone(), msg: Box::new(Msg::$reply(r.into_inner())) });
            drop(carry);
            Ok(())
        }};
    }
    match msg {
        Msg::RetrieveSparkAppConfig(m) => ask!(retrieve_spark_app_config, m, SparkAppConfig),
        Msg::RegisterExecutor(m) => ask!(register_executor, *m, RegisterExecutorResponse),
        Msg::Heartbeat(m) => ask!(heartbeat, m, HeartbeatResponse),
        _ => Err(Status::internal("not an ask")),
    }
}

/// Wait for a message's carry to land. A carry that never drops is a transport
/// bug `World::settled` reports; the link waits for it no longer than the one
/// virtual microsecond `settled` gives it (a millisecond on the paused clock).
pub(super) async fn wait_landed(landed: oneshot::Receiver<()>) {
    tokio::select! { biased;
        _ = landed => {}
        _ = tokio::time::sleep(std::time::Duration::from_millis(1)) => {}
    }
}

/// The gRPC status that carries a core's refusal of a call: the HTTP status
/// rides in the [`REFUSAL`] header, so a 503 is not mistaken for a peer that
/// went away (also `UNAVAILABLE`).
pub(super) fn refusal_status(refusal: &Refusal) -> Status {
    let why = refusal.message().to_string();
    let mut status = match refusal {
        Refusal::Forbidden(_) => Status::permission_denied(why),
        Refusal::TemporaryRedirect(_) => Status::failed_precondition(why),
        Refusal::ServiceUnavailable(_) => Status::unavailable(why),
        // Decided by the world before either transport carries the request
        // (`world::link`), so no core answers with it; mapped for completeness.
        Refusal::ConnectionRefused(_) => Status::unavailable(why),
    };
    let code = refusal.http_status().split(' ').next().unwrap_or_default();
    if let Ok(v) = code.parse() {
        status.metadata_mut().insert(REFUSAL, v);
    }
    status
}

/// The metadata header naming the HTTP status of a core's refusal.
pub(super) const REFUSAL: &str = "mesos-refusal";

/// The core's refusal a status carries, if it carries one.
pub(super) fn status_refusal(status: &Status) -> Option<Refusal> {
    let why = status.message().to_string();
    match status.metadata().get(REFUSAL)?.to_str().ok()? {
        "403" => Some(Refusal::Forbidden(why)),
        "307" => Some(Refusal::TemporaryRedirect(why)),
        "503" => Some(Refusal::ServiceUnavailable(why)),
        _ => None,
    }
}
