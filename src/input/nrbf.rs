//! Reading .NET binary serialization (MS-NRBF, what `BinaryFormatter` writes), for the
//! `SerializationData` blob Exchange adds to the objects of a remote session. The CLIXML of
//! `Get-ExchangeCertificate` keeps only `RawData` in its `Props`; Exchange's own
//! `ExchangeCertificate`, with `Services`, `Status`, `RootCAType` and the certificate store
//! element (`CertData`) that says whether a private key is linked, is in this blob.
//!
//! The reader takes the records BinaryFormatter writes for such objects ([MS-NRBF] 2.1-2.7):
//! SerializationHeader, BinaryLibrary, ClassWithMembersAndTypes, SystemClassWithMembersAndTypes,
//! ClassWithMembers, SystemClassWithMembers, ClassWithId, BinaryObjectString, MemberReference,
//! MemberPrimitiveTyped, ObjectNull, ObjectNullMultiple(256), BinaryArray, ArraySinglePrimitive,
//! ArraySingleObject, ArraySingleString and MessageEnd. The method-call records (remoting) are
//! not in such blobs and are refused.
//!
//! The blob is hostile until read: counts and lengths are checked against what is left before
//! anything is allocated, records, elements and nesting are capped, and objects are kept in a
//! table by id, so references (cyclic ones included) are looked up, never followed
//! recursively. Every error carries the byte offset where the damage is.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use serde_json::{Map, Value as Json};

/// The most records one blob may hold. An Exchange certificate's blob holds about thirty.
const MAX_RECORDS: usize = 100_000;
/// The most array elements, over all arrays of a blob (a null run writes many in few bytes).
const MAX_ELEMENTS: usize = 1 << 20;
/// The deepest nesting of records written inline in one another. Exchange's blobs nest three.
const MAX_NESTING: usize = 32;
/// The longest string, in bytes.
const MAX_STRING: usize = 1 << 20;
/// The highest rank of a BinaryArray (.NET allows 32).
const MAX_RANK: i32 = 32;

/// What is wrong with a blob, and where: `offset` counts bytes from the start of the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.message)
    }
}

fn error(offset: usize, message: impl Into<String>) -> Error {
    Error {
        offset,
        message: message.into(),
    }
}

/// A value where a member or an array element is: a primitive, null, or an object of the
/// stream (written in place or referenced), by its id.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Byte, SByte, Int16-64, UInt16-32, and TimeSpan (its ticks).
    Int(i64),
    UInt(u64),
    /// Single and Double.
    Float(f64),
    Char(char),
    /// Decimal, as .NET writes it: text.
    Decimal(String),
    /// DateTime: the 64 bits .NET writes (ticks, and the kind in the top two).
    DateTime(u64),
    Object(i32),
}

/// The members of a class, shared by every object of it (ClassWithId names it by id).
#[derive(Debug, PartialEq)]
pub struct Layout {
    pub name: String,
    pub members: Vec<String>,
    /// The member types (the `...AndTypes` records); without them every value is a record.
    types: Option<Vec<MemberType>>,
}

/// An object of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Class(Class),
    String(String),
    /// An array of bytes, and where its first byte is in the blob.
    Bytes {
        start: usize,
        bytes: Vec<u8>,
    },
    /// Any other array, its elements in order (a rectangular array's row by row).
    Array(Vec<Value>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub layout: Rc<Layout>,
    /// Each member's value and the offset where it is written.
    pub values: Vec<(usize, Value)>,
}

impl Class {
    /// The value of the member `name`, and where it is written.
    pub fn member(&self, name: &str) -> Option<(usize, &Value)> {
        let index = self.layout.members.iter().position(|m| m == name)?;
        self.values.get(index).map(|(offset, value)| (*offset, value))
    }
}

/// An object and the offset of the record that holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub offset: usize,
    pub object: Object,
}

/// A whole stream: its objects by id, and the root the header names.
#[derive(Debug)]
pub struct Stream {
    pub root: i32,
    objects: HashMap<i32, Entry>,
}

impl Stream {
    /// Reads a stream from its SerializationHeader to its MessageEnd, which must end `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Stream, Error> {
        let mut parser = Parser {
            bytes,
            at: 0,
            records: 0,
            elements: 0,
            objects: HashMap::new(),
            layouts: HashMap::new(),
            libraries: HashMap::new(),
            references: Vec::new(),
            library_uses: Vec::new(),
        };
        let root = parser.header()?;
        loop {
            let start = parser.at;
            match parser.record_type()? {
                RecordType::MessageEnd => break,
                RecordType::BinaryLibrary => parser.library(start)?,
                record if record.is_object() => {
                    parser.object(record, start, 0)?;
                }
                record => {
                    return Err(error(
                        start,
                        format!("a record of type {record:?} where an object belongs"),
                    ))
                }
            }
        }
        if parser.at != bytes.len() {
            return Err(error(
                parser.at,
                format!("{} bytes after MessageEnd", bytes.len() - parser.at),
            ));
        }
        for (id, offset) in &parser.references {
            if !parser.objects.contains_key(id) {
                return Err(error(
                    *offset,
                    format!("a reference to object {id}, which the stream does not hold"),
                ));
            }
        }
        for (id, offset) in &parser.library_uses {
            if !parser.libraries.contains_key(id) {
                return Err(error(
                    *offset,
                    format!("library {id}, which no BinaryLibrary names"),
                ));
            }
        }
        if !parser.objects.contains_key(&root) {
            return Err(error(
                0,
                format!("the header names object {root} as the root, which the stream does not hold"),
            ));
        }
        Ok(Stream {
            root,
            objects: parser.objects,
        })
    }

    /// The object with the id `id`.
    pub fn get(&self, id: i32) -> Option<&Entry> {
        self.objects.get(&id)
    }

    /// The object a value is, if it is one.
    pub fn resolve(&self, value: &Value) -> Option<&Entry> {
        match value {
            Value::Object(id) => self.get(*id),
            _ => None,
        }
    }
}

/// The record types ([MS-NRBF] 2.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordType {
    SerializedStreamHeader,
    ClassWithId,
    SystemClassWithMembers,
    ClassWithMembers,
    SystemClassWithMembersAndTypes,
    ClassWithMembersAndTypes,
    BinaryObjectString,
    BinaryArray,
    MemberPrimitiveTyped,
    MemberReference,
    ObjectNull,
    MessageEnd,
    BinaryLibrary,
    ObjectNullMultiple256,
    ObjectNullMultiple,
    ArraySinglePrimitive,
    ArraySingleObject,
    ArraySingleString,
}

