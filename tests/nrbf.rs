//! Exchange's SerializationData (a .NET binary serialization, MS-NRBF) in Get-ExchangeCertificate
//! CLIXML (issue 17 point 7): the CLIXML of the Exchange Management Shell without Select-Object
//! keeps only RawData in Props, and Services, Status, RootCAType and the key in the blob. Read,
//! they give the plan the JSON export of the same certificates gives; damaged, they stop the
//! run with the file, the line and column of the property and the byte in the blob.
//!
//! The blobs in tests/fixtures/clixml/ are written by tests/support/nrbf.rs (no real export is
//! copied); `HYBRIDTLS_BLESS=1 cargo test --test nrbf` writes them again.

mod support;

use std::path::{Path, PathBuf};

use base64::Engine;
use hybridtls::input::nrbf::{exchange_certificate_properties, Stream};
use hybridtls::input::{self, clixml};
use hybridtls::model::Store;
use proptest::prelude::*;
use serde_json::Value;
use support::cli::hybridtls;
use support::nrbf::{clixml_document, clixml_object, serialization_data, Certificate};

use support::generated::NOW;
const SEED000_JSON: &str = "examples/seed000-null-tlscertname";
const SEED000_CLIXML: &str = "tests/fixtures/clixml/seed000-null-tlscertname";
/// Seed 000's Get-ExchangeCertificate as the Exchange Management Shell exports it without
/// Select-Object.
const SEED000_EMS: &str = "tests/fixtures/clixml/seed000-ems-certificates/exchange-certificates.xml";
const EMS: &str = "tests/fixtures/clixml/ems/exchange-certificates.xml";

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Seed 000's certificates from its JSON export, as their blobs say them.
fn seed000_certificates() -> Vec<(Certificate, String, String)> {
    let path = Path::new(SEED000_JSON).join("exchange-certificates.json");
    let (text, _) = input::text::decode("exchange-certificates.json", &std::fs::read(path).unwrap()).unwrap();
    let records: Vec<Value> = serde_json::from_str(&text).unwrap();
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let number = |name: &str| record[name].as_i64().unwrap() as i32;
            let services = number("Services");
            let server = "SERVER1";
            let certificate = Certificate {
                der: record["RawData"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b.as_u64().unwrap() as u8)
                    .collect(),
                identity: record["Identity"].as_str().unwrap().to_owned(),
                friendly_name: record["FriendlyName"].as_str().map(str::to_owned),
                has_key: record["HasPrivateKey"].as_bool().unwrap(),
                self_signed: record["IsSelfSigned"].as_bool().unwrap(),
                status: number("Status"),
                root_ca_type: number("RootCAType"),
                services,
                private_key_exportable: index != 0,
                // A certificate for IIS is bound to the default web site and the back end.
                iis_sites: if services & 8 != 0 {
                    vec![
                        format!("IIS://{server}/W3SVC/1"),
                        format!("IIS://{server}/W3SVC/2"),
                    ]
                } else {
                    Vec::new()
                },
                // Serialization payload signing is on by default since November 2023; the
                // first certificate's blob is signed, the others are as older servers write.
                signed: index == 0,
            };
            (
                certificate,
                record["Subject"].as_str().unwrap().to_owned(),
                record["Thumbprint"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn seed000_ems_document() -> String {
    let objects: Vec<String> = seed000_certificates()
        .iter()
        .enumerate()
        .map(|(index, (certificate, subject, thumbprint))| {
            clixml_object(certificate, index, "SERVER1.domain.com", subject, thumbprint)
        })
        .collect();
    clixml_document(&objects)
}

/// The blobs of tests/fixtures/clixml/ems/exchange-certificates.xml, by thumbprint.
fn ems_blob(thumbprint: &str, der: &[u8]) -> Vec<u8> {
    let (friendly_name, services, signed) = match thumbprint {
        "2759456DC53C76E3DED093B567B6D8DAA42C0ADD" => ("mail.contoso.lab", 8, false),
        _ => ("WMSVC-SHA2", 0, true),
    };
    serialization_data(&Certificate {
        der: der.to_vec(),
        identity: format!("EX01.contoso.lab\\{thumbprint}"),
        friendly_name: Some(friendly_name.to_owned()),
        has_key: true,
        self_signed: true,
        status: 1,
        root_ca_type: 3,
        services,
        private_key_exportable: true,
        iis_sites: Vec::new(),
        signed,
    })
}

/// `text` with the content of every `<BA N="name">` replaced by `replace(index, content)`.
fn replace_blobs(text: &str, name: &str, mut replace: impl FnMut(usize, &str) -> String) -> String {
    let open = format!("<BA N=\"{name}\">");
    let mut out = String::new();
    let mut rest = text;
    let mut index = 0;
    while let Some(at) = rest.find(&open) {
        let start = at + open.len();
        let end = start + rest[start..].find("</BA>").unwrap();
        out.push_str(&rest[..start]);
        out.push_str(&replace(index, &rest[start..end]));
        rest = &rest[end..];
        index += 1;
    }
    out.push_str(rest);
    out
}

/// The ems fixture with its blobs as the generator writes them for its RawData.
fn ems_document() -> String {
    let text = std::fs::read_to_string(EMS).unwrap();
    let mut raw = Vec::new();
    replace_blobs(&text, "RawData", |_, content| {
        raw.push(base64::engine::general_purpose::STANDARD.decode(content).unwrap());
        content.to_owned()
    });
    replace_blobs(&text, "SerializationData", |index, _| {
        let der = &raw[index];
        let thumbprint = hybridtls::x509::parse_der(der).unwrap().thumbprint;
        base64(&ems_blob(&thumbprint, der))
    })
}

#[test]
fn the_fixtures_are_what_the_generator_writes() {
    for (path, expected) in [(SEED000_EMS, seed000_ems_document()), (EMS, ems_document())] {
        if std::env::var_os("HYBRIDTLS_BLESS").is_some() {
            std::fs::create_dir_all(Path::new(path).parent().unwrap()).unwrap();
            std::fs::write(path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(path).unwrap();
        assert!(
            actual == expected,
            "{path} is not what tests/support/nrbf.rs writes; HYBRIDTLS_BLESS=1 writes it again"
        );
    }
}

#[test]
fn the_management_shell_clixml_without_select_object_gives_services_status_and_the_key() {
    let records = clixml::parse_records(
        "exchange-certificates.xml",
        &std::fs::read_to_string(SEED000_EMS).unwrap(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let facts: Vec<Value> = records
        .iter()
        .map(|r| {
            serde_json::json!([
                r["Services"],
                r["Status"],
                r["RootCAType"],
                r["HasPrivateKey"],
                r["FriendlyName"]
            ])
        })
        .collect();
    assert_eq!(
        facts,
        [
            serde_json::json!([27, 1, 3, true, "Microsoft Exchange"]),
            serde_json::json!([16, 1, 0, true, "Microsoft Exchange Server Auth Certificate"]),
            serde_json::json!([24, 1, 1, true, "hybrid.domain.com 2026"]),
        ]
    );
    // Into the model, as from the JSON export.
    let inventory = input::load(&[PathBuf::from(SEED000_EMS)]).unwrap_or_else(|e| panic!("{e}"));
    let hybrid = inventory
        .certificates
        .iter()
        .find(|c| c.thumbprint == "518D19EFF3CF51BE58823755672D9DC5192AB0A4")
        .unwrap();
    assert_eq!(
        (hybrid.services, hybrid.status, hybrid.has_private_key),
        (
            Some(hybridtls::model::Services::from_bits(24)),
            Some(1),
            Some(true)
        )
    );
    assert_eq!(hybrid.server.as_deref(), Some("SERVER1"));
    assert_eq!(hybrid.store, Store::My);
    assert!(!hybrid.from_store_listing);
}

/// The plan document and the text plan, without what differs by file: the input paths,
/// hashes and encodings, the fingerprints made from them, the files skipped, and the label of
/// a certificate's record in evidence (its Thumbprint property, which the Management Shell's
/// CLIXML does not have: "record 1" there, "record 1 (\"EA0E...\")" in JSON).
fn plans(folder: &Path) -> (Value, String) {
    // Paths are shown with `/` on every system.
    let shown = hybridtls::input::display(folder);
    let folder = folder.to_str().unwrap();
    let normalise = |output: String| {
        let mut output = output.replace(&format!("{shown}/"), "").replace(".xml", ".json");
        for (_, _, thumbprint) in seed000_certificates() {
            output = output
                .replace(&format!(" (\\\"{thumbprint}\\\")"), "")
                .replace(&format!(" (\"{thumbprint}\")"), "");
        }
        output
    };
    let (code, stdout, stderr) = hybridtls(&["plan", "--format", "json", "--now", NOW, folder]);
    assert_eq!(code, 0, "{stderr}");
    let text = normalise(stdout);
    let mut plan: Value = serde_json::from_str(&text).unwrap();
    for field in ["inputs", "skipped"] {
        plan.as_object_mut().unwrap().remove(field);
    }
    for server in plan["servers"].as_array_mut().unwrap() {
        server.as_object_mut().unwrap().remove("plan_fingerprint");
    }
    let (code, stdout, stderr) = hybridtls(&["plan", "--now", NOW, folder]);
    assert_eq!(code, 0, "{stderr}");
    let text = normalise(stdout);
    let text = text[text.find("Hybrid FQDN:").unwrap()..].to_owned();
    (plan, text)
}

/// Seed 000 in CLIXML (its connectors re-exported, its certificates as the Management Shell
/// exports them) with `certificates` as exchange-certificates.xml.
fn seed000_folder(certificates: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "receive-connectors.xml",
        "send-connectors.xml",
        "RECV2026112309-1.LOG",
    ] {
        std::fs::copy(Path::new(SEED000_CLIXML).join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("exchange-certificates.xml"), certificates).unwrap();
    dir
}

#[test]
fn a_plan_from_management_shell_certificates_equals_the_plan_from_their_json_export() {
    let (json_plan, json_text) = plans(Path::new(SEED000_JSON));
    let clixml = seed000_folder(&std::fs::read_to_string(SEED000_EMS).unwrap());
    let (clixml_plan, clixml_text) = plans(clixml.path());
    assert_eq!(clixml_plan, json_plan);
    assert_eq!(clixml_text, json_text);
    assert!(json_text.contains("Certificate for hybrid mail flow: 518D19EFF3CF51BE58823755672D9DC5192AB0A4"));

    // The hybrid certificate without its key: the blob's false is read as the JSON's false,
    // and changes the plan.
    let mut certificates = seed000_certificates();
    certificates[2].0.has_key = false;
    let objects: Vec<String> = certificates
        .iter()
        .enumerate()
        .map(|(index, (certificate, subject, thumbprint))| {
            clixml_object(certificate, index, "SERVER1.domain.com", subject, thumbprint)
        })
        .collect();
    let keyless = seed000_folder(&clixml_document(&objects));
    let json = tempfile::tempdir().unwrap();
    for name in [
        "receive-connectors.json",
        "send-connectors.json",
        "RECV2026112309-1.LOG",
    ] {
        std::fs::copy(Path::new(SEED000_JSON).join(name), json.path().join(name)).unwrap();
    }
    let path = Path::new(SEED000_JSON).join("exchange-certificates.json");
    let (text, _) = input::text::decode("exchange-certificates.json", &std::fs::read(path).unwrap()).unwrap();
    let mut records: Value = serde_json::from_str(&text).unwrap();
    records[2]["HasPrivateKey"] = Value::Bool(false);
    std::fs::write(
        json.path().join("exchange-certificates.json"),
        records.to_string(),
    )
    .unwrap();
    let (keyless_json, _) = plans(json.path());
    assert_eq!(plans(keyless.path()).0, keyless_json);
    assert_ne!(keyless_json, json_plan);

    // Without the blob (what hybridtls read before), the services, status and key are unknown.
    let without = replace_blobs(
        &std::fs::read_to_string(SEED000_EMS).unwrap(),
        "SerializationData",
        |_, _| String::new(),
    )
    .replace(
        "<BA N=\"SerializationData\"></BA>",
        "<Nil N=\"SerializationData\" />",
    );
    let unknown = seed000_folder(&without);
    let inventory = input::load(&[unknown.path().join("exchange-certificates.xml")]).unwrap();
    assert!(inventory
        .certificates
        .iter()
        .all(|c| c.services.is_none() && c.status.is_none() && c.has_private_key.is_none()));
}

#[test]
fn a_store_element_without_the_key_provider_is_the_servers_false_and_no_blob_is_unknown() {
    let (mut keyless, subject, thumbprint) = seed000_certificates().remove(2);
    keyless.has_key = false;
    let document = clixml_document(&[clixml_object(
        &keyless,
        0,
        "SERVER1.domain.com",
        &subject,
        &thumbprint,
    )]);
    let records = clixml::parse_records("c.xml", &document).unwrap();
    assert_eq!(records[0]["HasPrivateKey"], Value::Bool(false));
    assert_eq!(records[0]["Services"], 24);
    // An object of another type keeps its blob unread (a connector's IPBinding has one too).
    let other = document.replace(
        "<T>Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate</T>",
        "<T>Microsoft.Exchange.Data.IPBinding</T>",
    );
    let records = clixml::parse_records("c.xml", &other).unwrap();
    assert!(records[0].get("HasPrivateKey").is_none() && records[0].get("Services").is_none());
    // The deserialized type (no rebuilt object) is read the same.
    let deserialized = document.replace(
        "<T>Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate</T>",
        "<T>Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate</T>",
    );
    let records = clixml::parse_records("c.xml", &deserialized).unwrap();
    assert_eq!(records[0]["HasPrivateKey"], Value::Bool(false));
}

#[test]
fn a_damaged_blob_stops_with_the_file_the_line_and_column_and_the_byte_and_writes_nothing() {
    let text = std::fs::read_to_string(SEED000_EMS).unwrap();
    let blob_line = text[..text.find("<BA N=\"SerializationData\">").unwrap()]
        .matches('\n')
        .count()
        + 1;
    let cases = [
        // Cut inside the stream, re-encoded: the reader says where the stream ends.
        (
            replace_blobs(&text, "SerializationData", |index, content| {
                let blob = base64::engine::general_purpose::STANDARD.decode(content).unwrap();
                if index == 0 {
                    base64(&blob[..300])
                } else {
                    content.to_owned()
                }
            }),
            "the signed blob says its stream is",
        ),
        (
            replace_blobs(&text, "SerializationData", |index, content| {
                let mut blob = base64::engine::general_purpose::STANDARD.decode(content).unwrap();
                if index == 0 {
                    blob[9 + 17] = 99;
                }
                base64(&blob)
            }),
            "byte 26 of the blob: 99 is not a record type",
        ),
        (
            replace_blobs(&text, "SerializationData", |index, content| {
                if index == 0 {
                    content.replacen('A', "!", 1)
                } else {
                    content.to_owned()
                }
            }),
            "SerializationData is not valid base64",
        ),
    ];
    for (damaged, expected) in cases {
        let dir = seed000_folder(&damaged);
        let out = dir.path().join("out");
        let (code, stdout, stderr) = hybridtls(&[
            "plan",
            "--now",
            NOW,
            "--out",
            out.to_str().unwrap(),
            dir.path().to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{stdout}{stderr}");
        assert!(
            stderr.contains(&format!(
                "exchange-certificates.xml: line {blob_line}, column 7: SerializationData"
            )),
            "{stderr}"
        );
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "nothing is written");
    }
}

/// Blobs of every shape the generator writes: signed or not, with a key or not, with none to
/// five IIS sites, any values.
fn certificates() -> impl Strategy<Value = Certificate> {
    (
        prop::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
        any::<bool>(),
        (0..100i32, 0..6i32, 0..128i32),
        0..6usize,
        prop::option::of("[a-zA-Z .é]{0,12}"),
    )
        .prop_map(
            |(der, has_key, signed, (status, root_ca_type, services), sites, friendly_name)| Certificate {
                der,
                identity: "EX01.contoso.lab\\AB".to_owned(),
                friendly_name,
                has_key,
                self_signed: status % 2 == 0,
                status,
                root_ca_type,
                services,
                private_key_exportable: services % 2 == 0,
                iis_sites: (1..=sites).map(|n| format!("IIS://EX01/W3SVC/{n}")).collect(),
                signed,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any bytes: an answer or an error inside the blob, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = Stream::parse(&bytes) {
            prop_assert!(e.offset <= bytes.len(), "{e}");
        }
        if let Err(e) = exchange_certificate_properties(&bytes, None) {
            prop_assert!(e.offset <= bytes.len(), "{e}");
        }
    }

    /// Every valid blob reads back what was written, into the properties the JSON has.
    #[test]
    fn written_blobs_read_back(certificate in certificates()) {
        let blob = serialization_data(&certificate);
        let properties = exchange_certificate_properties(&blob, Some(&certificate.der)).unwrap();
        prop_assert_eq!(&properties["Status"], &Value::from(certificate.status));
        prop_assert_eq!(&properties["RootCAType"], &Value::from(certificate.root_ca_type));
        prop_assert_eq!(&properties["Services"], &Value::from(certificate.services));
        prop_assert_eq!(&properties["HasPrivateKey"], &Value::Bool(certificate.has_key));
        prop_assert_eq!(
            properties.get("FriendlyName").and_then(Value::as_str),
            certificate.friendly_name.as_deref().filter(|n| !n.is_empty())
        );
    }

    /// A valid blob cut anywhere before its end (before the signature, for a signed one, which
    /// cannot be checked) is an error at or before the cut.
    #[test]
    fn truncated_blobs_give_an_error_with_an_offset(certificate in certificates(), cut in any::<prop::sample::Index>()) {
        let blob = serialization_data(&certificate);
        let end = if certificate.signed { blob.len() - 32 } else { blob.len() };
        let cut = cut.index(end);
        let err = exchange_certificate_properties(&blob[..cut], Some(&certificate.der)).unwrap_err();
        prop_assert!(err.offset <= cut, "{} at {}", err, cut);
    }

    /// A valid blob with bytes changed: an answer or an error inside the blob, never a panic.
    #[test]
    fn damaged_blobs_never_panic(
        certificate in certificates(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..6),
    ) {
        let mut blob = serialization_data(&certificate);
        for (at, mask) in flips {
            let at = at.index(blob.len());
            blob[at] ^= mask;
        }
        if let Err(e) = exchange_certificate_properties(&blob, Some(&certificate.der)) {
            prop_assert!(e.offset <= blob.len(), "{e}");
        }
    }
}
