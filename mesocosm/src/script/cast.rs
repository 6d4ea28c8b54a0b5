//! The cast: the actors a scenario has, by the names faults, expectations
//! and links use (`master`, `<agent>` or `agent:<agent>`, `driver:<app>`,
//! `executor:<app>/<id>`, `scheduler:<framework>`, `spark-submit:…`; globs with `*`), and
//! what role each plays (which connections it holds, whether it can restart).

use std::time::Duration;

use mesocosm_sim::faults::Pattern;
use toml::Spanned;

use crate::check::Checker;

/// The actor names of a scenario, to resolve and check what faults name.
pub use crate::cluster::LEADER;

pub(crate) struct Cast {
    pub master: String,
    /// With `[master] count > 1`: every master's name (`master-1` …); `leader`
    /// then names whichever leads when a fault fires.
    pub masters: Vec<String>,
    /// The ZooKeeper servers (`zookeeper-001` …).
    pub zookeeper: Vec<String>,
    pub agents: Vec<String>,
    /// (driver name, submission time).
    pub apps: Vec<(String, Duration)>,
    /// `[[frameworks]]`: (name, start time); the scheduler is `scheduler:<name>`.
    pub frameworks: Vec<(String, Duration)>,
    /// Other processes by their actor names, with their start times: the
    /// spark-submit clients of a dispatcher (`spark-submit:<app>`…).
    pub clients: Vec<(String, Duration)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    Master,
    Agent,
    /// A framework's scheduler: a Spark driver or a `scheduler:<name>`.
    Driver,
    Executor,
    /// A ZooKeeper server.
    ZooKeeper,
}

impl Cast {
    /// Names a fault or expectation may match, with an executor sample per app
    /// (executor ids are assigned at run time: `executor:<app>/0`, `/1`, …).
    fn samples(&self) -> Vec<(String, Role)> {
        let mut v = vec![(self.master.clone(), Role::Master)];
        v.extend(self.masters.iter().map(|m| (m.clone(), Role::Master)));
        v.extend(self.zookeeper.iter().map(|z| (z.clone(), Role::ZooKeeper)));
        v.extend(self.agents.iter().map(|a| (a.clone(), Role::Agent)));
        for (app, _) in &self.apps {
            v.push((format!("driver:{app}"), Role::Driver));
            v.push((format!("executor:{app}/0"), Role::Executor));
        }
        for (fw, _) in &self.frameworks {
            v.push((format!("scheduler:{fw}"), Role::Driver));
        }
        // A client holds no connection a fault could cut but its own requests.
        v.extend(self.clients.iter().map(|(c, _)| (c.clone(), Role::Driver)));
        v
    }

