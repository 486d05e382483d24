//! Ethereum Node Records (EIP-778) with the "v4" identity scheme.
//!
//! A record is `RLP [signature, seq, k1, v1, k2, v2, ...]`: keys are byte
//! strings, sorted byte-wise and unique; each value is an arbitrary RLP item
//! that we keep in its raw encoded form (go-ethereum does the same), so a
//! record we relay is byte-identical to the one we received.
//!
//! Decoding checks the structure only; [`Record::verify_v4`] checks the
//! signature (as `enode.New(ValidSchemes, r)` does in geth). Signing uses
//! RFC 6979 nonces and low S (libsecp256k1), which reproduces the EIP-778
//! vector byte for byte; verification rejects high-S signatures.
use secp256k1::SecretKey;

use crate::error::{CoreError, CoreResult};
use crate::hash::keccak256;
use crate::keys;
use crate::rlp::{self, Item};

/// Maximum encoded size of a record. Stops a peer from making us store and
/// relay arbitrarily large blobs (EIP-778, geth `enr.SizeLimit`).
pub const SIZE_LIMIT: usize = 300;

/// Maximum length of an `enr:` text form: base64 of [`SIZE_LIMIT`] bytes.
/// Checked before decoding so a huge string costs nothing.
pub const MAX_TEXT_LEN: usize = 4 + SIZE_LIMIT.div_ceil(3) * 4;

/// The text-form prefix.
pub const TEXT_PREFIX: &str = "enr:";

/// The only identity scheme valid in production.
pub const SCHEME_V4: &[u8] = b"v4";

/// A decoded record: signature, seq and the sorted key/raw-value pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    signature: Vec<u8>,
    seq: u64,
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    raw: Vec<u8>,
}

