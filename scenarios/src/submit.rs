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

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use crate::units::{self, SizeUnit, TimeUnit};

/// The default port of a Mesos master (`--port`), used when the URL omits it.
pub const DEFAULT_MESOS_PORT: u16 = 5050;
/// The default ZooKeeper client port.
pub const DEFAULT_ZK_PORT: u16 = 2181;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A problem with a spark-submit line, located at the offending token.
#[derive(Clone, Debug, PartialEq, Eq)]
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

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SubmitError {}

// ---------------------------------------------------------------------------
// Step 1: shell words
// ---------------------------------------------------------------------------

/// One shell word: its text after quote removal, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    /// Byte range in the line, from the first to one past the last character
    /// of the word as written (quotes included).
    pub span: Range<usize>,
}

/// Splits a command line into words like a POSIX shell (no expansions):
///
/// * unquoted spaces, tabs and newlines separate words, so the seed's
///   multi-line form (one option per line) works with or without `\`;
/// * `\` followed by a newline is removed (line continuation); before any
///   other character it makes that character literal;
/// * `'…'` is literal; `"…"` is literal except for `\"`, `\\`, `\$`, `` \` ``
///   and `\`-newline;
/// * `#` starts a comment only at the start of a word, so `a#b` is one word;
/// * unquoted `|`, `&`, `;`, `<`, `>`, `(`, `)` are errors: they are shell
///   operators, and a scenario runs exactly one spark-submit command. (This
///   also catches placeholders like `<MAIN_CLASS>` pasted from documentation.)
pub fn tokenize(line: &str) -> Result<Vec<Token>, SubmitError> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    // The word being built: (text, start offset).
    let mut word: Option<(String, usize)> = None;
    let finish = |word: &mut Option<(String, usize)>, end: usize, tokens: &mut Vec<Token>| {
        if let Some((text, start)) = word.take() {
            tokens.push(Token { text, span: start..end });
        }
    };
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => finish(&mut word, i, &mut tokens),
            '\\' => match chars.peek().copied() {
                Some((_, '\n')) => {
                    chars.next();
                }
                Some((j, '\r')) if line[j + 1..].starts_with('\n') => {
                    chars.next();
                    chars.next();
                }
                Some((_, n)) => {
                    word.get_or_insert_with(|| (String::new(), i)).0.push(n);
                    chars.next();
                }
                None => word.get_or_insert_with(|| (String::new(), i)).0.push('\\'),
            },
            '\'' => {
                let buf = &mut word.get_or_insert_with(|| (String::new(), i)).0;
                let mut closed = false;
                for (_, q) in chars.by_ref() {
                    if q == '\'' {
                        closed = true;
                        break;
                    }
                    buf.push(q);
                }
                if !closed {
                    return Err(SubmitError::at(
                        line,
                        i..line.len(),
                        format!("unterminated single quote: the `'` at byte {i} is never closed"),
                    ));
                }
            }
            '"' => {
                let buf = &mut word.get_or_insert_with(|| (String::new(), i)).0;
                let mut closed = false;
                while let Some((_, q)) = chars.next() {
                    match q {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.peek().copied() {
                            Some((_, e @ ('"' | '\\' | '$' | '`'))) => {
                                buf.push(e);
                                chars.next();
                            }
                            Some((_, '\n')) => {
                                chars.next();
                            }
                            _ => buf.push('\\'),
                        },
                        _ => buf.push(q),
                    }
                }
                if !closed {
                    return Err(SubmitError::at(
                        line,
                        i..line.len(),
                        format!("unterminated double quote: the `\"` at byte {i} is never closed"),
                    ));
                }
            }
            '#' if word.is_none() => {
                while let Some((_, n)) = chars.peek() {
                    if *n == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            '|' | '&' | ';' | '<' | '>' | '(' | ')' => {
                return Err(SubmitError::at(
                    line,
                    i..i + 1,
                    format!(
                        "unquoted `{c}` is a shell operator; a scenario runs one spark-submit \
                         command (quote it if it is part of an argument)"
                    ),
                ));
            }
            _ => word.get_or_insert_with(|| (String::new(), i)).0.push(c),
        }
    }
    finish(&mut word, line.len(), &mut tokens);
    Ok(tokens)
}

