//! Reading JSON the way PowerShell writes it: case-insensitive property names, `\/Date(ms)\/`
//! and ISO 8601 dates, enums as numbers or names, single objects without an array, and values
//! that `ConvertTo-Json` cut off at its depth limit (which are reported, never guessed at).

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::error::{InputError, Position};

/// What to tell an admin whose export lost data to the depth limit.
pub const REEXPORT_HINT: &str = "re-export with a higher depth, e.g. `... | ConvertTo-Json -Depth 6 | Out-File -Encoding utf8 file.json` or `... | Export-Clixml -Depth 6 file.xml`, or run the script printed by `hybridtls collect`";

/// Parses a whole export into its objects: an array of objects, one bare object, or the
/// `{"value": [...], "Count": n}` wrapper Windows PowerShell 5.1 writes for some arrays.
pub fn parse_records(file: &str, text: &str) -> Result<Vec<Map<String, Value>>, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::new(file, "the file is empty").hint(
            "ConvertTo-Json writes nothing when the command before it returned no objects; check the command's output",
        ));
    }
    let root = parse_strictly(text).map_err(|e| {
        let (message, hint) = match e.classify() {
            serde_json::error::Category::Eof => (
                format!("the JSON ends early, the file is cut off ({e})"),
                "export again with ConvertTo-Json and copy the whole file",
            ),
            // Only the parser's visitor below raises these: a property given twice.
            serde_json::error::Category::Data => (
                e.to_string(),
                "ConvertTo-Json never writes a property twice and ConvertFrom-Json refuses such a file: export again",
            ),
            _ => (
                format!("not valid JSON: {e}"),
                "export again with ConvertTo-Json and copy the whole file",
            ),
        };
        InputError::new(file, strip_serde_position(&message))
            .at(Position::LineColumn {
                line: e.line(),
                column: e.column(),
            })
            .hint(hint)
    })?;
    let items = match root {
        Value::Array(items) => items,
        Value::Object(mut map) => match unwrap_count_wrapper(&mut map) {
            Some(items) => items,
            None => vec![Value::Object(map)],
        },
        other => {
            return Err(InputError::new(
                file,
                format!(
                    "expected a JSON object or an array of objects, found {}",
                    kind_of(&other)
                ),
            ))
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(map) => Ok(map),
            other => Err(
                InputError::new(file, format!("expected an object, found {}", kind_of(&other))).at(
                    Position::Record {
                        number: index + 1,
                        label: None,
                        field: None,
                    },
                ),
            ),
        })
        .collect()
}

/// Parses `text` as serde_json does, but refuses an object that holds a property twice, also
/// in another case: properties are read case-insensitively, as PowerShell reads them, so either
/// copy could be the one read, and the other one can turn a finding into "nothing to change".
/// No cmdlet writes such JSON and ConvertFrom-Json refuses it.
fn parse_strictly(text: &str) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut parser = serde_json::Deserializer::from_str(text);
    let hasher = std::hash::RandomState::new();
    let root = Strict {
        place: &Place::Root,
        hasher: &hasher,
    }
    .deserialize(&mut parser)?;
    parser.end()?;
    Ok(root)
}

/// Where a value sits in the document, kept on the stack while the parser descends: it costs
/// nothing until an error describes it.
enum Place<'p> {
    Root,
    Item(&'p Place<'p>, usize),
    Property(&'p Place<'p>, &'p str),
}

