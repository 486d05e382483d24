//! gno's STS secret connection (`tm2/pkg/p2p/conn/secret_connection.go`), sans-IO.
//!
//! Handshake: both sides send a 35-byte plaintext ephemeral X25519 key
//! (`22 0a 20 <32 B>`), derive `HKDF-SHA256(dh, info) -> 96 bytes` split by
//! which ephemeral key sorts lower, then exchange inside the encrypted
//! stream a 101-byte auth message `64 0a 20 <ed25519 pub> 12 40 <sig>` where
//! `sig` signs the 32-byte challenge.
//!
//! Data: every chunk of at most 1024 bytes becomes one 1044-byte frame,
//! `ChaCha20Poly1305(LE32(len) || chunk || zero pad)`, with the nonce
//! `0000_0000 || LE64(counter)` counted separately per direction. The
//! plaintext is a byte stream: frame and message boundaries are unrelated.
//! [`Session::seal`] and [`Session::open`] handle all frames of a write or
//! of a socket buffer in one call.
use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{CoreError, CoreResult};

/// Length of the length header inside a frame.
pub const DATA_LEN_SIZE: usize = 4;
/// Largest chunk of data in one frame.
pub const DATA_MAX_SIZE: usize = 1024;
/// Plaintext frame size (header + padded chunk).
pub const TOTAL_FRAME_SIZE: usize = DATA_LEN_SIZE + DATA_MAX_SIZE;
/// Poly1305 tag length.
pub const AEAD_OVERHEAD: usize = 16;
/// Every frame on the wire has exactly this size.
pub const SEALED_FRAME_SIZE: usize = TOTAL_FRAME_SIZE + AEAD_OVERHEAD;
/// Size of the plaintext ephemeral-key message.
pub const EPHEMERAL_MSG_SIZE: usize = 35;
/// Size of the sized auth message (inside the encrypted stream).
pub const AUTH_MSG_SIZE: usize = 101;
/// HKDF info string.
pub const HKDF_INFO: &[u8] = b"TENDERMINT_SECRET_CONNECTION_KEY_AND_CHALLENGE_GEN";

/// X25519 points of small order, rejected as remote ephemeral keys (the
/// libsodium blacklist gno uses): with them the DH output is predictable.
pub const LOW_ORDER_POINTS: [[u8; 32]; 7] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    low_order_tail(0xec),
    low_order_tail(0xed),
    low_order_tail(0xee),
];

const fn low_order_tail(first: u8) -> [u8; 32] {
    let mut p = [0xffu8; 32];
    p[0] = first;
    p[31] = 0x7f;
    p
}

/// Constant-time check against [`LOW_ORDER_POINTS`].
pub fn has_small_order(p: &[u8; 32]) -> bool {
    let mut hit = subtle::Choice::from(0u8);
    for lo in &LOW_ORDER_POINTS {
        hit |= lo.ct_eq(p);
    }
    hit.into()
}

/// Output of the key schedule.
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    pub recv: [u8; 32],
    pub send: [u8; 32],
    pub challenge: [u8; 32],
}

/// `deriveSecretsAndChallenge`: HKDF-SHA256 of the DH secret, split by `loc_is_least`.
pub fn derive_secrets(dh: &[u8; 32], loc_is_least: bool) -> Secrets {
    let mut okm = [0u8; 96];
    Hkdf::<Sha256>::new(None, dh)
        .expand(HKDF_INFO, &mut okm)
        .expect("96 bytes is a valid HKDF-SHA256 output length");
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    let mut challenge = [0u8; 32];
    a.copy_from_slice(&okm[..32]);
    b.copy_from_slice(&okm[32..64]);
    challenge.copy_from_slice(&okm[64..]);
    let (recv, send) = if loc_is_least { (a, b) } else { (b, a) };
    Secrets {
        recv,
        send,
        challenge,
    }
}

/// The 12-byte nonce for a frame counter.
pub fn nonce_bytes(counter: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_le_bytes());
    n
}

/// One direction of the data phase.
///
/// The AEAD is ring's ChaCha20-Poly1305 (BoringSSL assembly): a frame is only
/// 1028 bytes, so the per-call setup cost decides throughput, and ring's is
/// several times lower than the portable RustCrypto crate's.
struct Direction {
    aead: ring::aead::LessSafeKey,
    counter: u64,
}

