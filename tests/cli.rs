//! The command line as users and pipelines meet it: rules, explain, help, exit codes.

mod support;

use std::path::Path;

use assert_cmd::Command;
use support::cli::hybridtls;
use support::schema::assert_valid_plan;

#[test]
fn rules_lists_every_code_and_explain_prints_its_documentation() {
    let (code, listing, _) = hybridtls(&["rules"]);
    assert_eq!(code, 0);
    let codes: Vec<&str> = listing
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(codes.len() >= 14, "{listing}");
    for rule in codes {
        let (code, page, _) = hybridtls(&["explain", rule]);
        assert_eq!(code, 0, "{rule}");
        assert!(page.starts_with(&format!("# {rule} ")), "{page}");
        assert!(page.contains("## Fix"), "{rule}");
    }
}

#[test]
fn explain_recognises_pasted_error_texts_and_admits_what_it_does_not_know() {
    let (code, page, _) = hybridtls(&[
        "explain",
        "450 4.7.320 Certificate validation failed; MSG=SubjectMismatch",
    ]);
    assert_eq!(code, 0);
    assert!(page.contains("HT001"), "{page}");
    assert!(page.contains("To confirm, export"), "{page}");
    let (code, page, _) = hybridtls(&[
        "explain",
        "TLS",
        "negotiation",
        "failed",
        "with",
        "error",
        "NoCredentials",
    ]);
    assert_eq!(code, 0);
    assert!(page.contains("HT009"), "{page}");
    let (code, page, _) = hybridtls(&["explain", "550 5.1.10 RESOLVER.ADR.RecipientNotFound"]);
    assert_eq!(code, 1);
    assert!(page.starts_with("Not recognised"), "{page}");
}

#[test]
fn explain_recognises_pasted_error_texts_of_the_send_side_and_the_4_4_395_wrapper() {
    let (code, page, _) = hybridtls(&[
        "explain",
        "550 5.7.51 TenantInboundAttribution; There is a partner connector configured that matched the message's recipient domain. The connector had either the RestrictDomainsToIPAddresses or RestrictDomainsToCertificate set",
    ]);
    assert_eq!(code, 0, "{page}");
    for needle in [
        "What it means",
        "TlsSenderCertificateName",
        "HT015",
        "To confirm, export",
        "Get-SendConnector",
    ] {
        assert!(page.contains(needle), "{needle}: {page}");
    }

    // The SmtpSend row of a connection dropped for want of TLS, pasted as it is.
    let (code, page, _) = hybridtls(&[
        "explain",
        "2026-11-23T10:05:01.000Z,Outbound to Office 365,08DE2B7A1C3F0002,15,10.0.0.21:28002,52.101.8.40:25,*,,\"Drop connection because TLS configuration requires TLS before MailFrom command and could not achieve it, check connection authentication setting or remote capabilities\"",
    ]);
    assert_eq!(code, 0, "{page}");
    for needle in ["offered no STARTTLS or refused it", "XXXXXXXA", "HT055"] {
        assert!(page.contains(needle), "{needle}: {page}");
    }

    let (code, page, _) = hybridtls(&[
        "explain",
        "451 4.4.395 Target host responded with error. -> 421 4.4.1 Connection timed out",
    ]);
    assert_eq!(code, 0, "{page}");
    for needle in [
        "Inner response: 421 4.4.1 Connection timed out (explained below)",
        "NoCredentials",
        "HT009",
        "SmtpSend protocol log",
    ] {
        assert!(page.contains(needle), "{needle}: {page}");
    }

    let (code, page, _) = hybridtls(&[
        "explain",
        "451 4.4.395 Target host responded with error. -> 451 5.7.3 STARTTLS is required to send mail",
    ]);
    assert_eq!(code, 0, "{page}");
    assert!(page.contains("HT015"), "{page}");
    assert!(
        !page.contains("HT006"),
        "the receive connector's AuthMechanism is not the cause: {page}"
    );

    let (code, page, _) = hybridtls(&[
        "explain",
        "451 4.4.395 Target host responded with error. -> 550 5.1.10 RESOLVER.ADR.RecipientNotFound",
    ]);
    assert_eq!(code, 0, "{page}");
    assert!(page.contains("hybridtls does not know it"), "{page}");

    let (code, page, _) = hybridtls(&[
        "explain",
        "454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found.",
    ]);
    assert_eq!(code, 0, "{page}");
    assert!(
        page.contains("HT015") && page.contains("To confirm, export"),
        "{page}"
    );
}

#[test]
fn every_command_help_has_an_example() {
    for command in ["plan", "probe", "collect", "rules", "explain", "completions"] {
        let (code, help, _) = hybridtls(&[command, "--help"]);
        assert_eq!(code, 0, "{command}");
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
    }
}

