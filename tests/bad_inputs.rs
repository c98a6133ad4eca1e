//! Bad input gets a clear error naming the file and the position, exit code 1, and no output
//! file, even when the other inputs would have produced a script.

use assert_cmd::Command;

const GOOD_EXAMPLE: &str = "examples/seed000-null-tlscertname";

fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// Runs `plan --out` over the good example plus one bad file, checks that the error names the
/// file and that nothing was written, and returns stderr.
fn plan_with_bad_file(name: &str, contents: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join(name);
    std::fs::write(&bad, contents).unwrap();
    let out = dir.path().join("out");
    let assert = Command::cargo_bin("hybridtls")
        .unwrap()
        .args(["plan", "--now", "2026-11-24T00:00:00Z", "--out"])
        .arg(&out)
        .arg(GOOD_EXAMPLE)
        .arg(&bad)
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        !out.join("remediate.ps1").exists(),
        "a script was written despite the error"
    );
    assert!(
        !out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(),
        "the output folder is not empty"
    );
    assert!(stderr.contains(name), "error does not name the file: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn truncated_json_names_line_and_column() {
    let stderr = plan_with_bad_file(
        "cut.json",
        &utf16le_bom("[\r\n    {\r\n        \"Name\":  \"Default Frontend EX1\",\r\n"),
    );
    assert!(stderr.contains("cut off"), "{stderr}");
    assert!(stderr.contains("line 4, column"), "{stderr}");
}

#[test]
fn another_cmdlets_output_is_not_recognised() {
    let mailbox =
        "{\r\n    \"DisplayName\":  \"Jane\",\r\n    \"PrimarySmtpAddress\":  \"jane@contoso.com\"\r\n}";
    let stderr = plan_with_bad_file("mailboxes.json", mailbox.as_bytes());
    assert!(stderr.contains("not an export hybridtls recognises"), "{stderr}");
    assert!(stderr.contains("record 1"), "{stderr}");
    assert!(
        stderr.contains("Get-ReceiveConnector"),
        "the hint should say what was expected: {stderr}"
    );
}

#[test]
fn empty_file_is_an_error() {
    let stderr = plan_with_bad_file("empty.json", b"");
    assert!(stderr.contains("empty"), "{stderr}");
}

#[test]
fn binary_junk_is_an_error_with_a_line_and_column() {
    let stderr = plan_with_bad_file(
        "junk.json",
        &[0x50, 0x4B, 0x03, 0x04, 0x00, 0x9F, 0xFF, 0x00, 0x13],
    );
    assert!(stderr.contains("binary"), "{stderr}");
    assert!(stderr.contains("line 1, column 3"), "{stderr}");
}

#[test]
fn depth_truncated_certificate_domains_name_the_lost_field() {
    let export = "{\r\n    \"Thumbprint\":  \"2759456DC53C76E3DED093B567B6D8DAA42C0ADD\",\r\n    \"Subject\":  \"CN=mail.contoso.lab\",\r\n    \"Issuer\":  \"CN=mail.contoso.lab\",\r\n    \"NotBefore\":  \"\\/Date(1662388862000)\\/\",\r\n    \"NotAfter\":  \"\\/Date(1820155262000)\\/\",\r\n    \"CertificateDomains\":  \"System.Collections.Generic.List`1[Microsoft.Exchange.Data.SmtpDomainWithSubdomains]\",\r\n    \"Identity\":  \"SERVER1.domain.com\\\\2759456DC53C76E3DED093B567B6D8DAA42C0ADD\"\r\n}";
    let stderr = plan_with_bad_file("certs.json", &utf16le_bom(export));
    assert!(stderr.contains("field CertificateDomains"), "{stderr}");
    assert!(stderr.contains("depth limit"), "{stderr}");
    assert!(
        stderr.contains("-Depth"),
        "the hint should say how to re-export: {stderr}"
    );
}