// ---------------------------------------------------------------------------
// Step 2: spark-submit's arguments
// ---------------------------------------------------------------------------

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
    fn parse(s: &str) -> Result<DeployMode, String> {
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

impl MasterUrl {
    /// Parses a `--master` value.
    pub fn parse(s: &str) -> Result<MasterUrl, String> {
        let not_mesos = || {
            format!(
                "mesocosm simulates Mesos: --master must be mesos://host:port or \
                 mesos://zk://host:port,…/path, not `{s}`"
            )
        };
        let rest = s.strip_prefix("mesos://").ok_or_else(not_mesos)?;
        if let Some(zk) = rest.strip_prefix("zk://") {
            let Some(slash) = zk.find('/') else {
                return Err(format!("`{s}` has no ZooKeeper path; write e.g. mesos://zk://zk-1:2181/mesos"));
            };
            let (hosts, path) = zk.split_at(slash);
            if path.len() < 2 || path.chars().any(char::is_whitespace) {
                return Err(format!("`{s}` has an empty or invalid ZooKeeper path `{path}`"));
            }
            if hosts.contains('@') {
                return Err(format!("`{s}`: ZooKeeper credentials (user:pass@) are not simulated"));
            }
            let servers = hosts.split(',').map(|h| host_port(h, DEFAULT_ZK_PORT, s)).collect::<Result<Vec<_>, _>>()?;
            return Ok(MasterUrl::MesosZk { servers, path: path.to_string() });
        }
        let (host, port) = host_port(rest, DEFAULT_MESOS_PORT, s)?;
        Ok(MasterUrl::Mesos { host, port })
    }
}

/// Parses `host[:port]`.
fn host_port(s: &str, default_port: u16, whole: &str) -> Result<(String, u16), String> {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => {
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("`{p}` in `{whole}` is not a port number (1-65535)"))?;
            (h, port)
        }
        None => (s, default_port),
    };
    if host.is_empty() {
        return Err(format!("`{whole}` has an empty host name"));
    }
    if let Some(c) = host.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))) {
        return Err(format!("host name `{host}` in `{whole}` contains `{c}`"));
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
                master = Some(MasterUrl::parse(&value).map_err(|m| SubmitError::at(line, vspan.clone(), m))?);
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

// ---------------------------------------------------------------------------
// spark-defaults.conf
// ---------------------------------------------------------------------------

/// Parses a `spark-defaults.conf` (Java `Properties.load` syntax).
///
/// `key value`, `key=value` and `key: value`; lines whose first non-blank
/// character is `#` or `!` are comments; a line ending in an odd number of
/// `\` continues on the next; `\t`, `\n`, `\uXXXX` escapes. Values are
/// trimmed, as Spark's `Utils.getPropertiesFromFile` does. The last of a
/// repeated key wins. Errors carry the 1-based line number.
pub fn parse_properties(src: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    parse_properties_with_lines(src).map(|m| m.into_iter().map(|(k, (v, _))| (k, v)).collect())
}

/// [`parse_properties`], also giving the line each entry starts on.
pub fn parse_properties_with_lines(src: &str) -> Result<BTreeMap<String, (String, usize)>, (usize, String)> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = src.lines().collect();
    let mut n = 0;
    while n < lines.len() {
        let start_line = n + 1;
        let first = lines[n].trim_start_matches([' ', '\t', '\x0c']);
        n += 1;
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        // Join continuation lines (odd number of trailing backslashes).
        let mut logical = String::from(first);
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.get(n) {
                Some(next) => {
                    logical.push_str(next.trim_start_matches([' ', '\t', '\x0c']));
                    n += 1;
                }
                None => break,
            }
        }
        let (key, value) = split_property(&logical).map_err(|m| (start_line, m))?;
        if key.is_empty() {
            return Err((start_line, format!("`{}` has a value but no key", logical.trim())));
        }
        out.insert(key, (value.trim().to_string(), start_line));
    }
    Ok(out)
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Splits a logical line into an unescaped key and value.
fn split_property(line: &str) -> Result<(String, String), String> {
    let mut chars = line.chars().peekable();
    let mut key = String::new();
    // Key: up to the first unescaped `=`, `:` or blank.
    let mut sep_seen = false;
    while let Some(&c) = chars.peek() {
        match c {
            '\\' => {
                chars.next();
                key.push(unescape(&mut chars)?);
            }
            '=' | ':' => {
                chars.next();
                sep_seen = true;
                break;
            }
            ' ' | '\t' | '\x0c' => break,
            _ => {
                key.push(c);
                chars.next();
            }
        }
    }
    // Blanks, then at most one `=` or `:` (if not already consumed), then blanks.
    while chars.next_if(|c| matches!(c, ' ' | '\t' | '\x0c')).is_some() {}
    if !sep_seen && chars.next_if(|c| matches!(c, '=' | ':')).is_some() {
        while chars.next_if(|c| matches!(c, ' ' | '\t' | '\x0c')).is_some() {}
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' {
            value.push(unescape(&mut chars)?);
        } else {
            value.push(c);
        }
    }
    Ok((key, value))
}

