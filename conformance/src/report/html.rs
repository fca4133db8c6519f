//! The HTML report: one self-contained page (an inline style sheet; no script, no external
//! asset, no link), readable offline and attachable to a CI run. It holds what the human
//! report holds: the verdict, what was checked, the violations grouped by cause (each with
//! its diff, first as what a reader looks for first), the per-operation table, and coverage
//! of every documented operation and status (untested ones marked).

use std::fmt::Write as _;

use super::{
    causes, diagnosis, diff, exchange_title, header, notes, per_operation, status_coverage, summary,
};
use crate::replay::RunReport;

/// Distinct differences shown with their diff per cause; the rest are listed by place.
const DIFFS_SHOWN: usize = 20;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;\
padding:0 1em;color:#1d1d1f}h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;width:100%}th,td{padding:.25em .6em;border-bottom:1px solid #eee;\
text-align:right}th:first-child,td:first-child,td.text{text-align:left}\
.pass{color:#1a7f37}.fail{color:#cf222e}#verdict{font-weight:600;padding:.6em;border-radius:6px}\
#verdict.pass{background:#dafbe1}#verdict.fail{background:#ffebe9}tr.failing td{color:#cf222e}\
tr.missed td{color:#9a6700;background:#fff8c5}code,pre{font:12px ui-monospace,monospace}\
pre.diff{background:#f6f8fa;padding:.6em;overflow-x:auto}.del{color:#cf222e}.ins{color:#1a7f37}\
section.cause{margin:1em 0;padding:.2em 1em;border-left:4px solid #cf222e;background:#fffafa}\
section.cause h3{font-size:1em;margin:.4em 0}#notes li{white-space:pre-wrap}";

/// Text escaped for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// A [`diff`] as a `pre`, its expected lines marked `del` and actual lines `ins`.
fn diff_block(out: &mut String, expected: &str, actual: &str) {
    out.push_str("<pre class=\"diff\">");
    for line in diff(expected, actual).lines() {
        let class = match line.get(4..6) {
            Some("- ") => "del",
            Some("+ ") => "ins",
            _ => "same",
        };
        let _ = writeln!(out, "<span class=\"{class}\">{}</span>", esc(line));
    }
    out.push_str("</pre>\n");
}

/// The whole page.
pub fn html(report: &RunReport) -> String {
    let mut out = String::new();
    let verdict = if report.exit_code() == 0 {
        "pass"
    } else {
        "fail"
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Conformance report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Conformance report</h1>\n<p id=\"verdict\" class=\"{verdict}\">{}</p>\n",
        esc(&summary(report))
    );

    out.push_str("<h2>What was checked</h2>\n<ul id=\"checked\">\n");
    for line in header(report).lines() {
        let _ = writeln!(out, "<li>{}</li>", esc(line));
    }
    out.push_str("</ul>\n");

    let causes = causes(report);
    out.push_str("<h2>Violations</h2>\n");
    if causes.is_empty() {
        out.push_str("<p id=\"no-violations\">None.</p>\n");
    } else {
        let _ = writeln!(
            out,
            "<p>{} violation(s) from {} cause(s), most frequent first.</p>",
            causes.iter().map(|c| c.count).sum::<usize>(),
            causes.len()
        );
    }
    for c in &causes {
        let at = c.place();
        let _ = writeln!(
            out,
            "<section class=\"cause\" data-rule=\"{}\">\n<h3>[{}] ({}) at <code>{}</code>: {} \
             violation(s)</h3>\n<p>spec: <code>{}</code></p>",
            esc(&c.rule.to_string()),
            esc(&c.rule.to_string()),
            c.rule.kind().name(),
            esc(at),
            c.count,
            esc(c.schema_pointer)
        );
        // One diff per distinct expected/actual pair, with the exchanges that gave it: a
        // wall of identical failures reads as the one it is.
        let mut distinct: Vec<(&str, &str, Vec<String>)> = Vec::new();
        for (s, e, v) in &c.examples {
            let place = format!(
                "{}{}",
                exchange_title(s, e),
                if report.is_known(s, e, v) {
                    " (known: in the baseline)"
                } else {
                    ""
                }
            );
            match distinct
                .iter_mut()
                .find(|(x, a, _)| *x == v.expected && *a == v.actual)
            {
                Some((_, _, places)) => places.push(place),
                None => distinct.push((&v.expected, &v.actual, vec![place])),
            }
        }
        let shown = distinct.len().min(DIFFS_SHOWN);
        for (expected, actual, places) in &distinct[..shown] {
            diff_block(&mut out, expected, actual);
            let _ = write!(out, "<p class=\"places\">{}", esc(&places[0]));
            if places.len() > 1 {
                let _ = write!(
                    out,
                    "</p>\n<details><summary>and {} more exchange(s) with this difference</summary>\n<ul>\n",
                    places.len() - 1
                );
                for place in &places[1..] {
                    let _ = writeln!(out, "<li>{}</li>", esc(place));
                }
                out.push_str("</ul>\n</details>\n");
            } else {
                out.push_str("</p>\n");
            }
        }
        if distinct.len() > shown {
            let _ = writeln!(
                out,
                "<details><summary>{} more difference(s)</summary>\n<ul>",
                distinct.len() - shown
            );
            for (_, _, places) in &distinct[shown..] {
                for place in places {
                    let _ = writeln!(out, "<li>{}</li>", esc(place));
                }
            }
            out.push_str("</ul>\n</details>\n");
        }
        out.push_str("</section>\n");
    }

    out.push_str(
        "<h2>Operations</h2>\n<table id=\"operations\">\n<thead><tr><th>operation</th>\
         <th>exchanges</th><th>passed</th><th>failed</th><th>skipped</th><th>not run</th>\
         <th>spec violations</th><th>reference departures</th><th>score</th></tr></thead>\n<tbody>\n",
    );
    for r in per_operation(report) {
        let name = format!("{}.{}", r.api, r.operation);
        let _ = writeln!(
            out,
            "<tr data-operation=\"{}\"{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{:.1}%</td></tr>",
            esc(&name),
            if r.failed > 0 {
                " class=\"failing\""
            } else {
                ""
            },
            esc(&name),
            r.exchanges,
            r.passed,
            r.failed,
            r.skipped,
            r.not_run,
            r.spec,
            r.reference,
            r.score()
        );
    }
    out.push_str("</tbody>\n</table>\n");

    out.push_str("<h2>Coverage</h2>\n");
    for c in super::coverage(report) {
        let _ = writeln!(
            out,
            "<p class=\"coverage\">{}: {} of {} operations exercised{}</p>",
            esc(&c.api),
            c.exercised,
            c.operations,
            if c.not_exercised.is_empty() {
                String::new()
            } else {
                format!("; not exercised: {}", esc(&c.not_exercised.join(", ")))
            }
        );
    }
    out.push_str(
        "<table id=\"coverage\">\n<thead><tr><th>operation</th><th>request</th>\
         <th>documented status</th><th>exchanges that got it</th></tr></thead>\n<tbody>\n",
    );
    for s in status_coverage(report) {
        let name = format!("{}.{}", s.api, s.operation);
        let status = s
            .status
            .map_or_else(|| "(no numeric status)".to_owned(), |st| st.to_string());
        let _ = writeln!(
            out,
            "<tr class=\"{}\" data-operation=\"{}\" data-status=\"{}\"><td>{}</td>\
             <td class=\"text\"><code>{} {}</code></td><td>{}</td><td>{}</td></tr>",
            if s.exchanges > 0 {
                "exercised"
            } else {
                "missed"
            },
            esc(&name),
            esc(&status),
            esc(&name),
            esc(&s.method),
            esc(&s.path),
            esc(&status),
            s.exchanges
        );
    }
    out.push_str("</tbody>\n</table>\n");

    let mut notes = notes(report);
    if let Some(d) = diagnosis(report) {
        notes.push(format!("likely cause: {d}"));
    }
    if let Some(b) = &report.baseline {
        notes.push(b.summary());
    }
    if !notes.is_empty() {
        out.push_str("<h2>Notes</h2>\n<ul id=\"notes\">\n");
        for n in notes {
            let _ = writeln!(out, "<li>{}</li>", esc(&n));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn diff_lines_are_marked_by_side() {
        let mut out = String::new();
        diff_block(&mut out, "200", "<500>");
        assert!(
            out.contains("<span class=\"del\">    - expected: 200</span>"),
            "{out}"
        );
        assert!(
            out.contains("<span class=\"ins\">    + actual:   &lt;500&gt;</span>"),
            "{out}"
        );
    }
}