#[test]
fn completions_are_generated_for_the_four_shells() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, script, _) = hybridtls(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(script.contains("hybridtls"), "{shell}");
        assert!(
            script.contains("detailed-exitcode"),
            "{shell} completion lacks plan's flags"
        );
    }
}

#[test]
fn detailed_exitcode_separates_no_change_from_change_in_every_format() {
    let example = "examples/seed000-null-tlscertname";
    for format in ["text", "json"] {
        let (code, _, stderr) = hybridtls(&[
            "plan",
            "--now",
            "2026-11-24T00:00:00Z",
            "--detailed-exitcode",
            "--format",
            format,
            example,
        ]);
        assert_eq!(code, 2, "{format}: {stderr}");
        let (code, _, _) = hybridtls(&[
            "plan",
            "--now",
            "2026-11-24T00:00:00Z",
            "--format",
            format,
            example,
        ]);
        assert_eq!(code, 0, "{format}");
    }
    // The same server with the hybrid connector already fixed, and the store listings a plan
    // needs to say so (the intermediate in CA, the root in Root): nothing to change.
    let dir = tempfile::tempdir().unwrap();
    for file in ["exchange-certificates.json", "send-connectors.json"] {
        std::fs::copy(format!("{example}/{file}"), dir.path().join(file)).unwrap();
    }
    // A protocol log without failures (HT055) and healthy TLS settings (HT050 to HT054) too.
    let log = dir.path().join(support::org::QUIET_LOG_NAME);
    std::fs::write(log, support::org::QUIET_LOG).unwrap();
    support::tls_settings::write_healthy(dir.path(), "SERVER1");
    support::tls_settings::write_no_events(dir.path());
    write_store_listings(dir.path(), &format!("{example}/exchange-certificates.json"));
    let fixed = r#"{"Name": "Default Frontend SERVER1", "Server": "SERVER1", "TransportRole": 16384, "Bindings": ["0.0.0.0:25"],
        "Fqdn": "SERVER1.domain.com", "AuthMechanism": 31,
        "TlsCertificateName": "<I>CN=Example Issuing CA R2, O=Example Trust Services, C=US<S>CN=hybrid.domain.com, O=Domain Ltd, C=US"}"#;
    std::fs::write(dir.path().join("receive-connectors.json"), fixed).unwrap();
    // The internal transport certificate is the self-signed one setup made (HT040).
    let transport = r#"{"Name": "SERVER1", "InternalTransportCertificateThumbprint": "EA0EDA0EA534FCEFE061307D0A09BF42B25F4965"}"#;
    std::fs::write(dir.path().join("transport-services.json"), transport).unwrap();
    let out = dir.path().join("out");
    let dir_arg = dir.path().to_str().unwrap();
    let (code, stdout, stderr) = hybridtls(&[
        "plan",
        "--now",
        "2026-11-24T00:00:00Z",
        "--detailed-exitcode",
        "--out",
        out.to_str().unwrap(),
        dir_arg,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("Plan: 0 to change, 0 to remove, 0 to import, 0 manual."),
        "the summary line must be last: {stdout}"
    );
    assert!(
        !out.join("remediate.ps1").exists(),
        "a script was written although nothing changes"
    );
    assert!(out.join("plan.json").exists());
}

#[test]
fn a_bad_now_is_a_usage_error() {
    let (code, _, stderr) = hybridtls(&["plan", "--now", "yesterday", "examples/seed000-null-tlscertname"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("RFC 3339"), "{stderr}");
}

/// Two servers of one organisation, each with its hybrid connector unset.
fn two_servers(dir: &std::path::Path) {
    let certificate = |server: &str, thumbprint: &str| {
        format!(
            r#"{{"Thumbprint": "{thumbprint}", "Subject": "CN=mail.contoso.com, O=Contoso, C=US", "Issuer": "CN=Contoso CA, O=Contoso, C=US",
                "NotBefore": "\/Date(1780272000000)\/", "NotAfter": "\/Date(2095891200000)\/", "HasPrivateKey": true, "IsSelfSigned": false,
                "Services": 24, "CertificateDomains": ["mail.contoso.com"], "Identity": "{server}.contoso.com\\{thumbprint}"}}"#
        )
    };
    let connector = |server: &str| {
        format!(
            r#"{{"Name": "Default Frontend {server}", "Server": "{server}", "TransportRole": 16384, "Bindings": ["0.0.0.0:25"],
                "Fqdn": "{server}.contoso.com", "AuthMechanism": 31, "TlsCertificateName": null}}"#
        )
    };
    let certificates = format!(
        "[{}, {}]",
        certificate("EX1", "1111111111111111111111111111111111111111"),
        certificate("EX2", "2222222222222222222222222222222222222222")
    );
    std::fs::write(dir.join("certificates.json"), certificates).unwrap();
    std::fs::write(
        dir.join("connectors.json"),
        format!("[{}, {}]", connector("EX1"), connector("EX2")),
    )
    .unwrap();
}

