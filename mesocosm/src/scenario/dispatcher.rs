//! Checking `[dispatcher]`: Spark's MesosClusterDispatcher, its `--master`
//! (`master`, default the master or, with `[zookeeper]`, the ensemble's
//! `mesos://zk://…/mesos`), its conf (as the dispatcher checks it at start)
//! and the REST requests the scenario sends it.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;

use super::raw::RawDispatcher;
use crate::check::Checker;
use crate::spark::AppSpec;
use crate::spark::dispatcher::{DispatcherConf, DispatcherSpec, RequestSpec, is_cluster_mode};
use crate::submit::MasterUrl;

impl Checker<'_> {
    pub(super) fn dispatcher(
        &mut self,
        raw: &Spanned<RawDispatcher>,
        master_url: &str,
        (masters, zookeeper): (&[String], &[String]),
        apps: &[AppSpec],
        until: Duration,
    ) -> Option<DispatcherSpec> {
        let d = raw.get_ref();
        let before = self.diags.len();
        let host = match &d.host {
            Some(h) if self.host_name(h, "host") => h.get_ref().clone(),
            Some(_) => String::new(),
            None => "dispatcher".to_string(),
        };
        let at = self.optional_duration(&d.at, "at", Duration::ZERO);
        let empty = BTreeMap::new();
        let conf_map: &BTreeMap<String, String> = d.conf.as_ref().map_or(&empty, |c| c.get_ref());
        let conf_span = d.conf.as_ref().map_or(raw.span(), |c| c.span());
        // `--master`, checked as a driver's is: it must reach this scenario's
        // master, or go through its ZooKeeper ensemble.
        let master_url = match &d.master {
            None => master_url.to_string(),
            Some(m) => match MasterUrl::parse(m.get_ref()) {
                Ok(url) => {
                    self.check_master(&url, m.span(), masters, zookeeper, "dispatcher");
                    m.get_ref().clone()
                }
                Err(e) => {
                    self.error(m.span(), format!("the dispatcher's `master`: {e}"));
                    master_url.to_string()
                }
            },
        };
        let conf = match DispatcherConf::new(&host, &master_url, conf_map) {
            Ok(c) => Some(c),
            Err(e) => {
                // What the dispatcher dies of at start.
                self.error(conf_span, format!("the dispatcher would not start: {e}"));
                None
            }
        };
        let cluster: Vec<&str> = apps.iter().filter(|a| is_cluster_mode(a)).map(|a| a.name.as_str()).collect();
        let mut requests = Vec::new();
        for r in &d.requests {
            let req = r.get_ref();
            let when = self.optional_duration(&Some(req.at.clone()), "at", Duration::ZERO);
            if when >= until {
                self.error(req.at.span(), "the request is sent after the run ends (`until`)");
            }
            let (name, spec) = match (&req.kill, &req.status) {
                (Some(k), None) => (k, RequestSpec::Kill(k.get_ref().clone())),
                (None, Some(s)) => (s, RequestSpec::Status(s.get_ref().clone())),
                _ => {
                    self.error(
                        r.span(),
                        "a request has exactly one of `kill` or `status` (the app whose submission it names)",
                    );
                    continue;
                }
            };
            if !cluster.contains(&name.get_ref().as_str()) {
                let known = if cluster.is_empty() { "none".to_string() } else { cluster.join(", ") };
                self.error(
                    name.span(),
                    format!("no cluster-mode app is named `{}`, so its submission id is unknown (cluster-mode apps: {known})", name.get_ref()),
                );
                continue;
            }
            requests.push((when, spec));
        }
        if self.diags.len() > before {
            return None;
        }
        Some(DispatcherSpec { conf: conf?, at, requests })
    }
}
