//! The Mesos agent's `--resources` and `--attributes` flag syntax, as plain data.
//!
//! A real agent is started with something like
//!
//! ```text
//! mesos-agent --resources='cpus:4;mem:8192;disk:20000;ports:[31000-32000]' \
//!             --attributes='rack:r1;zone:us-east-1a'
//! ```
//!
//! and a scenario's `[[agents]]` table takes the very same strings, so that
//! what a student learns here carries over. This module turns them into
//! [`ResourceSpec`]s and [`AttributeSpec`]s; converting those into protobuf
//! `Resource`/`Attribute` messages is the proto layer's job (this crate knows
//! nothing about protobuf).
//!
//! # The grammar (Mesos `Resources::parse` / `Attributes::parse`)
//!
//! * Entries are separated by `;`; empty entries are skipped (as Mesos's
//!   `strings::tokenize` does), so a trailing `;` is harmless.
//! * Each entry is `name:value`, and for resources optionally
//!   `name(role):value`. Without a role the resource belongs to `*`, the
//!   default role that every framework can be offered.
//! * A resource value is a **scalar** (`4`, `0.5`), **ranges**
//!   (`[31000-32000]`, `[21000-24000,30000-34000]`) or a **set** (`{a,b}`).
//! * An attribute value is a scalar, ranges or **text** (`us-east-1a`:
//!   anything that is neither), the only three types Mesos's
//!   `Attributes::parse` (`src/common/attributes.cpp`) builds. A set is
//!   refused: given `{a,b}`, a real agent dies at start-up with
//!   `LOG(FATAL) << "Bad type for attribute …"`.
//!
//! # Policy choices
//!
//! * Resources listed twice under the same name and role are *added*, as
//!   Mesos adds `Resource` objects (`cpus:2;cpus:2` is 4 cpus). Ranges that
//!   overlap are rejected rather than silently coalesced: an agent offering
//!   port 31000 twice is always a typo.
//! * `cpus`, `mem`, `disk` and `gpus` must be scalars and `ports` must be
//!   ranges, because that is how the Mesos containerizer and every framework
//!   (Spark included) read them.
//! * Mesos takes `mem` and `disk` in MB; `mem:8GB` is an error here (with a
//!   hint) just as it is for the real agent.
//!
//! ```
//! use mesocosm::mesos_syntax::{parse_resources, ValueSpec};
//!
//! let r = parse_resources("cpus(spark):2; mem:1024; ports:[31000-32000]").unwrap();
//! assert_eq!((r[0].name.as_str(), r[0].role.as_str()), ("cpus", "spark"));
//! assert_eq!(r[2].value, ValueSpec::Ranges(vec![(31000, 32000)]));
//! assert!(parse_resources("cpus:four").is_err());
//! ```

use std::collections::BTreeMap;
use std::fmt;

/// The role of resources given without `(role)`.
pub const DEFAULT_ROLE: &str = "*";

/// One resource of an agent: `name(role):value`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSpec {
    pub name: String,
    pub role: String,
    pub value: ValueSpec,
}

/// The value of a resource.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueSpec {
    /// A quantity: cpus, MB of memory or disk, GPUs.
    Scalar(f64),
    /// Inclusive `(begin, end)` intervals, sorted and non-overlapping.
    Ranges(Vec<(u64, u64)>),
    /// Distinct items, in the order first given.
    Set(Vec<String>),
}

/// One attribute of an agent: `name:value`.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeSpec {
    pub name: String,
    pub value: AttrValue,
}

/// The value of an attribute; Spark's `spark.mesos.constraints` match on these.
///
/// Only the three types Mesos's `Attributes::parse` produces: a value that
/// reads as a number is SCALAR, `[a-b,c-d]` is RANGES, anything else TEXT.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    Scalar(f64),
    Ranges(Vec<(u64, u64)>),
    Text(String),
}

/// Resource names whose values the Mesos agent and frameworks treat as scalars.
const SCALAR_RESOURCES: &[&str] = &["cpus", "mem", "disk", "gpus"];

/// A value as written, before we know whether it is a resource or attribute.
enum RawValue {
    Scalar(f64),
    Ranges(Vec<(u64, u64)>),
    Set(Vec<String>),
    Text(String),
}

