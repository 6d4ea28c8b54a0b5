//! Checking `[marathon]`: Marathon's apps as JSON app definitions, each in a
//! file (`json = "app.json"`, relative to the scenario) or inline
//! (`inline = '''{…}'''`). A problem inside a JSON file is reported at that
//! file's line and column; inside an inline string, at the scenario file's,
//! through the TOML string's quoting. Every message names the JSON path.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use super::FrameworkDecl;
use super::raw::RawMarathon;
use super::spark_apps::SubmitMapper;
use crate::check::Checker;
use crate::diag::Diagnostic;
use crate::frameworks::marathon::{MarathonSpec, NAME, app, json};

/// The warning for a `cmd` whose string holds raw line breaks (the seed's app JSON).
const CMD_LINES: &str = "the `cmd` string spans several lines: raw line breaks are not allowed inside a JSON \
     string, and Marathon's JSON parser refuses this app; mesocosm reads each line break and the indentation \
     after it as one space (one command line, as the author meant). Were the line breaks kept, `sh -c` would \
     run each line as a command of its own";
use crate::units::format_duration;

/// The most apps one Marathon may run in a scenario.
pub const MAX_MARATHON_APPS: usize = 1000;

/// The largest app definition file read (1 MiB; real ones are a few KiB).
const MAX_JSON_BYTES: usize = 1 << 20;

impl Checker<'_> {
    /// `[marathon]` → the framework `marathon`, or diagnostics.
    pub(super) fn marathon(
        &mut self,
        raw: &Spanned<RawMarathon>,
        until: Duration,
        others: &[FrameworkDecl],
    ) -> Option<FrameworkDecl> {
        let r = raw.get_ref();
        let at = self.optional_duration(&r.at, "at", Duration::ZERO);
        if at >= until
            && let Some(a) = &r.at
        {
            self.error(
                a.span(),
                format!(
                    "Marathon starts at {}, after the run stops at {}",
                    format_duration(at),
                    format_duration(until)
                ),
            );
        }
        if others.iter().any(|f| f.name == NAME) {
            self.error(raw.span(), "a [[frameworks]] table is already named `marathon`, the name Marathon runs under");
        }
        if r.apps.is_empty() {
            self.error(
                raw.span(),
                "[marathon] needs at least one [[marathon.apps]] (json = \"app.json\" or inline = '''{…}''')",
            );
        }
        if let Some(extra) = r.apps.get(MAX_MARATHON_APPS) {
            self.error(
                extra.span(),
                format!("Marathon may run at most {MAX_MARATHON_APPS} apps here; this is one more"),
            );
        }
        let before = self.diags.len();
        let mut apps: Vec<Arc<app::AppDefinition>> = Vec::new();
        for entry in &r.apps {
            let e = entry.get_ref();
            let read = match (&e.json, &e.inline) {
                (Some(file), None) => self.marathon_file(file),
                (None, Some(text)) => self.marathon_inline(text),
                _ => {
                    self.error(entry.span(), "give exactly one of `json` (a file) and `inline` (the JSON itself)");
                    None
                }
            };
            let Some((def, span)) = read else { continue };
            if let Some(other) = apps.iter().find(|a| a.id == def.id) {
                self.error(span, format!("two Marathon apps have the id `{}`", other.id));
                continue;
            }
            apps.push(Arc::new(def));
        }
        if self.diags.len() != before {
            return None;
        }
        Some(FrameworkDecl { kind: NAME.into(), name: NAME.into(), at, spec: Arc::new(MarathonSpec { apps }) })
    }

    /// An app from a JSON file; problems at the file's own lines.
    ///
    /// A `cmd` written over several lines is read as one command line, with
    /// a warning ([`CMD_LINES`]): the decision to run such a file as its
    /// author meant it, not as Marathon would (it would refuse it).
    fn marathon_file(&mut self, file: &Spanned<String>) -> Option<(app::AppDefinition, std::ops::Range<usize>)> {
        let path = self.path.parent().unwrap_or(Path::new("")).join(file.get_ref());
        let text = match (self.read)(&path) {
            Ok(t) if t.len() > MAX_JSON_BYTES => {
                self.error(file.span(), format!("`{}` is larger than {MAX_JSON_BYTES} bytes", path.display()));
                return None;
            }
            Ok(t) => t,
            Err(e) => {
                self.error(file.span(), format!("cannot read the Marathon app `{}`: {e}", path.display()));
                return None;
            }
        };
        let problems = match json::parse_app(&text) {
            Err(e) => vec![(e.at, format!("malformed JSON: {}", e.message))],
            Ok((v, cmd_break)) => {
                if let Some(at) = cmd_break {
                    self.warnings.push(Diagnostic::at_span(&path, &text, at, CMD_LINES));
                }
                match app::read_app(&v) {
                    Ok(def) => return Some((def, file.span())),
                    Err(p) => p,
                }
            }
        };
        for (span, msg) in problems {
            self.diags.push(Diagnostic::at_span(&path, &text, span, format!("Marathon app: {msg}")));
        }
        None
    }

    /// An app written inline; problems mapped back into the scenario file.
    fn marathon_inline(&mut self, text: &Spanned<String>) -> Option<(app::AppDefinition, std::ops::Range<usize>)> {
        let mapper = SubmitMapper::new(self.src, text.span(), text.get_ref());
        let problems = match json::parse_app(text.get_ref()) {
            Err(e) => vec![(e.at, format!("malformed JSON: {}", e.message))],
            Ok((v, cmd_break)) => {
                if let Some(at) = cmd_break {
                    self.warning(mapper.map(at), CMD_LINES);
                }
                match app::read_app(&v) {
                    Ok(def) => return Some((def, text.span())),
                    Err(p) => p,
                }
            }
        };
        for (span, msg) in problems {
            self.error(mapper.map(span), format!("Marathon app: {msg}"));
        }
        None
    }
}