#[test]
fn several_servers_get_one_script_folder_each() {
    let dir = tempfile::tempdir().unwrap();
    two_servers(dir.path());
    let out = dir.path().join("out");
    let (code, stdout, stderr) = hybridtls(&[
        "plan",
        "--fqdn",
        "mail.contoso.com",
        "--now",
        "2026-11-24T00:00:00Z",
        "--out",
        out.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        // The store listings, RawData and the send connector export are not given: the checks
        // that read them are listed as not checked.
        stdout.contains("Plan: 2 to change, 0 to remove, 0 to import, 0 manual, ")
            && stdout.trim_end().ends_with(" not checked."),
        "{stdout}"
    );
    for server in ["EX1", "EX2"] {
        let script = std::fs::read_to_string(out.join(server).join("remediate.ps1")).unwrap();
        assert!(
            script.contains(&format!("$PlannedServer = '{server}'")),
            "{server}"
        );
        assert!(out.join(server).join("rollback.ps1").exists());
    }
    let plan = assert_valid_plan(&std::fs::read_to_string(out.join("plan.json")).unwrap());
    assert_eq!(plan["servers"].as_array().map(Vec::len), Some(2));
    assert!(out.join("report.md").exists());
    assert!(!out.join("remediate.ps1").exists());
}

#[cfg(unix)]
#[test]
fn a_fifo_named_on_the_command_line_is_not_called_missing() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("exports.json");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let output = Command::cargo_bin("hybridtls")
        .unwrap()
        .arg("plan")
        .arg(&fifo)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("not a regular file or folder"), "{stderr}");
    assert!(!stderr.contains("no such file"), "{stderr}");
}

#[test]
fn an_empty_or_malformed_fqdn_is_a_usage_error() {
    for bad in [
        "",
        " ",
        "mail..contoso.com",
        "mail.contoso.com;rm",
        "-mail.contoso.com",
        "*.*.contoso.com",
    ] {
        let output = Command::cargo_bin("hybridtls")
            .unwrap()
            .args([
                "plan",
                &format!("--fqdn={bad}"),
                "examples/seed000-null-tlscertname",
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "--fqdn {bad:?} was accepted");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("not a DNS name"),
            "{bad:?}"
        );
    }
    let output = Command::cargo_bin("hybridtls")
        .unwrap()
        .args([
            "plan",
            "--fqdn",
            "*.Contoso.com",
            "examples/seed000-null-tlscertname",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("*.contoso.com (given with --fqdn)"));
}

#[test]
fn a_huge_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("exports.json");
    // Sparse: takes no disk and, since it is never read, no memory.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(hybridtls::input::MAX_FILE_BYTES + 1)
        .unwrap();
    let output = Command::cargo_bin("hybridtls")
        .unwrap()
        .arg("plan")
        .arg(&huge)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("exports.json") && stderr.contains("more than the"),
        "{stderr}"
    );
}