#[test]
fn depth_truncated_raw_data_is_refused_not_decoded() {
    let export = "{\"Thumbprint\": \"2759456DC53C76E3DED093B567B6D8DAA42C0ADD\", \"RawData\": \"48 130 3 88 48 130 2 64\", \"Identity\": \"SERVER1.domain.com\\\\2759456DC53C76E3DED093B567B6D8DAA42C0ADD\"}";
    let stderr = plan_with_bad_file("raw.json", export.as_bytes());
    assert!(stderr.contains("field RawData"), "{stderr}");
    assert!(stderr.contains("depth limit"), "{stderr}");
}

#[test]
fn raw_data_that_does_not_match_the_thumbprint_is_an_error() {
    use base64::Engine;
    let der = std::fs::read("tests/fixtures/der/broken_2.der").unwrap();
    let export = format!(
        "[{{\"Thumbprint\": \"D003810EBE1624145889D031FBB77ED2BD280FD3\", \"Identity\": \"SERVER1.domain.com\\\\D003810EBE1624145889D031FBB77ED2BD280FD3\", \"RawData\": \"{}\"}}]",
        base64::engine::general_purpose::STANDARD.encode(der)
    );
    let stderr = plan_with_bad_file("mixed.json", export.as_bytes());
    assert!(
        stderr.contains("2759456DC53C76E3DED093B567B6D8DAA42C0ADD"),
        "{stderr}"
    );
    assert!(stderr.contains("field Thumbprint"), "{stderr}");
}

#[test]
fn raw_data_that_is_not_a_certificate_is_an_error() {
    let export =
        "{\"Thumbprint\": \"2759456DC53C76E3DED093B567B6D8DAA42C0ADD\", \"Services\": 16, \"RawData\": [48, 3, 1, 2, 3]}";
    let stderr = plan_with_bad_file("notcert.json", export.as_bytes());
    assert!(stderr.contains("field RawData"), "{stderr}");
    assert!(stderr.contains("does not parse"), "{stderr}");
}

#[test]
fn wrong_base64_is_an_error() {
    let export =
        "{\"Thumbprint\": \"2759456DC53C76E3DED093B567B6D8DAA42C0ADD\", \"Services\": 16, \"RawData\": \"MIIB!!notbase64\"}";
    let stderr = plan_with_bad_file("b64.json", export.as_bytes());
    assert!(stderr.contains("base64"), "{stderr}");
}

