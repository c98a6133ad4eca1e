//! Never a false all-clear: a missing, empty or linked export is said, never read as "nothing
//! to change".

mod support;

use std::ffi::OsStr;
use std::path::Path;

use support::cli::hybridtls;

const SEED002: &str = "examples/seed002-keyless-duplicate-edge/hybridtls-EDGE01";
const SEED003: &str = "examples/seed003-removed-certificate";

fn plan(inputs: &[&Path]) -> (i32, String, String) {
    let mut args = vec![
        OsStr::new("plan"),
        OsStr::new("--now"),
        OsStr::new("2026-11-24T00:00:00Z"),
        OsStr::new("--detailed-exitcode"),
    ];
    args.extend(inputs.iter().map(|input| input.as_os_str()));
    hybridtls(&args)
}

#[test]
fn an_empty_receive_connector_export_is_an_error_not_an_all_clear() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("receive-connectors.json"), "\u{FEFF}[]\r\n").unwrap();
    std::fs::copy(
        Path::new(SEED003).join("exchange-certificates.json"),
        dir.path().join("exchange-certificates.json"),
    )
    .unwrap();
    let (code, stdout, stderr) = plan(&[dir.path()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("no receive connector was read"), "{stderr}");
    assert!(
        stderr.contains("receive-connectors.json held no objects"),
        "{stderr}"
    );
    assert!(!stdout.contains("No changes"), "{stdout}");
}

#[test]
fn receive_connectors_without_any_certificate_are_a_missing_export() {
    let (code, stdout, _) = plan(&[&Path::new(SEED003).join("receive-connectors.json")]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("HT017"), "{stdout}");
    assert!(stdout.contains("no certificate of"), "{stdout}");
    assert!(!stdout.contains("No changes"), "{stdout}");
}

#[test]
fn a_server_whose_connector_export_is_empty_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let second = dir.path().join("hybridtls-EX09");
    std::fs::create_dir(&second).unwrap();
    std::fs::write(
        second.join("server.json"),
        "[{\"HybridTlsCollector\": 1, \"Name\": \"EX09\", \"Fqdn\": \"ex09.contoso.com\", \"ServerRole\": \"Mailbox\"}]",
    )
    .unwrap();
    std::fs::write(second.join("receive-connectors.json"), "[]").unwrap();
    let (code, stdout, stderr) = plan(&[Path::new(SEED002), dir.path()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let finding = stdout
        .lines()
        .skip_while(|line| !line.contains("HT017"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(finding.contains("EX09"), "the empty server is named:\n{stdout}");
    assert!(finding.contains("no receive connector of EX09"), "{finding}");
}

#[cfg(unix)]
#[test]
fn a_linked_export_in_a_folder_is_read() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["exchange-certificates.json", "receive-connectors.json"] {
        let target = std::fs::canonicalize(Path::new(SEED003).join(file)).unwrap();
        std::os::unix::fs::symlink(target, dir.path().join(file)).unwrap();
    }
    let (code, linked, _) = plan(&[dir.path()]);
    let (_, copied, _) = plan(&[Path::new(SEED003)]);
    assert_eq!(code, 2, "{linked}");
    let plan_line = |text: &str| text.lines().last().unwrap_or_default().to_owned();
    assert_eq!(
        plan_line(&linked),
        plan_line(&copied),
        "the linked exports plan like the originals"
    );
}
