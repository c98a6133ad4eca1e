//! Every script hybridtls writes, read by PowerShell's own parser
//! (`[System.Management.Automation.Language.Parser]::ParseFile`) and checked for anything newer
//! than Windows PowerShell 5.1, which Exchange servers run and which cannot run here:
//! remediate.ps1 and rollback.ps1 of every example and every rule fixture, as the real binary
//! writes them (per-server subfolders included), and the collector `hybridtls collect` prints.
//! Scripts are found by walking what `plan` wrote, so a new fixture or kind of step is covered
//! without a change here.
//!
//! All of them go through one pwsh running tests/powershell/Test-ScriptSyntax.ps1, whose tables
//! say what is checked and why. The last test feeds the checker a script of everything it must
//! report, so the check cannot pass by finding nothing. Without PowerShell 7 the tests say
//! SKIPPED and pass, except under CI (see tests/support/pwsh.rs).
//!
//! The scripts stay in target/tmp/powershell_syntax/ for a look after a failure.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use support::cli::hybridtls;
use support::ps_check::{self, Report};

const NOW: &str = "2026-11-24T00:00:00Z";
const SAMPLES: &str = "tests/powershell/samples";

/// Where the generated scripts are written.
fn output_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("powershell_syntax")
}

/// Every example, and every rule fixture: the `HT...` folders, as tests/rules.rs requires them
/// to be named (`certs` beside them holds their certificates, not a fixture).
fn plan_inputs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for (parent, fixtures_only) in [("examples", false), ("tests/fixtures/rules", true)] {
        for entry in std::fs::read_dir(parent).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() && (!fixtures_only || name.starts_with("HT")) {
                dirs.push(path);
            }
        }
    }
    dirs.sort();
    dirs
}

/// Every .ps1 under `dir`, sorted.
fn scripts_under(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|entry| entry.unwrap().into_path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ps1"))
        .collect()
}

/// Runs `hybridtls plan` on every input and `hybridtls collect`, writing under `root`, and returns
/// every script written.
fn write_scripts(root: &Path) -> Vec<PathBuf> {
    let mut scripts = Vec::new();
    for input in plan_inputs() {
        let out = root.join(&input);
        let (code, stdout, stderr) = hybridtls(&[
            OsStr::new("plan"),
            input.as_os_str(),
            OsStr::new("--now"),
            OsStr::new(NOW),
            OsStr::new("--out"),
            out.as_os_str(),
        ]);
        assert_eq!(code, 0, "plan {}: {stderr}\n{stdout}", input.display());
        let written = scripts_under(&out);
        // Every example has something to fix; a fixture may plan manual steps only.
        assert!(
            !input.starts_with("examples") || !written.is_empty(),
            "plan {} wrote no script",
            input.display()
        );
        scripts.extend(written);
    }

    let (code, collector, stderr) = hybridtls(&["collect"]);
    assert_eq!(code, 0, "collect: {stderr}");
    let collector_path = root.join("collect.ps1");
    // As printed: a byte order mark or non-ASCII text matters to 5.1 and is checked.
    std::fs::write(&collector_path, collector).unwrap();
    scripts.push(collector_path);
    scripts
}

/// The checker's report on every generated script, made once for all tests of this file; `None`
/// when there is no PowerShell (the skip has been announced).
fn generated() -> Option<&'static Report> {
    static REPORT: OnceLock<Option<Report>> = OnceLock::new();
    REPORT
        .get_or_init(|| {
            let pwsh = support::pwsh::require("powershell_syntax (generated scripts)")?;
            let root = output_root();
            let _ = std::fs::remove_dir_all(&root);
            let scripts = write_scripts(&root);
            Some(ps_check::check(&pwsh, &scripts, &[]))
        })
        .as_ref()
}

/// `path` shortened to what follows the output folder.
fn short(path: &Path) -> String {
    let root = std::fs::canonicalize(output_root()).unwrap_or_else(|_| output_root());
    path.strip_prefix(&root).unwrap_or(path).display().to_string()
}

#[test]
fn every_generated_script_parses_with_powershells_own_parser() {
    let Some(report) = generated() else { return };
    let mut errors = Vec::new();
    for file in &report.files {
        for e in &file.parse_errors {
            errors.push(format!(
                "{}:{}:{}: {} ({})",
                short(&file.path),
                e.line,
                e.column,
                e.message,
                e.id
            ));
        }
    }
    assert!(
        errors.is_empty(),
        "PowerShell's parser rejects generated scripts (in {}):\n{}",
        output_root().display(),
        errors.join("\n")
    );
    let names: BTreeSet<String> = report
        .files
        .iter()
        .filter_map(|f| f.path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["collect.ps1", "remediate.ps1", "rollback.ps1"].map(String::from)),
        "the scripts checked"
    );
}

