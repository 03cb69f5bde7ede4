//! What the fuzz targets share: how an input is cut into reads.

/// A small deterministic generator, seeded from the input so a crash
/// reproduces from its artifact alone.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded from up to 8 bytes (zero would stay zero, so it is mixed).
    pub fn new(seed: &[u8]) -> Rng {
        let mut bytes = [0u8; 8];
        let n = seed.len().min(8);
        bytes[..n].copy_from_slice(&seed[..n]);
        Rng(u64::from_le_bytes(bytes) ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next value (xorshift64).
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `1..=max`.
    pub fn size(&mut self, max: usize) -> usize {
        1 + (self.next() % max.max(1) as u64) as usize
    }
}

/// Splits an input into `(seed, rest)`: the first `n` bytes seed the reads.
pub fn seed_and_rest(data: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (data.len() >= n).then(|| data.split_at(n))
}

/// `bytes` cut into reads of random sizes: mostly small ones (to cut inside
/// every token), sometimes large.
pub fn pieces<'a>(bytes: &'a [u8], rng: &mut Rng) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let max = if rng.next() % 4 == 0 { 256 } else { 8 };
        let n = rng.size(max).min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}
