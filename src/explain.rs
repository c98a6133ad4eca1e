//! `hybridtls rules` and `hybridtls explain`: the rule registry and the error texts admins
//! paste, as text for people or JSON for tools (`--format json`).

use serde::Serialize;

use crate::diagnose::rules::{self, Rule, Severity};
use crate::diagnose::symptoms::{self, Reading, Symptom};
use crate::error::Error;

/// A rule as the listing and the JSON name it.
#[derive(Serialize)]
struct RuleEntry {
    code: &'static str,
    name: &'static str,
    title: &'static str,
    severity: Severity,
}

impl From<&'static Rule> for RuleEntry {
    fn from(rule: &'static Rule) -> Self {
        RuleEntry {
            code: rule.code,
            name: rule.name,
            title: rule.title,
            severity: rule.severity,
        }
    }
}

/// `hybridtls rules`: one line per rule, or a JSON array of the rules.
pub fn rules(json: bool) -> Result<String, Error> {
    if json {
        let entries: Vec<RuleEntry> = rules::ALL.iter().copied().map(RuleEntry::from).collect();
        return crate::render::json::to_string(&entries);
    }
    let mut listing = String::new();
    for rule in rules::ALL {
        listing.push_str(&format!(
            "{}  {:<8} {}\n",
            rule.code,
            rule.severity.label(),
            rule.title
        ));
    }
    Ok(listing)
}

#[derive(Serialize)]
struct SymptomEntry {
    meaning: &'static str,
    causes: &'static str,
    rules: Vec<RuleEntry>,
    export: &'static str,
    /// For the 4.4.395 wrapper: the inner response it reports, when pasted.
    #[serde(skip_serializing_if = "Option::is_none")]
    inner_response: Option<String>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Explanation<'r> {
    Rule {
        rule: RuleEntry,
        documentation: &'static str,
    },
    ErrorText {
        #[serde(flatten)]
        reading: &'r Reading,
        symptoms: Vec<SymptomEntry>,
    },
    NotRecognised {
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        did_you_mean: Option<RuleEntry>,
    },
}

#[derive(Serialize)]
struct Document<'r> {
    input: &'r str,
    #[serde(flatten)]
    explanation: Explanation<'r>,
}

/// `hybridtls explain TEXT`: the page (text or JSON) and the exit code, 0 explained, 1 not
/// recognised.
pub fn explain(text: &str, json: bool) -> Result<(String, i32), Error> {
    let query = text.trim();
    if let Some(rule) = rules::find(query) {
        if json {
            let explanation = Explanation::Rule {
                rule: rule.into(),
                documentation: rule.documentation,
            };
            return Ok((
                crate::render::json::to_string(&Document {
                    input: text,
                    explanation,
                })?,
                0,
            ));
        }
        let page = format!(
            "# {} {}: {}\n\n{}",
            rule.code, rule.name, rule.title, rule.documentation
        );
        return Ok((page, 0));
    }
    let reading = symptoms::read(text);
    if reading.symptoms.is_empty() {
        let (message, suggestion) = not_recognised(query, &reading);
        if json {
            let explanation = Explanation::NotRecognised {
                message,
                did_you_mean: suggestion.map(RuleEntry::from),
            };
            return Ok((
                crate::render::json::to_string(&Document {
                    input: text,
                    explanation,
                })?,
                1,
            ));
        }
        return Ok((message, 1));
    }
    let explained_inner = reading.symptoms.iter().any(|s| !s.rules.is_empty());
    if json {
        let symptoms = reading
            .symptoms
            .iter()
            .map(|symptom| SymptomEntry {
                meaning: symptom.meaning,
                causes: symptom.causes,
                rules: symptom.rules.iter().copied().map(RuleEntry::from).collect(),
                export: symptom.export,
                inner_response: symptom
                    .rules
                    .is_empty()
                    .then(|| symptoms::inner_response(text).map(str::to_owned))
                    .flatten(),
            })
            .collect();
        let explanation = Explanation::ErrorText {
            reading: &reading,
            symptoms,
        };
        return Ok((
            crate::render::json::to_string(&Document {
                input: text,
                explanation,
            })?,
            0,
        ));
    }
    let mut page = String::new();
    for read_as in &reading.read_as {
        page.push_str(&format!("Read as: {read_as}\n"));
    }
    for row in &reading.log_rows {
        let value = if row.data.is_empty() {
            String::new()
        } else {
            format!(" {}", row.data)
        };
        page.push_str(&format!(
            "Protocol log row: connector {}, session {}: {}{value}\n",
            row.connector, row.session, row.context
        ));
        if let Some(note) = &row.note {
            page.push_str(&format!("  {note}\n"));
        }
    }
    // SubjectMismatch is what the 4.7.320 symptom explains; another reason is said first.
    if let Some(reason) = reading
        .validation_reason
        .as_ref()
        .filter(|reason| !reason.eq_ignore_ascii_case("SubjectMismatch"))
    {
        page.push_str(&format!("Reason given: {reason}\n"));
    }
    if !page.is_empty() {
        page.push('\n');
    }
    for symptom in &reading.symptoms {
        explain_symptom(text, symptom, explained_inner, &mut page);
    }
    Ok((page, 0))
}

