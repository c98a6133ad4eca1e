//! `report.html` in a real browser: headless Chromium (Debian's `chromium`) loads each
//! example's report, and that of the Exchange Online fixtures, without a console message, and
//! the diagram before and after the plan holds an element for every connector of the plan.
//! Without Chromium these tests say SKIPPED and pass, unless `HYBRIDTLS_REQUIRE_TOOLS` is set
//! (as `.ci/run` sets it), where a missing Chromium fails the run (tests/support/tools.rs).
//!
//! Without a browser: the report loads nothing from anywhere, and every value from the inputs is
//! escaped.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod support;

/// The plans to look at: the examples, and the fixtures with Exchange Online's connectors.
fn inputs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 2, "the examples are missing");
    dirs.push(PathBuf::from("tests/fixtures/rules/HT030"));
    dirs.push(PathBuf::from("tests/fixtures/rules/HT031"));
    dirs
}

/// Plans `input` into `out` and returns plan.json, parsed.
fn plan(input: &Path, out: &Path) -> Value {
    support::generated::plan_into(input, out);
    serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap()
}

/// `hybridtls show DIR --format html`: the report.html of the plan.json in `dir`.
fn show_html(dir: &Path) -> String {
    let (code, html, stderr) = support::cli::hybridtls(&[
        std::ffi::OsStr::new("show"),
        dir.as_os_str(),
        std::ffi::OsStr::new("--format"),
        std::ffi::OsStr::new("html"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    html
}

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        support::tools::missing(
            "report.html in a browser: no chromium on PATH",
            "apt-get install chromium",
        );
    }
    found.map(PathBuf::from)
}

/// Loads `file` in headless Chromium; returns the DOM as the page built it, and the console
/// messages Chromium logged.
fn load(chromium: &Path, file: &Path) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.canonicalize().unwrap().display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "chromium failed: {stderr}");
    let console = stderr
        .lines()
        .filter(|line| line.contains("CONSOLE"))
        .map(str::to_owned)
        .collect();
    (String::from_utf8(output.stdout).unwrap(), console)
}

/// The values of `attribute` on the elements of `dom` (as Chromium serialises it), unescaped.
fn attribute_values(dom: &str, attribute: &str) -> Vec<String> {
    let needle = format!(" {attribute}=\"");
    dom.split(&needle)
        .skip(1)
        .map(|rest| {
            rest[..rest.find('"').unwrap()]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&nbsp;", "\u{a0}")
                .replace("&amp;", "&")
        })
        .collect()
}

/// The connectors the diagram must show, as (data-connector, identity).
fn connectors(plan: &Value) -> Vec<(&'static str, String)> {
    let mut wanted = Vec::new();
    for server in plan["servers"].as_array().unwrap() {
        for connector in server["connectors"].as_array().unwrap() {
            if connector["hybrid"] == Value::Bool(true) {
                wanted.push(("receive", connector["identity"].as_str().unwrap().to_owned()));
            }
        }
        for connector in server["send_connectors"].as_array().unwrap() {
            wanted.push(("send", connector["identity"].as_str().unwrap().to_owned()));
        }
    }
    if !wanted.iter().any(|(kind, _)| *kind == "send") {
        // None in the inputs: a box says so.
        wanted.push(("send-unknown", "Send connectors to Exchange Online".to_owned()));
    }
    for (list, kind) in [
        ("outbound_connectors", "exo-outbound"),
        ("inbound_connectors", "exo-inbound"),
    ] {
        match plan["exchange_online"][list].as_array() {
            Some(exo) => {
                for connector in exo {
                    wanted.push((kind, connector["name"].as_str().unwrap().to_owned()));
                }
            }
            // Not exported: a box says so.
            None => wanted.push(("exo-unknown", "Exchange Online".to_owned())),
        }
    }
    wanted
}

/// The (data-connector, data-identity) pairs of one diagram of the DOM.
fn shown(diagram: &str) -> Vec<(String, String)> {
    let groups: Vec<&str> = diagram.split("<g class=\"connector\"").skip(1).collect();
    groups
        .iter()
        .map(|g| {
            let head = &g[..g.find('>').unwrap()];
            (
                attribute_values(head, "data-connector")[0].clone(),
                attribute_values(head, "data-identity")[0].clone(),
            )
        })
        .collect()
}

