//! A script holds only the steps its plan makes: a reviewer who greps for Remove-Item finds it
//! only where the plan removes something, and the path Remove-Item deletes is built only from a
//! planned removal.

mod support;

use hybridtls::plan::ServerPlan;
use hybridtls::render::script;
use hybridtls::steps::{StepKind, KINDS};
use hybridtls::{diagnose, input, plan};
use support::powershell::assert_parses_cleanly;
use time::macros::datetime;

/// Every server plan with a script, of every example and rule fixture (found by walking, so a
/// new fixture or kind of step is covered without a change here).
fn example_plans() -> Vec<(String, ServerPlan, Vec<hybridtls::model::InputFile>)> {
    let mut out = Vec::new();
    for dir in support::generated::inputs() {
        let Ok(inventory) = input::load(std::slice::from_ref(&dir)) else {
            continue;
        };
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

/// The `$Planned...` tables a kind's partial declares (`$PlannedImports = @(`).
fn declared_tables(template: &str) -> Vec<String> {
    template
        .lines()
        .filter_map(|line| line.strip_suffix(" = @("))
        .filter(|name| name.starts_with("$Planned"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn each_script_holds_only_the_kinds_of_step_its_plan_makes() {
    let mut kinds_seen: Vec<&StepKind> = Vec::new();
    for (example, server_plan, inputs) in example_plans() {
        let planned: Vec<&StepKind> = server_plan.steps.iter().map(|p| p.step.kind()).collect();
        let has = |kind: &StepKind| planned.contains(&kind);
        kinds_seen.extend(planned.iter().copied());
        let remediate = script::remediation(&server_plan, &inputs, "2026-11-24T00:00:00Z", "00").unwrap();
        let rollback = script::rollback(&server_plan, &inputs, "2026-11-24T00:00:00Z", "00").unwrap();
        for (script_name, text, template, cmdlets) in [
            (
                "remediate.ps1",
                &remediate,
                (|kind: &StepKind| kind.remediate_template) as fn(&StepKind) -> &'static str,
                (|kind: &StepKind| kind.remediate_cmdlets) as fn(&StepKind) -> &'static [&'static str],
            ),
            (
                "rollback.ps1",
                &rollback,
                |kind| kind.rollback_template,
                |kind| kind.rollback_cmdlets,
            ),
        ] {
            let name = format!("{example}/{script_name}");
            for kind in KINDS {
                for table in declared_tables(template(kind)) {
                    assert_presence(&name, text, &format!("{table} = @("), has(kind));
                }
                for cmdlet in cmdlets(kind) {
                    let needed = KINDS.iter().any(|k| has(k) && cmdlets(k).contains(cmdlet));
                    assert_presence(&name, text, &format!("'{cmdlet}'"), needed);
                }
            }
            assert_parses_cleanly(text.trim_start_matches('\u{FEFF}'));
        }
    }
    for kind in KINDS {
        assert!(
            kinds_seen.contains(kind),
            "no example or rule fixture plans a {} step: add a fixture that does",
            kind.name
        );
        assert!(
            !declared_tables(kind.remediate_template).is_empty(),
            "{}'s remediate partial declares no $Planned table",
            kind.name
        );
    }
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
