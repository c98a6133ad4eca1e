//! A saved `hybridtls probe HOST:PORT --format json` (schema/probe.schema.json), read back as
//! evidence of what a server really presented: only what a plan compares is read, and a probe
//! of another major format version is refused.

use serde_json::Value;

use super::psjson::{kind_of, Record};
use crate::error::InputError;
use crate::model::{SavedProbe, Source};

/// The probe format this version reads (`format_version` 1.x).
const FORMAT_MAJOR: &str = "1";

fn object<'v>(
    record: &Record,
    field: &str,
    value: Option<&'v Value>,
) -> Result<Option<&'v serde_json::Map<String, Value>>, InputError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(record.error(field, format!("expected an object, found {}", kind_of(other)))),
    }
}

fn text(record: &Record, field: &str, value: Option<&Value>) -> Result<String, InputError> {
    match value {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(record.error(field, format!("expected a string, found {}", kind_of(other)))),
        None => Err(record.error(field, format!("the property {field} is missing"))),
    }
}

pub fn read(record: &Record) -> Result<SavedProbe, InputError> {
    let version = record.required("format_version", record.string("format_version")?)?;
    if version.split('.').next() != Some(FORMAT_MAJOR) {
        return Err(record
            .error(
                "format_version",
                format!("a probe of format {version}, this version reads {FORMAT_MAJOR}.x"),
            )
            .hint(
                "probe again with this version of hybridtls: hybridtls probe HOST --format json > probe.json",
            ));
    }
    let target = record.required("target", object(record, "target", record.get("target"))?)?;
    let host = text(record, "target.host", target.get("host"))?.to_ascii_lowercase();
    let port = target
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|port| u16::try_from(port).ok())
        .filter(|port| *port > 0)
        .ok_or_else(|| record.error("target.port", "expected a port number from 1 to 65535"))?;
    let smtp = record.required("smtp", object(record, "smtp", record.get("smtp"))?)?;
    let starttls_offered = match smtp.get("starttls_offered") {
        Some(Value::Bool(offered)) => *offered,
        _ => return Err(record.error("smtp.starttls_offered", "expected true or false")),
    };
    let certificate = object(record, "certificate", record.get("certificate"))?;
    let (thumbprint, subject) = match certificate {
        Some(certificate) => (
            Some(text(record, "certificate.thumbprint", certificate.get("thumbprint"))?.to_ascii_uppercase()),
            Some(text(record, "certificate.subject", certificate.get("subject"))?),
        ),
        None => (None, None),
    };
    Ok(SavedProbe {
        host,
        port,
        probed_at: record.required("probed_at", record.string("probed_at")?)?,
        starttls_offered,
        thumbprint,
        subject,
        source: Source {
            file: record.file.to_owned(),
            position: record.position(""),
        },
    })
}