/// The character after a `\` in a properties file.
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, String> {
    Ok(match chars.next() {
        Some('t') => '\t',
        Some('n') => '\n',
        Some('r') => '\r',
        Some('f') => '\x0c',
        Some('u') => {
            let hex: String = chars.by_ref().take(4).collect();
            (hex.len() == 4)
                .then(|| u32::from_str_radix(&hex, 16).ok())
                .flatten()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("malformed \\uXXXX escape `\\u{hex}`"))?
        }
        Some(c) => c,
        None => '\\',
    })
}

// ---------------------------------------------------------------------------
// Step 3: SparkConf
// ---------------------------------------------------------------------------

/// The effective Spark configuration of one application: every `spark.*`
/// key, after spark-submit's precedence rules. Iterates in key order, which
/// is also the order the driver sends them in `SparkAppConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SparkConf(pub BTreeMap<String, String>);

impl SparkConf {
    /// Merges `defaults` (spark-defaults.conf or `--properties-file`) under
    /// the command line, then fills in what spark-submit always sets:
    /// `spark.app.name` (`--name`, else `spark.app.name`, else the main class,
    /// else the jar's file name: `SparkSubmitArguments` does exactly this) and
    /// `spark.submit.deployMode` (default `client`).
    pub fn resolve(defaults: &BTreeMap<String, String>, submit: &SparkSubmit) -> SparkConf {
        let mut conf: BTreeMap<String, String> =
            defaults.iter().filter(|(k, _)| k.starts_with("spark.")).map(|(k, v)| (k.clone(), v.clone())).collect();
        for (k, v) in &submit.conf {
            if k.starts_with("spark.") {
                conf.insert(k.clone(), v.clone());
            }
        }
        if !conf.contains_key("spark.app.name") {
            let name = match &submit.class {
                Some(class) => class.clone(),
                None => submit.primary_resource.rsplit('/').next().unwrap_or_default().to_string(),
            };
            conf.insert("spark.app.name".into(), name);
        }
        conf.entry("spark.submit.deployMode".into()).or_insert_with(|| DeployMode::Client.to_string());
        // In cluster mode spark-submit always writes `spark.driver.supervise`
        // from the flag (an `OptionAssigner` for STANDALONE | MESOS, CLUSTER),
        // overriding any file or --conf value.
        if conf.get("spark.submit.deployMode").map(String::as_str) == Some("cluster") {
            conf.insert("spark.driver.supervise".into(), submit.supervise.to_string());
        }
        SparkConf(conf)
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn typed<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<Option<T>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse(v).map(Some).map_err(|e| format!("{key}={v}: {e}")),
        }
    }

    /// A size in MiB (`bytesConf(ByteUnit.MiB)`: `512m`, `2g`, bare = MiB).
    pub fn size_mib(&self, key: &str, default_mib: u64) -> Result<u64, String> {
        Ok(self.typed(key, |v| units::spark_size_mib(v, SizeUnit::MiB))?.unwrap_or(default_mib))
    }

    /// A Spark time (`timeConf(default_unit)`: `120s`, `5min`, bare = `default_unit`).
    pub fn duration(&self, key: &str, default: Duration, default_unit: TimeUnit) -> Result<Duration, String> {
        Ok(self.typed(key, |v| units::spark_time(v, default_unit))?.unwrap_or(default))
    }

    /// A non-negative integer (`intConf`), or `default` when unset.
    pub fn u32(&self, key: &str, default: u32) -> Result<u32, String> {
        Ok(self.opt_u32(key)?.unwrap_or(default))
    }

    /// A non-negative integer (`intConf`), or `None` when unset
    /// (e.g. `spark.cores.max`: unset means "no limit").
    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>, String> {
        self.typed(key, |v| {
            let t = v.trim();
            t.strip_prefix('+')
                .unwrap_or(t)
                .parse::<u32>()
                .map_err(|_| "expected a non-negative whole number".to_string())
        })
    }

    /// A number (`doubleConf`), or `default` when unset.
    pub fn f64(&self, key: &str, default: f64) -> Result<f64, String> {
        Ok(self
            .typed(key, |v| {
                v.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| "expected a number".to_string())
            })?
            .unwrap_or(default))
    }

    /// A boolean (`booleanConf`: `true`/`false`, any case), or `default`.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, String> {
        Ok(self
            .typed(key, |v| match v.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err("expected true or false".to_string()),
            })?
            .unwrap_or(default))
    }

    /// The application's name (`spark.app.name`; always set by [`SparkConf::resolve`]).
    pub fn app_name(&self) -> &str {
        self.get("spark.app.name").unwrap_or_default()
    }

    /// The effective deploy mode (`spark.submit.deployMode`, default client).
    pub fn deploy_mode(&self) -> Result<DeployMode, String> {
        Ok(self.typed("spark.submit.deployMode", DeployMode::parse)?.unwrap_or_default())
    }
}

