//! TM2 secret-connection handshake: the 35-byte ephemeral message and the
//! 101-byte auth message (`Handshake::read_ephemeral`, `read_auth`).
//!
//! Input: mode byte, 35 bytes for the peer's ephemeral message, then the
//! auth stream. In mode "sealed" the peer's ephemeral key is a fixed valid
//! one and the auth plaintext is encrypted with the session keys it implies,
//! so the fuzzer reaches the auth layout, key and signature checks.
//! Invariant: never panics; a malformed ephemeral message or low-order point
//! is a typed handshake error; `read_auth` returns None (more bytes), the
//! established session, or a typed error, and only for a valid signature
//! over the challenge does it succeed.
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use peerwire_core::tm2::secret::{derive_secrets, Handshake, Secrets, Session, EPHEMERAL_MSG_SIZE};
use std::sync::OnceLock;
use x25519_dalek::{PublicKey, StaticSecret};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(mut hs) = Handshake::new(&[8u8; 32], Some([9u8; 32])) else {
        return;
    };
    if mode & 1 == 0 {
        // Raw: attacker-chosen ephemeral message and ciphertext.
        let split = rest.len().min(usize::from(mode >> 1));
        let (eph, auth) = rest.split_at(split);
        if hs.read_ephemeral(eph).is_ok() {
            let _ = common::feed_in_pieces(auth, &[mode, 0], |p| hs.read_auth(p).map(|_| ()));
        }
        return;
    }
    // The peer's side is the same for every input (both ephemeral keys are fixed): derive it
    // once, so each execution spends its curve work on the side under test.
    static PEER: OnceLock<([u8; EPHEMERAL_MSG_SIZE], [u8; 32], Secrets)> = OnceLock::new();
    let (eph, ours_then, secrets) = PEER.get_or_init(|| {
        let peer_secret = StaticSecret::from([10u8; 32]);
        let peer_pub = PublicKey::from(&peer_secret).to_bytes();
        let mut eph = [0u8; EPHEMERAL_MSG_SIZE];
        eph[..3].copy_from_slice(&[0x22, 0x0a, 0x20]);
        eph[3..].copy_from_slice(&peer_pub);
        let ours = hs.ephemeral_public();
        let dh = peer_secret.diffie_hellman(&PublicKey::from(ours));
        (eph, ours, derive_secrets(dh.as_bytes(), peer_pub <= ours))
    });
    hs.read_ephemeral(eph)
        .expect("a valid ephemeral key is accepted");
    assert_eq!(&hs.ephemeral_public(), ours_then);
    let mut peer = Session::new(secrets);
    let wire = peer.seal(rest).expect("sealing works");
    let _ = common::feed_in_pieces(&wire, &[mode >> 1, 0], |p| hs.read_auth(p).map(|_| ()));
});
