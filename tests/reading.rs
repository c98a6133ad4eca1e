//! Every shape Windows PowerShell 5.1 and PowerShell 7 write reads into the same model.
//! Fixtures under tests/fixtures/samples are the reference reconstructions (see
//! shared/reference/samples/README.md); variants are derived from them here, byte by byte, as
//! the shells would write them.

use std::path::{Path, PathBuf};

use hybridtls::input;
use hybridtls::model::{AuthMechanism, InputKind, Inventory, Services, TlsCertificateName, TransportRole};
use time::macros::datetime;

fn sample(name: &str) -> PathBuf {
    Path::new("tests/fixtures/samples").join(name)
}

fn load(paths: &[PathBuf]) -> Inventory {
    input::load(paths).unwrap_or_else(|e| panic!("{e}"))
}

/// Writes `text` into a temp folder under `name` with the given encoding prefix.
fn write(dir: &Path, name: &str, bytes: Vec<u8>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

fn utf8_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(text.as_bytes());
    bytes
}

#[test]
fn single_certificate_5_1_and_7_read_the_same() {
    let ps51 = load(&[sample("R1_ps51_single_cert.json")]);
    let ps7 = load(&[sample("R1_ps7_FORMAT_ILLUSTRATION_ONLY.json")]);
    let (a, b) = (&ps51.certificates[0], &ps7.certificates[0]);
    assert_eq!(a.thumbprint, "2759456DC53C76E3DED093B567B6D8DAA42C0ADD");
    assert_eq!(a.not_after, datetime!(2027-09-05 14:41:02 UTC));
    assert_eq!((a.not_before, a.not_after), (b.not_before, b.not_after));
    assert_eq!(a.names, b.names);
    assert_eq!(
        a.names,
        [
            "mail.contoso.lab",
            "autodiscover.contoso.lab",
            "e2k16-1.contoso.lab",
            "e2k16-2.contoso.lab"
        ]
    );
    assert!(a.self_signed);
    assert_eq!(a.services, Some(Services::from_bits(8)));
    assert_eq!(
        a.server.as_deref(),
        Some("E2k16-1"),
        "server from Identity SERVERFQDN\\THUMBPRINT"
    );
    assert_eq!(ps51.servers[0].fqdn.as_deref(), Some("E2k16-1.Contoso.lab"));
    assert_eq!(ps51.inputs[0].kind, InputKind::ExchangeCertificates);
}

#[test]
fn two_certificates_have_certificate_domains_as_strings() {
    let inventory = load(&[sample("R2_ps51_two_certs.json")]);
    assert_eq!(inventory.certificates.len(), 2);
    assert_eq!(
        inventory.certificates[1].names,
        ["E2k16-1", "E2k16-1.Contoso.lab"]
    );
    assert_eq!(inventory.certificates[1].services, Some(Services::from_bits(25)));
}

#[test]
fn receive_connectors_from_directory_objects_and_numeric_enums() {
    let inventory = load(&[sample("R3_ps51_receive_connectors.json")]);
    let frontend = &inventory.receive_connectors[0];
    assert_eq!(
        frontend.identity(),
        "WIN-CTD3L0RGEN4\\Default Frontend WIN-CTD3L0RGEN4"
    );
    assert_eq!(frontend.role, Some(TransportRole::FrontendTransport));
    assert_eq!(frontend.fqdn.as_deref(), Some("WIN-CTD3L0RGEN4.exlab.dom"));
    assert_eq!(frontend.auth_mechanism, Some(AuthMechanism::from_bits(31)));
    assert!(frontend.listens_on_port(25));
    assert_eq!(
        frontend.tls_domain_capabilities,
        ["fabrikam.com:AcceptCloudServicesMail"]
    );
    assert_eq!(
        frontend.tls_certificate_name,
        Some(TlsCertificateName {
            issuer: Some("CN=WIN-CTD3L0RGEN4".into()),
            subject: "CN=WIN-CTD3L0RGEN4".into()
        })
    );
    let client = &inventory.receive_connectors[1];
    assert_eq!(client.tls_certificate_name, None);
    assert!(
        client.tls_domain_capabilities.is_empty(),
        "5.1's empty array with a blank line inside"
    );
}

