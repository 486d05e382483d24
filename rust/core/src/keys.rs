//! Node keys of both stacks.
//!
//! * devp2p: secp256k1 through libsecp256k1 (the `secp256k1` crate). The wire
//!   form of a public key is 64 bytes X||Y; the node ID is keccak256 of it.
//! * Tendermint2: Ed25519 (dalek). The node ID is the bech32 "g" encoding of
//!   sha256(pubkey)[:20]; Go stores the private key as 64 bytes seed||pub.
use ed25519_dalek::{Signer, Verifier};
use secp256k1::{ecdh, ecdsa, Message, PublicKey, SecretKey, SECP256K1};
use sha2::{Digest as _, Sha256};

use crate::error::{CoreError, CoreResult};
use crate::hash::keccak256;

// ----------------------------------------------------------------- secp256k1

/// Parse a 32-byte secp256k1 secret (must be in [1, n-1]).
pub fn secp_secret(bytes: &[u8]) -> CoreResult<SecretKey> {
    SecretKey::from_slice(bytes)
        .map_err(|_| CoreError::invalid_key("secp256k1 secret key must be 32 bytes in [1, n-1]"))
}

/// A fresh random secret key from the OS RNG.
pub fn secp_generate() -> SecretKey {
    SecretKey::new(&mut rand::rngs::OsRng)
}

/// 64-byte X||Y form of the public key of `sk`.
pub fn secp_public64(sk: &SecretKey) -> [u8; 64] {
    pub64(&PublicKey::from_secret_key(SECP256K1, sk))
}

/// 64-byte X||Y form of a public key.
pub fn pub64(pk: &PublicKey) -> [u8; 64] {
    let full = pk.serialize_uncompressed();
    let mut out = [0u8; 64];
    out.copy_from_slice(&full[1..]);
    out
}

/// Import a public key given as 64 bytes (X||Y), 65 bytes (04||X||Y) or 33
/// bytes (compressed). The point must lie on the curve: an off-curve point
/// is how invalid-curve attacks start (go-ethereum PR #33669).
pub fn secp_public(bytes: &[u8]) -> CoreResult<PublicKey> {
    let res = match bytes.len() {
        64 => {
            let mut full = [0u8; 65];
            full[0] = 4;
            full[1..].copy_from_slice(bytes);
            PublicKey::from_slice(&full)
        }
        65 if bytes[0] == 4 => PublicKey::from_slice(bytes),
        33 => PublicKey::from_slice(bytes),
        n => {
            return Err(CoreError::invalid_key(format!(
                "secp256k1 public key of {n} bytes"
            )))
        }
    };
    res.map_err(|_| CoreError::invalid_key("secp256k1 public key is not a point on the curve"))
}

/// devp2p node ID: keccak256 of the 64-byte public key.
pub fn node_id(pub64: &[u8; 64]) -> [u8; 32] {
    keccak256(pub64)
}

/// Raw ECDH: the X coordinate of sk·P (what go-ethereum's `ecies.GenerateShared` returns).
pub fn secp_ecdh_x(sk: &SecretKey, pk: &PublicKey) -> [u8; 32] {
    let point = ecdh::shared_secret_point(pk, sk);
    let mut x = [0u8; 32];
    x.copy_from_slice(&point[..32]);
    x
}

/// Recoverable ECDSA over a 32-byte hash: 65 bytes r||s||v with v in {0,1}
/// and low S (libsecp256k1 always normalises S; signing uses RFC 6979).
pub fn secp_sign_recoverable(sk: &SecretKey, hash: &[u8; 32]) -> [u8; 65] {
    let msg = Message::from_digest(*hash);
    let sig = SECP256K1.sign_ecdsa_recoverable(&msg, sk);
    let (rid, rs) = sig.serialize_compact();
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&rs);
    out[64] = i32::from(rid) as u8;
    out
}

/// Recover the signer of a 65-byte r||s||v signature over a 32-byte hash.
pub fn secp_recover(hash: &[u8; 32], sig65: &[u8]) -> CoreResult<PublicKey> {
    if sig65.len() != 65 {
        return Err(CoreError::invalid_key(
            "recoverable signature must be 65 bytes",
        ));
    }
    let rid = ecdsa::RecoveryId::try_from(i32::from(sig65[64]))
        .map_err(|_| CoreError::invalid_key("signature recovery id out of range"))?;
    let sig = ecdsa::RecoverableSignature::from_compact(&sig65[..64], rid)
        .map_err(|_| CoreError::invalid_key("malformed signature"))?;
    SECP256K1
        .recover_ecdsa(&Message::from_digest(*hash), &sig)
        .map_err(|_| CoreError::invalid_key("signature does not recover a public key"))
}

/// Verify a 64-byte r||s signature, rejecting high-S forms (as ENR "v4" does).
pub fn secp_verify_low_s(pk: &PublicKey, hash: &[u8; 32], sig64: &[u8]) -> bool {
    let Ok(sig) = ecdsa::Signature::from_compact(sig64) else {
        return false;
    };
    let mut normal = sig;
    normal.normalize_s();
    if normal != sig {
        return false;
    }
    SECP256K1
        .verify_ecdsa(&Message::from_digest(*hash), &sig, pk)
        .is_ok()
}

