//! Offers: the allocation cycle turned into OFFERS events, and the calls that
//! answer an offer (ACCEPT with its LAUNCH operations, DECLINE).

use super::{Master, OfferEntry, OfferNo, Task, Timer, event, is_multi_role, master_status, update_event};
use crate::allocator::{DEFAULT_REFUSE_SECONDS, DEFAULT_ROLE, Grant, IdleReason, SharedId};
use crate::validation::{self, OfferPlace, TaskContext};
use mesocosm_proto::scheduler::event::Type as EventType;
use mesocosm_proto::v1::TaskState;
use mesocosm_proto::v1::task_status::Reason;
use mesocosm_proto::{Resources, internal, scheduler, v1};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::{Outbox, SimTime};
use std::collections::{BTreeMap, BTreeSet};

impl Master {
    /// One allocation cycle over `candidates`, or over every agent (`None`:
    /// the periodic cycle, which looks no agent id up).
    pub(super) fn run_cycle(&mut self, candidates: Option<BTreeSet<String>>, out: &mut Outbox<Timer>) {
        self.stats.allocation_cycles += 1;
        // The grants' explanations feed only `note_grant`'s note: build them
        // only when someone reads notes (Mesos's allocator explains nothing).
        self.alloc.set_explain(out.notes_wanted());
        // The last cycle's lists are refilled, not allocated afresh (see
        // `Allocator::allocate_into`: at 10,000 agents the grant list alone
        // is 4 MB that would be mapped anew).
        let mut cycle = std::mem::take(&mut self.last_cycle);
        match &candidates {
            Some(c) => self.alloc.allocate_into(out.now(), c, &mut cycle),
            None => self.alloc.allocate_all_into(out.now(), &mut cycle),
        }
        // One OFFERS event per framework per cycle (`Master::offer` is called
        // once per framework with all its agents).
        let mut per_fw: BTreeMap<SharedId, Vec<v1::Offer>> = BTreeMap::new();
        self.note_idle(&cycle.idle, out);
        for g in cycle.grants.drain(..) {
            self.note_grant(&g, out);
            let offer = self.make_offer(&g, out);
            per_fw.entry(g.framework_id).or_default().push(offer);
        }
        // Why the idle map goes now: a map keeps no capacity to reuse, and at
        // 10,000 agents it can name every agent with the frameworks that
        // refused it, memory nothing reads until the next cycle.
        cycle.idle.clear();
        self.last_cycle = cycle;
        for (fid, offers) in per_fw {
            let mut e = event(EventType::Offers);
            e.offers = Some(scheduler::event::Offers { offers });
            self.send_to_framework(&fid, e, out);
        }
        // Each framework's dominant share once the cycle's grants count: the
        // numbers DRF orders the next cycle by (`DRFSorter::calculateShare`),
        // kept as a structured record for the report's plot of shares over time.
        out.shares_with(|| self.alloc.shares().map(|(id, share)| (self.fw_name(id), share)).collect());
    }

    pub(super) fn note_grant(&self, g: &Grant, out: &mut Outbox<Timer>) {
        out.note_with(|| {
            // Only roles other than `*` are spelled out: most runs have no
            // other, and their notes stay short. The reasons are the sorters'
            // own (`Sorter::explain`), so the note fits any policy.
            let why = if g.role == DEFAULT_ROLE {
                format!("({})", g.why)
            } else {
                format!("in role {} (role {}; {})", g.role, g.role_why, g.why)
            };
            let mut s = format!(
                "allocate {} [{}] to {} {why}",
                self.host(&g.agent_id),
                g.resources,
                self.fw_name(&g.framework_id),
            );
            if !g.filtered.is_empty() {
                let names: Vec<String> = g.filtered.iter().map(|f| self.fw_name(f)).collect();
                s.push_str(&format!("; passed over {} (refusal filter)", names.join(", ")));
            }
            s
        });
    }