#[test]
fn stringified_tls_certificate_name_from_both_shells() {
    let expected = TlsCertificateName {
        issuer: Some("CN=GeoTrust TLS DV RSA Mixed SHA256 2020 CA-1, O=DigiCert Inc, C=US".into()),
        subject: "CN=mail.contoso.ca".into(),
    };
    for name in [
        "R4_ps51_stringified_tlscertname.json",
        "R4_ps7_stringified_tlscertname.json",
    ] {
        let inventory = load(&[sample(name)]);
        let connector = &inventory.receive_connectors[0];
        assert_eq!(
            connector.identity(),
            "E2016-01\\Default Frontend E2016-01",
            "{name}: from Identity string"
        );
        assert_eq!(connector.tls_certificate_name.as_ref(), Some(&expected), "{name}");
        assert_eq!(
            connector.tls_domain_capabilities,
            ["mail.protection.outlook.com:AcceptCloudServicesMail"]
        );
    }
}

/// A bare certificate list (the speculative PowerShell 7 remoting shape of
/// Get-ExchangeCertificate) has the same properties as a `Cert:\` listing without `Store`: it
/// could be My, CA or Root, so it is refused with the reason rather than read as My (issue 18
/// point 3: a CA listing read so hid the CA store).
#[test]
fn a_certificate_list_without_store_or_exchange_properties_is_not_guessed() {
    let error = input::load(&[sample("R5_ps7_remote_cert_speculative.json")]).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("R5_ps7_remote_cert_speculative.json"), "{text}");
    assert!(text.contains("no Store or PSParentPath"), "{text}");
    assert!(text.contains("Services"), "{text}");
    // With Store it is a listing of that store.
    let dir = tempfile::tempdir().unwrap();
    let listing = std::fs::read_to_string(sample("R5_ps7_remote_cert_speculative.json"))
        .unwrap()
        .replacen("\"Thumbprint\"", "\"Store\": \"My\", \"Thumbprint\"", 1);
    let path = write(dir.path(), "store-My.json", listing.into_bytes());
    let inventory = load(&[path]);
    let certificate = &inventory.certificates[0];
    assert_eq!(certificate.has_private_key, Some(false));
    assert!(certificate.from_store_listing);
    assert_eq!(
        certificate.names,
        ["mail.contoso.lab"],
        "CN only, no CertificateDomains"
    );
}

#[test]
fn every_encoding_reads_the_same() {
    let text = std::fs::read_to_string(sample("R3_ps51_receive_connectors.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let reference = load(&[sample("R3_ps51_receive_connectors.json")]).receive_connectors;
    let variants = [
        ("utf16.json", utf16le_bom(&text), "UTF-16LE with BOM"),
        ("utf8bom.json", utf8_bom(&text), "UTF-8 with BOM"),
        ("lf.json", text.replace("\r\n", "\n").into_bytes(), "UTF-8"),
    ];
    for (name, bytes, encoding) in variants {
        let path = write(dir.path(), name, bytes);
        let inventory = load(&[path]);
        assert_eq!(inventory.inputs[0].encoding, Some(encoding));
        let mut connectors = inventory.receive_connectors;
        for (read, expected) in connectors.iter_mut().zip(&reference) {
            read.source = expected.source.clone();
        }
        assert_eq!(connectors, reference, "{name}");
    }
}

#[test]
fn enum_names_and_flag_lists_read_like_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let export = r#"{
  "Identity": "EX1\\Default Frontend EX1",
  "TransportRole": "FrontendTransport",
  "AuthMechanism": "Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer",
  "Bindings": ["0.0.0.0:25"],
  "Fqdn": "ex1.contoso.com",
  "TlsCertificateName": "<i>CN=R3, O=Let's Encrypt, C=US<s>CN=mail.contoso.com"
}"#;
    let inventory = load(&[write(dir.path(), "rc.json", export.as_bytes().to_vec())]);
    let connector = &inventory.receive_connectors[0];
    assert_eq!(connector.role, Some(TransportRole::FrontendTransport));
    assert_eq!(connector.auth_mechanism, Some(AuthMechanism::from_bits(31)));
    assert_eq!(connector.fqdn.as_deref(), Some("ex1.contoso.com"));
    assert_eq!(
        connector.tls_certificate_name.as_ref().unwrap().issuer.as_deref(),
        Some("CN=R3, O=Let's Encrypt, C=US")
    );
}

