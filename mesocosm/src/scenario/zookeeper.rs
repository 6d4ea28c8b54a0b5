//! `[zookeeper]` and the HA keys of `[master]`: several masters electing a
//! leader through a ZooKeeper ensemble (docs/high-availability.md).
//!
//! ```toml
//! [zookeeper]
//! servers = 3          # zookeeper-001 … zookeeper-003 (1, 3 or 5; even counts warn)
//!
//! [master]
//! count = 3            # master-1 … master-3, contending in ZooKeeper
//! quorum = 2           # --quorum (default count/2 + 1)
//! zk = "zk://zookeeper-001:2181,zookeeper-002:2181,zookeeper-003:2181/mesos"   # --zk (inferred)
//! ```

use super::raw::{RawMaster, RawZooKeeper};
use crate::check::Checker;
use crate::cluster::MasterSpec;
use toml::Spanned;

/// The most ZooKeeper servers a scenario may run (ensembles are 3, 5 or 7).
pub const MAX_ZOOKEEPER_SERVERS: i64 = 9;

/// The most masters a scenario may run (HA clusters run 3 or 5).
pub const MAX_MASTERS: i64 = 9;

/// ZooKeeper server `i` (1-based), as the seed names its hosts.
pub use mesocosm_zookeeper::server_host as zookeeper_host;

/// `url` written back as a `zk://host:2181,…/path` URL (ZooKeeper's client port).
pub(super) fn zk_url_string(url: &mesocosm_zookeeper::ZkUrl) -> String {
    let hosts: Vec<String> = url.hosts.iter().map(|h| format!("{h}:2181")).collect();
    format!("zk://{}{}", hosts.join(","), url.path)
}

/// The `zk://` URL of an ensemble of `servers`, path `/mesos`.
pub fn ensemble_url(servers: u32) -> String {
    let hosts: Vec<String> = (1..=servers).map(|i| format!("{}:2181", zookeeper_host(i))).collect();
    format!("zk://{}/mesos", hosts.join(","))
}

impl Checker<'_> {
    /// `[zookeeper]`: how many servers (0 without the table).
    pub(super) fn zookeeper(&mut self, raw: Option<&Spanned<RawZooKeeper>>) -> u32 {
        let Some(raw) = raw else { return 0 };
        let s = &raw.get_ref().servers;
        match *s.get_ref() {
            n if !(1..=MAX_ZOOKEEPER_SERVERS).contains(&n) => {
                self.error(s.span(), format!("`servers` must be 1 to {MAX_ZOOKEEPER_SERVERS}"));
                0
            }
            n => {
                if n % 2 == 0 {
                    // Why a warning: ZooKeeper runs, but a majority of 2k
                    // servers is k+1, so it tolerates no more failures than 2k-1.
                    self.warning(
                        s.span(),
                        format!(
                            "an ensemble of {n} servers tolerates no more failures than one of {}: ZooKeeper recommends an odd number of servers",
                            n - 1
                        ),
                    );
                }
                n as u32
            }
        }
    }

    /// `[master] count`, `quorum` and `zk`, into `m`, given the ensemble's size.
    pub(super) fn master_ha(&mut self, raw: Option<&RawMaster>, zookeeper: u32, m: &mut MasterSpec) {
        let Some(raw) = raw else {
            m.zk = (zookeeper > 0).then(|| url(zookeeper));
            return;
        };
        if let Some(c) = &raw.count {
            match *c.get_ref() {
                n if (1..=MAX_MASTERS).contains(&n) => m.count = n as u32,
                0 => self.error(c.span(), "`count = 0`: a Mesos cluster needs at least one master"),
                _ => self.error(c.span(), format!("`count` must be 1 to {MAX_MASTERS}")),
            }
            if m.count > 1 && zookeeper == 0 && raw.zk.is_none() {
                self.error(
                    c.span(),
                    format!(
                        "{} masters need ZooKeeper to elect a leader (Mesos requires --zk with several masters); add [zookeeper] servers = 3",
                        m.count
                    ),
                );
            }
        }
        if let Some(q) = &raw.quorum {
            let n = *q.get_ref();
            if n < 1 || n > i64::from(m.count) {
                // No master could ever write the registry: the replicated log
                // needs `quorum` replicas, one per master.
                self.error(q.span(), format!("`quorum = {n}` must be 1 to the {} master(s)", m.count));
            } else {
                if n <= i64::from(m.count) / 2 {
                    // Mesos starts anyway (it does not know how many masters
                    // there are), but docs/high-availability.md requires a
                    // majority: two minorities could each write the registry.
                    self.warning(
                        q.span(),
                        format!(
                            "`quorum = {n}` is not a majority of {} masters; Mesos requires quorum > masters/2 so that two leaders cannot both write the registry",
                            m.count
                        ),
                    );
                }
                m.quorum = Some(n as u32);
            }
        }
        match &raw.zk {
            None => m.zk = (zookeeper > 0).then(|| url(zookeeper)),
            Some(z) => match mesocosm_zookeeper::parse_url(z.get_ref()) {
                Err(e) => self.error(z.span(), format!("bad `zk` URL: {e}")),
                Ok(u) => {
                    let declared: Vec<String> = (1..=zookeeper).map(zookeeper_host).collect();
                    if let Some(h) = u.hosts.iter().find(|h| !declared.contains(h)) {
                        let have = if declared.is_empty() {
                            "this scenario declares no [zookeeper] ensemble".to_string()
                        } else {
                            format!("the ensemble is {}", declared.join(", "))
                        };
                        self.error(z.span(), format!("`zk` names ZooKeeper server `{h}`, but {have}"));
                    } else {
                        m.zk = Some(u);
                    }
                }
            },
        }
    }
}

fn url(servers: u32) -> mesocosm_zookeeper::ZkUrl {
    mesocosm_zookeeper::ZkUrl { hosts: (1..=servers).map(zookeeper_host).collect(), path: "/mesos".into() }
}