/// Parses an agent `--resources` string, e.g.
/// `cpus:4;mem:8192;disk:20000;ports:[31000-32000]`.
///
/// The result keeps the order in which each `name(role)` first appears.
pub fn parse_resources(s: &str) -> Result<Vec<ResourceSpec>, String> {
    let mut out: Vec<ResourceSpec> = Vec::new();
    // (name, role) → index in `out`, so many entries cost n log n, not n².
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    for entry in entries(s) {
        let (key, value_text) = split_entry(entry)?;
        let (name, role) = split_role(key, entry)?;
        let value = match parse_value(value_text, entry)? {
            RawValue::Scalar(v) => {
                if v < 0.0 {
                    return Err(format!("{name}: `{}` is negative", value_text.trim()));
                }
                if v > MAX_SCALAR {
                    return Err(format!(
                        "{name}: `{}` is more than the largest scalar, {MAX_SCALAR:e}",
                        value_text.trim()
                    ));
                }
                ValueSpec::Scalar(v)
            }
            RawValue::Ranges(r) => ValueSpec::Ranges(r),
            RawValue::Set(items) => ValueSpec::Set(items),
            RawValue::Text(t) => {
                let hint = if name == "mem" || name == "disk" {
                    " (Mesos takes mem and disk as a number of MB, e.g. mem:8192)"
                } else {
                    ""
                };
                return Err(format!("{name}: `{t}` is not a number{hint}"));
            }
        };
        check_kind(&name, &value)?;
        match index.get(&(name.clone(), role.clone())) {
            Some(&i) => merge(&mut out[i], value)?,
            None => {
                index.insert((name.clone(), role.clone()), out.len());
                out.push(ResourceSpec { name, role, value });
            }
        }
    }
    // Set items were collected with duplicates; keep the first of each, in order.
    for r in &mut out {
        if let ValueSpec::Set(items) = &mut r.value {
            dedup_in_order(items);
        }
    }
    for r in &mut out {
        if let ValueSpec::Ranges(ranges) = &mut r.value {
            *ranges = normalise_ranges(&r.name, std::mem::take(ranges))?;
        }
        check_size(&r.name, &r.value)?;
    }
    Ok(out)
}

/// Parses an agent `--attributes` string, e.g. `rack:r1;zone:us-east-1a;cores:8`.
///
/// A value is a scalar if it reads as a number, ranges if `[..]`, and text
/// otherwise; a set `{..}` is refused, as the Mesos agent aborts on one.
/// Like Mesos, a name may repeat.
pub fn parse_attributes(s: &str) -> Result<Vec<AttributeSpec>, String> {
    let mut out = Vec::new();
    for entry in entries(s) {
        let (key, value_text) = split_entry(entry)?;
        let name = key.trim();
        check_name(name, entry, "attribute")?;
        let value = match parse_value(value_text, entry)? {
            RawValue::Scalar(v) => AttrValue::Scalar(v),
            RawValue::Ranges(r) => {
                let r = normalise_ranges(name, r)?;
                check_len(name, r.len(), MAX_RANGES, "a ranges value", "ranges")?;
                AttrValue::Ranges(r)
            }
            RawValue::Set(_) => {
                // `Attributes::parse` has no SET case: `LOG(FATAL) << "Bad type
                // for attribute " << name << …` kills the agent at start-up.
                return Err(format!(
                    "attribute `{}`: a set is not an attribute value; Mesos takes a number (scalar), `[a-b,…]` (ranges) or text, and a real agent aborts at start-up on a set (\"Bad type for attribute {name}\")",
                    entry.trim()
                ));
            }
            RawValue::Text(t) => AttrValue::Text(t),
        };
        out.push(AttributeSpec { name: name.to_string(), value });
    }
    Ok(out)
}

/// Parses the master's `--weights` flag, e.g. `prod=3,dev=0.5`.
///
/// Mesos splits on `,` then `=` (`master.cpp` `Master::initialize` reads
/// `flags.weights`), validates each role like any role, and refuses a weight
/// that is not a positive number. A role may be named once.
pub fn parse_weights(s: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for entry in s.split(',').filter(|e| !e.trim().is_empty()) {
        let Some((role, weight)) = entry.split_once('=') else {
            return Err(format!("`{}` is missing the `=` between role and weight", entry.trim()));
        };
        let role = role.trim();
        check_role(role, "weights")?;
        if role == DEFAULT_ROLE {
            // Mesos refuses to weigh the default role: `*` is not a real role.
            return Err("the default role `*` cannot be given a weight".to_string());
        }
        let w: f64 = match weight.trim().parse() {
            Ok(w) if w > 0.0 && f64::is_finite(w) => w,
            _ => return Err(format!("weight `{}` of role `{role}` must be a positive number", weight.trim())),
        };
        if out.insert(role.to_string(), w).is_some() {
            return Err(format!("role `{role}` is weighted twice"));
        }
    }
    Ok(out)
}