impl Record {
    /// Decode the binary (RLP) form. Does not verify the signature.
    pub fn decode(data: &[u8]) -> CoreResult<Record> {
        if data.len() > SIZE_LIMIT {
            return Err(CoreError::decode(format!(
                "record of {} bytes exceeds the {SIZE_LIMIT}-byte limit",
                data.len()
            )));
        }
        let item = rlp::decode(data)?;
        let list = item.as_list()?;
        if list.len() < 2 {
            return Err(CoreError::decode(
                "record contains less than two list elements",
            ));
        }
        let signature = list[0].as_bytes()?.to_vec();
        let seq = list[1].as_u64()?;
        let kv = &list[2..];
        if kv.len() % 2 != 0 {
            return Err(CoreError::decode("record has an incomplete k/v pair"));
        }
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(kv.len() / 2);
        for chunk in kv.chunks_exact(2) {
            let key = chunk[0].as_bytes()?.to_vec();
            if let Some((prev, _)) = pairs.last() {
                match prev.as_slice().cmp(key.as_slice()) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => {
                        return Err(CoreError::decode("record has a duplicate key"))
                    }
                    std::cmp::Ordering::Greater => {
                        return Err(CoreError::decode("record is not sorted by key"))
                    }
                }
            }
            // alloy-rlp only accepts canonical input, so re-encoding the item
            // gives back exactly the bytes we received.
            pairs.push((key, rlp::encode(&chunk[1])));
        }
        Ok(Record {
            signature,
            seq,
            pairs,
            raw: data.to_vec(),
        })
    }

    /// Decode the `enr:<base64url>` text form (unpadded, URL-safe alphabet).
    pub fn from_text(text: &str) -> CoreResult<Record> {
        let body = text
            .strip_prefix(TEXT_PREFIX)
            .ok_or_else(|| CoreError::decode("ENR text must start with \"enr:\""))?;
        if text.len() > MAX_TEXT_LEN {
            return Err(CoreError::decode(format!(
                "ENR text longer than {MAX_TEXT_LEN} characters"
            )));
        }
        Record::decode(&base64url_decode(body)?)
    }

    /// The `enr:` text form.
    pub fn to_text(&self) -> String {
        format!("{TEXT_PREFIX}{}", base64url_encode(&self.raw))
    }

    /// Build and sign a "v4" record. `pairs` are (key, raw RLP value); `id`
    /// and `secp256k1` are set from the key and must not be given.
    pub fn sign_v4(sk: &SecretKey, seq: u64, pairs: &[(Vec<u8>, Vec<u8>)]) -> CoreResult<Record> {
        let mut all: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(pairs.len() + 2);
        for (k, v) in pairs {
            if k.as_slice() == b"id" || k.as_slice() == b"secp256k1" {
                return Err(CoreError::local(
                    "the v4 scheme sets \"id\" and \"secp256k1\" itself",
                ));
            }
            // Each value must be exactly one RLP item.
            rlp::decode(v)?;
            all.push((k.clone(), v.clone()));
        }
        let pk = secp256k1::PublicKey::from_secret_key(secp256k1::SECP256K1, sk);
        let mut idv = Vec::new();
        rlp::encode_bytes(&mut idv, SCHEME_V4);
        let mut pkv = Vec::new();
        rlp::encode_bytes(&mut pkv, &pk.serialize());
        all.push((b"id".to_vec(), idv));
        all.push((b"secp256k1".to_vec(), pkv));
        all.sort_by(|a, b| a.0.cmp(&b.0));
        if all.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(CoreError::local("duplicate key in record"));
        }
        let content = content_rlp(seq, &all);
        let sig65 = keys::secp_sign_recoverable(sk, &keccak256(&content));
        let signature = sig65[..64].to_vec();
        let raw = record_rlp(&signature, seq, &all);
        if raw.len() > SIZE_LIMIT {
            return Err(CoreError::local(format!(
                "signed record of {} bytes exceeds the {SIZE_LIMIT}-byte limit",
                raw.len()
            )));
        }
        Ok(Record {
            signature,
            seq,
            pairs: all,
            raw,
        })
    }

    /// Check the "v4" signature; returns the signer's 64-byte public key.
    pub fn verify_v4(&self) -> CoreResult<[u8; 64]> {
        let scheme = self
            .get_bytes(b"id")?
            .ok_or_else(|| CoreError::invalid_key("record has no identity scheme"))?;
        if scheme != SCHEME_V4 {
            return Err(CoreError::invalid_key(format!(
                "unknown identity scheme {:?}",
                String::from_utf8_lossy(&scheme)
            )));
        }
        let pk = self.public_key()?;
        if self.signature.len() != 64 {
            return Err(CoreError::invalid_key("v4 signature must be 64 bytes"));
        }
        let hash = keccak256(&content_rlp(self.seq, &self.pairs));
        if !keys::secp_verify_low_s(&pk, &hash, &self.signature) {
            return Err(CoreError::invalid_key("invalid record signature"));
        }
        Ok(keys::pub64(&pk))
    }

    /// The public key in the `secp256k1` entry (not a proof of signature).
    pub fn public_key(&self) -> CoreResult<secp256k1::PublicKey> {
        let raw = self
            .get_bytes(b"secp256k1")?
            .ok_or_else(|| CoreError::invalid_key("record has no \"secp256k1\" key"))?;
        if raw.len() != 33 {
            return Err(CoreError::invalid_key(
                "\"secp256k1\" entry must be a 33-byte compressed key",
            ));
        }
        keys::secp_public(&raw)
    }

    /// Node ID: keccak256 of the 64-byte public key.
    pub fn node_id(&self) -> CoreResult<[u8; 32]> {
        Ok(keys::node_id(&keys::pub64(&self.public_key()?)))
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    /// The encoded record.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
    /// The (key, raw RLP value) pairs in key order.
    pub fn pairs(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.pairs
    }

    /// The raw RLP value of `key`.
    pub fn get_raw(&self, key: &[u8]) -> Option<&[u8]> {
        self.pairs
            .binary_search_by(|(k, _)| k.as_slice().cmp(key))
            .ok()
            .map(|i| self.pairs[i].1.as_slice())
    }

    /// The value of `key` when it is an RLP string.
    pub fn get_bytes(&self, key: &[u8]) -> CoreResult<Option<Vec<u8>>> {
        match self.get_raw(key) {
            None => Ok(None),
            Some(raw) => match rlp::decode(raw)? {
                Item::Bytes(b) => Ok(Some(b)),
                Item::List(_) => Err(CoreError::decode(format!(
                    "record entry {:?} is a list",
                    String::from_utf8_lossy(key)
                ))),
            },
        }
    }

    /// A uint16 entry (ports: `tcp`, `udp`, `tcp6`, `udp6`).
    pub fn get_port(&self, key: &[u8]) -> CoreResult<Option<u16>> {
        match self.get_bytes(key)? {
            None => Ok(None),
            Some(b) => {
                let v = rlp::decode_uint(&b)?;
                u16::try_from(v)
                    .map(Some)
                    .map_err(|_| CoreError::decode("port does not fit in 16 bits"))
            }
        }
    }

    /// The `ip` entry (4 bytes) or `ip6` entry (16 bytes).
    pub fn get_ip(&self, key: &[u8], len: usize) -> CoreResult<Option<Vec<u8>>> {
        match self.get_bytes(key)? {
            None => Ok(None),
            Some(b) if b.len() == len => Ok(Some(b)),
            Some(b) => Err(CoreError::decode(format!(
                "{:?} entry of {} bytes, want {len}",
                String::from_utf8_lossy(key),
                b.len()
            ))),
        }
    }
}

