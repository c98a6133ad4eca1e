//! Reading CLIXML, what `Export-Clixml` writes (the PowerShell serialization format, MS-PSRP
//! 2.2.5), into the same values the JSON path gives the readers: an object (`Obj` with `Props`
//! and `MS`) becomes a JSON object of its properties, an enum (`Obj` with `ToString` and `I32`)
//! its number, a list (`LST`, `IE`, `STK`, `QUE`) an array, a dictionary (`DCT`) an object, a
//! date (`DT`) its ISO 8601 text, a byte array (`BA`) its base64, an object with nothing but its
//! `ToString` (one past `-Depth`) that text, as `ConvertTo-Json` writes it. So every reader and
//! the recognition of exports work on CLIXML unchanged.
//!
//! The input is hostile until read: no DTD (so no entity expansion), a cap on the nodes, on the
//! nesting, and on what references (`Ref`) may copy, and a `Ref` may only name an object that
//! is complete before it, so a reference loop is an error, never a hang.
//!
//! Get-ExchangeCertificate's objects keep only `RawData` in their `Props`; what Exchange knows
//! of them (`Services`, `Status`, the key) is in their `SerializationData`, read by
//! [`super::nrbf`] into the properties a JSON export has.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use roxmltree::{Document, Node, ParsingOptions};
use serde_json::{Map, Number, Value};

use super::nrbf;
use crate::error::{InputError, Position};

/// The namespace of every CLIXML document (`<Objs Version="1.1.0.1" xmlns="...">`).
const NAMESPACE: &str = "http://schemas.microsoft.com/powershell/2004/04";

/// The deepest nesting of values read. An Exchange export at `-Depth 6` nests about a dozen
/// values; a document nested deeper is damage or an attack on the stack.
const MAX_DEPTH: usize = 64;

/// The most XML nodes one document may have: a server's exports have tens of thousands, and
/// each node costs memory before any check can look at it.
const MAX_NODES: u32 = 8_000_000;

/// What references may copy, in values, beyond the document's own size: a chain of objects
/// that each reference the one before twice doubles at every step.
const REFERENCE_ALLOWANCE: usize = 1_000_000;

const HINT: &str = "export again with `Export-Clixml` and copy the whole file, or give the JSON written by `hybridtls collect`";

/// Whether `text` is a CLIXML document: its root element is `Objs` in PowerShell's namespace.
/// Only the start is looked at, so a document cut off or damaged further on is still CLIXML,
/// and is read (and refused with the position of the damage), not skipped.
pub fn is_clixml(text: &str) -> bool {
    let mut rest = text.trim_start();
    // An XML declaration or comments may come first.
    while rest.starts_with("<?") || rest.starts_with("<!--") {
        let end = if rest.starts_with("<?") { "?>" } else { "-->" };
        match rest.find(end) {
            Some(at) => rest = rest[at + end.len()..].trim_start(),
            None => return false,
        }
    }
    let start_tag = &rest[..rest.find('>').unwrap_or(rest.len())];
    start_tag.starts_with("<Objs") && start_tag.contains(NAMESPACE)
}

/// Parses a whole CLIXML export into its objects, as [`super::psjson::parse_records`] does for
/// JSON: each top-level object is a record; a top-level list (`Export-Clixml -InputObject
/// @(...)`) is its items.
pub fn parse_records(file: &str, text: &str) -> Result<Vec<Map<String, Value>>, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::new(file, "the file is empty").hint(
            "Export-Clixml writes an empty Objs element when the command before it returned no objects; check the command's output",
        ));
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let document = Document::parse_with_options(text, options).map_err(|e| {
        let position = e.pos();
        InputError::new(
            file,
            format!("not well-formed XML: {}", without_position(&e.to_string())),
        )
        .at(Position::LineColumn {
            line: position.row as usize,
            column: position.col as usize,
        })
        .hint(HINT)
    })?;
    let mut reader = Reader {
        file,
        document: &document,
        objects: HashMap::new(),
        open: HashSet::new(),
        types: HashSet::new(),
        certificate_types: HashSet::new(),
        allowance: REFERENCE_ALLOWANCE + text.len() / 4,
    };
    let root = document.root_element();
    if root.tag_name().name() != "Objs" || root.tag_name().namespace() != Some(NAMESPACE) {
        return Err(reader.error(
            root,
            format!(
                "not CLIXML: the root element is <{}>, not PowerShell's <Objs>",
                root.tag_name().name()
            ),
        ));
    }
    let mut records = Vec::new();
    for node in root.children().filter(Node::is_element) {
        let value = reader.value(node, 1)?.value;
        let items = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for item in items {
            match item {
                Value::Object(map) => records.push(map),
                other => {
                    return Err(reader.error(
                        node,
                        format!("expected an object, found {}", super::psjson::kind_of(&other)),
                    ))
                }
            }
        }
    }
    Ok(records)
}

