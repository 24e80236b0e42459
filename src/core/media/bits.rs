//! A big-endian bit reader for codec configuration records, with Exp-Golomb codes and
//! H.264 emulation-prevention removal. Reads past the end return `None`, never garbage.

#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    buf: &'a [u8],
    /// Position in bits; a `usize` cannot overflow before `buf.len() * 8` does.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        BitReader { buf, pos: 0 }
    }

    pub fn bits_left(&self) -> usize {
        self.buf.len().saturating_mul(8).saturating_sub(self.pos)
    }

    pub fn bit(&mut self) -> Option<bool> {
        let byte = *self.buf.get(self.pos / 8)?;
        let shift = 7 - (self.pos % 8);
        self.pos += 1;
        Some((byte >> shift) & 1 == 1)
    }

    /// Reads `n` (at most 32) bits as an unsigned number.
    pub fn bits(&mut self, n: u32) -> Option<u32> {
        if n > 32 || self.bits_left() < n as usize {
            return None;
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        u32::try_from(v).ok()
    }

    pub fn skip(&mut self, n: usize) -> Option<()> {
        if self.bits_left() < n {
            return None;
        }
        self.pos += n;
        Some(())
    }

    /// Unsigned Exp-Golomb, ue(v). Codes longer than 32 bits do not occur in valid streams
    /// and are rejected rather than truncated.
    pub fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0u32;
        while !self.bit()? {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        // (1 << zeros) - 1 + rest, with zeros <= 31 so it fits in u64 and then u32.
        let v = (1u64 << zeros) - 1 + u64::from(rest);
        u32::try_from(v).ok()
    }

    /// Signed Exp-Golomb, se(v): 1, -1, 2, -2, ...
    pub fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

/// Removes H.264/H.265 emulation-prevention bytes (the 0x03 in 00 00 03), giving the RBSP.
pub fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0usize;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_golomb() {
        // 1 | 010 | 011 | 00100 | 00101 | 1...
        // ue: 0, 1, 2, 3, 4
        let buf = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = BitReader::new(&buf);
        assert_eq!(r.ue(), Some(0));
        assert_eq!(r.ue(), Some(1));
        assert_eq!(r.ue(), Some(2));
        assert_eq!(r.ue(), Some(3));
        assert_eq!(r.ue(), Some(4));
        let mut r = BitReader::new(&buf);
        assert_eq!(r.se(), Some(0));
        assert_eq!(r.se(), Some(1));
        assert_eq!(r.se(), Some(-1));
        assert_eq!(r.se(), Some(2));
        assert_eq!(r.se(), Some(-2));
        let mut r = BitReader::new(&[0xab, 0xcd]);
        assert_eq!(r.bits(4), Some(0xa));
        assert_eq!(r.bits(12), Some(0xbcd));
        assert_eq!(r.bits(1), None);
        assert_eq!(r.bits_left(), 0);
    }

    #[test]
    fn hostile() {
        assert_eq!(BitReader::new(&[]).bit(), None);
        assert_eq!(BitReader::new(&[0; 8]).ue(), None);
        assert_eq!(BitReader::new(&[0, 0, 0, 0, 0x80]).ue(), None);
        // 31 zeros then a one and 31 bits: the largest accepted code.
        let mut big = BitReader::new(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(big.ue(), Some(u32::MAX - 1));
        assert_eq!(BitReader::new(&[1, 2, 3, 4, 5]).bits(33), None);
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.skip(9), None);
        assert_eq!(r.skip(8), Some(()));
        assert_eq!(r.bit(), None);
        assert_eq!(BitReader::new(&[0x00, 0x00, 0x00, 0x00, 0x01]).se(), None);
    }

    #[test]
    fn rbsp() {
        assert_eq!(
            unescape_rbsp(&[0, 0, 3, 1, 0, 0, 3, 0, 0, 3]),
            vec![0, 0, 1, 0, 0, 0, 0]
        );
        assert_eq!(unescape_rbsp(&[0, 3, 0, 3]), vec![0, 3, 0, 3]);
        assert_eq!(unescape_rbsp(&[]), Vec::<u8>::new());
    }
}
