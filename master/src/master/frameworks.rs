//! Schedulers: the v1 scheduler API's calls dispatched, SUBSCRIBE and
//! re-subscription, disconnection and failover, and framework removal.

use super::{
    Framework, MAX_COMPLETED_FRAMEWORKS, Master, OfferNo, Timer, allocation_role, error_event, event, failover_reason,
    has_capability, is_partition_aware,
};
use crate::history::MasterEvent;
use crate::validation::failover_timeout;
use mesocosm_proto::scheduler::call::Type as CallType;
use mesocosm_proto::scheduler::event::Type as EventType;
use mesocosm_proto::v1::framework_info::capability::Type as Capability;
use mesocosm_proto::{internal, scheduler, v1};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::{ActorId, Outbox, Refusal};
use std::time::Duration;

impl Master {
    pub(super) fn scheduler_call(&mut self, from: ActorId, call: scheduler::Call, out: &mut Outbox<Timer>) {
        let ty = call.r#type();
        if ty == CallType::Subscribe {
            return self.subscribe(from, call, out);
        }
        // `validation::scheduler::call::validate`: everything but SUBSCRIBE names its framework.
        let Some(claimed) = call.framework_id.as_ref().map(|f| f.value.clone()) else {
            out.send(&from, error_event("Expecting 'framework_id' to be present"));
            return;
        };
        // Why a refusal: the HTTP API answers a call from a scheduler without a
        // subscription for that framework with 403 "Framework is not subscribed"
        // (master/http.cpp `scheduler`) on that call, and leaves the event stream
        // alone (an ERROR event would tell the scheduler to abort).
        if self.framework_by_actor.get(&from) != Some(&claimed) {
            out.refuse(Refusal::Forbidden("Framework is not subscribed".into()));
            return;
        }
        let fid = claimed;
        match ty {
            CallType::Teardown => {
                self.remove_framework(&fid, "teardown", out);
                out.disconnect(&from);
            }
            CallType::Accept => match &call.accept {
                Some(a) => self.accept(&fid, a, out),
                None => out.send(&from, error_event("Expecting 'accept' to be present")),
            },
            CallType::Decline => match &call.decline {
                Some(d) => self.decline(&fid, d, out),
                None => out.send(&from, error_event("Expecting 'decline' to be present")),
            },
            CallType::Revive => {
                self.alloc.revive(&fid);
                out.note_with(|| format!("{} revived: filters cleared, allocating all agents", self.fw_name(&fid)));
                self.trigger(None, out);
            }
            CallType::Suppress => {
                self.alloc.suppress(&fid);
                out.note_with(|| format!("{} suppressed offers", self.fw_name(&fid)));
            }
            CallType::Kill => match &call.kill {
                Some(k) => self.kill(&fid, k, out),
                None => out.send(&from, error_event("Expecting 'kill' to be present")),
            },
            CallType::Acknowledge => match &call.acknowledge {
                Some(a) => self.acknowledge(&fid, a, out),
                None => out.send(&from, error_event("Expecting 'acknowledge' to be present")),
            },
            CallType::Reconcile => match &call.reconcile {
                Some(r) => self.reconcile(&fid, r, out),
                None => out.send(&from, error_event("Expecting 'reconcile' to be present")),
            },
            CallType::Shutdown => match &call.shutdown {
                Some(s) => {
                    if let Some(a) = self.agents.get(&s.agent_id.value) {
                        let m = internal::ShutdownExecutorMessage {
                            executor_id: Some(s.executor_id.clone()),
                            framework_id: Some(v1::FrameworkId { value: fid.clone() }),
                        };
                        out.send(&a.actor, m);
                    }
                }
                None => out.send(&from, error_event("Expecting 'shutdown' to be present")),
            },
            other => {
                out.note_with(|| format!("mesocosm's master does not model {} calls; ignored", other.as_str_name()))
            }
        }
    }

    pub(super) fn subscribed_event(&self, fid: &str) -> scheduler::Event {
        let mut e = event(EventType::Subscribed);
        e.subscribed = Some(scheduler::event::Subscribed {
            framework_id: v1::FrameworkId { value: fid.to_string() },
            heartbeat_interval_seconds: Some(self.cfg.heartbeat_interval.as_secs_f64()),
            master_info: Some(self.info.clone()),
        });
        e
    }

    /// SUBSCRIBED, then the heartbeats. `Framework::heartbeat` starts a
    /// `ResponseHeartbeater` with no initial delay, so the first HEARTBEAT follows
    /// SUBSCRIBED at once and the next ones every `heartbeat_interval`.
    pub(super) fn greet(&mut self, fid: &str, out: &mut Outbox<Timer>) {
        let fw = &self.frameworks[fid];
        let Some(actor) = &fw.actor else { return };
        out.send(actor, self.subscribed_event(fid));
        out.send(actor, event(EventType::Heartbeat));
        out.set_timer(self.cfg.heartbeat_interval, Timer::Heartbeat { framework: fid.to_string(), epoch: fw.epoch });
    }

