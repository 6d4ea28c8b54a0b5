//! The verdict, first: did the run hold what the scenario says, and then the numbers.
//!
//! The text summary prints the verdict last, where a terminal's output stops; a
//! learner opening a report wants the answer first. So this section leads with one
//! coloured line (passed / failed / stopped early), then every `[[expect]]`
//! with what was observed, then the invariant checks, and only then the
//! summary: each framework's lines, the master's offer counts, what each
//! fault did, and the message counts by kind (folded away, as `--stats` would).

use super::esc;
use std::fmt::Write;

/// What the page says about how the run went, filled in by the caller from
/// its report: `flow/` sits below the cluster library and names none of its
/// types, so the CLI hands the verdict over in these plain words.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The scenario's name.
    pub scenario: String,
    /// One line on the run itself: `seed 42, transport grpc, ended at 6.347746s`.
    pub run: String,
    /// When the run ended, in virtual microseconds (the plots' time axis).
    pub ended_at: u64,
    /// Why the run stopped before its end (then nothing was judged).
    pub failure: Option<String>,
    /// Every `[[expect]]`, held or not.
    pub expectations: Vec<Judged>,
    /// The checks that did not hold: (check, what).
    pub checks: Vec<(String, String)>,
    pub warnings: Vec<String>,
    /// The summary's lines: each framework's, the offers, the messages, the faults, the digest.
    pub summary: Vec<String>,
    /// Messages by (protobuf name, kind).
    pub by_kind: Vec<(String, String, u64)>,
}

/// One expectation and its verdict.
#[derive(Clone, Debug)]
pub struct Judged {
    /// Where it is written (`scenarios/x.toml:42`).
    pub label: String,
    pub text: String,
    pub held: bool,
    /// What was observed, in words.
    pub observed: String,
}

impl Outcome {
    /// Whether the run passed: it ran to its end and everything held.
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.checks.is_empty() && self.expectations.iter().all(|e| e.held)
    }
}

/// Write the verdict block and the summary.
pub(super) fn section(page: &mut String, report: &Outcome) {
    let passed = report.passed();
    let (class, headline) = match (&report.failure, passed) {
        (Some(f), _) => ("verdict-fail", format!("run FAILED: {f}; not judged")),
        (None, true) => ("verdict-pass", "PASSED: every expectation and every check held".to_string()),
        (None, false) => ("verdict-fail", "FAILED: see the expectations and checks below".to_string()),
    };
    let _ = writeln!(page, "<section id=\"verdict\">\n<h2>Verdict</h2>\n<p class=\"{class}\">{}</p>", esc(&headline));

    let _ = writeln!(page, "<h3>Expectations</h3>");
    if report.expectations.is_empty() {
        let _ =
            writeln!(page, "<p class=\"note\">The scenario has no <code>[[expect]]</code> (or it was not judged).</p>");
    } else {
        let _ = writeln!(
            page,
            "<table id=\"expectations\"><tr><th></th><th>where</th><th>expected</th><th>observed</th></tr>"
        );
        for e in &report.expectations {
            let _ = writeln!(
                page,
                "<tr class=\"expect\"><td class=\"{}\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
                if e.held { "pass" } else { "fail" },
                if e.held { "ok" } else { "FAILED" },
                esc(&e.label),
                esc(&e.text),
                esc(&e.observed)
            );
        }
        page.push_str("</table>\n");
    }

    let _ = writeln!(page, "<h3>Invariant checks</h3>");
    if report.failure.is_some() {
        let _ = writeln!(page, "<p class=\"fail\">not judged: the run stopped before its end</p>");
    } else if report.checks.is_empty() {
        let _ = writeln!(page, "<p id=\"checks\" class=\"pass\">checks: all hold</p>");
    } else {
        let _ = writeln!(page, "<table id=\"checks\"><tr><th></th><th>check</th><th>what</th></tr>");
        for c in &report.checks {
            let _ = writeln!(
                page,
                "<tr class=\"check\"><td class=\"fail\">FAILED</td><td>{}</td><td>{}</td></tr>",
                esc(&c.0),
                esc(&c.1)
            );
        }
        page.push_str("</table>\n");
    }
    for w in &report.warnings {
        let _ = writeln!(page, "<p class=\"note\">warning: {}</p>", esc(w));
    }
    page.push_str("</section>\n");
    summary(page, report);
}

/// The numbers of the run, after the verdict.
fn summary(page: &mut String, report: &Outcome) {
    let _ = writeln!(
        page,
        "<section id=\"summary\">\n<h2>Summary</h2>\n<p>scenario <span class=\"mono\">{}</span>, {}</p>\n<ul>",
        esc(&report.scenario),
        esc(&report.run)
    );
    for line in &report.summary {
        let _ = writeln!(page, "<li>{}</li>", esc(line.trim()));
    }
    page.push_str("</ul>\n<details><summary>messages by kind</summary>\n<table>\n");
    for (proto, kind, n) in &report.by_kind {
        let _ = writeln!(page, "<tr><td>{n}</td><td>{}</td><td class=\"mono\">{}</td></tr>", esc(kind), esc(proto));
    }
    page.push_str("</table>\n</details>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_expectation_or_check_fails_the_headline_and_is_listed_first() {
        let mut o = Outcome {
            scenario: "x".into(),
            expectations: vec![
                Judged { label: "x.toml:3".into(), text: "a <b>".into(), held: true, observed: "seen".into() },
                Judged { label: "x.toml:9".into(), text: "c".into(), held: false, observed: "never".into() },
            ],
            checks: vec![("invariant".into(), "at 1s: master: offer O1 twice".into())],
            summary: vec!["messages: 3".into()],
            ..Outcome::default()
        };
        let mut page = String::new();
        section(&mut page, &o);
        assert!(page.contains("<p class=\"verdict-fail\">FAILED: see the expectations and checks below</p>"));
        assert!(page.contains("<td class=\"pass\">ok</td><td class=\"mono\">x.toml:3</td><td>a &lt;b&gt;</td>"));
        assert!(page.contains("<td class=\"fail\">FAILED</td><td class=\"mono\">x.toml:9</td>"));
        assert!(page.contains("<td>invariant</td><td>at 1s: master: offer O1 twice</td>"));
        assert!(page.find("id=\"verdict\"").unwrap() < page.find("messages: 3").unwrap(), "verdict before summary");

        o.failure = Some("livelock at 3s: no progress".into());
        let mut page = String::new();
        section(&mut page, &o);
        assert!(page.contains("run FAILED: livelock at 3s: no progress; not judged"));
        assert!(page.contains("not judged: the run stopped before its end"));

        o.failure = None;
        o.checks.clear();
        o.expectations.truncate(1);
        let mut page = String::new();
        section(&mut page, &o);
        assert!(page.contains("PASSED") && page.contains("checks: all hold"));
    }
}
