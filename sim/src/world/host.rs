//! An actor's host: the task that feeds a core its inputs and carries out its outputs.
//!
//! One host per running actor, spawned by [`World::spawn`] and owned by the
//! actor (it dies with it). It reads the actor's mailbox, fires its timers in
//! virtual time, and carries each output out through the world: a send goes
//! to [`World::send`], a launch to the world's launcher, an exit to
//! `World::exit`. At one instant the mailbox goes before timers, and a timer
//! fires only once nothing is in transit ([`World::settled`]), so both
//! transports replay to the same trace.

use super::World;
use super::inbox::Inbox;
use crate::actor::{Actor, ActorId, Input, Outbox, Output, Refusal};
use crate::failure::{Handling, RunFailure};
use crate::mailbox::{Answer, Delivery};
use crate::time::SimTime;
use crate::transit::Leg;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

/// An actor's host: feed the core its inputs, carry out its outputs.
///
/// A core that panics, or that handles more than
/// [`WorldConfig::max_steps_per_instant`](super::WorldConfig::max_steps_per_instant) inputs at one instant, fails the run
/// ([`World::fail`]) naming itself, the time and the input: a core's bug must not
/// leave the run going on without it, nor hang it.
pub(super) async fn host<A: Actor>(world: World, me: ActorId, mut core: A, mut rx: mpsc::UnboundedReceiver<Delivery>) {
    let mut timers: BTreeMap<(SimTime, u64), A::Timer> = BTreeMap::new();
    let mut seq: u64 = 0;
    let mut out = Outbox::new(world.now());
    out.set_notes(world.notes_wanted());
    let mut input: Option<(Input<A::Timer>, Answer)> = Some((Input::Start, None));
    let mut inbox = Inbox::default();
    // The livelock guard: how many inputs this actor handled at `instant`.
    let (mut instant, mut steps_at_instant) = (SimTime::ZERO, 0u64);
    loop {
        if let Some((i, answer)) = input.take() {
            if world.shared.stopped.load(Ordering::Relaxed) {
                return;
            }
            // A slow scheduler thinks about its offers before it answers, and
            // handles nothing else meanwhile (the offers stay outstanding).
            if let Input::Message { msg, .. } = &i
                && world.shared.has_slow
            {
                let think = world.state().faults.think_time(world.now(), &me, msg);
                if let Some((rule, d)) = think {
                    world.record_fault("slow", &rule, &format!("{me} thinks {d:?} about {}", msg.summary()));
                    let until = world.now().after(d);
                    // What lands meanwhile waits in the inbox, stamped with when it landed.
                    let thinking = world.sleep_until(until);
                    tokio::pin!(thinking);
                    loop {
                        tokio::select! { biased;
                            _ = &mut thinking => break,
                            d = rx.recv() => match d {
                                Some(d) => inbox.land(world.now(), d),
                                None => return,
                            },
                        }
                    }
                }
            }
            let now = world.now();
            if now == instant {
                steps_at_instant += 1;
            } else {
                (instant, steps_at_instant) = (now, 1);
            }
            let handling = Handling::of(&i);
            if steps_at_instant > world.shared.max_steps_per_instant {
                let steps = steps_at_instant - 1;
                world.fail(RunFailure::Livelock { at: now, actor: me.clone(), steps, input: handling.describe() });
                return;
            }
            out.reset(now);
            let check = world.shared.check_invariants;
            let stepped = crate::failure::catch(|| {
                core.handle(i, &mut out);
                if check { core.check_invariants() } else { Ok(()) }
            });
            match stepped {
                Ok(Ok(())) => {}
                Ok(Err(problem)) => world.violation(&me, problem),
                Err(message) => {
                    let input = handling.describe();
                    world.fail(RunFailure::Panic { at: now, actor: me.clone(), input, message });
                    return;
                }
            }
            // Carrying out the outputs runs the world's own code (faults, the
            // trace, observers, the runner's launcher): a panic there is as loud.
            let carried = crate::failure::catch(|| {
                let (mut exit, mut refusal) = (None, None);
                for o in out.drain() {
                    match o {
                        Output::Send { to, msg } => world.send(&me, &to, msg),
                        Output::SetTimer { at, timer } => {
                            timers.insert((at, seq), timer);
                            seq += 1;
                        }
                        Output::Launch(l) => world.launch(&me, *l),
                        Output::Disconnect { peer } => world.disconnect(&me, &peer),
                        Output::Kill { child, status } => world.kill_child(&me, &child, status),
                        Output::Refuse(r) => refusal = Some(r),
                        Output::Note(text) => world.note(&me, &text),
                        Output::Shares(shares) => world.shares(&me, &shares),
                        Output::Event(text) => world.event(&me, &text),
                        Output::Exit { status } => exit = Some(status),
                    }
                }
                if answer.is_some() || refusal.is_some() {
                    world.answer(&me, &handling, answer, refusal);
                }
                exit
            });
            let exit = match carried {
                Ok(exit) => exit,
                Err(message) => {
                    let input = format!("the outputs of {}", handling.describe());
                    world.fail(RunFailure::Panic { at: now, actor: me.clone(), input, message });
                    return;
                }
            };
            if let Some(status) = exit {
                world.exit(&me, status);
                return;
            }
        }
        // Everything that landed goes to the inbox, which hands out the world's order.
        loop {
            match rx.try_recv() {
                Ok(d) => inbox.land(world.now(), d),
                Err(TryRecvError::Empty) => break,
                // The world dropped our mailbox: we were killed.
                Err(TryRecvError::Disconnected) => return,
            }
        }
        if !inbox.is_empty() {
            input = world.next_in(&me, &mut inbox, &mut rx).await.map(Delivery::into_input);
            if input.is_none() && rx.is_closed() && rx.is_empty() {
                return;
            }
            continue;
        }
        let next = timers.first_key_value().map(|(k, _)| k.0);
        // Messages first: at equal instants, mailbox before timers, every run.
        tokio::select! { biased;
            d = rx.recv() => match d {
                Some(d) => inbox.land(world.now(), d),
                // The world dropped our mailbox: we were killed.
                None => return,
            },
            _ = world.sleep_until(next.unwrap_or(SimTime::ZERO)), if next.is_some() => {
                // What is in transit at this instant lands first, as memory would
                // already have delivered it, and the mailbox still goes first
                // (a call in it may be what a link in transit waits on).
                tokio::select! { biased;
                    d = rx.recv() => match d {
                        Some(d) => inbox.land(world.now(), d),
                        None => return,
                    },
                    _ = world.settled(&me) => {
                        if let Some((_, t)) = timers.pop_first() {
                            input = Some((Input::Timer(t), None));
                        }
                    }
                }
            }
        }
    }
}