    pub(super) fn subscribe(&mut self, from: ActorId, call: scheduler::Call, out: &mut Outbox<Timer>) {
        let Some(sub) = call.subscribe else {
            out.send(&from, error_event("Expecting 'subscribe' to be present"));
            return;
        };
        let mut info = sub.framework_info;
        if call.framework_id != info.id {
            out.send(&from, error_event("'framework_id' differs from 'subscribe.framework_info.id'"));
            return;
        }
        if let Err(message) = failover_timeout(&info) {
            // `Master::subscribe` → `validateFramework`: refused with the error,
            // and the HTTP stream is closed (`refuseSubscription`).
            out.note_with(|| format!("refusing the subscription of framework {}: {message}", info.name));
            out.send(&from, error_event(&message));
            out.disconnect(&from);
            return;
        }
        let now = out.now();
        let claimed = info.id.as_ref().map(|i| i.value.clone()).filter(|v| !v.is_empty());
        let partition_aware = is_partition_aware(&info);
        let gpu_resources = has_capability(&info, Capability::GpuResources);
        let Some(fid) = claimed else {
            if let Some(fid) = self.framework_by_actor.get(&from).cloned() {
                // Why a retry: in mesocosm an actor holds one subscription, so a
                // second SUBSCRIBE without an id on it is the scheduler retrying.
                out.send(&from, self.subscribed_event(&fid));
                return;
            }
            // Master::newFrameworkId: "%s-%04d".
            let fid = format!("{}-{:04}", self.cfg.id, self.next_framework);
            self.next_framework += 1;
            info.id = Some(v1::FrameworkId { value: fid.clone() });
            out.note_with(|| format!("framework {} subscribed from {from} as {}", info.name, short_id(&fid)));
            let name = info.name.clone();
            let role = allocation_role(&info);
            self.frameworks.insert(fid.clone(), Framework::new(from.clone(), info, partition_aware));
            self.framework_by_actor.insert(from, fid.clone());
            self.alloc.add_framework(&fid, &role, true);
            self.alloc.set_gpu_resources(&fid, gpu_resources);
            self.record(now, MasterEvent::FrameworkSubscribed { framework_id: fid.clone(), name });
            self.greet(&fid, out);
            // `addFramework` of an active framework allocates all agents.
            self.trigger(None, out);
            return;
        };
        if self.completed.contains(&fid) {
            // Why refuse and hang up: a removed framework cannot come back
            // (`Master::subscribe`: "Framework has been removed"); the HTTP
            // API answers the SUBSCRIBE with the error and closes the stream.
            out.send(&from, error_event("Framework has been removed"));
            out.disconnect(&from);
            return;
        }
        if let Some(previous) = self.framework_by_actor.get(&from).filter(|f| **f != fid).cloned() {
            // This actor held another framework's subscription: a scheduler
            // re-subscribing as someone else leaves its old one disconnected.
            self.framework_disconnected(&previous, out);
        }
        let name = info.name.clone();
        let role = allocation_role(&info);
        let event = match self.frameworks.get_mut(&fid) {
            Some(fw) => {
                let old = fw.actor.replace(from.clone());
                let failover = fw.active && old.as_ref().is_some_and(|o| *o != from);
                fw.info = info;
                fw.partition_aware = partition_aware;
                fw.active = true;
                // The epoch makes the old stream's heartbeats and a pending
                // failover timeout stale.
                fw.epoch += 1;
                let offers: Vec<OfferNo> = fw.offers.iter().copied().collect();
                if let Some(old) = old.filter(|o| *o != from) {
                    if self.framework_by_actor.get(&old) == Some(&fid) {
                        self.framework_by_actor.remove(&old);
                    }
                    if failover {
                        // `failoverFramework`: the old scheduler is told, then
                        // its stream is closed.
                        out.send(&old, error_event("Framework failed over"));
                        out.disconnect(&old);
                    }
                }
                // `_failoverFramework`: the offers are removed without RESCIND
                // and recovered without a filter, to be re-offered at once.
                for oid in offers {
                    if let Some(o) = self.take_offer(oid) {
                        self.alloc.recover(now, &fid, &o.agent, &o.resources, None);
                        self.stats.offers_rescinded += 1;
                    }
                }
                out.note_with(|| {
                    format!("framework {name} {} from {from}", if failover { "failed over" } else { "re-subscribed" })
                });
                if failover {
                    MasterEvent::FrameworkFailedOver { framework_id: fid.clone(), name }
                } else {
                    MasterEvent::FrameworkResubscribed { framework_id: fid.clone(), name }
                }
            }
            None => {
                // An id this master never issued: after a master failover
                // Mesos accepts it as a re-subscription (`Master::subscribe`, master.cpp).
                out.note_with(|| format!("framework {name} re-subscribed with unknown id {}", short_id(&fid)));
                self.frameworks.insert(fid.clone(), Framework::new(from.clone(), info, partition_aware));
                self.alloc.add_framework(&fid, &role, true);
                MasterEvent::FrameworkResubscribed { framework_id: fid.clone(), name }
            }
        };
        self.record(now, event);
        self.framework_by_actor.insert(from, fid.clone());
        // A known framework may come back under another role (a failover with
        // a new FrameworkInfo): `updateFramework` moves it in the allocator.
        self.alloc.update_framework(&fid, &role);
        self.alloc.set_gpu_resources(&fid, gpu_resources);
        self.alloc.activate_framework(&fid);
        self.greet(&fid, out);
        self.trigger(None, out);
    }

