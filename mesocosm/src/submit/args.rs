//! Step 2: shell words → a [`SparkSubmit`], as spark-submit reads them.
//!
//! `SparkSubmitOptionParser` knows every option; `SparkSubmitArguments`
//! decides what each one does. Options come first; the first word that is
//! not an option is the application jar, and every word after it belongs to
//! the application. The shorthand options (`--executor-memory 2g`) become
//! conf keys, written over `--conf` ones, as `SparkSubmit.prepareSubmitEnvironment`
//! does. A real option that means nothing on Mesos is refused with the
//! reason, rather than ignored, so a scenario never teaches a no-op.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use super::{DEFAULT_MESOS_PORT, DEFAULT_ZK_PORT, SubmitError, tokenize};

/// Where the driver runs (`--deploy-mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeployMode {
    /// The driver runs inside spark-submit, on the submitting host.
    #[default]
    Client,
    /// spark-submit hands the driver to the MesosClusterDispatcher, which
    /// launches it as a Mesos task on some agent.
    Cluster,
}

impl DeployMode {
    pub(super) fn parse(s: &str) -> Result<DeployMode, String> {
        match s {
            "client" => Ok(DeployMode::Client),
            "cluster" => Ok(DeployMode::Cluster),
            _ => Err(format!("deploy mode must be `client` or `cluster`, not `{s}`")),
        }
    }
}

impl fmt::Display for DeployMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeployMode::Client => "client",
            DeployMode::Cluster => "cluster",
        })
    }
}

/// The `--master` URL. mesocosm simulates Mesos, so only Mesos URLs exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterUrl {
    /// `mesos://host:port`: one master, addressed directly.
    Mesos { host: String, port: u16 },
    /// `mesos://zk://h1:2181,h2:2181/mesos`: ask ZooKeeper who the leading
    /// master is (how HA Mesos clusters are used, and what the seed shows).
    MesosZk { servers: Vec<(String, u16)>, path: String },
}

/// Why a `--master` value is not a Mesos master URL mesocosm can use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MasterUrlError {
    /// Not `mesos://…` (`yarn`, `local[*]`, `spark://…`).
    #[error(
        "mesocosm simulates Mesos: --master must be mesos://host:port or \
         mesos://zk://host:port,…/path, not `{url}`"
    )]
    NotMesos { url: String },
    /// `mesos://zk://hosts` with no `/path`.
    #[error("`{url}` has no ZooKeeper path; write e.g. mesos://zk://zk-1:2181/mesos")]
    NoZkPath { url: String },
    /// A path that is only `/`, or has blanks.
    #[error("`{url}` has an empty or invalid ZooKeeper path `{path}`")]
    BadZkPath { url: String, path: String },
    /// `user:pass@` before the ZooKeeper hosts.
    #[error("`{url}`: ZooKeeper credentials (user:pass@) are not simulated")]
    ZkCredentials { url: String },
    /// A port that is not 1-65535.
    #[error("`{port}` in `{url}` is not a port number (1-65535)")]
    BadPort { url: String, port: String },
    /// `mesos://:5050`, or an empty entry in a ZooKeeper host list.
    #[error("`{url}` has an empty host name")]
    EmptyHost { url: String },
    /// A host name with a character DNS names do not have.
    #[error("host name `{host}` in `{url}` contains `{c}`")]
    BadHost { url: String, host: String, c: char },
}

impl MasterUrl {
    /// Parses a `--master` value.
    pub fn parse(s: &str) -> Result<MasterUrl, MasterUrlError> {
        let url = || s.to_string();
        let rest = s.strip_prefix("mesos://").ok_or_else(|| MasterUrlError::NotMesos { url: url() })?;
        if let Some(zk) = rest.strip_prefix("zk://") {
            let Some(slash) = zk.find('/') else {
                return Err(MasterUrlError::NoZkPath { url: url() });
            };
            let (hosts, path) = zk.split_at(slash);
            if path.len() < 2 || path.chars().any(char::is_whitespace) {
                return Err(MasterUrlError::BadZkPath { url: url(), path: path.to_string() });
            }
            if hosts.contains('@') {
                return Err(MasterUrlError::ZkCredentials { url: url() });
            }
            let servers = hosts.split(',').map(|h| host_port(h, DEFAULT_ZK_PORT, s)).collect::<Result<Vec<_>, _>>()?;
            return Ok(MasterUrl::MesosZk { servers, path: path.to_string() });
        }
        let (host, port) = host_port(rest, DEFAULT_MESOS_PORT, s)?;
        Ok(MasterUrl::Mesos { host, port })
    }
}

