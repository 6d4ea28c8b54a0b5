//! Checking `[[expect]]`: one table, one subject key (`app`,
//! `framework_removed`, `agent`, `count`, `never`, `containers`, and
//! `leader` / `failover_at_most` in `expect_leader.rs`), the keys that subject
//! takes, and a window; each becomes a located, worded
//! [`Expectation`](crate::cluster::Expectation) the judge evaluates.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use mesocosm_sim::fields;
use mesocosm_sim::proto::mesos::v1::{TaskState, task_status};
use toml::Spanned;

use super::RawExpect;
use super::cast::Cast;
use crate::check::Checker;
use crate::cluster::{AgentMark, AppOutcome, Expect, Expectation, is_task_state};
use crate::units::format_duration;

/// The filterable fields whose values are numbers (`mesocosm_sim::fields`
/// writes them with Rust's number formatting and compares numerically).
const NUMERIC_FIELDS: &[&str] =
    &["offers", "tasks", "refuse_seconds", "failover_timeout", "cores", "status", "cpus", "mem", "gpus"];

/// The filterable fields whose values are booleans.
const BOOLEAN_FIELDS: &[&str] = &["checkpoint", "connected", "success"];

impl Checker<'_> {
    pub(crate) fn expectations(
        &mut self,
        raw: &[Spanned<RawExpect>],
        cast: &Cast,
        until: Duration,
    ) -> Vec<Expectation> {
        raw.iter().filter_map(|e| self.expectation(e.get_ref(), e.span(), cast, until)).collect()
    }

    fn app_name(&mut self, cast: &Cast, v: &Spanned<String>) -> Option<String> {
        let name = v.get_ref();
        if cast.apps.iter().chain(&cast.frameworks).chain(&cast.clients).any(|(a, _)| a == name) {
            Some(name.clone())
        } else if cast.frameworks.is_empty() && cast.clients.is_empty() {
            self.error(v.span(), format!("no app is named `{name}` (apps: {})", cast.app_names()));
            None
        } else {
            self.error(
                v.span(),
                format!(
                    "no app or framework is named `{name}` (apps: {}; frameworks: {})",
                    cast.app_names(),
                    cast.framework_names()
                ),
            );
            None
        }
    }

    fn expectation(&mut self, e: &RawExpect, span: Range<usize>, cast: &Cast, until: Duration) -> Option<Expectation> {
        let subjects = [
            ("app", e.app.as_ref().map(Spanned::span)),
            ("framework_removed", e.framework_removed.as_ref().map(Spanned::span)),
            ("agent", e.agent.as_ref().map(Spanned::span)),
            ("count", e.count.as_ref().map(Spanned::span)),
            ("never", e.never.as_ref().map(Spanned::span)),
            ("containers", e.containers.as_ref().map(Spanned::span)),
            ("leader", e.leader.as_ref().map(Spanned::span)),
            ("failover_at_most", e.failover_at_most.as_ref().map(Spanned::span)),
        ];
        let subject = self.exactly_one(
            &subjects,
            span.clone(),
            "an expectation needs one subject: app, framework_removed, agent, count, never, containers, leader or failover_at_most",
            |second| format!("an expectation has one subject, but this one also has `{second}`"),
        )?;
        let allowed: &[&str] = match subject {
            "app" => &["finishes", "fails", "running", "after", "before"],
            "framework_removed" => &["reason", "after", "before"],
            "agent" => &["marked", "exactly", "after", "before"],
            "count" => &["from", "to", "where", "at_least", "at_most", "exactly", "after", "before"],
            // Totals over the whole run: no window.
            "containers" => &["pulled_bytes", "fetcher_cache_hits"],
            "leader" => &["at", "after", "before"],
            "failover_at_most" => &["after", "before"],
            _ => &["from", "to", "where", "after", "before"],
        };
        let keys = [
            ("finishes", e.finishes.as_ref().map(Spanned::span)),
            ("fails", e.fails.as_ref().map(Spanned::span)),
            ("running", e.running.as_ref().map(Spanned::span)),
            ("reason", e.reason.as_ref().map(Spanned::span)),
            ("marked", e.marked.as_ref().map(Spanned::span)),
            ("from", e.from.as_ref().map(Spanned::span)),
            ("to", e.to.as_ref().map(Spanned::span)),
            ("where", e.wheres.as_ref().map(Spanned::span)),
            ("at_least", e.at_least.as_ref().map(Spanned::span)),
            ("at_most", e.at_most.as_ref().map(Spanned::span)),
            ("exactly", e.exactly.as_ref().map(Spanned::span)),
            ("after", e.after.as_ref().map(Spanned::span)),
            ("before", e.before.as_ref().map(Spanned::span)),
            ("at", e.at.as_ref().map(Spanned::span)),
            ("pulled_bytes", e.pulled_bytes.as_ref().map(Spanned::span)),
            ("fetcher_cache_hits", e.fetcher_cache_hits.as_ref().map(Spanned::span)),
        ];
        let mut ok = self.only_allowed(&keys, allowed, &format!("a `{subject}` expectation"));
        let after = self.opt_duration(&e.after, "after");
        let before = self.opt_duration(&e.before, "before");
        if let (Some(a), Some(b), Some(bv)) = (after, before, &e.before)
            && b < a
        {
            self.error(
                bv.span(),
                format!("`before` ({}) is earlier than `after` ({})", format_duration(b), format_duration(a)),
            );
            ok = false;
        }
        // A window that opens when the run has stopped sees nothing: `never`
        // and `at_most` would hold trivially, the rest fail for no reason.
        if let (Some(a), Some(av)) = (after, &e.after)
            && a >= until
        {
            self.error(
                av.span(),
                format!(
                    "this expectation looks after {}, but the run stops at {} (`until`): nothing can be seen there",
                    format_duration(a),
                    format_duration(until)
                ),
            );
            ok = false;
        }
        let window = match (after, before) {
            (None, None) => String::new(),
            (Some(a), None) => format!(" after {}", format_duration(a)),
            (None, Some(b)) => format!(" before {}", format_duration(b)),
            (Some(a), Some(b)) => format!(" between {} and {}", format_duration(a), format_duration(b)),
        };
        let (expect, text) = match subject {
            "app" => {
                let app = self.app_name(cast, e.app.as_ref()?)?;
                // Exactly one of the three keys, set to true.
                let given: Vec<(AppOutcome, bool)> = [
                    (AppOutcome::Finishes, &e.finishes),
                    (AppOutcome::Fails, &e.fails),
                    (AppOutcome::Running, &e.running),
                ]
                .into_iter()
                .filter_map(|(o, v)| v.as_ref().map(|v| (o, *v.get_ref())))
                .collect();
                let outcome = match given[..] {
                    [(o, true)] => o,
                    _ => {
                        self.error(
                            e.app.as_ref()?.span(),
                            "say one of `finishes = true`, `fails = true` or `running = true`",
                        );
                        return None;
                    }
                };
                let verb = match outcome {
                    AppOutcome::Finishes => "finishes",
                    AppOutcome::Fails => "fails",
                    AppOutcome::Running => "is still running at the end",
                };
                let noun = if cast.apps.iter().any(|(a, _)| *a == app) { "app" } else { "framework" };
                (Expect::App { app: app.clone(), outcome }, format!("{noun} {app} {verb}{window}"))
            }
            "framework_removed" => {
                let app = self.app_name(cast, e.framework_removed.as_ref()?)?;
                let reason = e.reason.as_ref().map(|r| r.get_ref().clone());
                let because = reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
                (
                    Expect::FrameworkRemoved { app: app.clone(), reason },
                    format!("the master removes framework {app}{because}{window}"),
                )
            }
            "agent" => {
                let v = e.agent.as_ref()?;
                let name = v.get_ref().strip_prefix("agent:").unwrap_or(v.get_ref()).to_string();
                if !cast.agents.contains(&name) {
                    self.error(v.span(), format!("no agent is named `{name}` (agents: {})", cast.agents.join(", ")));
                    return None;
                }
                let Some(m) = &e.marked else {
                    self.error(v.span(), "say what the master marks it: marked = \"unreachable\" (or disconnected, reregistered, registered)");
                    return None;
                };
                let Some(marked) = AgentMark::ALL.iter().find(|(w, _)| w == m.get_ref()).map(|(_, k)| *k) else {
                    self.error(
                        m.span(),
                        format!(
                            "unknown mark `{}`; use unreachable, disconnected, reregistered or registered",
                            m.get_ref()
                        ),
                    );
                    return None;
                };
                let times = match &e.exactly {
                    Some(n) => match u64::try_from(*n.get_ref()) {
                        Ok(n) => Some(n),
                        Err(_) => {
                            self.error(n.span(), "`exactly` must be 0 or more");
                            return None;
                        }
                    },
                    None => None,
                };
                let how_often = match times {
                    Some(0) => " never".to_string(),
                    Some(n) => format!(" exactly {n} time(s)"),
                    None => String::new(),
                };
                (
                    Expect::Agent { agent: name.clone(), marked, times },
                    format!("the master{how_often} marks {name} {}{window}", marked.word()),
                )
            }
            "containers" => self.containers_expectation(e, cast)?,
            "leader" => self.leader_expectation(e, cast, until, &window)?,
            "failover_at_most" => self.failover_expectation(e.failover_at_most.as_ref()?, cast, &window)?,
            _ => {
                let v = if subject == "count" { e.count.as_ref()? } else { e.never.as_ref()? };
                let what = v.get_ref().clone();
                if !is_task_state(&what) {
                    self.kind(v, false)?;
                }
                let from = match &e.from {
                    Some(f) => Some(self.actor(cast, f)?.0),
                    None => None,
                };
                let to = match &e.to {
                    Some(t) => Some(self.actor(cast, t)?.0),
                    None => None,
                };
                let wheres = self.wheres(&what, e.wheres.as_ref())?;
                let (at_least, at_most) = if subject == "never" { (None, Some(0)) } else { self.bounds(e, v.span())? };
                let mut text = match (at_least, at_most) {
                    (_, Some(0)) => format!("no {what}"),
                    (Some(a), Some(b)) if a == b => format!("exactly {a} {what}"),
                    (Some(a), Some(b)) => format!("{a} to {b} {what}"),
                    (Some(a), None) => format!("at least {a} {what}"),
                    (None, Some(b)) => format!("at most {b} {what}"),
                    (None, None) => what.clone(),
                };
                if is_task_state(&what) {
                    text.push_str(" task(s)");
                }
                for (k, val) in &wheres {
                    text.push_str(&format!(" with {k}={val}"));
                }
                if let Some(f) = &from {
                    text.push_str(&format!(" from {f}"));
                }
                if let Some(t) = &to {
                    text.push_str(&format!(" to {t}"));
                }
                text.push_str(&window);
                (Expect::Count { what, from, to, wheres, at_least, at_most }, text)
            }
        };
        ok.then(|| Expectation { label: self.label(&span), text, expect, after, before })
    }

    fn bounds(&mut self, e: &RawExpect, span: Range<usize>) -> Option<(Option<u64>, Option<u64>)> {
        let get = |this: &mut Self, v: &Option<Spanned<i64>>, key: &str| -> Result<Option<u64>, ()> {
            match v {
                None => Ok(None),
                Some(n) => u64::try_from(*n.get_ref()).map(Some).map_err(|_| {
                    this.error(n.span(), format!("`{key}` must be 0 or more"));
                }),
            }
        };
        let least = get(self, &e.at_least, "at_least").ok()?;
        let most = get(self, &e.at_most, "at_most").ok()?;
        let exactly = get(self, &e.exactly, "exactly").ok()?;
        match (least, most, exactly) {
            (None, None, Some(n)) => Some((Some(n), Some(n))),
            (_, _, Some(_)) => {
                self.error(span, "`exactly` cannot be combined with `at_least` or `at_most`");
                None
            }
            (None, None, None) => {
                self.error(span, "say how many: at_least = N, at_most = N or exactly = N");
                None
            }
            (Some(a), Some(b), None) if a > b => {
                self.error(span, format!("at_least = {a} is more than at_most = {b}: nothing can satisfy it"));
                None
            }
            (a, b, None) => Some((a, b)),
        }
    }

    fn wheres(
        &mut self,
        what: &str,
        raw: Option<&Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    ) -> Option<Vec<(String, String)>> {
        let Some(raw) = raw else { return Some(Vec::new()) };
        let known: &[&str] =
            if is_task_state(what) { &["reason", "source", "task_id"] } else { fields::field_names(what) };
        let mut out = Vec::new();
        for (k, v) in raw.get_ref() {
            if !known.contains(&k.as_str()) {
                let list = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                self.error(raw.span(), format!("`{what}` has no field `{k}` to filter on (its fields: {list})"));
                return None;
            }
            let text = match v.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => {
                    self.error(v.span(), format!("`where.{k}` must be a string, number or boolean"));
                    return None;
                }
            };
            // A value of the wrong type can never match: refuse it here instead
            // of letting the expectation fail (or a `never` hold) for no reason.
            if NUMERIC_FIELDS.contains(&k.as_str()) && text.trim().parse::<f64>().map_or(true, |x| !x.is_finite()) {
                self.error(v.span(), format!("`where.{k}` is a number in `{what}`, not `{text}`"));
                return None;
            }
            if BOOLEAN_FIELDS.contains(&k.as_str()) && text != "true" && text != "false" {
                self.error(v.span(), format!("`where.{k}` is true or false in `{what}`, not `{text}`"));
                return None;
            }
            // Enum-valued fields are checked against the enums, so a typo is not a silent zero count.
            let valid = match k.as_str() {
                "state" => TaskState::from_str_name(&text).is_some(),
                "reason" => task_status::Reason::from_str_name(&text).is_some(),
                "source" => task_status::Source::from_str_name(&text).is_some(),
                _ => true,
            };
            if !valid {
                self.error(
                    v.span(),
                    format!("`{text}` is not a Mesos {k} name (e.g. TASK_LOST, REASON_AGENT_REMOVED, SOURCE_MASTER)"),
                );
                return None;
            }
            out.push((k.clone(), text));
        }
        Some(out)
    }
}

