//! A plan over a generated organisation (tests/support/org.rs, the same generator the org-scale
//! benchmark uses) finds exactly the faults the generator planted, on exactly those servers.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::cli::hybridtls;
use support::org;

/// The servers each value of `key` occurs on in the plan's `list` (findings or actions).
fn servers_by(plan: &Value, list: &str, key: &str) -> BTreeMap<String, Vec<String>> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in plan[list].as_array().unwrap() {
        by.entry(item[key].as_str().unwrap().to_owned())
            .or_default()
            .push(item["server"].as_str().unwrap().to_owned());
    }
    by
}

#[test]
fn plan_counts_match_what_the_generator_planted() {
    let dir = tempfile::tempdir().unwrap();
    let truth = org::generate(dir.path(), 10);
    assert!(!truth.null_certificate_name.is_empty());
    assert!(!truth.keyless_duplicate.is_empty());
    assert!(!truth.harmless_keyless_copy.is_empty());
    assert!(!truth.missing_intermediate.is_empty());

    let (code, stdout, stderr) = hybridtls(&[
        "plan",
        "--now",
        org::NOW,
        "--format",
        "json",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();

    let servers: Vec<&str> = plan["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(servers, truth.servers);
    assert_eq!(plan["inputs"].as_array().unwrap().len(), truth.files.len());
    assert_eq!(plan["hybrid_fqdn"]["names"][0], org::HYBRID_FQDN);

    let expected_findings = BTreeMap::from([
        ("HT001".to_owned(), truth.null_certificate_name.clone()),
        ("HT009".to_owned(), truth.keyless_duplicate.clone()),
        ("HT010".to_owned(), truth.missing_intermediate.clone()),
    ]);
    assert_eq!(servers_by(&plan, "findings", "rule"), expected_findings);

    let mut restarted = truth.null_certificate_name.clone();
    restarted.extend(truth.keyless_duplicate.iter().cloned());
    restarted.extend(truth.missing_intermediate.iter().cloned());
    restarted.sort();
    restarted.dedup();
    let expected_actions = BTreeMap::from([
        (
            "set_receive_connector".to_owned(),
            truth.null_certificate_name.clone(),
        ),
        ("remove_certificate".to_owned(), truth.keyless_duplicate.clone()),
        (
            "import_certificate".to_owned(),
            truth.missing_intermediate.clone(),
        ),
        ("restart_service".to_owned(), restarted),
    ]);
    let mut actions = servers_by(&plan, "actions", "kind");
    // A Mailbox server restarts both transport services; count each server once.
    for servers in actions.values_mut() {
        servers.dedup();
    }
    assert_eq!(actions, expected_actions);
    assert_eq!(
        plan["summary"],
        serde_json::json!({
            "change": truth.null_certificate_name.len(),
            "remove": truth.keyless_duplicate.len(),
            "import": truth.missing_intermediate.len(),
            "manual": 0,
            // Collector folders hold every export each check reads.
            "not_checked": 0,
        })
    );
}