fn kv_payload(seq: u64, pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut payload = Vec::new();
    rlp::encode_uint(&mut payload, seq);
    for (k, v) in pairs {
        rlp::encode_bytes(&mut payload, k);
        payload.extend_from_slice(v);
    }
    payload
}

/// `RLP [seq, k1, v1, ...]`: what the signature covers.
pub fn content_rlp(seq: u64, pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    rlp::encode_list_payload(&mut out, &kv_payload(seq, pairs));
    out
}

fn record_rlp(signature: &[u8], seq: u64, pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut payload = Vec::new();
    rlp::encode_bytes(&mut payload, signature);
    payload.extend_from_slice(&kv_payload(seq, pairs));
    let mut out = Vec::new();
    rlp::encode_list_payload(&mut out, &payload);
    out
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url (Go's `base64.RawURLEncoding`).
pub fn base64url_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(B64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Decode unpadded base64url; padding and foreign characters are errors.
pub fn base64url_decode(text: &str) -> CoreResult<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return Err(CoreError::decode("invalid base64 length"));
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n: u32 = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return Err(CoreError::decode("invalid base64url character")),
            };
            n |= u32::from(v) << (18 - 6 * i);
        }
        let full = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&full[..chunk.len() - 1]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
    const KEY: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

    fn sk() -> SecretKey {
        keys::secp_secret(&hex::decode(KEY).unwrap()).unwrap()
    }

    #[test]
    fn eip778_vector_decodes_verifies_and_reproduces() {
        let r = Record::from_text(TEXT).unwrap();
        assert_eq!(r.seq(), 1);
        r.verify_v4().unwrap();
        assert_eq!(
            hex::encode(r.node_id().unwrap()),
            "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7"
        );
        assert_eq!(r.get_ip(b"ip", 4).unwrap().unwrap(), [127, 0, 0, 1]);
        assert_eq!(r.get_port(b"udp").unwrap(), Some(30303));
        assert_eq!(r.to_text(), TEXT);
        let mut ip = Vec::new();
        rlp::encode_bytes(&mut ip, &[127, 0, 0, 1]);
        let mut udp = Vec::new();
        rlp::encode_uint(&mut udp, 30303);
        let signed =
            Record::sign_v4(&sk(), 1, &[(b"udp".to_vec(), udp), (b"ip".to_vec(), ip)]).unwrap();
        assert_eq!(signed.to_text(), TEXT);
    }

    #[test]
    fn high_s_rejected() {
        let r = Record::from_text(TEXT).unwrap();
        // s' = n - s is the malleable twin; libsecp256k1 would accept it.
        let n = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
            .unwrap();
        let s = &r.signature()[32..];
        let mut hi = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(n[i]) - i16::from(s[i]) - borrow;
            borrow = i16::from(d < 0);
            hi[i] = (d + if d < 0 { 256 } else { 0 }) as u8;
        }
        let mut sig = r.signature()[..32].to_vec();
        sig.extend_from_slice(&hi);
        let raw = record_rlp(&sig, r.seq(), r.pairs());
        let bad = Record::decode(&raw).unwrap();
        assert!(bad.verify_v4().is_err());
    }

    #[test]
    fn structure_errors() {
        let pairs = |ks: &[&[u8]]| {
            let mut payload = Vec::new();
            rlp::encode_bytes(&mut payload, &[0u8; 64]);
            rlp::encode_uint(&mut payload, 1);
            for k in ks {
                rlp::encode_bytes(&mut payload, k);
                rlp::encode_bytes(&mut payload, b"x");
            }
            let mut out = Vec::new();
            rlp::encode_list_payload(&mut out, &payload);
            out
        };
        assert!(Record::decode(&pairs(&[b"a", b"b"])).is_ok());
        assert!(Record::decode(&pairs(&[b"b", b"a"])).is_err());
        assert!(Record::decode(&pairs(&[b"a", b"a"])).is_err());
        assert!(Record::decode(&[0xc1, 0x80]).is_err());
        let big = pairs(&[&[b'k'; 250]]);
        assert!(big.len() > SIZE_LIMIT && Record::decode(&big).is_err());
        let mut big_value = Vec::new();
        rlp::encode_bytes(&mut big_value, &[1u8; 300]);
        assert!(Record::sign_v4(&sk(), 1, &[(b"x".to_vec(), big_value)]).is_err());
    }

    #[test]
    fn base64_roundtrip() {
        for len in 0..20 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
            assert_eq!(base64url_decode(&base64url_encode(&data)).unwrap(), data);
        }
        assert!(base64url_decode("ab=").is_err());
        assert!(base64url_decode("a").is_err());
    }
}