impl Place<'_> {
    /// `record 3` or `record 3, property TlsCertificateName.CertificateSubject`: records are
    /// the items of the root array (or of the `value` array of 5.1's `{"value": [...],
    /// "Count": n}` wrapper), a bare root object is record 1.
    fn describe(&self) -> String {
        let mut chain = Vec::new();
        let mut place = self;
        loop {
            match place {
                Place::Root => break,
                Place::Item(parent, _) | Place::Property(parent, _) => {
                    chain.push(place);
                    place = parent;
                }
            }
        }
        chain.reverse();
        let (record, rest) = match chain.as_slice() {
            [Place::Item(_, index), rest @ ..] => (index + 1, rest),
            [Place::Property(_, name), Place::Item(_, index), rest @ ..]
                if name.eq_ignore_ascii_case("value") =>
            {
                (index + 1, rest)
            }
            rest => (1, rest),
        };
        let mut path = String::new();
        for place in rest {
            match place {
                Place::Property(_, name) if path.is_empty() => path.push_str(name),
                Place::Property(_, name) => {
                    path.push('.');
                    path.push_str(name);
                }
                Place::Item(_, index) => path.push_str(&format!("[{index}]")),
                Place::Root => {}
            }
        }
        if path.is_empty() {
            format!("record {record}")
        } else {
            format!("record {record}, property {path}")
        }
    }
}

/// One value of the document at `place`, parsed into a [`Value`] with its objects checked for
/// properties given twice.
#[derive(Clone, Copy)]
struct Strict<'p> {
    place: &'p Place<'p>,
    /// Hashes property names for objects too large to compare each name with every other.
    hasher: &'p std::hash::RandomState,
}

/// Objects up to this many properties are checked by comparing names; larger ones by hashing,
/// so that an object of a million properties is not a million squared comparisons.
const COMPARED_PROPERTIES: usize = 32;

impl<'de> serde::de::DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, parser: D) -> Result<Value, D::Error> {
        parser.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        loop {
            let place = Place::Item(self.place, values.len());
            let item = Strict {
                place: &place,
                ..self
            };
            match items.next_element_seed(item)? {
                Some(value) => values.push(value),
                None => return Ok(Value::Array(values)),
            }
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut properties: A) -> Result<Value, A::Error> {
        use std::hash::BuildHasher;
        let folded = |name: &str| self.hasher.hash_one(name.to_ascii_lowercase());
        let mut object = Map::new();
        // Folded hashes of the names, once the object is too large to compare them all.
        let mut hashes: std::collections::HashMap<u64, Vec<String>> = std::collections::HashMap::new();
        while let Some(name) = properties.next_key::<String>()? {
            let earlier = if object.len() < COMPARED_PROPERTIES {
                object.keys().find(|key| key.eq_ignore_ascii_case(&name)).cloned()
            } else {
                if hashes.is_empty() {
                    for key in object.keys() {
                        hashes.entry(folded(key)).or_default().push(key.clone());
                    }
                }
                let same = hashes.entry(folded(&name)).or_default();
                let earlier = same.iter().find(|key| key.eq_ignore_ascii_case(&name)).cloned();
                if earlier.is_none() {
                    same.push(name.clone());
                }
                earlier
            };
            if let Some(earlier) = earlier {
                let also = if earlier == name {
                    String::new()
                } else {
                    format!(" (also as {earlier:?})")
                };
                return Err(serde::de::Error::custom(format!(
                    "the property {name:?} is given twice{also} in {}",
                    self.place.describe()
                )));
            }
            let place = Place::Property(self.place, &name);
            let value = properties.next_value_seed(Strict {
                place: &place,
                ..self
            })?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

fn unwrap_count_wrapper(map: &mut Map<String, Value>) -> Option<Vec<Value>> {
    if map.len() == 2 && map.contains_key("Count") && matches!(map.get("value"), Some(Value::Array(_))) {
        if let Some(Value::Array(items)) = map.remove("value") {
            return Some(items);
        }
    }
    None
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_serde_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => {
            let tail = &message[index..];
            let closing = if message.ends_with(')') { ")" } else { "" };
            if tail.contains(" column ") {
                format!("{}{}", &message[..index], closing)
            } else {
                message.to_owned()
            }
        }
        None => message.to_owned(),
    }
}

pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Case-insensitive property lookup; JSON `null` reads as absent.
pub fn property<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .get(name)
        .or_else(|| {
            object
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        })
        .filter(|value| !value.is_null())
}

