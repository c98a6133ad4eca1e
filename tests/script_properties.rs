//! Arbitrary connector names and certificate subjects, carried through the whole pipeline
//! (read → diagnose → plan → render), come out of every generated script as exactly one
//! literal whose value equals the input, and the script still parses; a value holding an
//! invisible character is refused at input with its file.
//!
//! Each case is checked with the tree-sitter grammar and the model of PowerShell's scanner
//! (tests/support/powershell.rs) as it runs; at the end all scripts of all cases go through
//! PowerShell's own parser and tokenizer in one pwsh (tests/support/ps_check.rs), which must find
//! each value as the Value of single-quoted string tokens and nowhere else. A fixed case with all
//! nine quote characters runs first, so the typographic quotes are always exercised.

mod support;

use std::cell::RefCell;
use std::path::PathBuf;

use hybridtls::render::script;
use hybridtls::steps::{SetReceiveCertificateName, SetSendCertificateName};
use hybridtls::{diagnose, input, plan};
use proptest::prelude::*;
use proptest::test_runner::{contextualize_config, TestRunner};
use support::powershell::{assert_parses_cleanly, assert_value_only_in_literals, single_quoted_literals};
use support::ps_check;
use time::macros::datetime;

/// The single quotes U+0027 and U+2018..U+201B and the double quotes U+0022 and U+201C..U+201E:
/// PowerShell treats each as a quote of its kind.
const NINE_QUOTES: [char; 9] = [
    '\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}', '"', '\u{201C}', '\u{201D}', '\u{201E}',
];

/// All nine quotes in a row, for the fixed cases.
fn nine_quotes() -> String {
    NINE_QUOTES.iter().collect()
}

/// A rendered script and the values it must hold, each with the number of single-quoted
/// literals whose value it is.
struct Rendered {
    what: String,
    text: String,
    values: Vec<(String, usize)>,
}

/// A runner for `cases` cases, configured as `proptest!` does: PROPTEST_* environment overrides,
/// failing seeds kept in this file's .proptest-regressions and replayed first.
fn runner(cases: u32) -> TestRunner {
    let mut config = contextualize_config(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    config.source_file = Some(file!());
    TestRunner::new(config)
}

/// Checks every script of `rendered` with PowerShell's own parser and tokenizer, in one pwsh,
/// and that the nine quote characters were among the values checked.
fn assert_literals_in_powershell(test: &str, rendered: &[Rendered]) {
    let Some(pwsh) = support::pwsh::require(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = rendered
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let path = dir.path().join(format!("case-{i}.ps1"));
            std::fs::write(&path, &r.text).unwrap();
            path
        })
        .collect();
    let report = ps_check::check(&pwsh, &paths, &["-Strings", "-ParseOnly"]);
    for (r, file) in rendered.iter().zip(&report.files) {
        ps_check::assert_values_in_single_quoted_literals(&r.what, file, &r.text, &r.values);
    }
    for quote in NINE_QUOTES {
        assert!(
            rendered
                .iter()
                .flat_map(|r| &r.values)
                .any(|(v, _)| v.contains(quote)),
            "no value checked in PowerShell held the quote {quote:?} (U+{:04X})",
            u32::from(quote)
        );
    }
}

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

/// The plans for `inventory`, with the hybrid name both scenarios use, at the tests' time.
fn plan_for_mail_contoso(inventory: &hybridtls::model::Inventory) -> Vec<plan::ServerPlan> {
    let now = datetime!(2026-11-24 0:00 UTC);
    plan::build(&diagnose::diagnose(
        inventory,
        &["mail.contoso.com".to_owned()],
        now,
    ))
}

