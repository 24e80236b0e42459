//! AMF0 helpers on top of rml_amf0: safe decoding, property lookup and command building.
//!
//! rml_amf0's decoder recurses once per nested object/array, so a peer could overflow the stack
//! with a few hundred kilobytes of `0x03` markers. [`check`] walks the same grammar without
//! recursion first and rejects deep nesting and truncation; only then is rml_amf0 called.
use rml_amf0::Amf0Value;
use std::collections::HashMap;
use std::fmt;

pub use rml_amf0::Amf0Value as Value;

/// Deeper nesting than this is refused. Real commands and metadata nest 2-3 levels.
pub const MAX_DEPTH: usize = 32;

const NUMBER: u8 = 0x00;
const BOOLEAN: u8 = 0x01;
const STRING: u8 = 0x02;
const OBJECT: u8 = 0x03;
const NULL: u8 = 0x05;
const UNDEFINED: u8 = 0x06;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: u8 = 0x09;
const STRICT_ARRAY: u8 = 0x0A;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmfError {
    /// The data ends inside a value.
    Truncated,
    /// A type marker rml_amf0 does not decode (long string, date, reference, AMF3, ...).
    UnsupportedMarker(u8),
    /// Objects or arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// rml_amf0 refused the data (bad UTF-8, bad object end, ...).
    Decode(String),
    /// A value could not be encoded (a string over 65535 bytes).
    Encode(String),
    /// The data is AMF0 but not a command: no name, or no transaction id.
    NotACommand,
}

impl fmt::Display for AmfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmfError::Truncated => write!(f, "AMF0 data ends inside a value"),
            AmfError::UnsupportedMarker(m) => write!(f, "unsupported AMF0 type marker 0x{m:02x}"),
            AmfError::TooDeep => write!(f, "AMF0 values nested deeper than {MAX_DEPTH}"),
            AmfError::Decode(e) => write!(f, "broken AMF0: {e}"),
            AmfError::Encode(e) => write!(f, "cannot encode AMF0: {e}"),
            AmfError::NotACommand => write!(f, "AMF0 command without name or transaction id"),
        }
    }
}

impl std::error::Error for AmfError {}

/// Where the walker is: inside an object (expects a property name) or an array.
enum Frame {
    Object,
    Array(u32),
}

fn skip(data: &[u8], pos: usize, n: usize) -> Result<usize, AmfError> {
    match pos.checked_add(n) {
        Some(end) if end <= data.len() => Ok(end),
        _ => Err(AmfError::Truncated),
    }
}

fn u16_at(data: &[u8], pos: usize) -> Result<usize, AmfError> {
    match (data.get(pos), data.get(pos.wrapping_add(1))) {
        (Some(&a), Some(&b)) => Ok(usize::from(u16::from_be_bytes([a, b]))),
        _ => Err(AmfError::Truncated),
    }
}

fn u32_at(data: &[u8], pos: usize) -> Result<u32, AmfError> {
    let end = skip(data, pos, 4)?;
    let b: [u8; 4] = data
        .get(pos..end)
        .and_then(|s| s.try_into().ok())
        .ok_or(AmfError::Truncated)?;
    Ok(u32::from_be_bytes(b))
}

/// Checks that `data` is a sequence of AMF0 values rml_amf0 can decode without deep recursion.
/// Follows rml_amf0's reading rules: an object-end marker at the top level ends the sequence,
/// and one inside a strict array ends the array.
pub fn check(data: &[u8]) -> Result<(), AmfError> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut pos = 0usize;
    loop {
        // Decide whether a value is expected here, and consume an object's property name.
        match stack.last_mut() {
            None => {
                if pos >= data.len() {
                    return Ok(());
                }
            }
            Some(Frame::Object) => {
                let name_len = u16_at(data, pos)?;
                pos = skip(data, pos, 2)?;
                if name_len == 0 {
                    match data.get(pos) {
                        Some(&OBJECT_END) => {}
                        Some(_) => return Err(AmfError::Decode("object name of length 0".into())),
                        None => return Err(AmfError::Truncated),
                    }
                    pos = skip(data, pos, 1)?;
                    stack.pop();
                    continue;
                }
                pos = skip(data, pos, name_len)?;
            }
            Some(Frame::Array(left)) => {
                if *left == 0 {
                    stack.pop();
                    continue;
                }
                *left = left.saturating_sub(1);
            }
        }
        let marker = *data.get(pos).ok_or(AmfError::Truncated)?;
        pos = skip(data, pos, 1)?;
        match marker {
            NUMBER => pos = skip(data, pos, 8)?,
            BOOLEAN => pos = skip(data, pos, 1)?,
            STRING => {
                let len = u16_at(data, pos)?;
                pos = skip(data, pos, 2 + len)?;
            }
            NULL | UNDEFINED => {}
            OBJECT | ECMA_ARRAY | STRICT_ARRAY => {
                if stack.len() >= MAX_DEPTH {
                    return Err(AmfError::TooDeep);
                }
                match marker {
                    OBJECT => stack.push(Frame::Object),
                    ECMA_ARRAY => {
                        pos = skip(data, pos, 4)?;
                        stack.push(Frame::Object);
                    }
                    _ => {
                        let count = u32_at(data, pos)?;
                        pos = skip(data, pos, 4)?;
                        stack.push(Frame::Array(count));
                    }
                }
            }
            OBJECT_END => match stack.last() {
                None => return Ok(()),
                Some(Frame::Array(_)) => {
                    stack.pop();
                }
                Some(Frame::Object) => {
                    return Err(AmfError::Decode("object property without value".into()))
                }
            },
            other => return Err(AmfError::UnsupportedMarker(other)),
        }
    }
}

