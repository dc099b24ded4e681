//! The HTML and Markdown reports (issue 19), checked the way people will read them: the HTML
//! in a real headless Chromium (Debian's `chromium`, driven by `playwright-core` from npm;
//! `tests/browser/report.mjs`), the Markdown through a real Markdown parser (`markdown-it`).
//!
//! The capture is a real `gomitm run -- go mod download` against the fixture with healthy
//! and failed flows; the foreign HARs (Chrome, mitmproxy, Charles) go through `gomitm report`.
//! With CI=true a missing node, chromium or npm package fails the test instead of skipping.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use support::fixture::{Fixture, MISSING_PROXY_HOST};
use support::run::{go_cmd, gomitm_run, url_of, Spec, EMPTY_GO_MOD};
use support::tools::{find_on_path, go_current, in_ci, run_with_timeout};

/// What the browser test needs: node, chromium and the npm packages.
struct Browser {
    node: PathBuf,
    chromium: PathBuf,
    node_modules: PathBuf,
}

/// node, chromium (`$GOMITM_CHROMIUM`, default /usr/bin/chromium) and playwright-core and
/// markdown-it in `$GOMITM_NODE_MODULES` (default /opt/gomitm-ci/node/node_modules, where
/// .ci/run installs them); `None` (after a note) outside CI when one is missing.
fn browser() -> Option<Browser> {
    let chromium = std::env::var_os("GOMITM_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let node_modules = std::env::var_os("GOMITM_NODE_MODULES").map_or_else(
        || PathBuf::from("/opt/gomitm-ci/node/node_modules"),
        PathBuf::from,
    );
    let mut missing = Vec::new();
    let node = find_on_path("node");
    if node.is_none() {
        missing.push("node (apt-get install nodejs npm)".to_string());
    }
    if !chromium.is_file() {
        missing.push(format!("{} (apt-get install chromium)", chromium.display()));
    }
    for package in ["playwright-core", "markdown-it"] {
        if !node_modules.join(package).join("package.json").is_file() {
            missing.push(format!(
                "{package} in {} (npm install --prefix {} {package})",
                node_modules.display(),
                node_modules.parent().unwrap().display()
            ));
        }
    }
    if !missing.is_empty() {
        let what = missing.join(", ");
        assert!(
            !in_ci(),
            "the report's browser test needs {what}; .ci/run installs them"
        );
        eprintln!("note: skipping, missing {what}");
        return None;
    }
    Some(Browser {
        node: node.unwrap(),
        chromium,
        node_modules,
    })
}

/// Runs tests/browser/report.mjs over `pages` and `markdown`; panics with its output unless
/// every check passed.
fn check_in_browser(b: &Browser, pages: Vec<Value>, markdown: Vec<Value>) -> String {
    let profile = tempfile::Builder::new()
        .prefix("gomitm-chromium-")
        .tempdir()
        .unwrap();
    let cfg = json!({
        "node_modules": b.node_modules,
        "chromium": b.chromium,
        "profile": profile.path(),
        "pages": pages,
        "markdown": markdown,
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/report.mjs");
    let mut cmd = Command::new(&b.node);
    cmd.arg(script).arg(cfg.to_string());
    let out = run_with_timeout(&mut cmd, std::time::Duration::from_secs(180));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "the browser checks failed:\n{text}");
    assert!(text.contains("all ok"), "{text}");
    text
}

/// `Modules (3):` → 3, from the text summary.
fn section_count(summary: &str, name: &str) -> Option<usize> {
    summary.lines().find_map(|l| {
        l.strip_prefix(&format!("{name} ("))
            .and_then(|r| r.strip_suffix("):"))
            .and_then(|n| n.parse().ok())
    })
}

/// The totals as the text prints them: `gomitm: 12 requests, …` without `gomitm: `.
fn totals_line(summary: &str) -> String {
    summary
        .lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("gomitm: ")
                .filter(|l| l.contains(" request"))
        })
        .unwrap_or_else(|| panic!("no totals line in\n{summary}"))
        .to_string()
}