/// The non-blank `;`-separated entries.
fn entries(s: &str) -> impl Iterator<Item = &str> {
    s.split(';').filter(|e| !e.trim().is_empty())
}

/// Splits `name:value`. Mesos tokenizes on `:` and wants exactly two parts,
/// so a value cannot contain `:` either.
fn split_entry(entry: &str) -> Result<(&str, &str), String> {
    let trimmed = entry.trim();
    let Some((key, value)) = trimmed.split_once(':') else {
        return Err(format!("`{trimmed}` is missing the `:` between name and value"));
    };
    if value.contains(':') {
        return Err(format!("`{trimmed}` has more than one `:`; write name:value (values cannot contain `:`)"));
    }
    if value.trim().is_empty() {
        return Err(format!("`{trimmed}` has no value after the `:`"));
    }
    Ok((key, value))
}

fn check_name(name: &str, entry: &str, what: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("`{}` has an empty {what} name", entry.trim()));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control() || "()[]{},".contains(*c)) {
        return Err(format!("{what} name `{name}` contains `{c}`"));
    }
    Ok(())
}

/// Splits `name(role)` into its parts; the role defaults to `*`.
fn split_role(key: &str, entry: &str) -> Result<(String, String), String> {
    let key = key.trim();
    let (name, role) = match key.find('(') {
        None => (key, DEFAULT_ROLE),
        Some(open) => {
            let Some(close) = key.rfind(')') else {
                return Err(format!("`{}` has a `(` without a matching `)`", entry.trim()));
            };
            if close < open || close != key.len() - 1 {
                return Err(format!("`{}` has mismatched parentheses; write name(role):value", entry.trim()));
            }
            (key[..open].trim(), key[open + 1..close].trim())
        }
    };
    if key.contains(')') && !key.contains('(') {
        return Err(format!("`{}` has a `)` without a matching `(`", entry.trim()));
    }
    check_name(name, entry, "resource")?;
    check_role(role, name)?;
    Ok((name.to_string(), role.to_string()))
}

/// Mesos's role rules (`roles::validate` in src/common/roles.cpp, with the
/// hierarchical roles of Mesos ≥ 1.3): not empty; no leading or trailing
/// `/` and no `//`; no path component that is `.` or `..` or starts with `-`;
/// no whitespace, DEL or other control characters. `*` is the default role
/// and only on its own; `\`, `(` and `)` would break the `name(role):value`
/// syntax, so they are refused too.
pub fn check_role(role: &str, name: &str) -> Result<(), String> {
    if role.is_empty() {
        return Err(format!("{name}: empty role in `()`; omit the parentheses for the default role `*`"));
    }
    if role == DEFAULT_ROLE {
        return Ok(());
    }
    if role.starts_with('/') || role.ends_with('/') || role.contains("//") {
        return Err(format!(
            "{name}: `{role}` is not a valid Mesos role (a role may not start or end with `/` or contain `//`)"
        ));
    }
    for part in role.split('/') {
        if part == "." || part == ".." || part.starts_with('-') {
            return Err(format!(
                "{name}: `{role}` is not a valid Mesos role (`{part}`: no part of a role may be `.` or `..` or start with `-`)"
            ));
        }
    }
    if role.contains('*') {
        return Err(format!("{name}: role `{role}` may not contain `*` (only the default role is `*`)"));
    }
    if let Some(c) = role.chars().find(|c| c.is_whitespace() || c.is_control() || "\\()".contains(*c)) {
        return Err(format!("{name}: role `{role}` contains {c:?}"));
    }
    Ok(())
}

/// The most items a set value may have (`{a,b,…}`): Mesos sets name things
/// like devices or disks, and every step of the simulated master and agents
/// compares whole sets, so a run's cost grows with them.
pub const MAX_SET_ITEMS: usize = 1_000;