impl World {
    /// Answer the call `me` just handled: accepted, or refused. A caller waiting
    /// on a gRPC call gets the answer as the call's status (see `grpc`); any
    /// other caller gets the refusal in its mailbox at once, as the same status
    /// would reach it, so both transports deliver it at the same instant.
    fn answer<T: Clone + std::fmt::Debug>(
        &self,
        me: &ActorId,
        handling: &Handling<T>,
        answer: Answer,
        refusal: Option<Refusal>,
    ) {
        let Some(refusal) = refusal else {
            if let Some(a) = answer {
                let _ = a.send(None);
            }
            return;
        };
        let Handling::Message { from, kind, .. } = handling else {
            let what = handling.describe();
            self.violation(me, format!("refused {what}, which is not a call (only a message can be refused)"));
            return;
        };
        let now = self.now();
        self.state().trace.refusal(now, me, from, kind, &refusal);
        match answer {
            Some(a) => {
                // In transit until the caller's client lands it (memory delivers it now).
                let transit = &self.shared.mailboxes.transit;
                transit.hand_over(me, from, Leg::Answer, transit.carry());
                let _ = a.send(Some(refusal));
            }
            None => self.deliver(from, Delivery::Refused { peer: me.clone(), kind, refusal }),
        }
    }

    /// The next delivery `me` handles, in the world's order (see [`Inbox`]):
    /// at the current instant, once nothing due for `me` from a sender named
    /// before it is still on its way. `None`: something landed (or was lost)
    /// meanwhile, so look again. Should an expected arrival never land (a bug),
    /// it waits no longer than the instant, and says so as an invariant violation.
    async fn next_in(
        &self,
        me: &ActorId,
        inbox: &mut Inbox,
        rx: &mut mpsc::UnboundedReceiver<Delivery>,
    ) -> Option<Delivery> {
        let arrivals = &self.shared.mailboxes.arrivals;
        let changed = arrivals.changed();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let now = self.now();
        if let Some(d) = inbox.next(arrivals, me, now) {
            return Some(d);
        }
        let give_up = now.after(Duration::from_micros(1));
        tokio::select! { biased;
            d = rx.recv() => {
                if let Some(d) = d {
                    inbox.land(self.now(), d);
                }
                None
            }
            _ = changed => None,
            _ = self.sleep_until(give_up) => {
                self.violation(me, "a message due at its instant never landed (a transport bug)".to_string());
                inbox.first()
            }
        }
    }

    /// Wait until no message is in transit (at once on the memory transport)
    /// and nothing due for `me` by now is still on its way to it. A host calls
    /// it before firing a timer. Should a carry never drop (a bug), it waits no
    /// longer than the instant, and says so as an invariant violation.
    async fn settled(&self, me: &ActorId) {
        let t = &self.shared.mailboxes.transit;
        let arrivals = &self.shared.mailboxes.arrivals;
        let now = self.now();
        if t.count() == 0 && !arrivals.awaiting_before(me, now, None) {
            return;
        }
        let give_up = now.after(Duration::from_micros(1));
        loop {
            let landed = t.landed();
            let changed = arrivals.changed();
            tokio::pin!(landed, changed);
            landed.as_mut().enable();
            changed.as_mut().enable();
            let owed = arrivals.awaiting_before(me, now, None);
            if t.count() == 0 && !owed {
                return;
            }
            tokio::select! { biased;
                _ = landed => {}
                _ = changed => {}
                _ = self.sleep_until(give_up) => {
                    let n = t.count();
                    self.violation(me, format!("{n} message(s) in transit past their instant, {me} owed one: {owed} (a transport bug)"));
                    return;
                }
            }
        }
    }
}