pub fn has_property(object: &Map<String, Value>, name: &str) -> bool {
    object.keys().any(|key| key.eq_ignore_ascii_case(name))
}

/// A .NET type name where data was expected: what ConvertTo-Json writes for an object past
/// its depth limit whose ToString() is the default one.
pub fn is_type_name(text: &str) -> bool {
    (text.starts_with("System.") || text.starts_with("Microsoft.") || text.starts_with("Deserialized."))
        && !text.contains(": ")
        && text
            .split(['[', ']', ',', '`'])
            .all(|part| !part.trim().contains(' '))
}

/// One object of an export, with what is needed to point at it in an error.
pub struct Record<'a> {
    pub file: &'a str,
    pub index: usize,
    pub object: &'a Map<String, Value>,
    label: Option<String>,
}

impl<'a> Record<'a> {
    pub fn new(file: &'a str, index: usize, object: &'a Map<String, Value>) -> Self {
        let label = ["Name", "Thumbprint", "Subject"]
            .iter()
            .find_map(|key| property(object, key).and_then(Value::as_str))
            .map(str::to_owned);
        Record {
            file,
            index,
            object,
            label,
        }
    }

    pub fn get(&self, name: &str) -> Option<&'a Value> {
        property(self.object, name)
    }

    /// The position of `field` in this record, e.g. `record 2 ("Default Frontend EX1"), field Fqdn`.
    pub fn position(&self, field: &str) -> Position {
        Position::Record {
            number: self.index + 1,
            label: self.label.as_deref().map(Box::from),
            field: (!field.is_empty()).then(|| Box::from(field)),
        }
    }

    pub fn error(&self, field: &str, message: impl Into<String>) -> InputError {
        InputError::new(self.file, message).at(self.position(field))
    }

    /// The error for a value that ConvertTo-Json flattened because it sat below `-Depth`.
    pub fn truncated(&self, field: &str, found: &str) -> InputError {
        self.error(
            field,
            format!(
                "the value was cut off by ConvertTo-Json's depth limit (found {found:?}), so {field} is lost"
            ),
        )
        .hint(REEXPORT_HINT)
    }

    pub fn required<T>(&self, field: &str, value: Option<T>) -> Result<T, InputError> {
        value.ok_or_else(|| {
            self.error(field, format!("the property {field} is missing"))
                .hint(
                    "keep this property in the Select-Object list of the export, or use `hybridtls collect`",
                )
        })
    }

    /// A plain string. Numbers are accepted as their text; objects and arrays are not.
    pub fn string(&self, field: &str) -> Result<Option<String>, InputError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.error(field, format!("expected a string, found {}", kind_of(other)))),
        }
    }

    pub fn bool(&self, field: &str) -> Result<Option<bool>, InputError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => {
                Err(self.error(field, format!("expected true or false, found {}", kind_of(other))))
            }
        }
    }

    pub fn date(&self, field: &str) -> Result<Option<OffsetDateTime>, InputError> {
        let Some(value) = self.get(field) else {
            return Ok(None);
        };
        parse_date(value).map(Some).map_err(|found| {
            self.error(field, format!("not a date PowerShell writes: {found}"))
                .hint("dates must look like \\/Date(1712345678000)\\/ (Windows PowerShell 5.1) or 2027-09-05T16:41:02+02:00 (PowerShell 7); locale-formatted dates are ambiguous, so export with ConvertTo-Json")
        })
    }

    /// A [Flags] enum written as a number, a name, or comma-separated names.
    pub fn flags(&self, field: &str, names: &[(&str, u64)]) -> Result<Option<u64>, InputError> {
        let Some(value) = self.get(field) else {
            return Ok(None);
        };
        match value {
            Value::Number(n) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.error(field, format!("expected a non-negative enum value, found {n}"))),
            Value::String(text) => {
                if let Ok(number) = text.trim().parse::<u64>() {
                    return Ok(Some(number));
                }
                let mut bits = 0;
                for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let bit = names
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(part))
                        .map(|(_, bit)| *bit)
                        .ok_or_else(|| {
                            let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                            self.error(
                                field,
                                format!(
                                    "unknown value {part:?}; expected a number or one of {}",
                                    known.join(", ")
                                ),
                            )
                        })?;
                    bits |= bit;
                }
                Ok(Some(bits))
            }
            Value::Object(map) => match property(map, "value") {
                Some(Value::Number(n)) if n.is_u64() => Ok(n.as_u64()),
                _ => Err(self.error(field, "expected an enum value, found an object")),
            },
            other => Err(self.error(field, format!("expected an enum value, found {}", kind_of(other)))),
        }
    }

    /// A multi-valued property: an array of strings, or of objects read with `item`, or the one
    /// string ConvertTo-Json writes when the list sat past its depth (items joined by spaces).
    pub fn list(
        &self,
        field: &str,
        item: impl Fn(&Map<String, Value>) -> Option<String>,
    ) -> Result<Vec<String>, InputError> {
        let Some(value) = self.get(field) else {
            return Ok(Vec::new());
        };
        // A single item stands alone; 5.1 may wrap an array as {"value": [...], "Count": n}.
        let values: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            Value::Object(map) => match property(map, "value") {
                Some(Value::Array(items)) => items.iter().collect(),
                _ => vec![value],
            },
            single => vec![single],
        };
        let mut out = Vec::new();
        for value in values {
            match value {
                Value::String(s) if is_type_name(s) => return Err(self.truncated(field, s)),
                Value::String(s) => out.extend(s.split_whitespace().map(str::to_owned)),
                Value::Object(map) => out.push(item(map).ok_or_else(|| {
                    self.error(field, "an item has none of the properties hybridtls reads")
                        .hint(REEXPORT_HINT)
                })?),
                Value::Null => {}
                other => {
                    return Err(self.error(
                        field,
                        format!("expected a list of strings or objects, found {}", kind_of(other)),
                    ))
                }
            }
        }
        Ok(out)
    }
}