fn explain_symptom(text: &str, symptom: &Symptom, explained_inner: bool, page: &mut String) {
    page.push_str(&format!(
        "What it means: {}\nLikely causes: {}\n",
        symptom.meaning, symptom.causes
    ));
    if symptom.rules.is_empty() {
        // The 4.4.395 wrapper: its meaning is the inner response.
        match symptoms::inner_response(text) {
            Some(inner) if explained_inner => {
                page.push_str(&format!("Inner response: {inner} (explained below)\n"))
            }
            Some(inner) => page.push_str(&format!(
                "Inner response: {inner}; hybridtls does not know it, so look in the SmtpSend protocol log of the sending server for the TLS error of the session (e.g. `TLS negotiation failed with error NoCredentials`) and explain that\n"
            )),
            None => page.push_str(
                "Inner response: not pasted; paste the whole LastError, including the part after `->`\n",
            ),
        }
        page.push_str(&format!("To confirm, export: {}\n\n", symptom.export));
        return;
    }
    page.push_str("Matching rules:\n");
    for rule in symptom.rules {
        page.push_str(&format!(
            "  {}  {}  (hybridtls explain {})\n",
            rule.code, rule.title, rule.code
        ));
    }
    page.push_str(&format!(
        "To confirm, export: {}\nThen run: hybridtls plan <folder>\n\n",
        symptom.export
    ));
}

/// What to say about a text that is no rule and no known error, and the rule it may have
/// meant: `HT1` and `HT01` are HT001.
fn not_recognised(query: &str, reading: &Reading) -> (String, Option<&'static Rule>) {
    let number = query
        .get(..2)
        .filter(|prefix| prefix.eq_ignore_ascii_case("ht"))
        .and_then(|_| query[2..].parse::<u32>().ok());
    if let Some(number) = number {
        return match rules::find(&format!("HT{number:03}")) {
            Some(rule) => (
                format!(
                    "Not recognised: no rule is called {query}. Did you mean {} ({})? `hybridtls explain {}`\n",
                    rule.code, rule.title, rule.code
                ),
                Some(rule),
            ),
            None => (
                format!("Not recognised: there is no rule {query}; `hybridtls rules` lists them.\n"),
                None,
            ),
        };
    }
    let what = if reading.log_rows.is_empty() {
        "this is neither a rule code nor an error text hybridtls knows"
    } else {
        "the protocol log rows name no certificate and no TLS error hybridtls knows"
    };
    (
        format!(
            "Not recognised: {what}.\n`hybridtls rules` lists the rules; error texts it knows include 4.7.320 SubjectMismatch, NoCredentials, event 12014, 5.7.3 STARTTLS is required, 5.7.64 TenantAttribution, 5.7.51 TenantInboundAttribution, 4.4.395 Target host responded with error and 454 4.7.5, bare codes such as 5.7.3, their Japanese and Spanish texts, and SmtpReceive and SmtpSend protocol log rows.\n"
        ),
        None,
    )
}
