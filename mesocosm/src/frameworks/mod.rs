//! Frameworks that ship with mesocosm besides Spark, usable from a scenario
//! file without user code (`[[frameworks]] kind = "<kind>"`).
//!
//! - [`sleep_tasks`]: launch N command tasks that sleep, wait for them all to
//!   finish, exit 0: the smallest framework that exercises offers, launches,
//!   status updates and acknowledgements.

pub mod sleep_tasks;
