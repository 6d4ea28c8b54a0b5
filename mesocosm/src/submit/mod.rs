//! The real `spark-submit` command line, and the `SparkConf` it produces.
//!
//! A scenario submits an application with the command a user would type:
//!
//! ```text
//! spark-submit --master mesos://zk://zk-1:2181,zk-2:2181/mesos \
//!   --deploy-mode cluster --supervise \
//!   --class org.apache.spark.examples.SparkPi \
//!   --conf spark.cores.max=4 \
//!   --conf spark.driver.extraJavaOptions="-Dconfig.file=/etc/app.conf" \
//!   app.jar 100
//! ```
//!
//! Three steps turn that text into the configuration a Spark driver runs with,
//! one function each:
//!
//! 1. [`tokenize`] splits the line into words like a POSIX shell would
//!    (quotes, backslashes, `\`-newline continuations), remembering where
//!    each word came from so errors can point at it.
//! 2. [`parse_spark_submit`] reads the words the way spark-submit's
//!    `SparkSubmitArguments` does: options first, then the application jar,
//!    then the application's own arguments, verbatim.
//! 3. [`SparkConf::resolve`] merges in `spark-defaults.conf` (parsed by
//!    [`parse_properties`]) with spark-submit's precedence rules.
//!
//! # Precedence, as in spark-submit
//!
//! From strongest to weakest:
//!
//! 1. shorthand options (`--executor-memory 2g` sets `spark.executor.memory`),
//! 2. `--conf key=value` (the last one of a key wins),
//! 3. the properties file (`--properties-file`, else `spark-defaults.conf`).
//!
//! Spark gets this order from `SparkSubmitArguments.mergeDefaultSparkProperties`
//! (file entries are added only when the key is missing) and from
//! `SparkSubmit.prepareSubmitEnvironment`, which writes the shorthand fields
//! into the conf *after* reading `--conf`. Keys not starting with `spark.` are
//! dropped, as spark-submit does ("Ignoring non-Spark config property").
//!
//! ```
//! use mesocosm::submit::{parse_spark_submit, MasterUrl};
//!
//! let s = parse_spark_submit(
//!     "spark-submit --master mesos://master:5050 --executor-memory 2g \
//!      --conf spark.executor.memory=1g app.jar 10",
//! ).unwrap();
//! assert_eq!(s.master, MasterUrl::Mesos { host: "master".into(), port: 5050 });
//! assert_eq!(s.conf["spark.executor.memory"], "2g"); // the shorthand wins
//! assert_eq!(s.app_args, vec!["10"]);
//! ```

//!
//! # Layout
//!
//! One file per representation, in the order the three steps use them:
//!
//! - `shell`: the line → shell words ([`Token`]), as a POSIX shell splits it.
//! - `args`: the words → [`SparkSubmit`] (with [`MasterUrl`] and
//!   [`DeployMode`]), as `SparkSubmitArguments` reads them, and [`SubmitSpans`]
//!   saying where each part was written.
//! - `properties`: `spark-defaults.conf` text → key/value pairs, as Java's
//!   `Properties.load` reads it.
//! - `conf`: the command line and the defaults merged into a [`SparkConf`],
//!   with typed getters whose value syntax is Spark's own
//!   (`mesocosm_driver::conf`: `JavaUtils.timeStringAs`/`byteStringAs`).
//!
//! Every step is pure: text in, values or a located [`SubmitError`] out.
//! Reading files is the scenario language's business.

use std::ops::Range;

mod args;
mod conf;
mod properties;
mod shell;

pub use args::{
    DeployMode, MasterUrl, MasterUrlError, SparkSubmit, SubmitSpans, parse_spark_submit, parse_spark_submit_with_spans,
};
pub use conf::SparkConf;
pub use properties::{PropertiesError, parse_properties, parse_properties_with_lines};
pub use shell::{Token, tokenize};

/// The default port of a Mesos master (`--port`), used when the URL omits it.
pub const DEFAULT_MESOS_PORT: u16 = 5050;
/// The default ZooKeeper client port.
pub const DEFAULT_ZK_PORT: u16 = 2181;

/// A problem with a spark-submit line, located at the offending token.
///
/// Why a struct and not one variant per problem: every caller does the same
/// thing with any of them (underline the token, print the sentence), so the
/// location is the type and the sentence is data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SubmitError {
    /// What is wrong.
    pub message: String,
    /// The offending token as written (quotes included), or "" at end of line.
    pub token: String,
    /// Byte offset of the token in the line given to the parser.
    pub offset: usize,
    /// Length in bytes of the token as written (0 at end of line).
    pub len: usize,
}

impl SubmitError {
    fn at(line: &str, span: Range<usize>, message: impl Into<String>) -> SubmitError {
        SubmitError {
            message: message.into(),
            token: line.get(span.clone()).unwrap_or_default().to_string(),
            offset: span.start,
            len: span.len(),
        }
    }

    /// The byte range of the offending token in the line.
    pub fn span(&self) -> Range<usize> {
        self.offset..self.offset + self.len
    }
}