#[test]
fn raw_data_as_bytes_or_base64_is_the_ground_truth() {
    use base64::Engine;
    let der = std::fs::read("tests/fixtures/der/broken_3.der").unwrap();
    let bytes: Vec<String> = der.iter().map(u8::to_string).collect();
    let dir = tempfile::tempdir().unwrap();
    let as_bytes = format!(
        "{{\"Thumbprint\": \"63F480EA98F26E6F8AE7BB5311B33BB2C692D3CA\", \"Services\": 16, \"RawData\": [{}]}}",
        bytes.join(",")
    );
    let as_base64 = format!(
        "[{{\"RawData\": \"{}\", \"HasPrivateKey\": true, \"Services\": 16}}]",
        base64::engine::general_purpose::STANDARD.encode(&der)
    );
    for (name, text) in [("bytes.json", as_bytes), ("b64.json", as_base64)] {
        let inventory = load(&[write(dir.path(), name, text.into_bytes())]);
        let certificate = &inventory.certificates[0];
        assert_eq!(
            certificate.thumbprint, "63F480EA98F26E6F8AE7BB5311B33BB2C692D3CA",
            "{name}"
        );
        assert_eq!(
            certificate.subject, "CN=domain.com, OU=IT, O=Contoso, L=Cologne, S=NRW, C=Germany",
            "{name}"
        );
        assert!(certificate.covers("sub.domain.com"), "{name}");
    }
}

#[test]
fn folders_are_walked_in_order_and_other_files_are_listed_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    // Two kinds of export: two Get-ExchangeCertificate exports of one server are refused.
    std::fs::copy(
        sample("R3_ps51_receive_connectors.json"),
        dir.path().join("b.json"),
    )
    .unwrap();
    std::fs::copy(sample("R1_ps51_single_cert.json"), dir.path().join("a.JSON")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let inventory = load(&[dir.path().to_path_buf()]);
    let names: Vec<&str> = inventory
        .inputs
        .iter()
        .map(|i| i.path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["a.JSON", "b.json"]);
    assert_eq!(inventory.skipped.len(), 1);
    assert!(inventory.skipped[0].0.ends_with("notes.txt"));
}

#[test]
fn get_auth_config_reads_the_same_from_5_1_and_7() {
    let dir = tempfile::tempdir().unwrap();
    // Windows PowerShell 5.1, `Get-AuthConfig | Select-Object ... | ConvertTo-Json > file`: one
    // object, bare, UTF-16LE with BOM, `\/Date(ms)\/`, lower-case thumbprints as typed.
    let ps51 = "{\r\n    \"CurrentCertificateThumbprint\":  \"c8311189a2336035737358f174c4e5f00f51a804\",\r\n    \"PreviousCertificateThumbprint\":  null,\r\n    \"NextCertificateThumbprint\":  \"579F51F44AC3D9C8568A0577CAF1B4B3CBE979E0\",\r\n    \"NextCertificateEffectiveDate\":  \"\\/Date(1799539200000)\\/\",\r\n    \"ServiceName\":  \"00000002-0000-0ff1-ce00-000000000000\",\r\n    \"Realm\":  \"\",\r\n    \"Name\":  \"Auth Configuration\"\r\n}\r\n";
    // PowerShell 7: an array, UTF-8 with BOM (`Out-File -Encoding utf8BOM`), ISO 8601 with offset.
    let ps7 = "[\r\n  {\r\n    \"CurrentCertificateThumbprint\": \"C8311189A2336035737358F174C4E5F00F51A804\",\r\n    \"NextCertificateThumbprint\": \"579F51F44AC3D9C8568A0577CAF1B4B3CBE979E0\",\r\n    \"NextCertificateEffectiveDate\": \"2027-01-10T01:00:00+01:00\"\r\n  }\r\n]\r\n";
    let a = load(&[write(dir.path(), "a.json", utf16le_bom(ps51))]);
    let b = load(&[write(dir.path(), "b.json", utf8_bom(ps7))]);
    assert_eq!(a.inputs[0].kind, InputKind::AuthConfig);
    assert_eq!(b.inputs[0].kind, InputKind::AuthConfig);
    let (a, b) = (&a.auth_configs[0], &b.auth_configs[0]);
    assert_eq!(
        a.current_thumbprint.as_deref(),
        Some("C8311189A2336035737358F174C4E5F00F51A804")
    );
    assert_eq!(a.current_thumbprint, b.current_thumbprint);
    assert_eq!(a.next_thumbprint, b.next_thumbprint);
    assert_eq!(a.next_effective_date, Some(datetime!(2027-01-10 0:00 UTC)));
    assert_eq!(a.next_effective_date, b.next_effective_date);

    // Not a thumbprint: refused with the file, record and field.
    let bad = write(
        dir.path(),
        "bad.json",
        b"{\"CurrentCertificateThumbprint\": \"System.Object\"}".to_vec(),
    );
    let error = input::load(&[bad]).unwrap_err().to_string();
    assert!(error.contains("bad.json"), "{error}");
    assert!(error.contains("CurrentCertificateThumbprint"), "{error}");
}