/// roxmltree ends its messages with " at LINE:COLUMN"; the position is reported separately.
fn without_position(message: &str) -> &str {
    match message.rsplit_once(" at ") {
        Some((head, tail))
            if tail.split_once(':').is_some_and(|(line, column)| {
                !line.is_empty()
                    && !column.is_empty()
                    && line.bytes().all(|b| b.is_ascii_digit())
                    && column.bytes().all(|b| b.is_ascii_digit())
            }) =>
        {
            head
        }
        _ => message,
    }
}

/// A value read, with its nesting height and size in values: what a reference to it costs.
struct Read {
    value: Value,
    height: usize,
    size: usize,
}

impl Read {
    fn leaf(value: Value) -> Self {
        Read {
            value,
            height: 0,
            size: 1,
        }
    }
}

struct Reader<'a, 'input> {
    file: &'a str,
    document: &'a Document<'input>,
    /// Every complete object with a `RefId`, for the `Ref`s after it.
    objects: HashMap<String, Read>,
    /// The `RefId`s of the objects being read: a `Ref` to one of them is a loop.
    open: HashSet<String>,
    /// The `RefId`s of the type name lists (`TN`), for the `TNRef`s after them.
    types: HashSet<String>,
    /// The `RefId`s of those that name Exchange's certificate type.
    certificate_types: HashSet<String>,
    /// What references may still copy, in values.
    allowance: usize,
}

impl Reader<'_, '_> {
    fn error(&self, node: Node, message: impl Into<String>) -> InputError {
        let position = self.document.text_pos_at(node.range().start);
        InputError::new(self.file, message)
            .at(Position::LineColumn {
                line: position.row as usize,
                column: position.col as usize,
            })
            .hint(HINT)
    }

    fn ref_id<'n>(&self, node: Node<'n, '_>) -> Result<&'n str, InputError> {
        node.attribute("RefId").ok_or_else(|| {
            self.error(
                node,
                format!("<{}> without the RefId it refers to", node.tag_name().name()),
            )
        })
    }

    /// The text of a primitive element, `_xHHHH_` escapes decoded. A primitive holds no
    /// elements: one that does is damage, not a value to guess at.
    fn text(&self, node: Node) -> Result<String, InputError> {
        if node.children().any(|child| child.is_element()) {
            return Err(self.error(
                node,
                format!(
                    "<{}> holds elements where a value belongs",
                    node.tag_name().name()
                ),
            ));
        }
        let text: String = node
            .children()
            .filter(Node::is_text)
            .filter_map(|child| child.text())
            .collect();
        decode_escapes(&text).map_err(|message| self.error(node, message))
    }

