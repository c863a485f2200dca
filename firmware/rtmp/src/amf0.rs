//! AMF0 (Action Message Format, version 0): the values RTMP commands and
//! FLV script data are written in.
//!
//! Encoding never fails. Decoding never panics, whatever the bytes: it
//! stops at [`MAX_DEPTH`] levels of nesting and [`MAX_VALUES`] values in
//! one call, so a hostile peer cannot make it recurse or allocate without
//! bound (every value also costs at least one input byte, and the input
//! is itself bounded by the chunk reader's message limit).

use thiserror::Error;

/// Objects and arrays nested deeper than this are refused.
pub const MAX_DEPTH: usize = 16;
/// Values (counting every property and element) one decode call accepts.
pub const MAX_VALUES: usize = 4096;

const NUMBER: u8 = 0x00;
const BOOLEAN: u8 = 0x01;
const STRING: u8 = 0x02;
const OBJECT: u8 = 0x03;
const NULL: u8 = 0x05;
const UNDEFINED: u8 = 0x06;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: u8 = 0x09;
const STRICT_ARRAY: u8 = 0x0A;
const LONG_STRING: u8 = 0x0C;

/// One AMF0 value. Objects and ECMA arrays keep their properties in
/// order, as they were written.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf0Value {
    Number(f64),
    Boolean(bool),
    /// A string or a long string: which one is chosen by length when
    /// encoding.
    String(String),
    Object(Vec<(String, Amf0Value)>),
    Null,
    Undefined,
    EcmaArray(Vec<(String, Amf0Value)>),
    StrictArray(Vec<Amf0Value>),
}

/// Why bytes are not AMF0 we can read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmfError {
    #[error("AMF0 value cut short")]
    Truncated,
    #[error("AMF0 type marker 0x{0:02x} is not one we read")]
    UnsupportedMarker(u8),
    #[error("AMF0 values nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("more than {MAX_VALUES} AMF0 values in one message")]
    TooMany,
    #[error("AMF0 string is not UTF-8")]
    NotUtf8,
}