impl RecordType {
    fn from_byte(byte: u8) -> Option<Self> {
        use RecordType::*;
        Some(match byte {
            0 => SerializedStreamHeader,
            1 => ClassWithId,
            2 => SystemClassWithMembers,
            3 => ClassWithMembers,
            4 => SystemClassWithMembersAndTypes,
            5 => ClassWithMembersAndTypes,
            6 => BinaryObjectString,
            7 => BinaryArray,
            8 => MemberPrimitiveTyped,
            9 => MemberReference,
            10 => ObjectNull,
            11 => MessageEnd,
            12 => BinaryLibrary,
            13 => ObjectNullMultiple256,
            14 => ObjectNullMultiple,
            15 => ArraySinglePrimitive,
            16 => ArraySingleObject,
            17 => ArraySingleString,
            _ => return None,
        })
    }

    /// Whether the record is an object with an id of its own.
    fn is_object(self) -> bool {
        use RecordType::*;
        matches!(
            self,
            ClassWithId
                | SystemClassWithMembers
                | ClassWithMembers
                | SystemClassWithMembersAndTypes
                | ClassWithMembersAndTypes
                | BinaryObjectString
                | BinaryArray
                | ArraySinglePrimitive
                | ArraySingleObject
                | ArraySingleString
        )
    }
}

/// The primitive types ([MS-NRBF] 2.1.2.3); String and Null only name what a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Primitive {
    Boolean,
    Byte,
    Char,
    Decimal,
    Double,
    Int16,
    Int32,
    Int64,
    SByte,
    Single,
    TimeSpan,
    DateTime,
    UInt16,
    UInt32,
    UInt64,
}

impl Primitive {
    fn from_byte(byte: u8) -> Option<Self> {
        use Primitive::*;
        Some(match byte {
            1 => Boolean,
            2 => Byte,
            3 => Char,
            5 => Decimal,
            6 => Double,
            7 => Int16,
            8 => Int32,
            9 => Int64,
            10 => SByte,
            11 => Single,
            12 => TimeSpan,
            13 => DateTime,
            14 => UInt16,
            15 => UInt32,
            16 => UInt64,
            _ => return None,
        })
    }

    /// The fewest bytes a value takes (Char and Decimal take more for some values).
    fn min_size(self) -> usize {
        use Primitive::*;
        match self {
            Boolean | Byte | SByte | Char | Decimal => 1,
            Int16 | UInt16 => 2,
            Int32 | UInt32 | Single => 4,
            Int64 | UInt64 | Double | TimeSpan | DateTime => 8,
        }
    }
}

/// A member's type ([MS-NRBF] 2.1.2.2, with its additional information): only primitives are
/// written without a record, so only their type is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberType {
    Primitive(Primitive),
    Record,
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
    records: usize,
    elements: usize,
    objects: HashMap<i32, Entry>,
    /// Class layouts by the id of the object whose record defined them, for ClassWithId.
    layouts: HashMap<i32, Rc<Layout>>,
    libraries: HashMap<i32, String>,
    /// References and library ids seen, checked once the stream is read (they may point ahead).
    references: Vec<(i32, usize)>,
    library_uses: Vec<(i32, usize)>,
}

