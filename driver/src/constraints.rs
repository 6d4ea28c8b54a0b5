//! `spark.mesos.constraints`: which agents' offers the app will use at all.
//!
//! Agents carry attributes (`--attributes=os:centos7;zone:us-east-1a`). A Spark
//! app can insist on some of them:
//!
//! ```text
//! spark.mesos.constraints = os:centos7;zone:us-east-1a,us-east-1b;gpu:
//!                           ───┬─────  ──────────┬────────────────  ─┬─
//!                   text must equal   one of these values    attribute merely present
//! ```
//!
//! Offers from agents that fail the constraints are declined *before* anything
//! else, with a long refuse filter (`rejectOfferDurationForUnmetConstraints`,
//! 120 s) so Mesos stops offering that agent to the app for a while. That is
//! also why a typo in a constraint shows up as "Initial job has not accepted
//! any resources": every offer is declined and the 120 s filter hides them.
//!
//! ```
//! use mesocosm_driver::constraints::parse;
//!
//! let c = parse("os:centos7;zone:us-east-1a,us-east-1b").unwrap();
//! assert_eq!((c[1].0.as_str(), c[1].1.len()), ("zone", 2));
//! assert!(parse("os;zone:us-east").is_err()); // `os` has no `:`
//! assert!(parse("").unwrap().is_empty());     // accepts every offer
//! ```

use mesocosm_sim::proto::v1::{Attribute, value};
use std::collections::BTreeSet;

/// Parsed constraints: attribute name → acceptable values (empty = presence
/// only), in the order written.
///
/// Why the order: `matchesAttributeRequirements` checks them with `forall`,
/// which stops at the first that fails, and only a checked constraint can
/// throw (see [`matches()`]). Scala's small immutable maps (up to 4 entries,
/// the common case) keep insertion order; a bigger one iterates in hash
/// order, which mesocosm does not reproduce.
pub type Constraints = Vec<(String, BTreeSet<String>)>;