impl<'a> IntoIterator for &'a SparkConf {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        tokenize(line).unwrap().into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn shell_words() {
        assert_eq!(words("a  'b c' \"d \\\"e\\\"\" f\\ g"), ["a", "b c", "d \"e\"", "f g"]);
        assert_eq!(words("a \\\n  b"), ["a", "b"]);
        assert_eq!(words("a\\\nb"), ["ab"]);
        assert_eq!(words("x=\"1 2\"y a#b # comment\nc"), ["x=1 2y", "a#b", "c"]);
        assert_eq!(words("'it''s' \"\\n\""), ["its", "\\n"]);
        let t = tokenize("ab  'c d'").unwrap();
        assert_eq!(t[1].span, 4..9);
    }

    #[test]
    fn shell_errors() {
        let e = tokenize("a 'b c").unwrap_err();
        assert!(e.message.contains("unterminated single quote"), "{e}");
        assert_eq!(e.offset, 2);
        let e = tokenize("a \"b").unwrap_err();
        assert!(e.message.contains("unterminated double quote"));
        let e = tokenize("--class <MAIN_CLASS>").unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(tokenize("a | b").is_err());
    }

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
        assert!(
            MasterUrl::parse("yarn").unwrap_err().starts_with("mesocosm simulates Mesos: --master must be mesos://")
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

    #[test]
    fn properties() {
        let p = parse_properties(
            "# comment\n! also\n\nspark.a  1\nspark.b=2\nspark.c : 3 \n  spark.d\\\n   more\nspark.e\nspark\\ f=\\u0041\\t\nspark.a 9\n",
        )
        .unwrap();
        assert_eq!(p["spark.a"], "9");
        assert_eq!(p["spark.b"], "2");
        assert_eq!(p["spark.c"], "3");
        assert_eq!(p["spark.dmore"], "");
        assert_eq!(p["spark.e"], "");
        assert_eq!(p["spark f"], "A");
        assert_eq!(parse_properties("a\n= x\n").unwrap_err().0, 2);
        assert_eq!(parse_properties("a \\u12\n").unwrap_err().0, 1);
        let lines = parse_properties_with_lines("\n\nspark.x 1\n").unwrap();
        assert_eq!(lines["spark.x"], ("1".to_string(), 3));
    }

    #[test]
    fn conf_getters() {
        let s = parse_spark_submit(
            "spark-submit --master mesos://m --conf spark.cores.max=8 --conf spark.executor.memory=2g \
             --conf spark.mesos.rejectOfferDuration=2min --conf spark.speculation=TRUE \
             --conf spark.x=lots --conf spark.f=0.5 --class org.example.Main app.jar",
        )
        .unwrap();
        let c = SparkConf::resolve(&BTreeMap::new(), &s);
        assert_eq!(c.opt_u32("spark.cores.max"), Ok(Some(8)));
        assert_eq!(c.opt_u32("spark.executor.cores"), Ok(None));
        assert_eq!(c.u32("spark.task.cpus", 1), Ok(1));
        assert_eq!(c.size_mib("spark.executor.memory", 1024), Ok(2048));
        assert_eq!(c.size_mib("spark.driver.memory", 1024), Ok(1024));
        assert_eq!(
            c.duration("spark.mesos.rejectOfferDuration", Duration::from_secs(120), TimeUnit::Seconds),
            Ok(Duration::from_secs(120))
        );
        assert_eq!(c.bool("spark.speculation", false), Ok(true));
        assert_eq!(c.f64("spark.f", 0.0), Ok(0.5));
        let e = c.size_mib("spark.x", 1).unwrap_err();
        assert!(e.starts_with("spark.x=lots: "), "{e}");
        assert!(c.u32("spark.x", 1).is_err());
        assert!(c.bool("spark.x", true).is_err());
        assert_eq!(c.app_name(), "org.example.Main");
        assert_eq!(c.deploy_mode(), Ok(DeployMode::Client));
        let keys: Vec<&str> = c.iter().map(|(k, _)| k).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }
}
