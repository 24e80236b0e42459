//! Deterministic randomized robustness tests for hook answers and requests: the seeds of the
//! cargo-fuzz target `notify`, mutated, through the same checks (`fuzz/checks/notify.rs`).
use crate::test_rng::XorShift;
#[path = "../fuzz/checks/notify.rs"]
mod checks;

const SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/notify/allow"),
    include_bytes!("../fuzz/seeds/notify/rename"),
    include_bytes!("../fuzz/seeds/notify/relay"),
    include_bytes!("../fuzz/seeds/notify/deny"),
    include_bytes!("../fuzz/seeds/notify/request"),
];
const PIECES: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b"HTTP/1.1 ",
    b"302 ",
    b"100 Continue\r\n\r\n",
    b"Location:",
    b" \t",
    b"rtmp://",
    b"?",
    b"&",
    b"%",
    b"\xff",
    b"\0",
];

#[test]
fn mutated_answers_and_requests_hold_the_properties() {
    let mut rng = XorShift(0x5eed_4007);
    for round in 0..5000 {
        let mut v = SEEDS[round % SEEDS.len()].to_vec();
        for _ in 0..rng.below(6) + 1 {
            let at = rng.below(v.len() + 1);
            match rng.below(3) {
                0 => {
                    let p = PIECES[rng.below(PIECES.len())];
                    v.splice(at..at, p.iter().copied());
                }
                1 if at < v.len() => {
                    v.remove(at);
                }
                _ => v.insert(at, rng.next() as u8),
            }
        }
        checks::notify(&v);
    }
    for len in [0, 1, 2, 100, 20_000] {
        checks::notify(&rng.bytes(len));
    }
}
