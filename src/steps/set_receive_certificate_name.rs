//! Point a receive connector's TlsCertificateName at the certificate hybrid mail flow should
//! present (`Set-ReceiveConnector -TlsCertificateName`).

use std::any::Any;

use serde::Serialize;
use similar::TextDiff;
use time::OffsetDateTime;

use super::{row, Action, Bucket, ChangeView, Direction, ManualCommand, ServerContext, Step, StepKind};
use crate::model::{Certificate, TlsCertificateName, TransportRole};

pub static KIND: StepKind = StepKind {
    name: "set_receive_connector",
    bucket: Bucket::Change,
    sign: '~',
    undo_order: 2,
    remediate_cmdlets: &["Get-ReceiveConnector", "Set-ReceiveConnector"],
    rollback_cmdlets: &["Get-ReceiveConnector", "Set-ReceiveConnector"],
    sets_certificate_name: true,
    completes_chains: false,
    remediate_template: include_str!("../../templates/steps/set_receive_connector/remediate.ps1.hbs"),
    rollback_template: include_str!("../../templates/steps/set_receive_connector/rollback.ps1.hbs"),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetReceiveCertificateName {
    pub identity: String,
    pub role: Option<TransportRole>,
    pub before: Option<TlsCertificateName>,
    pub after: TlsCertificateName,
    pub certificate: Certificate,
    /// What the connector presents today, in words, for the diff.
    pub presented_before: String,
}

/// The service that owns a connector's configuration: FrontendTransport connectors live in
/// MSExchangeFrontEndTransport; Hub connectors, and everything on an Edge server, in
/// MSExchangeTransport.
pub fn service_for(role: Option<TransportRole>, edge: bool) -> &'static str {
    match role {
        Some(TransportRole::FrontendTransport) | None if !edge => "MSExchangeFrontEndTransport",
        _ => "MSExchangeTransport",
    }
}

/// The connector's TlsCertificateName and the certificate it presents, as the diffs show them.
pub fn connector_state(name: Option<String>, presents: &str) -> String {
    format!(
        "TlsCertificateName: {}\nPresented certificate: {presents}\n",
        name.unwrap_or_else(|| "(null)".to_owned())
    )
}

pub fn unified_diff(current: &str, desired: &str) -> String {
    TextDiff::from_lines(current, desired)
        .unified_diff()
        .header("current", "desired")
        .to_string()
}

/// A connector change's row in both scripts: the planned certificate's issuer and subject let
/// the preflight check that exactly one certificate in `Cert:\LocalMachine\My` answers to them.
#[derive(Serialize)]
pub struct NameChangeRow {
    pub identity: String,
    pub before: String,
    pub after: String,
    pub thumbprint: String,
    pub issuer: String,
    pub subject: String,
}

impl NameChangeRow {
    pub fn new(
        identity: &str,
        before: Option<&TlsCertificateName>,
        after: &TlsCertificateName,
        certificate: &Certificate,
    ) -> Self {
        NameChangeRow {
            identity: identity.to_owned(),
            before: before.map(ToString::to_string).unwrap_or_default(),
            after: after.to_string(),
            thumbprint: certificate.thumbprint.clone(),
            issuer: certificate.issuer.clone(),
            subject: certificate.subject.clone(),
        }
    }

    /// The change's line in the plan fingerprint, under `tag` (`change`, `send`).
    pub fn fingerprint(&self, tag: &str) -> String {
        format!(
            "{tag} {}\0{}\0{}\0{}",
            self.identity, self.before, self.after, self.thumbprint
        )
    }
}

impl Step for SetReceiveCertificateName {
    fn kind(&self) -> &'static StepKind {
        &KIND
    }

    fn key(&self) -> &str {
        &self.identity
    }

    fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    fn restarts(&self, server: &ServerContext) -> Vec<&'static str> {
        vec![service_for(self.role, server.edge)]
    }

    fn fingerprint(&self) -> String {
        NameChangeRow::new(
            &self.identity,
            self.before.as_ref(),
            &self.after,
            &self.certificate,
        )
        .fingerprint("change")
    }

    fn action(&self, _now: OffsetDateTime) -> Action {
        Action {
            target: self.identity.clone(),
            parameters: vec![
                ("property", "TlsCertificateName".to_owned()),
                ("certificate_thumbprint", self.certificate.thumbprint.clone()),
            ],
            before: self.before.as_ref().map(ToString::to_string),
            after: Some(self.after.to_string()),
        }
    }

    fn fix(&self) -> String {
        format!("set TlsCertificateName to {}", self.after)
    }

    fn change(&self, now: OffsetDateTime) -> ChangeView {
        let before = connector_state(
            self.before.as_ref().map(ToString::to_string),
            &self.presented_before,
        );
        let after = connector_state(Some(self.after.to_string()), &self.certificate.line(now));
        ChangeView {
            head: format!("receive connector {}", self.identity),
            diff: Some(unified_diff(&before, &after)),
        }
    }

    fn report_step(&self, _now: OffsetDateTime) -> String {
        format!(
            "Back up and set TlsCertificateName of {} to {}.",
            self.identity, self.after
        )
    }

    fn help(&self, direction: Direction) -> String {
        match direction {
            Direction::Remediation => format!(
                "Set TlsCertificateName of a receive connector to name the certificate {}.",
                self.certificate.thumbprint
            ),
            Direction::Rollback => format!(
                "Set TlsCertificateName of a receive connector back to its value before the change to {}.",
                self.certificate.thumbprint
            ),
        }
    }

    fn command(&self) -> ManualCommand {
        ManualCommand {
            cmdlet: "Set-ReceiveConnector",
            switches: Vec::new(),
            parameters: vec![
                ("Identity", self.identity.clone()),
                ("TlsCertificateName", self.after.to_string()),
            ],
        }
    }

    fn row(&self, _direction: Direction) -> serde_json::Value {
        row(NameChangeRow::new(
            &self.identity,
            self.before.as_ref(),
            &self.after,
            &self.certificate,
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
