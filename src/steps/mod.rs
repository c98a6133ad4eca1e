//! The kinds of step a remediation script takes. Each kind is one unit, one file in this folder
//! beside its PowerShell in `templates/steps/<kind>/`: its order, the restart it needs, its
//! summary bucket, the cmdlets its preflight requires, how it is undone, what it adds to the plan
//! fingerprint, its JSON action and its wording in the text plan and the report. The plan, the
//! scripts and every renderer only iterate over steps; none names a kind.
//!
//! A rule's fix is kept as data (as ruff keeps a fix with its applicability): a
//! [`crate::diagnose::Remedy::Step`] carries a step a script takes, and the plan places it; a
//! [`crate::diagnose::Remedy::StepByHand`] carries the same step left to a person, with the
//! reason, and is shown as its one command.
//!
//! To add a kind: a file here with a [`StepKind`] and an implementation of [`Step`], its entry in
//! [`KINDS`], and its two template partials (see CONTRIBUTING.md).

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use crate::model::{Certificate, TransportRole};

pub mod import_intermediate;
pub mod remove_certificate;
pub mod set_receive_certificate_name;
pub mod set_send_certificate_name;

pub use import_intermediate::ImportIntermediate;
pub use remove_certificate::RemoveCertificate;
pub use set_receive_certificate_name::SetReceiveCertificateName;
pub use set_send_certificate_name::SetSendCertificateName;

/// Every kind of scripted step, in the order a remediation script carries them out: an
/// intermediate is imported before anything relies on it, a key-less copy is gone before a
/// connector names the certificate it shadows.
pub const KINDS: &[&StepKind] = &[
    &import_intermediate::KIND,
    &remove_certificate::KIND,
    &set_receive_certificate_name::KIND,
    &set_send_certificate_name::KIND,
];

/// The summary bucket a step counts in (`Plan: 1 to change, 0 to remove, ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Change,
    Remove,
    Import,
}

impl Bucket {
    /// Every bucket, in the order the summary line shows them.
    pub const ALL: [Bucket; 3] = [Bucket::Change, Bucket::Remove, Bucket::Import];

    /// The words of the summary line: `{count} to change`.
    pub fn label(self) -> &'static str {
        match self {
            Bucket::Change => "to change",
            Bucket::Remove => "to remove",
            Bucket::Import => "to import",
        }
    }
}

/// What a kind of step is, whatever its values.
#[derive(Debug, PartialEq, Eq)]
pub struct StepKind {
    /// The JSON action kind (`plan.json`), and the folder of its template partials
    /// `templates/steps/<name>/remediate.ps1.hbs` and `rollback.ps1.hbs`.
    pub name: &'static str,
    pub bucket: Bucket,
    /// How the text plan marks it: `+` adds, `-` removes, `~` changes in place.
    pub sign: char,
    /// Where its undoing falls in the rollback script (lowest first): a removed certificate
    /// is back before a connector is pointed at the name it answered to.
    pub undo_order: u8,
    /// Cmdlets beyond the core ones that the remediation calls for it, checked by the preflight.
    pub remediate_cmdlets: &'static [&'static str],
    /// Cmdlets the rollback calls for it, checked by the rollback's preflight.
    pub rollback_cmdlets: &'static [&'static str],
    /// Whether it sets a connector's TlsCertificateName: such steps share the check that
    /// exactly the planned certificate answers under the new name, and a re-run restarts the
    /// services when the connector changed after they started (its `WhenChanged`).
    pub sets_certificate_name: bool,
    /// Whether a planned certificate's chain may complete only after it: Exchange's Status of
    /// the certificates is then judged in the verification, not the preflight.
    pub completes_chains: bool,
    pub remediate_template: &'static str,
    pub rollback_template: &'static str,
}

/// Which script a step is rendered into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Remediation,
    Rollback,
}

/// The server a step runs on, as far as its restarts depend on it.
pub struct ServerContext<'a> {
    pub edge: bool,
    /// The transport roles of the server's hybrid receive connectors.
    pub hybrid_roles: &'a [Option<TransportRole>],
}

