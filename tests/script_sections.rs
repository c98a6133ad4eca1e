//! A script holds only the steps its plan makes: a reviewer who greps for Remove-Item finds it
//! only where the plan removes something, and the path Remove-Item deletes is built only from a
//! planned removal.

mod support;

use hybridtls::plan::ServerPlan;
use hybridtls::render::script;
use hybridtls::{diagnose, input, plan};
use support::powershell::assert_parses_cleanly;
use time::macros::datetime;

fn example_plans() -> Vec<(String, ServerPlan, Vec<hybridtls::model::InputFile>)> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    // The examples change no send connector; these rule fixtures do.
    dirs.extend(
        ["HT015", "HT015-two-servers", "HT015-null-before"]
            .iter()
            .map(|case| std::path::Path::new("tests/fixtures/rules").join(case)),
    );
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        let inventory = input::load(std::slice::from_ref(&dir)).unwrap();
        for server_plan in plan::build(&diagnose::diagnose(
            &inventory,
            &[],
            datetime!(2026-11-24 0:00 UTC),
        )) {
            if server_plan.has_automatic_steps() {
                out.push((dir.display().to_string(), server_plan, inventory.inputs.clone()));
            }
        }
    }
    assert!(out.len() >= 4, "every example plans a script");
    out
}

/// The assertion `present == wanted` for `needle` in `script`, with a message a reader can act on.
fn assert_presence(name: &str, script: &str, needle: &str, wanted: bool) {
    assert_eq!(
        script.contains(needle),
        wanted,
        "{name}: {needle} {} but the plan {} it",
        if wanted { "is missing" } else { "is present" },
        if wanted { "needs" } else { "does not need" },
    );
}

#[test]
fn each_script_holds_only_the_kinds_of_step_its_plan_makes() {
    let mut kinds_seen = [false; 4];
    for (example, server_plan, inputs) in example_plans() {
        let (changes, removals, imports) = (
            !server_plan.changes.is_empty(),
            !server_plan.removals.is_empty(),
            !server_plan.imports.is_empty(),
        );
        kinds_seen[0] |= changes;
        kinds_seen[1] |= removals;
        kinds_seen[2] |= imports;
        let send = !server_plan.send_changes.is_empty();
        kinds_seen[3] |= send;
        let remediate = script::remediation(&server_plan, &inputs, "2026-11-24T00:00:00Z", "00").unwrap();
        let name = format!("{example}/remediate.ps1");
        assert_presence(&name, &remediate, "Set-ReceiveConnector", changes);
        assert_presence(&name, &remediate, "Get-ReceiveConnector", changes);
        assert_presence(&name, &remediate, "$PlannedConnectorChanges", changes);
        assert_presence(&name, &remediate, "Set-SendConnector", send);
        assert_presence(&name, &remediate, "Get-SendConnector", send);
        assert_presence(&name, &remediate, "$PlannedSendConnectorChanges", send);
        assert_presence(&name, &remediate, "Get-TlsCertificateNameText", changes || send);
        assert_presence(&name, &remediate, "Remove-Item", removals);
        assert_presence(&name, &remediate, "Export-Certificate", removals);
        assert_presence(&name, &remediate, "$PlannedRemovals", removals);
        assert_presence(&name, &remediate, "Import-Certificate", imports);
        assert_presence(&name, &remediate, "$PlannedImports", imports);

        let rollback = script::rollback(&server_plan, &inputs, "2026-11-24T00:00:00Z", "00").unwrap();
        let name = format!("{example}/rollback.ps1");
        assert_presence(&name, &rollback, "Set-ReceiveConnector", changes);
        assert_presence(&name, &rollback, "$PlannedConnectorChanges", changes);
        assert_presence(&name, &rollback, "Set-SendConnector", send);
        assert_presence(&name, &rollback, "$PlannedSendConnectorChanges", send);
        // Rollback re-imports what remediate removed, and removes only imported intermediates.
        assert_presence(&name, &rollback, "Import-Certificate", removals);
        assert_presence(&name, &rollback, "$PlannedRemovals", removals);
        assert_presence(&name, &rollback, "Remove-Item", imports);
        assert_presence(&name, &rollback, "RemoveImportedIntermediates", imports);
        for text in [&remediate, &rollback] {
            assert_parses_cleanly(text.trim_start_matches('\u{FEFF}'));
        }
    }
    assert_eq!(
        kinds_seen, [true; 4],
        "the examples and fixtures cover every kind of step"
    );
}

/// The variable a `Remove-Item -LiteralPath $x` deletes, with every right-hand side assigned to it.
fn removal_path_assignments(script: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for line in script.lines().filter(|l| l.contains("Remove-Item")) {
        let variable = line
            .split("-LiteralPath ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("Remove-Item without -LiteralPath $variable: {line}"))
            .to_owned();
        assert!(
            variable.starts_with('$'),
            "Remove-Item deletes a literal, not a planned path: {line}"
        );
        let assignment = format!("{variable} = ");
        let sources = script
            .lines()
            .filter_map(|l| l.trim().strip_prefix(&assignment))
            .map(str::to_owned)
            .collect();
        out.push((variable, sources));
    }
    out
}

#[test]
fn the_path_remove_item_deletes_comes_only_from_a_planned_removal() {
    for (example, server_plan, inputs) in example_plans() {
        let remediate = script::remediation(&server_plan, &inputs, "2026-11-24T00:00:00Z", "00").unwrap();
        for (variable, sources) in removal_path_assignments(&remediate) {
            assert!(!sources.is_empty(), "{example}: {variable} is never assigned");
            for source in &sources {
                assert_eq!(
                    source, "'Cert:\\LocalMachine\\My\\' + $removal.Thumbprint",
                    "{example}: {variable} is also assigned from something else"
                );
            }
            // $removal is bound only by loops over the planned removals.
            for line in remediate.lines().filter(|l| l.contains("foreach ($removal in")) {
                assert!(
                    line.contains("$PlannedRemovals") || line.contains("$pendingRemovals"),
                    "{example}: $removal bound by {line}"
                );
            }
        }
        let rollback = script::rollback(&server_plan, &inputs, "2026-11-24T00:00:00Z", "00").unwrap();
        for (variable, sources) in removal_path_assignments(&rollback) {
            assert!(!sources.is_empty(), "{example}: {variable} is never assigned");
            for source in &sources {
                assert_eq!(
                    source, "'Cert:\\LocalMachine\\CA\\' + $import.Thumbprint",
                    "{example}: {variable}"
                );
            }
        }
    }
}