#[test]
fn a_missing_input_path_is_an_error() {
    let assert = Command::cargo_bin("hybridtls")
        .unwrap()
        .args(["plan", "does/not/exist.json"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("does/not/exist.json: no such file or folder"),
        "{stderr}"
    );
}

/// One receive connector export whose Name is `name`, JSON-escaped as ConvertTo-Json writes it.
fn connector_named(name: &str) -> Vec<u8> {
    // serde_json leaves DEL raw; ConvertTo-Json-style \u escapes make every case a clean text.
    let name = serde_json::to_string(name).unwrap().replace('\u{7f}', "\\u007f");
    utf16le_bom(&format!(
        "{{\r\n    \"Identity\":  \"EX1\\\\Default Frontend EX1\",\r\n    \"Name\":  {name},\r\n    \"Server\":  \"EX1\",\r\n    \"TransportRole\":  16384,\r\n    \"Bindings\":  [\"0.0.0.0:25\"],\r\n    \"Fqdn\":  \"EX1.contoso.com\",\r\n    \"TlsCertificateName\":  null,\r\n    \"AuthMechanism\":  31\r\n}}"
    ))
}

#[test]
fn a_value_with_an_invisible_character_is_refused_with_its_field() {
    // ConvertTo-Json writes these as \u escapes, so the text itself is clean; the value is not.
    for (hidden, code) in [
        ("\u{0}", "U+0000"),
        ("\u{1b}[2J", "U+001B"),
        ("\u{7}", "U+0007"),
        ("\u{7f}", "U+007F"),
        ("\u{202E}", "U+202E"),
        ("\r\n", "U+000D"),
    ] {
        let stderr = plan_with_bad_file(
            "connectors.json",
            &connector_named(&format!("Default Frontend EX1{hidden}")),
        );
        assert!(stderr.contains(code), "{code}: {stderr}");
        assert!(
            stderr.contains("record 1"),
            "{code}: the position is named: {stderr}"
        );
        assert!(stderr.contains("Name"), "{code}: the field is named: {stderr}");
        assert!(
            !stderr.contains(hidden),
            "{code}: the character itself reached the terminal: {stderr:?}"
        );
    }
}

#[test]
fn a_file_whose_path_holds_an_invisible_character_is_refused() {
    // Windows refuses control characters in file names, not the bidirectional override.
    let mut names = vec![(
        "evil\u{202e}nosj.json",
        "evil\\u{202e}nosj.json",
        "U+202E",
        '\u{202e}',
    )];
    if cfg!(unix) {
        names.push(("evil\u{1b}[31m.json", "evil\\u{1b}[31m.json", "U+001B", '\u{1b}'));
    }
    for (name, escaped, code, character) in names {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), b"[]").unwrap();
        let assert = Command::cargo_bin("hybridtls")
            .unwrap()
            .args(["plan", "--now", "2026-11-24T00:00:00Z", GOOD_EXAMPLE])
            .arg(dir.path())
            .assert()
            .code(1);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains(escaped), "the name is shown escaped: {stderr}");
        assert!(stderr.contains(code), "{stderr}");
        assert!(!stderr.contains(character), "{stderr:?}");
    }
}

#[test]
fn an_exchange_online_connector_with_an_unknown_tls_setting_names_record_and_field() {
    // `Get-OutboundConnector | ConvertTo-Json -Depth 4 | Out-File` in 5.1, one value hybridtls
    // cannot read: refused, never read as "no DomainValidation" and so as nothing to check.
    let outbound = "{\r\n    \"Enabled\":  true,\r\n    \"ConnectorType\":  \"OnPremises\",\r\n    \"SmartHosts\":  [\r\n                       \"mail.contoso.com\"\r\n                   ],\r\n    \"TlsDomain\":  \"mail.contoso.com\",\r\n    \"TlsSettings\":  \"DomainValidationStrict\",\r\n    \"Name\":  \"Outbound to hybrid\"\r\n}";
    let stderr = plan_with_bad_file("outbound-connectors.json", &utf16le_bom(outbound));
    assert!(stderr.contains("record 1 (\"Outbound to hybrid\")"), "{stderr}");
    assert!(stderr.contains("TlsSettings"), "{stderr}");
    assert!(stderr.contains("DomainValidationStrict"), "{stderr}");
}

/// Found by tests/mangled_inputs.rs: one flipped byte in server.json renamed the server, so the
/// folder named two servers and a store listing could not be attributed. The error is raised
/// at the listing, so it must also say which files name which server.
#[test]
fn a_folder_whose_exports_name_two_servers_names_the_files_that_disagree() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("hybridtls-EXCH02");
    let example = std::path::Path::new("examples/seed004-missing-intermediate/hybridtls-EXCH02");
    std::fs::create_dir(&folder).unwrap();
    for entry in std::fs::read_dir(example).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, folder.join(path.file_name().unwrap())).unwrap();
    }
    // The collector writes server.json as UTF-8 with a BOM.
    let server = std::fs::read_to_string(folder.join("server.json")).unwrap();
    let renamed = server.replacen("\"EXCH02\"", "\"EX3H02\"", 1);
    assert_ne!(renamed, server);
    std::fs::write(folder.join("server.json"), renamed).unwrap();
    let assert = Command::cargo_bin("hybridtls")
        .unwrap()
        .args(["plan", "--now", "2026-11-24T00:00:00Z"])
        .arg(dir.path())
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("EX3H02 in "), "{stderr}");
    assert!(stderr.contains("server.json"), "{stderr}");
    assert!(stderr.contains("EXCH02 in "), "{stderr}");
    assert!(stderr.contains("receive-connectors.json"), "{stderr}");
}