/// The most ranges one ranges value may have (after merging): one per port
/// of a 16-bit port space.
pub const MAX_RANGES: usize = 65_536;

/// The largest scalar a resource may have (cpus, MB of memory or disk, gpus…).
/// Mesos keeps scalars as fixed-point thousandths in 64 bits (`Value::Scalar`
/// arithmetic in src/common/values.cpp), so a huge value cannot be held
/// exactly; a billion (a petabyte of memory) is far beyond any machine and
/// keeps the sum over the largest cluster (100,000 agents) exact.
pub const MAX_SCALAR: f64 = 1e9;

fn parse_value(text: &str, entry: &str) -> Result<RawValue, String> {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return Err(format!("`{t}` is missing its closing `]` (in `{}`)", entry.trim()));
        };
        return parse_ranges(inner, t).map(RawValue::Ranges);
    }
    if let Some(inner) = t.strip_prefix('{') {
        let Some(inner) = inner.strip_suffix('}') else {
            return Err(format!("`{t}` is missing its closing `}}` (in `{}`)", entry.trim()));
        };
        let mut items: Vec<String> = Vec::new();
        for item in inner.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!("`{t}` has an empty set item"));
            }
            items.push(item.to_string());
        }
        dedup_in_order(&mut items);
        return Ok(RawValue::Set(items));
    }
    if t.ends_with(']') || t.ends_with('}') {
        return Err(format!("`{t}` has a closing bracket but no opening one"));
    }
    // Only strings that look numeric are scalars: Rust's f64 parser would
    // also take `inf` and `NaN`, which are text to a human.
    let looks_numeric = t.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '.' || c == '-' || c == '+');
    if looks_numeric && let Ok(v) = t.parse::<f64>() {
        if v.is_finite() {
            return Ok(RawValue::Scalar(v));
        }
        return Err(format!("`{t}` is too large"));
    }
    Ok(RawValue::Text(t.to_string()))
}

