//! Deterministic randomized robustness tests for the control request parser: the seeds of
//! the cargo-fuzz target `control`, mutated, through the same checks (`fuzz/checks/control.rs`).
use crate::test_rng::XorShift;
#[path = "../fuzz/checks/control.rs"]
mod checks;

const SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/control/record_start"),
    include_bytes!("../fuzz/seeds/control/redirect"),
    include_bytes!("../fuzz/seeds/control/bad"),
    include_bytes!("../fuzz/seeds/control/push"),
];
const PIECES: &[&[u8]] = &[
    b"&",
    b"=",
    b"?",
    b"/",
    b"%",
    b"%2",
    b"+",
    b"\t",
    b"\n",
    b"\xff",
    b"app",
    b"newname",
    b"clientid=",
    b"srv=99999999999999999999",
    b"url=",
    b"rtmp://",
    b"rtmps://[::1]",
    b":0",
    b"push/stop",
];

#[test]
fn mutated_requests_hold_the_properties() {
    let mut rng = XorShift(0x00c0_ffee);
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
        checks::control(&v);
    }
}
