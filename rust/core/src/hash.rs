//! Keccak-256 (legacy Ethereum "sha3", not NIST SHA3-256).
//!
//! Keccak bounds RLPx throughput: every frame's ciphertext is absorbed into a
//! running MAC. `benches/keccak.rs` measures the candidate crates (RustCrypto
//! `sha3`, `tiny-keccak` and the assembly-backed `keccak-asm`, which wraps
//! XKCP's optimised permutation); `keccak-asm` won on this hardware, see
//! `benches/RESULTS.md`. Callers use only [`keccak256`] and [`Keccak256`], so
//! the backend can change without touching the protocols.
pub use keccak_asm::Digest;

/// Incremental Keccak-256 state. `Clone` is cheap (200 bytes of state), which
/// is how RLPx takes a non-destructive digest of its running MAC.
pub type Keccak256 = keccak_asm::Keccak256;

/// One-shot Keccak-256.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(data);
    h.finalize().into()
}

/// Digest of a running state without consuming it.
pub fn peek(state: &Keccak256) -> [u8; 32] {
    state.clone().finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input() {
        assert_eq!(
            hex::encode(keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let mut h = Keccak256::new();
        h.update(b"hello ");
        assert_eq!(peek(&h), keccak256(b"hello "));
        h.update(b"world");
        assert_eq!(peek(&h), keccak256(b"hello world"));
    }

    #[test]
    fn backends_agree() {
        use sha3::Digest as _;
        use tiny_keccak::Hasher as _;
        for len in [0usize, 1, 135, 136, 137, 1000, 4096] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let ours = keccak256(&data);
            let rc: [u8; 32] = sha3::Keccak256::digest(&data).into();
            let mut tk = tiny_keccak::Keccak::v256();
            tk.update(&data);
            let mut tko = [0u8; 32];
            tk.finalize(&mut tko);
            assert_eq!(ours, rc, "len {len}");
            assert_eq!(ours, tko, "len {len}");
        }
    }
}