/// `MesosSchedulerUtils.parseConstraintString`.
///
/// Why each rule: Spark uses Guava's
/// `Splitter.on(';').trimResults().withKeyValueSeparator(':')`, so every entry
/// (trimmed) must be exactly `key:value`, a repeated key is an error, and an
/// empty entry (`a:b;`) is malformed too. The value is split with Java's
/// `String.split(',')`, which drops trailing empty strings. Any failure is
/// `IllegalArgumentException("Bad constraint string: …")`, thrown while the
/// SparkContext is created, so the app never starts.
pub fn parse(raw: &str) -> Result<Constraints, String> {
    let bad = || format!("Bad constraint string: {raw}");
    let mut out = Constraints::new();
    if raw.is_empty() {
        return Ok(out);
    }
    for entry in raw.split(';').map(str::trim) {
        let mut parts = entry.split(':');
        let (Some(key), Some(val), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if out.iter().any(|(k, _)| k == key) {
            return Err(bad());
        }
        out.push((key.to_string(), java_split_comma(val).into_iter().collect()));
    }
    Ok(out)
}

/// Java's `s.split(",")`: like Rust's split, minus trailing empty strings.
fn java_split_comma(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut v: Vec<String> = s.split(',').map(str::to_string).collect();
    while v.last().is_some_and(String::is_empty) {
        v.pop();
    }
    v
}

/// `matchesAttributeRequirements(constraints, toAttributeMap(attributes))`:
/// does an offer with `attributes` satisfy every constraint? `Err` is the
/// exception Spark throws out of `resourceOffers` instead.
///
/// Per attribute type, as Spark 3.5's code does it with a real offer
/// (`MesosSchedulerUtils.scala`): missing → no; no required values → yes
/// (presence, checked before the type); SCALAR → some required value ≤ the
/// offered one, where `requiredValues.map(_.toDouble)` throws
/// `NumberFormatException` for a value that is not a number; SET → the
/// required values are a subset of the offered items; TEXT → the offered
/// text is one of the required values.
///
/// RANGES never matches and never fails quietly: `toAttributeMap` maps a
/// RANGES attribute to a `Value.Ranges`, but the match only has a case for
/// `Value.Range` (singular), so a constraint with values on a RANGES
/// attribute throws `scala.MatchError`. (Its comments describe the
/// intended "a required value inside an offered range", which the code
/// never reaches.) Constraints are checked in order and the first that
/// fails stops the check, so an earlier unmet constraint spares the throw.
pub fn matches(constraints: &Constraints, attributes: &[Attribute]) -> Result<bool, String> {
    for (name, required) in constraints {
        // `toAttributeMap` builds a Map, so a repeated name keeps the last one.
        let Some(attr) = attributes.iter().rev().find(|a| &a.name == name) else {
            return Ok(false);
        };
        if required.is_empty() {
            continue;
        }
        let holds = match value::Type::try_from(attr.r#type) {
            Ok(value::Type::Scalar) => {
                let offered = attr.scalar.as_ref().map_or(0.0, |s| s.value);
                let mut any = false;
                for r in required {
                    // `String.toDouble` (Java's `Double.parseDouble`) trims, then parses.
                    let v: f64 = r
                        .trim()
                        .parse()
                        .map_err(|_| format!("java.lang.NumberFormatException: For input string: \"{r}\""))?;
                    any |= v <= offered;
                }
                any
            }
            Ok(value::Type::Ranges) => {
                let ranges = attr.ranges.as_ref().map_or(&[][..], |r| r.range.as_slice());
                let text: Vec<String> =
                    ranges.iter().map(|r| format!("range {{ begin: {} end: {} }}", r.begin, r.end)).collect();
                return Err(format!(
                    "scala.MatchError: {} (of class org.apache.mesos.Protos$Value$Ranges)",
                    text.join(" ")
                ));
            }
            Ok(value::Type::Set) => {
                let items: BTreeSet<&str> =
                    attr.set.as_ref().map(|s| s.item.iter().map(String::as_str).collect()).unwrap_or_default();
                required.iter().all(|r| items.contains(r.as_str()))
            }
            Ok(value::Type::Text) => attr.text.as_ref().is_some_and(|t| required.contains(&t.value)),
            Err(_) => false,
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(name: &str, v: &str) -> Attribute {
        Attribute {
            name: name.into(),
            r#type: value::Type::Text as i32,
            text: Some(value::Text { value: v.into() }),
            ..Default::default()
        }
    }

    #[test]
    fn parse_follows_guava_and_java_split() {
        let c = parse("os:centos7; zone:us-east-1a,us-east-1b ;gpu:").unwrap();
        assert_eq!(c[0], ("os".to_string(), BTreeSet::from(["centos7".to_string()])));
        assert_eq!((c[1].0.as_str(), c[1].1.len()), ("zone", 2));
        assert_eq!((c[2].0.as_str(), c[2].1.is_empty()), ("gpu", true));
        assert_eq!(parse("a:x,y,,").unwrap()[0].1.len(), 2, "trailing empties dropped");
        for bad in ["os", "os;zone:x", "a:b;", "a:b:c", "a:1;a:2", " "] {
            assert_eq!(parse(bad), Err(format!("Bad constraint string: {bad}")), "{bad:?}");
        }
    }

    #[test]
    fn matching_per_attribute_type() {
        let scalar = Attribute {
            name: "mem".into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value: 8.0 }),
            ..Default::default()
        };
        let ranges = Attribute {
            name: "rack".into(),
            r#type: value::Type::Ranges as i32,
            ranges: Some(value::Ranges { range: vec![value::Range { begin: 10, end: 20 }] }),
            ..Default::default()
        };
        let set = Attribute {
            name: "disks".into(),
            r#type: value::Type::Set as i32,
            set: Some(value::Set { item: vec!["ssd".into(), "hdd".into()] }),
            ..Default::default()
        };
        let attrs = vec![text("os", "centos7"), scalar, ranges, set];
        let check = |s: &str| matches(&parse(s).unwrap(), &attrs);
        let ok = |s: &str| check(s).unwrap();
        assert!(ok(""));
        assert!(ok("os:centos7,ubuntu"));
        assert!(!ok("os:ubuntu"));
        assert!(ok("os:"), "presence");
        assert!(!ok("zone:"), "missing attribute");
        assert!(ok("mem:4") && ok("mem:8") && !ok("mem:9"));
        assert!(ok("disks:ssd") && ok("disks:ssd,hdd") && !ok("disks:nvme"));
        assert_eq!(check("mem:lots"), Err("java.lang.NumberFormatException: For input string: \"lots\"".into()));
        // RANGES: presence holds, any value throws, unless an earlier constraint failed.
        assert!(ok("rack:"));
        let thrown = "scala.MatchError: range { begin: 10 end: 20 } (of class org.apache.mesos.Protos$Value$Ranges)";
        assert_eq!(check("rack:15"), Err(thrown.into()));
        assert_eq!(check("os:centos7;rack:21"), Err(thrown.into()));
        assert_eq!(check("os:ubuntu;rack:15"), Ok(false));
    }
}