impl Parser<'_> {
    fn take(&mut self, count: usize, what: &str) -> Result<&[u8], Error> {
        let rest = self.bytes.len() - self.at;
        if count > rest {
            return Err(error(
                self.at,
                format!("the blob ends inside {what}: {count} bytes needed, {rest} left"),
            ));
        }
        let slice = &self.bytes[self.at..self.at + count];
        self.at += count;
        Ok(slice)
    }

    fn u8(&mut self, what: &str) -> Result<u8, Error> {
        Ok(self.take(1, what)?[0])
    }

    fn i32(&mut self, what: &str) -> Result<i32, Error> {
        let bytes = self.take(4, what)?;
        Ok(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// A count or length: an Int32 that must not be negative.
    fn count(&mut self, what: &str) -> Result<usize, Error> {
        let start = self.at;
        let n = self.i32(what)?;
        usize::try_from(n).map_err(|_| error(start, format!("{what} is negative ({n})")))
    }

    /// A LengthPrefixedString: a 7-bit encoded length (at most five bytes), then UTF-8.
    fn string(&mut self, what: &str) -> Result<String, Error> {
        let start = self.at;
        let mut length: u64 = 0;
        for shift in 0..5 {
            let byte = self.u8(what)?;
            length |= u64::from(byte & 0x7F) << (7 * shift);
            if byte & 0x80 == 0 {
                break;
            }
            if shift == 4 {
                return Err(error(
                    start,
                    format!("the length of {what} takes more than five bytes"),
                ));
            }
        }
        let length = usize::try_from(length).unwrap_or(usize::MAX);
        if length > MAX_STRING {
            return Err(error(
                start,
                format!("{what} is {length} bytes long, more than any blob holds"),
            ));
        }
        let at = self.at;
        let bytes = self.take(length, what)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|e| error(at + e.utf8_error().valid_up_to(), format!("{what} is not UTF-8")))
    }

    fn record_type(&mut self) -> Result<RecordType, Error> {
        let start = self.at;
        let byte = self.u8("a record")?;
        self.records += 1;
        if self.records > MAX_RECORDS {
            return Err(error(
                start,
                format!("more than {MAX_RECORDS} records: no Exchange blob holds so many"),
            ));
        }
        RecordType::from_byte(byte)
            .ok_or_else(|| error(start, format!("{byte} is not a record type this reader takes")))
    }

    fn header(&mut self) -> Result<i32, Error> {
        if self.record_type()? != RecordType::SerializedStreamHeader {
            return Err(error(
                0,
                "not a .NET binary serialization: it does not start with a SerializationHeader",
            ));
        }
        let root = self.i32("the header")?;
        self.i32("the header")?;
        let start = self.at;
        let (major, minor) = (self.i32("the header")?, self.i32("the header")?);
        if (major, minor) != (1, 0) {
            return Err(error(start, format!("version {major}.{minor}, not 1.0")));
        }
        Ok(root)
    }

    fn library(&mut self, start: usize) -> Result<(), Error> {
        let id = self.i32("a BinaryLibrary")?;
        let name = self.string("a library name")?;
        if self.libraries.insert(id, name).is_some() {
            return Err(error(start, format!("library {id} is named twice")));
        }
        Ok(())
    }

    fn primitive_type(&mut self) -> Result<Primitive, Error> {
        let start = self.at;
        let byte = self.u8("a primitive type")?;
        Primitive::from_byte(byte)
            .ok_or_else(|| error(start, format!("{byte} is not a primitive type a value can have")))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, "a primitive value")?);
        Ok(out)
    }

    /// A primitive value, written without a record.
    fn primitive(&mut self, kind: Primitive) -> Result<Value, Error> {
        use Primitive::*;
        let start = self.at;
        Ok(match kind {
            Boolean => match self.fixed::<1>()?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                other => return Err(error(start, format!("{other} is not a boolean (0 or 1)"))),
            },
            Byte => Value::Int(i64::from(self.fixed::<1>()?[0])),
            SByte => Value::Int(i64::from(i8::from_le_bytes(self.fixed()?))),
            Int16 => Value::Int(i64::from(i16::from_le_bytes(self.fixed()?))),
            UInt16 => Value::Int(i64::from(u16::from_le_bytes(self.fixed()?))),
            Int32 => Value::Int(i64::from(i32::from_le_bytes(self.fixed()?))),
            UInt32 => Value::Int(i64::from(u32::from_le_bytes(self.fixed()?))),
            Int64 | TimeSpan => Value::Int(i64::from_le_bytes(self.fixed()?)),
            UInt64 => Value::UInt(u64::from_le_bytes(self.fixed()?)),
            Single => Value::Float(f64::from(f32::from_le_bytes(self.fixed()?))),
            Double => Value::Float(f64::from_le_bytes(self.fixed()?)),
            DateTime => Value::DateTime(u64::from_le_bytes(self.fixed()?)),
            Decimal => Value::Decimal(self.string("a Decimal")?),
            Char => {
                let first = self.fixed::<1>()?[0];
                let length = match first {
                    0x00..=0x7F => 1,
                    0xC0..=0xDF => 2,
                    0xE0..=0xEF => 3,
                    0xF0..=0xF7 => 4,
                    _ => return Err(error(start, "a Char that is not UTF-8")),
                };
                let mut bytes = vec![first];
                bytes.extend_from_slice(self.take(length - 1, "a Char")?);
                let text =
                    std::str::from_utf8(&bytes).map_err(|_| error(start, "a Char that is not UTF-8"))?;
                Value::Char(text.chars().next().unwrap_or_default())
            }
        })
    }

    /// The member types of a `...AndTypes` record: the binary types, then each one's extra.
    fn member_types(&mut self, count: usize) -> Result<Vec<MemberType>, Error> {
        let start = self.at;
        let kinds = self.take(count, "the member types")?.to_vec();
        let mut types = Vec::with_capacity(count);
        for (index, kind) in kinds.into_iter().enumerate() {
            types.push(match kind {
                0 => MemberType::Primitive(self.primitive_type()?),
                // String, Object, an array of objects or of strings: no extra.
                1 | 2 | 5 | 6 => MemberType::Record,
                // A system class: its name.
                3 => {
                    self.string("a class name")?;
                    MemberType::Record
                }
                // A class: its name and its library.
                4 => {
                    self.string("a class name")?;
                    let at = self.at;
                    let library = self.i32("a library id")?;
                    self.library_uses.push((library, at));
                    MemberType::Record
                }
                // An array of primitives: their type.
                7 => {
                    self.primitive_type()?;
                    MemberType::Record
                }
                other => return Err(error(start + index, format!("{other} is not a member type"))),
            });
        }
        Ok(types)
    }

    /// Registers an object under its id; ids are unique.
    fn register(&mut self, id: i32, entry: Entry) -> Result<Value, Error> {
        let offset = entry.offset;
        if self.objects.insert(id, entry).is_some() {
            return Err(error(offset, format!("object id {id} is given twice")));
        }
        Ok(Value::Object(id))
    }

    /// An object record (its type byte read, at `start`), at nesting `depth`.
    fn object(&mut self, record: RecordType, start: usize, depth: usize) -> Result<Value, Error> {
        if depth > MAX_NESTING {
            return Err(error(
                start,
                format!("records nested deeper than {MAX_NESTING} levels"),
            ));
        }
        use RecordType::*;
        match record {
            BinaryObjectString => {
                let id = self.i32("a BinaryObjectString")?;
                let text = self.string("a string")?;
                self.register(
                    id,
                    Entry {
                        offset: start,
                        object: Object::String(text),
                    },
                )
            }
            ClassWithId => {
                let id = self.i32("a ClassWithId")?;
                let at = self.at;
                let metadata = self.i32("a ClassWithId")?;
                let layout = self.layouts.get(&metadata).cloned().ok_or_else(|| {
                    error(
                        at,
                        format!("ClassWithId names class {metadata}, which no record before it defines"),
                    )
                })?;
                self.class(id, layout, start, depth)
            }
            SystemClassWithMembers
            | ClassWithMembers
            | SystemClassWithMembersAndTypes
            | ClassWithMembersAndTypes => {
                let id = self.i32("a class record")?;
                let name = self.string("a class name")?;
                let count = self.count("the member count")?;
                // Every member name takes at least a byte: a count beyond what is left is damage.
                if count > self.bytes.len() - self.at {
                    return Err(error(
                        self.at - 4,
                        format!("{count} members, more than the blob has bytes left"),
                    ));
                }
                let mut members = Vec::with_capacity(count);
                for _ in 0..count {
                    members.push(self.string("a member name")?);
                }
                let types = match record {
                    SystemClassWithMembersAndTypes | ClassWithMembersAndTypes => {
                        Some(self.member_types(count)?)
                    }
                    _ => None,
                };
                if matches!(record, ClassWithMembers | ClassWithMembersAndTypes) {
                    let at = self.at;
                    let library = self.i32("a library id")?;
                    self.library_uses.push((library, at));
                }
                let layout = Rc::new(Layout { name, members, types });
                if self.layouts.insert(id, Rc::clone(&layout)).is_some() {
                    return Err(error(start, format!("object id {id} is given twice")));
                }
                self.class(id, layout, start, depth)
            }
            ArraySinglePrimitive => {
                let id = self.i32("an array")?;
                let length = self.count("the array length")?;
                let kind = self.primitive_type()?;
                let lengths = [length];
                self.primitive_array(id, &lengths, kind, start)
            }
            ArraySingleObject | ArraySingleString => {
                let id = self.i32("an array")?;
                let length = self.count("the array length")?;
                self.record_array(id, length, start, depth)
            }
            BinaryArray => self.binary_array(start, depth),
            other => Err(error(
                start,
                format!("a record of type {other:?} where an object belongs"),
            )),
        }
    }

    fn class(&mut self, id: i32, layout: Rc<Layout>, start: usize, depth: usize) -> Result<Value, Error> {
        let mut values = Vec::with_capacity(layout.members.len());
        for index in 0..layout.members.len() {
            let at = self.at;
            let value = match layout.types.as_ref().map(|types| types[index]) {
                Some(MemberType::Primitive(kind)) => self.primitive(kind)?,
                Some(MemberType::Record) | None => self.value(depth + 1)?,
            };
            values.push((at, value));
        }
        self.register(
            id,
            Entry {
                offset: start,
                object: Object::Class(Class { layout, values }),
            },
        )
    }

    /// A value written as a record (a member that is not a primitive, an array element):
    /// BinaryLibrary records may come first.
    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        loop {
            let start = self.at;
            let record = self.record_type()?;
            match record {
                RecordType::BinaryLibrary => self.library(start)?,
                RecordType::ObjectNull => return Ok(Value::Null),
                RecordType::MemberReference => {
                    let id = self.i32("a MemberReference")?;
                    self.references.push((id, start));
                    return Ok(Value::Object(id));
                }
                RecordType::MemberPrimitiveTyped => {
                    let kind = self.primitive_type()?;
                    return self.primitive(kind);
                }
                record if record.is_object() => return self.object(record, start, depth),
                other => {
                    return Err(error(
                        start,
                        format!("a record of type {other:?} where a value belongs"),
                    ))
                }
            }
        }
    }

    /// Takes `count` elements from the allowance over all arrays.
    fn elements(&mut self, count: usize, at: usize) -> Result<(), Error> {
        self.elements = self.elements.saturating_add(count);
        if self.elements > MAX_ELEMENTS {
            return Err(error(
                at,
                format!("more than {MAX_ELEMENTS} array elements: no Exchange blob holds so many"),
            ));
        }
        Ok(())
    }

    fn primitive_array(
        &mut self,
        id: i32,
        lengths: &[usize],
        kind: Primitive,
        start: usize,
    ) -> Result<Value, Error> {
        let count = lengths
            .iter()
            .try_fold(1usize, |n, l| n.checked_mul(*l))
            .unwrap_or(usize::MAX);
        let left = self.bytes.len() - self.at;
        if count.saturating_mul(kind.min_size()) > left {
            return Err(error(
                self.at,
                format!("the blob ends inside an array: {count} values of {kind:?} do not fit in the {left} bytes left"),
            ));
        }
        let object = if kind == Primitive::Byte {
            let at = self.at;
            Object::Bytes {
                start: at,
                bytes: self.take(count, "an array")?.to_vec(),
            }
        } else {
            self.elements(count, start)?;
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                items.push(self.primitive(kind)?);
            }
            Object::Array(items)
        };
        self.register(
            id,
            Entry {
                offset: start,
                object,
            },
        )
    }

    /// An array whose elements are records, where runs of nulls (ObjectNullMultiple) count
    /// for as many elements.
    fn record_array(&mut self, id: i32, count: usize, start: usize, depth: usize) -> Result<Value, Error> {
        self.elements(count, start)?;
        let mut items = Vec::with_capacity(count.min(self.bytes.len() - self.at));
        while items.len() < count {
            let at = self.at;
            let nulls = match self.bytes.get(at).copied().and_then(RecordType::from_byte) {
                Some(RecordType::ObjectNullMultiple256) => {
                    self.record_type()?;
                    usize::from(self.u8("an ObjectNullMultiple256")?)
                }
                Some(RecordType::ObjectNullMultiple) => {
                    self.record_type()?;
                    self.count("an ObjectNullMultiple")?
                }
                _ => {
                    items.push(self.value(depth + 1)?);
                    continue;
                }
            };
            if nulls == 0 || nulls > count - items.len() {
                return Err(error(
                    at,
                    format!(
                        "a run of {nulls} nulls where {} elements are left",
                        count - items.len()
                    ),
                ));
            }
            items.resize(items.len() + nulls, Value::Null);
        }
        self.register(
            id,
            Entry {
                offset: start,
                object: Object::Array(items),
            },
        )
    }

    fn binary_array(&mut self, start: usize, depth: usize) -> Result<Value, Error> {
        let id = self.i32("a BinaryArray")?;
        let at = self.at;
        let shape = self.u8("a BinaryArray")?;
        if shape > 5 {
            return Err(error(at, format!("{shape} is not an array shape")));
        }
        let at = self.at;
        let rank = self.i32("a BinaryArray")?;
        if !(1..=MAX_RANK).contains(&rank) {
            return Err(error(at, format!("an array of rank {rank}")));
        }
        let mut lengths = Vec::new();
        for _ in 0..rank {
            lengths.push(self.count("an array length")?);
        }
        // SingleOffset, JaggedOffset and RectangularOffset give the lower bounds.
        if shape >= 3 {
            for _ in 0..rank {
                self.i32("an array lower bound")?;
            }
        }
        let element = self.member_types(1)?[0];
        let count = lengths.iter().try_fold(1usize, |n, l| n.checked_mul(*l));
        let count = count.ok_or_else(|| error(at, "the array lengths multiply beyond any size"))?;
        match element {
            MemberType::Primitive(kind) => self.primitive_array(id, &lengths, kind, start),
            MemberType::Record => self.record_array(id, count, start, depth),
        }
    }
}

