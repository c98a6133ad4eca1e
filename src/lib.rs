//! hybridtls: read Exchange exports, diagnose the hybrid TLS certificate setup, plan the fix,
//! and render a guarded PowerShell remediation script.
//!
//! The pipeline is visible in the modules: [`input`] → [`model`] → [`diagnose`] → [`plan`] →
//! [`render`]. [`probe`] looks at a live server the same way. [`cli`] only wires them to the
//! command line.

pub mod bom;
pub mod cli;
pub mod config;
pub mod diagnose;
pub mod error;
pub mod explain;
pub mod input;
pub mod ip_range;
pub mod model;
pub mod plan;
pub mod probe;
pub mod render;
pub mod steps;
pub mod x509;
