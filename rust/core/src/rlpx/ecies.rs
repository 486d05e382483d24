//! ECIES over secp256k1 as go-ethereum's `crypto/ecies` does it for RLPx
//! (`ECIES_AES128_SHA256`): ECDH, concat-KDF with SHA-256, AES-128-CTR and
//! HMAC-SHA256 over `iv || ciphertext || s2`.
//!
//! Only the two handshake messages use it. `s1` (KDF shared info) is always
//! empty in RLPx, so it is not a parameter here.
use aes::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secp256k1::{PublicKey, SecretKey};
use sha2::{Digest as _, Sha256};

use crate::error::{CoreError, CoreResult};
use crate::keys;

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;
type HmacSha256 = Hmac<Sha256>;

/// Bytes ECIES adds to a plaintext: ephemeral key (65), IV (16), tag (32).
pub const OVERHEAD: usize = 65 + 16 + 32;

/// Encryption keys `(kE, kM)` from the ECDH X coordinate `z`:
/// `K = SHA256(00000001 || z)`, `kE = K[0:16]`, `kM = SHA256(K[16:32])`.
fn derive_keys(z: &[u8; 32]) -> ([u8; 16], [u8; 32]) {
    let mut h = Sha256::new();
    h.update(1u32.to_be_bytes());
    h.update(z);
    let k = h.finalize();
    let mut ke = [0u8; 16];
    ke.copy_from_slice(&k[..16]);
    let km: [u8; 32] = Sha256::digest(&k[16..32]).into();
    (ke, km)
}

fn tag(km: &[u8; 32], iv_and_ct: &[u8], s2: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(km).expect("HMAC takes any key length");
    mac.update(iv_and_ct);
    mac.update(s2);
    mac
}

/// Encrypt `plain` to `remote` with a fresh ephemeral key and IV from `rng`.
pub fn encrypt(rng: &mut impl RngCore, remote: &PublicKey, plain: &[u8], s2: &[u8]) -> Vec<u8> {
    let eph = SecretKey::new(rng);
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut iv);
    encrypt_with(&eph, &iv, remote, plain, s2)
}

/// Deterministic core of [`encrypt`] (tests pin the ephemeral key and IV).
pub fn encrypt_with(
    eph: &SecretKey,
    iv: &[u8; 16],
    remote: &PublicKey,
    plain: &[u8],
    s2: &[u8],
) -> Vec<u8> {
    let z = keys::secp_ecdh_x(eph, remote);
    let (ke, km) = derive_keys(&z);
    let mut out = Vec::with_capacity(plain.len() + OVERHEAD);
    out.push(4);
    out.extend_from_slice(&keys::secp_public64(eph));
    out.extend_from_slice(iv);
    let ct_start = out.len();
    out.extend_from_slice(plain);
    Aes128Ctr::new(&ke.into(), iv.into()).apply_keystream(&mut out[ct_start..]);
    let d = tag(&km, &out[65..], s2).finalize().into_bytes();
    out.extend_from_slice(&d);
    out
}

/// Decrypt a message for `own`. Fails with [`CoreError::Handshake`] when the
/// message is too short, the tag does not verify, or with
/// [`CoreError::InvalidKey`] when the ephemeral key is not a curve point
/// (an off-curve point would turn ECDH into an invalid-curve oracle,
/// go-ethereum PR #33669).
pub fn decrypt(own: &SecretKey, msg: &[u8], s2: &[u8]) -> CoreResult<Vec<u8>> {
    if msg.len() < OVERHEAD {
        return Err(CoreError::handshake(format!(
            "ECIES message of {} bytes is shorter than the {OVERHEAD}-byte overhead",
            msg.len()
        )));
    }
    match msg[0] {
        2..=4 => {}
        b => {
            return Err(CoreError::invalid_key(format!(
                "ECIES ephemeral key has prefix {b:#04x}"
            )))
        }
    }
    // Like go-ethereum, the key is always read as 65 uncompressed bytes; a
    // 0x02/0x03 prefix therefore fails here too.
    if msg[0] != 4 {
        return Err(CoreError::invalid_key(
            "ECIES ephemeral key is not an uncompressed point",
        ));
    }
    let remote = keys::secp_public(&msg[..65])?;
    let z = keys::secp_ecdh_x(own, &remote);
    let (ke, km) = derive_keys(&z);
    let body = &msg[65..msg.len() - 32];
    let want = &msg[msg.len() - 32..];
    tag(&km, body, s2)
        .verify_slice(want)
        .map_err(|_| CoreError::handshake("ECIES MAC mismatch"))?;
    let (iv, ct) = body.split_at(16);
    let mut plain = ct.to_vec();
    let iv: [u8; 16] = iv.try_into().expect("split at 16");
    Aes128Ctr::new(&ke.into(), &iv.into()).apply_keystream(&mut plain);
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_tamper() {
        let sk = keys::secp_generate();
        let pk = keys::secp_public(&keys::secp_public64(&sk)).unwrap();
        let msg = encrypt(&mut rand::rngs::OsRng, &pk, b"hello ecies", b"\x01\x02");
        assert_eq!(msg.len(), 11 + OVERHEAD);
        assert_eq!(decrypt(&sk, &msg, b"\x01\x02").unwrap(), b"hello ecies");
        // wrong s2, flipped ciphertext, flipped tag: all MAC failures
        assert!(matches!(
            decrypt(&sk, &msg, b"\x01\x03"),
            Err(CoreError::Handshake(_))
        ));
        for i in [70, 90, msg.len() - 1] {
            let mut bad = msg.clone();
            bad[i] ^= 1;
            assert!(matches!(
                decrypt(&sk, &bad, b"\x01\x02"),
                Err(CoreError::Handshake(_))
            ));
        }
        // off-curve ephemeral key
        let mut bad = msg.clone();
        bad[64] ^= 1;
        assert!(matches!(
            decrypt(&sk, &bad, b"\x01\x02"),
            Err(CoreError::InvalidKey(_))
        ));
        // too short
        assert!(decrypt(&sk, &msg[..100], b"").is_err());
    }
}