impl Direction {
    fn new(key: &[u8; 32]) -> Self {
        let unbound = ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, key)
            .expect("a 32-byte key is valid for ChaCha20-Poly1305");
        Direction {
            aead: ring::aead::LessSafeKey::new(unbound),
            counter: 0,
        }
    }

    /// The nonce for the next frame; never wraps (gno panics there, we error).
    fn next_nonce(&mut self) -> CoreResult<[u8; 12]> {
        if self.counter == u64::MAX {
            return Err(CoreError::frame(
                "nonce counter exhausted: the connection must be closed",
            ));
        }
        let n = nonce_bytes(self.counter);
        self.counter += 1;
        Ok(n)
    }
}

/// The encrypted data phase: seal outgoing bytes, open incoming bytes.
pub struct Session {
    send: Direction,
    recv: Direction,
    /// Ciphertext of an incomplete incoming frame (< 1044 bytes).
    partial: Vec<u8>,
}

impl Session {
    pub fn new(secrets: &Secrets) -> Self {
        Session {
            send: Direction::new(&secrets.send),
            recv: Direction::new(&secrets.recv),
            partial: Vec::new(),
        }
    }

    /// Number of sealed frames a write of `n` bytes produces.
    pub fn frames_for(n: usize) -> usize {
        n.div_ceil(DATA_MAX_SIZE)
    }

    /// Seal `data` into consecutive 1044-byte frames appended to `out`.
    /// An empty write sends nothing, like Go.
    pub fn seal_into(&mut self, data: &[u8], out: &mut Vec<u8>) -> CoreResult<()> {
        let start = out.len();
        out.resize(start + Self::frames_for(data.len()) * SEALED_FRAME_SIZE, 0);
        let res = self.seal_to_slice(data, &mut out[start..]);
        if res.is_err() {
            out.truncate(start);
        }
        res
    }

    /// Seal `data` into `out`, which must be exactly
    /// `frames_for(data.len()) * SEALED_FRAME_SIZE` bytes (lets the caller
    /// seal straight into its own buffer, e.g. a Python `bytes`).
    pub fn seal_to_slice(&mut self, data: &[u8], out: &mut [u8]) -> CoreResult<()> {
        if out.len() != Self::frames_for(data.len()) * SEALED_FRAME_SIZE {
            return Err(CoreError::local(
                "seal_to_slice: output size does not match the frame count",
            ));
        }
        for (chunk, frame) in data
            .chunks(DATA_MAX_SIZE)
            .zip(out.chunks_exact_mut(SEALED_FRAME_SIZE))
        {
            let nonce = self.send.next_nonce()?;
            let (body, tag_out) = frame.split_at_mut(TOTAL_FRAME_SIZE);
            body[..DATA_LEN_SIZE].copy_from_slice(&(chunk.len() as u32).to_le_bytes());
            body[DATA_LEN_SIZE..DATA_LEN_SIZE + chunk.len()].copy_from_slice(chunk);
            body[DATA_LEN_SIZE + chunk.len()..].fill(0);
            let tag = self
                .send
                .aead
                .seal_in_place_separate_tag(
                    ring::aead::Nonce::assume_unique_for_key(nonce),
                    ring::aead::Aad::empty(),
                    body,
                )
                .map_err(|_| CoreError::frame("ChaCha20-Poly1305 seal failed"))?;
            tag_out.copy_from_slice(tag.as_ref());
        }
        Ok(())
    }

    /// Seal `data`, returning the frames.
    pub fn seal(&mut self, data: &[u8]) -> CoreResult<Vec<u8>> {
        let mut out = Vec::new();
        self.seal_into(data, &mut out)?;
        Ok(out)
    }

