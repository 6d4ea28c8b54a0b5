//! The verdict, first: did the run hold what the scenario says, and then the numbers.
//!
//! The text summary prints the verdict last, under the message table; a learner
//! opening a report wants the answer first. So this section leads with one
//! coloured line (passed / failed / stopped early), then every `[[expect]]`
//! with what was observed, then the invariant checks, and only then the
//! summary: each framework's lines, the master's offer counts, what each
//! fault did, and the message counts by kind (folded away, as `--stats` would).

use super::esc;
use crate::runner::Report;
use mesocosm_sim::Transport;
use std::fmt::Write;

/// Write the verdict block and the summary.
pub(super) fn section(page: &mut String, report: &Report) {
    let passed = report.passed();
    let (class, headline) = match (&report.failure, passed) {
        (Some(f), _) => {
            ("verdict-fail", format!("run FAILED ({}): {f}; not judged, it stopped at {}", f.kind(), f.at()))
        }
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
                esc(c.check),
                esc(&c.message)
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
fn summary(page: &mut String, report: &Report) {
    let transport = match report.transport {
        Transport::Grpc => "grpc",
        Transport::Memory => "memory",
    };
    let _ = writeln!(
        page,
        "<section id=\"summary\">\n<h2>Summary</h2>\n<p>scenario <span class=\"mono\">{}</span>, seed {}, transport {transport}, ended at {}</p>",
        esc(&report.scenario),
        report.seed,
        esc(&report.ended_at.to_string())
    );
    page.push_str("<ul>\n");
    for f in &report.frameworks {
        for line in &f.summary {
            let _ = writeln!(page, "<li>{}</li>", esc(line.trim()));
        }
    }
    let m = &report.master;
    let _ = writeln!(
        page,
        "<li>offers: {} made, {} accepted, {} declined, {} rescinded; {} Mesos tasks launched; {} allocation cycles</li>",
        m.offers_made, m.offers_accepted, m.offers_declined, m.offers_rescinded, m.tasks_launched, m.allocation_cycles
    );
    let _ = writeln!(page, "<li>messages: {}</li>", report.messages);
    for f in &report.faults {
        let _ = writeln!(page, "<li>fault {}: applied {} time(s)</li>", esc(&f.label), f.applied);
    }
    if let Some(d) = &report.digest {
        let _ = writeln!(page, "<li>digest: <span class=\"mono\">{}</span></li>", esc(d));
    }
    page.push_str("</ul>\n<details><summary>messages by kind</summary>\n<table>\n");
    for ((proto, kind), n) in &report.by_kind {
        let _ = writeln!(page, "<tr><td>{n}</td><td>{}</td><td class=\"mono\">{}</td></tr>", esc(kind), esc(proto));
    }
    page.push_str("</table>\n</details>\n</section>\n");
}
