//! Stage 5: rendering. Human output with the diff, and PowerShell scripts from `templates/`.
pub mod ps;
pub mod script;
pub mod text;
pub mod wrap;

/// The collector script printed by `hybridtls collect`: it has no inputs, so it is served as is.
pub fn collector() -> &'static str {
    include_str!("../../templates/collect.ps1")
}
pub mod html;
pub mod json;
pub mod report;
