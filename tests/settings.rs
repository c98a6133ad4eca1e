//! Rules the user tunes: `plan --ignore`, `--expiry-warning-days`, and the same in
//! `hybridtls.toml` (in the current folder, or `--config FILE`), echoed by every output.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::schema::assert_valid_plan;

/// The HT012 fixture: the hybrid certificate expires on 2026-12-10.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules/HT012")
}

use support::cli::hybridtls_in as run_in;
use support::generated::NOW;

fn plan_json(cwd: &Path, extra: &[&str]) -> Value {
    let fixture = fixture();
    let mut args = vec![
        "plan",
        fixture.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run_in(cwd, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_valid_plan(&stdout)
}

fn rules_of(findings: &Value) -> Vec<&str> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

fn manual_instructions(plan: &Value) -> Vec<String> {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "manual")
        .flat_map(|a| a["parameters"].as_array().unwrap().clone())
        .filter(|p| p["name"] == "instruction")
        .map(|p| p["value"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_ignored_warning_is_listed_as_ignored_and_not_planned() {
    let cwd = tempfile::tempdir().unwrap();
    let plain = plan_json(cwd.path(), &[]);
    assert_eq!(rules_of(&plain["findings"]), ["HT012"]);
    assert_eq!(
        plain["settings"],
        serde_json::json!({"config": null, "ignore": [], "expiry_warning_days": 60})
    );
    assert!(manual_instructions(&plain)
        .iter()
        .any(|i| i.starts_with("renew ")));

    for name in ["HT012", "certificate-expiring", "ht012"] {
        let ignored = plan_json(cwd.path(), &["--ignore", name, "--ignore", "HT013"]);
        assert!(rules_of(&ignored["findings"]).is_empty(), "{name}");
        assert_eq!(rules_of(&ignored["ignored_findings"]), ["HT012"]);
        assert_eq!(ignored["ignored_findings"][0], plain["findings"][0]);
        assert_eq!(
            ignored["settings"]["ignore"],
            serde_json::json!(["HT012", "HT013"])
        );
        assert!(manual_instructions(&ignored)
            .iter()
            .all(|i| !i.starts_with("renew ")));
    }

    // The text and the report say it too.
    let fixture = fixture();
    let out = cwd.path().join("change");
    let (code, text, stderr) = run_in(
        cwd.path(),
        &[
            "plan",
            fixture.to_str().unwrap(),
            "--now",
            NOW,
            "--ignore",
            "HT012",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.contains("\nSettings: ignore HT012 (certificate-expiring); HT012 warns 60 days before expiry\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  ignored[HT012]: The hybrid certificate expires"),
        "{text}"
    );
    assert!(!text.contains("warning[HT012]"), "{text}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Ignored\n"), "{report}");
    assert!(
        report.contains("- HT012 The hybrid certificate expires"),
        "{report}"
    );
    // The HTML report, which change boards read too, says the same.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(
            "<p>Settings: ignore HT012 (certificate-expiring); HT012 warns 60 days before expiry.</p>"
        ),
        "{html}"
    );
    assert!(html.contains("<h2 id=\"ignored\">Ignored</h2>"), "{html}");
    assert!(
        html.contains("<li>HT012 The hybrid certificate expires"),
        "{html}"
    );
    assert!(!html.contains("data-rule=\"HT012\""), "{html}");
    // `show` renders them again from plan.json alone.
    let (code, shown, stderr) = run_in(cwd.path(), &["show", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let planned: String = text
        .lines()
        .filter(|l| !l.starts_with("Wrote ") && !l.starts_with("No script written"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(shown, planned);
    let (_, markdown, _) = run_in(
        cwd.path(),
        &["show", out.to_str().unwrap(), "--format", "MARKDOWN"],
    );
    assert_eq!(markdown, report);

    // With every check run, an ignored finding is the only thing found: both reports say so
    // instead of "Nothing is broken" (plan.json with its not-checked list emptied, shown).
    let plan_path = out.join("plan.json");
    let mut plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    plan["not_checked"] = Value::Array(Vec::new());
    std::fs::write(&plan_path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    for format in ["markdown", "html"] {
        let (code, shown, stderr) = run_in(cwd.path(), &["show", out.to_str().unwrap(), "--format", format]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            shown.contains("Nothing is broken that is not ignored: 1 finding(s) of ignored rules are listed under Ignored below."),
            "{format}: {shown}"
        );
        assert!(
            !shown.contains("every hybrid connector presents"),
            "{format}: {shown}"
        );
    }
}

#[test]
fn an_error_cannot_be_ignored_and_an_unknown_rule_is_named() {
    let cwd = tempfile::tempdir().unwrap();
    let fixture = fixture();
    let out = cwd.path().join("change");
    for (rule, says) in [
        (
            "HT001",
            "HT001 (hybrid-connector-without-certificate-name) is an error and cannot be ignored",
        ),
        (
            "certificate-name-not-found",
            "HT002 (certificate-name-not-found) is an error",
        ),
        ("HT99", "no rule has the code or name \"HT99\""),
    ] {
        let (code, stdout, stderr) = run_in(
            cwd.path(),
            &[
                "plan",
                fixture.to_str().unwrap(),
                "--ignore",
                rule,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 1, "{rule}");
        assert!(stdout.is_empty());
        assert!(
            stderr.starts_with(&format!("error: --ignore {rule}: ")),
            "{stderr}"
        );
        assert!(stderr.contains(says), "{stderr}");
        assert!(!out.exists());
    }
}

#[test]
fn the_expiry_warning_moves_ht012s_threshold() {
    let cwd = tempfile::tempdir().unwrap();
    // 16 days left.
    let short = plan_json(cwd.path(), &["--expiry-warning-days", "10"]);
    assert!(rules_of(&short["findings"]).is_empty());
    assert_eq!(short["settings"]["expiry_warning_days"], 10);
    let long = plan_json(cwd.path(), &["--expiry-warning-days", "20"]);
    assert!(long["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("under 30 days: renew now"));
    // 39 days left: past the default, inside 90.
    let fixture = fixture();
    let (code, stdout, stderr) = run_in(
        cwd.path(),
        &[
            "plan",
            fixture.to_str().unwrap(),
            "--now",
            "2026-11-01T00:00:00Z",
            "--format",
            "json",
            "--expiry-warning-days",
            "90",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let plan = assert_valid_plan(&stdout);
    assert!(plan["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("(39 days after the evaluation time, under 90 days: plan the renewal)"));
    for bad in ["0", "-5", "x", "3651"] {
        let (code, _, stderr) = run_in(
            cwd.path(),
            &[
                "plan",
                fixture.to_str().unwrap(),
                &format!("--expiry-warning-days={bad}"),
            ],
        );
        assert_eq!(code, 1, "{bad}");
        assert!(stderr.contains("--expiry-warning-days"), "{stderr}");
    }
}

#[test]
fn hybridtls_toml_in_the_current_folder_or_named_by_config_is_read_and_echoed() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(
        cwd.path().join("hybridtls.toml"),
        "# the change board's settings\nignore = [\"certificate-expiring\"]\nexpiry-warning-days = 20\n",
    )
    .unwrap();
    let plan = plan_json(cwd.path(), &[]);
    assert_eq!(
        plan["settings"],
        serde_json::json!({"config": "hybridtls.toml", "ignore": ["HT012"], "expiry_warning_days": 20})
    );
    assert_eq!(rules_of(&plan["ignored_findings"]), ["HT012"]);
    // The command line adds to the file and overrides it.
    let plan = plan_json(cwd.path(), &["--ignore", "HT013", "--expiry-warning-days", "10"]);
    assert_eq!(plan["settings"]["ignore"], serde_json::json!(["HT012", "HT013"]));
    assert_eq!(plan["settings"]["expiry_warning_days"], 10);
    assert!(
        rules_of(&plan["ignored_findings"]).is_empty(),
        "16 days left, warning at 10"
    );

    // --config names another file, from anywhere.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = cwd.path().join("hybridtls.toml");
    let plan = plan_json(elsewhere.path(), &["--config", config.to_str().unwrap()]);
    // Paths are shown with `/` on every system.
    assert_eq!(plan["settings"]["config"], hybridtls::input::display(&config));
    assert_eq!(rules_of(&plan["ignored_findings"]), ["HT012"]);
    // Without a file, nothing is read.
    assert_eq!(
        plan_json(elsewhere.path(), &[])["settings"]["config"],
        Value::Null
    );
}

#[test]
fn a_bad_configuration_names_the_file_and_the_line() {
    let cwd = tempfile::tempdir().unwrap();
    let fixture = fixture();
    let config = cwd.path().join("settings.toml");
    for (text, says) in [
        ("ignore = [\"HT012\"]\nexpiry-warning-days = \"soon\"\n", "line 2: invalid type: string \"soon\", expected u32"),
        ("# c\n\nignore = [\"HT012\"]\nignores = []\n", "line 4: unknown field `ignores`, expected `ignore` or `expiry-warning-days`"),
        ("ignore = [\n  \"HT012\",\n  \"HT001\",\n]\n", "line 3: ignore: HT001 (hybrid-connector-without-certificate-name) is an error and cannot be ignored"),
        ("expiry-warning-days = 0\n", "line 1: expiry-warning-days: 0 is not a number of days from 1 to 3650"),
        ("ignore = \"HT012\n", "line 1:"),
    ] {
        std::fs::write(&config, text).unwrap();
        let (code, stdout, stderr) = run_in(
            cwd.path(),
            &["plan", fixture.to_str().unwrap(), "--config", config.to_str().unwrap()],
        );
        assert_eq!(code, 1, "{text}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(
            stderr.starts_with(&format!("error: {}, {says}", hybridtls::input::display(&config))),
            "{text}: {stderr}"
        );
    }
    let (code, _, stderr) = run_in(
        cwd.path(),
        &["plan", fixture.to_str().unwrap(), "--config", "missing.toml"],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("missing.toml"), "{stderr}");
}