impl Checker<'_> {
    /// `containers = "<agent glob>"` with `pulled_bytes` (a size, "300MB")
    /// and/or `fetcher_cache_hits`: the agents' image store totals at the end.
    fn containers_expectation(&mut self, e: &RawExpect, cast: &Cast) -> Option<(Expect, String)> {
        let v = e.containers.as_ref()?;
        let (agents, roles) = self.actor(cast, v)?;
        if roles.iter().any(|r| *r != super::cast::Role::Agent) {
            self.error(
                v.span(),
                "`containers` names agents (a hostname or a glob like \"agent-*\"): their image stores",
            );
            return None;
        }
        let pulled_bytes = match &e.pulled_bytes {
            Some(b) => Some(
                crate::units::parse_size(b.get_ref())
                    .map_err(|err| self.error(b.span(), format!("bad `pulled_bytes`: {err}")))
                    .ok()?,
            ),
            None => None,
        };
        let fetcher_cache_hits = match &e.fetcher_cache_hits {
            Some(h) => match u64::try_from(*h.get_ref()) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.error(h.span(), "`fetcher_cache_hits` must be 0 or more");
                    return None;
                }
            },
            None => None,
        };
        if pulled_bytes.is_none() && fetcher_cache_hits.is_none() {
            self.error(v.span(), "say what the stores did: pulled_bytes = \"20MB\" and/or fetcher_cache_hits = 1");
            return None;
        }
        let mut said = Vec::new();
        if let Some(b) = pulled_bytes {
            said.push(format!("pulled {}", mesocosm_agent::images::human_bytes(b)));
        }
        if let Some(h) = fetcher_cache_hits {
            said.push(format!("{h} fetcher cache hit(s)"));
        }
        let text = format!("{} {}", v.get_ref(), said.join(" and "));
        Some((Expect::Containers { agents, pulled_bytes, fetcher_cache_hits }, text))
    }
}
