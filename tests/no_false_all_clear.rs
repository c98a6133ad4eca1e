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

// Issue 17 point 1 and issue 18 point 3: a check that lacks an export or a property is listed
// as not checked, with what is missing, where and how to export it, and the plan is no
// all-clear. Each case starts from a complete export set that plans nothing (seed 004's server
// after its fix: the intermediate listed in CA) and takes one thing away.

const SEED004: &str = "examples/seed004-missing-intermediate";

/// A UTF-8 (BOM) export as a JSON array.
fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(text.trim_start_matches('\u{FEFF}')).unwrap()
}

fn write_json(path: &Path, value: &serde_json::Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// Seed 004's server with the intermediate installed: every export `hybridtls collect` writes
/// but the Auth and hybrid configurations, and nothing to change.
fn complete_set() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(SEED004).join("hybridtls-EXCH02");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let pem = std::fs::read_to_string(Path::new(SEED004).join("intermediate.pem")).unwrap();
    let base64: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    let ca = dir.path().join("store-CA.json");
    let mut listing = read_json(&ca);
    listing.as_array_mut().unwrap().push(serde_json::json!({
        "Store": "CA", "HasPrivateKey": false, "RawData": base64
    }));
    write_json(&ca, &listing);
    // The TLS settings of a healthy server and a protocol log, as the collector writes them
    // (HT050 to HT055).
    support::tls_settings::write_healthy(dir.path(), "EXCH02");
    support::tls_settings::write_no_events(dir.path());
    std::fs::write(
        dir.path().join(support::org::QUIET_LOG_NAME),
        support::org::QUIET_LOG,
    )
    .unwrap();
    dir
}

/// Removes `property` from every object of the export `file` in `dir`.
fn drop_property(dir: &Path, file: &str, property: &str) {
    let path = dir.join(file);
    let mut value = read_json(&path);
    for object in value.as_array_mut().unwrap() {
        object.as_object_mut().unwrap().remove(property);
    }
    write_json(&path, &value);
}

/// The plan as JSON with --detailed-exitcode: its exit code and document.
fn plan_json(dir: &Path) -> (i32, serde_json::Value) {
    let (code, stdout, stderr) = hybridtls(&[
        OsStr::new("plan"),
        OsStr::new("--now"),
        OsStr::new("2026-11-24T00:00:00Z"),
        OsStr::new("--detailed-exitcode"),
        OsStr::new("--format"),
        OsStr::new("json"),
        dir.as_os_str(),
    ]);
    assert!(code != 1, "{stderr}");
    (code, support::schema::assert_valid_plan(&stdout))
}

/// The one not_checked entry of `rule`.
fn not_checked<'a>(plan: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    let entries: Vec<&serde_json::Value> = plan["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["rule"] == rule)
        .collect();
    assert_eq!(entries.len(), 1, "one {rule} entry expected: {plan:#}");
    entries[0]
}

