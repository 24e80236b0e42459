//! A small, bounded AMF0 reader for data messages (`onMetaData`).
//!
//! rml_amf0's deserializer recurses once per nested object with no limit (a payload of
//! repeated 0x03 bytes overflows the stack) and zero-fills short string reads, so media code
//! reads peer data with this instead. It decodes only scalars; nested containers are walked
//! to their end (to depth `MAX_DEPTH`) and reported as `Value::Nested`.

/// How deep nested containers are followed before the payload is rejected.
const MAX_DEPTH: usize = 16;

const NUMBER: u8 = 0x00;
const BOOLEAN: u8 = 0x01;
const STRING: u8 = 0x02;
const OBJECT: u8 = 0x03;
const NULL: u8 = 0x05;
const UNDEFINED: u8 = 0x06;
const REFERENCE: u8 = 0x07;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: u8 = 0x09;
const STRICT_ARRAY: u8 = 0x0a;
const DATE: u8 = 0x0b;
const LONG_STRING: u8 = 0x0c;
const UNSUPPORTED: u8 = 0x0d;
const XML_DOCUMENT: u8 = 0x0f;
const TYPED_OBJECT: u8 = 0x10;

/// A decoded AMF0 value. Strings that are not UTF-8 are decoded lossily: metadata is
/// informational, and one odd byte should not hide the rest.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Boolean(bool),
    String(String),
    Null,
    /// undefined, unsupported, a reference, a date, or XML: present but not interesting.
    Other,
    /// An object, ECMA array, strict array or typed object that was skipped.
    Nested,
}

