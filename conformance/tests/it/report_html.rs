//! `replay --format html`: one self-contained page, checked as text and, when a Chromium is
//! installed (the Debian `chromium` package, or `CHROMIUM=path`), as the DOM a real browser
//! builds from it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{replay, temp_dir, text};
use conformance::mock::{MockConfig, MockServer, PlantedBug};

/// A browser to render with: `CHROMIUM`, else the first of the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The DOM Chromium builds from `page`, serialized (`--dump-dom`), with everything that could
/// reach the network turned off; `None` if it does not finish within a minute.
fn rendered_dom(browser: &Path, page: &Path, profile: &Path) -> Option<String> {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    loop {
        if child.try_wait().ok()?.is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().ok()?;
    Some(text(&out.stdout))
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn the_html_report_is_one_self_contained_page_a_browser_reads() {
    let fx = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay");
    let mut config = MockConfig::for_tests();
    config.planted = Some(PlantedBug::WrongType);
    let server = MockServer::start(config).unwrap();
    let dir = temp_dir("html-report");
    let page = dir.join("report.html");
    let out = replay(
        &[
            "--recordings",
            fx.to_str().unwrap(),
            "--target",
            &format!("chargily={}", server.chargily_test_url()),
            "--target",
            &format!("recharge={}", server.recharge_url()),
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();

    // Self-contained: nothing to fetch, nothing to run.
    for external in ["src=", "href=", "url(", "@import", "<link", "<script"] {
        assert!(!html.contains(external), "{external} in the page");
    }
    // The verdict, what was checked, the table, coverage, causes with their diffs.
    assert!(
        html.contains(
            "<p id=\"verdict\" class=\"fail\">2 scenarios, 7 exchanges: 0 passed, 7 failed"
        )
    );
    assert!(html.contains("<li>target chargily: http://127.0.0.1:"));
    assert!(html.contains("<tr data-operation=\"chargily.createCheckout\" class=\"failing\">"));
    let rows = count(&html, "<tr data-operation=");
    let coverage = count(&html, " data-status=\"");
    let missed = count(&html, "<tr class=\"missed\"");
    let causes = count(&html, "<section class=\"cause\"");
    // The fixtures reach a few operations of the 32 both specs document, so most documented
    // responses are marked untested.
    assert!(
        rows >= 3 && coverage > 32 && missed > 0 && missed < coverage,
        "{rows} {coverage} {missed}"
    );
    assert!(causes >= 1 && html.contains("<span class=\"del\">    - expected:"));
    assert!(
        html.contains("&quot;") || !html.contains("\"string\""),
        "text is escaped"
    );

    let Some(browser) = chromium() else {
        eprintln!("html report: skipped the browser check: no chromium (set CHROMIUM=path)");
        return;
    };
    let Some(dom) = rendered_dom(&browser, &page, &dir.join("profile")) else {
        panic!(
            "{} did not render the page within a minute",
            browser.display()
        );
    };
    // The browser kept every row and section: the markup is well formed where it matters.
    assert_eq!(count(&dom, "<tr data-operation="), rows, "{dom}");
    assert_eq!(count(&dom, " data-status=\""), coverage);
    assert_eq!(count(&dom, "<tr class=\"missed\""), missed);
    assert_eq!(count(&dom, "<section class=\"cause\""), causes);
    assert!(dom.contains("<title>Conformance report</title>"));
    assert!(dom.contains("7 failed"));
}