#[test]
fn the_complete_set_plans_nothing_and_exits_0() {
    let dir = complete_set();
    let (code, stdout, _) = plan(&[dir.path()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("No changes. The TLS certificate setup matches"),
        "{stdout}"
    );
    assert!(!stdout.contains("Not checked"), "{stdout}");
    let (_, plan) = plan_json(dir.path());
    assert_eq!(plan["not_checked"], serde_json::json!([]));
    assert_eq!(plan["summary"]["not_checked"], 0);
}

/// Each store listing left out: its check did not run, the plan says which listing and gives
/// the collector's command for it, in the text, in plan.json and in report.md.
#[test]
fn a_missing_store_listing_is_not_checked_with_the_command_that_makes_it() {
    // The Root listing is read by two checks: the chain's root (HT011) and Exchange Online's
    // root on a server that validates Exchange Online's certificate (HT041).
    for (file, rule, store, count) in [
        ("store-My.json", "HT009", "My", 1),
        ("store-CA.json", "HT010", "CA", 1),
        ("store-Root.json", "HT011", "Root", 2),
    ] {
        let dir = complete_set();
        std::fs::remove_file(dir.path().join(file)).unwrap();
        let (code, stdout, _) = plan(&[dir.path()]);
        assert_eq!(code, 2, "{file}: {stdout}");
        assert!(!stdout.contains("No changes. The TLS"), "{file}: {stdout}");
        assert!(
            stdout.contains(&format!(
                "No changes in what was checked, but {count} check(s) could not be judged"
            )),
            "{file}: {stdout}"
        );
        let listing = format!("the Cert:\\LocalMachine\\{store} listing was not given");
        assert!(stdout.contains(&listing), "{file}: {stdout}");
        let command = format!("PS> ConvertTo-Json -InputObject @(Get-ChildItem Cert:\\LocalMachine\\{store} | Select-Object @{{n='Store';e={{'{store}'}}}}");
        assert!(stdout.contains(&command), "{file}: {stdout}");
        assert!(
            stdout.ends_with(&format!("0 manual, {count} not checked.\n")),
            "{file}: {stdout}"
        );
        let (code, plan) = plan_json(dir.path());
        assert_eq!(code, 2);
        let entry = not_checked(&plan, rule);
        assert_eq!(entry["server"], "EXCH02");
        assert_eq!(entry["missing_kind"], "export");
        assert_eq!(
            entry["missing"],
            format!("the Cert:\\LocalMachine\\{store} listing")
        );
        assert!(entry["command"]
            .as_str()
            .unwrap()
            .ends_with(&format!("> store-{store}.json")));
        let out = tempfile::tempdir().unwrap();
        let (_, _, stderr) = hybridtls(&[
            OsStr::new("plan"),
            OsStr::new("--now"),
            OsStr::new("2026-11-24T00:00:00Z"),
            OsStr::new("--out"),
            out.path().as_os_str(),
            dir.path().as_os_str(),
        ]);
        let report = std::fs::read_to_string(out.path().join("report.md")).unwrap_or_else(|_| stderr.clone());
        assert!(report.contains("## Not checked"), "{report}");
        assert!(report.contains("This is not an all-clear"), "{report}");
        assert!(!report.contains("Nothing is broken"), "{report}");
        assert!(report.contains(&format!("- {rule} ")), "{report}");
    }
}

#[test]
fn without_the_send_connector_export_the_send_side_is_not_checked() {
    let dir = complete_set();
    std::fs::remove_file(dir.path().join("send-connectors.json")).unwrap();
    let (code, plan) = plan_json(dir.path());
    assert_eq!(code, 2);
    let entry = not_checked(&plan, "HT015");
    assert_eq!(entry["server"], serde_json::Value::Null);
    assert_eq!(entry["missing"], "the Get-SendConnector export");
    assert!(entry["command"]
        .as_str()
        .unwrap()
        .starts_with("Get-SendConnector | Select-Object"));
}

/// A property a check reads, left out of a given export: not judged, naming the property, the
/// file and the record.
#[test]
fn an_absent_property_is_not_judged_with_its_file_and_record() {
    for (file, property, rule, object) in [
        (
            "receive-connectors.json",
            "AuthMechanism",
            "HT006",
            "EXCH02\\Default Frontend EXCH02",
        ),
        (
            "send-connectors.json",
            "SourceTransportServers",
            "HT015",
            "Outbound to Office 365 - a4e2c9d7-1b3f-4c8e-9d2a-6f5b7e0c1d38",
        ),
    ] {
        let dir = complete_set();
        drop_property(dir.path(), file, property);
        let (code, document) = plan_json(dir.path());
        assert_eq!(code, 2, "{property}: {document:#}");
        let entry = not_checked(&document, rule);
        assert_eq!(entry["missing_kind"], "property");
        assert_eq!(entry["missing"], property);
        assert_eq!(entry["object"], object);
        assert!(entry["file"].as_str().unwrap().ends_with(file), "{entry:#}");
        assert!(
            entry["position"].as_str().unwrap().starts_with("record "),
            "{entry:#}"
        );
        assert!(entry["how"].as_str().unwrap().contains(property), "{entry:#}");
        let (_, stdout, _) = plan(&[dir.path()]);
        assert!(
            stdout.contains(&format!("not judged: {property} is missing from")),
            "{stdout}"
        );
    }
}

/// Without RawData neither the key size (HT013), the signature (HT014) nor the chain (HT010)
/// can be judged: the certificate is read from the other properties, and the checks say so.
#[test]
fn a_certificate_without_raw_data_is_not_judged_by_the_checks_that_read_its_der() {
    let dir = complete_set();
    for file in ["exchange-certificates.json", "store-My.json"] {
        drop_property(dir.path(), file, "RawData");
    }
    let (code, plan) = plan_json(dir.path());
    assert_eq!(code, 2, "{plan:#}");
    for rule in ["HT010", "HT013", "HT014"] {
        let entry = not_checked(&plan, rule);
        assert_eq!(entry["missing"], "RawData", "{entry:#}");
        assert_eq!(entry["object"], "6F03037749C47D1919712E0CE89BABDEDAFB4047");
    }
}

/// The Exchange Online connectors, when given: a property the comparison reads that the export
/// left out is not judged (null `TlsSenderCertificateName` is a connector that attributes by
/// address; absent is an export that left it out).
#[test]
fn exchange_online_connectors_without_the_properties_compared_are_not_judged() {
    let inbound = serde_json::json!([{
        "Name": "Inbound from fabrikam", "ConnectorType": "OnPremises", "Enabled": true,
        "TlsSenderCertificateName": "mail.fabrikam.com", "SenderIPAddresses": []
    }]);
    let outbound = serde_json::json!([{
        "Name": "Outbound to fabrikam", "ConnectorType": "OnPremises", "Enabled": true,
        "TlsSettings": "DomainValidation", "TlsDomain": "mail.fabrikam.com",
        "SmartHosts": ["mail.fabrikam.com"], "UseMXRecord": false
    }]);
    let with = |file: &str, value: &serde_json::Value, drop: Option<&str>| {
        let dir = complete_set();
        let mut value = value.clone();
        if let Some(property) = drop {
            value[0].as_object_mut().unwrap().remove(property);
        }
        write_json(&dir.path().join(file), &value);
        // With Exchange Online's connectors, the tenant's accepted domains are compared too (HT043).
        let accepted = serde_json::json!([{ "DomainName": "fabrikam.com", "DomainType": "Authoritative" }]);
        write_json(&dir.path().join("accepted-domains.json"), &accepted);
        dir
    };
    for (file, value) in [
        ("inbound-connectors.json", &inbound),
        ("outbound-connectors.json", &outbound),
    ] {
        let dir = with(file, value, None);
        let (code, plan) = plan_json(dir.path());
        assert_eq!(code, 0, "{file} complete: {plan:#}");
    }
    for (file, value, property, rule) in [
        ("inbound-connectors.json", &inbound, "ConnectorType", "HT030"),
        (
            "inbound-connectors.json",
            &inbound,
            "TlsSenderCertificateName",
            "HT030",
        ),
        ("outbound-connectors.json", &outbound, "ConnectorType", "HT031"),
        ("outbound-connectors.json", &outbound, "TlsSettings", "HT031"),
        ("outbound-connectors.json", &outbound, "TlsDomain", "HT031"),
    ] {
        let dir = with(file, value, Some(property));
        let (code, plan) = plan_json(dir.path());
        assert_eq!(code, 2, "{property}: {plan:#}");
        let entry = not_checked(&plan, rule);
        assert_eq!(entry["missing"], property, "{entry:#}");
        assert!(entry["file"].as_str().unwrap().ends_with(file));
    }
}

/// A CA listing made by hand without `Store` holds no Exchange property either: it is no
/// Get-ExchangeCertificate export (which would put the CA certificates into My). It is
/// skipped with the reason, and the CA check says the listing is missing.
#[test]
fn a_ca_listing_without_store_is_not_read_as_exchange_certificates() {
    let dir = complete_set();
    drop_property(dir.path(), "store-CA.json", "Store");
    let (code, stdout, stderr) = plan(&[dir.path()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let skipped = stdout
        .lines()
        .find(|line| line.contains("skipped") && line.contains("store-CA.json"));
    assert!(
        skipped.is_some_and(|line| line.contains("Store")),
        "the listing is skipped, saying it lacks Store:\n{stdout}"
    );
    let (_, plan) = plan_json(dir.path());
    assert_eq!(
        not_checked(&plan, "HT010")["missing"],
        "the Cert:\\LocalMachine\\CA listing"
    );
}

/// The commands the plan prints for a missing export are the README's hand-export commands,
/// the three store listings among them.
#[test]
fn the_readme_gives_every_command_the_plan_asks_for() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    for export in hybridtls::diagnose::needs::Export::ALL {
        assert!(
            readme.contains(&format!("    {}\n", export.command())),
            "README.md lacks the command for {}: {}",
            export.describe(),
            export.command()
        );
    }
}
