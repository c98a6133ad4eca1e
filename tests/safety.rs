//! The destructive step is guarded: removal only of key-less copies seen in a store listing,
//! only by the full thumbprint, never of a certificate with a key or of one a connector uses.

use hybridtls::diagnose::Remedy;
use hybridtls::model::Store;
use hybridtls::render::script;
use hybridtls::steps::{RemoveCertificate, SetReceiveCertificateName, SetSendCertificateName};
use hybridtls::{diagnose, input, plan};
use time::macros::datetime;

const SEED002: &str = "examples/seed002-keyless-duplicate-edge";
const KEYLESS: &str = "E5ECC21C18F61AF84A284743867858C1B722E156";
const SAME_PREFIX: &str = "E5E6749B0088610E1CD8E90E904A72A6B826D970";

fn seed002() -> hybridtls::model::Inventory {
    input::load(&[SEED002.into()]).unwrap()
}

#[test]
fn the_keyless_copy_is_removed_by_its_full_thumbprint_and_nothing_else_is_touched() {
    let inventory = seed002();
    let plans = plan::build(&diagnose::diagnose(
        &inventory,
        &[],
        datetime!(2026-11-24 0:00 UTC),
    ));
    let removals: Vec<&str> = plans[0]
        .steps_of::<RemoveCertificate>()
        .map(|r| r.certificate.thumbprint.as_str())
        .collect();
    assert_eq!(removals, [KEYLESS]);
    let text = script::remediation(&plans[0], &inventory.inputs, "2026-11-24T00:00:00Z", "00").unwrap();
    assert!(
        !text.contains(SAME_PREFIX),
        "the unrelated certificate with the same prefix appears in the script"
    );
    assert!(
        !text.to_lowercase().contains("-like"),
        "no wildcard matching in the script"
    );
    assert!(!text.contains("Remove-ExchangeCertificate"));
    for line in text.lines().filter(|l| l.contains("Remove-Item")) {
        assert!(
            line.contains("-LiteralPath $removalPath"),
            "Remove-Item without -LiteralPath: {line}"
        );
    }
    assert!(text.contains(&format!("'{KEYLESS}'")));
}

#[test]
fn a_duplicate_that_has_a_private_key_is_never_planned_for_removal() {
    let mut inventory = seed002();
    for certificate in &mut inventory.certificates {
        if certificate.thumbprint == KEYLESS {
            certificate.has_private_key = Some(true);
        }
    }
    let diagnosis = diagnose::diagnose(&inventory, &[], datetime!(2026-11-24 0:00 UTC));
    let plans = plan::build(&diagnosis);
    assert!(
        plans[0].steps_of::<RemoveCertificate>().next().is_none(),
        "{:#?}",
        plans[0].steps
    );
    let codes: Vec<&str> = diagnosis.servers[0]
        .findings
        .iter()
        .map(|f| f.rule.code)
        .collect();
    assert_eq!(codes, ["HT004"], "two keyed copies are a manual decision");
    assert!(matches!(
        diagnosis.servers[0].findings[0].remedy,
        Remedy::Manual { .. }
    ));
}

#[test]
fn has_private_key_false_from_get_exchangecertificate_alone_is_not_trusted_for_deletion() {
    let mut inventory = seed002();
    for certificate in &mut inventory.certificates {
        if certificate.thumbprint == KEYLESS {
            certificate.from_store_listing = false;
        }
    }
    let diagnosis = diagnose::diagnose(&inventory, &[], datetime!(2026-11-24 0:00 UTC));
    let plans = plan::build(&diagnosis);
    assert!(plans[0].steps_of::<RemoveCertificate>().next().is_none());
    let finding = &diagnosis.servers[0].findings[0];
    assert_eq!(finding.rule.code, "HT009");
    match &finding.remedy {
        Remedy::Manual { instruction, .. } => assert!(instruction.contains("remoting"), "{instruction}"),
        other => panic!("expected a manual action, got {other:?}"),
    }
}

#[test]
fn the_certificate_a_connector_uses_is_never_removed() {
    let inventory = seed002();
    let plans = plan::build(&diagnose::diagnose(
        &inventory,
        &[],
        datetime!(2026-11-24 0:00 UTC),
    ));
    let keep: Vec<&str> = plans[0].keep.iter().map(|c| c.thumbprint.as_str()).collect();
    assert_eq!(keep, ["417B804AD463978F94B37BC6180ED613C372D7E9"]);
    for removal in plans[0].steps_of::<RemoveCertificate>() {
        assert!(!keep.contains(&removal.certificate.thumbprint.as_str()));
        assert_eq!(removal.certificate.store, Store::My);
    }
}

/// seed000 with its send connector to Exchange Online naming a certificate that is gone.
fn seed000_with_stale_send_connector() -> hybridtls::model::Inventory {
    let mut inventory = input::load(&["examples/seed000-null-tlscertname".into()]).unwrap();
    let name = hybridtls::model::TlsCertificateName::parse(
        "<I>CN=Old CA<S>CN=hybrid.domain.com, O=Domain Ltd, C=US",
    )
    .unwrap();
    inventory.send_connectors[0].tls_certificate_name = Some(name);
    inventory
}