#[test]
fn html_report_of_a_go_run_in_headless_chromium() {
    let Some(b) = browser() else { return };
    let Some(go) = go_current() else { return };
    let fx = Fixture::start();
    let out = tempfile::Builder::new()
        .prefix("gomitm-report-")
        .tempdir()
        .unwrap();
    let (html, md, step) = (
        out.path().join("report.html"),
        out.path().join("report.md"),
        out.path().join("step-summary.md"),
    );
    std::fs::write(&step, "# an earlier step\n").unwrap();
    let args = vec![
        "--report-html".to_string(),
        html.display().to_string(),
        "--report-md".to_string(),
        md.display().to_string(),
    ];
    // a.test lacks everything, b.test serves mod01 and lacks nosuch: healthy flows, 404s
    // that b.test made good, and a module nobody has (go fails).
    let run = gomitm_run(
        &fx,
        Spec {
            hosts: &[MISSING_PROXY_HOST, "b.test"],
            args: &args,
            env: &[
                (
                    "GOPROXY",
                    format!("https://{MISSING_PROXY_HOST},https://b.test"),
                ),
                ("GITHUB_STEP_SUMMARY", step.display().to_string()),
            ],
            go_mod: EMPTY_GO_MOD,
            command: go_cmd(
                &go,
                &[
                    "mod",
                    "download",
                    "example.test/mod01@v1.0.0",
                    "example.test/nosuch@v1.0.0",
                ],
            ),
        },
    );
    assert_eq!(run.code(), Some(1), "go cannot have nosuch\n{}", run.dump());
    let summary = run.summary();
    let flows = run.flows();
    assert!(flows.len() >= 6, "{}", run.flow_list());
    let page = std::fs::read_to_string(&html).unwrap();
    let markdown = std::fs::read_to_string(&md).unwrap();

    // One analysis, three renderers: the same totals, and the verdict of the exit status.
    let totals = totals_line(&summary);
    assert!(page.contains(&format!(">{totals}</p>")), "{totals}\n{page}");
    assert!(
        markdown.contains(&format!("**{totals}**")),
        "{totals}\n{markdown}"
    );
    assert!(page.contains("<section id=\"verdict\" class=\"failed\">"));
    assert!(page.contains("exited with status 1"), "{page}");
    assert!(markdown.starts_with("## ❌ gomitm: FAILED"), "{markdown}");
    // $GITHUB_STEP_SUMMARY got the same Markdown, appended.
    let step_text = std::fs::read_to_string(&step).unwrap();
    assert!(step_text.starts_with("# an earlier step\n"), "{step_text}");
    assert!(step_text.contains(&markdown), "{step_text}");

    let nosuch = flows
        .iter()
        .find(|f| url_of(f).starts_with("https://b.test/example.test/nosuch/@v/"))
        .unwrap_or_else(|| panic!("no b.test request for nosuch\n{}", run.flow_list()));
    let failed = nosuch["id"].as_u64().unwrap();
    let on_b = flows
        .iter()
        .filter(|f| url_of(f).starts_with("https://b.test/"))
        .count();
    assert!(on_b > 0 && on_b < flows.len());
    let shot = out.path().join("report.png");
    let modules = section_count(&summary, "Modules").unwrap_or_else(|| panic!("{summary}"));
    let failures = section_count(&summary, "Failures").unwrap_or_else(|| panic!("{summary}"));
    check_in_browser(
        &b,
        vec![json!({
            "file": html,
            "bars": flows.len(),
            "phases": ["connect", "tls", "wait"],
            "kinds": ["info", "mod", "zip"],
            "failed": failed,
            "detail": ["example.test/nosuch", "404", "Go kind"],
            "filter": "b.test",
            "filtered": on_b,
            "screenshot": shot,
        })],
        vec![json!({"file": md, "tables": {"Modules": modules, "Failures": failures}})],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000);
    // The README's picture, refreshed on request (a test run leaves the tree as it was).
    if std::env::var_os("GOMITM_UPDATE_SCREENSHOTS").is_some() {
        let img = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img/report-timeline.png");
        std::fs::create_dir_all(img.parent().unwrap()).unwrap();
        std::fs::copy(&shot, &img).unwrap();
    }
}