    /// `--explain`: why each candidate agent with free resources got no offer
    /// this cycle, grouped by reason. Mesos's allocator decides the same things
    /// silently in `__generateOffers` (`hierarchical.cpp`: inactive agent, no
    /// framework wants it, `isFiltered`, `allocatable`); a learner watching a
    /// cluster sit idle needs to see which it was.
    fn note_idle(&self, idle: &BTreeMap<String, IdleReason>, out: &mut Outbox<Timer>) {
        if idle.is_empty() {
            return;
        }
        let now = out.now();
        out.note_with(|| {
            let mut filters = BTreeMap::new();
            let mut by_reason: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (agent, why) in idle {
                let why = match why {
                    IdleReason::AgentDeactivated => "deactivated".to_string(),
                    IdleReason::NoActiveFramework => "no active framework".to_string(),
                    IdleReason::Suppressed => "every framework has suppressed offers".to_string(),
                    IdleReason::BelowMinAllocatable => "free resources below --min_allocatable_resources".to_string(),
                    IdleReason::GpuAgentFiltered => {
                        "GPUs, and no framework has GPU_RESOURCES (--filter_gpu_resources)".to_string()
                    }
                    IdleReason::Filtered(fws) => {
                        let refused: Vec<String> = fws
                            .iter()
                            .map(|f| {
                                let mine = filters.entry(f.to_string()).or_insert_with(|| self.alloc.filters(f));
                                let until = mine
                                    .as_ref()
                                    .and_then(|m| m.get(agent))
                                    .and_then(|fs| fs.iter().filter(|x| x.expires > now).map(|x| x.expires).max());
                                match until {
                                    Some(t) => format!("{} until {t}", self.fw_name(f)),
                                    None => self.fw_name(f),
                                }
                            })
                            .collect();
                        format!("refused by {}", refused.join(", "))
                    }
                };
                by_reason.entry(why).or_default().push(self.host(agent));
            }
            let parts: Vec<String> =
                by_reason.into_iter().map(|(why, hosts)| format!("{} ({why})", few(&hosts))).collect();
            format!("left idle this cycle: {}", parts.join("; "))
        });
    }

    pub(super) fn make_offer(&mut self, g: &Grant, out: &mut Outbox<Timer>) -> v1::Offer {
        let n = OfferNo(self.next_offer);
        let oid = n.id(&self.cfg.id);
        self.next_offer += 1;
        let agent = self.agents.get_mut(g.agent_id.as_str()).expect("the allocator only grants registered agents");
        let executor_ids = agent
            .executors
            .keys()
            .filter(|(f, _)| f.as_str() == g.framework_id.as_str())
            .map(|(_, e)| v1::ExecutorId { value: e.clone() })
            .collect();
        // Why only for MULTI_ROLE frameworks: `Master::offer` sets the
        // offer's `allocation_info` to the role, then strips it from the
        // offer and every resource for a framework without MULTI_ROLE
        // (MESOS-8237: such schedulers compare whole `Resource`s and do not
        // know the field).
        let multi_role = self.frameworks.get(g.framework_id.as_str()).is_some_and(|f| is_multi_role(&f.info));
        let allocation_info = multi_role.then(|| v1::resource::AllocationInfo { role: Some(g.role.to_string()) });
        let mut resources = g.resources.to_protos();
        for r in &mut resources {
            r.allocation_info.clone_from(&allocation_info);
        }
        let offer = v1::Offer {
            id: v1::OfferId { value: oid.clone() },
            framework_id: v1::FrameworkId { value: g.framework_id.to_string() },
            agent_id: v1::AgentId { value: g.agent_id.to_string() },
            hostname: agent.info.hostname.clone(),
            resources,
            attributes: agent.info.attributes.clone(),
            executor_ids,
            allocation_info,
            ..Default::default()
        };
        agent.offers.insert(n);
        agent.offered.add(&g.resources);
        if let Some(fw) = self.frameworks.get_mut(g.framework_id.as_str()) {
            fw.offers.insert(n);
        }
        self.offers.insert(
            n,
            Box::new(OfferEntry {
                framework: g.framework_id.to_string(),
                agent: g.agent_id.to_string(),
                resources: g.resources.clone(),
            }),
        );
        self.stats.offers_made += 1;
        if let Some(d) = self.cfg.offer_timeout {
            out.set_timer(d, Timer::OfferTimeout { offer: oid });
        }
        offer
    }