impl Amf0Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Amf0Value {
        Amf0Value::String(s.into())
    }

    /// An object from `(name, value)` pairs.
    pub fn object<'a>(props: impl IntoIterator<Item = (&'a str, Amf0Value)>) -> Amf0Value {
        Amf0Value::Object(props.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Amf0Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// A property of an object or ECMA array, by name (the first one).
    pub fn get(&self, name: &str) -> Option<&Amf0Value> {
        match self {
            Amf0Value::Object(props) | Amf0Value::EcmaArray(props) => {
                props.iter().find(|(k, _)| k == name).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// Appends the value's encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Amf0Value::Number(n) => {
                out.push(NUMBER);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Amf0Value::Boolean(b) => {
                out.push(BOOLEAN);
                out.push(u8::from(*b));
            }
            Amf0Value::String(s) => match u16::try_from(s.len()) {
                Ok(len) => {
                    out.push(STRING);
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
                Err(_) => {
                    out.push(LONG_STRING);
                    // Longer than 4 GiB cannot be sent; cut rather than lie
                    // about the length.
                    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(&s.as_bytes()[..len as usize]);
                }
            },
            Amf0Value::Object(props) => {
                out.push(OBJECT);
                encode_properties(props, out);
            }
            Amf0Value::Null => out.push(NULL),
            Amf0Value::Undefined => out.push(UNDEFINED),
            Amf0Value::EcmaArray(props) => {
                out.push(ECMA_ARRAY);
                let count = u32::try_from(props.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&count.to_be_bytes());
                encode_properties(props, out);
            }
            Amf0Value::StrictArray(items) => {
                out.push(STRICT_ARRAY);
                let count = u32::try_from(items.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&count.to_be_bytes());
                for item in items.iter().take(count as usize) {
                    item.encode(out);
                }
            }
        }
    }
}

/// Encodes values one after another (a command: name, transaction,
/// arguments).
pub fn encode_all(values: &[Amf0Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for value in values {
        value.encode(&mut out);
    }
    out
}

fn encode_properties(props: &[(String, Amf0Value)], out: &mut Vec<u8>) {
    for (name, value) in props {
        encode_name(name, out);
        value.encode(out);
    }
    out.extend_from_slice(&[0, 0, OBJECT_END]);
}

/// A property name: a string without its marker, at most 65535 bytes.
fn encode_name(name: &str, out: &mut Vec<u8>) {
    let bytes = &name.as_bytes()[..name.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Decodes every value in `bytes`, in order.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    let mut reader = Reader {
        rest: bytes,
        values: 0,
    };
    let mut values = Vec::new();
    while !reader.rest.is_empty() {
        values.push(reader.value(0)?);
    }
    Ok(values)
}

struct Reader<'a> {
    rest: &'a [u8],
    values: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], AmfError> {
        if self.rest.len() < n {
            return Err(AmfError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, AmfError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, AmfError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, AmfError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn text(&mut self, len: usize) -> Result<String, AmfError> {
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| AmfError::NotUtf8)
    }

    fn count(&mut self) -> Result<(), AmfError> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(AmfError::TooMany);
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Amf0Value, AmfError> {
        self.count()?;
        let marker = self.u8()?;
        Ok(match marker {
            NUMBER => {
                let b = self.take(8)?;
                let mut raw = [0u8; 8];
                raw.copy_from_slice(b);
                Amf0Value::Number(f64::from_be_bytes(raw))
            }
            BOOLEAN => Amf0Value::Boolean(self.u8()? != 0),
            STRING => {
                let len = usize::from(self.u16()?);
                Amf0Value::String(self.text(len)?)
            }
            LONG_STRING => {
                let len = self.u32()? as usize;
                Amf0Value::String(self.text(len)?)
            }
            OBJECT => Amf0Value::Object(self.properties(depth)?),
            // An ECMA array's count is a hint only: the end marker ends it.
            ECMA_ARRAY => {
                self.u32()?;
                Amf0Value::EcmaArray(self.properties(depth)?)
            }
            STRICT_ARRAY => {
                if depth + 1 > MAX_DEPTH {
                    return Err(AmfError::TooDeep);
                }
                let count = self.u32()? as usize;
                // Each element takes at least one byte: a count beyond the
                // bytes left is a lie, refused before anything is reserved.
                if count > self.rest.len() {
                    return Err(AmfError::Truncated);
                }
                let mut items = Vec::with_capacity(count.min(MAX_VALUES));
                for _ in 0..count {
                    items.push(self.value(depth + 1)?);
                }
                Amf0Value::StrictArray(items)
            }
            NULL => Amf0Value::Null,
            UNDEFINED => Amf0Value::Undefined,
            other => return Err(AmfError::UnsupportedMarker(other)),
        })
    }

    fn properties(&mut self, depth: usize) -> Result<Vec<(String, Amf0Value)>, AmfError> {
        if depth + 1 > MAX_DEPTH {
            return Err(AmfError::TooDeep);
        }
        let mut props = Vec::new();
        loop {
            let len = usize::from(self.u16()?);
            if len == 0 && self.rest.first() == Some(&OBJECT_END) {
                self.take(1)?;
                return Ok(props);
            }
            let name = self.text(len)?;
            let value = self.value(depth + 1)?;
            props.push((name, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_encode_to_their_golden_bytes() {
        let cases: &[(Amf0Value, &[u8])] = &[
            (
                Amf0Value::Number(1.0),
                &[0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0],
            ),
            (Amf0Value::Boolean(true), &[0x01, 0x01]),
            (Amf0Value::string("ab"), &[0x02, 0x00, 0x02, b'a', b'b']),
            (Amf0Value::Null, &[0x05]),
            (Amf0Value::Undefined, &[0x06]),
        ];
        for (value, golden) in cases {
            let mut out = Vec::new();
            value.encode(&mut out);
            assert_eq!(&out, golden, "{value:?}");
            assert_eq!(decode_all(golden).unwrap(), vec![value.clone()]);
        }
    }

    #[test]
    fn objects_and_arrays_encode_to_their_golden_bytes() {
        let object = Amf0Value::object([("a", Amf0Value::Boolean(false))]);
        let mut out = Vec::new();
        object.encode(&mut out);
        assert_eq!(out, [0x03, 0, 1, b'a', 0x01, 0x00, 0, 0, 0x09]);

        let ecma = Amf0Value::EcmaArray(vec![("w".into(), Amf0Value::Null)]);
        out.clear();
        ecma.encode(&mut out);
        assert_eq!(out, [0x08, 0, 0, 0, 1, 0, 1, b'w', 0x05, 0, 0, 0x09]);

        let strict = Amf0Value::StrictArray(vec![Amf0Value::string("x"), Amf0Value::Null]);
        out.clear();
        strict.encode(&mut out);
        assert_eq!(out, [0x0A, 0, 0, 0, 2, 0x02, 0, 1, b'x', 0x05]);
        for value in [object, ecma, strict] {
            let mut bytes = Vec::new();
            value.encode(&mut bytes);
            assert_eq!(decode_all(&bytes).unwrap(), vec![value]);
        }
    }

    #[test]
    fn a_string_past_65535_bytes_is_a_long_string() {
        let long = "x".repeat(70_000);
        let mut out = Vec::new();
        Amf0Value::string(long.clone()).encode(&mut out);
        assert_eq!(&out[..5], &[0x0C, 0, 1, 0x11, 0x70]);
        assert_eq!(out.len(), 5 + 70_000);
        assert_eq!(decode_all(&out).unwrap(), vec![Amf0Value::String(long)]);
    }

    #[test]
    fn an_ecma_array_count_is_only_a_hint() {
        // Count 7, one property: the end marker decides.
        let bytes = [0x08, 0, 0, 0, 7, 0, 1, b'k', 0x05, 0, 0, 0x09];
        let got = decode_all(&bytes).unwrap();
        assert_eq!(
            got,
            vec![Amf0Value::EcmaArray(vec![("k".into(), Amf0Value::Null)])]
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let mut bytes = Vec::new();
        for _ in 0..MAX_DEPTH + 1 {
            bytes.extend_from_slice(&[0x03, 0, 1, b'a']);
        }
        bytes.push(0x05);
        assert_eq!(decode_all(&bytes), Err(AmfError::TooDeep));
        let mut arrays = Vec::new();
        for _ in 0..1000 {
            arrays.extend_from_slice(&[0x0A, 0, 0, 0, 1]);
        }
        assert_eq!(decode_all(&arrays), Err(AmfError::TooDeep));
    }

    #[test]
    fn lying_counts_and_cut_values_are_errors() {
        assert_eq!(
            decode_all(&[0x0A, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(AmfError::Truncated)
        );
        assert_eq!(decode_all(&[0x00, 1, 2]), Err(AmfError::Truncated));
        assert_eq!(decode_all(&[0x02, 0, 5, b'a']), Err(AmfError::Truncated));
        assert_eq!(decode_all(&[0x11]), Err(AmfError::UnsupportedMarker(0x11)));
        assert_eq!(decode_all(&[0x02, 0, 1, 0xFF]), Err(AmfError::NotUtf8));
    }

    #[test]
    fn too_many_values_are_refused() {
        let mut bytes = vec![0x0A];
        bytes.extend_from_slice(&(MAX_VALUES as u32 + 10).to_be_bytes());
        bytes.extend(std::iter::repeat_n(0x05, MAX_VALUES + 10));
        assert_eq!(decode_all(&bytes), Err(AmfError::TooMany));
    }
}