/// A PowerShell command a person runs for a manual remedy. Its parameter values come from the
/// inputs, so it is never formatted by hand: [`crate::render::ps::command`] quotes each value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualCommand {
    pub cmdlet: &'static str,
    pub parameters: Vec<(&'static str, String)>,
}

/// The JSON action of a step (`plan.json` `actions[]`), without its order and server.
pub struct Action {
    pub target: String,
    pub parameters: Vec<(&'static str, String)>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// How the text plan shows a step under "Changes, in execution order".
pub struct ChangeView {
    pub head: String,
    /// A unified diff of the object's state, when it has one.
    pub diff: Option<String>,
}

/// One step of a script, with its values. Implemented once per kind, in this folder.
pub trait Step: Debug + Send + Sync + Any {
    fn kind(&self) -> &'static StepKind;
    /// What the step acts on (a connector identity, a certificate thumbprint): two findings that
    /// lead to the same kind of step on the same key are one step resolving both.
    fn key(&self) -> &str;
    /// The certificate the step is about.
    fn certificate(&self) -> &Certificate;
    /// The services to restart once after it, on the server of its plan.
    fn restarts(&self, server: &ServerContext) -> Vec<&'static str>;
    /// The certificate the server presents after it, which the preflight requires and no
    /// removal may touch, when the diagnosis did not already name it.
    fn presents(&self) -> Option<&Certificate> {
        None
    }
    /// The server whose script carries the step out, when it changes an object of the
    /// organisation that several servers use (None: the server of the finding).
    fn carrier(&self) -> Option<&str> {
        None
    }
    /// The other servers that use the changed object and must restart their transport service
    /// after the carrier's script has run.
    fn also_used_by(&self) -> &[String] {
        &[]
    }
    /// What another server that uses the object changed by the carrier must do after the
    /// carrier's script has run, in words and as a command.
    fn follow_up(&self, carrier: &str, server: &str) -> (String, ManualCommand) {
        (
            format!("after the script of {carrier} has run, restart MSExchangeTransport on {server}"),
            ManualCommand {
                cmdlet: "Restart-Service",
                parameters: vec![("Name", "MSExchangeTransport".to_owned())],
            },
        )
    }
    /// Its line in the plan fingerprint: everything the script does for it.
    fn fingerprint(&self) -> String;
    fn action(&self, now: OffsetDateTime) -> Action;
    /// The fix of the finding, in words: `set TlsCertificateName to ...`.
    fn fix(&self) -> String;
    fn change(&self, now: OffsetDateTime) -> ChangeView;
    /// Its line under "Steps in order" in the report, plain text (the report escapes it).
    fn report_step(&self, now: OffsetDateTime) -> String;
    /// Its numbered line in the help comment of a script.
    fn help(&self, direction: Direction) -> String;
    /// The step as one command a person runs, when it is left to a person
    /// ([`crate::diagnose::Remedy::StepByHand`]).
    fn command(&self) -> ManualCommand;
    /// Its row in the script's `$Planned...` table; the template partial of its kind reads it.
    fn row(&self, direction: Direction) -> serde_json::Value;
    fn as_any(&self) -> &dyn Any;
}

/// A step shared by the findings and plans that hold it.
pub type SharedStep = Arc<dyn Step>;

/// Two steps are the same when they are of one kind and do the same thing.
pub fn same(a: &dyn Step, b: &dyn Step) -> bool {
    a.kind() == b.kind() && a.fingerprint() == b.fingerprint()
}

/// Serializes a template row; a row is a plain struct of strings, so this cannot fail.
fn row(value: impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// The certificate's identity and validity at the evaluation time (`valid`, `expired`,
/// `not yet valid`), so an expired certificate is marked as such in `plan.json` too.
fn certificate_parameters(certificate: &Certificate, now: OffsetDateTime) -> Vec<(&'static str, String)> {
    vec![
        ("thumbprint", certificate.thumbprint.clone()),
        ("subject", certificate.subject.clone()),
        ("issuer", certificate.issuer.clone()),
        ("not_after", crate::model::date(certificate.not_after)),
        ("validity", certificate.validity(now).to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_unique_names_and_undo_orders() {
        for (i, a) in KINDS.iter().enumerate() {
            for b in &KINDS[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.undo_order, b.undo_order);
            }
        }
    }
}
