//! A run as one self-contained HTML page: `mesocosm report FILE -o report.html`
//! (or `mesocosm run FILE --report report.html`).
//!
//! ```text
//!  [Record] + Outcome ──render──▶ <html>
//!                                 ├─ verdict::section   expectations and checks, then the summary
//!                                 ├─ sequence::section  SVG sequence diagram + decoded JSON per arrow
//!                                 ├─ offers::section    the offer cycles: who was offered what, and the answers
//!                                 └─ plots::section     cpus and mem offered/used/idle, DRF shares and
//!                                                       Spark tasks running over time; gantt: executors
//!                                                       per agent, Spark tasks on their executors
//! ```
//!
//! The page needs nothing but a browser: no network, no CDN, no framework. The
//! CSS and the little JavaScript (noise checkboxes, the time window, showing a
//! clicked message) are inlined below, and every picture is SVG written by the
//! Rust code of this module, so the file can be mailed, attached to a bug or
//! opened from a CI artefact years later and still show the same run.
//!
//! Every piece of run text (actor names, summaries, notes, scenario paths) goes
//! through [`esc`] before it is put into HTML or an attribute, and the decoded
//! messages go into a `<script type="application/json">` block through
//! [`script_json`], which cannot close the block early. A scenario may name its
//! actors anything; the page must still be the page we wrote.

mod gantt;
mod offers;
mod plots;
mod sequence;
mod verdict;

pub use verdict::{Judged, Outcome};

use super::records::Record;
use std::fmt::Write;

/// How many messages get their decoded JSON embedded (the first ones of the
/// run). A long Spark run has tens of thousands of messages; embedding them
/// all would make the page as large as the trace, so the page stays bounded
/// and says where it stopped.
pub const DECODED_CAP: usize = 5_000;

/// The page for a run's `records` (its whole JSONL trace) and how it went.
pub fn render(records: &[Record], report: &Outcome) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let title = format!("mesocosm: {}", report.scenario);
    let _ = writeln!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>",
        esc(&title),
        esc(&title)
    );
    verdict::section(&mut page, report);
    sequence::section(&mut page, records);
    offers::section(&mut page, records);
    plots::section(&mut page, records, report.ended_at);
    let _ = writeln!(page, "<script>{JS}</script>\n</body>\n</html>");
    page
}

/// `s` safe as HTML text and as a quoted attribute value.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON text safe inside `<script type="application/json">`: `<`, `>` and `&`
/// are written as `\u` escapes, which JSON reads back as the same characters
/// but HTML never sees as `</script>` or `<!--`.
pub fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// `t` microseconds as a short label (`12.345s`, millisecond precision).
pub(crate) fn secs(t: u64) -> String {
    format!("{}.{:03}s", t / 1_000_000, (t % 1_000_000) / 1_000)
}

const CSS: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; vertical-align: top; }
.pass { color: #176317; font-weight: bold; } .fail { color: #b00020; font-weight: bold; }
.verdict-pass { background: #e8f5e9; padding: .5em 1em; } .verdict-fail { background: #fdecea; padding: .5em 1em; }
.mono, pre { font-family: ui-monospace, monospace; font-size: 12px; }
.seqwrap { display: flex; gap: 1em; align-items: flex-start; }
.seqscroll { overflow: auto; max-height: 80vh; border: 1px solid #ccc; flex: 1 1 auto; }
.seqscroll svg { display: block; } #seq-head { position: sticky; top: 0; background: #fff; z-index: 1; }
#decoded { flex: 0 0 24em; position: sticky; top: 0; max-height: 80vh; overflow: auto; background: #f7f7f7; padding: .5em; white-space: pre-wrap; }
svg text { font: 11px system-ui, sans-serif; }
.row.fault text, .row.event text { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.row.msg { cursor: pointer; } .row.msg:hover line { stroke-width: 3; } .row.picked line { stroke-width: 4; }
.controls label { margin-right: 1em; } .controls input[type=number] { width: 6em; }
.note { color: #555; font-style: italic; }
"#;

const JS: &str = r#"
"use strict";
(function () {
  const svg = document.getElementById("seq");
  if (!svg) { return; }
  const rows = Array.from(svg.querySelectorAll("g.row"));
  const decoded = JSON.parse(document.getElementById("decoded-json").textContent);
  const top = Number(svg.dataset.top);
  // The same gap rule as the Rust layout (sequence.rs `gap`).
  function gap(dt) { return dt <= 0 ? 12 : 12 + Math.min(28, 5 * Math.log(1 + dt / 1000)); }
  function layout() {
    const hidden = new Set();
    document.querySelectorAll("input[data-noise]").forEach(function (c) {
      if (!c.checked) { hidden.add(c.dataset.noise); }
    });
    const from = parseFloat(document.getElementById("from").value);
    const to = parseFloat(document.getElementById("to").value);
    let y = top, prev = null, shown = 0;
    rows.forEach(function (g) {
      const t = Number(g.dataset.t);
      const noise = g.dataset.noise;
      const inWindow = (isNaN(from) || t >= from * 1e6) && (isNaN(to) || t <= to * 1e6);
      const visible = inWindow && !(noise && hidden.has(noise));
      g.style.display = visible ? "" : "none";
      if (!visible) { return; }
      y += prev === null ? 0 : gap(t - prev);
      prev = t;
      shown += 1;
      g.setAttribute("transform", "translate(0," + y.toFixed(1) + ")");
    });
    const height = y + 30;
    svg.setAttribute("height", height.toFixed(0));
    svg.querySelectorAll("line.lifeline").forEach(function (l) { l.setAttribute("y2", height.toFixed(0)); });
    document.getElementById("shown").textContent = String(shown);
  }
  document.querySelectorAll("input[data-noise], #from, #to").forEach(function (i) {
    i.addEventListener("change", layout);
    i.addEventListener("input", layout);
  });
  const panel = document.getElementById("decoded");
  rows.forEach(function (g) {
    if (!g.classList.contains("msg")) { return; }
    g.addEventListener("click", function () {
      svg.querySelectorAll("g.picked").forEach(function (p) { p.classList.remove("picked"); });
      g.classList.add("picked");
      const i = Number(g.dataset.i);
      const head = g.querySelector("title").textContent + "\n\n";
      panel.textContent = head + (i < decoded.length
        ? JSON.stringify(decoded[i], null, 2)
        : "(not embedded: only the first " + decoded.length + " messages carry their decoded JSON)");
    });
  });
  layout();
  document.body.dataset.ready = "yes";
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_open_tags_or_close_attributes_or_scripts() {
        assert_eq!(esc(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        let j = script_json(r#"{"s":"</script><!-- & "}"#);
        assert!(!j.contains('<') && !j.contains('&'), "{j}");
        let back: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(back["s"], "</script><!-- & ");
    }
}
