//! `record off|all|audio|video|keyframes|manual ...`: nginx-rtmp's bitmask, parsed like
//! `ngx_conf_set_bitmask_slot` (ASCII case-insensitive words, unknown word is fatal,
//! repeated word is a warning).

use super::error::ConfError;

/// nginx-rtmp gives `off` its own bit; it means "record nothing" because no media bit is
/// set, so it is kept only to remember that the directive was present.
pub const RECORD_OFF: u32 = 0x01;
pub const RECORD_AUDIO: u32 = 0x02;
pub const RECORD_VIDEO: u32 = 0x04;
pub const RECORD_KEYFRAMES: u32 = 0x08;
pub const RECORD_MANUAL: u32 = 0x10;

const WORDS: [(&str, u32); 6] = [
    ("off", RECORD_OFF),
    ("all", RECORD_AUDIO | RECORD_VIDEO),
    ("audio", RECORD_AUDIO),
    ("video", RECORD_VIDEO),
    ("keyframes", RECORD_KEYFRAMES),
    ("manual", RECORD_MANUAL),
];

/// The flags, plus the warnings nginx logs for words whose bits were already set
/// (`duplicate value "x"`). A word is skipped when any of its bits is already set, so
/// `record audio all` records audio only, exactly as in nginx-rtmp.
pub fn parse_record_flags(args: &[&str]) -> Result<(u32, Vec<String>), ConfError> {
    let mut flags = 0u32;
    let mut warnings = Vec::new();
    for &word in args {
        let bits = WORDS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|&(_, bits)| bits)
            .ok_or_else(|| ConfError::new(format!("invalid value \"{word}\"")))?;
        if flags & bits != 0 {
            warnings.push(format!("duplicate value \"{word}\""));
        } else {
            flags |= bits;
        }
    }
    Ok((flags, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        type Want = Result<(u32, Vec<String>), &'static str>;
        let cases: &[(&[&str], Want)] = &[
            (&["off"], Ok((RECORD_OFF, vec![]))),
            (&["all"], Ok((RECORD_AUDIO | RECORD_VIDEO, vec![]))),
            (
                &["AUDIO", "keyframes"],
                Ok((RECORD_AUDIO | RECORD_KEYFRAMES, vec![])),
            ),
            (
                &["video", "manual"],
                Ok((RECORD_VIDEO | RECORD_MANUAL, vec![])),
            ),
            (
                &["all", "audio"],
                Ok((
                    RECORD_AUDIO | RECORD_VIDEO,
                    vec!["duplicate value \"audio\"".into()],
                )),
            ),
            // nginx skips a word when any of its bits is set, so "all" adds no video here.
            (
                &["audio", "all"],
                Ok((RECORD_AUDIO, vec!["duplicate value \"all\"".into()])),
            ),
            (&["audio", "sometimes"], Err("invalid value \"sometimes\"")),
            (&[""], Err("invalid value \"\"")),
            (&[], Ok((0, vec![]))),
        ];
        for (args, want) in cases {
            let got = parse_record_flags(args).map_err(|e| e.to_string());
            assert_eq!(got, want.clone().map_err(String::from), "{args:?}");
        }
    }
}
