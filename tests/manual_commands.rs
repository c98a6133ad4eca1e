//! A manual remedy's command carries input values (a send connector's name, a certificate
//! name); it is rendered by the one escaping function in every output, so a hostile or merely
//! Irish name cannot break it.

mod support;

use hybridtls::render::{json, report, text};
use hybridtls::{diagnose, input, plan};
use support::powershell::{assert_parses_cleanly, single_quoted_literals};
use time::macros::datetime;

const HOSTILE_NAME: &str = "O'Brien\u{2019}s tenant \u{201C}$(Remove-Item C:\\)\u{201D} `n";

/// The commands of `cmdlet` in `output`: each starts at the cmdlet and runs to the end of the
/// line or, inside a markdown code span, to the span's closing fence.
fn commands_of(cmdlet: &str, output: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in output.lines() {
        let Some(at) = line.find(cmdlet) else {
            continue;
        };
        let before = line[..at].strip_suffix(' ').unwrap_or("");
        let fence_length = before.len() - before.trim_end_matches('`').len();
        let command = &line[at..];
        if fence_length == 0 {
            found.push(command.to_owned());
        } else {
            let closing = format!(" {}", "`".repeat(fence_length));
            let end = command.rfind(&closing).expect("an unclosed code span");
            found.push(command[..end].to_owned());
        }
    }
    found
}

fn assert_command_carries_the_name(output_name: &str, command: &str) {
    assert_parses_cleanly(command);
    let values: Vec<String> = single_quoted_literals(command)
        .into_iter()
        .map(|l| l.value)
        .collect();
    assert!(
        values.iter().any(|v| v == HOSTILE_NAME),
        "{output_name}: no literal holds the connector name exactly: {command}\nliterals: {values:?}"
    );
}

/// The `cmdlet` commands each output shows: stdout, report.md and plan.json's command parameters.
fn commands_in_every_output(
    cmdlet: &str,
    inventory: &hybridtls::model::Inventory,
    diagnosis: &diagnose::Diagnosis,
    plans: &[plan::ServerPlan],
) -> [(&'static str, Vec<String>); 3] {
    let plan_document = json::document(inventory, diagnosis, plans, &[None]);
    let stdout = text::plan(&plan_document, &[], text::Style { color: false });
    let markdown = report::report(&plan_document);
    let document = json::to_string(&plan_document).unwrap();
    let value: serde_json::Value = serde_json::from_str(&document).unwrap();
    let in_json: Vec<String> = value["actions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|step| step["parameters"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["name"] == "command")
        .map(|p| p["value"].as_str().unwrap().to_owned())
        .collect();
    [
        ("stdout", commands_of(cmdlet, &stdout)),
        ("report.md", commands_of(cmdlet, &markdown)),
        ("plan.json", in_json),
    ]
}

/// The send connector to Exchange Online of an example, to vary it.
fn send_connector_to_exchange_online(
    inventory: &mut hybridtls::model::Inventory,
) -> &mut hybridtls::model::SendConnector {
    inventory
        .send_connectors
        .iter_mut()
        .find(|c| c.targets_exchange_online())
        .expect("the example has a send connector to Exchange Online")
}

#[test]
fn the_send_connector_command_quotes_the_connector_name_in_every_output() {
    let mut inventory = input::load(&["examples/seed000-null-tlscertname".into()]).unwrap();
    let send = send_connector_to_exchange_online(&mut inventory);
    send.name = HOSTILE_NAME.to_owned();
    // Null with no Fqdn: nothing for Exchange to find the certificate by (a null name with Fqdn
    // set is valid).
    send.tls_certificate_name = None;
    send.fqdn = None;
    // A source server that was not exported keeps the fix manual (every source server exported
    // with the certificate makes it a script step instead).
    send.source_servers.push("SERVER9".to_owned());
    // The send connector's Fqdn named the hybrid FQDN; without it, it is given.
    let diagnosis = diagnose::diagnose(
        &inventory,
        &["hybrid.domain.com".to_owned()],
        datetime!(2026-11-24 0:00 UTC),
    );
    let plans = plan::build(&diagnosis);
    assert!(
        diagnosis.servers[0]
            .findings
            .iter()
            .any(|f| f.rule.code == "HT015"),
        "the send connector finding must fire"
    );

    for (output, found) in commands_in_every_output("Set-SendConnector", &inventory, &diagnosis, &plans) {
        assert!(!found.is_empty(), "{output} shows the command");
        for command in &found {
            assert_command_carries_the_name(output, command);
        }
    }
}

#[test]
fn on_an_edge_server_the_send_connector_is_changed_in_the_organisation() {
    let mut inventory = input::load(&["examples/seed002-keyless-duplicate-edge".into()]).unwrap();
    let send = send_connector_to_exchange_online(&mut inventory);
    send.tls_certificate_name =
        hybridtls::model::TlsCertificateName::parse("<I>CN=Old CA<S>CN=mail.contoso.com");
    let diagnosis = diagnose::diagnose(&inventory, &[], datetime!(2026-11-24 0:00 UTC));
    let finding = diagnosis.servers[0]
        .findings
        .iter()
        .find(|f| f.rule.code == "HT015")
        .expect("the send connector finding must fire");
    // The same Set-SendConnector step as a script takes elsewhere, left to a person here.
    match finding.remedy.fix() {
        diagnose::Fix::ByHand {
            instruction,
            command: Some(command),
        } => {
            assert!(
                instruction.contains("of a Mailbox server, not on the Edge"),
                "{instruction}"
            );
            assert_eq!(command.cmdlet, "Set-SendConnector");
        }
        _ => panic!("expected the step by hand: {:?}", finding.remedy),
    }
}

#[test]
fn the_exchange_online_commands_quote_the_connector_names_in_every_output() {
    for (fixture, cmdlet) in [
        ("tests/fixtures/rules/HT030", "Set-InboundConnector"),
        ("tests/fixtures/rules/HT031", "Set-OutboundConnector"),
    ] {
        let mut inventory = input::load(&[fixture.into()]).unwrap();
        for connector in &mut inventory.inbound_connectors {
            connector.name = HOSTILE_NAME.to_owned();
        }
        for connector in &mut inventory.outbound_connectors {
            connector.name = HOSTILE_NAME.to_owned();
        }
        let diagnosis = diagnose::diagnose(&inventory, &[], datetime!(2026-11-24 0:00 UTC));
        let plans = plan::build(&diagnosis);
        for (output, found) in commands_in_every_output(cmdlet, &inventory, &diagnosis, &plans) {
            assert!(!found.is_empty(), "{fixture}: {output} shows no {cmdlet}");
            for command in &found {
                assert_command_carries_the_name(output, command);
            }
        }
    }
}