fn parse_ranges(inner: &str, whole: &str) -> Result<Vec<(u64, u64)>, String> {
    if inner.trim().is_empty() {
        return Err(format!("`{whole}` is an empty range list; write e.g. [31000-32000]"));
    }
    let mut out = Vec::new();
    for item in inner.split(',') {
        let item = item.trim();
        let Some((a, b)) = item.split_once('-') else {
            return Err(format!("range `{item}` in `{whole}` must be begin-end, e.g. 31000-32000"));
        };
        let num = |x: &str| {
            x.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{}` in range `{item}` is not a non-negative integer", x.trim()))
        };
        let (a, b) = (num(a)?, num(b)?);
        if a > b {
            return Err(format!("range `{item}` in `{whole}` ends before it begins"));
        }
        out.push((a, b));
    }
    Ok(out)
}

fn check_kind(name: &str, value: &ValueSpec) -> Result<(), String> {
    let kind = match value {
        ValueSpec::Scalar(_) => "a scalar",
        ValueSpec::Ranges(_) => "ranges",
        ValueSpec::Set(_) => "a set",
    };
    if SCALAR_RESOURCES.contains(&name) && !matches!(value, ValueSpec::Scalar(_)) {
        return Err(format!("{name} must be a number, not {kind}"));
    }
    if name == "ports" && !matches!(value, ValueSpec::Ranges(_)) {
        return Err(format!("ports must be ranges like [31000-32000], not {kind}"));
    }
    Ok(())
}

/// Adds a repeated `name(role)` entry to the first one, as Mesos does.
fn merge(existing: &mut ResourceSpec, value: ValueSpec) -> Result<(), String> {
    let label = format!("{}({})", existing.name, existing.role);
    match (&mut existing.value, value) {
        (ValueSpec::Scalar(a), ValueSpec::Scalar(b)) => *a += b,
        (ValueSpec::Ranges(a), ValueSpec::Ranges(b)) => a.extend(b),
        // Deduplicated once all entries are in (`dedup_in_order`).
        (ValueSpec::Set(a), ValueSpec::Set(b)) => a.extend(b),
        (_, _) => {
            return Err(format!("{label} is given twice with different kinds of value (scalar, ranges, set)"));
        }
    }
    Ok(())
}

/// Refuses a set or ranges value larger than [`MAX_SET_ITEMS`] / [`MAX_RANGES`].
fn check_size(name: &str, value: &ValueSpec) -> Result<(), String> {
    match value {
        ValueSpec::Set(items) => check_len(name, items.len(), MAX_SET_ITEMS, "a set", "items"),
        ValueSpec::Ranges(r) => check_len(name, r.len(), MAX_RANGES, "a ranges value", "ranges"),
        ValueSpec::Scalar(_) => Ok(()),
    }
}

fn check_len(name: &str, len: usize, max: usize, what: &str, of: &str) -> Result<(), String> {
    if len > max { Err(format!("{name}: {what} has at most {max} {of}, this one {len}")) } else { Ok(()) }
}

/// Drops repeated items, keeping the first of each where it was (n log n).
fn dedup_in_order(items: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    items.retain(|i| seen.insert(i.clone()));
}

/// Sorts ranges, rejects overlaps and joins adjacent ones (`1-5,6-9` → `1-9`),
/// which is the canonical form Mesos keeps `Value::Ranges` in.
fn normalise_ranges(name: &str, mut ranges: Vec<(u64, u64)>) -> Result<Vec<(u64, u64)>, String> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1 => {
                return Err(format!("{name}: range [{a}-{b}] overlaps [{}-{}]", last.0, last.1));
            }
            Some(last) if last.1.checked_add(1) == Some(a) => last.1 = b,
            _ => out.push((a, b)),
        }
    }
    Ok(out)
}

fn fmt_ranges(f: &mut fmt::Formatter<'_>, ranges: &[(u64, u64)]) -> fmt::Result {
    write!(f, "[")?;
    for (i, (a, b)) in ranges.iter().enumerate() {
        if i > 0 {
            write!(f, ",")?;
        }
        write!(f, "{a}-{b}")?;
    }
    write!(f, "]")
}

impl fmt::Display for ValueSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSpec::Scalar(v) => write!(f, "{v}"),
            ValueSpec::Ranges(r) => fmt_ranges(f, r),
            ValueSpec::Set(items) => write!(f, "{{{}}}", items.join(",")),
        }
    }
}

impl fmt::Display for ResourceSpec {
    /// Back to the flag syntax: `cpus:4`, `cpus(spark):2`, `ports:[1-2]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.role == DEFAULT_ROLE {
            write!(f, "{}:{}", self.name, self.value)
        } else {
            write!(f, "{}({}):{}", self.name, self.role, self.value)
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Scalar(v) => write!(f, "{v}"),
            AttrValue::Ranges(r) => fmt_ranges(f, r),
            AttrValue::Text(t) => write!(f, "{t}"),
        }
    }
}

impl fmt::Display for AttributeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.value)
    }
}

/// Parses the master's `--recovery_agent_removal_limit`, e.g. `100%`, into
/// a fraction. Mesos requires the `%` and a number in [0, 100]
/// (`Master::initialize`).
pub fn parse_percentage(s: &str) -> Result<f64, String> {
    let Some(number) = s.trim().strip_suffix('%') else {
        return Err(format!("`{s}` is missing '%' (write e.g. `100%`)"));
    };
    let v: f64 = number.trim().parse().map_err(|_| format!("`{number}` is not a number"))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("`{s}` must be within [0%-100%]"));
    }
    Ok(v / 100.0)
}

/// A duration as Mesos writes it on the command line (`Duration::parse`):
/// a number and one of `ns`, `us`, `ms`, `secs`, `mins`, `hrs`, `days`,
/// `weeks`; mesocosm's own short units (`20m`, `30s`) are accepted too.
pub fn parse_mesos_duration(s: &str) -> Result<std::time::Duration, String> {
    const UNITS: &[(&str, f64)] = &[
        ("ns", 1e-9),
        ("us", 1e-6),
        ("ms", 1e-3),
        ("secs", 1.0),
        ("mins", 60.0),
        ("hrs", 3600.0),
        ("days", 86400.0),
        ("weeks", 604800.0),
    ];
    let t = s.trim();
    for (unit, secs) in UNITS {
        if let Some(n) = t.strip_suffix(unit)
            && let Ok(v) = n.parse::<f64>()
        {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("`{s}` is not a duration ≥ 0"));
            }
            return crate::units::parse_duration(&format!("{}us", (v * secs * 1e6).round()));
        }
    }
    crate::units::parse_duration(t)
}

