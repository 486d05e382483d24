//! Kademlia over 256-bit node IDs (go-ethereum `p2p/discover/table.go`,
//! `p2p/enode/idscheme.go` distance helpers).
//!
//! IDs are 32-byte keccak256 hashes of node keys. `log_distance(a, b)` is
//! 256 minus the leading zero bits of `a XOR b` (0 when equal). The
//! [`table::Table`] is sans-IO: every timing decision takes `now` in seconds
//! and randomness comes from a seeded RNG owned by the table.
pub mod table;

use std::cmp::Ordering;

/// Bits in a node ID.
pub const HASH_BITS: u32 = 256;

#[inline]
fn words(id: &[u8; 32]) -> [u64; 4] {
    let mut w = [0u64; 4];
    for (i, chunk) in id.chunks_exact(8).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        w[i] = u64::from_be_bytes(b);
    }
    w
}

/// 256 − leading zero bits of `a XOR b`; 0 when `a == b`.
#[inline]
pub fn log_distance(a: &[u8; 32], b: &[u8; 32]) -> u16 {
    let (wa, wb) = (words(a), words(b));
    let mut lz = 0u32;
    for i in 0..4 {
        let x = wa[i] ^ wb[i];
        if x != 0 {
            lz += x.leading_zeros();
            return (HASH_BITS - lz) as u16;
        }
        lz += 64;
    }
    0
}

/// Log distances from `target` to each 32-byte ID packed in `ids`
/// (`ids.len()` must be a multiple of 32; the remainder is ignored).
pub fn log_distances(target: &[u8; 32], ids: &[u8]) -> Vec<u16> {
    let t = words(target);
    ids.chunks_exact(32)
        .map(|c| {
            let mut lz = 0u32;
            for (i, chunk) in c.chunks_exact(8).enumerate() {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                let x = u64::from_be_bytes(b) ^ t[i];
                if x != 0 {
                    return (HASH_BITS - lz - x.leading_zeros()) as u16;
                }
                lz += 64;
            }
            0
        })
        .collect()
}

/// Which of `a` and `b` is closer to `target` (XOR metric): `Less` = `a`.
pub fn dist_cmp(target: &[u8; 32], a: &[u8; 32], b: &[u8; 32]) -> Ordering {
    for i in 0..32 {
        let (da, db) = (a[i] ^ target[i], b[i] ^ target[i]);
        if da != db {
            return da.cmp(&db);
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(h: &str) -> [u8; 32] {
        hex::decode(h).unwrap().try_into().unwrap()
    }

    #[test]
    fn distances() {
        let a = id("aaaa8419e9f49d0083561b48287df592939a8d19947d8c0ef88f2a4856a69fbb");
        let b = id("bbbb9d047f0488c0b5a93c1c3f2d8bafc7c8ff337024a55434a0d0555de64db9");
        assert_eq!(log_distance(&a, &b), 253);
        assert_eq!(log_distance(&a, &a), 0);
        let mut c = a;
        c[31] ^= 1;
        assert_eq!(log_distance(&a, &c), 1);
        let mut ids = Vec::new();
        ids.extend_from_slice(&b);
        ids.extend_from_slice(&a);
        ids.extend_from_slice(&c);
        assert_eq!(log_distances(&a, &ids), vec![253, 0, 1]);
        assert_eq!(dist_cmp(&a, &c, &b), Ordering::Less);
    }
}