    /// Feed received ciphertext; append the plaintext of every complete frame to `out`.
    /// An incomplete trailing frame is kept for the next call.
    pub fn open_into(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> CoreResult<()> {
        if !self.partial.is_empty() {
            let need = SEALED_FRAME_SIZE - self.partial.len();
            let take = need.min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() < SEALED_FRAME_SIZE {
                return Ok(());
            }
            let mut frame = std::mem::take(&mut self.partial);
            self.open_frame(&mut frame, out)?;
        }
        let mut chunks = data.chunks_exact(SEALED_FRAME_SIZE);
        out.reserve(data.len());
        for c in &mut chunks {
            // Decrypt in place at the end of `out`, then slide the chunk over its
            // 4-byte length header: one copy in, one short move, no scratch frame.
            let start = out.len();
            out.extend_from_slice(c);
            let len = match self.open_frame_in_place(&mut out[start..]) {
                Ok(len) => len,
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            };
            out.copy_within(start + DATA_LEN_SIZE..start + DATA_LEN_SIZE + len, start);
            out.truncate(start + len);
        }
        self.partial.extend_from_slice(chunks.remainder());
        Ok(())
    }

    /// Feed ciphertext, return the plaintext it completes.
    pub fn open(&mut self, data: &[u8]) -> CoreResult<Vec<u8>> {
        let mut out = Vec::with_capacity(data.len());
        self.open_into(data, &mut out)?;
        Ok(out)
    }

    /// Open one sealed frame in place; returns the chunk length (the chunk is at `frame[4..4 + len]`).
    fn open_frame_in_place(&mut self, frame: &mut [u8]) -> CoreResult<usize> {
        let nonce = self.recv.next_nonce()?;
        let body = self
            .recv
            .aead
            .open_in_place(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::empty(),
                frame,
            )
            .map_err(|_| CoreError::frame("failed to decrypt SecretConnection"))?;
        let len = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
        if len > DATA_MAX_SIZE {
            return Err(CoreError::frame("chunkLength is greater than dataMaxSize"));
        }
        Ok(len)
    }

    fn open_frame(&mut self, frame: &mut [u8], out: &mut Vec<u8>) -> CoreResult<()> {
        let len = self.open_frame_in_place(frame)?;
        out.extend_from_slice(&frame[DATA_LEN_SIZE..DATA_LEN_SIZE + len]);
        Ok(())
    }

    /// Bytes of an incomplete frame waiting for more ciphertext.
    pub fn pending_ciphertext(&self) -> usize {
        self.partial.len()
    }

    /// Test hook: set both frame counters (to exercise exhaustion).
    #[doc(hidden)]
    pub fn set_counters(&mut self, send: u64, recv: u64) {
        self.send.counter = send;
        self.recv.counter = recv;
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("send_counter", &self.send.counter)
            .field("recv_counter", &self.recv.counter)
            .finish_non_exhaustive()
    }
}

mod handshake;
pub use handshake::{Established, Handshake};

#[cfg(test)]
mod tests {
    use super::handshake::Stage;
    use super::*;
    use chacha20poly1305::aead::AeadInPlace;
    use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
    use ed25519_dalek::Signer;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn vectors() -> serde_json::Value {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/tm2.json");
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn golden_kdf_file() {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/tm2_kdf_golden.txt"
        );
        let text = std::fs::read_to_string(p).unwrap();
        let mut n = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split(',').collect();
            let dh: [u8; 32] = h(f[0]).try_into().unwrap();
            let s = derive_secrets(&dh, f[1] == "true");
            assert_eq!(hex::encode(s.recv), f[2]);
            assert_eq!(hex::encode(s.send), f[3]);
            assert_eq!(hex::encode(s.challenge), f[4]);
            n += 1;
        }
        assert_eq!(n, 32);
    }

