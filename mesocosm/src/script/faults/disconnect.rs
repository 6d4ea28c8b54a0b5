//! `disconnect = ["<a>", "<b>"]`: break the open connection between two
//! actors at `at`; both ends see it close (`Input::Disconnected`), as when a
//! libprocess socket breaks. Applied by the run's schedule; only pairs that
//! hold a connection can be named (`Msg::opens_connection`).

use super::FaultCx;
use crate::check::Checker;
use crate::cluster::Fault;
use crate::script::RawFault;
use crate::script::cast::Role;

/// The keys a `disconnect` takes besides its own.
pub(super) const KEYS: &[&str] = &["at"];

/// A `disconnect` table, checked: one actor at each end (no glob), and a
/// pair that holds a connection.
pub(super) fn check(cx: &mut Checker<'_>, f: &RawFault, k: &mut FaultCx<'_>) -> Option<Fault> {
    let (cast, at) = (k.cast, k.at);
    let v = f.disconnect.as_ref()?;
    let [a, b] = v.get_ref().as_slice() else {
        cx.error(v.span(), "`disconnect` names the two ends of one connection: [\"driver:etl\", \"master\"]");
        return None;
    };
    let single = |this: &mut Checker<'_>, n: &str| -> Option<(String, Role)> {
        match cast.resolve(n) {
            Ok((p, roles)) if !p.as_str().contains('*') && !p.as_str().contains('|') && roles.len() == 1 => {
                Some((p.as_str().to_string(), roles[0]))
            }
            Ok(_) => {
                this.error(v.span(), format!("`{n}`: a disconnect names one actor on each end, not a glob"));
                None
            }
            Err(e) => {
                this.error(v.span(), e);
                None
            }
        }
    };
    let (a, ra) = single(cx, a)?;
    let (b, rb) = single(cx, b)?;
    use Role::*;
    // The connections mesocosm's actors hold (see Msg::opens_connection).
    let connected = matches!(
        (ra, rb),
        (Master, Agent)
            | (Agent, Master)
            | (Master, Driver)
            | (Driver, Master)
            | (Agent, Executor)
            | (Executor, Agent)
            | (Driver, Executor)
            | (Executor, Driver)
    );
    if !connected {
        cx.error(
            v.span(),
            format!("{a} and {b} never hold a connection (connections: master–agent, master–driver, agent–executor, driver–executor)"),
        );
        return None;
    }
    Some(Fault::Disconnect { a, b, at })
}
