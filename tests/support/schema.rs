#![allow(dead_code)]
//! Every plan.json the tests produce is checked against the shipped schema.

use std::sync::OnceLock;

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| load("schema/plan.schema.json"))
}

fn load(path: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(path).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// Parses `text` as JSON and panics with every schema violation when it is not a valid plan.
pub fn assert_valid_plan(text: &str) -> serde_json::Value {
    let plan: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("plan.json is not JSON: {e}"));
    let errors: Vec<String> = validator()
        .iter_errors(&plan)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "plan.json does not match schema/plan.schema.json: {errors:#?}"
    );
    plan
}

/// Parses `text` as JSON and panics with every schema violation when it is not a valid probe
/// (`hybridtls probe --format json`, `schema/probe.schema.json`).
pub fn assert_valid_probe(text: &str) -> serde_json::Value {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| load("schema/probe.schema.json"));
    let probe: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("the probe is not JSON: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&probe)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the probe does not match schema/probe.schema.json: {errors:#?}"
    );
    probe
}