    /// One value element at nesting `depth`.
    fn value(&mut self, node: Node, depth: usize) -> Result<Read, InputError> {
        if depth > MAX_DEPTH {
            return Err(self.error(
                node,
                format!("values nested deeper than {MAX_DEPTH} levels: no export nests so deep"),
            ));
        }
        let name = node.tag_name().name();
        let number = |text: &str| -> Option<Value> {
            let text = text.trim();
            match name {
                "U64" | "U32" | "U16" | "By" => text.parse::<u64>().ok().map(Value::from),
                // XML Schema writes infinity as INF, which Rust does not parse; JSON has no
                // number for it or NaN, so those stay text, as no reader takes them.
                "Db" | "Sg" | "D" => match text {
                    "INF" | "-INF" => Some(Value::String(text.to_owned())),
                    _ => text.parse::<f64>().ok().map(|n| {
                        Number::from_f64(n).map_or_else(|| Value::String(text.to_owned()), Value::Number)
                    }),
                },
                _ => text.parse::<i64>().ok().map(Value::from),
            }
        };
        Ok(match name {
            "Nil" => Read::leaf(Value::Null),
            // Texts: a string, and what JSON also writes as a string (a date as ISO 8601, as
            // PowerShell 7 does; a GUID, URI, version, duration, XML, script block).
            "S" | "DT" | "G" | "URI" | "Version" | "TS" | "XD" | "SBK" | "SS" => {
                Read::leaf(Value::String(self.text(node)?))
            }
            "BA" => Read::leaf(Value::String(self.text(node)?.trim().to_owned())),
            "B" => match self.text(node)?.trim() {
                "true" => Read::leaf(Value::Bool(true)),
                "false" => Read::leaf(Value::Bool(false)),
                other => return Err(self.error(node, format!("{other:?} is not a boolean (true or false)"))),
            },
            "C" => {
                let text = self.text(node)?;
                let character = text
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| self.error(node, format!("{text:?} is not a character code")))?;
                Read::leaf(Value::String(character.to_string()))
            }
            "I32" | "I64" | "I16" | "SB" | "U64" | "U32" | "U16" | "By" | "Db" | "Sg" | "D" => {
                let text = self.text(node)?;
                Read::leaf(
                    number(&text).ok_or_else(|| {
                        self.error(node, format!("{text:?} is not a number of type {name}"))
                    })?,
                )
            }
            "Ref" => {
                let id = self.ref_id(node)?;
                let Some(object) = self.objects.get(id) else {
                    let why = if self.open.contains(id) {
                        "an object that holds this reference: a reference loop"
                    } else {
                        "no object before it"
                    };
                    return Err(self.error(node, format!("Ref to RefId {id:?}, which is {why}")));
                };
                if depth + object.height > MAX_DEPTH {
                    return Err(self.error(
                        node,
                        format!("the reference nests values deeper than {MAX_DEPTH} levels"),
                    ));
                }
                if object.size > self.allowance {
                    return Err(self.error(
                        node,
                        "the references copy more values than the file holds many times over: damage or an attack, not an export",
                    ));
                }
                self.allowance -= object.size;
                Read {
                    value: object.value.clone(),
                    height: object.height,
                    size: object.size,
                }
            }
            "Obj" => self.object(node, depth)?,
            "LST" | "IE" | "STK" | "QUE" => self.list(node, depth)?,
            "DCT" => self.dictionary(node, depth)?,
            other => return Err(self.error(node, format!("<{other}> is not a CLIXML value element"))),
        })
    }

    fn list(&mut self, node: Node, depth: usize) -> Result<Read, InputError> {
        let mut items = Vec::new();
        let (mut height, mut size) = (0, 1);
        for child in node.children().filter(Node::is_element) {
            let item = self.value(child, depth + 1)?;
            height = height.max(item.height + 1);
            size += item.size;
            items.push(item.value);
        }
        Ok(Read {
            value: Value::Array(items),
            height,
            size,
        })
    }

    /// A dictionary: `En` entries of a `Key` and a `Value`; keys are read as text.
    fn dictionary(&mut self, node: Node, depth: usize) -> Result<Read, InputError> {
        let mut map = Map::new();
        let (mut height, mut size) = (0, 1);
        for entry in node.children().filter(Node::is_element) {
            if entry.tag_name().name() != "En" {
                return Err(self.error(entry, "a dictionary entry that is not <En>"));
            }
            let part = |key: &str| {
                entry
                    .children()
                    .find(|child| child.is_element() && child.attribute("N") == Some(key))
            };
            let (Some(key), Some(value)) = (part("Key"), part("Value")) else {
                return Err(self.error(entry, "a dictionary entry without its Key and Value"));
            };
            let key = match self.value(key, depth + 1)?.value {
                Value::String(text) => text,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(self.error(
                        key,
                        format!(
                            "a dictionary key that is {}, not text",
                            super::psjson::kind_of(&other)
                        ),
                    ))
                }
            };
            let value = self.value(value, depth + 1)?;
            height = height.max(value.height + 1);
            size += value.size;
            map.entry(key).or_insert(value.value);
        }
        Ok(Read {
            value: Value::Object(map),
            height,
            size,
        })
    }

    /// An `Obj`: a collection is its items (as ConvertTo-Json writes any IEnumerable), an enum
    /// or a wrapped primitive its value, an object with properties those (`Props` first, then
    /// the extended ones in `MS`; the first of a name wins), and an object with only its
    /// `ToString` that text.
    fn object(&mut self, node: Node, depth: usize) -> Result<Read, InputError> {
        let id = node.attribute("RefId");
        if let Some(id) = id {
            if self.objects.contains_key(id) || !self.open.insert(id.to_owned()) {
                return Err(self.error(node, format!("RefId {id:?} is given to two objects")));
            }
        }
        let read = self.object_value(node, depth)?;
        if let Some(id) = id {
            self.open.remove(id);
            self.objects.insert(
                id.to_owned(),
                Read {
                    value: read.value.clone(),
                    height: read.height,
                    size: read.size,
                },
            );
        }
        Ok(read)
    }

    fn object_value(&mut self, node: Node, depth: usize) -> Result<Read, InputError> {
        let mut collection: Option<Read> = None;
        let mut primitive: Option<Read> = None;
        let mut properties = Map::new();
        let (mut height, mut size, mut any_properties) = (0, 1, false);
        let mut to_string: Option<String> = None;
        let (mut certificate, mut serialization_data) = (false, None);
        for child in node.children().filter(Node::is_element) {
            match child.tag_name().name() {
                "TN" => {
                    // Exchange's type, `Deserialized.` before it where the client did not rebuild it.
                    certificate = child.children().any(|t| {
                        t.text().is_some_and(|t| {
                            t.trim_start_matches("Deserialized.") == nrbf::EXCHANGE_CERTIFICATE
                        })
                    });
                    if let Some(id) = child.attribute("RefId") {
                        self.types.insert(id.to_owned());
                        if certificate {
                            self.certificate_types.insert(id.to_owned());
                        }
                    }
                }
                "TNRef" => {
                    let id = self.ref_id(child)?;
                    if !self.types.contains(id) {
                        return Err(self.error(
                            child,
                            format!("TNRef to RefId {id:?}, which no TN before it defines"),
                        ));
                    }
                    certificate = self.certificate_types.contains(id);
                }
                "ToString" => to_string = Some(self.text(child)?),
                "Props" | "MS" => {
                    any_properties = true;
                    for property in child.children().filter(Node::is_element) {
                        let Some(name) = property.attribute("N") else {
                            return Err(self.error(property, "a property without its name (N)"));
                        };
                        let name = decode_escapes(name).map_err(|message| self.error(property, message))?;
                        if name == "SerializationData" {
                            serialization_data.get_or_insert(property);
                        }
                        let value = self.value(property, depth + 1)?;
                        height = height.max(value.height + 1);
                        size += value.size;
                        properties.entry(name).or_insert(value.value);
                    }
                }
                "LST" | "IE" | "STK" | "QUE" | "DCT" => {
                    let items = self.value(child, depth)?;
                    collection.get_or_insert(items);
                }
                "Obj" | "Ref" => {
                    return Err(self.error(
                        child,
                        "an object inside an object outside its Props, MS or a list",
                    ));
                }
                _ => {
                    let value = self.value(child, depth)?;
                    primitive.get_or_insert(value);
                }
            }
        }
        if let Some(read) = collection.or(primitive) {
            return Ok(read);
        }
        if any_properties {
            if let (true, Some(blob)) = (certificate, serialization_data) {
                self.certificate_blob(blob, &mut properties)?;
            }
            return Ok(Read {
                value: Value::Object(properties),
                height,
                size,
            });
        }
        Ok(Read::leaf(
            to_string.map_or_else(|| Value::Object(Map::new()), Value::String),
        ))
    }
}

