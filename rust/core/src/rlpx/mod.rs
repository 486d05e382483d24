//! RLPx: the encrypted transport of devp2p, byte-compatible with
//! go-ethereum's `p2p/rlpx`.
//!
//! * [`ecies`]: the handshake's public-key encryption.
//! * [`handshake`]: EIP-8 auth/ack for both roles, sans-IO, and secret derivation.
//! * [`frame`]: the session codec (AES-256-CTR, running Keccak MACs, message
//!   codes, snappy), sealing and opening whole messages and batches.
pub mod ecies;
pub mod frame;
pub mod handshake;

pub use frame::{Message, Secrets, Session, MAX_FRAME_SIZE, MAX_PAYLOAD_SIZE};
pub use handshake::{AckMsg, AuthMsg, Handshake, Progress, MAX_HANDSHAKE_SIZE};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CoreError;
    use crate::hash::Digest;
    use crate::keys;
    use serde_json::Value;

    const EIP8: &str = include_str!("../../../../tests/vectors/rlpx_eip8.json");
    const FRAMES: &str = include_str!("../../../../tests/vectors/rlpx_frames.json");

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }
    fn v(j: &Value, path: &str) -> Vec<u8> {
        let mut cur = j;
        for p in path.split('.') {
            cur = &cur[p];
        }
        h(cur.as_str().unwrap_or_else(|| panic!("{path}")))
    }
    fn sk(j: &Value, name: &str) -> secp256k1::SecretKey {
        keys::secp_secret(&v(j, &format!("keys.{name}.hex"))).unwrap()
    }
    fn arr<const N: usize>(b: Vec<u8>) -> [u8; N] {
        b.try_into().unwrap()
    }
    fn eip8() -> Value {
        serde_json::from_str(EIP8).unwrap()
    }
    fn rest(j: &Value, pkt: &str) -> Vec<Vec<u8>> {
        j["packets"][pkt]["expected_decoded"]["rest"]
            .as_array()
            .map(|a| a.iter().map(|x| h(x.as_str().unwrap())).collect())
            .unwrap_or_default()
    }

    #[test]
    fn decode_eip8_auth_vectors() {
        let j = eip8();
        let b = sk(&j, "static_key_b");
        for (name, ver) in [("auth2", 4), ("auth3", 56)] {
            let pkt = v(&j, &format!("packets.{name}.hex"));
            let plain = ecies::decrypt(&b, &pkt[2..], &pkt[..2]).unwrap();
            let m = AuthMsg::decode(&plain).unwrap();
            assert_eq!(m.signature.to_vec(), v(&j, "auth_signature.hex"));
            assert_eq!(
                m.initiator_pubkey.to_vec(),
                v(&j, "public_keys.static_pub_a.hex")
            );
            assert_eq!(m.nonce.to_vec(), v(&j, "keys.nonce_a.hex"));
            assert_eq!(m.version, ver);
            assert_eq!(m.rest, rest(&j, name), "{name}");
        }
    }

    #[test]
    fn decode_eip8_ack_vectors() {
        let j = eip8();
        let a = sk(&j, "static_key_a");
        for (name, ver) in [("ack2", 4), ("ack3", 57)] {
            let pkt = v(&j, &format!("packets.{name}.hex"));
            let plain = ecies::decrypt(&a, &pkt[2..], &pkt[..2]).unwrap();
            let m = AckMsg::decode(&plain).unwrap();
            assert_eq!(
                m.ephemeral_pubkey.to_vec(),
                v(&j, "public_keys.ephemeral_pub_b.hex")
            );
            assert_eq!(m.nonce.to_vec(), v(&j, "keys.nonce_b.hex"));
            assert_eq!(m.version, ver);
            assert_eq!(m.rest, rest(&j, name), "{name}");
        }
    }

    fn mac_foo(mut st: crate::hash::Keccak256) -> Vec<u8> {
        Digest::update(&mut st, b"foo");
        st.finalize().to_vec()
    }

    fn done(p: Progress) -> (Vec<u8>, Secrets, Vec<u8>) {
        match p {
            Progress::Done {
                send,
                secrets,
                leftover,
            } => (send, *secrets, leftover),
            Progress::NeedMore => panic!("need more"),
        }
    }

    #[test]
    fn recipient_secrets_from_every_auth_vector() {
        let j = eip8();
        for name in ["auth2", "auth3"] {
            let pkt = v(&j, &format!("packets.{name}.hex"));
            let mut hs = Handshake::recipient_with(
                sk(&j, "static_key_b"),
                sk(&j, "ephemeral_key_b"),
                arr(v(&j, "keys.nonce_b.hex")),
                None,
            );
            // byte by byte: must only complete at the last byte
            for &byte in &pkt[..pkt.len() - 1] {
                assert!(matches!(hs.feed(&[byte]).unwrap(), Progress::NeedMore));
            }
            let (ack, s, left) = done(hs.feed(&pkt[pkt.len() - 1..]).unwrap());
            assert!(left.is_empty());
            assert_eq!(s.aes.to_vec(), v(&j, "secrets_b_auth2_ack2.aes_secret"));
            assert_eq!(s.mac.to_vec(), v(&j, "secrets_b_auth2_ack2.mac_secret"));
            assert_eq!(s.remote.to_vec(), v(&j, "public_keys.static_pub_a.hex"));
            if name == "auth2" {
                assert_eq!(
                    mac_foo(s.ingress_mac),
                    v(&j, "secrets_b_auth2_ack2.ingress_mac_foo")
                );
            }
            // our ack decrypts for A and carries ephPubB/nonceB, version 4
            let a = sk(&j, "static_key_a");
            let size = usize::from(u16::from_be_bytes([ack[0], ack[1]]));
            assert_eq!(size + 2, ack.len());
            let plain = ecies::decrypt(&a, &ack[2..], &ack[..2]).unwrap();
            let m = AckMsg::decode(&plain).unwrap();
            assert_eq!(
                m.ephemeral_pubkey.to_vec(),
                v(&j, "public_keys.ephemeral_pub_b.hex")
            );
            assert_eq!(m.version, 4);
            let pad = plain.len() - m.encode().len();
            assert!((100..=300).contains(&pad), "{pad}");
        }
    }

    #[test]
    fn initiator_secrets_from_every_ack_vector() {
        let j = eip8();
        let remote = keys::secp_public(&v(&j, "public_keys.static_pub_b.hex")).unwrap();
        for name in ["ack2", "ack3"] {
            let (mut hs, auth) = Handshake::initiator_with(
                &mut rand::rngs::OsRng,
                sk(&j, "static_key_a"),
                &remote,
                sk(&j, "ephemeral_key_a"),
                arr(v(&j, "keys.nonce_a.hex")),
                None,
            );
            // B can read our auth
            let plain = ecies::decrypt(&sk(&j, "static_key_b"), &auth[2..], &auth[..2]).unwrap();
            let m = AuthMsg::decode(&plain).unwrap();
            assert_eq!(m.nonce.to_vec(), v(&j, "keys.nonce_a.hex"));
            let mut pkt = v(&j, &format!("packets.{name}.hex"));
            pkt.extend_from_slice(b"tail");
            let (send, s, left) = done(hs.feed(&pkt).unwrap());
            assert!(send.is_empty());
            assert_eq!(left, b"tail");
            assert_eq!(s.aes.to_vec(), v(&j, "secrets_b_auth2_ack2.aes_secret"));
            assert_eq!(s.mac.to_vec(), v(&j, "secrets_b_auth2_ack2.mac_secret"));
            if name == "ack2" {
                assert_eq!(
                    mac_foo(s.ingress_mac),
                    v(&j, "intermediate_derived.b_egress_mac_foo")
                );
            }
        }
    }

    #[test]
    fn legacy_vectors_refused() {
        let j = eip8();
        let mut hs = Handshake::recipient(sk(&j, "static_key_b"));
        let e = hs.feed(&v(&j, "packets.auth1.hex")).err().unwrap();
        assert!(e.message().contains("legacy"), "{e}");
        let remote = keys::secp_public(&v(&j, "public_keys.static_pub_b.hex")).unwrap();
        let (mut hs, _) = Handshake::initiator(sk(&j, "static_key_a"), &remote);
        let e = hs.feed(&v(&j, "packets.ack1.hex")).err().unwrap();
        assert!(e.message().contains("legacy"), "{e}");
    }

    #[test]
    fn bad_handshake_inputs() {
        let j = eip8();
        let b = || Handshake::recipient(sk(&j, "static_key_b"));
        let auth2 = v(&j, "packets.auth2.hex");
        // size prefix > 2048
        let e = b().feed(&[0x08, 0x01]).err().unwrap();
        assert!(matches!(e, CoreError::Handshake(_)) && e.message().contains("too big"));
        // exactly 2048 is allowed (waits for more)
        assert!(matches!(
            b().feed(&[0x08, 0x00]).unwrap(),
            Progress::NeedMore
        ));
        // truncated: waits
        assert!(matches!(
            b().feed(&auth2[..300]).unwrap(),
            Progress::NeedMore
        ));
        // bad ECIES MAC
        let mut bad = auth2.clone();
        bad[200] ^= 1;
        assert!(matches!(b().feed(&bad), Err(CoreError::Handshake(_))));
        // size-prefix is MAC'd too
        let mut bad = auth2.clone();
        bad.push(0);
        bad[1] += 1;
        assert!(matches!(b().feed(&bad), Err(CoreError::Handshake(_))));
        // off-curve ephemeral point
        let mut bad = auth2.clone();
        bad[40] ^= 1;
        assert!(matches!(b().feed(&bad), Err(CoreError::InvalidKey(_))));
        // compressed-point prefix
        let mut bad = auth2.clone();
        bad[2] = 2;
        assert!(matches!(b().feed(&bad), Err(CoreError::InvalidKey(_))));
        // shorter than the ECIES overhead
        assert!(matches!(
            b().feed(&[0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(CoreError::Handshake(_))
        ));
        // used after failure
        let mut hs = b();
        let _ = hs.feed(&[0xff, 0xff]);
        assert!(matches!(hs.feed(&[]), Err(CoreError::Local(_))));
    }

    #[test]
    fn full_handshake_and_session() {
        let a = keys::secp_generate();
        let bk = keys::secp_generate();
        let bpub = keys::secp_public(&keys::secp_public64(&bk)).unwrap();
        let (mut ini, auth) = Handshake::initiator(a, &bpub);
        let mut rec = Handshake::recipient(bk);
        let (ack, sb, _) = done(rec.feed(&auth).unwrap());
        let (_, sa, _) = done(ini.feed(&ack).unwrap());
        assert_eq!(sb.remote, keys::secp_public64(&a));
        assert_eq!(sa.remote, keys::secp_public64(&bk));
        let mut sa = Session::new(sa);
        let mut sb = Session::new(sb);
        let mut wire = Vec::new();
        sa.seal(0x10, b"ping", &mut wire).unwrap();
        let mut got = Vec::new();
        sb.feed(&wire, &mut got).unwrap();
        assert_eq!(
            got,
            vec![Message {
                code: 0x10,
                payload: b"ping".to_vec()
            }]
        );
    }

    #[test]
    fn derived_end_to_end_frames() {
        let j = eip8();
        let f: Value = serde_json::from_str(FRAMES).unwrap();
        let auth2 = v(&j, "packets.auth2.hex");
        let ack2 = v(&j, "packets.ack2.hex");
        let na: [u8; 32] = arr(v(&j, "keys.nonce_a.hex"));
        let nb: [u8; 32] = arr(v(&j, "keys.nonce_b.hex"));
        let eph_pub_a = keys::secp_public(&v(&j, "public_keys.ephemeral_pub_a.hex")).unwrap();
        let eph_pub_b = keys::secp_public(&v(&j, "public_keys.ephemeral_pub_b.hex")).unwrap();
        let pub_a: [u8; 64] = arr(v(&j, "public_keys.static_pub_a.hex"));
        let pub_b: [u8; 64] = arr(v(&j, "public_keys.static_pub_b.hex"));
        let sa = handshake::derive_secrets(
            true,
            &sk(&j, "ephemeral_key_a"),
            &eph_pub_b,
            &na,
            &nb,
            &auth2,
            &ack2,
            pub_b,
        );
        let sb = handshake::derive_secrets(
            false,
            &sk(&j, "ephemeral_key_b"),
            &eph_pub_a,
            &na,
            &nb,
            &auth2,
            &ack2,
            pub_a,
        );
        assert_eq!(sa.aes.to_vec(), v(&f, "end_to_end_derived.aes_secret"));
        let mut a = Session::new(sa);
        let mut b = Session::new(sb);
        for fr in f["end_to_end_derived"]["frames"].as_array().unwrap() {
            let code = fr["msg_code"].as_u64().unwrap();
            let payload = h(fr["payload_rlp"].as_str().unwrap());
            let snappy = fr["snappy"].as_bool().unwrap();
            let want = h(fr["frame_hex"].as_str().unwrap());
            let (tx, rx) = if fr["direction"] == "A->B" {
                (&mut a, &mut b)
            } else {
                (&mut b, &mut a)
            };
            tx.set_snappy(snappy);
            rx.set_snappy(snappy);
            let mut wire = Vec::new();
            tx.seal(code, &payload, &mut wire).unwrap();
            assert_eq!(
                hex::encode(&wire),
                hex::encode(&want),
                "frame {}",
                fr["index"]
            );
            let mut got = Vec::new();
            rx.feed(&want, &mut got).unwrap();
            assert_eq!(got, vec![Message { code, payload }]);
        }
    }
}