#[test]
fn a_closed_standard_output_ends_quietly() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hybridtls"))
        .args([
            "plan",
            "--now",
            "2026-11-24T00:00:00Z",
            "examples/seed000-null-tlscertname",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the plan is written, as `| head -0` would.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A temporary folder with seed 003's certificate and receive connector exports, for tests that
/// put other files beside them.
fn seed003_exports() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["exchange-certificates.json", "receive-connectors.json"] {
        std::fs::copy(
            Path::new("examples/seed003-removed-certificate").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    dir
}

#[test]
fn an_unrecognised_json_found_in_a_folder_is_skipped_but_one_named_is_an_error() {
    let dir = seed003_exports();
    let settings = dir.path().join("settings.json");
    std::fs::write(&settings, "{\"editor.fontSize\": 14}").unwrap();
    let output = Command::cargo_bin("hybridtls")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["plan", "--now", "2026-11-24T00:00:00Z", "--detailed-exitcode"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(2),
        "the rest of the folder is planned: {stdout}"
    );
    let skipped = stdout
        .lines()
        .find(|l| l.contains("skipped") && l.contains("settings.json"));
    assert!(
        skipped.is_some_and(|line| line.contains("not an export hybridtls recognises")),
        "the plan says which file was skipped and why:\n{stdout}"
    );
    let json = Command::cargo_bin("hybridtls")
        .unwrap()
        .args(["plan", "--now", "2026-11-24T00:00:00Z", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        plan["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["path"].as_str().unwrap().ends_with("settings.json")),
        "{plan:#}"
    );
    let named = Command::cargo_bin("hybridtls")
        .unwrap()
        .arg("plan")
        .arg(&settings)
        .output()
        .unwrap();
    assert_eq!(named.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&named.stderr).contains("settings.json"));
}

#[test]
fn a_server_script_covers_only_its_own_inputs_and_the_organisation_wide_ones() {
    let dir = tempfile::tempdir().unwrap();
    let shared = tempfile::tempdir().unwrap();
    two_servers(shared.path());
    // One folder per server, as the collector writes them, cut from the two-server exports.
    let records = |file: &str| -> Vec<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(shared.path().join(file)).unwrap()).unwrap()
    };
    for (index, server) in ["EX1", "EX2"].iter().enumerate() {
        let folder = dir.path().join(server.to_lowercase());
        std::fs::create_dir(&folder).unwrap();
        for file in ["certificates.json", "connectors.json"] {
            let record = &records(file)[index];
            std::fs::write(folder.join(file), serde_json::to_string_pretty(record).unwrap()).unwrap();
        }
    }
    let plan_into = |out: &Path| {
        let (code, _, stderr) = hybridtls(&[
            "plan",
            "--fqdn",
            "mail.contoso.com",
            "--now",
            "2026-11-24T00:00:00Z",
            "--out",
            out.to_str().unwrap(),
            dir.path().to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
    };
    let before = tempfile::tempdir().unwrap();
    plan_into(before.path());
    let ex1 = std::fs::read_to_string(before.path().join("EX1/remediate.ps1")).unwrap();
    assert!(ex1.contains("ex1/connectors.json"), "EX1's own inputs are listed");
    assert!(!ex1.contains("ex2/"), "EX2's inputs are not EX1's:\n{ex1}");

    // EX2's export changes (a re-export, say): EX1's plan is the same plan, EX2's is not.
    let ex2_connectors = dir.path().join("ex2/connectors.json");
    let text = std::fs::read_to_string(&ex2_connectors).unwrap();
    std::fs::write(&ex2_connectors, format!("{text}\r\n")).unwrap();
    let after = tempfile::tempdir().unwrap();
    plan_into(after.path());
    for script in ["remediate.ps1", "rollback.ps1"] {
        assert_eq!(
            std::fs::read(before.path().join("EX1").join(script)).unwrap(),
            std::fs::read(after.path().join("EX1").join(script)).unwrap(),
            "EX1/{script} changed when only EX2's export did"
        );
        assert_ne!(
            std::fs::read(before.path().join("EX2").join(script)).unwrap(),
            std::fs::read(after.path().join("EX2").join(script)).unwrap(),
            "EX2/{script} must name its changed input"
        );
    }
}

/// Writes the My, CA and Root listings of seed 000's server into `dir`, as the collector does:
/// My from its Get-ExchangeCertificate export, CA and Root with the example's issuing CA and
/// root (tools/make_examples/certs).
fn write_store_listings(dir: &Path, exchange_certificates: &str) {
    use base64::Engine;
    let base64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
    let bytes = std::fs::read(exchange_certificates).unwrap();
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    let exported: serde_json::Value = serde_json::from_str(&String::from_utf16(&units).unwrap()).unwrap();
    let my: Vec<serde_json::Value> = exported
        .as_array()
        .unwrap()
        .iter()
        .map(|certificate| {
            let raw: Vec<u8> = certificate["RawData"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as u8)
                .collect();
            serde_json::json!({
                "Store": "My",
                "HasPrivateKey": certificate["HasPrivateKey"],
                "RawData": base64(&raw),
            })
        })
        .collect();
    let listing = |store: &str, files: &[&str]| {
        let records: Vec<serde_json::Value> = files
            .iter()
            .map(|file| {
                let der = std::fs::read(format!("tools/make_examples/{file}")).unwrap();
                serde_json::json!({ "Store": store, "HasPrivateKey": false, "RawData": base64(&der) })
            })
            .collect();
        serde_json::Value::Array(records)
    };
    for (name, value) in [
        ("store-My.json", serde_json::Value::Array(my)),
        (
            "store-CA.json",
            listing("CA", &["certs/example-issuing-ca-r2.der"]),
        ),
        // The chain's root, and Exchange Online's, which a server that validates Exchange
        // Online's certificate fetched (HT041).
        (
            "store-Root.json",
            listing(
                "Root",
                &["certs/example-root-ca.der", "digicert-global-root-g2.der"],
            ),
        ),
    ] {
        std::fs::write(dir.join(name), value.to_string()).unwrap();
    }
}

/// Issue 17 point 6: in a folder, a JSON export of another cmdlet that shares a property name
/// with one hybridtls reads (IIS Get-WebSite has `Bindings`), the CLIXML of another cmdlet and an
/// `.xml` file that is no CLIXML are listed as skipped with the reason; the exports beside them
/// are planned.
#[test]
fn other_cmdlets_json_and_xml_files_in_a_folder_are_skipped_with_the_reason() {
    let dir = seed003_exports();
    // Get-WebSite | ConvertTo-Json (PowerShell 7, WebAdministration), shortened.
    std::fs::write(
        dir.path().join("iis-sites.json"),
        r#"[{"name": "Default Web Site", "id": 1, "state": "Started", "physicalPath": "%SystemDrive%\\inetpub\\wwwroot",
            "bindings": {"Collection": [{"protocol": "http", "bindingInformation": "*:80:", "sslFlags": 0}]}}]"#,
    )
    .unwrap();
    let clixml: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><Obj RefId=\"0\"><TN RefId=\"0\"><T>System.ServiceProcess.ServiceController</T></TN><Props><S N=\"Name\">W3SVC</S><S N=\"DisplayName\">World Wide Web Publishing Service</S></Props></Obj></Objs>"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    std::fs::write(dir.path().join("GetService.xml"), clixml).unwrap();
    std::fs::write(dir.path().join("web.config.xml"), "<configuration/>").unwrap();
    let (code, stdout, stderr) = hybridtls(&[
        "plan",
        "--now",
        "2026-11-24T00:00:00Z",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let skipped = |file: &str| {
        stdout
            .lines()
            .find(|l| l.contains("skipped") && l.contains(file))
            .unwrap_or_else(|| panic!("{file} is not listed as skipped:\n{stdout}"))
            .to_owned()
    };
    assert!(skipped("iis-sites.json").contains("not an export hybridtls recognises"));
    assert!(skipped("GetService.xml").contains("not an export hybridtls recognises"));
    assert!(skipped("web.config.xml").contains("not CLIXML"));
    assert!(
        stdout.contains("HT002"),
        "the exports beside them are planned:\n{stdout}"
    );
}

/// Every file and folder under `dir`, relative, with the contents of the files: what a reader
/// of the folder sees.
fn snapshot(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut seen = Vec::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry.unwrap();
        let relative = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let contents = entry
            .file_type()
            .is_file()
            .then(|| std::fs::read(entry.path()).unwrap());
        seen.push((relative, contents));
    }
    seen
}

/// Issue 18: a new plan's outputs replace the previous plan's as one set. A script of the
/// previous plan left beside the new plan.json could be run as if it were the new plan's; a
/// name that cannot be written stops the run with the previous set untouched; what killed
/// runs left behind is cleaned up; and a folder holding anything else is not replaced.
#[test]
fn outputs_are_replaced_as_one_set() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    two_servers(&inputs);
    let change = dir.path().join("change");
    let out = change.join("out");
    let plan = |input: &Path, out: &Path| {
        hybridtls(&[
            "plan",
            "--fqdn",
            "mail.contoso.com",
            "--now",
            "2026-11-24T00:00:00Z",
            "--out",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ])
    };
    let (code, _, stderr) = plan(&inputs, &out);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.join("EX2/remediate.ps1").exists());
    #[cfg(unix)]
    {
        // Made as any new folder, not as the private work folder it was staged in.
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode();
        std::fs::create_dir(dir.path().join("probe")).unwrap();
        assert_eq!(mode(&out), mode(&dir.path().join("probe")));
    }

    // What a killed run left: a staging folder beside the set, a temporary file in it.
    std::fs::create_dir_all(change.join(".out.hybridtls-x1Y2z3/new")).unwrap();
    std::fs::write(change.join(".out.hybridtls-x1Y2z3/new/plan.json"), "{").unwrap();
    std::fs::write(out.join(".tmpAb12Cd"), "half a script").unwrap();
    let one_server = Path::new("examples/seed000-null-tlscertname");
    let (code, _, stderr) = plan(one_server, &out);
    assert_eq!(code, 0, "{stderr}");
    let names: Vec<String> = snapshot(&out).into_iter().map(|(name, _)| name).collect();
    // Under another FQDN seed000 has nothing a script can do: no script of the previous plan
    // may be left to look like this plan's.
    assert_eq!(
        names,
        ["plan.json", "report.html", "report.md"],
        "only the new plan's files"
    );
    let beside: Vec<String> = snapshot(&change).into_iter().map(|(name, _)| name).collect();
    assert_eq!(beside[0], "out", "nothing left beside the set: {beside:?}");
    assert!(beside.iter().all(|name| name.starts_with("out")), "{beside:?}");

    // A folder where plan.json goes: the run stops before the previous set changes at all.
    std::fs::remove_file(out.join("plan.json")).unwrap();
    std::fs::create_dir(out.join("plan.json")).unwrap();
    let before = snapshot(&out);
    let (code, _, stderr) = plan(&inputs, &out);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("plan.json"), "{stderr}");
    assert_eq!(snapshot(&out), before, "the previous set changed: {stderr}");

    // A folder of other files is never replaced.
    let notes = dir.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("ticket.txt"), "CHG-1234").unwrap();
    let (code, _, stderr) = plan(&inputs, &notes);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("ticket.txt"), "{stderr}");
    assert_eq!(
        snapshot(&notes),
        [("ticket.txt".to_owned(), Some(b"CHG-1234".to_vec()))]
    );
}

