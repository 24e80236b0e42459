//! AMF0: the subset RTMP commands use (numbers, booleans, strings, objects, null, arrays).

#[derive(Debug, Clone, PartialEq)]
pub enum Amf {
    Num(f64),
    Bool(bool),
    Str(String),
    Obj(Vec<(String, Amf)>),
    Null,
    Arr(Vec<Amf>),
}

impl Amf {
    pub fn get(&self, key: &str) -> Option<&Amf> {
        match self {
            Amf::Obj(v) => v.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Amf::Num(n) => Some(*n),
            _ => None,
        }
    }
}

pub fn write(b: &mut Vec<u8>, v: &Amf) {
    match v {
        Amf::Num(n) => {
            b.push(0);
            b.extend_from_slice(&n.to_be_bytes());
        }
        Amf::Bool(x) => b.extend_from_slice(&[1, *x as u8]),
        Amf::Str(s) => {
            b.push(2);
            b.extend_from_slice(&(s.len() as u16).to_be_bytes());
            b.extend_from_slice(s.as_bytes());
        }
        Amf::Null => b.push(5),
        Amf::Obj(props) => {
            b.push(3);
            for (k, v) in props {
                b.extend_from_slice(&(k.len() as u16).to_be_bytes());
                b.extend_from_slice(k.as_bytes());
                write(b, v);
            }
            b.extend_from_slice(&[0, 0, 9]);
        }
        Amf::Arr(a) => {
            b.push(10);
            b.extend_from_slice(&(a.len() as u32).to_be_bytes());
            for v in a {
                write(b, v);
            }
        }
    }
}

/// Encodes a command: its values one after another.
pub fn encode(values: &[Amf]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in values {
        write(&mut b, v);
    }
    b
}

fn take<'a>(d: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if d.len() < n {
        return None;
    }
    let (a, b) = d.split_at(n);
    *d = b;
    Some(a)
}

fn be_u16(d: &mut &[u8]) -> Option<usize> {
    Some(u16::from_be_bytes(take(d, 2)?.try_into().ok()?) as usize)
}

fn be_u32(d: &mut &[u8]) -> Option<usize> {
    Some(u32::from_be_bytes(take(d, 4)?.try_into().ok()?) as usize)
}

fn props(d: &mut &[u8]) -> Option<Vec<(String, Amf)>> {
    let mut v = Vec::new();
    // Bounded: a hostile or broken object cannot keep the reader busy.
    for _ in 0..10_000 {
        let kl = be_u16(d)?;
        if kl == 0 && d.first() == Some(&9) {
            *d = &d[1..];
            return Some(v);
        }
        let k = String::from_utf8_lossy(take(d, kl)?).into_owned();
        v.push((k, read(d)?));
    }
    None
}

pub fn read(d: &mut &[u8]) -> Option<Amf> {
    let t = *take(d, 1)?.first()?;
    Some(match t {
        0 => Amf::Num(f64::from_be_bytes(take(d, 8)?.try_into().ok()?)),
        1 => Amf::Bool(take(d, 1)?[0] != 0),
        2 => {
            let l = be_u16(d)?;
            Amf::Str(String::from_utf8_lossy(take(d, l)?).into_owned())
        }
        3 => Amf::Obj(props(d)?),
        5 | 6 => Amf::Null,
        8 => {
            take(d, 4)?;
            Amf::Obj(props(d)?)
        }
        10 => {
            let n = be_u32(d)?;
            let mut a = Vec::new();
            for _ in 0..n.min(100_000) {
                a.push(read(d)?);
            }
            Amf::Arr(a)
        }
        11 => {
            let n = f64::from_be_bytes(take(d, 8)?.try_into().ok()?);
            take(d, 2)?;
            Amf::Num(n)
        }
        12 => {
            let l = be_u32(d)?;
            Amf::Str(String::from_utf8_lossy(take(d, l)?).into_owned())
        }
        _ => return None,
    })
}

/// Every value of a command message, up to the first that does not parse.
pub fn read_all(mut d: &[u8]) -> Vec<Amf> {
    let mut v = Vec::new();
    while !d.is_empty() {
        match read(&mut d) {
            Some(x) => v.push(x),
            None => break,
        }
    }
    v
}

/// `_result` of transaction `txn`?
pub fn is_result(v: &[Amf], txn: f64) -> bool {
    matches!((v.first(), v.get(1)), (Some(Amf::Str(n)), Some(Amf::Num(t))) if n == "_result" && *t == txn)
}

/// The `code` of an `onStatus` command.
pub fn status_code(v: &[Amf]) -> Option<&str> {
    match v.first() {
        Some(Amf::Str(n)) if n == "onStatus" => v.get(3)?.get("code")?.as_str(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let v = vec![
            Amf::Str("onStatus".into()),
            Amf::Num(0.0),
            Amf::Null,
            Amf::Obj(vec![(
                "code".into(),
                Amf::Str("NetStream.Play.Start".into()),
            )]),
        ];
        let back = read_all(&encode(&v));
        assert_eq!(back, v);
        assert_eq!(status_code(&back), Some("NetStream.Play.Start"));
    }
}
