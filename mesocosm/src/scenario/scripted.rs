//! Checking a scripted framework: a `[[frameworks]]` table without `kind`,
//! read into a [`ScriptedSpec`] (see `frameworks::scripted` for the keys and
//! what each does). Every problem is reported at its key or value.

use std::ops::Range;
use std::time::Duration;

use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::TaskState;
use mesocosm_sim::proto::mesos::v1::framework_info::capability::Type as Capability;
use toml::Spanned;

use super::AgentSpec;
use super::raw::{RawFramework, RawWork};
use crate::check::Checker;
use crate::cluster::builder::resources_proto;
use crate::frameworks::scripted::{
    Backoff, InfoSpec, OfferPolicy, ReconcilePolicy, RetryPolicy, ScriptedSpec, Teardown, WorkGroup,
};
use crate::mesos_syntax::{check_role, parse_resources};
use crate::spark::DurationDist;
use crate::units::format_duration;

/// The states a retry may name: the ends a framework can answer with a new launch.
const RETRY_STATES: &[TaskState] = &[
    TaskState::TaskLost,
    TaskState::TaskFailed,
    TaskState::TaskUnreachable,
    TaskState::TaskKilled,
    TaskState::TaskError,
    TaskState::TaskDropped,
    TaskState::TaskGone,
];

/// Bounds that keep a file from asking for more than a run can hold.
const MAX_TASKS: i64 = 10_000;
const MAX_TIMES: i64 = 1_000;
const MAX_RETRIES: i64 = 100;