// What Exchange's blob says about a certificate.

/// The type whose serialization Get-ExchangeCertificate's SerializationData holds.
pub const EXCHANGE_CERTIFICATE: &str =
    "Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate";

/// `#sig#`, the start of a blob signed by Exchange's serialization payload signing (on by
/// default since the November 2023 security update): then the length of the stream (UInt32),
/// the stream, and the signature, which only the server's Auth certificate can check.
const SIGNED: &[u8] = b"#sig#";

/// The certificate store element property ids ([MS-GPEF]/wincrypt.h) read from CertData.
const CERT_KEY_PROV_INFO_PROP_ID: u32 = 2;
const CERT_KEY_CONTEXT_PROP_ID: u32 = 5;
const CERT_FRIENDLY_NAME_PROP_ID: u32 = 11;
const CERT_CERT_PROP_ID: u32 = 32;

/// Reads the SerializationData of a Get-ExchangeCertificate object into the properties the
/// JSON export of the same object has, by the same names: `Services`, `Status`, `RootCAType`
/// (numbers), `IsSelfSigned`, `PrivateKeyExportable`, `Identity`, and from `CertData` (the
/// certificate store element) `HasPrivateKey` and `FriendlyName`. A member the blob does not
/// have, or that is null, gives no property: what is not in the data stays unknown.
/// `raw_data` is the object's RawData: the certificate in CertData must be the same one.
pub fn exchange_certificate_properties(
    blob: &[u8],
    raw_data: Option<&[u8]>,
) -> Result<Map<String, Json>, Error> {
    let (base, stream) = match blob.strip_prefix(SIGNED) {
        Some(rest) => {
            let length = rest
                .get(..4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or_else(|| {
                    error(
                        SIGNED.len(),
                        "the signed blob ends before the length of its stream",
                    )
                })?;
            let base = SIGNED.len() + 4;
            let stream = blob.get(base..base.saturating_add(length)).ok_or_else(|| {
                error(
                    SIGNED.len(),
                    format!(
                        "the signed blob says its stream is {length} bytes, but {} follow",
                        blob.len() - base
                    ),
                )
            })?;
            (base, stream)
        }
        None => (0, blob),
    };
    let shift = |e: Error| error(base + e.offset, e.message);
    let parsed = Stream::parse(stream).map_err(shift)?;
    certificate(&parsed, raw_data).map_err(shift)
}

fn certificate(stream: &Stream, raw_data: Option<&[u8]>) -> Result<Map<String, Json>, Error> {
    let root = stream
        .get(stream.root)
        .ok_or_else(|| error(0, "no root object"))?;
    let Object::Class(class) = &root.object else {
        return Err(error(root.offset, "the root object is not a class"));
    };
    if class.layout.name != EXCHANGE_CERTIFICATE {
        return Err(error(
            root.offset,
            format!(
                "the blob holds a {}, not a {EXCHANGE_CERTIFICATE}",
                class.layout.name
            ),
        ));
    }
    let mut properties = Map::new();
    for (member, property) in [
        ("Services", "Services"),
        ("Status", "Status"),
        ("RootCAType", "RootCAType"),
    ] {
        if let Some(number) = enum_member(stream, class, member)? {
            properties.insert(property.to_owned(), Json::from(number));
        }
    }
    for (member, property) in [
        ("SelfSigned", "IsSelfSigned"),
        ("PrivateKeyExportable", "PrivateKeyExportable"),
    ] {
        match class.member(member) {
            None | Some((_, Value::Null)) => {}
            Some((_, Value::Bool(value))) => {
                properties.insert(property.to_owned(), Json::Bool(*value));
            }
            Some((offset, _)) => return Err(error(offset, format!("{member} is not a boolean"))),
        }
    }
    match class
        .member("Identity")
        .map(|(offset, value)| (offset, value, stream.resolve(value)))
    {
        None | Some((_, Value::Null, _)) => {}
        Some((
            _,
            _,
            Some(Entry {
                object: Object::String(text),
                ..
            }),
        )) => {
            properties.insert("Identity".to_owned(), Json::String(text.clone()));
        }
        Some((offset, _, _)) => return Err(error(offset, "Identity is not a string")),
    }
    match class
        .member("CertData")
        .map(|(offset, value)| (offset, value, stream.resolve(value)))
    {
        None | Some((_, Value::Null, _)) => {}
        Some((
            _,
            _,
            Some(Entry {
                object: Object::Bytes { start, bytes },
                ..
            }),
        )) => {
            let element = store_element(bytes).map_err(|e| error(start + e.offset, e.message))?;
            if let Some(raw) = raw_data {
                if raw != element.certificate.as_slice() {
                    return Err(error(
                        *start,
                        "CertData holds another certificate than RawData: the export mixes two certificates or was edited",
                    ));
                }
            }
            properties.insert("HasPrivateKey".to_owned(), Json::Bool(element.has_private_key));
            if let Some(name) = element.friendly_name {
                properties.insert("FriendlyName".to_owned(), Json::String(name));
            }
        }
        Some((offset, _, _)) => return Err(error(offset, "CertData is not a byte array")),
    }
    Ok(properties)
}

/// An enum member: a class record with the one member `value__`, as BinaryFormatter writes an
/// enum (or, from another writer, the number itself).
fn enum_member(stream: &Stream, class: &Class, member: &str) -> Result<Option<u64>, Error> {
    let Some((offset, value)) = class.member(member) else {
        return Ok(None);
    };
    let number = match (value, stream.resolve(value)) {
        (Value::Null, _) => return Ok(None),
        (Value::Int(n), _) => Some(*n),
        (
            _,
            Some(Entry {
                object: Object::Class(inner),
                ..
            }),
        ) => match inner.member("value__") {
            Some((_, Value::Int(n))) => Some(*n),
            _ => None,
        },
        _ => None,
    };
    number
        .and_then(|n| u64::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| error(offset, format!("{member} is not an enum value")))
}

/// What a serialized certificate store element (`X509ContentType.SerializedCert`, what
/// CertSerializeCertificateStoreElement writes) says.
struct StoreElement {
    certificate: Vec<u8>,
    /// Whether the key provider property is there. Windows answers `HasPrivateKey` from the
    /// same property (CertGetCertificateContextProperty with CERT_KEY_PROV_INFO_PROP_ID), so
    /// its absence from a complete element is the server's own `false`, not missing data. It
    /// says a key was linked when exported, not that the key file still exists.
    has_private_key: bool,
    friendly_name: Option<String>,
}

/// The element is a run of properties, each `{u32 id, u32 encoding, u32 length, bytes}`, the
/// certificate itself (id 32) among them.
fn store_element(bytes: &[u8]) -> Result<StoreElement, Error> {
    let (mut at, mut certificate, mut has_private_key, mut friendly_name) = (0, None, false, None);
    let word = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| error(at, "CertData ends inside a property header"))
    };
    while at < bytes.len() {
        let (id, length) = (word(at)?, word(at + 8)? as usize);
        let value = bytes.get(at + 12..at + 12 + length).ok_or_else(|| {
            error(
                at + 8,
                format!(
                    "a CertData property of {length} bytes, where {} are left",
                    bytes.len() - at - 12
                ),
            )
        })?;
        match id {
            CERT_CERT_PROP_ID if certificate.is_some() => {
                return Err(error(at, "CertData holds two certificates"));
            }
            CERT_CERT_PROP_ID => certificate = Some(value.to_vec()),
            CERT_KEY_PROV_INFO_PROP_ID | CERT_KEY_CONTEXT_PROP_ID => has_private_key = true,
            CERT_FRIENDLY_NAME_PROP_ID => {
                let units: Vec<u16> = value
                    .chunks_exact(2)
                    .map(|u| u16::from_le_bytes([u[0], u[1]]))
                    .collect();
                let name = String::from_utf16(&units)
                    .map_err(|_| error(at + 12, "the friendly name is not UTF-16"))?
                    .trim_end_matches('\0')
                    .to_owned();
                friendly_name = Some(name).filter(|n| !n.is_empty());
            }
            _ => {}
        }
        at += 12 + length;
    }
    let certificate =
        certificate.ok_or_else(|| error(bytes.len(), "CertData holds no certificate (property 32)"))?;
    Ok(StoreElement {
        certificate,
        has_private_key,
        friendly_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of a stream, written record by record as [MS-NRBF] lays them out.
    #[derive(Default)]
    struct W(Vec<u8>);

    impl W {
        fn u8(mut self, byte: u8) -> Self {
            self.0.push(byte);
            self
        }
        fn i32(mut self, n: i32) -> Self {
            self.0.extend_from_slice(&n.to_le_bytes());
            self
        }
        fn raw(mut self, bytes: &[u8]) -> Self {
            self.0.extend_from_slice(bytes);
            self
        }
        /// A LengthPrefixedString.
        fn s(mut self, text: &str) -> Self {
            let mut n = text.len();
            loop {
                let byte = (n & 0x7F) as u8;
                n >>= 7;
                self.0.push(if n > 0 { byte | 0x80 } else { byte });
                if n == 0 {
                    break;
                }
            }
            self.0.extend_from_slice(text.as_bytes());
            self
        }
        /// SerializationHeader with root `root`, version 1.0.
        fn header(root: i32) -> Self {
            W::default().u8(0).i32(root).i32(-1).i32(1).i32(0)
        }
        fn library(self, id: i32, name: &str) -> Self {
            self.u8(12).i32(id).s(name)
        }
        /// The start of a ClassWithMembersAndTypes: id, name, member names.
        fn class(self, id: i32, name: &str, members: &[&str]) -> Self {
            let mut w = self.u8(5).i32(id).s(name).i32(members.len() as i32);
            for member in members {
                w = w.s(member);
            }
            w
        }
        fn end(self) -> Vec<u8> {
            self.u8(11).0
        }
    }

    fn parse(bytes: &[u8]) -> Stream {
        Stream::parse(bytes).unwrap_or_else(|e| panic!("{e}"))
    }

    fn class(stream: &Stream, id: i32) -> &Class {
        match &stream.get(id).unwrap().object {
            Object::Class(class) => class,
            other => panic!("{other:?}"),
        }
    }

    fn fails(bytes: &[u8], offset: usize, message: &str) {
        let err = Stream::parse(bytes).unwrap_err();
        assert!(err.message.contains(message), "{err}, expected {message:?}");
        assert_eq!(err.offset, offset, "{err}");
    }

    #[test]
    fn a_class_with_members_and_types_reads_every_primitive() {
        let names = [
            "b", "y", "c", "d", "f", "i16", "i32", "i64", "sb", "g", "ts", "dt", "u16", "u32", "u64",
        ];
        let mut w = W::header(1).library(2, "Lib").class(1, "C", &names);
        w = w.raw(&[0; 15]);
        for kind in [1u8, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] {
            w = w.u8(kind);
        }
        let w = w.i32(2);
        let values_at = w.0.len();
        let bytes = w
            .u8(1)
            .u8(200)
            .raw("é".as_bytes())
            .s("1.5")
            .raw(&0.25f64.to_le_bytes())
            .raw(&(-2i16).to_le_bytes())
            .i32(-3)
            .raw(&(-4i64).to_le_bytes())
            .u8(0xFB)
            .raw(&0.5f32.to_le_bytes())
            .raw(&600_000_000i64.to_le_bytes())
            .raw(&7u64.to_le_bytes())
            .raw(&8u16.to_le_bytes())
            .raw(&9u32.to_le_bytes())
            .raw(&u64::MAX.to_le_bytes())
            .end();
        let stream = parse(&bytes);
        let class = class(&stream, 1);
        assert_eq!(class.layout.name, "C");
        let values: Vec<&Value> = class.values.iter().map(|(_, v)| v).collect();
        assert_eq!(
            values,
            [
                &Value::Bool(true),
                &Value::Int(200),
                &Value::Char('é'),
                &Value::Decimal("1.5".into()),
                &Value::Float(0.25),
                &Value::Int(-2),
                &Value::Int(-3),
                &Value::Int(-4),
                &Value::Int(-5),
                &Value::Float(0.5),
                &Value::Int(600_000_000),
                &Value::DateTime(7),
                &Value::Int(8),
                &Value::Int(9),
                &Value::UInt(u64::MAX),
            ]
        );
        // Each member knows where its value is written.
        // Bool 1, Byte 1, the Char 2, the Decimal 4, Double 8, Int16 2.
        assert_eq!(class.member("i32").unwrap().0, values_at + 18);
    }

    #[test]
    fn system_classes_and_classes_without_types_read_their_members_as_records() {
        // SystemClassWithMembersAndTypes: a string member (a BinaryObjectString in place).
        let bytes = W::header(1)
            .u8(4)
            .i32(1)
            .s("System.Version")
            .i32(2)
            .s("_Name")
            .s("_Major")
            .u8(1)
            .u8(0)
            .u8(8)
            .u8(6)
            .i32(2)
            .s("v")
            .i32(4)
            .end();
        let stream = parse(&bytes);
        let version = class(&stream, 1);
        let (_, name) = version.member("_Name").unwrap();
        assert_eq!(stream.resolve(name).unwrap().object, Object::String("v".into()));
        assert_eq!(version.member("_Major").unwrap().1, &Value::Int(4));
        // SystemClassWithMembers and ClassWithMembers: no types, every value a record
        // (MemberPrimitiveTyped for a primitive).
        let bytes = W::header(1)
            .library(3, "Lib")
            .u8(3)
            .i32(1)
            .s("C")
            .i32(2)
            .s("a")
            .s("b")
            .i32(3)
            .u8(8)
            .u8(8)
            .i32(42)
            .u8(2)
            .i32(2)
            .s("S")
            .i32(1)
            .s("x")
            .u8(10)
            .end();
        let stream = parse(&bytes);
        assert_eq!(class(&stream, 1).member("a").unwrap().1, &Value::Int(42));
        let (_, inner) = class(&stream, 1).member("b").unwrap();
        assert_eq!(inner, &Value::Object(2));
        assert_eq!(class(&stream, 2).member("x").unwrap().1, &Value::Null);
    }

    /// The shape of Exchange's enums: a class record with the one member value__, the next
    /// object of the same class a ClassWithId naming it.
    fn enum_pair() -> W {
        W::header(1)
            .library(2, "Lib")
            .class(1, "Pair", &["x", "y"])
            .u8(4)
            .u8(4)
            .s("E")
            .i32(2)
            .s("E")
            .i32(2)
            .i32(2)
            .class(-3, "E", &["value__"])
            .u8(0)
            .u8(8)
            .i32(2)
            .i32(16)
            .u8(1)
            .i32(-4)
            .i32(-3)
            .i32(27)
    }

    #[test]
    fn class_with_id_reuses_an_earlier_class() {
        let stream = parse(&enum_pair().end());
        assert_eq!(class(&stream, -3).member("value__").unwrap().1, &Value::Int(16));
        let second = class(&stream, -4);
        assert_eq!(second.layout.name, "E");
        assert_eq!(second.member("value__").unwrap().1, &Value::Int(27));
        // A ClassWithId naming no earlier class.
        let bytes = W::header(1).u8(1).i32(1).i32(9).end();
        fails(&bytes, 22, "which no record before it defines");
    }

    #[test]
    fn strings_references_and_nulls() {
        // A reference may point ahead; a cycle (1 -> 2 -> 1) is read, never followed.
        let bytes = W::header(1)
            .library(2, "Lib")
            .class(1, "Node", &["next", "name"])
            .u8(2)
            .u8(1)
            .i32(2)
            .u8(9)
            .i32(3)
            .u8(6)
            .i32(4)
            .s("first")
            .u8(1)
            .i32(3)
            .i32(1)
            .u8(9)
            .i32(1)
            .u8(10)
            .end();
        let stream = parse(&bytes);
        let second = class(&stream, 3);
        assert_eq!(second.member("next").unwrap().1, &Value::Object(1));
        assert_eq!(second.member("name").unwrap().1, &Value::Null);
        let (_, name) = class(&stream, 1).member("name").unwrap();
        assert_eq!(
            stream.resolve(name).unwrap().object,
            Object::String("first".into())
        );
        // A reference to nothing names the reference's offset.
        let bytes = W::header(1)
            .library(2, "Lib")
            .class(1, "C", &["a"])
            .u8(2)
            .i32(2)
            .u8(9)
            .i32(7)
            .end();
        fails(
            &bytes,
            bytes.len() - 6,
            "object 7, which the stream does not hold",
        );
        // A string that is not UTF-8, and one longer than the blob.
        let bytes = W::header(1).u8(6).i32(1).u8(2).raw(&[0x61, 0xFF]).end();
        fails(&bytes, 24, "not UTF-8");
        let bytes = W::header(1).u8(6).i32(1).u8(0x7F).raw(b"ab").end();
        fails(&bytes, 23, "the blob ends inside a string");
        let bytes = W::header(1).u8(6).i32(1).raw(&[0xFF; 5]).end();
        fails(&bytes, 22, "more than five bytes");
        let bytes = W::header(1).u8(6).i32(1).raw(&[0xFF, 0xFF, 0xFF, 0x7F]).end();
        fails(&bytes, 22, "more than any blob holds");
    }

    #[test]
    fn single_arrays_of_primitives_objects_and_strings() {
        let bytes = W::header(1)
            .u8(16)
            .i32(1)
            .i32(6)
            .u8(6)
            .i32(2)
            .s("a")
            .u8(13)
            .u8(2)
            .u8(8)
            .u8(8)
            .i32(5)
            .u8(14)
            .i32(2)
            .u8(17)
            .i32(3)
            .i32(2)
            .u8(9)
            .i32(2)
            .u8(10)
            .u8(15)
            .i32(4)
            .i32(3)
            .u8(2)
            .raw(&[1, 2, 3])
            .u8(15)
            .i32(5)
            .i32(2)
            .u8(7)
            .raw(&[0xFF, 0xFF, 2, 0])
            .end();
        let stream = parse(&bytes);
        assert_eq!(
            stream.get(1).unwrap().object,
            Object::Array(vec![
                Value::Object(2),
                Value::Null,
                Value::Null,
                Value::Int(5),
                Value::Null,
                Value::Null
            ])
        );
        assert_eq!(
            stream.get(3).unwrap().object,
            Object::Array(vec![Value::Object(2), Value::Null])
        );
        assert_eq!(
            stream.get(4).unwrap().object,
            Object::Bytes {
                start: 71,
                bytes: vec![1, 2, 3]
            }
        );
        assert_eq!(
            stream.get(5).unwrap().object,
            Object::Array(vec![Value::Int(-1), Value::Int(2)])
        );
        // A run of nulls longer than what is left of the array.
        let bytes = W::header(1).u8(16).i32(1).i32(2).u8(13).u8(3).end();
        fails(&bytes, 26, "a run of 3 nulls where 2 elements are left");
        // A length the blob cannot hold is refused before anything is allocated.
        let bytes = W::header(1).u8(15).i32(1).i32(i32::MAX).u8(9).end();
        fails(&bytes, 27, "do not fit");
        let bytes = W::header(1).u8(16).i32(1).i32(i32::MAX).end();
        fails(&bytes, 17, "more than 1048576 array elements");
        let bytes = W::header(1).u8(16).i32(1).i32(-1).end();
        fails(&bytes, 22, "the array length is negative");
    }

    #[test]
    fn binary_arrays_single_rectangular_and_jagged() {
        // The shape of IISServices' items: a single array of class elements, a null run.
        let bytes = W::header(1)
            .library(2, "Lib")
            .u8(7)
            .i32(1)
            .u8(0)
            .i32(1)
            .i32(3)
            .u8(4)
            .s("Item")
            .i32(2)
            .u8(9)
            .i32(5)
            .u8(13)
            .u8(2)
            .u8(6)
            .i32(5)
            .s("x")
            .end();
        let stream = parse(&bytes);
        assert_eq!(
            stream.get(1).unwrap().object,
            Object::Array(vec![Value::Object(5), Value::Null, Value::Null])
        );
        // Rectangular 2 x 2 of Int32, with lower bounds (RectangularOffset).
        let bytes = W::header(1)
            .u8(7)
            .i32(1)
            .u8(5)
            .i32(2)
            .i32(2)
            .i32(2)
            .i32(1)
            .i32(1)
            .u8(0)
            .u8(8)
            .i32(1)
            .i32(2)
            .i32(3)
            .i32(4)
            .end();
        assert_eq!(
            parse(&bytes).get(1).unwrap().object,
            Object::Array((1..=4).map(Value::Int).collect())
        );
        // Jagged: elements that are arrays, here one in place and a null.
        let bytes = W::header(1)
            .u8(7)
            .i32(1)
            .u8(1)
            .i32(1)
            .i32(2)
            .u8(7)
            .u8(2)
            .u8(15)
            .i32(2)
            .i32(1)
            .u8(2)
            .u8(9)
            .u8(10)
            .end();
        let stream = parse(&bytes);
        assert_eq!(
            stream.get(1).unwrap().object,
            Object::Array(vec![Value::Object(2), Value::Null])
        );
        assert_eq!(
            stream.get(2).unwrap().object,
            Object::Bytes {
                start: 43,
                bytes: vec![9]
            }
        );
        // A rank past .NET's, and a shape that is none.
        fails(&W::header(1).u8(7).i32(1).u8(0).i32(33).end(), 23, "rank 33");
        fails(&W::header(1).u8(7).i32(1).u8(6).end(), 22, "not an array shape");
        let lengths = W::header(1)
            .u8(7)
            .i32(1)
            .u8(2)
            .i32(3)
            .i32(1 << 30)
            .i32(1 << 30)
            .i32(1 << 30);
        fails(&lengths.u8(2).end(), 23, "multiply beyond any size");
    }

    #[test]
    fn the_stream_must_be_whole() {
        // No MessageEnd: the offset is the end of the blob.
        let bytes = W::header(1).u8(6).i32(1).s("a").0;
        fails(&bytes, bytes.len(), "the blob ends inside a record");
        let mut bytes = W::header(1).u8(6).i32(1).s("a").end();
        bytes.push(0);
        fails(&bytes, bytes.len() - 1, "1 bytes after MessageEnd");
        fails(&[1, 2, 3], 0, "does not start with a SerializationHeader");
        fails(
            &W::default().u8(0).i32(1).i32(-1).i32(2).i32(0).end(),
            9,
            "version 2.0",
        );
        fails(&W::header(1).end(), 0, "names object 1 as the root");
        fails(
            &W::header(1).u8(9).i32(1).end(),
            17,
            "a record of type MemberReference where an object belongs",
        );
        fails(&W::header(1).u8(21).end(), 17, "21 is not a record type");
        let twice = W::header(1).u8(6).i32(1).s("a").u8(6).i32(1).s("b").end();
        fails(&twice, 24, "object id 1 is given twice");
        let libraries = W::header(1).library(2, "a").library(2, "b").end();
        fails(&libraries, 24, "library 2 is named twice");
        let unnamed = W::header(1).class(1, "C", &[]).i32(9).end();
        fails(&unnamed, 28, "library 9, which no BinaryLibrary names");
        let boolean = W::header(1)
            .library(2, "L")
            .class(1, "C", &["b"])
            .u8(0)
            .u8(1)
            .i32(2)
            .u8(2)
            .end();
        fails(&boolean, boolean.len() - 2, "2 is not a boolean");
        let kind = W::header(1)
            .library(2, "L")
            .class(1, "C", &["b"])
            .u8(0)
            .u8(18)
            .end();
        fails(&kind, kind.len() - 2, "18 is not a primitive type");
        let member = W::header(1).library(2, "L").class(1, "C", &["b"]).u8(9).end();
        fails(&member, member.len() - 2, "9 is not a member type");
        let members = W::header(1).u8(5).i32(1).s("C").i32(1000).end();
        fails(&members, 24, "1000 members");
    }

    #[test]
    fn nesting_and_record_counts_are_capped() {
        // Classes each holding the next in place, deeper than the cap: an error, not a
        // stack overflow.
        let mut w = W::header(1).library(2, "L");
        for id in 1..=40 {
            w = w.u8(3).i32(id).s("C").i32(1).s("m").i32(2);
        }
        // Header 17 bytes, library 7, each class 17: the 34th is one level too deep.
        fails(&w.u8(10).end(), 24 + 17 * 33, "nested deeper than 32");
        // A stream of more records than the cap.
        let mut bytes = W::header(1).u8(16).i32(1).i32(MAX_ELEMENTS as i32).0;
        bytes.extend(std::iter::repeat_n(10u8, MAX_RECORDS));
        bytes.push(11);
        fails(&bytes, 26 + MAX_RECORDS - 2, "more than 100000 records");
    }

    /// A minimal ExchangeCertificate as Exchange writes it, its CertData a store element
    /// with the properties `properties`, the members after CertData as `rest` writes them.
    fn certificate(properties: &[(u32, &[u8])], signed: bool) -> Vec<u8> {
        let mut element = Vec::new();
        for (id, value) in properties {
            element.extend_from_slice(&id.to_le_bytes());
            element.extend_from_slice(&1u32.to_le_bytes());
            element.extend_from_slice(&(value.len() as u32).to_le_bytes());
            element.extend_from_slice(value);
        }
        let status = "Microsoft.Exchange.Management.SystemConfigurationTasks.CertificateStatus";
        let stream = W::header(1)
            .library(2, "Microsoft.Exchange.Management")
            .class(
                1,
                EXCHANGE_CERTIFICATE,
                &["CertData", "SelfSigned", "Status", "Identity"],
            )
            .u8(7)
            .u8(0)
            .u8(4)
            .u8(1)
            .u8(2)
            .u8(1)
            .s(status)
            .i32(2)
            .i32(2)
            .u8(9)
            .i32(3)
            .u8(1)
            .class(-4, status, &["value__"])
            .u8(0)
            .u8(8)
            .i32(2)
            .i32(1)
            .u8(6)
            .i32(5)
            .s("EX01.contoso.lab\\AB")
            .u8(15)
            .i32(3)
            .i32(element.len() as i32)
            .u8(2)
            .raw(&element)
            .end();
        if !signed {
            return stream;
        }
        let mut blob = b"#sig#".to_vec();
        blob.extend_from_slice(&(stream.len() as u32).to_le_bytes());
        blob.extend_from_slice(&stream);
        blob.extend_from_slice(&[0xAA; 32]);
        blob
    }

    #[test]
    fn an_exchange_certificate_gives_the_properties_of_the_json_export() {
        let name: Vec<u8> = "Mail\0".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let blob = certificate(&[(11, &name), (2, b"key"), (32, b"DER")], false);
        let properties = exchange_certificate_properties(&blob, Some(b"DER")).unwrap();
        assert_eq!(
            Json::Object(properties),
            serde_json::json!({
                "Status": 1, "IsSelfSigned": true, "Identity": "EX01.contoso.lab\\AB",
                "HasPrivateKey": true, "FriendlyName": "Mail"
            })
        );
        // Services, RootCAType and PrivateKeyExportable are not in this blob: unknown, not
        // false or 0. A complete store element without the key provider is the server's false.
        let blob = certificate(&[(32, b"DER")], true);
        let properties = exchange_certificate_properties(&blob, None).unwrap();
        assert_eq!(properties.get("HasPrivateKey"), Some(&Json::Bool(false)));
        for absent in ["Services", "RootCAType", "PrivateKeyExportable", "FriendlyName"] {
            assert!(!properties.contains_key(absent), "{absent}");
        }
    }

    #[test]
    fn a_certificate_blob_that_says_something_else_is_an_error_with_its_offset() {
        let blob = certificate(&[(32, b"DER")], false);
        let err = exchange_certificate_properties(&blob, Some(b"OTHER")).unwrap_err();
        assert!(err.message.contains("another certificate than RawData"), "{err}");
        assert_eq!(err.offset, blob.len() - 1 - 15);
        // Offsets in a signed blob count from the start of the blob.
        let blob = certificate(&[(32, b"DER"), (2, b"")], true);
        let cut = &blob[..blob.len() - 40];
        let err = exchange_certificate_properties(cut, None).unwrap_err();
        assert!(
            err.message.contains("the signed blob says its stream is"),
            "{err}"
        );
        let mut damaged = blob.clone();
        damaged[9] = 7;
        assert_eq!(
            exchange_certificate_properties(&damaged, None)
                .unwrap_err()
                .offset,
            9
        );
        // CertData without the certificate, or cut inside a property.
        let err = exchange_certificate_properties(&certificate(&[(2, b"k")], false), None).unwrap_err();
        assert!(err.message.contains("holds no certificate"), "{err}");
        let mut element = certificate(&[(32, b"DER")], false);
        let at = element.len() - 1 - 3 - 4;
        element[at] = 9;
        let err = exchange_certificate_properties(&element, None).unwrap_err();
        assert!(err.message.contains("a CertData property of 9 bytes"), "{err}");
        assert_eq!(err.offset, at);
        // Another class than ExchangeCertificate.
        let other = W::header(1)
            .library(2, "L")
            .class(1, "Microsoft.Exchange.Data.Fqdn", &[])
            .i32(2)
            .end();
        let err = exchange_certificate_properties(&other, None).unwrap_err();
        assert!(
            err.message
                .contains("holds a Microsoft.Exchange.Data.Fqdn, not a Microsoft"),
            "{err}"
        );
        assert_eq!(err.offset, 24);
    }
}