#[test]
fn get_auth_config_in_a_collector_folder_is_organisation_wide() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("hybridtls-EX01");
    std::fs::create_dir(&folder).unwrap();
    write(
        &folder,
        "server.json",
        utf8_bom("[{\"HybridTlsCollector\": 1, \"Name\": \"EX01\", \"Fqdn\": \"EX01.contoso.com\", \"ServerRole\": \"Mailbox\", \"AdminDisplayVersion\": \"Version 15.2 (Build 1544.4)\"}]"),
    );
    write(
        &folder,
        "auth-config.json",
        utf8_bom("[{\"CurrentCertificateThumbprint\": \"C8311189A2336035737358F174C4E5F00F51A804\"}]"),
    );
    let inventory = load(&[dir.path().to_path_buf()]);
    let servers_of = |kind| {
        inventory
            .inputs
            .iter()
            .find(|i| i.kind == kind)
            .map(|i| i.servers.clone())
            .unwrap()
    };
    assert_eq!(servers_of(InputKind::ExchangeServer), ["EX01"]);
    // Every server's plan depends on it, not only the one whose folder holds it.
    assert!(servers_of(InputKind::AuthConfig).is_empty());
}

#[test]
fn exchange_online_connectors_read_the_same_as_names_and_as_numbers() {
    use hybridtls::model::{TenantConnectorType, TlsAuthLevel};
    let dir = tempfile::tempdir().unwrap();
    // Exchange Online PowerShell V3 in Windows PowerShell 5.1 (`ConvertTo-Json -Depth 4 |
    // Out-File`): one object, bare, UTF-16LE with BOM, enums by name, TlsDomain a string.
    let v3 = "{\r\n    \"Enabled\":  true,\r\n    \"UseMXRecord\":  false,\r\n    \"ConnectorType\":  \"OnPremises\",\r\n    \"SmartHosts\":  [\r\n                       \"mail.contoso.com\"\r\n                   ],\r\n    \"TlsDomain\":  \"*.contoso.com\",\r\n    \"TlsSettings\":  \"DomainValidation\",\r\n    \"Name\":  \"Outbound to hybrid\"\r\n}\r\n";
    // The older remote PowerShell session: enums deserialized to numbers (TenantConnectorType
    // OnPremises = 1, TlsAuthLevel DomainValidation = 4), TlsDomain an SmtpDomainWithSubdomains.
    let remoting = "[{\"Enabled\": true, \"UseMXRecord\": false, \"ConnectorType\": 1, \"SmartHosts\": [\"mail.contoso.com\"], \"TlsDomain\": {\"Address\": \"*.contoso.com\", \"IncludeSubDomains\": true, \"Domain\": \"contoso.com\", \"SmtpDomain\": \"contoso.com\", \"IsStar\": false}, \"TlsSettings\": 4, \"Name\": \"Outbound to hybrid\"}]";
    let a = load(&[write(dir.path(), "a.json", utf16le_bom(v3))]);
    let b = load(&[write(dir.path(), "b.json", utf8_bom(remoting))]);
    assert_eq!(a.inputs[0].kind, InputKind::OutboundConnectors);
    assert_eq!(b.inputs[0].kind, InputKind::OutboundConnectors);
    let (a, b) = (&a.outbound_connectors[0], &b.outbound_connectors[0]);
    assert_eq!(a.connector_type, Some(TenantConnectorType::OnPremises));
    assert_eq!(a.tls_settings, Some(TlsAuthLevel::DomainValidation));
    assert_eq!(a.tls_domain.as_deref(), Some("*.contoso.com"));
    assert_eq!(a.validated_domain(), Some("*.contoso.com"));
    assert_eq!(
        (&a.connector_type, &a.tls_settings, &a.tls_domain, &a.smart_hosts),
        (&b.connector_type, &b.tls_settings, &b.tls_domain, &b.smart_hosts)
    );

    // Get-InboundConnector, PowerShell 7: an array, UTF-8 without BOM.
    let inbound = "[\r\n  {\r\n    \"Enabled\": true,\r\n    \"ConnectorType\": \"OnPremises\",\r\n    \"SenderIPAddresses\": [],\r\n    \"SenderDomains\": [\"smtp:*;1\"],\r\n    \"TlsSenderCertificateName\": \"mail.contoso.com\",\r\n    \"Name\": \"Inbound from hybrid\"\r\n  },\r\n  {\r\n    \"Enabled\": false,\r\n    \"ConnectorType\": \"Partner\",\r\n    \"SenderIPAddresses\": [\"198.51.100.25\"],\r\n    \"TlsSenderCertificateName\": null,\r\n    \"Name\": \"Partner\"\r\n  }\r\n]\r\n";
    let inventory = load(&[write(dir.path(), "inbound.json", inbound.as_bytes().to_vec())]);
    assert_eq!(inventory.inputs[0].kind, InputKind::InboundConnectors);
    let names: Vec<Option<&str>> = inventory
        .inbound_connectors
        .iter()
        .map(|c| c.attributing_name())
        .collect();
    assert_eq!(names, [Some("mail.contoso.com"), None]);

    // An on-premises Get-SendConnector (TlsDomain, TlsAuthLevel, SmartHosts) stays a send connector.
    let send = "[{\"Name\": \"Outbound to Office 365\", \"SmartHosts\": [], \"TlsAuthLevel\": 4, \"TlsDomain\": \"mail.protection.outlook.com\", \"AddressSpaces\": [\"smtp:contoso.mail.onmicrosoft.com;1\"], \"SourceTransportServers\": [\"EX01\"]}]";
    let inventory = load(&[write(dir.path(), "send.json", send.as_bytes().to_vec())]);
    assert_eq!(inventory.inputs[0].kind, InputKind::SendConnectors);
}

