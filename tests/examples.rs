//! The shipped examples end to end: golden outputs, determinism, valid PowerShell, a plan.json
//! that validates against the schema, and idempotence (planning over the fixed state is empty).
//!
//! Golden files live in tests/golden/<example>/. After an intended change, regenerate them on
//! purpose with `HYBRIDTLS_UPDATE_GOLDEN=1 cargo test --test examples` and read the diff.

mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hybridtls::model::{Certificate, Inventory, Store, TlsCertificateName};
use hybridtls::steps::{ImportIntermediate, RemoveCertificate, SetReceiveCertificateName};
use hybridtls::{diagnose, input, plan};
use support::powershell::{assert_parses_cleanly, assert_value_only_in_literals};
use support::schema::assert_valid_plan;
use time::macros::datetime;

use support::generated::NOW;
const OUTPUTS: [&str; 5] = [
    "remediate.ps1",
    "rollback.ps1",
    "plan.json",
    "report.md",
    "report.html",
];

fn examples() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 2, "the examples are missing");
    dirs
}

fn run_plan(example: &Path, out: &Path) -> (i32, String) {
    let output = Command::cargo_bin("hybridtls")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["plan", "--now", NOW, "--detailed-exitcode", "--out"])
        .arg(out)
        .arg(example)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "{}: {stderr}", example.display());
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

#[test]
fn examples_match_their_golden_outputs_and_are_deterministic() {
    let update = std::env::var_os("HYBRIDTLS_UPDATE_GOLDEN").is_some();
    for example in examples() {
        let name = example.file_name().unwrap().to_string_lossy().into_owned();
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let (code, stdout) = run_plan(&example, first.path());
        assert_eq!(code, 2, "{name}: every example has something to fix\n{stdout}");
        run_plan(&example, second.path());
        let golden = Path::new("tests/golden").join(&name);
        for output in OUTPUTS {
            let produced = read(&first.path().join(output));
            assert_eq!(
                produced,
                read(&second.path().join(output)),
                "{name}/{output} differs between two runs"
            );
            let expected_path = golden.join(output);
            if update {
                std::fs::create_dir_all(&golden).unwrap();
                match &produced {
                    Some(bytes) => std::fs::write(&expected_path, bytes).unwrap(),
                    None => {
                        let _ = std::fs::remove_file(&expected_path);
                    }
                }
                continue;
            }
            assert_eq!(
                produced.as_deref().map(String::from_utf8_lossy),
                read(&expected_path).as_deref().map(String::from_utf8_lossy),
                "{name}/{output} differs from tests/golden; if the change is intended, regenerate with HYBRIDTLS_UPDATE_GOLDEN=1 and review the diff"
            );
        }
        let stdout_golden = golden.join("stdout.txt");
        // Paths are shown with `/` on every system.
        let stdout = stdout.replace(&input::display(first.path()), "<out>");
        if update {
            std::fs::write(&stdout_golden, &stdout).unwrap();
        } else {
            assert_eq!(
                stdout,
                std::fs::read_to_string(&stdout_golden).unwrap_or_default(),
                "{name}: stdout"
            );
        }
    }
}

#[test]
fn generated_scripts_are_valid_powershell_with_bom_and_crlf() {
    for example in examples() {
        let out = tempfile::tempdir().unwrap();
        run_plan(&example, out.path());
        for script in ["remediate.ps1", "rollback.ps1"] {
            let bytes = std::fs::read(out.path().join(script)).unwrap();
            assert!(
                bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
                "{script} must start with a UTF-8 BOM"
            );
            let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
            assert!(
                !text.replace("\r\n", "").contains('\n'),
                "{script}: a bare LF outside CRLF"
            );
            assert_parses_cleanly(&text);
            for needle in [
                "[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]",
                "Set-StrictMode -Version Latest",
                "$ErrorActionPreference = 'Stop'",
                "Start-Transcript",
                "$PSCmdlet.ShouldProcess(",
            ] {
                assert!(
                    text.contains(needle),
                    "{}: {script} lacks {needle}",
                    example.display()
                );
            }
        }
    }
}

