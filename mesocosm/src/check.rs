//! The checker core the scenario language shares: `Checker` (diagnostics at
//! a value's span, durations, host names, "exactly one of these keys", "only
//! these keys") and the `"1s"`-or-table shape `RawDurOrTable`.
//!
//! ```text
//!  scenario/  the file, [master], [[agents]], [[apps]], [[frameworks]] ──▶ script/, check.rs
//!  script/    [[faults]], [[expect]], the cast                        ──▶ check.rs
//!  check.rs   what both use                                            (names neither)
//! ```
//!
//! The file embeds the script, so `scenario` names `script`; this core is
//! below both, so the script never needs the scenario back.
//!
//! Each part of the language adds its own `impl Checker` block next to the
//! tables it reads; every problem becomes a [`Diagnostic`] at the offending
//! value and checking goes on, so a user sees every problem at once.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use crate::diag::{Diagnostic, Diagnostics};
use crate::registry::Registry;
use crate::units::{format_duration, parse_duration};

/// The longest duration the language accepts, for every key (`until`, `at`,
/// `restart_after`, task durations, latencies…): the longest run a world can
/// simulate. A longer duration could never elapse inside a run, and bounding
/// every duration keeps every sum of an instant and a duration far from overflow.
pub const MAX_DURATION: Duration = mesocosm_sim::MAX_VIRTUAL_TIME;

/// A scenario duration: [`parse_duration`] (whole microseconds) and at most
/// [`MAX_DURATION`].
pub fn scenario_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d > MAX_DURATION {
        return Err(format!(
            "`{}` is longer than {}, the longest run mesocosm can simulate (and so the longest duration it accepts)",
            s.trim(),
            format_duration(MAX_DURATION)
        ));
    }
    Ok(d)
}

/// The state of one check: the file's path and text (for positions), the
/// diagnostics found so far, how to read the files the scenario names, and
/// the registry of framework kinds and sorters.
///
/// The language's modules each add their own `impl Checker` block (the
/// scenario's sections, the Spark apps, the failure script); this file holds
/// only what they share.
pub(crate) struct Checker<'a> {
    pub(crate) path: &'a Path,
    pub(crate) src: &'a str,
    pub(crate) diags: Diagnostics,
    /// Problems that do not stop the run, shown on stderr before it.
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) read: &'a mut dyn FnMut(&Path) -> std::io::Result<String>,
    pub(crate) registry: &'a Registry,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(
        path: &'a Path,
        src: &'a str,
        read: &'a mut dyn FnMut(&Path) -> std::io::Result<String>,
        registry: &'a Registry,
    ) -> Checker<'a> {
        Checker { path, src, diags: Diagnostics::default(), warnings: Vec::new(), read, registry }
    }
}

