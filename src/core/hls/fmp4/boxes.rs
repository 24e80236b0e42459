//! Writing ISO BMFF boxes: nested boxes whose 32-bit sizes are patched when they close.

#[derive(Debug, Default)]
pub struct BoxWriter {
    pub buf: Vec<u8>,
    /// Where each open box starts.
    open: Vec<usize>,
}

impl BoxWriter {
    pub fn new() -> Self {
        BoxWriter::default()
    }

    pub fn open(&mut self, fourcc: &[u8; 4]) -> &mut Self {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.buf.extend_from_slice(fourcc);
        self
    }

    /// A FullBox: version and 24 bits of flags after the type.
    pub fn open_full(&mut self, fourcc: &[u8; 4], version: u8, flags: u32) -> &mut Self {
        self.open(fourcc);
        self.u32(u32::from(version) << 24 | (flags & 0x00ff_ffff))
    }

    /// Closes the innermost open box. Boxes here are far below 4 GiB (a fragment's samples
    /// are bounded), so the 32-bit size always fits.
    pub fn close(&mut self) -> &mut Self {
        if let Some(start) = self.open.pop() {
            let size = u32::try_from(self.buf.len() - start).unwrap_or(u32::MAX);
            self.buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
        }
        self
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    pub fn zeros(&mut self, n: usize) -> &mut Self {
        self.buf.resize(self.buf.len() + n, 0);
        self
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn into_bytes(mut self) -> Vec<u8> {
        while !self.open.is_empty() {
            self.close();
        }
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sizes() {
        let mut w = BoxWriter::new();
        w.open(b"moov")
            .open_full(b"mvhd", 1, 0x000203)
            .u32(7)
            .close();
        w.open(b"free").close();
        let b = w.into_bytes();
        assert_eq!(
            b,
            [
                &[0, 0, 0, 32][..],
                b"moov",
                &[0, 0, 0, 16],
                b"mvhd",
                &[1, 0, 2, 3, 0, 0, 0, 7],
                &[0, 0, 0, 8],
                b"free"
            ]
            .concat()
        );
    }
}