/// The schema's action kinds are the step kinds of the library, plus the restart and the manual
/// action: a new kind of step must appear in the schema. Regenerated with the goldens.
#[test]
fn the_schema_lists_every_kind_of_step() {
    let path = "schema/plan.schema.json";
    let text = std::fs::read_to_string(path).unwrap();
    let kinds: Vec<&str> = hybridtls::steps::KINDS
        .iter()
        .map(|kind| kind.name)
        .chain(["restart_service", "manual"])
        .collect();
    let wanted = format!(
        "\"kind\": {{ \"enum\": [{}] }}",
        kinds
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("\"kind\": { \"enum\""))
        .expect("the schema's action kind enum");
    if line.trim() == wanted.trim_end_matches(',') || line.trim().trim_end_matches(',') == wanted {
        return;
    }
    if std::env::var_os("HYBRIDTLS_UPDATE_GOLDEN").is_some() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let comma = if line.trim_end().ends_with(',') { "," } else { "" };
        std::fs::write(path, text.replace(line, &format!("{indent}{wanted}{comma}"))).unwrap();
        return;
    }
    panic!("{path} lists the action kinds {line}, the library has {wanted}; regenerate with HYBRIDTLS_UPDATE_GOLDEN=1");
}

#[test]
fn plan_json_validates_against_the_schema() {
    for example in examples() {
        let out = tempfile::tempdir().unwrap();
        run_plan(&example, out.path());
        let plan = assert_valid_plan(&std::fs::read_to_string(out.path().join("plan.json")).unwrap());
        // The same document on stdout with --format json.
        let stdout = Command::cargo_bin("hybridtls")
            .unwrap()
            .args(["plan", "--format", "json", "--now", NOW])
            .arg(&example)
            .output()
            .unwrap()
            .stdout;
        assert_eq!(assert_valid_plan(&String::from_utf8(stdout).unwrap()), plan);
    }
}

/// What the server looks like after the plan ran: connectors changed, key-less copies removed,
/// intermediates imported.
fn apply(mut inventory: Inventory, plans: &[plan::ServerPlan]) -> Inventory {
    for server_plan in plans {
        for change in server_plan.steps_of::<SetReceiveCertificateName>() {
            let connector = inventory
                .receive_connectors
                .iter_mut()
                .find(|c| c.identity() == change.identity)
                .unwrap();
            connector.tls_certificate_name = Some(change.after.clone());
        }
        inventory.certificates.retain(|c| {
            !(c.store == Store::My
                && server_plan
                    .steps_of::<RemoveCertificate>()
                    .any(|r| r.certificate.thumbprint == c.thumbprint))
        });
        for import in server_plan.steps_of::<ImportIntermediate>() {
            let installed = Certificate {
                server: Some(server_plan.server.clone()),
                store: Store::Ca,
                from_store_listing: true,
                ..import.certificate.clone()
            };
            inventory.certificates.push(installed);
        }
    }
    inventory
}

#[test]
fn planning_over_the_fixed_state_plans_nothing() {
    let now = datetime!(2026-11-24 0:00 UTC);
    for example in examples() {
        let inventory = input::load(std::slice::from_ref(&example)).unwrap();
        let plans = plan::build(&diagnose::diagnose(&inventory, &[], now));
        assert!(
            plans.iter().any(|p| p.has_automatic_steps()),
            "{}",
            example.display()
        );
        let fixed = apply(inventory.clone(), &plans);
        let again = plan::build(&diagnose::diagnose(&fixed, &[], now));
        for server_plan in &again {
            assert!(
                !server_plan.has_automatic_steps(),
                "{}: {server_plan:#?}",
                example.display()
            );
        }
    }
}

#[test]
fn removals_only_ever_target_certificates_without_a_private_key() {
    let now = datetime!(2026-11-24 0:00 UTC);
    for example in examples() {
        let inventory = input::load(std::slice::from_ref(&example)).unwrap();
        for server_plan in plan::build(&diagnose::diagnose(&inventory, &[], now)) {
            for removal in server_plan.steps_of::<RemoveCertificate>() {
                assert_eq!(removal.certificate.has_private_key, Some(false));
                assert!(removal.certificate.from_store_listing);
                assert!(!server_plan
                    .keep
                    .iter()
                    .any(|k| k.thumbprint == removal.certificate.thumbprint));
            }
        }
    }
}