#[test]
fn each_report_loads_in_chromium_without_a_console_message_and_shows_every_connector() {
    let Some(chromium) = chromium() else { return };
    for input in inputs() {
        let out = tempfile::tempdir().unwrap();
        let plan = plan(&input, out.path());
        let (dom, console) = load(&chromium, &out.path().join("report.html"));
        assert!(console.is_empty(), "{}: {console:#?}", input.display());
        let before_at = dom
            .find("data-diagram=\"before\"")
            .expect("the diagram before the plan");
        let after_at = dom
            .find("data-diagram=\"after\"")
            .expect("the diagram after the plan");
        let wanted = connectors(&plan);
        assert!(wanted
            .iter()
            .any(|(kind, _)| *kind == "send" || *kind == "receive"));
        for (which, diagram) in [("before", &dom[before_at..after_at]), ("after", &dom[after_at..])] {
            let shown = shown(diagram);
            for (kind, identity) in &wanted {
                assert!(
                    shown.iter().any(|(k, i)| k == kind && i == identity),
                    "{}: the diagram {which} the plan has no {kind} connector {identity:?}; it shows {shown:#?}",
                    input.display()
                );
            }
        }
        // Each finding's rule is in the findings and marks a connector before the plan.
        let findings = plan["findings"].as_array().unwrap();
        for finding in findings {
            let rule = finding["rule"].as_str().unwrap();
            assert!(
                attribute_values(&dom, "data-rule").iter().any(|r| r == rule),
                "{}: {rule}",
                input.display()
            );
        }
        let states = attribute_values(&dom[before_at..after_at], "data-state");
        assert_eq!(
            states.iter().any(|s| s == "fault"),
            !findings.is_empty(),
            "{}: a fault is marked in the picture exactly when there is a finding: {states:?}",
            input.display()
        );
    }
}

#[test]
fn the_checks_see_a_console_error_and_a_missing_connector() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><svg data-diagram=\"before\"></svg><script>console.error('boom')</script></body></html>",
    )
    .unwrap();
    let (dom, console) = load(&chromium, &page);
    assert!(console.iter().any(|line| line.contains("boom")), "{console:#?}");
    assert!(shown(&dom).is_empty());
}

#[test]
fn the_report_loads_nothing_from_anywhere() {
    for input in inputs() {
        let out = tempfile::tempdir().unwrap();
        plan(&input, out.path());
        let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
        assert!(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
        for needle in [
            "<script",
            "<link",
            "<img",
            "<iframe",
            "<object",
            "<embed",
            "src=",
            "href=",
            "@import",
            "@font-face",
            "http://",
            "https://",
        ] {
            // The SVG namespace is a name, not a place anything is loaded from.
            let html = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
            assert!(
                !html.contains(needle),
                "{}: report.html holds {needle}",
                input.display()
            );
        }
        let urls: Vec<&str> = html.split("url(").skip(1).collect();
        assert!(
            urls.iter().all(|rest| rest.starts_with("#head")),
            "{}: a url() that is not a marker of the page",
            input.display()
        );
    }
}

/// Every string of a plan made hostile: `show --format html` must print none of it as markup.
#[test]
fn every_value_from_the_inputs_is_escaped() {
    fn poison(value: &mut Value, key: &str) {
        match value {
            // Values the document reads as names of its own (enums), not as text.
            Value::String(_)
                if ["format_version", "kind", "severity", "role", "missing_kind"].contains(&key) => {}
            Value::String(text) => text.push_str("<b data-x='1'>&amp;\"</b>"),
            Value::Array(items) => items.iter_mut().for_each(|item| poison(item, key)),
            Value::Object(map) => map.iter_mut().for_each(|(key, item)| poison(item, key)),
            _ => {}
        }
    }
    for input in inputs() {
        let out = tempfile::tempdir().unwrap();
        let mut plan = plan(&input, out.path());
        poison(&mut plan, "");
        std::fs::write(
            out.path().join("plan.json"),
            serde_json::to_string(&plan).unwrap(),
        )
        .unwrap();
        let html = show_html(out.path());
        assert!(
            !html.contains("<b data-x"),
            "{}: unescaped markup",
            input.display()
        );
        assert!(!html.contains("'1'"), "{}: an unescaped quote", input.display());
        assert!(html.contains("&lt;b data-x=&#39;1&#39;&gt;&amp;amp;&quot;&lt;/b&gt;"));
    }
}

/// A plan.json of format 2.2, written before Exchange Online's connectors were in the document,
/// is shown with Exchange Online's side as not known, never as having no connector.
#[test]
fn a_plan_of_format_2_2_is_shown_with_exchange_online_not_known() {
    let out = tempfile::tempdir().unwrap();
    let mut plan = plan(Path::new("tests/fixtures/rules/HT031"), out.path());
    assert!(plan["exchange_online"]["outbound_connectors"].is_array());
    let document = plan.as_object_mut().unwrap();
    document.remove("exchange_online");
    document.insert("format_version".to_owned(), Value::from("2.2"));
    std::fs::write(
        out.path().join("plan.json"),
        serde_json::to_string(&plan).unwrap(),
    )
    .unwrap();
    let html = show_html(out.path());
    assert!(html.contains("Get-OutboundConnector not given"), "{html}");
    assert!(html.contains("Get-InboundConnector not given"));
    assert!(!html.contains("data-connector=\"exo-outbound\""));
}