impl Reader<'_, '_> {
    /// Adds what the SerializationData of a Get-ExchangeCertificate object says to its
    /// properties. The blob is what Exchange serialized on the server, so its facts replace
    /// what a client may have rebuilt (a plain certificate's `HasPrivateKey` false).
    fn certificate_blob(&self, node: Node, properties: &mut Map<String, Value>) -> Result<(), InputError> {
        let Some(Value::String(text)) = properties.get("SerializationData") else {
            return Ok(());
        };
        let blob = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| self.error(node, format!("SerializationData is not valid base64: {e}")))?;
        let raw_data = match properties.get("RawData") {
            Some(Value::String(raw)) => base64::engine::general_purpose::STANDARD.decode(raw).ok(),
            _ => None,
        };
        let facts = nrbf::exchange_certificate_properties(&blob, raw_data.as_deref()).map_err(|e| {
            self.error(
                node,
                format!(
                    "SerializationData, Exchange's serialization of the certificate, byte {} of the blob: {}",
                    e.offset, e.message
                ),
            )
        })?;
        properties.extend(facts);
        Ok(())
    }
}

/// Decodes the `_xHHHH_` escapes PowerShell writes for characters XML cannot hold (control
/// characters such as `_x000D_`, and `_x005F_` for an `_` that would start one), UTF-16 code
/// units that pair into characters above U+FFFF. An unpaired surrogate is no text: an error.
pub fn decode_escapes(text: &str) -> Result<String, String> {
    if !text.contains("_x") {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut units: Vec<u16> = Vec::new();
    let flush = |units: &mut Vec<u16>, out: &mut String| -> Result<(), String> {
        for decoded in char::decode_utf16(units.drain(..)) {
            out.push(decoded.map_err(|e| {
                format!(
                    "the escape _x{:04X}_ is half of a character (an unpaired surrogate)",
                    e.unpaired_surrogate()
                )
            })?);
        }
        Ok(())
    };
    let mut rest = text;
    while let Some(at) = rest.find("_x") {
        let escape = rest[at + 2..]
            .get(..5)
            .filter(|e| e.ends_with('_') && e[..4].bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|e| u16::from_str_radix(&e[..4], 16).ok());
        match escape {
            Some(unit) => {
                if at > 0 {
                    flush(&mut units, &mut out)?;
                    out.push_str(&rest[..at]);
                }
                units.push(unit);
                rest = &rest[at + 7..];
            }
            None => {
                flush(&mut units, &mut out)?;
                out.push_str(&rest[..at + 2]);
                rest = &rest[at + 2..];
            }
        }
    }
    flush(&mut units, &mut out)?;
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records(body: &str) -> Result<Vec<Map<String, Value>>, InputError> {
        parse_records(
            "t.xml",
            &format!(r#"<Objs Version="1.1.0.1" xmlns="{NAMESPACE}">{body}</Objs>"#),
        )
    }

    #[test]
    fn escapes_decode_as_powershell_writes_them() {
        assert_eq!(decode_escapes("a_x000D__x000A_b").unwrap(), "a\r\nb");
        assert_eq!(decode_escapes("y_x005F_x").unwrap(), "y_x");
        assert_eq!(decode_escapes("_xD83D__xDE00_").unwrap(), "\u{1F600}");
        assert_eq!(decode_escapes("_x00e9_t_x").unwrap(), "ét_x");
        assert_eq!(decode_escapes("a_x12_b_xZZZZ_").unwrap(), "a_x12_b_xZZZZ_");
        assert!(decode_escapes("_xD83D_a").unwrap_err().contains("unpaired"));
    }

    #[test]
    fn the_object_graph_becomes_the_json_shape() {
        let body = r#"
          <Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN>
            <MS>
              <S N="A">x_x000D__x000A_y</S>
              <Obj N="E" RefId="1"><TN RefId="1"><T>System.DayOfWeek</T><T>System.Enum</T></TN><ToString>Monday</ToString><I32>1</I32></Obj>
              <Obj N="L" RefId="2"><TNRef RefId="0" /><LST><I32>1</I32><S>a</S><Nil /></LST></Obj>
              <Obj N="H" RefId="3"><TNRef RefId="0" /><DCT><En><S N="Key">k</S><I32 N="Value">1</I32></En></DCT></Obj>
              <DT N="D">2027-01-02T03:04:05+00:00</DT>
              <BA N="R">AAEC</BA>
              <B N="F">false</B>
              <Db N="X">0.5</Db>
              <Db N="Inf">-INF</Db>
              <Obj N="Size" RefId="4"><TNRef RefId="0" /><ToString>256 KB (262,144 bytes)</ToString></Obj>
              <Obj N="Fqdn" RefId="5"><TNRef RefId="0" /><ToString>ex1.contoso.com</ToString><Props><S N="Domain">ex1.contoso.com</S></Props></Obj>
              <Ref N="Again" RefId="5" />
              <Nil N="TlsCertificateName" />
            </MS>
          </Obj>"#;
        let records = records(body).unwrap();
        assert_eq!(
            Value::Object(records[0].clone()),
            json!({
                "A": "x\r\ny", "E": 1, "L": [1, "a", null], "H": {"k": 1},
                "D": "2027-01-02T03:04:05+00:00", "R": "AAEC", "F": false, "X": 0.5, "Inf": "-INF",
                "Size": "256 KB (262,144 bytes)", "Fqdn": {"Domain": "ex1.contoso.com"},
                "Again": {"Domain": "ex1.contoso.com"}, "TlsCertificateName": null
            })
        );
        // A top-level list is its items.
        let list = records_of(
            r#"<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T></TN><LST><Obj RefId="1"><MS><S N="Name">a</S></MS></Obj><Obj RefId="2"><MS><S N="Name">b</S></MS></Obj></LST></Obj>"#,
        );
        assert_eq!(list.len(), 2);
    }

    fn records_of(body: &str) -> Vec<Map<String, Value>> {
        records(body).unwrap()
    }

    #[test]
    fn damage_is_an_error_with_a_position() {
        let cases = [
            (
                r#"<Obj RefId="0"><MS><Ref N="Me" RefId="0" /></MS></Obj>"#,
                "loop",
            ),
            (
                r#"<Obj RefId="0"><MS><Ref N="X" RefId="9" /></MS></Obj>"#,
                "no object before it",
            ),
            (r#"<Obj RefId="0"><TNRef RefId="3" /></Obj>"#, "no TN"),
            (
                r#"<Obj RefId="0"><MS><I32 N="X">x</I32></MS></Obj>"#,
                "not a number",
            ),
            (
                r#"<Obj RefId="0"><MS><B N="X">yes</B></MS></Obj>"#,
                "not a boolean",
            ),
            (
                r#"<Obj RefId="0"><MS><S>no name</S></MS></Obj>"#,
                "without its name",
            ),
            (
                r#"<Obj RefId="0"><MS><Blob N="X" /></MS></Obj>"#,
                "not a CLIXML value",
            ),
            (
                r#"<Obj RefId="0"><MS><S N="X">_xDC00_</S></MS></Obj>"#,
                "unpaired",
            ),
            (r#"<Obj RefId="0" /><Obj RefId="0" />"#, "two objects"),
            (r#"<S>text</S>"#, "expected an object"),
            (r#"<Obj RefId="0"><MS><S N="X">cut"#, "not well-formed"),
        ];
        for (body, expected) in cases {
            let err = records(body).unwrap_err();
            assert!(err.message.contains(expected), "{body}: {err}");
            assert!(
                matches!(err.position, Some(Position::LineColumn { .. })),
                "{body}: {err}"
            );
        }
        let dtd = format!(r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><Objs xmlns="{NAMESPACE}"><S>&a;</S></Objs>"#);
        assert!(parse_records("t.xml", &dtd).unwrap_err().message.contains("DTD"));
        let deep = format!("{}{}", r#"<Obj RefId="0"><LST>"#, "<LST>".repeat(100));
        assert!(records(&deep).unwrap_err().message.contains("not well-formed"));
        let deep = format!(
            r#"<Obj RefId="0"><LST>{}{}</LST></Obj>"#,
            "<LST>".repeat(100),
            "</LST>".repeat(100)
        );
        assert!(records(&deep).unwrap_err().message.contains("deeper than"));
    }

    #[test]
    fn references_that_double_at_every_step_are_refused() {
        let mut body =
            String::from(r#"<Obj RefId="top"><MS><Obj N="p0" RefId="0"><LST><S>x</S><S>x</S></LST></Obj>"#);
        for id in 1..40 {
            body.push_str(&format!(
                r#"<Obj N="p{id}" RefId="{id}"><LST><Ref RefId="{0}" /><Ref RefId="{0}" /></LST></Obj>"#,
                id - 1
            ));
        }
        body.push_str("</MS></Obj>");
        let err = records(&body).unwrap_err();
        assert!(err.message.contains("copy more values"), "{err}");
    }

    #[test]
    fn clixml_is_told_by_its_root() {
        assert!(is_clixml(&format!(
            "<?xml version=\"1.0\"?>\r\n<Objs Version=\"1.1.0.1\" xmlns=\"{NAMESPACE}\">"
        )));
        assert!(is_clixml(&format!(
            "<Objs Version=\"1.1.0.1\" xmlns=\"{NAMESPACE}\"><Obj"
        )));
        assert!(!is_clixml("<configuration><appSettings/></configuration>"));
        assert!(!is_clixml("<?xml version=\"1.0\""));
        assert!(!is_clixml(&format!("<Objs x{}", "é".repeat(300))));
    }
}
