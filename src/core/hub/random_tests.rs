//! Deterministic randomized operation sequences against the hub: random programs and
//! mutations of the fuzz seeds run through the model in `fuzz/checks/hub.rs` (shared with
//! the cargo-fuzz target `hub`), which checks its invariants after every operation.
use crate::test_rng::XorShift;
#[path = "../fuzz/checks/hub.rs"]
mod checks;

const SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/hub/publish_play"),
    include_bytes!("../fuzz/seeds/hub/overflow"),
];

/// A random program: a header, then operations whose opcodes are drawn evenly and whose
/// frames are short, so that a few hundred bytes hold dozens of steps.
fn program(rng: &mut XorShift) -> Vec<u8> {
    let mut p = vec![rng.next() as u8, rng.next() as u8 % 16, rng.next() as u8];
    for _ in 0..rng.below(60) {
        let code = rng.next() as u8;
        p.push(code);
        match code & 7 {
            3 => p.push(rng.next() as u8),
            4 | 5 => {
                p.extend_from_slice(&[rng.next() as u8, rng.next() as u8]);
                let len = rng.below(40);
                p.push(len as u8);
                // Payloads start like real tags often enough to hit keyframes and configs.
                let first = [0x17, 0x27, 0xaf, 0x90, 0x02][rng.below(5)];
                p.push(first);
                p.extend((1..len).map(|_| [0u8, 1, rng.next() as u8][rng.below(3)]));
            }
            6 => p.extend_from_slice(&[rng.next() as u8, 0, rng.next() as u8]),
            _ => {}
        }
    }
    p
}

#[test]
fn hub_survives_random_operation_sequences() {
    for s in SEEDS {
        checks::hub(s);
    }
    let mut rng = XorShift(0xA076_1D64_78BD_642F);
    for i in 0..2000 {
        let mut p = if i % 4 == 3 {
            SEEDS[rng.below(SEEDS.len())].to_vec()
        } else {
            program(&mut rng)
        };
        if i % 4 == 3 || i % 8 == 1 {
            for _ in 0..=rng.below(4) {
                let at = rng.below(p.len());
                if let Some(b) = p.get_mut(at) {
                    *b = rng.next() as u8;
                }
            }
        }
        checks::hub(&p);
    }
}