#[test]
fn exchange_online_connector_values_that_are_no_domain_or_enum_are_refused_with_their_field() {
    let dir = tempfile::tempdir().unwrap();
    for (name, json, field) in [
        (
            "settings.json",
            "{\"Name\": \"o\", \"TlsSettings\": 3, \"TlsDomain\": \"mail.contoso.com\"}",
            "TlsSettings",
        ),
        (
            "type.json",
            "{\"Name\": \"o\", \"UseMXRecord\": true, \"ConnectorType\": \"Cloud\"}",
            "ConnectorType",
        ),
        (
            "domain.json",
            "{\"Name\": \"o\", \"TlsSettings\": 4, \"TlsDomain\": \"mail contoso';x\"}",
            "TlsDomain",
        ),
        (
            "sender.json",
            "{\"Name\": \"i\", \"TlsSenderCertificateName\": \"*.*.contoso.com\"}",
            "TlsSenderCertificateName",
        ),
        (
            "cut.json",
            "{\"Name\": \"i\", \"TlsSenderCertificateName\": \"Microsoft.Exchange.Data.TlsCertificate\"}",
            "TlsSenderCertificateName",
        ),
    ] {
        let error = input::load(&[write(dir.path(), name, json.as_bytes().to_vec())])
            .unwrap_err()
            .to_string();
        assert!(error.contains(name), "{error}");
        assert!(error.contains(field), "{name}: {error}");
    }
}