#[test]
fn no_generated_script_uses_anything_newer_than_windows_powershell_5_1() {
    let Some(report) = generated() else { return };
    let mut found = Vec::new();
    for file in &report.files {
        for f in &file.findings {
            found.push(format!(
                "{}:{}:{}: {} [{}, PowerShell {}]: {}",
                short(&file.path),
                f.line,
                f.column,
                f.construct,
                f.rule,
                f.since,
                f.text
            ));
        }
    }
    assert!(
        found.is_empty(),
        "generated scripts use what Windows PowerShell 5.1 lacks (in {}):\n{}",
        output_root().display(),
        found.join("\n")
    );
}

/// The rules each line of `script` says it must trigger: `# expect: rule, rule` at its end.
fn expectations(script: &str) -> BTreeMap<usize, BTreeSet<String>> {
    script
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let (_, rules) = line.split_once("# expect: ")?;
            Some((i + 1, rules.split(',').map(|r| r.trim().to_owned()).collect()))
        })
        .collect()
}

#[test]
fn the_checker_reports_each_construct_newer_than_5_1_and_nothing_that_5_1_has() {
    let Some(pwsh) = support::pwsh::require("powershell_syntax (the checker itself)") else {
        return;
    };
    let newer = Path::new(SAMPLES).join("newer-than-5.1.ps1");
    let older = Path::new(SAMPLES).join("windows-powershell-5.1.ps1");
    let broken = tempfile::Builder::new().suffix(".ps1").tempfile().unwrap();
    std::fs::write(broken.path(), "$ok = 1\r\nif ($ok -eq 1 {\r\n").unwrap();
    let report = ps_check::check(
        &pwsh,
        &[newer.clone(), older.clone(), broken.path().to_path_buf()],
        &["-ListRules"],
    );
    let [newer_report, older_report, broken_report] = &report.files[..] else {
        unreachable!("check returns one report per script")
    };

    let expected = expectations(&std::fs::read_to_string(&newer).unwrap());
    let mut reported: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for f in &newer_report.findings {
        reported.entry(f.line).or_default().insert(f.rule.clone());
    }
    assert!(
        newer_report.parse_errors.is_empty(),
        "{:#?}",
        newer_report.parse_errors
    );
    let lines: BTreeSet<usize> = reported.keys().chain(expected.keys()).copied().collect();
    let wrong: Vec<String> = lines
        .into_iter()
        .filter(|line| reported.get(line) != expected.get(line))
        .map(|line| {
            format!(
                "line {line}: reported {:?}, expected {:?}",
                reported.get(&line).cloned().unwrap_or_default(),
                expected.get(&line).cloned().unwrap_or_default()
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{}: the rules reported differ from the `# expect:` comments:\n{}",
        newer.display(),
        wrong.join("\n")
    );

    // Every rule is exercised, so a rule that stopped working cannot hide.
    let exercised: BTreeSet<&String> = expected.values().flatten().collect();
    let rules: BTreeSet<&String> = report.rules.iter().map(|r| &r.rule).collect();
    assert!(rules.len() >= 20, "the checker lists its rules: {rules:?}");
    assert_eq!(
        rules,
        exercised,
        "every rule of {} has a line in {}",
        ps_check::CHECKER,
        newer.display()
    );

    assert!(
        older_report.findings.is_empty() && older_report.parse_errors.is_empty(),
        "{}: what 5.1 has is reported as newer:\n{:#?}\n{:#?}",
        older.display(),
        older_report.findings,
        older_report.parse_errors
    );

    // And every entry of the rules' tables, one per line, in a script made from them.
    let examples: Vec<(&str, &str)> = report
        .rules
        .iter()
        .flat_map(|r| r.examples.iter().map(|e| (r.rule.as_str(), e.as_str())))
        .collect();
    assert!(examples.len() >= 50, "the checker lists its tables: {examples:?}");
    let tables = tempfile::Builder::new().suffix(".ps1").tempfile().unwrap();
    let script: Vec<&str> = examples.iter().map(|(_, code)| *code).collect();
    std::fs::write(tables.path(), script.join("\r\n")).unwrap();
    let tables_report = ps_check::check(&pwsh, &[tables.path().to_path_buf()], &[]);
    let missed: Vec<String> = examples
        .iter()
        .enumerate()
        .filter(|(i, (rule, _))| {
            !tables_report.files[0]
                .findings
                .iter()
                .any(|f| f.line == i + 1 && f.rule == *rule)
        })
        .map(|(_, (rule, code))| format!("{rule}: {code}"))
        .collect();
    assert!(
        missed.is_empty() && tables_report.files[0].parse_errors.is_empty(),
        "entries of the checker's tables it does not report:\n{}\n{:#?}",
        missed.join("\n"),
        tables_report.files[0].parse_errors
    );

    assert!(
        broken_report.parse_errors.iter().any(|e| e.line == 2),
        "a missing ) is a parse error on line 2: {:#?}",
        broken_report.parse_errors
    );
}