#[test]
fn input_values_enter_the_scripts_only_as_literals() {
    let now = datetime!(2026-11-24 0:00 UTC);
    for example in examples() {
        let inventory = input::load(std::slice::from_ref(&example)).unwrap();
        let plans = plan::build(&diagnose::diagnose(&inventory, &[], now));
        let out = tempfile::tempdir().unwrap();
        run_plan(&example, out.path());
        let script =
            String::from_utf8(std::fs::read(out.path().join("remediate.ps1")).unwrap()[3..].to_vec())
                .unwrap();
        for server_plan in &plans {
            for change in server_plan.steps_of::<SetReceiveCertificateName>() {
                assert_value_only_in_literals(&script, &change.identity);
                assert_value_only_in_literals(&script, &change.after.to_string());
                if let Some(before) = &change.before {
                    assert_value_only_in_literals(&script, &before.to_string());
                }
            }
            for removal in server_plan.steps_of::<RemoveCertificate>() {
                assert_value_only_in_literals(&script, &removal.certificate.subject);
            }
        }
    }
}

#[test]
fn a_connector_already_fixed_is_not_planned_again() {
    // The same inputs with the connector already naming the target certificate.
    let now = datetime!(2026-11-24 0:00 UTC);
    let example = examples()
        .into_iter()
        .find(|e| e.to_string_lossy().contains("seed000"))
        .unwrap();
    let mut inventory = input::load(&[example]).unwrap();
    let target = plan::build(&diagnose::diagnose(&inventory, &[], now))[0]
        .steps_of::<SetReceiveCertificateName>()
        .next()
        .unwrap()
        .certificate
        .clone();
    for connector in &mut inventory.receive_connectors {
        if connector.name.starts_with("Default Frontend") {
            connector.tls_certificate_name = Some(TlsCertificateName::for_certificate(&target));
        }
    }
    // The example's protocol log shows the state before the fix; it does not describe this one.
    inventory.sightings.clear();
    let plans = plan::build(&diagnose::diagnose(&inventory, &[], now));
    assert!(plans.iter().all(|p| p.is_empty()), "{plans:#?}");
}

/// `hybridtls show` renders a saved plan again without the inputs: the text `plan` printed (but
/// for the lines naming the files that run wrote), report.md, report.html and plan.json, byte for
/// byte.
#[test]
fn show_renders_a_saved_plan_as_plan_rendered_it() {
    for example in examples() {
        let out = tempfile::tempdir().unwrap();
        let (_, printed) = run_plan(&example, out.path());
        let printed: String = printed
            .lines()
            .filter(|line| !line.starts_with("Wrote "))
            .map(|line| format!("{line}\n"))
            .collect();
        let show = |args: &[&str]| {
            let output = Command::cargo_bin("hybridtls")
                .unwrap()
                .env("NO_COLOR", "1")
                .arg("show")
                .args(args)
                .output()
                .unwrap();
            assert_eq!(
                output.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        };
        let dir = out.path().to_str().unwrap();
        let plan_json = out.path().join("plan.json");
        let plan_json = plan_json.to_str().unwrap();
        assert_eq!(
            String::from_utf8(show(&[dir])).unwrap(),
            printed,
            "{}",
            example.display()
        );
        assert_eq!(
            show(&[plan_json, "--format", "markdown"]),
            std::fs::read(out.path().join("report.md")).unwrap()
        );
        assert_eq!(
            show(&[dir, "--format", "html"]),
            std::fs::read(out.path().join("report.html")).unwrap()
        );
        assert_eq!(
            show(&[dir, "--format", "json"]),
            std::fs::read(out.path().join("plan.json")).unwrap()
        );
    }
}

#[test]
fn show_refuses_a_file_that_is_no_plan_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    std::fs::write(&file, "{\n  \"format_version\": \"2.2\",\n  \"tool\": 5\n}\n").unwrap();
    let output = Command::cargo_bin("hybridtls")
        .unwrap()
        .arg("show")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("plan.json: line 3, column"), "{stderr}");
    assert!(stderr.contains("plan again with this version"), "{stderr}");
    assert!(output.stdout.is_empty());
}
