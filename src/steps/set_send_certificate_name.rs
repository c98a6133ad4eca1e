//! Point the send connector to Exchange Online at the certificate hybrid mail flow should present
//! (`Set-SendConnector -TlsCertificateName`). The connector is one object of the organisation (in
//! Active Directory), so only the script of one source server, the carrier, changes it; the other
//! source servers restart their transport service afterwards.

use std::any::Any;

use serde::Serialize;
use time::OffsetDateTime;

use super::set_receive_certificate_name::{unified_diff, NameChangeRow};
use super::{row, Action, Bucket, ChangeView, Direction, ManualCommand, ServerContext, Step, StepKind};
use crate::model::{Certificate, TlsCertificateName};

pub static KIND: StepKind = StepKind {
    name: "set_send_connector",
    bucket: Bucket::Change,
    sign: '~',
    undo_order: 3,
    remediate_cmdlets: &["Get-SendConnector", "Set-SendConnector"],
    rollback_cmdlets: &["Get-SendConnector", "Set-SendConnector"],
    sets_certificate_name: true,
    completes_chains: false,
    remediate_template: include_str!("../../templates/steps/set_send_connector/remediate.ps1.hbs"),
    rollback_template: include_str!("../../templates/steps/set_send_connector/rollback.ps1.hbs"),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetSendCertificateName {
    pub identity: String,
    pub before: Option<TlsCertificateName>,
    pub after: TlsCertificateName,
    /// The first source transport server in sorted order: its script changes the connector.
    pub carrier: String,
    /// The carrier's own certificate under `after`, required by its preflight.
    pub certificate: Certificate,
    /// Every source transport server of the connector, sorted; each was checked in its export
    /// to hold a valid certificate with a private key under `after`.
    pub source_servers: Vec<String>,
}

/// `before_null` tells a null value from an empty one, so the rollback sets `$null` back only
/// when the connector had no TlsCertificateName; `source_servers` are the source transport
/// servers the plan checked, which the preflight compares with the live ones.
#[derive(Serialize)]
struct SendChangeRow {
    #[serde(flatten)]
    change: NameChangeRow,
    before_null: bool,
    source_servers: Vec<String>,
}

impl SetSendCertificateName {
    pub fn new(
        identity: String,
        before: Option<TlsCertificateName>,
        after: TlsCertificateName,
        carrier: String,
        certificate: Certificate,
        mut source_servers: Vec<String>,
    ) -> Self {
        source_servers.sort_by_key(|s| s.to_ascii_uppercase());
        source_servers.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        SetSendCertificateName {
            identity,
            before,
            after,
            carrier,
            certificate,
            source_servers,
        }
    }
}

impl Step for SetSendCertificateName {
    fn kind(&self) -> &'static StepKind {
        &KIND
    }

    fn key(&self) -> &str {
        &self.identity
    }

    fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    fn restarts(&self, _server: &ServerContext) -> Vec<&'static str> {
        vec!["MSExchangeTransport"]
    }

    fn presents(&self) -> Option<&Certificate> {
        Some(&self.certificate)
    }

    fn carrier(&self) -> Option<&str> {
        Some(&self.carrier)
    }

    fn also_used_by(&self) -> &[String] {
        &self.source_servers
    }

    fn follow_up(&self, carrier: &str, server: &str) -> (String, ManualCommand) {
        (
            format!(
                "after the script of {carrier} has set TlsCertificateName of the send connector (one object for the organisation, changed once), restart MSExchangeTransport on {server} so it presents the new certificate at once"
            ),
            ManualCommand {
                cmdlet: "Restart-Service",
                switches: Vec::new(),
                parameters: vec![("Name", "MSExchangeTransport".to_owned())],
            },
        )
    }

    fn fingerprint(&self) -> String {
        NameChangeRow::new(
            &self.identity,
            self.before.as_ref(),
            &self.after,
            &self.certificate,
        )
        .fingerprint("send")
    }

    fn action(&self, _now: OffsetDateTime) -> Action {
        Action {
            target: self.identity.clone(),
            parameters: vec![
                ("property", "TlsCertificateName".to_owned()),
                ("certificate_thumbprint", self.certificate.thumbprint.clone()),
                ("source_servers", self.source_servers.join(", ")),
            ],
            before: self.before.as_ref().map(ToString::to_string),
            after: Some(self.after.to_string()),
        }
    }

    fn fix(&self) -> String {
        format!(
            "set TlsCertificateName to {}, once for the organisation, in the script of {} (the first source transport server)",
            self.after, self.carrier
        )
    }

    fn change(&self, now: OffsetDateTime) -> ChangeView {
        let state = |name: Option<String>| {
            format!(
                "TlsCertificateName: {}\n",
                name.unwrap_or_else(|| "(null)".to_owned())
            )
        };
        let before = state(self.before.as_ref().map(ToString::to_string));
        let after = format!(
            "{}Certificate on this server: {}\n",
            state(Some(self.after.to_string())),
            self.certificate.line(now)
        );
        ChangeView {
            head: format!(
                "send connector {} (organisation-wide, changed once, from this server; source servers {})",
                self.identity,
                self.source_servers.join(", ")
            ),
            diff: Some(unified_diff(&before, &after)),
        }
    }

    fn report_step(&self, _now: OffsetDateTime) -> String {
        format!(
            "Back up and set TlsCertificateName of the send connector {} to {} (organisation-wide; source servers {}).",
            self.identity,
            self.after,
            self.source_servers.join(", ")
        )
    }

    fn help(&self, direction: Direction) -> String {
        match direction {
            Direction::Remediation => format!(
                "Set TlsCertificateName of the send connector to Exchange Online (one object for the organisation, changed from this server only) to name the certificate {}.",
                self.certificate.thumbprint
            ),
            Direction::Rollback => format!(
                "Set TlsCertificateName of the send connector (organisation-wide) back to its value before the change to {}.",
                self.certificate.thumbprint
            ),
        }
    }

    fn command(&self) -> ManualCommand {
        ManualCommand {
            cmdlet: "Set-SendConnector",
            switches: Vec::new(),
            parameters: vec![
                ("Identity", self.identity.clone()),
                ("TlsCertificateName", self.after.to_string()),
            ],
        }
    }

    fn row(&self, _direction: Direction) -> serde_json::Value {
        row(SendChangeRow {
            change: NameChangeRow::new(
                &self.identity,
                self.before.as_ref(),
                &self.after,
                &self.certificate,
            ),
            before_null: self.before.is_none(),
            source_servers: self.source_servers.clone(),
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
