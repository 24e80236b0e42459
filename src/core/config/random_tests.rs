//! Deterministic randomized robustness tests for the directive value parsers and the
//! access-log template: random text and mutations of the fuzz seeds go through the same
//! property checks as the cargo-fuzz targets `config` and `accesslog`
//! (`fuzz/checks/config.rs`).
use crate::test_rng::XorShift;
#[path = "../fuzz/checks/config.rs"]
mod checks;

const CONFIG_SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/config/values_time"),
    include_bytes!("../fuzz/seeds/config/values_msec"),
    include_bytes!("../fuzz/seeds/config/values_size"),
    include_bytes!("../fuzz/seeds/config/values_flag"),
    include_bytes!("../fuzz/seeds/config/allow_publish_cidr"),
    include_bytes!("../fuzz/seeds/config/allow_v6"),
    include_bytes!("../fuzz/seeds/config/deny_all"),
    include_bytes!("../fuzz/seeds/config/push_url"),
    include_bytes!("../fuzz/seeds/config/pull_static"),
    include_bytes!("../fuzz/seeds/config/listen_opts"),
    include_bytes!("../fuzz/seeds/config/record"),
    include_bytes!("../fuzz/seeds/config/exec"),
];
const ACCESSLOG_SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/accesslog/combined"),
    include_bytes!("../fuzz/seeds/accesslog/braces"),
];

/// Bytes that make up directive values: digits, units, separators, URL and CIDR pieces,
/// variable syntax and a little non-ASCII.
const ALPHABET: &[&str] = &[
    "0",
    "1",
    "9",
    "5",
    "y",
    "M",
    "w",
    "d",
    "h",
    "m",
    "s",
    "ms",
    "k",
    "K",
    "g",
    "G",
    " ",
    ":",
    "/",
    ".",
    "[",
    "]",
    "$",
    "{",
    "}",
    "\\",
    "=",
    "on",
    "off",
    "all",
    "rtmp://",
    "rtmps://",
    "::",
    "ffff",
    "255",
    "publish",
    "play",
    "static",
    "name",
    "app",
    "backlog",
    "ipv6only",
    "so_keepalive",
    "audio",
    "keyframes",
    "ü",
    "_",
    "-",
    "@",
    "#",
    "?",
];

trait ConfigRng {
    fn text(&mut self, max_pieces: usize) -> Vec<u8>;
}

impl ConfigRng for XorShift {
    /// A string of alphabet pieces, or (one time in four) raw bytes.
    fn text(&mut self, max_pieces: usize) -> Vec<u8> {
        let n = self.below(max_pieces);
        if self.below(4) == 0 {
            return (0..n).map(|_| self.next() as u8).collect();
        }
        let mut out = Vec::new();
        for _ in 0..n {
            out.extend_from_slice(ALPHABET[self.below(ALPHABET.len())].as_bytes());
        }
        out
    }
}

#[test]
fn config_parsers_on_random_text() {
    let mut rng = XorShift(0x0123_4567_89AB_CDEF);
    for s in CONFIG_SEEDS {
        checks::config(s);
    }
    for i in 0..6000u32 {
        let mut d = if i.is_multiple_of(2) {
            let mut d = vec![(i / 2 % 8) as u8 + b'0'];
            d.extend(rng.text(12));
            d
        } else {
            CONFIG_SEEDS[rng.below(CONFIG_SEEDS.len())].to_vec()
        };
        if i % 2 == 1 {
            rng.mutate(&mut d);
        }
        checks::config(&d);
    }
}

#[test]
fn accesslog_on_random_templates() {
    let mut rng = XorShift(0xFEDC_BA98_7654_3210);
    for s in ACCESSLOG_SEEDS {
        checks::accesslog(s);
    }
    for i in 0..3000u32 {
        let mut d = if i.is_multiple_of(2) {
            rng.text(16)
        } else {
            ACCESSLOG_SEEDS[rng.below(ACCESSLOG_SEEDS.len())].to_vec()
        };
        if i % 2 == 1 {
            rng.mutate(&mut d);
        }
        checks::accesslog(&d);
    }
}