/// Parses `host[:port]`.
fn host_port(s: &str, default_port: u16, whole: &str) -> Result<(String, u16), MasterUrlError> {
    let url = || whole.to_string();
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => {
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| MasterUrlError::BadPort { url: url(), port: p.to_string() })?;
            (h, port)
        }
        None => (s, default_port),
    };
    if host.is_empty() {
        return Err(MasterUrlError::EmptyHost { url: url() });
    }
    if let Some(c) = host.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))) {
        return Err(MasterUrlError::BadHost { url: url(), host: host.to_string(), c });
    }
    Ok((host.to_string(), port))
}

impl fmt::Display for MasterUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MasterUrl::Mesos { host, port } => write!(f, "mesos://{host}:{port}"),
            MasterUrl::MesosZk { servers, path } => {
                write!(f, "mesos://zk://")?;
                for (i, (h, p)) in servers.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{h}:{p}")?;
                }
                write!(f, "{path}")
            }
        }
    }
}

/// A parsed spark-submit command line.
#[derive(Clone, Debug, PartialEq)]
pub struct SparkSubmit {
    pub master: MasterUrl,
    /// `--deploy-mode`, else `--conf spark.submit.deployMode`, else client.
    /// (`SparkConf::deploy_mode` also sees spark-defaults.conf.)
    pub deploy_mode: DeployMode,
    /// `--supervise`: the dispatcher relaunches a cluster-mode driver that fails.
    pub supervise: bool,
    /// `--class`: the main class.
    pub class: Option<String>,
    /// `--name`.
    pub name: Option<String>,
    /// Every `--conf`, overlaid with the conf keys of the shorthand options
    /// (`--name` → `spark.app.name`, `--master` → `spark.master`, …).
    pub conf: BTreeMap<String, String>,
    /// `--properties-file`: replaces spark-defaults.conf (Spark 3.x loads one or the other).
    pub properties_file: Option<String>,
    /// The application jar (or `.py` file).
    pub primary_resource: String,
    /// Everything after the jar, verbatim, even words starting with `--`.
    pub app_args: Vec<String>,
    /// `--verbose` / `-v`.
    pub verbose: bool,
}

/// Where the parts of a spark-submit line are, for pointing errors at them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubmitSpans {
    /// The `--master` value.
    pub master: Range<usize>,
    /// The primary resource (jar).
    pub primary_resource: Range<usize>,
    /// For each conf key, the word that (finally) set it: the value of a
    /// shorthand option or the `key=value` word of `--conf`.
    pub conf: BTreeMap<String, Range<usize>>,
    /// The `--properties-file` value, if given.
    pub properties_file: Option<Range<usize>>,
}