/// A cursor over AMF0 bytes. Every read returns `None` on truncation or a bad marker and
/// leaves the cursor where it was not guaranteed; callers stop at the first `None`.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn short_str(&mut self) -> Option<String> {
        let n = usize::from(self.u16()?);
        Some(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    /// Reads one value. Containers are skipped; use `read_properties` to look inside the
    /// top-level one.
    pub fn read_value(&mut self) -> Option<Value> {
        self.value(0)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        let marker = self.u8()?;
        Some(match marker {
            NUMBER => Value::Number(f64::from_be_bytes(self.take(8)?.try_into().ok()?)),
            BOOLEAN => Value::Boolean(self.u8()? != 0),
            STRING => Value::String(self.short_str()?),
            LONG_STRING => {
                let n = usize::try_from(self.u32()?).ok()?;
                Value::String(String::from_utf8_lossy(self.take(n)?).into_owned())
            }
            NULL => Value::Null,
            UNDEFINED | UNSUPPORTED => Value::Other,
            REFERENCE => {
                self.take(2)?;
                Value::Other
            }
            DATE => {
                self.take(10)?;
                Value::Other
            }
            XML_DOCUMENT => {
                let n = usize::try_from(self.u32()?).ok()?;
                self.take(n)?;
                Value::Other
            }
            OBJECT => {
                self.skip_properties(depth)?;
                Value::Nested
            }
            ECMA_ARRAY => {
                self.take(4)?;
                self.skip_properties(depth)?;
                Value::Nested
            }
            TYPED_OBJECT => {
                self.short_str()?;
                self.skip_properties(depth)?;
                Value::Nested
            }
            STRICT_ARRAY => {
                let count = self.u32()?;
                let next = depth.checked_add(1).filter(|d| *d <= MAX_DEPTH)?;
                // Each element takes at least one byte, so a lying count ends at the
                // buffer's end rather than looping four billion times.
                for _ in 0..count {
                    self.value(next)?;
                }
                Value::Nested
            }
            _ => return None,
        })
    }

    fn skip_properties(&mut self, depth: usize) -> Option<()> {
        let next = depth.checked_add(1).filter(|d| *d <= MAX_DEPTH)?;
        while self.property(next)?.is_some() {}
        Some(())
    }

    /// One `name, value` pair, or `None` inside the `Some` at the object-end marker.
    fn property(&mut self, depth: usize) -> Option<Option<(String, Value)>> {
        let name = self.short_str()?;
        if name.is_empty() && self.buf.get(self.pos) == Some(&OBJECT_END) {
            self.pos = self.pos.checked_add(1)?;
            return Some(None);
        }
        let value = self.value(depth)?;
        Some(Some((name, value)))
    }

    /// If the next value is an object, ECMA array or typed object, returns its top-level
    /// properties (nested containers as `Value::Nested`). A truncated container yields the
    /// properties read before the damage, since encoders in the wild omit the end marker.
    pub fn read_properties(&mut self) -> Option<Vec<(String, Value)>> {
        match self.u8()? {
            OBJECT => {}
            ECMA_ARRAY => {
                self.take(4)?;
            }
            TYPED_OBJECT => {
                self.short_str()?;
            }
            _ => return None,
        }
        let mut props = Vec::new();
        while let Some(Some(p)) = self.property(1) {
            props.push(p);
        }
        Some(props)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Vec<u8> {
        let mut out = vec![STRING];
        out.extend_from_slice(&u16::try_from(v.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
        out
    }

    #[test]
    fn scalars() {
        let mut b = vec![NUMBER];
        b.extend_from_slice(&2.5f64.to_be_bytes());
        b.extend_from_slice(&[BOOLEAN, 1, NULL, UNDEFINED]);
        b.extend_from_slice(&s("hi"));
        b.extend_from_slice(&[LONG_STRING, 0, 0, 0, 1, b'x']);
        let mut r = Reader::new(&b);
        assert_eq!(r.read_value(), Some(Value::Number(2.5)));
        assert_eq!(r.read_value(), Some(Value::Boolean(true)));
        assert_eq!(r.read_value(), Some(Value::Null));
        assert_eq!(r.read_value(), Some(Value::Other));
        assert_eq!(r.read_value(), Some(Value::String("hi".into())));
        assert_eq!(r.read_value(), Some(Value::String("x".into())));
        assert!(r.is_empty());
        assert_eq!(r.read_value(), None);
    }

    #[test]
    fn object_with_nested_values() {
        // {a: 1, b: {c: [true]}, d: "e"}
        let mut b = vec![ECMA_ARRAY, 0, 0, 0, 3, 0, 1, b'a', NUMBER];
        b.extend_from_slice(&1f64.to_be_bytes());
        b.extend_from_slice(&[0, 1, b'b', OBJECT, 0, 1, b'c', STRICT_ARRAY, 0, 0, 0, 1]);
        b.extend_from_slice(&[BOOLEAN, 1, 0, 0, OBJECT_END]);
        b.extend_from_slice(&[0, 1, b'd']);
        b.extend_from_slice(&s("e"));
        b.extend_from_slice(&[0, 0, OBJECT_END]);
        let props = Reader::new(&b).read_properties();
        assert_eq!(
            props,
            Some(vec![
                ("a".into(), Value::Number(1.0)),
                ("b".into(), Value::Nested),
                ("d".into(), Value::String("e".into())),
            ])
        );
        let mut r = Reader::new(&b);
        assert_eq!(r.read_value(), Some(Value::Nested));
        assert_eq!(r.position(), b.len());
    }

    #[test]
    fn hostile_input() {
        // Deep nesting: rejected, not a stack overflow.
        let deep = vec![OBJECT; 1 << 20];
        let mut deep_props = vec![OBJECT];
        for _ in 0..100_000 {
            deep_props.extend_from_slice(&[0, 1, b'a', OBJECT]);
        }
        assert_eq!(Reader::new(&deep).read_value(), None);
        assert_eq!(Reader::new(&deep_props).read_value(), None);
        // A lying strict array count.
        assert_eq!(
            Reader::new(&[STRICT_ARRAY, 0xff, 0xff, 0xff, 0xff, NULL]).read_value(),
            None
        );
        // Truncated string, long string lengths near usize::MAX, unknown markers.
        assert_eq!(Reader::new(&[STRING, 0, 9, b'a']).read_value(), None);
        assert_eq!(
            Reader::new(&[LONG_STRING, 0xff, 0xff, 0xff, 0xff]).read_value(),
            None
        );
        assert_eq!(Reader::new(&[0x11]).read_value(), None);
        assert_eq!(Reader::new(&[NUMBER, 1, 2]).read_value(), None);
        // Truncated object: properties before the damage survive.
        let mut b = vec![OBJECT, 0, 1, b'a', BOOLEAN, 0, 0, 1, b'b'];
        assert_eq!(
            Reader::new(&b).read_properties(),
            Some(vec![("a".into(), Value::Boolean(false))])
        );
        b.clear();
        assert_eq!(Reader::new(&b).read_properties(), None);
        // Every 1- and 2-byte input.
        for x in 0..=255u8 {
            for y in 0..=255u8 {
                let _ = Reader::new(&[x, y]).read_value();
                let _ = Reader::new(&[x, y, 0, 0, 0, 1, 0]).read_properties();
            }
        }
    }
}
