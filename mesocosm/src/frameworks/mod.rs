//! Frameworks that ship with mesocosm besides Spark, usable from a scenario
//! file without user code (`[[frameworks]] kind = "<kind>"`).
//!
//! - [`sleep_tasks`]: launch N command tasks that sleep, wait for them all to
//!   finish, exit 0: the smallest framework that exercises offers, launches,
//!   status updates and acknowledgements.
//! - [`marathon`]: Marathon, keeping long-running apps (JSON app
//!   definitions, `[marathon]` in a scenario) running, relaunching with backoff.
//! - [`scripted`]: a framework whose behaviour is data (a `[[frameworks]]`
//!   table without `kind`): FrameworkInfo, work, offer answers, SUPPRESS,
//!   retries, reconciliation, kills, teardown, re-SUBSCRIBE and failover.

pub mod marathon;
pub mod scripted;
pub mod sleep_tasks;