    #[test]
    fn hkdf_extra_and_nonces() {
        let v = vectors();
        let dh: [u8; 32] = h(v["hkdf_extra"]["dh_secret"].as_str().unwrap())
            .try_into()
            .unwrap();
        let s = derive_secrets(&dh, true);
        let okm = hex::encode([s.recv, s.send, s.challenge].concat());
        assert_eq!(okm, v["hkdf_extra"]["okm"].as_str().unwrap());
        for case in v["nonce_layout"]["cases"].as_array().unwrap() {
            let inc = &case["increments_from_zero"];
            let c = match inc.as_u64() {
                Some(c) => c,
                None => {
                    u64::from_str_radix(inc.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
                }
            };
            assert_eq!(hex::encode(nonce_bytes(c)), case["nonce"].as_str().unwrap());
        }
    }

    #[test]
    fn blacklist_matches_vectors() {
        let v = vectors();
        let pts = v["low_order_blacklist"]["points"].as_array().unwrap();
        assert_eq!(pts.len(), 7);
        for (i, p) in pts.iter().enumerate() {
            assert_eq!(hex::encode(LOW_ORDER_POINTS[i]), p["hex"].as_str().unwrap());
        }
        assert!(!has_small_order(&[9u8; 32]));
    }

    fn pair() -> (Handshake, Handshake) {
        let a = Handshake::new(&[1u8; 32], Some([0x11; 32])).unwrap();
        let b = Handshake::new(&[2u8; 32], Some([0x22; 32])).unwrap();
        (a, b)
    }

    #[test]
    fn deterministic_handshake_vector() {
        let v = &vectors()["deterministic_handshake"];
        let s = |k: &str| v[k].as_str().unwrap().to_owned();
        let fr = |k: &str| v["frames"][k]["hex"].as_str().unwrap().to_owned();
        let (mut a, mut b) = pair();
        assert_eq!(hex::encode(a.ephemeral_message()), s("node_a_eph_message"));
        assert_eq!(hex::encode(b.ephemeral_message()), s("node_b_eph_message"));
        let fa = a.read_ephemeral(&b.ephemeral_message()).unwrap();
        let fb = b.read_ephemeral(&a.ephemeral_message()).unwrap();
        assert_eq!(fa.len(), SEALED_FRAME_SIZE);
        assert_eq!(hex::encode(&fa), fr("node_a_frame0"));
        assert_eq!(hex::encode(&fb), fr("node_b_frame0"));
        let ea = a.read_auth(&fb).unwrap().unwrap();
        assert!(b.read_auth(&fa[..500]).unwrap().is_none());
        let mut eb = b.read_auth(&fa[500..]).unwrap().unwrap();
        assert_eq!(hex::encode(ea.remote_public_key), s("node_b_pub_key"));
        assert_eq!(hex::encode(eb.remote_public_key), s("node_a_pub_key"));
        let mut sa = ea.session;
        let ping = h("0b0a092f7032702e50696e67");
        let f1 = sa.seal(&ping).unwrap();
        assert_eq!(hex::encode(&f1), fr("node_a_frame1"));
        assert_eq!(eb.session.open(&f1).unwrap(), ping);
        let dh: [u8; 32] = h(&s("dh_secret")).try_into().unwrap();
        let sec = derive_secrets(&dh, false);
        assert_eq!(hex::encode(sec.send), s("node_a_send_key"));
        assert_eq!(hex::encode(sec.challenge), s("challenge"));
    }

    #[test]
    fn stream_semantics_and_errors() {
        let (mut a, mut b) = pair();
        let fa = a.read_ephemeral(&b.ephemeral_message()).unwrap();
        let fb = b.read_ephemeral(&a.ephemeral_message()).unwrap();
        let mut sa = a.read_auth(&fb).unwrap().unwrap().session;
        let mut sb = b.read_auth(&fa).unwrap().unwrap().session;
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let wire = sa.seal(&data).unwrap();
        assert_eq!(wire.len(), 5 * SEALED_FRAME_SIZE);
        let mut got = Vec::new();
        for piece in wire.chunks(333) {
            got.extend(sb.open(piece).unwrap());
        }
        assert_eq!(got, data);
        assert!(sa.seal(&[]).unwrap().is_empty());
        // tampering
        let mut wire = sa.seal(b"x").unwrap();
        wire[10] ^= 1;
        assert_eq!(
            sb.open(&wire).unwrap_err(),
            CoreError::frame("failed to decrypt SecretConnection")
        );
        // nonce exhaustion
        sa.set_counters(u64::MAX - 1, 0);
        assert!(sa.seal(b"a").is_ok());
        assert!(sa.seal(b"a").is_err());
    }

    #[test]
    fn oversized_chunk_length_is_rejected() {
        let secrets = derive_secrets(&[7u8; 32], true);
        let mut peer = Session::new(&Secrets {
            recv: secrets.send,
            send: secrets.recv,
            challenge: secrets.challenge,
        });
        let mut me = Session::new(&secrets);
        // Hand-build a frame whose length header says 1025.
        let mut body = vec![0u8; TOTAL_FRAME_SIZE];
        body[..4].copy_from_slice(&1025u32.to_le_bytes());
        let aead = ChaCha20Poly1305::new(Key::from_slice(&secrets.recv));
        let tag = aead
            .encrypt_in_place_detached(Nonce::from_slice(&nonce_bytes(0)), &[], &mut body)
            .unwrap();
        body.extend_from_slice(&tag);
        assert_eq!(
            me.open(&body).unwrap_err(),
            CoreError::frame("chunkLength is greater than dataMaxSize")
        );
        let _ = peer.seal(b"ok").unwrap();
    }

    #[test]
    fn bad_handshake_inputs() {
        let (mut a, b) = pair();
        let mut m = b.ephemeral_message().to_vec();
        m.push(0);
        assert!(matches!(a.read_ephemeral(&m), Err(CoreError::Handshake(_))));
        for p in LOW_ORDER_POINTS {
            let (mut a, _) = pair();
            let mut m = vec![0x22, 0x0a, 0x20];
            m.extend_from_slice(&p);
            let e = a.read_ephemeral(&m).unwrap_err();
            assert_eq!(
                e,
                CoreError::handshake("detected low order point from remote peer")
            );
        }
        // wrong signature: B signs with a different challenge
        let (mut a, mut b) = pair();
        let _ = a.read_ephemeral(&b.ephemeral_message()).unwrap();
        let _ = b.read_ephemeral(&a.ephemeral_message()).unwrap();
        let Stage::Auth { session, .. } = &mut b.stage else {
            panic!()
        };
        let mut auth = vec![0x64, 0x0a, 0x20];
        auth.extend_from_slice(b.node.verifying_key().as_bytes());
        auth.extend_from_slice(&[0x12, 0x40]);
        auth.extend_from_slice(&b.node.sign(b"not the challenge").to_bytes());
        session.set_counters(0, 0);
        let frame = session.seal(&auth).unwrap();
        assert_eq!(
            a.read_auth(&frame).unwrap_err(),
            CoreError::handshake("challenge verification failed")
        );
        // wrong auth length
        let (mut a, mut b) = pair();
        let _ = a.read_ephemeral(&b.ephemeral_message()).unwrap();
        let _ = b.read_ephemeral(&a.ephemeral_message()).unwrap();
        let Stage::Auth { session, .. } = &mut b.stage else {
            panic!()
        };
        session.set_counters(0, 0);
        let frame = session.seal(&[0x66; 103]).unwrap();
        assert!(matches!(a.read_auth(&frame), Err(CoreError::Handshake(_))));
    }
}

#[cfg(test)]
mod perf {
    use super::*;
    use chacha20poly1305::aead::AeadInPlace;
    use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};

