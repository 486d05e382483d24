//! discv5 cryptography (geth `v5wire/crypto.go`): header masking, AES-GCM
//! message sealing, the handshake ECDH, HKDF session keys and the ID-nonce
//! signature. Pure functions: randomness is always passed in.
use aes::cipher::{KeyIvInit, StreamCipher};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce as GcmNonce};
use hkdf::Hkdf;
use secp256k1::{ecdh, PublicKey, SecretKey, SECP256K1};
use sha2::{Digest as _, Sha256};

use crate::error::{CoreError, CoreResult};
use crate::keys;

/// AES-128 key size of the session keys.
pub const KEY_SIZE: usize = 16;
/// AES-GCM nonce size (the header `nonce` field).
pub const NONCE_SIZE: usize = 12;
/// AES-GCM tag appended to every message ciphertext.
pub const TAG_SIZE: usize = 16;
/// Size of a compressed secp256k1 public key (the ephemeral key on the wire).
pub const PUBKEY_SIZE: usize = 33;
/// Size of the r||s ID signature.
pub const SIGNATURE_SIZE: usize = 64;

const KDF_INFO: &[u8] = b"discovery v5 key agreement";
const ID_PROOF_PREFIX: &[u8] = b"discovery v5 identity proof";

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// Session keys from one handshake, as seen by the initiator.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    pub initiator_key: [u8; KEY_SIZE],
    pub recipient_key: [u8; KEY_SIZE],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(..)")
    }
}

/// XOR the AES-128-CTR mask (key = `dest_id[0:16]`, IV = masking IV) into
/// `data` in place. Masking and unmasking are the same operation; one CTR
/// stream covers the static header and then the authdata.
pub fn apply_mask(dest_id: &[u8; 32], iv: &[u8; 16], data: &mut [u8]) {
    let mut key = [0u8; 16];
    key.copy_from_slice(&dest_id[..16]);
    let mut stream = Aes128Ctr::new(&key.into(), iv.into());
    stream.apply_keystream(data);
}

/// The AES-128-CTR masking stream for a packet to `dest_id`: feed it the
/// static header, then the authdata, in order.
pub struct Mask(Aes128Ctr);

impl Mask {
    pub fn new(dest_id: &[u8; 32], iv: &[u8; 16]) -> Mask {
        let mut key = [0u8; 16];
        key.copy_from_slice(&dest_id[..16]);
        Mask(Aes128Ctr::new(&key.into(), iv.into()))
    }

    pub fn apply(&mut self, data: &mut [u8]) {
        self.0.apply_keystream(data);
    }
}

/// Compressed shared point (33 bytes): `(0x02 | (Y & 1)) || X` of sk·P.
pub fn ecdh(sk: &SecretKey, pk: &PublicKey) -> [u8; PUBKEY_SIZE] {
    let point = ecdh::shared_secret_point(pk, sk);
    let mut out = [0u8; PUBKEY_SIZE];
    out[0] = 0x02 | (point[63] & 1);
    out[1..].copy_from_slice(&point[..32]);
    out
}

/// HKDF-SHA256 session keys: salt = challenge data, ikm = ECDH secret,
/// info = "discovery v5 key agreement" || initiator id || recipient id.
pub fn derive_keys(
    sk: &SecretKey,
    pk: &PublicKey,
    initiator_id: &[u8; 32],
    recipient_id: &[u8; 32],
    challenge_data: &[u8],
) -> SessionKeys {
    let secret = ecdh(sk, pk);
    let mut info = Vec::with_capacity(KDF_INFO.len() + 64);
    info.extend_from_slice(KDF_INFO);
    info.extend_from_slice(initiator_id);
    info.extend_from_slice(recipient_id);
    let hk = Hkdf::<Sha256>::new(Some(challenge_data), &secret);
    let mut okm = [0u8; 2 * KEY_SIZE];
    // 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
    hk.expand(&info, &mut okm)
        .unwrap_or_else(|_| unreachable!("HKDF output of 32 bytes is always valid"));
    let mut keys = SessionKeys {
        initiator_key: [0; KEY_SIZE],
        recipient_key: [0; KEY_SIZE],
    };
    keys.initiator_key.copy_from_slice(&okm[..KEY_SIZE]);
    keys.recipient_key.copy_from_slice(&okm[KEY_SIZE..]);
    keys
}

/// sha256("discovery v5 identity proof" || challenge-data || eph-pubkey || dest-id).
pub fn id_nonce_hash(challenge_data: &[u8], eph_pubkey: &[u8], dest_id: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(ID_PROOF_PREFIX);
    h.update(challenge_data);
    h.update(eph_pubkey);
    h.update(dest_id);
    h.finalize().into()
}

/// The 64-byte r||s ID signature (RFC 6979, low S, as geth's `crypto.Sign`).
pub fn make_id_signature(
    sk: &SecretKey,
    challenge_data: &[u8],
    eph_pubkey: &[u8],
    dest_id: &[u8; 32],
) -> [u8; SIGNATURE_SIZE] {
    let hash = id_nonce_hash(challenge_data, eph_pubkey, dest_id);
    let sig = keys::secp_sign_recoverable(sk, &hash);
    let mut out = [0u8; SIGNATURE_SIZE];
    out.copy_from_slice(&sig[..SIGNATURE_SIZE]);
    out
}

/// Check an ID signature against the signer's static key (high S rejected).
pub fn verify_id_signature(
    pk: &PublicKey,
    sig: &[u8],
    challenge_data: &[u8],
    eph_pubkey: &[u8],
    dest_id: &[u8; 32],
) -> CoreResult<()> {
    let hash = id_nonce_hash(challenge_data, eph_pubkey, dest_id);
    if sig.len() == SIGNATURE_SIZE && keys::secp_verify_low_s(pk, &hash, sig) {
        Ok(())
    } else {
        Err(CoreError::handshake("invalid ID nonce signature"))
    }
}

/// Parse a 33-byte compressed ephemeral key (must be on the curve).
pub fn decode_pubkey(bytes: &[u8]) -> CoreResult<PublicKey> {
    if bytes.len() != PUBKEY_SIZE {
        return Err(CoreError::handshake("invalid ephemeral pubkey size"));
    }
    PublicKey::from_slice(bytes).map_err(|_| CoreError::handshake("invalid ephemeral pubkey"))
}

/// Compressed form of the public key of `sk`.
pub fn compressed_pubkey(sk: &SecretKey) -> [u8; PUBKEY_SIZE] {
    PublicKey::from_secret_key(SECP256K1, sk).serialize()
}

/// AES-128-GCM seal: ciphertext || 16-byte tag.
pub fn encrypt_gcm(
    key: &[u8; KEY_SIZE],
    nonce: &[u8; NONCE_SIZE],
    pt: &[u8],
    ad: &[u8],
) -> Vec<u8> {
    let cipher = Aes128Gcm::new(key.into());
    cipher
        .encrypt(GcmNonce::from_slice(nonce), Payload { msg: pt, aad: ad })
        .unwrap_or_else(|_| unreachable!("GCM encryption of a packet-sized buffer cannot fail"))
}

/// AES-128-GCM open; any failure (short input, bad tag) is one error.
pub fn decrypt_gcm(
    key: &[u8; KEY_SIZE],
    nonce: &[u8; NONCE_SIZE],
    ct: &[u8],
    ad: &[u8],
) -> CoreResult<Vec<u8>> {
    let cipher = Aes128Gcm::new(key.into());
    cipher
        .decrypt(GcmNonce::from_slice(nonce), Payload { msg: ct, aad: ad })
        .map_err(|_| CoreError::frame("cannot decrypt message"))
}