    /// Resolve a name or glob to a pattern over actor names, or say why it names nobody.
    pub(crate) fn resolve(&self, name: &str) -> Result<(Pattern, Vec<Role>), String> {
        // `agent:<name>` is how the issue tracker and Mesos logs say it; the actor is the hostname.
        if let Some(rest) = name.strip_prefix("agent:") {
            let glob = Pattern::new(rest);
            let hits: Vec<&String> = self.agents.iter().filter(|a| glob.matches(a)).collect();
            if hits.is_empty() {
                return Err(format!("no agent is named `{rest}` (agents: {})", self.agents.join(", ")));
            }
            // The agents it names, exactly: the glob itself could also match
            // other actors (`agent:*` is every agent, not the master too).
            return Ok((Pattern::any_of(hits), vec![Role::Agent]));
        }
        if name == "master" && self.masters.is_empty() {
            return Ok((Pattern::new(self.master.clone()), vec![Role::Master]));
        }
        if name == "master" {
            return Err(format!(
                "`master` is ambiguous with {} masters: name one ({}) or `{LEADER}`, whichever leads when the fault fires",
                self.masters.len(),
                self.masters.join(", ")
            ));
        }
        if name == LEADER {
            if self.masters.is_empty() {
                return Err(format!(
                    "`{LEADER}` needs several masters ([master] count > 1); the one master is `master`"
                ));
            }
            // Resolved when the fault fires: whichever master leads then.
            return Ok((Pattern::new(LEADER), vec![Role::Master]));
        }
        if let Some(rest) = name.strip_prefix("executor:")
            && !rest.contains('*')
        {
            let (app, id) = rest.split_once('/').unwrap_or((rest, ""));
            if !self.apps.iter().any(|(a, _)| a == app) {
                return Err(format!("no app is named `{app}` (apps: {})", self.app_names()));
            }
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!(
                    "`{name}`: an executor is `executor:<app>/<id>` with Spark's numeric executor id, or a glob like `executor:{app}/*`"
                ));
            }
            return Ok((Pattern::new(name), vec![Role::Executor]));
        }
        let p = Pattern::new(name);
        let roles: Vec<Role> = self.samples().into_iter().filter(|(n, _)| p.matches(n)).map(|(_, r)| r).collect();
        if roles.is_empty() {
            // With several masters, name them (and `leader`), not the single
            // master's `master`, and the ZooKeeper servers a fault may target.
            let masters = if self.masters.is_empty() {
                self.master.clone()
            } else {
                format!("{} (or `{LEADER}`)", self.masters.join(", "))
            };
            let servers: String = self.zookeeper.iter().map(|z| format!("{z}, ")).collect();
            return Err(format!(
                "`{name}` names no actor; actors are {masters}, {servers}{}, driver:<app>, executor:<app>/<id> and scheduler:<framework> (apps: {}; frameworks: {})",
                if self.agents.is_empty() { "(no agents)".to_string() } else { self.agents.join(", ") },
                self.app_names(),
                self.framework_names()
            ));
        }
        Ok((p, roles))
    }

    pub(super) fn framework_names(&self) -> String {
        let names: Vec<&str> = self.frameworks.iter().chain(&self.clients).map(|(a, _)| a.as_str()).collect();
        if names.is_empty() { "none".into() } else { names.join(", ") }
    }

    pub(super) fn app_names(&self) -> String {
        if self.apps.is_empty() {
            "none".into()
        } else {
            self.apps.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ")
        }
    }
}

impl Checker<'_> {
    /// The actor(s) a name or glob matches, or a diagnostic at it.
    pub(crate) fn actor(&mut self, cast: &Cast, v: &Spanned<String>) -> Option<(Pattern, Vec<Role>)> {
        match cast.resolve(v.get_ref()) {
            Ok(r) => Some(r),
            Err(e) => {
                self.error(v.span(), e);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cast() -> Cast {
        Cast {
            master: "master".into(),
            agents: vec!["agent-1".into(), "agent-2".into(), "gpu-1".into()],
            apps: vec![("etl".into(), Duration::ZERO)],
            frameworks: vec![],
            clients: vec![],
            masters: vec![],
            zookeeper: vec![],
        }
    }

    /// `agent:<glob>` names every agent the glob matches and nothing else
    /// (its agents used to be joined with `|`, which the glob matcher read as a
    /// character, so a glob over two agents matched none).
    #[test]
    fn an_agent_glob_names_exactly_its_agents() {
        let (p, roles) = cast().resolve("agent:agent-*").expect("two agents");
        assert_eq!(roles, [Role::Agent]);
        assert!(p.matches("agent-1") && p.matches("agent-2"), "{p}");
        assert!(!p.matches("gpu-1") && !p.matches("master"), "{p}");
        let (all, _) = cast().resolve("agent:*").expect("every agent");
        assert!(["agent-1", "agent-2", "gpu-1"].iter().all(|a| all.matches(a)), "{all}");
        assert!(!all.matches("master") && !all.matches("driver:etl"), "{all}");
        let err = cast().resolve("agent:web-*").expect_err("no such agent");
        assert!(err.contains("no agent is named `web-*`"), "{err}");
    }
}
