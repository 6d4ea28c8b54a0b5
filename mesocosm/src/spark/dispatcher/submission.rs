//! The REST submission protocol's messages, and the driver description the
//! dispatcher builds from a submission (`MesosSubmitRequestServlet`).
//!
//! The messages are the protobufs of `proto/proto/spark/rest.proto`, whose
//! fields are those of Spark's JSON messages (`deploy/rest/
//! SubmitRestProtocolRequest.scala`, `SubmitRestProtocolResponse.scala`);
//! this module fills in what every response carries.

use mesocosm_sim::SimTime;
use mesocosm_sim::proto::mesos::v1::TaskStatus;
pub use mesocosm_sim::proto::sparkrest::{
    CreateSubmissionRequest, CreateSubmissionResponse, ErrorResponse, KillSubmissionRequest, KillSubmissionResponse,
    SubmissionStatusRequest, SubmissionStatusResponse,
};
use std::collections::BTreeMap;

/// The Spark version both ends report (`clientSparkVersion`,
/// `serverSparkVersion`): 3.5 is the last release line with Mesos support.
pub const SPARK_VERSION: &str = "3.5.1";

/// A response of the server's, `action` and `serverSparkVersion` filled in as
/// every `SubmitRestProtocolResponse` has them.
pub fn create_response(
    success: bool,
    submission_id: Option<String>,
    message: Option<&str>,
) -> CreateSubmissionResponse {
    CreateSubmissionResponse {
        action: "CreateSubmissionResponse".into(),
        server_spark_version: SPARK_VERSION.into(),
        submission_id,
        success: Some(success),
        message: message.map(str::to_string),
    }
}

/// The server's answer to a kill.
pub fn kill_response(id: &str, success: bool, message: &str) -> KillSubmissionResponse {
    KillSubmissionResponse {
        action: "KillSubmissionResponse".into(),
        server_spark_version: SPARK_VERSION.into(),
        submission_id: id.into(),
        success: Some(success),
        message: Some(message.into()),
    }
}

/// The server's answer to a request it cannot take (`handleError`, HTTP 400).
pub fn error_response(message: &str) -> ErrorResponse {
    ErrorResponse {
        action: "ErrorResponse".into(),
        server_spark_version: SPARK_VERSION.into(),
        message: message.into(),
        highest_protocol_version: None,
    }
}

/// A supervised driver's relaunch state (`MesosClusterRetryState`).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryState {
    /// The status that ended the last attempt.
    pub last_failure: TaskStatus,
    /// Relaunches so far (the task id's `-retry-N`).
    pub retries: u32,
    /// Not relaunched before this instant.
    pub next_retry: SimTime,
    /// The wait that led to `next_retry`, whole seconds (1, 2, 4 … max).
    pub wait_secs: u64,
}

/// `MesosDriverDescription`: one submitted driver.
#[derive(Clone, Debug, PartialEq)]
pub struct DriverDescription {
    /// `spark.app.name`, else the main class.
    pub name: String,
    pub jar_url: String,
    /// Memory for the task in MiB: `spark.driver.memory` (1024) plus
    /// `spark.driver.memoryOverhead`, else max(10% of it, 384).
    pub mem: u64,
    /// `spark.driver.cores` (1.0).
    pub cores: f64,
    /// `spark.driver.supervise`.
    pub supervise: bool,
    pub main_class: String,
    pub app_args: Vec<String>,
    pub environment: BTreeMap<String, String>,
    /// The submission's `spark.*` properties.
    pub conf: BTreeMap<String, String>,
    /// `driver-<yyyyMMddHHmmss>-<NNNN>`.
    pub submission_id: String,
    pub submit_date: SimTime,
    /// Set on a supervised driver waiting for (or after) a relaunch.
    pub retry: Option<RetryState>,
}