/// What an option does.
#[derive(Clone, Copy)]
enum Opt {
    Master,
    DeployMode,
    Class,
    Conf,
    PropertiesFile,
    /// A shorthand for one conf key.
    Shorthand(&'static str),
    Supervise,
    Verbose,
    /// A real spark-submit option that has no meaning here; the message says why.
    Rejected(&'static str),
}

/// spark-submit's options (`SparkSubmitOptionParser`), and what each becomes.
fn lookup(name: &str) -> Option<Opt> {
    const NOT_MESOS: &str = "applies only to YARN or Kubernetes, so spark-submit ignores it on Mesos; \
                             on Mesos cap executors with --total-executor-cores (spark.cores.max)";
    Some(match name {
        "--master" => Opt::Master,
        "--deploy-mode" => Opt::DeployMode,
        "--class" => Opt::Class,
        "--conf" | "-c" => Opt::Conf,
        "--properties-file" => Opt::PropertiesFile,
        "--name" => Opt::Shorthand("spark.app.name"),
        "--driver-memory" => Opt::Shorthand("spark.driver.memory"),
        "--driver-cores" => Opt::Shorthand("spark.driver.cores"),
        "--executor-memory" => Opt::Shorthand("spark.executor.memory"),
        "--total-executor-cores" => Opt::Shorthand("spark.cores.max"),
        "--executor-cores" => Opt::Shorthand("spark.executor.cores"),
        "--jars" => Opt::Shorthand("spark.jars"),
        "--files" => Opt::Shorthand("spark.files"),
        "--archives" => Opt::Shorthand("spark.archives"),
        "--py-files" => Opt::Shorthand("spark.submit.pyFiles"),
        "--packages" => Opt::Shorthand("spark.jars.packages"),
        "--exclude-packages" => Opt::Shorthand("spark.jars.excludes"),
        "--repositories" => Opt::Shorthand("spark.jars.repositories"),
        "--driver-java-options" => Opt::Shorthand("spark.driver.extraJavaOptions"),
        "--driver-library-path" => Opt::Shorthand("spark.driver.extraLibraryPath"),
        "--driver-class-path" => Opt::Shorthand("spark.driver.extraClassPath"),
        "--supervise" => Opt::Supervise,
        "--verbose" | "-v" => Opt::Verbose,
        "--num-executors" | "--queue" => Opt::Rejected(NOT_MESOS),
        "--principal" | "--keytab" | "--proxy-user" => {
            Opt::Rejected("configures Kerberos or impersonation, which mesocosm does not simulate")
        }
        "--kill" | "--status" => {
            Opt::Rejected("manages an existing cluster-mode submission; a scenario line submits an application")
        }
        "--help" | "-h" | "--version" | "--usage-error" => {
            Opt::Rejected("prints information and exits; a scenario line must submit an application")
        }
        _ => return None,
    })
}

/// Parses a spark-submit command line. See [`parse_spark_submit_with_spans`].
pub fn parse_spark_submit(line: &str) -> Result<SparkSubmit, SubmitError> {
    parse_spark_submit_with_spans(line).map(|(s, _)| s)
}

/// Parses a spark-submit command line, also returning where each part is.
///
/// Follows `SparkSubmitOptionParser`: both `--opt value` and `--opt=value`;
/// an option's value is the next word even if it starts with `-`; the first
/// word that is not an option is the application jar and everything after it
/// belongs to the application. Repeated options: the last one wins.
pub fn parse_spark_submit_with_spans(line: &str) -> Result<(SparkSubmit, SubmitSpans), SubmitError> {
    let tokens = tokenize(line)?;
    let end = line.len()..line.len();
    let Some(first) = tokens.first() else {
        return Err(SubmitError::at(
            line,
            end,
            "the submit line is empty; expected `spark-submit --master mesos://… app.jar`",
        ));
    };
    if !(first.text == "spark-submit" || first.text.ends_with("/spark-submit")) {
        return Err(SubmitError::at(
            line,
            first.span.clone(),
            format!("the command must be `spark-submit` (or a path ending in /spark-submit), not `{}`", first.text),
        ));
    }

    let mut spans = SubmitSpans::default();
    let mut master: Option<MasterUrl> = None;
    let mut deploy_mode: Option<(DeployMode, Range<usize>)> = None;
    let mut supervise = false;
    let mut verbose = false;
    let mut class = None;
    let mut name = None;
    let mut properties_file = None;
    let mut conf: BTreeMap<String, String> = BTreeMap::new();
    let mut shorthand: BTreeMap<&'static str, (String, Range<usize>)> = BTreeMap::new();
    let mut primary: Option<(String, Range<usize>)> = None;
    let mut app_args = Vec::new();

    let mut i = 1;
    while i < tokens.len() {
        let tok = &tokens[i];
        i += 1;
        if primary.is_some() {
            app_args.push(tok.text.clone());
            continue;
        }
        if !tok.text.starts_with('-') {
            primary = Some((tok.text.clone(), tok.span.clone()));
            continue;
        }
        // `--opt=value` (spark-submit's `(--[^=]+)=(.+)`).
        let (opt_name, inline) = match tok.text.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (tok.text.as_str(), None),
        };
        let Some(opt) = lookup(opt_name) else {
            return Err(SubmitError::at(line, tok.span.clone(), format!("unknown spark-submit option `{opt_name}`")));
        };
        let takes_value = !matches!(opt, Opt::Supervise | Opt::Verbose | Opt::Rejected(_));
        if let Opt::Rejected(why) = opt {
            return Err(SubmitError::at(line, tok.span.clone(), format!("spark-submit option `{opt_name}` {why}")));
        }
        if !takes_value {
            if inline.is_some() {
                return Err(SubmitError::at(
                    line,
                    tok.span.clone(),
                    format!("`{opt_name}` is a flag and takes no value"),
                ));
            }
            match opt {
                Opt::Supervise => supervise = true,
                _ => verbose = true,
            }
            continue;
        }
        let (value, vspan) = match inline {
            Some(v) => {
                // Point at the value part when the word was written plainly.
                let prefix = format!("{opt_name}=");
                let raw = line.get(tok.span.clone()).unwrap_or_default();
                let span = if raw.starts_with(&prefix) {
                    tok.span.start + prefix.len()..tok.span.end
                } else {
                    tok.span.clone()
                };
                if v.is_empty() {
                    return Err(SubmitError::at(line, tok.span.clone(), format!("`{opt_name}=` has an empty value")));
                }
                (v.to_string(), span)
            }
            None => match tokens.get(i) {
                Some(next) => {
                    i += 1;
                    (next.text.clone(), next.span.clone())
                }
                None => {
                    return Err(SubmitError::at(line, tok.span.clone(), format!("`{opt_name}` needs a value")));
                }
            },
        };
        match opt {
            Opt::Master => {
                master =
                    Some(MasterUrl::parse(&value).map_err(|m| SubmitError::at(line, vspan.clone(), m.to_string()))?);
                spans.master = vspan;
            }
            Opt::DeployMode => {
                let mode = DeployMode::parse(&value)
                    .map_err(|m| SubmitError::at(line, vspan.clone(), format!("--deploy-mode: {m}")))?;
                deploy_mode = Some((mode, vspan));
            }
            Opt::Class => class = Some(value),
            Opt::PropertiesFile => {
                properties_file = Some(value);
                spans.properties_file = Some(vspan);
            }
            Opt::Conf => {
                // Spark splits at the first `=` ("Spark config without '='").
                let Some((k, v)) = value.split_once('=') else {
                    return Err(SubmitError::at(line, vspan, format!("`--conf {value}` needs key=value")));
                };
                if k.trim().is_empty() {
                    return Err(SubmitError::at(line, vspan, format!("`--conf {value}` has an empty key")));
                }
                conf.insert(k.to_string(), v.to_string());
                spans.conf.insert(k.to_string(), vspan);
            }
            Opt::Shorthand(key) => {
                if key == "spark.app.name" {
                    name = Some(value.clone());
                }
                shorthand.insert(key, (value, vspan));
            }
            Opt::Supervise | Opt::Verbose | Opt::Rejected(_) => {}
        }
    }

    let Some(master) = master else {
        return Err(SubmitError::at(
            line,
            first.span.clone(),
            "spark-submit needs --master mesos://host:5050 (or mesos://zk://…/mesos)",
        ));
    };
    let Some((primary_resource, primary_span)) = primary else {
        return Err(SubmitError::at(
            line,
            end,
            "missing the application jar: spark-submit needs `<app jar | python file> [app arguments]` after its options",
        ));
    };

    // `--deploy-mode` wins over `--conf spark.submit.deployMode`, which Spark
    // reads when the option is absent (`SparkSubmitArguments.loadEnvironmentArguments`).
    if deploy_mode.is_none()
        && let Some(v) = conf.get("spark.submit.deployMode")
    {
        let span = spans.conf.get("spark.submit.deployMode").cloned().unwrap_or_default();
        let mode = DeployMode::parse(v)
            .map_err(|m| SubmitError::at(line, span.clone(), format!("spark.submit.deployMode: {m}")))?;
        deploy_mode = Some((mode, span));
    }
    // Shorthand options are applied after `--conf`, so they win.
    for (key, (value, span)) in shorthand {
        conf.insert(key.to_string(), value);
        spans.conf.insert(key.to_string(), span);
    }
    conf.insert("spark.master".into(), master.to_string());
    spans.conf.insert("spark.master".into(), spans.master.clone());
    if let Some((mode, span)) = &deploy_mode {
        conf.insert("spark.submit.deployMode".into(), mode.to_string());
        spans.conf.insert("spark.submit.deployMode".into(), span.clone());
    }
    if supervise {
        conf.insert("spark.driver.supervise".into(), "true".into());
    }
    spans.primary_resource = primary_span;

    Ok((
        SparkSubmit {
            master,
            deploy_mode: deploy_mode.map(|(m, _)| m).unwrap_or_default(),
            supervise,
            class,
            name,
            conf,
            properties_file,
            primary_resource,
            app_args,
            verbose,
        },
        spans,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_urls() {
        assert_eq!(
            MasterUrl::parse("mesos://zk://zookeeper-001:2181,zookeeper-002:2181,zookeeper-003/mesos").unwrap(),
            MasterUrl::MesosZk {
                servers: vec![
                    ("zookeeper-001".into(), 2181),
                    ("zookeeper-002".into(), 2181),
                    ("zookeeper-003".into(), 2181)
                ],
                path: "/mesos".into()
            }
        );
        assert_eq!(MasterUrl::parse("mesos://m").unwrap().to_string(), "mesos://m:5050");
        for bad in [
            "yarn",
            "local[*]",
            "spark://m:7077",
            "mesos://",
            "mesos://m:x",
            "mesos://m:0",
            "mesos://zk://h:2181",
            "mesos://zk://h/",
            "mesos://a b:5050",
        ] {
            assert!(MasterUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            MasterUrl::parse("yarn").unwrap_err().to_string(),
            "mesocosm simulates Mesos: --master must be mesos://host:port or mesos://zk://host:port,…/path, not `yarn`"
        );
        assert_eq!(
            MasterUrl::parse("mesos://zk://a:2181,b!:2181/mesos"),
            Err(MasterUrlError::BadHost { url: "mesos://zk://a:2181,b!:2181/mesos".into(), host: "b!".into(), c: '!' })
        );
        assert_eq!(
            MasterUrl::parse("mesos://m:x").unwrap_err().to_string(),
            "`x` in `mesos://m:x` is not a port number (1-65535)"
        );
    }

    #[test]
    fn options_and_args() {
        let s = parse_spark_submit(
            "/opt/spark/bin/spark-submit --master=mesos://m:5050 --deploy-mode cluster --supervise -v \
             --class a.B --name n --conf k=v=w -c spark.x=1 app.jar --foo -v bar",
        )
        .unwrap();
        assert_eq!(s.deploy_mode, DeployMode::Cluster);
        assert!(s.supervise && s.verbose);
        assert_eq!(s.class.as_deref(), Some("a.B"));
        assert_eq!(s.name.as_deref(), Some("n"));
        assert_eq!(s.conf["k"], "v=w");
        assert_eq!(s.conf["spark.x"], "1");
        assert_eq!(s.conf["spark.app.name"], "n");
        assert_eq!(s.conf["spark.master"], "mesos://m:5050");
        assert_eq!(s.conf["spark.submit.deployMode"], "cluster");
        assert_eq!(s.conf["spark.driver.supervise"], "true");
        assert_eq!(s.primary_resource, "app.jar");
        assert_eq!(s.app_args, ["--foo", "-v", "bar"]);
    }

    #[test]
    fn submit_errors_point_at_tokens() {
        let line = "spark-submit --master mesos://m:5050 --foo app.jar";
        let e = parse_spark_submit(line).unwrap_err();
        assert_eq!(e.message, "unknown spark-submit option `--foo`");
        assert_eq!((e.offset, e.token.as_str()), (37, "--foo"));

        let e = parse_spark_submit("spark-submit --master yarn app.jar").unwrap_err();
        assert_eq!(e.token, "yarn");
        let e = parse_spark_submit("spark-submit --master=local[*] app.jar").unwrap_err();
        assert_eq!(e.token, "local[*]");
        let e = parse_spark_submit("spark-submit --master mesos://m:5050").unwrap_err();
        assert!(e.message.contains("missing the application jar"));
        let e = parse_spark_submit("spark-submit app.jar").unwrap_err();
        assert!(e.message.contains("--master"));
        let e = parse_spark_submit("spark-submit --master mesos://m --conf novalue app.jar").unwrap_err();
        assert!(e.message.contains("key=value") && e.token == "novalue");
        let e = parse_spark_submit("spark-submit --master mesos://m --class").unwrap_err();
        assert!(e.message.contains("needs a value"));
        let e = parse_spark_submit("spark-shell --master mesos://m app.jar").unwrap_err();
        assert_eq!(e.offset, 0);
        let e = parse_spark_submit("spark-submit --master mesos://m --num-executors 4 a.jar").unwrap_err();
        assert!(e.message.contains("YARN"));
        let e = parse_spark_submit("spark-submit --master mesos://m --supervise=true a.jar").unwrap_err();
        assert!(e.message.contains("flag"));
        let e = parse_spark_submit("spark-submit --master mesos://m --deploy-mode server a.jar").unwrap_err();
        assert_eq!(e.token, "server");
        assert!(parse_spark_submit("").is_err());
    }
}