/// Issue 17 point 8: the folder of all the examples holds three Active Directory forests'
/// exports (and an Edge server's, which names none). Merged, they got one plan and one
/// certificate for all three domains; now nothing is planned or written, and the error names
/// each organisation with its files.
#[test]
fn exports_of_several_organisations_are_refused_naming_the_files_of_each() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, stdout, stderr) = hybridtls(&[
        "plan",
        "--now",
        "2026-11-24T00:00:00Z",
        "--out",
        out.to_str().unwrap(),
        "examples",
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!out.exists(), "nothing is written for refused inputs");
    for needle in [
        "the inputs are exports of 3 Exchange organisations",
        "\"First Organization\" in the forest DC=domain,DC=com: examples/seed000-null-tlscertname/receive-connectors.json, examples/seed000-null-tlscertname/send-connectors.json",
        "\"First Organization\" in the forest DC=contoso,DC=com: examples/seed003-removed-certificate/receive-connectors.json",
        "\"First Organization\" in the forest DC=fabrikam,DC=com: examples/seed004-missing-intermediate/hybridtls-EXCH02/receive-connectors.json",
        "field Identity.DistinguishedName",
        "plan each organisation on its own",
    ] {
        assert!(stderr.contains(needle), "{needle}:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Issue 17 point 8: an old and a new export of one server listed every connector twice; now
/// the plan is refused and both files are named. The same file read twice is refused too.
#[test]
fn two_exports_of_one_server_are_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    for (folder, files) in [
        (&old, &["receive-connectors.json"][..]),
        (
            &new,
            &["exchange-certificates.json", "receive-connectors.json"][..],
        ),
    ] {
        std::fs::create_dir(folder).unwrap();
        for file in files {
            std::fs::copy(
                Path::new("examples/seed003-removed-certificate").join(file),
                folder.join(file),
            )
            .unwrap();
        }
    }
    let (code, stdout, stderr) = hybridtls(&[
        "plan",
        "--now",
        "2026-11-24T00:00:00Z",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    // Paths are shown with `/` on every system.
    let first = hybridtls::input::display(&old.join("receive-connectors.json"));
    let second = hybridtls::input::display(&new.join("receive-connectors.json"));
    assert!(
        stderr.starts_with(&format!("error: {second}: record 1")),
        "{stderr}"
    );
    for needle in [
        format!("the receive connector \"Default EXCH01\" of EXCH01 is in {first}, record 1"),
        "two Get-ReceiveConnector exports of one server".to_owned(),
        "give one export of each kind per server".to_owned(),
    ] {
        assert!(stderr.contains(&needle), "{needle}:\n{stderr}");
    }

    let example = "examples/seed003-removed-certificate";
    let (code, _, stderr) = hybridtls(&["plan", example, &format!("{example}/receive-connectors.json")]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("export of EXCH01 is read twice"), "{stderr}");
}

/// What point 8 must not refuse: a collector folder per server, each with a copy of the
/// organisation's send connectors (HT015-two-servers), and an Edge server, whose exports name
/// its AD LDS instance and no forest, beside a Mailbox server of its organisation.
#[test]
fn servers_of_one_organisation_still_plan_together() {
    for inputs in [
        &["tests/fixtures/rules/HT015-two-servers"][..],
        &[
            "tests/fixtures/rules/HT033-edge",
            "examples/seed002-keyless-duplicate-edge",
        ][..],
    ] {
        let mut args = vec!["plan", "--now", "2026-11-24T00:00:00Z"];
        args.extend(inputs);
        let (code, stdout, stderr) = hybridtls(&args);
        assert_eq!(code, 0, "{inputs:?}: {stderr}");
        assert!(stdout.contains("Server EX01"), "{inputs:?}: {stdout}");
    }
}

/// One file that holds objects of two organisations (two exports pasted into one array) is
/// refused at the object of the second, naming both.
#[test]
fn one_file_with_objects_of_two_organisations_is_refused_at_the_second() {
    let dir = tempfile::tempdir().unwrap();
    let connector = |server: &str, forest: &str| {
        format!(
            r#"{{"Name": "Default Frontend {server}", "TransportRole": 16384, "Bindings": ["0.0.0.0:25"],
               "Identity": {{"Name": "Default Frontend {server}", "DistinguishedName": "CN=Default Frontend {server},CN=SMTP Receive Connectors,CN=Protocols,CN={server},CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN=First Organization,CN=Microsoft Exchange,CN=Services,CN=Configuration,{forest}"}},
               "Server": "{server}"}}"#
        )
    };
    let file = dir.path().join("receive-connectors.json");
    std::fs::write(
        &file,
        format!(
            "[{}, {}]",
            connector("EX01", "DC=contoso,DC=com"),
            connector("EX02", "DC=fabrikam,DC=com")
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = hybridtls(&["plan", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    for needle in [
        "record 2 (\"Default Frontend EX02\"), field Identity.DistinguishedName: this object is of the Exchange organisation \"First Organization\" in the forest DC=fabrikam,DC=com",
        "record 1 (\"Default Frontend EX01\"), field Identity.DistinguishedName of this file is of \"First Organization\" in the forest DC=contoso,DC=com",
    ] {
        assert!(stderr.contains(needle), "{needle}:\n{stderr}");
    }
}

/// `completions powershell >> $PROFILE` must work on a profile that already holds statements:
/// `using namespace` anywhere but first is a parse error that stops the whole profile. Run in
/// real PowerShell after another statement, the script parses and completes `plan` and its flags.
#[test]
fn powershell_completions_work_appended_to_a_profile_that_holds_statements() {
    let (code, script, _) = hybridtls(&["completions", "powershell"]);
    assert_eq!(code, 0);
    assert!(
        !script.to_ascii_lowercase().contains("using namespace"),
        "{script}"
    );
    let Some(pwsh) = support::pwsh::require("powershell completions appended to a profile") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.ps1");
    std::fs::write(
        &profile,
        format!(
            "Set-StrictMode -Version Latest\n$existing = 'a profile that holds statements'\n{script}\n\
             (TabExpansion2 -inputScript 'hybridtls pl' -cursorColumn 12).CompletionMatches.CompletionText\n\
             (TabExpansion2 -inputScript 'hybridtls plan --for' -cursorColumn 20).CompletionMatches.CompletionText\n"
        ),
    )
    .unwrap();
    let output = std::process::Command::new(pwsh)
        .args(["-NoProfile", "-NonInteractive", "-File"])
        .arg(&profile)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && stderr.is_empty(), "{stdout}\n{stderr}");
    let completions: Vec<&str> = stdout.lines().collect();
    assert_eq!(completions, ["plan", "--format"], "{stderr}");
}

/// What PowerShell users type out of habit is refused with a tip naming what hybridtls takes,
/// before anything is read or written; `--format JSON` is simply accepted.
#[test]
fn powershell_habits_get_a_tip_naming_the_right_flag() {
    let example = "examples/seed000-null-tlscertname";
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("change");
    let target = target.to_str().unwrap();
    for (args, tip) in [
        (vec!["plan", "-Out", target, example], "use '--out'"),
        (vec!["plan", "-out", target, example], "use '--out'"),
        (
            vec!["plan", "-DetailedExitCode", example],
            "use '--detailed-exitcode'",
        ),
        (vec!["plan", "-Format:json", example], "use '--format'"),
        (vec!["plan", "-WhatIf", example], ".\\remediate.ps1 -WhatIf"),
        (vec!["plan", example, "/?"], "--help"),
        (vec!["/?"], "--help"),
        (vec!["explain", "-?"], "--help"),
    ] {
        let (code, stdout, stderr) = hybridtls(&args);
        assert_eq!(code, 1, "{args:?}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        let argument = args.iter().find(|a| a.starts_with(['-', '/'])).unwrap();
        assert!(
            stderr.starts_with(&format!("error: unexpected argument '{argument}' found")),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("tip: ") && stderr.contains(tip),
            "{args:?}: {stderr}"
        );
        assert!(!Path::new(target).exists(), "{args:?} wrote {target}");
    }
    // -WhatIf says that plan already is a dry run.
    let (_, _, stderr) = hybridtls(&["plan", "-WhatIf", example]);
    assert!(stderr.contains("dry run") && stderr.contains("--out"), "{stderr}");
    // After `--` nothing is a habit: it is clap's ordinary error for a missing file.
    let (code, _, stderr) = hybridtls(&["plan", "--", "-Out"]);
    assert_eq!(code, 1);
    assert!(!stderr.contains("tip:"), "{stderr}");

    let (code, upper, _) = hybridtls(&["plan", "--format", "JSON", example]);
    assert_eq!(code, 0);
    let (_, lower, _) = hybridtls(&[
        "plan",
        "--format",
        "json",
        example,
        "--now",
        "2026-11-24T00:00:00Z",
    ]);
    assert!(upper.starts_with('{'), "{upper}");
    let (_, upper, _) = hybridtls(&[
        "plan",
        "--format",
        "Json",
        example,
        "--now",
        "2026-11-24T00:00:00Z",
    ]);
    assert_eq!(upper, lower);
    let (code, script, _) = hybridtls(&["completions", "PowerShell"]);
    assert_eq!(code, 0);
    assert!(script.starts_with("Register-ArgumentCompleter"), "{script}");
}

/// What admins paste: a bare code, a text in another language, protocol log rows as they are,
/// a 4.7.320 for another reason than the name, a rule code without its zeros.
#[test]
fn explain_understands_what_admins_paste() {
    let (code, page, _) = hybridtls(&["explain", "5.7.3"]);
    assert_eq!(code, 0, "{page}");
    assert!(
        page.starts_with("Read as: `451 5.7.3 STARTTLS is required to send mail`"),
        "{page}"
    );
    assert!(page.contains("HT002"), "{page}");

    // Seed 003's Japanese text.
    let (code, page, _) = hybridtls(&[
        "explain",
        "“電子メールの送信には 451 5.7.3 STARTTLS が必要です。”",
    ]);
    assert_eq!(code, 0, "{page}");
    assert!(page.contains("(Japanese, as Microsoft's articles"), "{page}");
    assert!(page.contains("HT002"), "{page}");
    let (code, page, _) = hybridtls(&[
        "explain",
        "451 5.7.3 STARTTLS ist zum Senden von E-Mails erforderlich",
    ]);
    assert_eq!(code, 0, "{page}");
    assert!(page.contains("by its codes 451 5.7.3 alone"), "{page}");

    // Seed 000's SmtpReceive rows, pasted as one argument of several lines.
    let rows = "2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,20,172.20.102.10:25,155.39.36.248:30648,*,,Sending certificate\n\
        2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,21,172.20.102.10:25,155.39.36.248:30648,*,CN=SERVER1,Certificate subject\n";
    let (code, page, _) = hybridtls(&["explain", rows]);
    assert_eq!(code, 0, "{page}");
    assert!(
        page.contains("Protocol log row: connector SERVER1\\Default Frontend SERVER1, session 08D479E14521204D: Certificate subject CN=SERVER1\n  CN=SERVER1 names no domain"),
        "{page}"
    );
    assert!(page.contains("HT001"), "{page}");
    // Seed 002's SmtpSend row.
    let (code, page, _) = hybridtls(&[
        "explain",
        "2019-05-02T06:32:14.125Z,Outbound to Office 365,08D6CEBC4A4B1C7D,5,10.0.0.5:21234,104.47.2.36:25,*,,TLS negotiation failed with error NoCredentials",
    ]);
    assert_eq!(code, 0, "{page}");
    assert!(
        page.contains("connector Outbound to Office 365") && page.contains("HT009"),
        "{page}"
    );

    let (code, page, _) = hybridtls(&[
        "explain",
        "[{LED=450 4.7.320 Certificate validation failed};{MSG=CertificateExpired};{FQDN=hybrid.domain.com}]",
    ]);
    assert_eq!(code, 0, "{page}");
    assert!(page.starts_with("Reason given: CertificateExpired\n"), "{page}");
    assert!(page.contains("HT012") && !page.contains("HT001"), "{page}");

    for typo in ["HT1", "ht01", "HT0001"] {
        let (code, page, _) = hybridtls(&["explain", typo]);
        assert_eq!(code, 1, "{typo}");
        assert!(page.contains("Did you mean HT001"), "{typo}: {page}");
    }
    let (code, page, _) = hybridtls(&["explain", "HT999"]);
    assert_eq!(code, 1);
    assert!(page.contains("there is no rule HT999"), "{page}");
}

#[test]
fn rules_and_explain_speak_json() {
    let (code, listing, _) = hybridtls(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let rules: serde_json::Value = serde_json::from_str(&listing).unwrap();
    let (_, text, _) = hybridtls(&["rules"]);
    assert_eq!(rules.as_array().unwrap().len(), text.lines().count());
    assert_eq!(rules[0]["code"], "HT001");
    assert_eq!(rules[0]["severity"], "error");

    let (code, page, _) = hybridtls(&["explain", "--format", "json", "HT012"]);
    assert_eq!(code, 0);
    let page: serde_json::Value = serde_json::from_str(&page).unwrap();
    assert_eq!(page["kind"], "rule");
    assert_eq!(page["rule"]["code"], "HT012");
    assert!(page["documentation"].as_str().unwrap().contains("## Fix"));

    let (code, page, _) = hybridtls(&["explain", "--format", "JSON", "5.7.3"]);
    assert_eq!(code, 0);
    let page: serde_json::Value = serde_json::from_str(&page).unwrap();
    assert_eq!(page["kind"], "error_text");
    assert_eq!(page["input"], "5.7.3");
    assert_eq!(page["read_as"].as_array().unwrap().len(), 1);
    assert_eq!(page["symptoms"][0]["rules"][0]["code"], "HT002");

    let (code, page, _) = hybridtls(&[
        "explain",
        "--format=json",
        "451 4.4.395 Target host responded with error. -> 421 4.4.1 Connection timed out",
    ]);
    assert_eq!(code, 0);
    let page: serde_json::Value = serde_json::from_str(&page).unwrap();
    assert_eq!(
        page["symptoms"][0]["inner_response"],
        "421 4.4.1 Connection timed out"
    );
    assert_eq!(page["symptoms"][1]["rules"][0]["code"], "HT009");

    let (code, page, _) = hybridtls(&["explain", "--format", "json", "HT1"]);
    assert_eq!(code, 1);
    let page: serde_json::Value = serde_json::from_str(&page).unwrap();
    assert_eq!(page["kind"], "not_recognised");
    assert_eq!(page["did_you_mean"]["code"], "HT001");
}