impl Checker<'_> {
    /// The scripted keys written in `r`, with their spans (to refuse them on a
    /// table with a `kind`, whose settings go in `[frameworks.config]`).
    pub(super) fn scripted_keys(r: &RawFramework) -> Vec<(&'static str, Option<Range<usize>>)> {
        vec![
            ("user", r.user.as_ref().map(Spanned::span)),
            ("roles", r.roles.as_ref().map(Spanned::span)),
            ("capabilities", r.capabilities.as_ref().map(Spanned::span)),
            ("checkpoint", r.checkpoint.as_ref().map(Spanned::span)),
            ("failover_timeout", r.failover_timeout.as_ref().map(Spanned::span)),
            ("principal", r.principal.as_ref().map(Spanned::span)),
            ("offers", r.offers.as_ref().map(Spanned::span)),
            ("think", r.think.as_ref().map(Spanned::span)),
            ("max_tasks_per_offer", r.max_tasks_per_offer.as_ref().map(Spanned::span)),
            ("refuse_seconds", r.refuse_seconds.as_ref().map(Spanned::span)),
            ("suppress", r.suppress.as_ref().map(Spanned::span)),
            ("ignore_rescind", r.ignore_rescind.as_ref().map(Spanned::span)),
            ("retry", r.retry.as_ref().map(Spanned::span)),
            ("reconcile", r.reconcile.as_ref().map(Spanned::span)),
            ("kill", r.kill.as_ref().map(Spanned::span)),
            ("teardown", r.teardown.as_ref().map(Spanned::span)),
            ("resubscribe", r.resubscribe.as_ref().map(Spanned::span)),
            ("failover_of", r.failover_of.as_ref().map(Spanned::span)),
            ("work", r.work.as_ref().map(Spanned::span)),
        ]
    }

    /// Read a scripted framework table; `None` if it had problems (reported).
    pub(super) fn scripted(&mut self, r: &RawFramework, agents: &[AgentSpec], until: Duration) -> Option<ScriptedSpec> {
        let before = self.diags.len();
        if let Some(c) = &r.config {
            self.error(
                c.span(),
                "a scripted framework (no `kind`) takes its keys in the [[frameworks]] table itself, \
                 not in [frameworks.config]",
            );
        }
        let info = self.info(r);
        let offers = self.offer_policy(r);
        let retry = self.retry(r);
        let reconcile = self.reconcile(r);
        let kills = self.kills(r, until);
        let teardown = match &r.teardown {
            None => Teardown::WhenDone,
            Some(t) => match t.get_ref().as_str() {
                "when_done" => Teardown::WhenDone,
                "never" => Teardown::Never,
                _ => match self.duration(t, "teardown") {
                    Some(d) => Teardown::At(d),
                    None => {
                        self.error(t.span(), "`teardown` is `when_done`, `never` or a time like \"5m\"");
                        Teardown::WhenDone
                    }
                },
            },
        };
        let resubscribe = self.backoff(r);
        let work = self.work(r, agents);
        let spec = ScriptedSpec {
            info,
            work,
            offers,
            suppress: r.suppress.as_ref().is_some_and(|s| *s.get_ref()),
            ignore_rescind: r.ignore_rescind.as_ref().is_some_and(|s| *s.get_ref()),
            retry,
            reconcile,
            kills,
            teardown,
            resubscribe,
            failover_of: r.failover_of.as_ref().map(|f| f.get_ref().clone()),
        };
        (self.diags.len() == before).then_some(spec)
    }

    fn info(&mut self, r: &RawFramework) -> InfoSpec {
        let mut info = InfoSpec::default();
        if let Some(u) = &r.user {
            info.user = u.get_ref().clone();
        }
        if let Some(p) = &r.principal {
            info.principal = Some(p.get_ref().clone());
        }
        info.checkpoint = r.checkpoint.as_ref().is_some_and(|c| *c.get_ref());
        info.failover_timeout = self.optional_duration(&r.failover_timeout, "failover_timeout", Duration::ZERO);
        if let Some(caps) = &r.capabilities {
            for c in caps.get_ref() {
                match Capability::from_str_name(c.get_ref()) {
                    Some(k) if k != Capability::Unknown => info.capabilities.push(k),
                    _ => {
                        let known: Vec<&str> =
                            (1..32).filter_map(|i| Capability::try_from(i).ok()).map(|k| k.as_str_name()).collect();
                        self.error(
                            c.span(),
                            format!(
                                "unknown capability `{}` (FrameworkInfo.Capability: {})",
                                c.get_ref(),
                                known.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        if let Some(roles) = &r.roles {
            let list = roles.get_ref();
            if list.is_empty() {
                self.error(roles.span(), "`roles` is empty; leave it out for the default role `*`");
            }
            for role in list {
                if let Err(e) = check_role(role.get_ref(), "roles") {
                    self.error(role.span(), e);
                }
            }
            // Mesos's `validateRoles` (src/master/validation.cpp): several
            // roles need MULTI_ROLE, without which only the old `role` exists.
            if list.len() > 1 && !info.capabilities.contains(&Capability::MultiRole) {
                self.error(
                    roles.span(),
                    "more than one role needs the MULTI_ROLE capability (Mesos refuses `roles` without it)",
                );
            }
            info.roles = list.iter().map(|r| r.get_ref().clone()).collect();
        }
        info
    }

    fn offer_policy(&mut self, r: &RawFramework) -> OfferPolicy {
        let think = self.optional_duration(&r.think, "think", Duration::ZERO);
        let refuse_seconds = match &r.refuse_seconds {
            None => 5.0,
            Some(v) if v.get_ref().is_finite() && (0.0..=31_536_000.0).contains(v.get_ref()) => *v.get_ref(),
            Some(v) => {
                self.error(v.span(), "`refuse_seconds` must be from 0 to 31536000 (a year)");
                5.0
            }
        };
        let max_per_offer = match &r.max_tasks_per_offer {
            None => None,
            Some(m) if (1..=MAX_TASKS).contains(m.get_ref()) => Some(*m.get_ref() as u32),
            Some(m) => {
                self.error(m.span(), format!("`max_tasks_per_offer` must be from 1 to {MAX_TASKS}"));
                None
            }
        };
        match r.offers.as_ref().map(|o| (o.get_ref().as_str(), o.span())) {
            None | Some(("launch", _)) => OfferPolicy::Launch { max_per_offer, refuse_seconds, think },
            Some(("ignore", _)) => {
                // An ignored offer is never answered: holding it, capping its
                // launches or filtering its rest would mean nothing.
                for (key, span) in [
                    ("think", r.think.as_ref().map(Spanned::span)),
                    ("max_tasks_per_offer", r.max_tasks_per_offer.as_ref().map(Spanned::span)),
                    ("refuse_seconds", r.refuse_seconds.as_ref().map(Spanned::span)),
                ] {
                    if let Some(s) = span {
                        self.error(
                            s,
                            format!("`{key}` conflicts with offers = \"ignore\": an ignored offer is never answered"),
                        );
                    }
                }
                OfferPolicy::Ignore
            }
            Some((other, span)) => {
                self.error(span, format!("`offers` is `launch` or `ignore`, not `{other}`"));
                OfferPolicy::Ignore
            }
        }
    }

    fn retry(&mut self, r: &RawFramework) -> RetryPolicy {
        let Some(raw) = &r.retry else { return RetryPolicy::default() };
        let raw = raw.get_ref();
        let mut p = RetryPolicy { on: vec![], max: 1, same_id: false };
        for s in raw.on.get_ref() {
            match TaskState::from_str_name(s.get_ref()).filter(|t| RETRY_STATES.contains(t)) {
                Some(t) => p.on.push(t),
                None => {
                    let names: Vec<&str> = RETRY_STATES.iter().map(|t| t.as_str_name()).collect();
                    self.error(
                        s.span(),
                        format!("`{}` is not a state to retry on ({})", s.get_ref(), names.join(", ")),
                    );
                }
            }
        }
        if let Some(m) = &raw.max {
            if (0..=MAX_RETRIES).contains(m.get_ref()) {
                p.max = *m.get_ref() as u32;
            } else {
                self.error(m.span(), format!("`max` must be from 0 to {MAX_RETRIES}"));
            }
        }
        if let Some(t) = &raw.task_id {
            match t.get_ref().as_str() {
                "new" => {}
                "same" => {
                    p.same_id = true;
                    // An unreachable task is still the master's (it may come
                    // back), so launching its id again is a duplicate task id.
                    if p.on.contains(&TaskState::TaskUnreachable) {
                        self.error(
                            t.span(),
                            "task_id = \"same\" conflicts with retrying TASK_UNREACHABLE: the unreachable task \
                             keeps its id (it may come back), so a replacement needs a new one",
                        );
                    }
                }
                other => self.error(t.span(), format!("`task_id` is `new` or `same`, not `{other}`")),
            }
        }
        p
    }

    fn reconcile(&mut self, r: &RawFramework) -> ReconcilePolicy {
        let Some(raw) = &r.reconcile else { return ReconcilePolicy::default() };
        let raw = raw.get_ref();
        let mut every = |v: &Option<Spanned<String>>, key: &str| {
            let d = self.opt_duration(v, key)?;
            if d.is_zero() {
                self.error(v.as_ref().map(Spanned::span).unwrap_or_default(), format!("`{key}` must be more than 0"));
                return None;
            }
            Some(d)
        };
        let implicit_every = every(&raw.implicit, "implicit");
        let explicit_every = every(&raw.explicit, "explicit");
        let tasks: Vec<String> = raw.tasks.iter().flatten().map(|t| t.get_ref().clone()).collect();
        if let (Some(t), None) = (raw.tasks.as_ref().and_then(|t| t.first()), explicit_every) {
            self.error(t.span(), "`tasks` are asked about by the explicit reconciliation: set `explicit` too");
        }
        ReconcilePolicy { implicit_every, explicit_every, tasks }
    }

    fn kills(&mut self, r: &RawFramework, until: Duration) -> Vec<(Duration, String)> {
        let mut out = Vec::new();
        for k in r.kill.iter().flat_map(|k| k.get_ref()) {
            let k = k.get_ref();
            let Some(at) = self.duration(&k.at, "at") else { continue };
            if at >= until {
                self.error(k.at.span(), format!("this KILL is at {}, after the run stops", format_duration(at)));
            }
            if k.task.get_ref().is_empty() {
                self.error(k.task.span(), "the task id is empty");
            }
            out.push((at, k.task.get_ref().clone()));
        }
        out
    }

    fn backoff(&mut self, r: &RawFramework) -> Backoff {
        let mut b = Backoff::default();
        let Some(raw) = &r.resubscribe else { return b };
        let raw = raw.get_ref();
        b.initial = self.optional_duration(&raw.initial, "initial", b.initial);
        b.max = self.optional_duration(&raw.max, "max", b.max);
        if b.initial > b.max {
            self.error(r.resubscribe.as_ref().map(Spanned::span).unwrap_or_default(), "`initial` is longer than `max`");
        }
        b
    }

    fn work(&mut self, r: &RawFramework, agents: &[AgentSpec]) -> Vec<WorkGroup> {
        let mut out: Vec<WorkGroup> = Vec::new();
        for (k, w) in r.work.iter().flat_map(|w| w.get_ref()).enumerate() {
            if let Some(g) = self.work_group(k, w.get_ref(), agents) {
                if out.iter().any(|o| o.name == g.name) {
                    self.error(w.span(), format!("two work groups are named `{}`", g.name));
                }
                out.push(g);
            }
        }
        out
    }

    fn work_group(&mut self, k: usize, w: &RawWork, agents: &[AgentSpec]) -> Option<WorkGroup> {
        let name = w.name.as_ref().map_or_else(|| format!("work{}", k + 1), |n| n.get_ref().clone());
        if let Some(n) = &w.name
            && !self.host_name(n, "work group name")
        {
            return None;
        }
        let bounded = |c: &mut Self, v: &Option<Spanned<i64>>, key: &str, lo: i64, hi: i64, default: i64| match v {
            None => default,
            Some(x) if (lo..=hi).contains(x.get_ref()) => *x.get_ref(),
            Some(x) => {
                c.error(x.span(), format!("`{key}` must be from {lo} to {hi}"));
                default
            }
        };
        let tasks = bounded(self, &w.tasks, "tasks", 1, MAX_TASKS, 1) as u32;
        let exit = bounded(self, &w.exit, "exit", 0, 255, 0) as i32;
        let times = bounded(self, &w.times, "times", 1, MAX_TIMES, 1) as u32;
        let resources = match parse_resources(w.resources.get_ref()).and_then(|r| resources_proto(&r)) {
            Ok(r) => Resources::from_protos(&r),
            Err(e) => {
                self.error(w.resources.span(), e);
                return None;
            }
        };
        // A task no agent can hold is never launched: say so now rather
        // than let the framework decline every offer for ever.
        let fits = |a: &AgentSpec| {
            parse_resources(&a.resources_text)
                .and_then(|r| resources_proto(&r))
                .is_ok_and(|r| Resources::from_protos(&r).contains(&resources))
        };
        if !agents.is_empty() && !agents.iter().any(fits) {
            self.error(
                w.resources.span(),
                format!(
                    "a task of `{name}` needs {}, more than any agent has (agents: {})",
                    w.resources.get_ref(),
                    agents.iter().map(|a| a.resources_text.as_str()).collect::<Vec<_>>().join(" / ")
                ),
            );
        }
        let fail_probability = match &w.fail_probability {
            None => 0.0,
            Some(p) if (0.0..=1.0).contains(p.get_ref()) => *p.get_ref(),
            Some(p) => {
                self.error(p.span(), "`fail_probability` must be from 0 to 1");
                0.0
            }
        };
        let duration = w.duration.as_ref().map_or(DurationDist::Fixed(Duration::from_secs(1)), |d| self.dist(d));
        let at = self.optional_duration(&w.at, "at", Duration::ZERO);
        let every = self.optional_duration(&w.every, "every", Duration::ZERO);
        if let Some(t) = w.times.as_ref().filter(|_| times > 1 && every.is_zero()) {
            self.error(t.span(), "several arrivals (`times`) need `every`, the time between them, more than 0");
        }
        Some(WorkGroup { name, tasks, resources, duration, exit, fail_probability, at, every, times })
    }
}
