//! Arbitrary connector names and certificate subjects, carried through the whole pipeline
//! (read → diagnose → plan → render), come out of every generated script as exactly one
//! literal whose value equals the input, and the script still parses; a value holding an
//! invisible character is refused at input with its file.

mod support;

use hybridtls::render::script;
use hybridtls::{diagnose, input, plan};
use proptest::prelude::*;
use support::powershell::{assert_parses_cleanly, assert_value_only_in_literals, single_quoted_literals};
use time::macros::datetime;

/// The pieces of [`hostile_text`] that hide or rewrite text in a terminal, a report or a
/// script: a value holding one is refused at input, never rendered.
const INVISIBLE: [&str; 10] = [
    "\r", "\n", "\t", "\u{0}", "\u{1b}", "\u{7f}", "\u{85}", "\u{2028}", "\u{202E}", "\u{2066}",
];

/// Text an attacker or an unlucky admin could put into a connector name or an O= value.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "Z",
        "0",
        " ",
        "'",
        "‘",
        "’",
        "‚",
        "‛",
        "\"",
        "“",
        "”",
        "„",
        "$(Stop-Computer)",
        "${env:x}",
        "@(",
        "`",
        "`n",
        "#>",
        "<#",
        "\r\n",
        "\n",
        "\r",
        "\t",
        "\u{0}",
        "\u{1b}[2J",
        "\u{7f}",
        "\u{85}",
        "\u{2028}",
        "\u{202E}",
        "é",
        "ß",
        "日本",
        "😀",
        "<I>",
        "<S>",
        ";",
        "|",
        "&",
        "{",
        "}",
    ]);
    prop::collection::vec(pieces, 1..12).prop_map(|parts| parts.concat())
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A server whose hybrid connector names a removed certificate (HT002), with the renewed one
/// installed: the plan changes the connector from `old` to the renewed certificate's name.
fn scenario(connector: &str, organisation: &str, old_issuer: &str) -> Vec<(String, String)> {
    let subject = format!("CN=mail.contoso.com, O={organisation}, C=US");
    let issuer = "CN=Contoso Issuing CA G2, O=Certificate Provider, C=US";
    let certificates = format!(
        r#"[{{"Thumbprint": "1111111111111111111111111111111111111111", "Subject": {subject}, "Issuer": {issuer},
             "NotBefore": "\/Date(1780272000000)\/", "NotAfter": "\/Date(2095891200000)\/", "HasPrivateKey": true,
             "IsSelfSigned": false, "Status": 1, "Services": 24, "CertificateDomains": ["mail.contoso.com"],
             "Identity": "EX1.contoso.com\\1111111111111111111111111111111111111111"}},
            {{"Thumbprint": "2222222222222222222222222222222222222222", "Subject": "CN=EX1", "Issuer": "CN=EX1",
             "NotBefore": "\/Date(1780272000000)\/", "NotAfter": "\/Date(2095891200000)\/", "HasPrivateKey": true,
             "IsSelfSigned": true, "Status": 1, "Services": 27, "CertificateDomains": ["EX1", "EX1.contoso.com"],
             "Identity": "EX1.contoso.com\\2222222222222222222222222222222222222222"}}]"#,
        subject = json_string(&subject),
        issuer = json_string(issuer),
    );
    let connectors = format!(
        r#"{{"Name": {name}, "Server": "EX1", "TransportRole": 16384, "Bindings": ["0.0.0.0:25"],
            "Fqdn": "EX1.contoso.com", "AuthMechanism": 31,
            "TlsDomainCapabilities": ["mail.protection.outlook.com:AcceptCloudServicesMail"],
            "TlsCertificateName": {{"CertificateIssuer": {old}, "CertificateSubject": {subject}}}}}"#,
        name = json_string(connector),
        old = json_string(old_issuer),
        subject = json_string(&subject),
    );
    vec![
        ("certificates.json".into(), certificates),
        ("connectors.json".into(), connectors),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn hostile_names_and_subjects_stay_inside_literals(
        connector in hostile_text(),
        organisation in hostile_text(),
        old_issuer in hostile_text(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in scenario(&connector, &organisation, &old_issuer) {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let invisible = [&connector, &organisation, &old_issuer]
            .iter()
            .any(|value| INVISIBLE.iter().any(|piece| value.contains(piece)));
        let loaded = input::load(&[dir.path().to_path_buf()]);
        if invisible {
            let error = loaded.expect_err("a value with an invisible character must be refused");
            prop_assert!(error.file.ends_with(".json"), "{}", error);
            prop_assert!(error.to_string().contains("invisible character U+"), "{}", error);
            return Ok(());
        }
        let inventory = loaded.unwrap();
        let now = datetime!(2026-11-24 0:00 UTC);
        let plans = plan::build(&diagnose::diagnose(&inventory, &["mail.contoso.com".to_owned()], now));
        prop_assert_eq!(plans.len(), 1);
        let server_plan = &plans[0];
        prop_assert_eq!(server_plan.changes.len(), 1, "{:#?}", server_plan);
        let change = &server_plan.changes[0];
        for render in [script::remediation, script::rollback] {
            let text = render(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00").unwrap();
            let text = text.trim_start_matches('\u{FEFF}');
            assert_parses_cleanly(text);
            let literals = single_quoted_literals(text);
            for value in [change.identity.clone(), change.after.to_string(), change.before.as_ref().unwrap().to_string()] {
                assert_value_only_in_literals(text, &value);
                let count = literals.iter().filter(|l| l.value == value).count();
                prop_assert_eq!(count, 1, "{:?} appears as {} literals", value, count);
            }
        }
    }
}

/// [`hostile_text`] without the invisible pieces, which are refused at input (tested above).
fn visible_hostile_text() -> impl Strategy<Value = String> {
    hostile_text().prop_map(|text| {
        let visible: String = INVISIBLE.iter().fold(text, |t, piece| t.replace(piece, ""));
        if visible.trim().is_empty() {
            "x".to_owned()
        } else {
            visible
        }
    })
}

/// [`scenario`] with a send connector to Exchange Online that names the old certificate too:
/// the plan also sets the send connector, whose name and old value come from the inputs.
fn scenario_with_send(
    connector: &str,
    organisation: &str,
    old_issuer: &str,
    send: &str,
    send_old: &str,
) -> Vec<(String, String)> {
    let mut files = scenario(connector, organisation, old_issuer);
    let subject = format!("CN=mail.contoso.com, O={organisation}, C=US");
    files.push((
        "send.json".into(),
        format!(
            r#"{{"Name": {name}, "AddressSpaces": ["smtp:contoso.mail.onmicrosoft.com;1"], "SmartHosts": ["contoso-com.mail.protection.outlook.com"],
                "Fqdn": "mail.contoso.com", "CloudServicesMailEnabled": true, "SourceTransportServers": ["EX1"],
                "TlsCertificateName": {{"CertificateIssuer": {old}, "CertificateSubject": {subject}}}}}"#,
            // A fixed prefix, as a server name prefixes a receive connector's identity: a bare
            // short value such as `@('` occurs in the script's own code.
            name = json_string(&format!("HybridSend {send}")),
            old = json_string(send_old),
            subject = json_string(&subject),
        ),
    ));
    files
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn hostile_send_connector_names_stay_inside_literals(
        connector in visible_hostile_text(),
        organisation in visible_hostile_text(),
        send in visible_hostile_text(),
        send_old in visible_hostile_text(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in scenario_with_send(&connector, &organisation, "CN=Old CA", &send, &send_old) {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let inventory = input::load(&[dir.path().to_path_buf()]).unwrap();
        let now = datetime!(2026-11-24 0:00 UTC);
        let plans = plan::build(&diagnose::diagnose(&inventory, &["mail.contoso.com".to_owned()], now));
        prop_assert_eq!(plans.len(), 1);
        let server_plan = &plans[0];
        prop_assert_eq!(server_plan.send_changes.len(), 1, "{:#?}", server_plan);
        let receive = &server_plan.changes[0];
        let change = &server_plan.send_changes[0];
        let values = [
            receive.identity.clone(),
            receive.before.as_ref().unwrap().to_string(),
            receive.after.to_string(),
            change.identity.clone(),
            change.before.as_ref().unwrap().to_string(),
            change.after.to_string(),
        ];
        for render in [script::remediation, script::rollback] {
            let text = render(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00").unwrap();
            let text = text.trim_start_matches('\u{FEFF}');
            assert_parses_cleanly(text);
            let literals = single_quoted_literals(text);
            for value in &values[3..] {
                assert_value_only_in_literals(text, value);
                let expected = values.iter().filter(|v| *v == value).count();
                let count = literals.iter().filter(|l| &l.value == value).count();
                prop_assert_eq!(count, expected, "{:?} appears as {} literals", value, count);
            }
        }
    }
}