/// `Utils.DEFAULT_DRIVER_MEM_MB`.
pub const DEFAULT_DRIVER_MEMORY_MIB: u64 = 1024;
/// The overhead floor and factor the REST server uses ("copied from YARN").
pub const MEMORY_OVERHEAD_MIN_MIB: u64 = 384;
pub const MEMORY_OVERHEAD_FACTOR: f64 = 0.10;

/// `newDriverId`: `driver-<submit date>-<counter, 4 digits>`. The date is the
/// virtual clock read as a date from 1970-01-01 00:00:00 UTC (mesocosm has
/// no wall clock), so ids are the same on every run.
pub fn driver_id(at: SimTime, number: u64) -> String {
    let secs = at.0 / 1_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("driver-{y:04}{m:02}{d:02}{:02}{:02}{:02}-{number:04}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `buildDriverDescription`: a create request as the dispatcher keeps it.
/// An error is the servlet's answer to a bad request (a malformed number).
/// The request's `appResource` and `mainClass` are checked before (the
/// servlet's ErrorResponse, see `core`).
pub fn describe(req: &CreateSubmissionRequest, id: String, at: SimTime) -> Result<DriverDescription, String> {
    let p = &req.spark_properties;
    // `Utils.memoryStringToMb`: a size string, MiB when unitless.
    let memory = crate::submit::SparkConf(p.clone()).size_mib("spark.driver.memory", DEFAULT_DRIVER_MEMORY_MIB)?;
    let factor = match p.get("spark.driver.memoryOverheadFactor") {
        None => MEMORY_OVERHEAD_FACTOR,
        Some(v) => v.trim().parse().map_err(|_| format!("spark.driver.memoryOverheadFactor={v}: not a number"))?,
    };
    let overhead = match p.get("spark.driver.memoryOverhead") {
        // `.toInt`: a plain number of MiB.
        Some(v) => v.trim().parse::<u64>().map_err(|_| format!("spark.driver.memoryOverhead={v}: For input string"))?,
        None => ((factor * memory as f64) as u64).max(MEMORY_OVERHEAD_MIN_MIB),
    };
    let cores = match p.get("spark.driver.cores") {
        None => 1.0,
        Some(v) => v.trim().parse::<f64>().map_err(|_| format!("spark.driver.cores={v}: not a number"))?,
    };
    Ok(DriverDescription {
        name: p.get("spark.app.name").cloned().unwrap_or_else(|| req.main_class.clone()),
        jar_url: req.app_resource.clone(),
        mem: memory + overhead,
        cores,
        supervise: p.get("spark.driver.supervise").is_some_and(|v| v.trim() == "true"),
        main_class: req.main_class.clone(),
        app_args: req.app_args.clone(),
        environment: req.environment_variables.clone(),
        conf: p.clone(),
        submission_id: id,
        submit_date: at,
        retry: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_ids_read_the_virtual_clock_as_a_date() {
        assert_eq!(driver_id(SimTime(0), 1), "driver-19700101000000-0001");
        assert_eq!(driver_id(SimTime(90_061_000_000), 12), "driver-19700102010101-0012");
    }

    #[test]
    fn memory_is_the_drivers_plus_overhead() {
        let mut req = CreateSubmissionRequest { main_class: "Pi".into(), ..Default::default() };
        let d = describe(&req, "d".into(), SimTime(0)).unwrap();
        assert_eq!((d.mem, d.cores, d.name.as_str(), d.supervise), (1024 + 384, 1.0, "Pi", false));
        req.spark_properties.insert("spark.driver.memory".into(), "8g".into());
        req.spark_properties.insert("spark.driver.supervise".into(), "true".into());
        let d = describe(&req, "d".into(), SimTime(0)).unwrap();
        assert_eq!((d.mem, d.supervise), (8192 + 819, true));
        req.spark_properties.insert("spark.driver.memoryOverhead".into(), "100".into());
        assert_eq!(describe(&req, "d".into(), SimTime(0)).unwrap().mem, 8292);
    }
}
