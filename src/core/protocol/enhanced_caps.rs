//! Enhanced RTMP capability negotiation in `connect` (E-RTMP v1 `fourCcList`, v2
//! `videoFourCcInfoMap` / `audioFourCcInfoMap` / `capsEx`).
//!
//! A client that names any of them learns in the `_result` what this server does with
//! Enhanced RTMP: it forwards (relays, records, segments) every codec byte for byte, parses
//! Multitrack and ModEx, and never asks a client to reconnect. A client that names none
//! gets the legacy answer unchanged.

use super::amf::{self, Value};

/// FourCcInfoMask.CanForward: the server passes the codec on without decoding it.
pub const CAN_FORWARD: f64 = 4.0;
/// CapsExMask.Multitrack | CapsExMask.ModEx. Not Reconnect (we never send
/// `NetConnection.Connect.ReconnectRequest`) nor TimestampNanoOffset (the offset is
/// forwarded in its ModEx data, not applied).
pub const CAPS_EX: f64 = 2.0 + 4.0;

/// Entries of a client's `fourCcList` answered back; a longer list is cut (it only names
/// codecs, and there are a dozen).
const MAX_FOURCCS: usize = 32;

/// What the client's connect object said about Enhanced RTMP.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientCaps {
    /// The FourCCs of `fourCcList` (and `*`), in the client's order.
    pub fourcc_list: Vec<String>,
    pub caps_ex: Option<f64>,
}

/// `None` when the connect object has no Enhanced RTMP property: the client is legacy.
pub fn read(connect: &Value) -> Option<ClientCaps> {
    let list = amf::property(connect, "fourCcList");
    let maps = ["videoFourCcInfoMap", "audioFourCcInfoMap"]
        .iter()
        .any(|k| amf::property(connect, k).is_some());
    let caps_ex = amf::get_number(connect, "capsEx");
    if list.is_none() && !maps && caps_ex.is_none() {
        return None;
    }
    let fourcc_list = match list {
        Some(Value::StrictArray(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Utf8String(s) if s.len() == 4 || s == "*" => Some(s.clone()),
                _ => None,
            })
            .take(MAX_FOURCCS)
            .collect(),
        _ => Vec::new(),
    };
    Some(ClientCaps {
        fourcc_list,
        caps_ex,
    })
}

/// The properties the `_result` adds for an Enhanced client: its own FourCCs back (each is
/// forwarded; `*` when it listed none), every codec forwardable, and our `capsEx`.
pub fn answer(caps: &ClientCaps) -> Vec<(&'static str, Value)> {
    let list = if caps.fourcc_list.is_empty() {
        vec![amf::string("*")]
    } else {
        caps.fourcc_list.iter().map(|s| amf::string(s)).collect()
    };
    let any = amf::object(&[("*", Value::Number(CAN_FORWARD))]);
    vec![
        ("fourCcList", Value::StrictArray(list)),
        ("videoFourCcInfoMap", any.clone()),
        ("audioFourCcInfoMap", any),
        ("capsEx", Value::Number(CAPS_EX)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Value {
        Value::StrictArray(v.iter().map(|s| amf::string(s)).collect())
    }

    #[test]
    fn legacy_clients_are_not_enhanced() {
        let obj = amf::object(&[
            ("app", amf::string("live")),
            ("capabilities", Value::Number(15.0)),
        ]);
        assert_eq!(read(&obj), None);
        assert_eq!(read(&Value::Null), None);
    }

    #[test]
    fn v1_fourcc_list_is_echoed() {
        // What FFmpeg sends with `-rtmp_enhanced_codecs hvc1,av01,Opus` (and OBS, its list).
        let obj = amf::object(&[("fourCcList", strs(&["hvc1", "av01", "Opus", "toolong", ""]))]);
        let caps = read(&obj).unwrap();
        assert_eq!(caps.fourcc_list, ["hvc1", "av01", "Opus"]);
        let a = answer(&caps);
        assert_eq!(a[0], ("fourCcList", strs(&["hvc1", "av01", "Opus"])));
        assert_eq!(a[3], ("capsEx", Value::Number(6.0)));
    }

    #[test]
    fn v2_maps_and_caps_ex_get_the_wildcard() {
        let map = amf::object(&[("hvc1", Value::Number(1.0))]);
        for obj in [
            amf::object(&[("videoFourCcInfoMap", map.clone())]),
            amf::object(&[("capsEx", Value::Number(3.0))]),
            amf::object(&[("fourCcList", Value::Null)]),
        ] {
            let caps = read(&obj).unwrap();
            let a = answer(&caps);
            assert_eq!(a[0], ("fourCcList", strs(&["*"])));
            let forward = amf::object(&[("*", Value::Number(4.0))]);
            assert_eq!(a[1], ("videoFourCcInfoMap", forward.clone()));
            assert_eq!(a[2], ("audioFourCcInfoMap", forward));
        }
        let caps = read(&amf::object(&[("capsEx", Value::Number(3.0))])).unwrap();
        assert_eq!(caps.caps_ex, Some(3.0));
    }

    #[test]
    fn long_lists_are_cut() {
        let many: Vec<&str> = std::iter::repeat_n("hvc1", 1000).collect();
        let caps = read(&amf::object(&[("fourCcList", strs(&many))])).unwrap();
        assert_eq!(caps.fourcc_list.len(), MAX_FOURCCS);
    }
}