#[test]
fn foreign_hars_render_in_both_formats() {
    let b = browser();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/har");
    let out = tempfile::tempdir().unwrap();
    let (mut pages, mut markdown) = (Vec::new(), Vec::new());
    for tool in ["chrome", "mitmproxy", "charles"] {
        let har = dir.join(format!("{tool}.har"));
        let entries = serde_json::from_str::<Value>(&std::fs::read_to_string(&har).unwrap())
            .unwrap()["log"]["entries"]
            .as_array()
            .unwrap()
            .len();
        let (html, md) = (
            out.path().join(format!("{tool}.html")),
            out.path().join(format!("{tool}.md")),
        );
        let result = support::gomitm::command(&["report"])
            .arg(&har)
            .arg("--html")
            .arg(&html)
            .arg("--markdown")
            .arg(&md)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&result.stdout).into_owned();
        assert!(
            result.status.success(),
            "{tool}: {}\n{text}",
            String::from_utf8_lossy(&result.stderr)
        );
        let page = std::fs::read_to_string(&html).unwrap();
        let md_text = std::fs::read_to_string(&md).unwrap();
        let totals = totals_line(&text);
        assert!(page.contains(&format!(">{totals}</p>")), "{tool}: {totals}");
        assert!(
            md_text.contains(&format!("**{totals}**")),
            "{tool}: {totals}"
        );
        let mut tables = serde_json::Map::new();
        for name in ["Modules", "Failures"] {
            if let Some(n) = section_count(&text, name) {
                tables.insert(name.into(), n.into());
            }
        }
        assert!(!tables.is_empty(), "{tool}: no table\n{text}");
        pages.push(json!({"file": html, "bars": entries}));
        markdown.push(json!({"file": md, "tables": tables}));
    }
    if let Some(b) = b {
        check_in_browser(&b, pages, markdown);
    }
}

/// `$GITHUB_STEP_SUMMARY` gets the Markdown appended under `run`, not with
/// `--no-step-summary`; a report path that cannot be written is refused before the command
/// runs.
#[test]
fn step_summary_is_appended_unless_turned_off() {
    let Some(true_bin) = find_on_path("true") else {
        panic!("no `true` on PATH");
    };
    let dir = tempfile::tempdir().unwrap();
    let step = dir.path().join("step.md");
    let run = |extra: &[&str]| {
        let mut cmd = support::gomitm::command(&["run"]);
        cmd.arg("--ca-dir")
            .arg(dir.path().join("ca"))
            .args(extra)
            .arg("--")
            .arg(&true_bin)
            .env("GITHUB_STEP_SUMMARY", &step)
            .env_remove("GOMITM_CA_DIR");
        run_with_timeout(&mut cmd, std::time::Duration::from_secs(60))
    };
    std::fs::write(&step, "before\n").unwrap();
    let out = run(&["--no-step-summary"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(std::fs::read_to_string(&step).unwrap(), "before\n");

    let md = dir.path().join("out.md");
    let out = run(&["--report-md", md.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let appended = std::fs::read_to_string(&step).unwrap();
    let written = std::fs::read_to_string(&md).unwrap();
    assert!(
        written.starts_with("## ✅ gomitm: ok: \\`true\\` exited with status 0"),
        "{written}"
    );
    assert!(
        written.contains("**0 requests, 0 modules, 0 failed, 0B in 0ms**"),
        "{written}"
    );
    assert_eq!(appended, format!("before\n{written}\n"));

    // Refused up front, with the path named; the command never ran (nothing appended).
    let bad = dir.path().join("missing-dir").join("r.html");
    let out = run(&["--report-html", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write the report to"), "{stderr}");
    assert!(stderr.contains("r.html"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&step).unwrap(), appended);
}
