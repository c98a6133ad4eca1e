//! SMTP protocol logs (`RECV*.LOG`, `SEND*.LOG`): which certificate a connector really sent,
//! and which TLS negotiations failed. Format: Exchange's UTF-8 CSV with `#Fields:` header
//! (date-time, connector-id, session-id, sequence-number, local-endpoint, remote-endpoint,
//! event, data, context); a certificate is logged as a `Sending certificate` row followed, in
//! the same session, by rows whose context names the field (`Certificate thumbprint`, ...).

use crate::error::{InputError, Position};
use crate::model::{Sighting, Source};

/// Whether `text` starts like an Exchange SMTP protocol log.
pub fn is_protocol_log(text: &str) -> bool {
    let head: String = text.lines().take(6).collect::<Vec<_>>().join("\n");
    head.contains("#Software: Microsoft Exchange Server") && head.contains("#Log-type: SMTP")
}

/// Splits one CSV line; fields with commas are double-quoted, `""` is a quote.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out
}

/// Every certificate a connector sent and every failed TLS negotiation in the log.
pub fn read(file: &str, text: &str) -> Result<Vec<Sighting>, InputError> {
    let mut columns: Option<Vec<String>> = None;
    let mut sightings: Vec<Sighting> = Vec::new();
    // Session id → index of its open `Sending certificate` sighting.
    let mut open: Vec<(String, usize)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line_number = number + 1;
        if let Some(header) = line.strip_prefix("#Fields:") {
            columns = Some(header.trim().split(',').map(str::to_owned).collect());
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some(columns) = &columns else {
            return Err(InputError::new(file, "a log row before the #Fields: header")
                .at(Position::LineColumn {
                    line: line_number,
                    column: 1,
                })
                .hint("give hybridtls the whole log file, header included"));
        };
        let values = fields(line);
        let get = |name: &str| {
            columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| values.get(i))
                .map(String::as_str)
                .unwrap_or("")
        };
        let (time, connector, session) = (get("date-time"), get("connector-id"), get("session-id"));
        let (data, context) = (get("data"), get("context"));
        let source = || Source {
            file: file.to_owned(),
            position: format!("line {line_number}"),
        };
        if context == "Sending certificate" {
            open.retain(|(s, _)| s != session);
            open.push((session.to_owned(), sightings.len()));
            sightings.push(Sighting {
                time: time.to_owned(),
                connector: connector.to_owned(),
                thumbprint: None,
                subject: None,
                failure: None,
                source: source(),
            });
            continue;
        }
        if let Some(failure) = [data, context]
            .iter()
            .find_map(|text| text.strip_prefix("TLS negotiation failed with error "))
        {
            sightings.push(Sighting {
                time: time.to_owned(),
                connector: connector.to_owned(),
                thumbprint: None,
                subject: None,
                failure: Some(failure.trim().to_owned()),
                source: source(),
            });
            continue;
        }
        let Some(&(_, index)) = open.iter().find(|(s, _)| s == session) else {
            continue;
        };
        match context {
            "Certificate thumbprint" => sightings[index].thumbprint = Some(data.to_ascii_uppercase()),
            "Certificate subject" => sightings[index].subject = Some(data.to_owned()),
            "Certificate alternate names" => {
                open.retain(|(s, _)| s != session);
            }
            _ => {}
        }
    }
    if columns.is_none() {
        return Err(InputError::new(
            file,
            "an SMTP protocol log without a #Fields: header",
        ));
    }
    Ok(sightings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "#Software: Microsoft Exchange Server\r\n#Version: 15.0.0.0\r\n#Log-type: SMTP Receive Protocol Log\r\n#Date: 2017-04-14T17:00:00.000Z\r\n#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context\r\n\
2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,20,172.20.102.10:25,155.39.36.248:30648,*,,Sending certificate\r\n\
2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,21,172.20.102.10:25,155.39.36.248:30648,*,\"CN=SERVER1, O=\"\"A, B\"\"\",Certificate subject\r\n\
2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,24,172.20.102.10:25,155.39.36.248:30648,*,9876534210fedcba9876534210fedcba12345678,Certificate thumbprint\r\n\
2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,25,172.20.102.10:25,155.39.36.248:30648,*,SERVER1;SERVER1.domain.com,Certificate alternate names\r\n\
2019-05-02T06:32:14.000Z,Outbound to Office 365,08D6CE9B3B8A3D4E,7,10.0.0.5:23456,104.47.1.1:25,*,,TLS negotiation failed with error NoCredentials\r\n";

    #[test]
    fn reads_the_certificate_sent_and_tls_failures() {
        assert!(is_protocol_log(LOG));
        let sightings = read("RECV.LOG", LOG).unwrap();
        assert_eq!(sightings.len(), 2);
        assert_eq!(sightings[0].connector, "SERVER1\\Default Frontend SERVER1");
        assert_eq!(
            sightings[0].thumbprint.as_deref(),
            Some("9876534210FEDCBA9876534210FEDCBA12345678")
        );
        assert_eq!(sightings[0].subject.as_deref(), Some("CN=SERVER1, O=\"A, B\""));
        assert_eq!(sightings[1].failure.as_deref(), Some("NoCredentials"));
        assert_eq!(sightings[1].source.position, "line 10");
    }

    #[test]
    fn rows_without_a_header_are_an_error_with_a_line() {
        let err = read("x.LOG", "#Software: Microsoft Exchange Server\n2017,a,b\n").unwrap_err();
        assert_eq!(err.position, Some(Position::LineColumn { line: 2, column: 1 }));
    }
}
