//! Every stage of a plan over one folder of inputs, for the tests and the fuzz target that
//! damage inputs: a panic anywhere fails them; an error is returned as its text, which must
//! name the damaged file.

use std::path::Path;

use hybridtls::render::{html, json, report, script, text};
use hybridtls::{diagnose, input, plan};
use time::macros::datetime;

/// Reads `folder`, diagnoses, plans, and renders every output: the scripts and rollbacks,
/// plan.json, report.md, report.html and the terminal plan.
pub fn run_everything(folder: &Path) -> Result<(), String> {
    let inventory = input::load(&[folder.to_path_buf()]).map_err(|e| e.to_string())?;
    let diagnosis = diagnose::diagnose(&inventory, &[], datetime!(2026-11-24 0:00 UTC));
    let plans = plan::build(&diagnosis);
    let fingerprints: Vec<Option<String>> = plans
        .iter()
        .map(|p| p.has_automatic_steps().then(|| "00".to_owned()))
        .collect();
    for server_plan in plans.iter().filter(|p| p.has_automatic_steps()) {
        script::remediation(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00")
            .map_err(|e| e.to_string())?;
        script::rollback(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00")
            .map_err(|e| e.to_string())?;
    }
    let document = json::document(&inventory, &diagnosis, &plans, &fingerprints);
    json::to_string(&document).map_err(|e| e.to_string())?;
    report::report(&document);
    html::report(&document);
    text::plan(&document, &[], text::Style { color: false });
    Ok(())
}
