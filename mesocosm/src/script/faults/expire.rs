//! `expire_session = "<client>"`: at `at`, ZooKeeper expires the session of
//! one of its clients (a contending master, an agent or a driver that detects
//! the leader through ZooKeeper), as the ensemble's leader does when a
//! session's timeout passes without a heartbeat: a closeSession transaction
//! deletes its ephemeral nodes and fires their watches, and the client learns
//! SESSION_EXPIRED when it reconnects. A leading master then loses its
//! candidacy and exits (`Master::lostCandidacy`); an agent's or driver's
//! detector starts a new session.
//!
//! Why a kind of its own rather than a partition: a partition long enough to
//! expire a session also cuts everything else the client says, and its
//! timing is the session timeout's; this one expires the session alone, at a
//! chosen instant. Whether the client had a session then is judged after the
//! run: expiring nothing fails it, like any fault that did nothing.

use super::FaultCx;
use crate::check::Checker;
use crate::cluster::Fault;
use crate::script::RawFault;
use crate::script::cast::Role;

/// The keys an `expire_session` takes besides its own.
pub(super) const KEYS: &[&str] = &["at"];

/// An `expire_session` table, checked: one client by name, and an ensemble.
pub(super) fn check(cx: &mut Checker<'_>, f: &RawFault, k: &mut FaultCx<'_>) -> Option<Fault> {
    let v = f.expire_session.as_ref()?;
    if k.cast.zookeeper.is_empty() {
        cx.error(v.span(), "`expire_session` needs ZooKeeper: add [zookeeper] servers = 3");
        return None;
    }
    let (pattern, roles) = match k.cast.resolve(v.get_ref()) {
        Ok(r) => r,
        Err(e) => {
            cx.error(v.span(), e);
            return None;
        }
    };
    let name = pattern.as_str();
    if name.contains('*') || name.contains('|') || roles.len() != 1 {
        cx.error(v.span(), format!("`{}`: expire_session names one ZooKeeper client, not a glob", v.get_ref()));
        return None;
    }
    if !matches!(roles[0], Role::Master | Role::Agent | Role::Driver) {
        cx.error(
            v.span(),
            format!("{name} holds no ZooKeeper session (its clients are the masters, the agents and the drivers)"),
        );
        return None;
    }
    Some(Fault::ExpireSession { client: name.to_string(), at: k.at })
}