/// One case of [`hostile_names_and_subjects_stay_inside_literals`]: the scripts rendered, or
/// none when a value is (rightly) refused at input.
fn receive_case(
    connector: &str,
    organisation: &str,
    old_issuer: &str,
) -> Result<Vec<Rendered>, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in scenario(connector, organisation, old_issuer) {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let invisible = [connector, organisation, old_issuer]
        .iter()
        .any(|value| INVISIBLE.iter().any(|piece| value.contains(piece)));
    let loaded = input::load(&[dir.path().to_path_buf()]);
    if invisible {
        let error = loaded.expect_err("a value with an invisible character must be refused");
        prop_assert!(error.file.ends_with(".json"), "{}", error);
        prop_assert!(error.to_string().contains("invisible character U+"), "{}", error);
        return Ok(Vec::new());
    }
    let inventory = loaded.unwrap();
    let plans = plan_for_mail_contoso(&inventory);
    prop_assert_eq!(plans.len(), 1);
    let server_plan = &plans[0];
    prop_assert_eq!(
        server_plan.steps_of::<SetReceiveCertificateName>().count(),
        1,
        "{:#?}",
        server_plan
    );
    let change = server_plan
        .steps_of::<SetReceiveCertificateName>()
        .next()
        .unwrap();
    let values = [
        change.identity.clone(),
        change.after.to_string(),
        change.before.as_ref().unwrap().to_string(),
    ];
    let mut rendered = Vec::new();
    for (name, render) in [
        ("remediate.ps1", script::remediation as fn(_, _, _, _) -> _),
        ("rollback.ps1", script::rollback),
    ] {
        let text = render(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00").unwrap();
        let script = text.trim_start_matches('\u{FEFF}');
        assert_parses_cleanly(script);
        let literals = single_quoted_literals(script);
        for value in &values {
            assert_value_only_in_literals(script, value);
            let count = literals.iter().filter(|l| &l.value == value).count();
            prop_assert_eq!(count, 1, "{:?} appears as {} literals", value, count);
        }
        rendered.push(Rendered {
            what: format!(
                "{name} for connector {connector:?}, O={organisation:?}, old issuer {old_issuer:?}"
            ),
            text,
            values: values.iter().map(|v| (v.clone(), 1)).collect(),
        });
    }
    Ok(rendered)
}

#[test]
fn hostile_names_and_subjects_stay_inside_literals() {
    let quotes = nine_quotes();
    let mut rendered = receive_case(
        &format!("Hybrid {quotes} receive"),
        &format!("Contoso {quotes}"),
        &format!("CN=Old {quotes} CA"),
    )
    .unwrap_or_else(|e| panic!("the case with the nine quotes: {e}"));
    let collected = RefCell::new(Vec::new());
    let mut runner = runner(64);
    let result = runner.run(
        &(hostile_text(), hostile_text(), hostile_text()),
        |(connector, organisation, old_issuer)| {
            collected
                .borrow_mut()
                .extend(receive_case(&connector, &organisation, &old_issuer)?);
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}\n{runner}");
    }
    rendered.extend(collected.into_inner());
    assert_literals_in_powershell("hostile_names_and_subjects_stay_inside_literals", &rendered);
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

/// One case of [`hostile_send_connector_names_stay_inside_literals`]: the scripts rendered.
fn send_case(
    connector: &str,
    organisation: &str,
    send: &str,
    send_old: &str,
) -> Result<Vec<Rendered>, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in scenario_with_send(connector, organisation, "CN=Old CA", send, send_old) {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let inventory = input::load(&[dir.path().to_path_buf()]).unwrap();
    let plans = plan_for_mail_contoso(&inventory);
    prop_assert_eq!(plans.len(), 1);
    let server_plan = &plans[0];
    prop_assert_eq!(
        server_plan.steps_of::<SetSendCertificateName>().count(),
        1,
        "{:#?}",
        server_plan
    );
    let receive = server_plan
        .steps_of::<SetReceiveCertificateName>()
        .next()
        .unwrap();
    let change = server_plan.steps_of::<SetSendCertificateName>().next().unwrap();
    let values = [
        receive.identity.clone(),
        receive.before.as_ref().unwrap().to_string(),
        receive.after.to_string(),
        change.identity.clone(),
        change.before.as_ref().unwrap().to_string(),
        change.after.to_string(),
    ];
    // Each value with the number of literals it must be: equal values share their literals. The
    // checks here look at the send connector's; PowerShell's tokenizer, at the end, at all six,
    // since the first test rarely gets past the invisible characters to a script.
    let expected: Vec<(String, usize)> = values
        .iter()
        .map(|value| (value.clone(), values.iter().filter(|v| *v == value).count()))
        .collect();
    let mut rendered = Vec::new();
    for (name, render) in [
        ("remediate.ps1", script::remediation as fn(_, _, _, _) -> _),
        ("rollback.ps1", script::rollback),
    ] {
        let text = render(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00").unwrap();
        let script = text.trim_start_matches('\u{FEFF}');
        assert_parses_cleanly(script);
        let literals = single_quoted_literals(script);
        for (value, count_expected) in &expected[3..] {
            assert_value_only_in_literals(script, value);
            let count = literals.iter().filter(|l| &l.value == value).count();
            prop_assert_eq!(
                count,
                *count_expected,
                "{:?} appears as {} literals",
                value,
                count
            );
        }
        rendered.push(Rendered {
            what: format!("{name} for send connector {send:?}, old {send_old:?}, O={organisation:?}"),
            text,
            values: expected.clone(),
        });
    }
    Ok(rendered)
}

#[test]
fn hostile_send_connector_names_stay_inside_literals() {
    let quotes = nine_quotes();
    let mut rendered = send_case(
        "Hybrid receive",
        "Contoso",
        &quotes,
        &format!("CN=Old {quotes} CA"),
    )
    .unwrap_or_else(|e| panic!("the case with the nine quotes: {e}"));
    let collected = RefCell::new(Vec::new());
    let mut runner = runner(32);
    let result = runner.run(
        &(
            visible_hostile_text(),
            visible_hostile_text(),
            visible_hostile_text(),
            visible_hostile_text(),
        ),
        |(connector, organisation, send, send_old)| {
            collected
                .borrow_mut()
                .extend(send_case(&connector, &organisation, &send, &send_old)?);
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}\n{runner}");
    }
    rendered.extend(collected.into_inner());
    assert_literals_in_powershell("hostile_send_connector_names_stay_inside_literals", &rendered);
}