#[test]
fn remote_ip_ranges_as_strings_and_as_5_1_objects_read_the_same() {
    use hybridtls::ip_range::IpRange;
    // Two connectors at the default depth: the ranges are their ToString() strings.
    let inventory = load(&[sample("R3_ps51_receive_connectors.json")]);
    let texts: Vec<&str> = inventory.receive_connectors[0]
        .remote_ip_ranges
        .iter()
        .map(|r| r.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "0.0.0.0-255.255.255.255"
        ]
    );

    // One connector at the default depth (Windows PowerShell 5.1, `>`): the IPRange objects are
    // expanded one level, so LowerBound, UpperBound and Size are their ToString() and RangeFormat
    // a number (the property bag of the CSS-Exchange CLIXML fixture); Expression carries it. The
    // second item has lost Expression (a Select-Object of the bounds only): the bounds read.
    let single = r#"{
    "Name":  "Relay EX01",
    "Server":  "EX01",
    "TransportRole":  16384,
    "Bindings":  [
                     {
                         "Port":  25,
                         "AddressFamily":  2,
                         "Address":  "0.0.0.0"
                     }
                 ],
    "RemoteIPRanges":  [
                           {
                               "LowerBound":  "192.168.50.0",
                               "UpperBound":  "192.168.50.255",
                               "Netmask":  null,
                               "CIDRLength":  null,
                               "RangeFormat":  3,
                               "Size":  "::100",
                               "Expression":  "192.168.50.0-192.168.50.255"
                           },
                           {
                               "LowerBound":  "10.1.2.3",
                               "UpperBound":  "10.1.2.3"
                           },
                           "10.0.0.0/8"
                       ]
}"#;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "receive-connectors.json", utf16le_bom(single));
    let inventory = load(&[path]);
    let relay = &inventory.receive_connectors[0];
    assert_eq!(relay.bindings, ["0.0.0.0:25"]);
    let expected = [
        IpRange::parse("192.168.50.0-192.168.50.255").unwrap(),
        IpRange::parse("10.1.2.3").unwrap(),
        IpRange::parse("10.0.0.0/8").unwrap(),
    ];
    assert_eq!(relay.remote_ip_ranges, expected);

    // A value that is no range is refused with the file and the field.
    let bad = single.replace("\"10.0.0.0/8\"", "\"10.0.0.0/99\"");
    let path = write(dir.path(), "bad-ranges.json", utf8_bom(&bad));
    let error = input::load(&[path]).unwrap_err().to_string();
    assert!(error.contains("bad-ranges.json"), "{error}");
    assert!(error.contains("RemoteIPRanges"), "{error}");
    assert!(error.contains("10.0.0.0/99"), "{error}");
}

#[test]
fn deep_bindings_keep_the_ipv4_address_and_leave_ipv6_unknown() {
    // -Depth 6 (the collector): System.Net.IPAddress as its properties. IPv4 is the `Address`
    // number (10.0.0.5 = bytes 10,0,0,5 read little-endian); IPv6 has no text (`Address` null).
    let text = r#"{"Name": "Relay EX01", "Server": "EX01", "Bindings": [
        {"Port": 25, "AddressFamily": 2, "Address": {"Address": 83886090, "AddressFamily": 2, "ScopeId": null}},
        {"Port": 25, "AddressFamily": 23, "Address": {"Address": null, "AddressFamily": 23, "ScopeId": 0}}
    ]}"#;
    let dir = tempfile::tempdir().unwrap();
    let inventory = load(&[write(dir.path(), "receive-connectors.json", utf8_bom(text))]);
    assert_eq!(inventory.receive_connectors[0].bindings, ["10.0.0.5:25", ":25"]);
}

