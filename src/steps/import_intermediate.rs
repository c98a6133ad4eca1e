//! Import an intermediate CA certificate, supplied as a file, into `Cert:\LocalMachine\CA`: a
//! server that cannot build its certificate's chain does not send it whole.

use std::any::Any;

use base64::Engine;
use serde::Serialize;
use time::OffsetDateTime;

use super::remove_certificate::store_change_restarts;
use super::{
    certificate_parameters, row, Action, Bucket, ChangeView, Direction, ManualCommand, ServerContext, Step,
    StepKind,
};
use crate::model::Certificate;

pub static KIND: StepKind = StepKind {
    name: "import_certificate",
    bucket: Bucket::Import,
    sign: '+',
    undo_order: 4,
    remediate_cmdlets: &["Import-Certificate"],
    rollback_cmdlets: &[],
    sets_certificate_name: false,
    completes_chains: true,
    remediate_template: include_str!("../../templates/steps/import_certificate/remediate.ps1.hbs"),
    rollback_template: include_str!("../../templates/steps/import_certificate/rollback.ps1.hbs"),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportIntermediate {
    pub certificate: Certificate,
}

/// The remediation embeds the certificate; the rollback only needs to know which it was.
#[derive(Serialize)]
struct ImportRow {
    thumbprint: String,
    subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    base64: Option<String>,
}

impl Step for ImportIntermediate {
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
        format!("import {}", self.certificate.thumbprint)
    }

    fn action(&self, now: OffsetDateTime) -> Action {
        Action {
            target: "Cert:\\LocalMachine\\CA".to_owned(),
            parameters: certificate_parameters(&self.certificate, now),
            before: None,
            after: Some(self.certificate.thumbprint.clone()),
        }
    }

    fn fix(&self) -> String {
        format!(
            "import {} ({}) from {} into Cert:\\LocalMachine\\CA",
            self.certificate.thumbprint, self.certificate.subject, self.certificate.source.file
        )
    }

    fn change(&self, now: OffsetDateTime) -> ChangeView {
        ChangeView {
            head: format!(
                "import into Cert:\\LocalMachine\\CA: {}",
                self.certificate.line(now)
            ),
            diff: None,
        }
    }

    fn report_step(&self, now: OffsetDateTime) -> String {
        format!(
            "Import the intermediate {} into Cert:\\LocalMachine\\CA (skipped when already there).",
            self.certificate.line(now)
        )
    }

    fn help(&self, direction: Direction) -> String {
        match direction {
            Direction::Remediation => format!(
                "Import the intermediate CA certificate {} into Cert:\\LocalMachine\\CA.",
                self.certificate.thumbprint
            ),
            Direction::Rollback => format!(
                "Only with -RemoveImportedIntermediates: remove the imported intermediate {} from Cert:\\LocalMachine\\CA.",
                self.certificate.thumbprint
            ),
        }
    }

    fn command(&self) -> ManualCommand {
        ManualCommand {
            cmdlet: "Import-Certificate",
            parameters: vec![
                ("FilePath", self.certificate.source.file.clone()),
                ("CertStoreLocation", "Cert:\\LocalMachine\\CA".to_owned()),
            ],
        }
    }

    fn row(&self, direction: Direction) -> serde_json::Value {
        row(ImportRow {
            thumbprint: self.certificate.thumbprint.clone(),
            subject: self.certificate.subject.clone(),
            base64: (direction == Direction::Remediation).then(|| {
                self.certificate
                    .facts
                    .as_ref()
                    .map(|facts| base64::engine::general_purpose::STANDARD.encode(&facts.der))
                    .unwrap_or_default()
            }),
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
