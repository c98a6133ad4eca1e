//! Back up, then remove a certificate without a private key from `Cert:\LocalMachine\My`, by its
//! exact thumbprint: a key-less copy shadows the certificate Exchange should present.

use std::any::Any;

use serde::Serialize;
use time::OffsetDateTime;

use super::set_receive_certificate_name::service_for;
use super::{
    certificate_parameters, row, Action, Bucket, ChangeView, Direction, ManualCommand, ServerContext, Step,
    StepKind,
};
use crate::model::Certificate;

pub static KIND: StepKind = StepKind {
    name: "remove_certificate",
    bucket: Bucket::Remove,
    sign: '-',
    undo_order: 1,
    remediate_cmdlets: &["Export-Certificate"],
    rollback_cmdlets: &["Import-Certificate"],
    sets_certificate_name: false,
    completes_chains: false,
    remediate_template: include_str!("../../templates/steps/remove_certificate/remediate.ps1.hbs"),
    rollback_template: include_str!("../../templates/steps/remove_certificate/rollback.ps1.hbs"),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveCertificate {
    pub certificate: Certificate,
}

#[derive(Serialize)]
struct CertificateRow {
    thumbprint: String,
    subject: String,
}

/// A change to a certificate store matters to every transport service that presents a
/// certificate from it: the hybrid receive connectors' and the send side's.
pub fn store_change_restarts(server: &ServerContext) -> Vec<&'static str> {
    let mut services: Vec<&'static str> = server
        .hybrid_roles
        .iter()
        .map(|role| service_for(*role, server.edge))
        .collect();
    services.push("MSExchangeTransport");
    services
}

impl Step for RemoveCertificate {
    fn kind(&self) -> &'static StepKind {
        &KIND
    }

    fn key(&self) -> &str {
        &self.certificate.thumbprint
    }

    fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    fn restarts(&self, server: &ServerContext) -> Vec<&'static str> {
        store_change_restarts(server)
    }

    fn fingerprint(&self) -> String {
        format!("remove {}", self.certificate.thumbprint)
    }

    fn action(&self, now: OffsetDateTime) -> Action {
        Action {
            target: format!("Cert:\\LocalMachine\\My\\{}", self.certificate.thumbprint),
            parameters: certificate_parameters(&self.certificate, now),
            before: Some(self.certificate.thumbprint.clone()),
            after: None,
        }
    }

    fn fix(&self) -> String {
        format!(
            "back up, then remove Cert:\\LocalMachine\\My\\{} (exact thumbprint)",
            self.certificate.thumbprint
        )
    }

    fn change(&self, now: OffsetDateTime) -> ChangeView {
        ChangeView {
            head: format!(
                "remove from Cert:\\LocalMachine\\My (after a backup): {}",
                self.certificate.line(now)
            ),
            diff: None,
        }
    }

    fn report_step(&self, now: OffsetDateTime) -> String {
        format!(
            "Export, then remove the certificate without private key {} by its full thumbprint.",
            self.certificate.line(now)
        )
    }

    fn help(&self, direction: Direction) -> String {
        match direction {
            Direction::Remediation => format!(
                "Back up, then remove the certificate without private key Cert:\\LocalMachine\\My\\{}.",
                self.certificate.thumbprint
            ),
            Direction::Rollback => format!(
                "Re-import the removed certificate {} from the remediation's backup into Cert:\\LocalMachine\\My.",
                self.certificate.thumbprint
            ),
        }
    }

    fn command(&self) -> ManualCommand {
        ManualCommand {
            cmdlet: "Remove-Item",
            parameters: vec![(
                "LiteralPath",
                format!("Cert:\\LocalMachine\\My\\{}", self.certificate.thumbprint),
            )],
        }
    }

    fn row(&self, _direction: Direction) -> serde_json::Value {
        row(CertificateRow {
            thumbprint: self.certificate.thumbprint.clone(),
            subject: self.certificate.subject.clone(),
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