    pub(super) fn accept(&mut self, fid: &str, accept: &scheduler::call::Accept, out: &mut Outbox<Timer>) {
        let now = out.now();
        let check = validation::offers(
            &accept.offer_ids,
            |id| {
                self.offer_no(id)
                    .and_then(|n| self.offers.get(&n))
                    .map(|o| OfferPlace { framework: &o.framework, agent: &o.agent })
            },
            fid,
        );
        if let Err(error) = check {
            // The framework's own offers named in the call are recovered without
            // a filter; every LAUNCH fails (`Master::accept`).
            let mine: BTreeSet<OfferNo> = accept
                .offer_ids
                .iter()
                .filter_map(|o| self.offer_no(&o.value))
                .filter(|n| self.offers.get(n).is_some_and(|e| e.framework == fid))
                .collect();
            for oid in mine {
                if let Some(o) = self.take_offer(oid) {
                    self.alloc.recover(now, fid, &o.agent, &o.resources, None);
                }
            }
            // TASK_DROPPED is for PARTITION_AWARE frameworks, TASK_LOST for the others.
            let state = if self.frameworks[fid].partition_aware { TaskState::TaskDropped } else { TaskState::TaskLost };
            for op in &accept.operations {
                let Some(launch) = op.launch.as_ref().filter(|_| op.r#type() == v1::offer::operation::Type::Launch)
                else {
                    continue;
                };
                for t in &launch.task_infos {
                    let status = master_status(
                        now,
                        &t.task_id,
                        Some(&t.agent_id.value),
                        state,
                        Reason::InvalidOffers,
                        format!("Task launched with invalid offers: {error}"),
                    );
                    self.send_to_framework(fid, update_event(status), out);
                }
            }
            out.note_with(|| format!("ACCEPT from {} used invalid offers: {error}", self.fw_name(fid)));
            return;
        }
        let mut offered = Resources::new();
        let mut agent_id = String::new();
        // The offer the tasks are launched from, and whose it was: kept on each
        // task for the invariant "only an offer's framework uses it".
        let mut origin = None;
        for oid in &accept.offer_ids {
            if let Some(o) = self.offer_no(&oid.value).and_then(|n| self.take_offer(n)) {
                offered.add(&o.resources);
                origin.get_or_insert_with(|| (oid.value.clone(), o.framework.clone()));
                agent_id = o.agent;
                self.stats.offers_accepted += 1;
            }
        }
        let origin = origin.expect("validation::offers accepted at least one outstanding offer");
        let mut left = offered;
        for op in &accept.operations {
            match op.r#type() {
                v1::offer::operation::Type::Launch => {
                    for t in op.launch.iter().flat_map(|l| &l.task_infos) {
                        self.launch(now, fid, (&agent_id, &origin), t, &mut left, out);
                    }
                }
                other => out.note_with(|| {
                    format!("mesocosm's master does not model {} operations; ignored", other.as_str_name())
                }),
            }
        }
        if !left.is_empty() {
            // The unused part comes back with the call's filter (default 5 s).
            let refuse = accept.filters.as_ref().map_or(DEFAULT_REFUSE_SECONDS, |f| f.refuse_seconds());
            let until = self.alloc.recover(now, fid, &agent_id, &left, Some(refuse));
            out.note_with(|| {
                format!(
                    "{} left [{left}] of {} unused; {}",
                    self.fw_name(fid),
                    self.host(&agent_id),
                    match until {
                        Some(t) => format!("not offered to it again before {t}"),
                        None => "no filter".to_string(),
                    }
                )
            });
        }
    }