/// Decodes a sequence of AMF0 values; broken or hostile input is an error, never a panic.
pub fn decode(data: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    check(data)?;
    let mut cursor = std::io::Cursor::new(data);
    rml_amf0::deserialize(&mut cursor).map_err(|e| AmfError::Decode(e.to_string()))
}

pub fn encode(values: &[Amf0Value]) -> Result<Vec<u8>, AmfError> {
    rml_amf0::serialize(&values.to_vec()).map_err(|e| AmfError::Encode(e.to_string()))
}

/// An AMF0 command: `name`, transaction id, command object, then the arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: String,
    pub transaction_id: f64,
    /// Null for most commands; the connect properties for `connect`.
    pub object: Amf0Value,
    pub args: Vec<Amf0Value>,
}

impl Command {
    pub fn decode(data: &[u8]) -> Result<Command, AmfError> {
        let mut values = decode(data)?.into_iter();
        let name = match values.next() {
            Some(Amf0Value::Utf8String(s)) => s,
            _ => return Err(AmfError::NotACommand),
        };
        // Some clients send commands without a transaction id at all (e.g. bare
        // `@setDataFrame`-style calls); treat a missing one as 0 instead of failing.
        let transaction_id = match values.next() {
            Some(Amf0Value::Number(n)) => n,
            None => 0.0,
            Some(_) => return Err(AmfError::NotACommand),
        };
        let object = values.next().unwrap_or(Amf0Value::Null);
        Ok(Command {
            name,
            transaction_id,
            object,
            args: values.collect(),
        })
    }

    pub fn encode(&self) -> Result<Vec<u8>, AmfError> {
        let mut values = Vec::with_capacity(3 + self.args.len());
        values.push(Amf0Value::Utf8String(self.name.clone()));
        values.push(Amf0Value::Number(self.transaction_id));
        values.push(self.object.clone());
        values.extend(self.args.iter().cloned());
        encode(&values)
    }
}

/// A property of an object (or ECMA array, which rml_amf0 also decodes as an object).
pub fn property<'a>(value: &'a Amf0Value, key: &str) -> Option<&'a Amf0Value> {
    match value {
        Amf0Value::Object(map) => map.get(key),
        _ => None,
    }
}

pub fn get_str<'a>(value: &'a Amf0Value, key: &str) -> Option<&'a str> {
    match property(value, key) {
        Some(Amf0Value::Utf8String(s)) => Some(s),
        _ => None,
    }
}

pub fn get_number(value: &Amf0Value, key: &str) -> Option<f64> {
    match property(value, key) {
        Some(Amf0Value::Number(n)) => Some(*n),
        _ => None,
    }
}

pub fn as_str(value: Option<&Amf0Value>) -> Option<&str> {
    match value {
        Some(Amf0Value::Utf8String(s)) => Some(s),
        _ => None,
    }
}

pub fn as_number(value: Option<&Amf0Value>) -> Option<f64> {
    match value {
        Some(Amf0Value::Number(n)) => Some(*n),
        _ => None,
    }
}

/// AMF0 has no integer type; booleans are sometimes sent as numbers (librtmp's `reset`).
pub fn as_bool(value: Option<&Amf0Value>) -> Option<bool> {
    match value {
        Some(Amf0Value::Boolean(b)) => Some(*b),
        Some(Amf0Value::Number(n)) => Some(*n != 0.0),
        _ => None,
    }
}