/// Parses the master's `--agent_removal_rate_limit`, `<agents>/<duration>`
/// (e.g. `1/20mins`), into (permits, per duration), as Mesos's
/// `Master::initialize` does.
pub fn parse_rate_limit(s: &str) -> Result<(u32, std::time::Duration), String> {
    let format = "format is <number of agents>/<duration>, e.g. `1/20mins`";
    let Some((n, d)) = s.split_once('/') else { return Err(format!("`{s}`: {format}")) };
    let permits: u32 = n.trim().parse().map_err(|_| format!("`{s}`: {format}"))?;
    if permits == 0 {
        return Err(format!("`{s}`: the number of agents must be at least 1"));
    }
    let per = parse_mesos_duration(d)?;
    if per.is_zero() {
        return Err(format!("`{s}`: the duration must be more than 0"));
    }
    Ok((permits, per))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(name: &str, v: f64) -> ResourceSpec {
        ResourceSpec { name: name.into(), role: "*".into(), value: ValueSpec::Scalar(v) }
    }

    #[test]
    fn the_usual_agent() {
        let r = parse_resources("cpus:4;mem:8192;disk:20000;ports:[31000-32000]").unwrap();
        assert_eq!(
            r,
            vec![
                scalar("cpus", 4.0),
                scalar("mem", 8192.0),
                scalar("disk", 20000.0),
                ResourceSpec { name: "ports".into(), role: "*".into(), value: ValueSpec::Ranges(vec![(31000, 32000)]) },
            ]
        );
        let text: Vec<String> = r.iter().map(ToString::to_string).collect();
        assert_eq!(text.join(";"), "cpus:4;mem:8192;disk:20000;ports:[31000-32000]");
    }

    #[test]
    fn roles_sets_whitespace_and_multiple_ranges() {
        let r = parse_resources(" cpus(spark) : 2 ; ports:[21000-24000, 30000-34000];colours:{red, blue};").unwrap();
        assert_eq!(r[0].role, "spark");
        assert_eq!(r[0].value, ValueSpec::Scalar(2.0));
        assert_eq!(r[1].value, ValueSpec::Ranges(vec![(21000, 24000), (30000, 34000)]));
        assert_eq!(r[2].value, ValueSpec::Set(vec!["red".into(), "blue".into()]));
    }

    #[test]
    fn duplicates_add_up() {
        let r = parse_resources("cpus:2;cpus:1.5;cpus(spark):1;ports:[1-5];ports:[6-9]").unwrap();
        assert_eq!(r[0], scalar("cpus", 3.5));
        assert_eq!(r[1].role, "spark");
        assert_eq!(r[2].value, ValueSpec::Ranges(vec![(1, 9)]));
    }

    #[test]
    fn resource_errors_name_the_problem() {
        let cases = [
            ("cpus:four", "cpus: `four` is not a number"),
            ("mem:8GB", "MB"),
            (":4", "empty resource name"),
            ("cpus:-1", "negative"),
            ("ports:[5-1]", "ends before it begins"),
            ("ports:[1-5", "missing its closing `]`"),
            ("ports:[1-5];ports:[3-9]", "overlaps"),
            ("ports:[1-5,3-4]", "overlaps"),
            ("cpus", "missing the `:`"),
            ("cpus:", "no value"),
            ("cpus(:1", "without a matching `)`"),
            ("cpus():1", "empty role"),
            ("cpus:1;cpus:[1-2]", "cpus must be a number"),
            ("ports:7", "ports must be ranges"),
            ("ports:[a-b]", "not a non-negative integer"),
            ("ports:[]", "empty range list"),
            ("x:{a,,b}", "empty set item"),
            ("x:1;x:{a}", "different kinds"),
            ("cpus:1:2", "more than one `:`"),
            ("cpus:1e300", "more than the largest scalar"),
            ("cpus(..):1", "not a valid Mesos role"),
            ("cpus(a//b):1", "not a valid Mesos role"),
            ("cpus(/a):1", "not a valid Mesos role"),
            ("cpus(a/-b):1", "not a valid Mesos role"),
        ];
        for (input, want) in cases {
            let err = parse_resources(input).unwrap_err();
            assert!(err.contains(want), "{input}: {err}");
        }
    }

    #[test]
    fn sets_and_ranges_are_bounded() {
        let items = |n: usize| (0..n).map(|i| format!("i{i}")).collect::<Vec<_>>().join(",");
        assert!(parse_resources(&format!("x:{{{}}}", items(MAX_SET_ITEMS))).is_ok());
        let e = parse_resources(&format!("x:{{{}}}", items(MAX_SET_ITEMS + 1))).unwrap_err();
        assert!(e.contains("at most 1000 items"), "{e}");
        // Repeated items count once; adjacent ranges merge before counting.
        assert!(parse_resources(&format!("x:{{{}}};x:{{{}}}", items(800), items(800))).is_ok());
        let ranges = |n: u64, step: u64| (0..n).map(|i| format!("{}-{}", step * i, step * i)).collect::<Vec<_>>();
        assert!(parse_resources(&format!("ports:[{}]", ranges(100_000, 1).join(","))).is_ok());
        let e = parse_resources(&format!("ports:[{}]", ranges(MAX_RANGES as u64 + 1, 2).join(","))).unwrap_err();
        assert!(e.contains("at most 65536 ranges"), "{e}");
        assert!(parse_attributes(&format!("a:{{{}}}", items(MAX_SET_ITEMS + 1))).is_err());
    }

    #[test]
    fn attributes() {
        let a = parse_attributes("rack:r1;zone:us-east-1a;cores:8;ports:[1-10]").unwrap();
        assert_eq!(a[0].value, AttrValue::Text("r1".into()));
        assert_eq!(a[1].value, AttrValue::Text("us-east-1a".into()));
        assert_eq!(a[2].value, AttrValue::Scalar(8.0));
        assert_eq!(a[3].value, AttrValue::Ranges(vec![(1, 10)]));
        assert_eq!(
            parse_attributes("rack:r1;os:{linux,x86}").unwrap_err(),
            "attribute `os:{linux,x86}`: a set is not an attribute value; Mesos takes a number (scalar), `[a-b,…]` \
             (ranges) or text, and a real agent aborts at start-up on a set (\"Bad type for attribute os\")"
        );
        assert_eq!(a[1].to_string(), "zone:us-east-1a");
        assert!(parse_attributes("rack").unwrap_err().contains("missing the `:`"));
        assert!(parse_attributes(":r1").unwrap_err().contains("empty attribute name"));
        assert!(parse_attributes("r:[1-").is_err());
        assert_eq!(parse_attributes("").unwrap(), vec![]);
    }

    #[test]
    fn weights() {
        let w = parse_weights("prod=3, dev=0.5").unwrap();
        assert_eq!(w.into_iter().collect::<Vec<_>>(), vec![("dev".to_string(), 0.5), ("prod".to_string(), 3.0)]);
        assert!(parse_weights("").unwrap().is_empty());
        let cases = [
            ("prod", "missing the `=`"),
            ("prod=0", "positive number"),
            ("prod=-1", "positive number"),
            ("prod=x", "positive number"),
            ("*=2", "default role"),
            ("a=1,a=2", "weighted twice"),
            ("-a=1", "not a valid Mesos role"),
        ];
        for (input, want) in cases {
            let err = parse_weights(input).unwrap_err();
            assert!(err.contains(want), "{input}: {err}");
        }
    }

    #[test]
    fn removal_limits_parse_as_mesos_flags() {
        assert_eq!(parse_percentage("100%"), Ok(1.0));
        assert_eq!(parse_percentage("50%"), Ok(0.5));
        assert!(parse_percentage("50").unwrap_err().contains("missing '%'"));
        assert!(parse_percentage("150%").unwrap_err().contains("[0%-100%]"));
        assert_eq!(parse_rate_limit("1/20mins"), Ok((1, std::time::Duration::from_secs(1200))));
        assert_eq!(parse_rate_limit("2/3hrs"), Ok((2, std::time::Duration::from_secs(3 * 3600))));
        assert_eq!(parse_rate_limit("1/30s"), Ok((1, std::time::Duration::from_secs(30))));
        assert!(parse_rate_limit("20mins").unwrap_err().contains("format is"));
        assert!(parse_rate_limit("0/1mins").unwrap_err().contains("at least 1"));
        assert!(parse_rate_limit("1/0secs").unwrap_err().contains("more than 0"));
        assert_eq!(parse_mesos_duration("20secs"), Ok(std::time::Duration::from_secs(20)));
    }
}
