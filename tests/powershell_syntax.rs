//! Every script hybridtls writes, read by PowerShell's own parser
//! (`[System.Management.Automation.Language.Parser]::ParseFile`) and checked for anything newer
//! than Windows PowerShell 5.1, which Exchange servers run and which cannot run here:
//! remediate.ps1 and rollback.ps1 of every example and every rule fixture, as the real binary
//! writes them (per-server subfolders included), and the collector `hybridtls collect` prints.
//! Scripts are found by walking what `plan` wrote, so a new fixture or kind of step is covered
//! without a change here.
//!
//! All of them go through one pwsh running tests/powershell/Test-ScriptSyntax.ps1, whose tables
//! say what is checked and why. The last test feeds the checker a sample of each construct it
//! must report, a script of every entry of its tables, and lookalikes that 5.1 has, so the check
//! can neither pass by finding nothing nor cry wolf. Without PowerShell 7 the tests say
//! SKIPPED and pass, unless `HYBRIDTLS_REQUIRE_TOOLS` is set (tests/support/tools.rs).
//!
//! After a failure the scripts are kept, in the temporary folder the message names.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use support::generated;
use support::ps_check::{self, Report};

const SAMPLES: &str = "tests/powershell/samples";

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
    for input in generated::inputs() {
        let out = root.join(&input);
        generated::plan_into(&input, &out);
        let written = scripts_under(&out);
        // Every example has something to fix; a fixture may plan manual steps only.
        assert!(
            !input.starts_with("examples") || !written.is_empty(),
            "plan {} wrote no script",
            input.display()
        );
        scripts.extend(written);
    }

    let collector_path = root.join("collect.ps1");
    // As printed: a byte order mark or non-ASCII text matters to 5.1 and is checked.
    generated::write_collector(&collector_path);
    scripts.push(collector_path);
    scripts
}

/// Parse errors and uses of what 5.1 lacks, one line each, as `<path under root>:line:column: ...`.
fn problems(report: &Report, root: &Path) -> (Vec<String>, Vec<String>) {
    let root = std::fs::canonicalize(root).unwrap();
    let (mut errors, mut newer) = (Vec::new(), Vec::new());
    for file in &report.files {
        let path = file.path.strip_prefix(&root).unwrap_or(&file.path).display();
        for e in &file.parse_errors {
            errors.push(format!(
                "{path}:{}:{}: {} ({})",
                e.line, e.column, e.message, e.id
            ));
        }
        for f in &file.findings {
            newer.push(format!(
                "{path}:{}:{}: {} [{}, PowerShell {}]: {}",
                f.line, f.column, f.construct, f.rule, f.since, f.text
            ));
        }
    }
    (errors, newer)
}

/// One pwsh for all scripts, so both checks are made in one test.
#[test]
fn every_generated_script_parses_and_uses_nothing_newer_than_windows_powershell_5_1() {
    let Some(pwsh) = support::pwsh::require("powershell_syntax (generated scripts)") else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("powershell_syntax-")
        .tempdir()
        .unwrap();
    let scripts = write_scripts(dir.path());
    let report = ps_check::check(&pwsh, &scripts, &[]);

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

    let (errors, newer) = problems(&report, dir.path());
    if errors.is_empty() && newer.is_empty() {
        return;
    }
    let kept = dir.keep();
    let mut message = format!(
        "generated scripts fail the PowerShell checks (kept in {}):\n",
        kept.display()
    );
    if !errors.is_empty() {
        message += &format!("\nPowerShell's parser rejects them:\n{}\n", errors.join("\n"));
    }
    if !newer.is_empty() {
        message += &format!(
            "\nThey use what Windows PowerShell 5.1, which Exchange servers run, lacks:\n{}\n",
            newer.join("\n")
        );
    }
    panic!("{message}");
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