    pub(super) fn framework_disconnected(&mut self, fid: &str, out: &mut Outbox<Timer>) {
        let now = out.now();
        let Some(fw) = self.frameworks.get_mut(fid) else { return };
        if !fw.active {
            return;
        }
        fw.active = false;
        fw.epoch += 1;
        let epoch = fw.epoch;
        // Validated at SUBSCRIBE; a framework only recovered from an agent's
        // report never subscribed to this master and so never disconnects.
        let timeout = failover_timeout(&fw.info).unwrap_or(Duration::ZERO);
        let offers: Vec<OfferNo> = fw.offers.iter().copied().collect();
        let name = fw.info.name.clone();
        if let Some(actor) = &fw.actor
            && self.framework_by_actor.get(actor).map(String::as_str) == Some(fid)
        {
            self.framework_by_actor.remove(actor);
        }
        self.alloc.deactivate_framework(fid);
        self.record(now, MasterEvent::FrameworkDisconnected { framework_id: fid.to_string(), name });
        // Deactivation rescinds the offers; a disconnected scheduler has no
        // stream for RESCIND, so they are just recovered (no filter).
        for oid in offers {
            if let Some(o) = self.take_offer(oid) {
                self.alloc.recover(now, fid, &o.agent, &o.resources, None);
                self.stats.offers_rescinded += 1;
            }
        }
        if !timeout.is_zero() {
            out.set_timer(timeout, Timer::FailoverTimeout { framework: fid.to_string(), epoch });
            out.note_with(|| {
                format!(
                    "framework {} disconnected; removed in {}s unless it re-subscribes",
                    self.fw_name(fid),
                    timeout.as_secs_f64()
                )
            });
        } else {
            // FrameworkInfo.failover_timeout defaults to 0: removed at once.
            let reason = failover_reason(&self.frameworks[fid].info);
            self.remove_framework(fid, &reason, out);
        }
    }

    /// `Master::removeFramework`: its offers go (no RESCIND), its tasks and
    /// executors are released, every registered agent is told to shut it down,
    /// and it joins the completed frameworks (`max_completed_frameworks`).
    pub(super) fn remove_framework(&mut self, fid: &str, why: &str, out: &mut Outbox<Timer>) {
        let Some(fw) = self.frameworks.remove(fid) else { return };
        if let Some(actor) = &fw.actor
            && self.framework_by_actor.get(actor).map(String::as_str) == Some(fid)
        {
            self.framework_by_actor.remove(actor);
        }
        for oid in &fw.offers {
            if let Some(o) = self.offers.remove(oid)
                && let Some(a) = self.agents.get_mut(&o.agent)
            {
                a.offers.remove(oid);
                a.offered.subtract(&o.resources);
            }
        }
        for (tid, task) in &fw.tasks {
            if let Some(a) = self.agents.get_mut(&task.agent) {
                a.tasks.remove(&(fid.to_string(), tid.clone()));
                if !task.state.is_terminal() {
                    a.used.subtract(&task.resources);
                }
            }
        }
        for a in self.agents.values_mut() {
            let mine: Vec<(String, String)> = a.executors.keys().filter(|(f, _)| f == fid).cloned().collect();
            for k in mine {
                if let Some(r) = a.executors.remove(&k) {
                    a.used.subtract(&r);
                }
            }
        }
        self.alloc.remove_framework(fid);
        for a in self.agents.values() {
            out.send(
                &a.actor,
                internal::ShutdownFrameworkMessage { framework_id: v1::FrameworkId { value: fid.to_string() } },
            );
        }
        self.completed.push_back(fid.to_string());
        if self.completed.len() > MAX_COMPLETED_FRAMEWORKS {
            self.completed.pop_front();
        }
        let name = fw.info.name.clone();
        self.record(
            out.now(),
            MasterEvent::FrameworkRemoved {
                framework_id: fid.to_string(),
                name: name.clone(),
                reason: why.to_string(),
            },
        );
        out.note_with(|| format!("framework {name} removed: {why}"));
    }
}