    #[test]
    #[ignore = "timing probe, run by hand"]
    fn seal_open_speed() {
        let s = derive_secrets(&[7u8; 32], true);
        let mut a = Session::new(&s);
        let mut b = Session::new(&Secrets {
            recv: s.send,
            send: s.recv,
            challenge: s.challenge,
        });
        let data = vec![5u8; 1 << 20];
        let t = std::time::Instant::now();
        for _ in 0..50 {
            let w = a.seal(&data).unwrap();
            let p = b.open(&w).unwrap();
            assert_eq!(p.len(), data.len());
        }
        let el = t.elapsed().as_secs_f64();
        eprintln!(
            "seal+open: {:.1} MB/s per direction",
            50.0 * (1 << 20) as f64 / el / 1e6
        );
        let aead = ChaCha20Poly1305::new(Key::from_slice(&[1u8; 32]));
        let mut buf = vec![0u8; 1 << 20];
        let t = std::time::Instant::now();
        for _ in 0..50 {
            let _ = aead
                .encrypt_in_place_detached(Nonce::from_slice(&[0u8; 12]), &[], &mut buf)
                .unwrap();
        }
        let el = t.elapsed().as_secs_f64();
        eprintln!(
            "raw rustcrypto 1MiB seal: {:.1} MB/s",
            50.0 * (1 << 20) as f64 / el / 1e6
        );
        let mut fb = vec![0u8; 1028];
        let t = std::time::Instant::now();
        for i in 0..50 * 1024u64 {
            let _ = aead
                .encrypt_in_place_detached(Nonce::from_slice(&nonce_bytes(i)), &[], &mut fb)
                .unwrap();
        }
        let el = t.elapsed().as_secs_f64();
        eprintln!(
            "raw rustcrypto 1028B frames seal: {:.1} MB/s",
            50.0 * (1 << 20) as f64 / el / 1e6
        );
        let t = std::time::Instant::now();
        for _ in 0..50 {
            let _ = a.seal(&data).unwrap();
        }
        let el = t.elapsed().as_secs_f64();
        eprintln!(
            "session seal only: {:.1} MB/s",
            50.0 * (1 << 20) as f64 / el / 1e6
        );
        let mut a2 = Session::new(&s);
        let wires: Vec<Vec<u8>> = (0..50).map(|_| a2.seal(&data).unwrap()).collect();
        let mut b2 = Session::new(&Secrets {
            recv: s.send,
            send: s.recv,
            challenge: s.challenge,
        });
        let t = std::time::Instant::now();
        for w in &wires {
            let _ = b2.open(w).unwrap();
        }
        let el = t.elapsed().as_secs_f64();
        eprintln!(
            "session open only: {:.1} MB/s",
            50.0 * (1 << 20) as f64 / el / 1e6
        );
    }
}