    pub(super) fn launch(
        &mut self,
        now: SimTime,
        fid: &str,
        (aid, origin): (&str, &(String, String)),
        task: &v1::TaskInfo,
        left: &mut Resources,
        out: &mut Outbox<Timer>,
    ) {
        let mut task = task.clone();
        // The master fills in ExecutorInfo.framework_id (validation.cpp).
        if let Some(e) = task.executor.as_mut()
            && e.framework_id.is_none()
        {
            e.framework_id = Some(v1::FrameworkId { value: fid.to_string() });
        }
        let tid = task.task_id.value.clone();
        let eid = task.executor.as_ref().map(|e| e.executor_id.value.clone());
        let fw = &self.frameworks[fid];
        let agent = &self.agents[aid];
        let executor_running =
            eid.as_ref().is_some_and(|e| agent.executors.contains_key(&(fid.to_string(), e.clone())));
        let cx = TaskContext {
            framework_id: fid,
            agent_id: aid,
            duplicate: fw.tasks.contains_key(&tid),
            executor_running,
            available: left,
        };
        let total = match validation::task(&task, &cx) {
            Ok(total) => total,
            Err(message) => {
                out.note_with(|| format!("task {tid} of {} is invalid: {message}", self.fw_name(fid)));
                let status =
                    master_status(now, &task.task_id, Some(aid), TaskState::TaskError, Reason::TaskInvalid, message);
                self.send_to_framework(fid, update_event(status), out);
                return;
            }
        };
        left.subtract(&total);
        let task_resources = Resources::from_protos(&task.resources);
        let agent = self.agents.get_mut(aid).expect("checked above");
        agent.used.add(&total);
        if let (Some(e), false) = (&task.executor, executor_running) {
            agent
                .executors
                .insert((fid.to_string(), e.executor_id.value.clone()), Resources::from_protos(&e.resources));
        }
        agent.tasks.insert((fid.to_string(), tid.clone()));
        let actor = agent.actor.clone();
        let host = agent.info.hostname.clone();
        let fw = self.frameworks.get_mut(fid).expect("checked above");
        fw.tasks.insert(
            tid.clone(),
            Task {
                info: task.clone(),
                agent: aid.to_string(),
                state: TaskState::TaskStaging,
                resources: task_resources,
                latest: None,
                update_state: None,
                update_uuid: None,
                launched_from: Some(origin.clone()),
            },
        );
        let framework = fw.info.clone();
        let name = framework.name.clone();
        out.send(
            &actor,
            internal::RunTaskMessage {
                framework,
                pid: None,
                task,
                // Why: the agent must not start an executor the master believes
                // is already running there (launch_executor, Mesos 1.5+).
                launch_executor: Some(!executor_running),
            },
        );
        self.stats.tasks_launched += 1;
        out.note_with(|| format!("launch task {tid} of {name} on {host} [{total}]; TASK_STAGING"));
    }

    pub(super) fn decline(&mut self, fid: &str, d: &scheduler::call::Decline, out: &mut Outbox<Timer>) {
        let now = out.now();
        // A DECLINE always has a filter: an absent one means Filters() = 5 s.
        let refuse = d.filters.as_ref().map_or(DEFAULT_REFUSE_SECONDS, |f| f.refuse_seconds());
        for oid in &d.offer_ids {
            let n = self.offer_no(&oid.value);
            if n.and_then(|n| self.offers.get(&n)).is_none_or(|o| o.framework != fid) {
                out.note_with(|| {
                    format!(
                        "{} declined offer {}, which is no longer valid; ignored",
                        self.fw_name(fid),
                        short_id(&oid.value)
                    )
                });
                continue;
            }
            let Some(o) = n.and_then(|n| self.take_offer(n)) else { continue };
            self.stats.offers_declined += 1;
            let until = self.alloc.recover(now, fid, &o.agent, &o.resources, Some(refuse));
            // Why no cycle here: recoverResources does not trigger allocation
            // (MESOS-3078); declined resources wait for the next periodic cycle.
            out.note_with(|| {
                format!(
                    "{} declined {} on {}; {}",
                    self.fw_name(fid),
                    short_id(&oid.value),
                    self.host(&o.agent),
                    match until {
                        Some(t) => format!("[{}] not offered to it again before {t}", o.resources),
                        None => "no filter (refuse_seconds 0)".to_string(),
                    }
                )
            });
        }
    }
}

/// At most five names, then how many more: a 10,000-agent cycle stays one line.
fn few(names: &[String]) -> String {
    const SHOWN: usize = 5;
    match names.len() {
        n if n <= SHOWN => names.join(", "),
        n => format!("{} and {} more", names[..SHOWN].join(", "), n - SHOWN),
    }
}