const SEED000_NAME: &str =
    "<I>CN=Example Issuing CA R2, O=Example Trust Services, C=US<S>CN=hybrid.domain.com";

#[test]
fn a_send_connector_naming_a_missing_certificate_is_scripted_once_behind_its_guards() {
    let inventory = seed000_with_stale_send_connector();
    let diagnosis = diagnose::diagnose(&inventory, &[], datetime!(2026-11-24 0:00 UTC));
    let finding = diagnosis.servers[0]
        .findings
        .iter()
        .find(|f| f.rule.code == "HT015")
        .expect("HT015");
    assert!(
        matches!(&finding.remedy, Remedy::Step(step) if step.carrier() == Some("SERVER1")),
        "{:?}",
        finding.remedy
    );
    let plans = plan::build(&diagnosis);
    assert_eq!(
        plans[0].steps_of::<SetReceiveCertificateName>().count(),
        1,
        "the receive connector"
    );
    assert_eq!(
        plans[0].steps_of::<SetSendCertificateName>().count(),
        1,
        "the send connector, once"
    );
    let change = plans[0].steps_of::<SetSendCertificateName>().next().unwrap();
    assert!(
        change.after.to_string().starts_with(SEED000_NAME),
        "{}",
        change.after
    );
    // The certificate it names is required by the preflight and never removed.
    assert!(plans[0]
        .keep
        .iter()
        .any(|c| c.thumbprint == change.certificate.thumbprint));
    assert!(
        plans[0].restarts.contains(&"MSExchangeTransport"),
        "{:?}",
        plans[0].restarts
    );

    let text = script::remediation(&plans[0], &inventory.inputs, "2026-11-24T00:00:00Z", "00").unwrap();
    let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle} missing"));
    // Guarded before anything changes, backed up before it is set, set behind ShouldProcess.
    let guard = at("the plan expected '$($sendChange.Before)'");
    let backup = at("send-connector-{0}.xml");
    let set = at("-Name 'Set-SendConnector' -Parameters @{ Identity = $sendChange.Identity; TlsCertificateName = $sendChange.After; Confirm = $false }");
    assert!(
        guard < backup && backup < set,
        "guard, backup, change in that order"
    );
    assert!(text[..set].contains("$PSCmdlet.ShouldProcess($sendChange.Identity, $action)"));
    assert!(text.contains("has no private key on this server"));
    assert!(
        text.contains(&format!("'{}'", change.after)),
        "the new value is a literal"
    );
    assert_eq!(text.matches("-Name 'Set-SendConnector'").count(), 1);

    let rollback = script::rollback(&plans[0], &inventory.inputs, "2026-11-24T00:00:00Z", "00").unwrap();
    assert!(rollback
        .contains("-Name 'Set-SendConnector' -Parameters @{ Identity = $sendChange.Identity; TlsCertificateName = $oldSendValue; Confirm = $false }"));
    assert!(
        rollback.contains("BeforeIsNull = $false"),
        "the old value was set"
    );
    assert!(rollback.contains("'<I>CN=Old CA<S>CN=hybrid.domain.com, O=Domain Ltd, C=US'"));
}

#[test]
fn a_send_connector_with_a_source_server_not_exported_stays_a_manual_action() {
    let mut inventory = seed000_with_stale_send_connector();
    inventory.send_connectors[0]
        .source_servers
        .push("SERVER9".to_owned());
    let diagnosis = diagnose::diagnose(&inventory, &[], datetime!(2026-11-24 0:00 UTC));
    let finding = diagnosis.servers[0]
        .findings
        .iter()
        .find(|f| f.rule.code == "HT015")
        .expect("HT015");
    // The scripted step's Set-SendConnector, left to a person.
    match finding.remedy.fix() {
        hybridtls::diagnose::Fix::ByHand {
            instruction,
            command: Some(command),
        } => {
            assert!(
                instruction
                    .contains("not scripted because its source transport server SERVER9 was not exported"),
                "{instruction}"
            );
            let rendered = hybridtls::render::ps::command(&command);
            assert!(
                rendered.starts_with("Set-SendConnector -Identity 'Outbound to Office 365"),
                "{rendered}"
            );
            assert!(rendered.contains(&format!("-TlsCertificateName '{SEED000_NAME}")));
        }
        _ => panic!("{:?}", finding.remedy),
    }
    let plans = plan::build(&diagnosis);
    assert_eq!(
        plans[0].steps_of::<SetReceiveCertificateName>().count(),
        1,
        "only the receive connector is scripted"
    );
    assert!(plans[0].steps_of::<SetSendCertificateName>().next().is_none());
    let text = script::remediation(&plans[0], &inventory.inputs, "2026-11-24T00:00:00Z", "00").unwrap();
    assert!(
        !text.contains("Set-SendConnector"),
        "a script holds only the steps its plan makes"
    );
    assert!(!text.contains("Get-SendConnector"));
}