/// Parses `\/Date(ms)\/` (optionally `\/Date(ms+hhmm)\/`), RFC 3339 with offset, ISO 8601
/// without offset (taken as UTC), and the 5.1 `{"value": ..., "DateTime": ...}` wrapper.
pub fn parse_date(value: &Value) -> Result<OffsetDateTime, String> {
    match value {
        Value::String(text) => parse_date_text(text),
        Value::Object(map) => match property(map, "value") {
            Some(inner) => parse_date(inner),
            None => Err("an object without a value property".to_owned()),
        },
        other => Err(format!("found {}", kind_of(other))),
    }
}

fn parse_date_text(text: &str) -> Result<OffsetDateTime, String> {
    let trimmed = text.trim();
    if let Some(inner) = trimmed
        .strip_prefix("/Date(")
        .and_then(|rest| rest.strip_suffix(")/"))
    {
        // An offset suffix only says which zone the writer was in; the number is UTC already.
        // The first character may be the sign of the number itself, so the search starts after it.
        let sign_length = usize::from(inner.starts_with('-'));
        let millis_text = match inner[sign_length..].find(['+', '-']) {
            Some(at) => &inner[..sign_length + at],
            None => inner,
        };
        let millis: i64 = millis_text
            .parse()
            .map_err(|_| format!("{text:?} has no millisecond count"))?;
        return OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map_err(|_| format!("{text:?} is out of range"));
    }
    if let Ok(date) = OffsetDateTime::parse(trimmed, &Rfc3339) {
        return Ok(date.to_offset(time::UtcOffset::UTC));
    }
    let no_offset = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(trimmed, &no_offset)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| format!("{text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_from_both_shells_agree() {
        let ps51 = parse_date(&json!("/Date(1820155262000)/")).unwrap();
        let ps7 = parse_date(&json!("2027-09-05T16:41:02+02:00")).unwrap();
        let wrapped = parse_date(&json!({"value": "/Date(1820155262000)/", "DateTime": "Sunday"})).unwrap();
        assert_eq!(ps51, ps7);
        assert_eq!(ps51, wrapped);
        assert_eq!(parse_date(&json!("/Date(1820155262000+0200)/")).unwrap(), ps51);
        assert_eq!(
            parse_date(&json!("9999-12-31T23:59:59.9999999")).unwrap().year(),
            9999
        );
        assert!(parse_date(&json!("05.09.2027 16:41")).is_err());
        assert_eq!(parse_date(&json!("/Date(-62135568000000)/")).unwrap().year(), 1);
        for broken in [
            "/Date()/",
            "/Date(é)/",
            "/Date(-)/",
            "/Date(+0100)/",
            "/Date(99999999999999999999)/",
        ] {
            assert!(parse_date(&json!(broken)).is_err(), "{broken}");
        }
        assert!(parse_date(&json!(12)).is_err());
    }

    #[test]
    fn records_come_from_arrays_bare_objects_and_count_wrappers() {
        assert_eq!(parse_records("f", "[{\"a\":1},{\"a\":2}]").unwrap().len(), 2);
        assert_eq!(parse_records("f", "{\"a\":1}").unwrap().len(), 1);
        assert_eq!(
            parse_records("f", "{\"value\":[{\"a\":1},{\"a\":2}],\"Count\":2}")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn a_property_given_twice_is_found_in_objects_of_any_size() {
        for size in [1, COMPARED_PROPERTIES - 1, COMPARED_PROPERTIES, 5000] {
            let names: Vec<String> = (0..size).map(|n| format!("\"P{n}\": {n}")).collect();
            let text = format!(
                "{{\"value\": [{{\"a\": 1}}, {{{}, \"p0\": 0}}], \"Count\": 2}}",
                names.join(", ")
            );
            let err = parse_records("f.json", &text).unwrap_err();
            assert_eq!(
                err.message, "the property \"p0\" is given twice (also as \"P0\") in record 2",
                "{size}"
            );
            let distinct = format!("{{{}}}", names.join(", "));
            assert_eq!(parse_records("f.json", &distinct).unwrap()[0].len(), size);
        }
        let err = parse_records("f.json", "[{\"A\": [{\"b\": {\"c\": 1, \"c\": 2}}]}]").unwrap_err();
        assert_eq!(
            err.message,
            "the property \"c\" is given twice in record 1, property A[0].b"
        );
    }

    #[test]
    fn broken_json_names_line_and_column() {
        let err = parse_records("f.json", "{\r\n    \"Name\":  \"x\",\r\n").unwrap_err();
        assert!(err.message.contains("cut off"), "{err}");
        assert!(
            matches!(err.position, Some(Position::LineColumn { line: 3, .. })),
            "{err:?}"
        );
        let err = parse_records("f.json", "   ").unwrap_err();
        assert!(err.message.contains("empty"));
        let err = parse_records("f.json", "[1]").unwrap_err();
        assert_eq!(err.position.unwrap().to_string(), "record 1");
    }

    #[test]
    fn flags_read_numbers_and_names() {
        let object = json!({"AuthMechanism": "Tls, Integrated", "Other": 31, "Bad": "Nope"});
        let map = object.as_object().unwrap();
        let record = Record::new("f", 0, map);
        let names = [("Tls", 1), ("Integrated", 2)];
        assert_eq!(record.flags("AuthMechanism", &names).unwrap(), Some(3));
        assert_eq!(record.flags("other", &names).unwrap(), Some(31));
        assert!(record.flags("Bad", &names).is_err());
    }

    #[test]
    fn type_names_are_recognised_as_truncation() {
        assert!(is_type_name(
            "System.Collections.Generic.List`1[Microsoft.Exchange.Data.SmtpDomainWithSubdomains]"
        ));
        assert!(is_type_name("Microsoft.Exchange.Data.Directory.ADObjectId"));
        assert!(!is_type_name("mail.contoso.com"));
        assert!(!is_type_name("Microsoft Exchange"));
    }
}