// ------------------------------------------------------------------- ed25519

/// Human-readable part of TM2 bech32 addresses and IDs.
pub const TM2_BECH32_HRP: &str = "g";

/// An Ed25519 private key (zeroized on drop); named here so the bindings need no
/// direct dependency on the curve crate.
pub type Ed25519SigningKey = ed25519_dalek::SigningKey;

/// An Ed25519 key from its 32-byte seed.
pub fn ed25519_from_seed(seed: &[u8]) -> CoreResult<ed25519_dalek::SigningKey> {
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| CoreError::invalid_key("ed25519 seed must be 32 bytes"))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

/// Import Go's 64-byte seed||pub layout, checking the public half matches.
pub fn ed25519_from_go(bytes: &[u8]) -> CoreResult<ed25519_dalek::SigningKey> {
    if bytes.len() != 64 {
        return Err(CoreError::invalid_key(
            "Go ed25519 private key must be 64 bytes (seed||pub)",
        ));
    }
    let sk = ed25519_from_seed(&bytes[..32])?;
    if sk.verifying_key().as_bytes() != &bytes[32..] {
        return Err(CoreError::invalid_key(
            "ed25519 public half does not match the seed",
        ));
    }
    Ok(sk)
}

/// A fresh random Ed25519 key.
pub fn ed25519_generate() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng)
}

/// The 20-byte address: sha256(pub)[:20].
pub fn tm2_address(pubkey: &[u8; 32]) -> [u8; 20] {
    let digest = Sha256::digest(pubkey);
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest[..20]);
    out
}

/// bech32 (BIP-173) with HRP "g" over a 20-byte address.
pub fn tm2_bech32(addr: &[u8; 20]) -> String {
    let hrp = bech32::Hrp::parse_unchecked(TM2_BECH32_HRP);
    bech32::encode::<bech32::Bech32>(hrp, addr).expect("20 bytes always fit in a bech32 string")
}

/// Node ID of an Ed25519 public key.
pub fn tm2_id(pubkey: &[u8; 32]) -> String {
    tm2_bech32(&tm2_address(pubkey))
}

/// Decode a TM2 ID, requiring the "g" prefix, a valid BIP-173 checksum and a
/// 20-byte payload.
pub fn tm2_id_decode(id: &str) -> CoreResult<[u8; 20]> {
    let checked = bech32::primitives::decode::CheckedHrpstring::new::<bech32::Bech32>(id)
        .map_err(|e| CoreError::decode(format!("invalid bech32 id {id:?}: {e}")))?;
    if checked.hrp().as_str() != TM2_BECH32_HRP {
        return Err(CoreError::decode(format!(
            "id {id:?} does not have the \"g\" prefix"
        )));
    }
    let data: Vec<u8> = checked.byte_iter().collect();
    data.try_into()
        .map_err(|_| CoreError::decode(format!("id {id:?} is not a 20-byte address")))
}

/// Ed25519 signature helpers (used by the secret connection).
pub fn ed25519_sign(sk: &ed25519_dalek::SigningKey, msg: &[u8]) -> [u8; 64] {
    sk.sign(msg).to_bytes()
}

/// Verify an Ed25519 signature (strict: rejects non-canonical S).
pub fn ed25519_verify(pubkey: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(pk_bytes) = <[u8; 32]>::try_from(pubkey) else {
        return false;
    };
    let Ok(sig_bytes) = <[u8; 64]>::try_from(sig) else {
        return false;
    };
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&pk_bytes) else {
        return false;
    };
    let sig = ed25519_dalek::Signature::from_bytes(&sig_bytes);
    vk.verify(msg, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_address_id() {
        assert_eq!(
            tm2_bech32(&[0u8; 20]),
            "g1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqluuxe"
        );
        assert_eq!(
            tm2_id_decode("g1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqluuxe").unwrap(),
            [0u8; 20]
        );
        assert!(tm2_id_decode("g1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqluuxf").is_err());
    }

    #[test]
    fn secp_roundtrip_and_recover() {
        let sk = secp_generate();
        let p64 = secp_public64(&sk);
        let pk = secp_public(&p64).unwrap();
        let h = keccak256(b"msg");
        let sig = secp_sign_recoverable(&sk, &h);
        assert_eq!(secp_recover(&h, &sig).unwrap(), pk);
        assert!(secp_verify_low_s(&pk, &h, &sig[..64]));
    }

    #[test]
    fn off_curve_point_rejected() {
        let mut p = [0u8; 64];
        p[63] = 7;
        assert!(secp_public(&p).is_err());
    }

    #[test]
    fn go_layout_checked() {
        let sk = ed25519_from_seed(&[1u8; 32]).unwrap();
        let mut go = [0u8; 64];
        go[..32].copy_from_slice(&[1u8; 32]);
        go[32..].copy_from_slice(sk.verifying_key().as_bytes());
        assert!(ed25519_from_go(&go).is_ok());
        go[40] ^= 1;
        assert!(ed25519_from_go(&go).is_err());
    }
}