pub fn object(pairs: &[(&str, Amf0Value)]) -> Amf0Value {
    let map: HashMap<String, Amf0Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    Amf0Value::Object(map)
}

pub fn string(s: &str) -> Amf0Value {
    Amf0Value::Utf8String(s.to_string())
}

/// The info object of `onStatus`, `_result` and `_error` replies.
pub fn status_info(level: &str, code: &str, description: &str) -> Amf0Value {
    object(&[
        ("level", string(level)),
        ("code", string(code)),
        ("description", string(description)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_round_trip() {
        let cmd = Command {
            name: "connect".into(),
            transaction_id: 1.0,
            object: object(&[
                ("app", string("live")),
                ("objectEncoding", Amf0Value::Number(0.0)),
                (
                    "nested",
                    object(&[("a", Amf0Value::StrictArray(vec![Amf0Value::Null]))]),
                ),
            ]),
            args: vec![Amf0Value::Boolean(true), Amf0Value::Undefined],
        };
        let bytes = cmd.encode().unwrap();
        assert_eq!(check(&bytes), Ok(()));
        let back = Command::decode(&bytes).unwrap();
        assert_eq!(back, cmd);
        assert_eq!(get_str(&back.object, "app"), Some("live"));
        assert_eq!(get_number(&back.object, "objectEncoding"), Some(0.0));
        assert_eq!(get_str(&back.object, "objectEncoding"), None);
        assert_eq!(get_str(&Amf0Value::Null, "app"), None);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let cmd = Command {
            name: "publish".into(),
            transaction_id: 5.0,
            object: Amf0Value::Null,
            args: vec![
                string("stream?key=1"),
                object(&[("x", Amf0Value::Number(1.0))]),
            ],
        };
        let bytes = cmd.encode().unwrap();
        // Cuts between top-level values are valid shorter commands; cuts inside the final
        // object (its last 15 bytes) must fail.
        for cut in 1..bytes.len() {
            let result = Command::decode(&bytes[..cut]);
            if cut > bytes.len() - 15 {
                assert!(result.is_err(), "cut at {cut}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let mut deep = Vec::new();
        for _ in 0..200_000 {
            deep.extend_from_slice(&[OBJECT, 0, 1, b'a']);
        }
        assert_eq!(decode(&deep), Err(AmfError::TooDeep));
        let mut arrays = Vec::new();
        for _ in 0..100_000 {
            arrays.extend_from_slice(&[STRICT_ARRAY, 0, 0, 0, 1]);
        }
        assert_eq!(decode(&arrays), Err(AmfError::TooDeep));
    }

    #[test]
    fn edge_cases_follow_rml_rules() {
        assert_eq!(decode(&[]), Ok(vec![]));
        // A top-level object-end marker ends the sequence, as in rml_amf0.
        assert_eq!(decode(&[NULL, OBJECT_END, 0xFF]), Ok(vec![Amf0Value::Null]));
        assert_eq!(
            decode(&[
                STRICT_ARRAY,
                0xFF,
                0xFF,
                0xFF,
                0xFF,
                NULL,
                OBJECT_END,
                UNDEFINED
            ]),
            Ok(vec![
                Amf0Value::StrictArray(vec![Amf0Value::Null]),
                Amf0Value::Undefined
            ])
        );
        assert_eq!(
            decode(&[0x0C, 0, 0, 0, 0]),
            Err(AmfError::UnsupportedMarker(0x0C))
        );
        assert!(matches!(
            decode(&[STRING, 0, 2, 0xC3, 0x28]),
            Err(AmfError::Decode(_))
        ));
        assert!(matches!(
            decode(&[OBJECT, 0, 0, NULL]),
            Err(AmfError::Decode(_))
        ));
        assert!(Command::decode(&[NUMBER, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn random_input_never_panics() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let seed = Command {
            name: "connect".into(),
            transaction_id: 1.0,
            object: object(&[("app", string("live")), ("tcUrl", string("rtmp://h/live"))]),
            args: vec![Amf0Value::StrictArray(vec![Amf0Value::Number(1.0)])],
        }
        .encode()
        .unwrap();
        for i in 0..20_000 {
            let mut data = if i % 2 == 0 {
                seed.clone()
            } else {
                (0..(next() % 64)).map(|_| (next() % 12) as u8).collect()
            };
            for _ in 0..(next() % 4) {
                if data.is_empty() {
                    break;
                }
                let at = (next() as usize) % data.len();
                data[at] = next() as u8;
            }
            let _ = Command::decode(&data);
        }
    }
}