/// Issue 18: a property given twice was read as its last copy, which could turn STARTTLS not
/// offered into "nothing to change". No cmdlet writes it and ConvertFrom-Json refuses it, in
/// any case (PowerShell reads names case-insensitively, and so does hybridtls).
#[test]
fn a_property_given_twice_is_refused_with_its_record_and_name() {
    let connector = |second: &str| {
        format!(
            "[\r\n{{\"Name\": \"Relay\", \"Server\": \"EX1\", \"TransportRole\": 32, \"Bindings\": [\"0.0.0.0:2525\"]}},\r\n{{\r\n    \"Identity\":  \"EX1\\\\Default Frontend EX1\",\r\n    \"Name\":  \"Default Frontend EX1\",\r\n    \"Server\":  \"EX1\",\r\n    \"TransportRole\":  16384,\r\n    \"Bindings\":  [\"0.0.0.0:25\"],\r\n    \"Fqdn\":  \"EX1.contoso.com\",\r\n    \"TlsCertificateName\":  null,\r\n    \"AuthMechanism\":  \"Integrated, BasicAuth\",\r\n    \"{second}\":  \"Tls, Integrated, BasicAuth\"\r\n}}\r\n]"
        )
    };
    for second in ["AuthMechanism", "authmechanism"] {
        let stderr = plan_with_bad_file("connectors.json", connector(second).as_bytes());
        assert!(stderr.contains("given twice"), "{second}: {stderr}");
        assert!(stderr.contains("record 2"), "{second}: {stderr}");
        assert!(stderr.contains(&format!("\"{second}\"")), "{second}: {stderr}");
        assert!(stderr.contains("line 12, column"), "{second}: {stderr}");
    }
    // Nested objects too, named by their path.
    let nested = "{\"Name\": \"Default Frontend EX1\", \"Server\": \"EX1\", \"Bindings\": [\"0.0.0.0:25\"], \"TlsCertificateName\": {\"CertificateSubject\": \"CN=a\", \"CertificateSubject\": \"CN=b\"}}";
    let stderr = plan_with_bad_file("nested.json", nested.as_bytes());
    assert!(
        stderr.contains("record 1, property TlsCertificateName"),
        "{stderr}"
    );
}

/// Issue 18: a UTF-8 export without BOM (as PowerShell 7 writes) with one invalid byte was
/// read whole as Windows-1252, so its non-ASCII names silently became other names. A file
/// that holds UTF-8 characters is UTF-8: one invalid byte in it is damage, named by offset.
#[test]
fn a_utf8_export_with_one_invalid_byte_is_an_error_at_that_byte() {
    let export = "{\r\n  \"Name\": \"Réception Frontend EX1\",\r\n  \"Server\": \"EX1\",\r\n  \"Bindings\": [\"0.0.0.0:25\"],\r\n  \"Fqdn\": \"EX1.contoso.com\"\r\n}";
    let mut bytes = export.as_bytes().to_vec();
    let at = export.find("EX1.contoso").unwrap();
    bytes.insert(at, 0x92);
    let stderr = plan_with_bad_file("receive-connectors.json", &bytes);
    assert!(stderr.contains(&format!("byte {at}")), "{stderr}");
    assert!(stderr.contains("UTF-8"), "{stderr}");
}