impl Checker<'_> {
    pub(crate) fn error(&mut self, span: Range<usize>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::at_span(self.path, self.src, span, msg));
    }

    /// A problem at `span` that does not stop the run: the scenario carries it
    /// and the CLI prints it as `warning: file:line:col: …`.
    pub(crate) fn warning(&mut self, span: Range<usize>, msg: impl Into<String>) {
        self.warnings.push(Diagnostic::at_span(self.path, self.src, span, msg));
    }

    /// A duration value, or a diagnostic at it (and `None`).
    pub(crate) fn duration(&mut self, v: &Spanned<String>, key: &str) -> Option<Duration> {
        match scenario_duration(v.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(v.span(), format!("bad duration for `{key}`: {e}"));
                None
            }
        }
    }

    pub(crate) fn optional_duration(&mut self, v: &Option<Spanned<String>>, key: &str, default: Duration) -> Duration {
        v.as_ref().and_then(|v| self.duration(v, key)).unwrap_or(default)
    }

    /// Host names end up in URLs (`mesos://<master>:5050`) and in messages, so
    /// they are restricted to what a DNS label allows (plus `_` and `.`).
    pub(crate) fn host_name(&mut self, v: &Spanned<String>, what: &str) -> bool {
        let name = v.get_ref();
        let bad = if name.is_empty() {
            Some("is empty".to_string())
        } else {
            name.chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
                .map(|c| format!("contains `{c}`; use letters, digits, `-`, `.` and `_`"))
        };
        if let Some(why) = bad {
            self.error(v.span(), format!("{what} `{name}` {why}"));
            return false;
        }
        true
    }

    /// `<path>:<line>`, naming an expectation in the summary.
    pub(crate) fn label(&self, span: &Range<usize>) -> String {
        format!("{}:{}", self.path.display(), self.line_of(span))
    }

    /// `<file name>:<line>`, naming a fault rule. The file name only, not the
    /// path as typed: a rule's label enters the trace and seeds its
    /// `probability` generator, so `a.toml` and `/tmp/a.toml` must run the same
    /// scenario to the same digest.
    pub(crate) fn rule_label(&self, span: &Range<usize>) -> String {
        let file =
            self.path.file_name().map_or_else(|| self.path.display().to_string(), |f| f.to_string_lossy().into_owned());
        format!("{file}:{}", self.line_of(span))
    }

    pub(crate) fn line_of(&self, span: &Range<usize>) -> usize {
        self.src[..span.start.min(self.src.len())].matches('\n').count() + 1
    }

    /// The one key of `keys` (name, span if written) that is present, or a
    /// diagnostic: `none` at `span` if none is, `two(second)` at the second if more are.
    pub(crate) fn exactly_one(
        &mut self,
        keys: &[(&'static str, Option<Range<usize>>)],
        span: Range<usize>,
        none: &str,
        two: impl Fn(&str) -> String,
    ) -> Option<&'static str> {
        let mut present = keys.iter().filter_map(|(k, s)| s.clone().map(|s| (*k, s)));
        match (present.next(), present.next()) {
            (Some((k, _)), None) => Some(k),
            (None, _) => {
                self.error(span, none);
                None
            }
            (Some(_), Some((second, s))) => {
                self.error(s, two(second));
                None
            }
        }
    }

    /// Rejects every written key of `keys` that `what` does not take (never
    /// ignore a key: a misplaced one would silently do nothing). True if none.
    pub(crate) fn only_allowed(
        &mut self,
        keys: &[(&'static str, Option<Range<usize>>)],
        allowed: &[&str],
        what: &str,
    ) -> bool {
        let mut ok = true;
        for (key, s) in keys.iter().filter_map(|(k, s)| s.clone().map(|s| (*k, s))) {
            if !allowed.contains(&key) {
                self.error(s, format!("`{key}` does not apply to {what} (it takes: {})", allowed.join(", ")));
                ok = false;
            }
        }
        ok
    }

    pub(crate) fn opt_duration(&mut self, v: &Option<Spanned<String>>, key: &str) -> Option<Duration> {
        v.as_ref().and_then(|v| self.duration(v, key))
    }
}

/// `"200ms"` or `{ key = arg, … }`: the shape of `latency` and `duration`.
/// Which keys are allowed is a semantic check, so that an unknown key gets a
/// diagnostic at the key and the other checks still run.
pub(crate) enum RawDurOrTable {
    Str(String),
    Table(Vec<(Spanned<String>, Spanned<RawArg>)>),
}

/// A table entry's value: `"1s"` or `["1s", "2s"]`.
pub(crate) enum RawArg {
    Str(String),
    List(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawDurOrTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDurOrTable;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string like \"200ms\" or an inline table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawDurOrTable::Str(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    entries.push((key, map.next_value::<Spanned<RawArg>>()?));
                }
                Ok(RawDurOrTable::Table(entries))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawArg;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string or an array of duration strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawArg::Str(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    items.push(item);
                }
                Ok(RawArg::List(items))
            }
        }
        d.deserialize_any(V)
    }
}
