//! TM2 secret-connection data frames (`Session::open_into`).
//!
//! Input: a plan byte, then 1028-byte plaintext frames (length header +
//! chunk + padding, all fuzzed) that the peer seals with the right key and
//! nonce, so the fuzzer reaches the length check behind the AEAD; a
//! trailing partial record goes on the wire unsealed (bad tag, short frame).
//! Invariant: `open_into` never panics; a frame whose length header exceeds
//! 1024 or whose tag is wrong is a typed error; a valid frame yields exactly
//! its chunk; pending ciphertext stays below one sealed frame.
#![no_main]
#[path = "common.rs"]
mod common;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use libfuzzer_sys::fuzz_target;
use peerwire_core::tm2::secret::{
    derive_secrets, nonce_bytes, Session, DATA_LEN_SIZE, DATA_MAX_SIZE, SEALED_FRAME_SIZE,
    TOTAL_FRAME_SIZE,
};

fuzz_target!(|data: &[u8]| {
    let Some((&plan, rest)) = data.split_first() else {
        return;
    };
    let dh = [5u8; 32];
    let mut ours = Session::new(&derive_secrets(&dh, true));
    let theirs = derive_secrets(&dh, false);
    let aead = ChaCha20Poly1305::new((&theirs.send).into());
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let mut all_valid = true;
    let mut chunks = rest.chunks_exact(TOTAL_FRAME_SIZE);
    for (counter, frame) in (&mut chunks).enumerate() {
        let mut body = frame.to_vec();
        let nonce = nonce_bytes(counter as u64);
        let tag = aead
            .encrypt_in_place_detached((&nonce).into(), b"", &mut body)
            .expect("sealing 1028 bytes works");
        wire.extend_from_slice(&body);
        wire.extend_from_slice(&tag);
        let len = u32::from_le_bytes(frame[..4].try_into().expect("4 bytes")) as usize;
        if all_valid && len <= DATA_MAX_SIZE {
            expected.extend_from_slice(&frame[DATA_LEN_SIZE..DATA_LEN_SIZE + len]);
        } else {
            all_valid = false;
        }
    }
    wire.extend_from_slice(chunks.remainder());
    let mut out = Vec::new();
    let res = common::feed_in_pieces(&wire, &[plan, plan.wrapping_mul(7), 0], |piece| {
        let r = ours.open_into(piece, &mut out);
        assert!(ours.pending_ciphertext() < SEALED_FRAME_SIZE);
        r
    });
    if all_valid {
        res.expect("correctly sealed valid frames open");
        assert_eq!(out, expected);
    } else {
        assert!(res.is_err(), "an oversize chunk length is refused");
    }
});
