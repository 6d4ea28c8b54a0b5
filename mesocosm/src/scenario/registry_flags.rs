//! `[master]`'s registry flags: what a master elected after a failover may
//! remove, how fast, and how long its registry's fetch and store may take
//! (`src/master/flags.cpp`, checked as `Master::initialize` checks them).

use super::raw::RawMaster;
use crate::check::Checker;
use crate::cluster::MasterSpec;
use crate::mesos_syntax::{parse_mesos_duration, parse_percentage, parse_rate_limit};
use mesocosm_master::RemovalRate;

impl Checker<'_> {
    pub(super) fn registry_flags(&mut self, raw: &RawMaster, m: &mut MasterSpec) {
        if let Some(v) = &raw.recovery_agent_removal_limit {
            match parse_percentage(v.get_ref()) {
                Ok(f) => m.recovery_agent_removal_limit = f,
                Err(e) => self.error(v.span(), format!("bad `recovery_agent_removal_limit`: {e}")),
            }
        }
        if let Some(v) = &raw.agent_removal_rate_limit {
            match parse_rate_limit(v.get_ref()) {
                Ok((permits, per)) => m.agent_removal_rate_limit = Some(RemovalRate { permits, per }),
                Err(e) => self.error(v.span(), format!("bad `agent_removal_rate_limit`: {e}")),
            }
        }
        for (key, v, slot) in [
            ("registry_fetch_timeout", &raw.registry_fetch_timeout, &mut m.registry_timeouts.fetch),
            ("registry_store_timeout", &raw.registry_store_timeout, &mut m.registry_timeouts.store),
        ] {
            let Some(v) = v else { continue };
            match parse_mesos_duration(v.get_ref()) {
                // A zero timeout would fail every fetch or store at once.
                Ok(d) if d.is_zero() => self.error(v.span(), format!("`{key}` must be more than 0")),
                Ok(d) => *slot = d,
                Err(e) => self.error(v.span(), format!("bad `{key}`: {e}")),
            }
        }
    }
}
