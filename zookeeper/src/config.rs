//! Where a process finds its ZooKeeper group: `zk://host1:2181,host2:2181/mesos`
//! (Mesos's `zookeeper::URL`, given to masters as `--zk`, to agents as
//! `--master`, to Spark as `mesos://zk://…`), and the session timeout.

use mesocosm_sim::ActorId;
use std::time::Duration;

/// Mesos's `--zk_session_timeout` default (`ZOOKEEPER_SESSION_TIMEOUT`, 10 s).
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// ZooKeeper server `i` (1-based) of a scenario's ensemble: `zookeeper-001`,
/// as the seed names its hosts.
pub fn server_host(i: u32) -> String {
    format!("zookeeper-{i:03}")
}

/// A group to contend in or watch.
#[derive(Clone, Debug, PartialEq)]
pub struct ZkConfig {
    /// The ensemble's servers (each host's actor).
    pub servers: Vec<ActorId>,
    /// The group's znode (`/mesos`).
    pub path: String,
    /// The session timeout asked (`--zk_session_timeout`, 10 s).
    pub session_timeout: Duration,
    /// Where the session starts in the connect string (ZooKeeper's client
    /// shuffles it; the world draws this from the process's seed).
    pub first: usize,
}

/// A parsed `zk://` URL: the servers' hosts (ports dropped) and the path.
#[derive(Clone, Debug, PartialEq)]
pub struct ZkUrl {
    pub hosts: Vec<String>,
    pub path: String,
}

/// Parses `zk://[user:pass@]host:port,host:port/path` as `zookeeper::URL::parse` does.
pub fn parse_url(url: &str) -> Result<ZkUrl, String> {
    let rest = url.strip_prefix("zk://").ok_or_else(|| format!("{url:?} does not start with zk://"))?;
    let (servers, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    // Credentials (`user:pass@`) are accepted and ignored: ACLs are not modelled.
    let servers = servers.rsplit_once('@').map_or(servers, |(_, s)| s);
    let mut hosts = Vec::new();
    for s in servers.split(',') {
        let host = match s.rsplit_once(':') {
            Some((h, port)) if port.parse::<u16>().is_ok() => h,
            Some(_) => return Err(format!("bad port in ZooKeeper server {s:?}")),
            None => s,
        };
        if host.is_empty() {
            return Err(format!("an empty ZooKeeper server in {url:?}"));
        }
        hosts.push(host.to_string());
    }
    Ok(ZkUrl { hosts, path: path.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zk_url_gives_its_hosts_and_path() {
        let u = parse_url("zk://zookeeper-001:2181,zookeeper-002:2181,zookeeper-003:2181/mesos").unwrap();
        assert_eq!(u.hosts, ["zookeeper-001", "zookeeper-002", "zookeeper-003"]);
        assert_eq!(u.path, "/mesos");
        assert_eq!(parse_url("zk://u:p@zk1/x").unwrap(), ZkUrl { hosts: vec!["zk1".into()], path: "/x".into() });
        assert_eq!(parse_url("mesos://m:5050"), Err("\"mesos://m:5050\" does not start with zk://".into()));
        assert_eq!(parse_url("zk://a:xx/m"), Err("bad port in ZooKeeper server \"a:xx\"".into()));
        assert_eq!(parse_url("zk://a,,b/m"), Err("an empty ZooKeeper server in \"zk://a,,b/m\"".into()));
    }
}