/// Issue 17 point 2: `SmartHosts` as servers write them. A remote session (a Mailbox server's
/// Exchange Management Shell) gives `SmartHost` property bags `{Address: <IPAddress>,
/// IsIPAddress: false, Domain: "<host>"}` (CSS-Exchange HealthChecker fixture
/// GetSendConnector.xml); `-Depth 6` writes the IPAddress with its properties, the default depth
/// writes it as `0.0.0.0` for one connector and the items as their ToString for several; a
/// local session (Edge) may write `Domain` as an object. Each reads as the host, and a
/// connector that names Exchange Online only by its smart host is the connector to it.
#[test]
fn smart_hosts_are_read_in_every_shape_servers_write() {
    const HOST: &str = "contoso-com.mail.protection.outlook.com";
    let deep_placeholder = r#"{"AddressFamily": 2, "ScopeId": null, "IsIPv6Multicast": false, "IsIPv6LinkLocal": false, "IsIPv6SiteLocal": false, "IsIPv6Teredo": false, "IsIPv4MappedToIPv6": false, "Address": 0, "IPAddressToString": "0.0.0.0"}"#;
    let shapes = [
        (
            "collector -Depth 6, remote session",
            format!(r#"{{"Address": {deep_placeholder}, "IsIPAddress": false, "Domain": "{HOST}"}}"#),
        ),
        (
            "default depth, one connector",
            format!(r#"{{"Address": "0.0.0.0", "IsIPAddress": false, "Domain": "{HOST}"}}"#),
        ),
        ("default depth, several connectors", format!(r#""{HOST}""#)),
        (
            "local session, Domain an object",
            format!(
                r#"{{"Address": {deep_placeholder}, "IsIPAddress": false, "Domain": {{"HostnameString": "{HOST}"}}}}"#
            ),
        ),
        (
            "local session, Domain an object past the depth",
            format!(
                r#"{{"Address": "0.0.0.0", "IsIPAddress": false, "Domain": {{"Length": 39, "Value": "{HOST}"}}}}"#
            ),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (shape, item) in shapes {
        let text = format!(
            r#"[{{"Name": "Outbound to Office 365", "AddressSpaces": ["SMTP:*;1"], "CloudServicesMailEnabled": false, "SmartHosts": [{item}], "SourceTransportServers": ["EX01"]}}]"#
        );
        let path = write(dir.path(), "send-connectors.json", text.into_bytes());
        let inventory = load(&[path]);
        let connector = &inventory.send_connectors[0];
        assert_eq!(connector.smart_hosts, [HOST], "{shape}");
        assert!(connector.targets_exchange_online(), "{shape}");
    }
    // A Domain cut off to its type name holds no host: an error that asks for a deeper export,
    // never a guess.
    let cut = r#"[{"Name": "Outbound", "AddressSpaces": ["SMTP:*;1"], "SmartHosts": [{"Address": "0.0.0.0", "IsIPAddress": false, "Domain": "Microsoft.Exchange.Data.Hostname"}]}]"#;
    let path = write(dir.path(), "send-connectors.json", cut.as_bytes().to_vec());
    let error = input::load(&[path]).unwrap_err().to_string();
    assert!(
        error.contains("SmartHosts") && error.contains("-Depth"),
        "{error}"
    );
    // A smart host given by address keeps its address.
    let by_address = r#"[{"Name": "Relay", "AddressSpaces": ["SMTP:*;1"], "SmartHosts": [{"Address": {"AddressFamily": 2, "Address": 16885952, "IPAddressToString": "192.168.1.1"}, "IsIPAddress": true, "Domain": null}]}]"#;
    let path = write(dir.path(), "send-connectors.json", by_address.as_bytes().to_vec());
    assert_eq!(load(&[path]).send_connectors[0].smart_hosts, ["192.168.1.1"]);
}

/// Get-ExchangeCertificate through a remote session, imported in PowerShell 7 (the shape pwsh
/// 7.6 gives CSS-Exchange's GetExchangeCertificate.xml): a plain X509Certificate2 rebuilt from
/// RawData, with Exchange's SerializationData and PSComputerName. It is Get-ExchangeCertificate
/// output, and its HasPrivateKey false is the rebuild's, not the server's: unknown.
#[test]
fn a_certificate_rebuilt_by_powershell_7_is_exchange_output_with_its_key_unknown() {
    let der = std::fs::read("tests/fixtures/der/broken_3.der").unwrap();
    let bytes: Vec<String> = der.iter().map(u8::to_string).collect();
    let record = |extra: &str| {
        format!(
            r#"[{{"Thumbprint": "63F480EA98F26E6F8AE7BB5311B33BB2C692D3CA", "HasPrivateKey": false, "FriendlyName": "", "RawData": [{}], "PSComputerName": "ex01.contoso.com", "RunspaceId": "5f3c0d1e-0000-0000-0000-000000000000", "SerializationData": [0, 1, 0, 0, 0, 255]{extra}}}]"#,
            bytes.join(",")
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "exchange-certificates.json", record("").into_bytes());
    let inventory = load(&[path]);
    assert_eq!(
        inventory.inputs[0].kind,
        hybridtls::model::InputKind::ExchangeCertificates
    );
    let certificate = &inventory.certificates[0];
    assert_eq!(certificate.server.as_deref(), Some("ex01"));
    assert_eq!(certificate.has_private_key, None);
    // Rehydrated in the Exchange Management Shell it has Services, and its false stands.
    let path = write(
        dir.path(),
        "exchange-certificates.json",
        record(r#", "Services": 16, "Status": 1"#).into_bytes(),
    );
    assert_eq!(load(&[path]).certificates[0].has_private_key, Some(false));
}

/// Issue 18: a dangling link in a folder (even `notes.txt`) stopped the whole run, and a link
/// loop was called "no such file". In a folder both are skipped with their reason, like any
/// other file that is not an export; named on the command line, they are an error that says
/// what they are.
#[cfg(unix)]
#[test]
fn broken_links_are_skipped_in_folders_and_named_for_what_they_are() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample("R1_ps51_single_cert.json"), dir.path().join("a.json")).unwrap();
    symlink(dir.path().join("gone.txt"), dir.path().join("notes.txt")).unwrap();
    symlink(dir.path().join("gone.json"), dir.path().join("exports.json")).unwrap();
    symlink(dir.path().join("loop.json"), dir.path().join("loop.json")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    symlink(dir.path(), dir.path().join("sub/up")).unwrap();
    let inventory = load(&[dir.path().to_path_buf()]);
    assert_eq!(inventory.inputs.len(), 1);
    let reasons: Vec<(String, String)> = inventory
        .skipped
        .iter()
        .map(|(path, reason)| {
            (
                path.rsplit_once(dir.path().to_str().unwrap())
                    .unwrap()
                    .1
                    .to_owned(),
                reason.clone(),
            )
        })
        .collect();
    let reason_of = |name: &str| {
        reasons
            .iter()
            .find(|(path, _)| path == name)
            .map(|(_, reason)| reason.as_str())
            .unwrap_or_else(|| panic!("{name} not skipped: {reasons:?}"))
    };
    assert!(reason_of("/notes.txt").contains("does not exist"), "{reasons:?}");
    assert!(
        reason_of("/exports.json").contains("does not exist"),
        "{reasons:?}"
    );
    assert!(reason_of("/loop.json").contains("loop"), "{reasons:?}");
    assert!(reason_of("/sub/up").contains("loop"), "{reasons:?}");

    for (name, expected) in [("exports.json", "does not exist"), ("loop.json", "loop")] {
        let err = input::load(&[dir.path().join(name)]).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(expected), "{err}");
        assert!(!err.contains("no such file"), "{err}");
    }
}

/// Issue 17 point 8: the organisation of a directory object is its organisation's RDN and the
/// forest of the configuration naming context; an Edge server's AD LDS instance names no forest.
#[test]
fn the_organisation_is_read_from_distinguished_names() {
    use hybridtls::input::exchange::organisation_of;
    let server =
        "CN=EX01,CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,";
    assert_eq!(
        organisation_of(&format!(
            "{server}CN=Contoso\\, Ltd,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=corp,DC=contoso,DC=com"
        )),
        Some(("Contoso\\, Ltd".to_owned(), "DC=corp,DC=contoso,DC=com".to_owned()))
    );
    assert_eq!(
        organisation_of(
            "cn=First Organization,cn=microsoft exchange,cn=services,cn=configuration,dc=fabrikam, dc=com"
        ),
        Some(("First Organization".to_owned(), "dc=fabrikam,dc=com".to_owned()))
    );
    for none in [
        format!("{server}CN=First Organization,CN=Microsoft Exchange,CN=Services,CN=Configuration,CN={{7D9C4A2E-3F1B-4E8A-9C6D-2B5F8A1E0C47}}"),
        "EX01\\Default Frontend EX01".to_owned(),
        "CN=Configuration,DC=contoso,DC=com".to_owned(),
        ",CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=contoso,DC=com".to_owned(),
    ] {
        assert_eq!(organisation_of(&none), None, "{none}");
    }
}
