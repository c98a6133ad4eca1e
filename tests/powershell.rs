//! Every generated script run in real PowerShell, against the simulated Exchange server of
//! `tests/powershell/SimulatedExchange.psm1`, by the Pester tests in `tests/powershell/`.
//!
//! The cases are found, not listed: every example and every rule fixture is planned with the real
//! binary into a temporary folder, and every server plan that wrote a `remediate.ps1` becomes a
//! case, so a new fixture or a new kind of step is run without this file changing. Pester runs in
//! two PowerShell processes (the cases split in halves), one per core. Its closing line is written
//! past the test harness's capture, so `cargo test` shows how many PowerShell tests ran.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use support::generated;

const PROCESSES: usize = 2;

/// The folders below `dir` that hold a `remediate.ps1`, sorted.
fn script_folders(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if dir.join("remediate.ps1").is_file() {
        found.push(dir.to_path_buf());
    }
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    children.sort();
    for child in children {
        found.extend(script_folders(&child));
    }
    found
}

/// `$PlannedServer = '...'` of a generated script (the value is a plain server name).
fn planned_server(script: &Path) -> String {
    let text = std::fs::read_to_string(script).unwrap();
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix("$PlannedServer = '"))
        .expect("a script names its server");
    line.trim_end_matches('\'').to_owned()
}

fn cases(out: &Path) -> Vec<Value> {
    let collector = out.join("Collect-HybridTls.ps1");
    generated::write_collector(&collector);
    let crate_root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = Vec::new();
    for input in generated::inputs() {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let plan_folder = out.join(&name);
        generated::plan_into(&input, &plan_folder);
        // PowerShell runs elsewhere: it gets absolute paths.
        let input = crate_root.join(&input);
        let plan: Value =
            serde_json::from_str(&std::fs::read_to_string(plan_folder.join("plan.json")).unwrap()).unwrap();
        // A case: one server's script (None: the collector's run only) and its collector folder.
        let case = |server: &str, script: Option<&Path>| {
            json!({
                "Name": format!("{name} {server}"),
                "InputFolder": input,
                "ScriptFolder": script,
                "PlanFolder": plan_folder,
                "Server": server,
                "Imports": plan["summary"]["import"].as_u64().unwrap_or(0) > 0,
                // A collector folder: the collector runs against the same simulated server.
                "Collected": input.join(format!("hybridtls-{server}")).is_dir(),
                "Collector": collector,
                "Binary": env!("CARGO_BIN_EXE_hybridtls"),
                "Now": generated::NOW,
            })
        };
        let mut scripted_servers = Vec::new();
        for folder in script_folders(&plan_folder) {
            let server = planned_server(&folder.join("remediate.ps1"));
            cases.push(case(&server, Some(&folder)));
            scripted_servers.push(server);
        }
        // The collector also runs on every collector folder whose server has no script: what
        // it writes must plan as the exports do there too (HT041 and HT042's registry value,
        // their Root listings and transport services).
        for server in collector_servers(&input) {
            if !scripted_servers.contains(&server) {
                cases.push(case(&server, None));
            }
        }
    }
    cases
}

/// The servers of the collector folders (`hybridtls-<server>`) in `input`, in name order.
fn collector_servers(input: &Path) -> Vec<String> {
    let mut servers: Vec<String> = std::fs::read_dir(input)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            name.strip_prefix("hybridtls-").map(str::to_owned)
        })
        .collect();
    servers.sort();
    servers
}

#[test]
fn every_generated_script_passes_the_pester_tests_against_a_simulated_exchange() {
    let Some(pwsh) = support::pwsh::require("PowerShell tests") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let cases = cases(out.path());
    assert!(cases.len() >= 4, "the examples' scripts are missing");
    // Scripts.Tests.ps1 tests the collector's copying of protocol logs on this case alone.
    assert!(
        cases
            .iter()
            .any(|case| case["Name"] == "HT055-collected EX01" && case["Collected"] == true),
        "the case with a copied protocol log is missing"
    );
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/powershell");
    let runner = tests.join("Invoke-ScriptTests.ps1");
    let mut running = Vec::new();
    for (index, share) in cases.chunks(cases.len().div_ceil(PROCESSES)).enumerate() {
        let file = out.path().join(format!("cases-{index}.json"));
        std::fs::write(&file, serde_json::to_string_pretty(share).unwrap()).unwrap();
        let child = Command::new(&pwsh)
            .args(["-NoProfile", "-NonInteractive", "-File"])
            .arg(&runner)
            .arg("-CasesFile")
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        running.push(child);
    }
    let children: Vec<_> = running
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    let mut passed = 0;
    let mut failed = 0;
    let mut reports = String::new();
    for child in &children {
        let stdout = String::from_utf8_lossy(&child.stdout);
        let stderr = String::from_utf8_lossy(&child.stderr);
        let summary = stdout
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("PESTER "))
            .unwrap_or_else(|| panic!("Pester did not finish:\n{stdout}\n{stderr}"));
        let counts: Vec<u64> = summary
            .split_whitespace()
            .filter_map(|word| word.parse().ok())
            .collect();
        passed += counts[0];
        failed += counts[1];
        if !child.status.success() {
            reports.push_str(&stdout);
            reports.push_str(&stderr);
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "PowerShell (Pester, {} scripts, {} collector runs): {passed} passed, {failed} failed",
        cases
            .iter()
            .filter(|case| !case["ScriptFolder"].is_null())
            .count(),
        cases.iter().filter(|case| case["Collected"] == true).count()
    );
    assert!(failed == 0 && reports.is_empty(), "{reports}");
    assert!(passed > 0, "no PowerShell test ran");
}