/// Issue 18: an export skipped in a folder (here a receive connector export with its
/// properties renamed) led to "no receive connector was read", naming only the folder; what
/// was skipped and why was printed only on success.
#[test]
fn the_error_for_no_receive_connector_names_what_was_skipped_and_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        format!("{GOOD_EXAMPLE}/exchange-certificates.json"),
        dir.path().join("exchange-certificates.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("receive-connectors.json"),
        "[{\"Nom\": \"Default Frontend EX1\", \"Serveur\": \"EX1\"}]",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ticket CHG-1234").unwrap();
    let assert = Command::cargo_bin("hybridtls")
        .unwrap()
        .args(["plan", "--now", "2026-11-24T00:00:00Z"])
        .arg(dir.path())
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("no receive connector"), "{stderr}");
    assert!(
        stderr.contains(
            "receive-connectors.json: not an export hybridtls recognises (properties: Nom, Serveur)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("notes.txt: not an export hybridtls reads"),
        "{stderr}"
    );
}

/// Issue 18: a truncated .cer said `nom error: Eof`, and a bundle with one bad certificate did
/// not say which. The error gives the certificate's index and byte offset, and says when the
/// file is cut off.
#[test]
fn a_bad_certificate_file_names_the_certificate_and_its_byte() {
    let leaf = std::fs::read("tests/fixtures/der/x509_leaf.der").unwrap();
    let stderr = plan_with_bad_file("intermediate.cer", &leaf[..500]);
    assert!(stderr.contains("certificate 1"), "{stderr}");
    assert!(stderr.contains("byte 0"), "{stderr}");
    assert!(stderr.contains("cut off"), "{stderr}");
    assert!(!stderr.contains("nom error"), "{stderr}");

    // The second certificate of the bundle (at byte 996) with its tbsCertificate tag damaged.
    let mut bundle = std::fs::read("tests/fixtures/der/x509_chain.p7b").unwrap();
    let ca = std::fs::read("tests/fixtures/der/x509_ca.der").unwrap();
    assert_eq!(bundle.windows(ca.len()).position(|w| w == ca), Some(996));
    bundle[996 + 4] = 0x31;
    let stderr = plan_with_bad_file("chain.p7b", &bundle);
    assert!(stderr.contains("certificate 2"), "{stderr}");
    assert!(stderr.contains("byte 996"), "{stderr}");
}

/// Issue 18: a bidi override in Get-ExchangeCertificate's FriendlyName was blamed on the store
/// listing's record of the same certificate, which does not hold it (the merge kept the
/// listing's source). The error names the file and record that hold the value.
#[test]
fn a_hidden_character_is_blamed_on_the_file_that_holds_it() {
    let example = std::path::Path::new("examples/seed004-missing-intermediate/hybridtls-EXCH02");
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("hybridtls-EXCH02");
    std::fs::create_dir(&folder).unwrap();
    for entry in std::fs::read_dir(example).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, folder.join(path.file_name().unwrap())).unwrap();
    }
    let edit = |name: &str, friendly_name: serde_json::Value| {
        let path = folder.join(name);
        let bytes = std::fs::read(&path).unwrap();
        // The collector writes UTF-8 with BOM, the example's hand export UTF-16LE with BOM.
        let text = match bytes.strip_prefix(&[0xFF, 0xFE]) {
            Some(utf16) => String::from_utf16(
                &utf16
                    .chunks(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]]))
                    .collect::<Vec<_>>(),
            )
            .unwrap(),
            None => {
                String::from_utf8(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes).to_vec()).unwrap()
            }
        };
        let mut records: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        records[2]["FriendlyName"] = friendly_name;
        std::fs::write(&path, serde_json::to_string_pretty(&records).unwrap()).unwrap();
    };
    edit("store-My.json", serde_json::Value::Null);
    edit(
        "exchange-certificates.json",
        "mail.fabrikam.com\u{202E} 2026".into(),
    );
    let assert = Command::cargo_bin("hybridtls")
        .unwrap()
        .args(["plan", "--now", "2026-11-24T00:00:00Z"])
        .arg(dir.path())
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("exchange-certificates.json: record 3"),
        "{stderr}"
    );
    assert!(stderr.contains("FriendlyName"), "{stderr}");
    assert!(stderr.contains("U+202E"), "{stderr}");
}
