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
//! assert_eq!(c["zone"].len(), 2);
//! assert!(parse("os;zone:us-east").is_err()); // `os` has no `:`
//! assert!(parse("").unwrap().is_empty());     // accepts every offer
//! ```

use mesocosm_sim::proto::v1::{Attribute, value};
use std::collections::{BTreeMap, BTreeSet};

/// Parsed constraints: attribute name → acceptable values (empty = presence only).
pub type Constraints = BTreeMap<String, BTreeSet<String>>;

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
        if out.contains_key(key) {
            return Err(bad());
        }
        out.insert(key.to_string(), java_split_comma(val).into_iter().collect());
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

/// `matchesAttributeRequirements`: does an offer with `attributes` satisfy every constraint?
///
/// Per attribute type (reference §1.5): missing → no; no required values →
/// yes (presence); SCALAR → some required value ≤ the offered one; RANGES →
/// some required value inside an offered range; SET → the required values are
/// a subset of the offered items; TEXT → the offered text is one of the
/// required values.
///
/// mesocosm treats a required value that does not parse as a number (for a
/// SCALAR or RANGES attribute) as not matching; Spark would throw
/// `NumberFormatException` out of `resourceOffers`.
pub fn matches(constraints: &Constraints, attributes: &[Attribute]) -> bool {
    constraints.iter().all(|(name, required)| {
        // `toAttributeMap` builds a Map, so a repeated name keeps the last one.
        let Some(attr) = attributes.iter().rev().find(|a| &a.name == name) else {
            return false;
        };
        if required.is_empty() {
            return true;
        }
        match value::Type::try_from(attr.r#type) {
            Ok(value::Type::Scalar) => {
                let offered = attr.scalar.as_ref().map_or(0.0, |s| s.value);
                required.iter().filter_map(|r| r.trim().parse::<f64>().ok()).any(|r| r <= offered)
            }
            Ok(value::Type::Ranges) => {
                let ranges = attr.ranges.as_ref().map_or(&[][..], |r| r.range.as_slice());
                required
                    .iter()
                    .filter_map(|r| r.trim().parse::<u64>().ok())
                    .any(|r| ranges.iter().any(|rg| rg.begin <= r && r <= rg.end))
            }
            Ok(value::Type::Set) => {
                let items: BTreeSet<&str> =
                    attr.set.as_ref().map(|s| s.item.iter().map(String::as_str).collect()).unwrap_or_default();
                required.iter().all(|r| items.contains(r.as_str()))
            }
            Ok(value::Type::Text) => attr.text.as_ref().is_some_and(|t| required.contains(&t.value)),
            Err(_) => false,
        }
    })
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
        assert_eq!(c["os"], BTreeSet::from(["centos7".to_string()]));
        assert_eq!(c["zone"].len(), 2);
        assert!(c["gpu"].is_empty());
        assert_eq!(parse("a:x,y,,").unwrap()["a"].len(), 2, "trailing empties dropped");
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
        let ok = |s: &str| matches(&parse(s).unwrap(), &attrs);
        assert!(ok(""));
        assert!(ok("os:centos7,ubuntu"));
        assert!(!ok("os:ubuntu"));
        assert!(ok("os:"), "presence");
        assert!(!ok("zone:"), "missing attribute");
        assert!(ok("mem:4") && ok("mem:8") && !ok("mem:9"));
        assert!(ok("rack:15") && !ok("rack:21"));
        assert!(ok("disks:ssd") && ok("disks:ssd,hdd") && !ok("disks:nvme"));
        assert!(!ok("mem:lots"), "unparseable numbers never match");
    }
}
