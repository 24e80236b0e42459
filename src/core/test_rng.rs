//! The deterministic generator behind the randomized robustness tests (no dependency, the
//! same sequence on every run): random bytes, and mutations of valid inputs.

pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Flips, overwrites, inserts and deletes a few bytes, and sometimes truncates.
    pub fn mutate(&mut self, data: &mut Vec<u8>) {
        for _ in 0..=self.below(8) {
            if data.is_empty() {
                data.push(self.next() as u8);
            }
            let at = self.below(data.len());
            match self.below(5) {
                0 => data[at] ^= 1 << self.below(8),
                1 => data[at] = self.next() as u8,
                2 => data.insert(at, self.next() as u8),
                3 => {
                    data.remove(at);
                }
                _ => data[at] = [0, 0xFF, 0x7F, 0x80, 0x03][self.below(5)],
            }
        }
        if self.below(10) == 0 {
            let keep = self.below(data.len() + 1);
            data.truncate(keep);
        }
    }
}
