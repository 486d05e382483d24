//! Official discv5.1 vectors (devp2p `discv5-wire-test-vectors.md`, identical
//! to geth `v5wire/testdata`) and the codec's session rules.
use serde_json::Value;

use super::crypto;
use super::message::{Message, MAX_REQUEST_ID};
use super::packet::{self, HandshakeInput};
use super::session::{Codec, Packet, MAX_PENDING_CHALLENGES, SESSION_CACHE_SIZE, WHOAREYOU_SIZE};
use crate::enr::Record;
use crate::error::CoreError;
use crate::keys;

const VECTORS: &str = include_str!("../../../../tests/vectors/discv5.json");
const ADDR: &str = "127.0.0.1:30303";

fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn arr<const N: usize>(s: &str) -> [u8; N] {
    hx(s).try_into().unwrap()
}

fn v() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or_else(|| panic!("missing {path:?}"))
}

fn pkt(v: &Value, i: usize) -> &Value {
    &v["packets"][i]
}

fn key_a(v: &Value) -> Vec<u8> {
    hx(s(v, &["keys", "node_a", "private_key"]))
}

fn key_b(v: &Value) -> Vec<u8> {
    hx(s(v, &["keys", "node_b", "private_key"]))
}

/// A's signed record as embedded in the handshake-with-ENR vector.
fn record_a(v: &Value) -> Vec<u8> {
    hx(s(pkt(v, 3), &["decoded", "authdata", "record"]))
}

/// B's codec with a record of its own (seq 1, signed here).
fn codec_b(v: &Value) -> Codec {
    let sk = keys::secp_secret(&key_b(v)).unwrap();
    let rec = Record::sign_v4(&sk, 1, &[(b"ip".to_vec(), vec![0x84, 127, 0, 0, 1])]).unwrap();
    Codec::new(&key_b(v), rec.raw()).unwrap()
}

fn ping(req: &str, seq: u64) -> Message {
    Message::Ping {
        req_id: hx(req),
        enr_seq: seq,
    }
}

#[test]
fn crypto_primitives() {
    let v = v();
    let c = &v["crypto_primitives"];
    let e = &c["ecdh"]["values"];
    let sk = keys::secp_secret(&hx(s(e, &["secret-key"]))).unwrap();
    let pk = keys::secp_public(&hx(s(e, &["public-key"]))).unwrap();
    assert_eq!(
        crypto::ecdh(&sk, &pk).to_vec(),
        hx(s(e, &["shared-secret"]))
    );

    let k = &c["key_derivation"]["values"];
    let sk = keys::secp_secret(&hx(s(k, &["ephemeral-key"]))).unwrap();
    let pk = keys::secp_public(&hx(s(k, &["dest-pubkey"]))).unwrap();
    let keys = crypto::derive_keys(
        &sk,
        &pk,
        &arr(s(k, &["node-id-a"])),
        &arr(s(k, &["node-id-b"])),
        &hx(s(k, &["challenge-data"])),
    );
    assert_eq!(keys.initiator_key.to_vec(), hx(s(k, &["initiator-key"])));
    assert_eq!(keys.recipient_key.to_vec(), hx(s(k, &["recipient-key"])));

    let n = &c["id_nonce_signing"]["values"];
    let sk = keys::secp_secret(&hx(s(n, &["static-key"]))).unwrap();
    let (cd, eph, dest) = (
        hx(s(n, &["challenge-data"])),
        hx(s(n, &["ephemeral-pubkey"])),
        arr(s(n, &["node-id-B"])),
    );
    let sig = crypto::make_id_signature(&sk, &cd, &eph, &dest);
    assert_eq!(sig.to_vec(), hx(s(n, &["id-signature"])));
    let pk = secp256k1::PublicKey::from_secret_key(secp256k1::SECP256K1, &sk);
    crypto::verify_id_signature(&pk, &sig, &cd, &eph, &dest).unwrap();
    assert!(crypto::verify_id_signature(&pk, &sig, &cd[1..], &eph, &dest).is_err());

    let g = &c["aes_gcm"]["values"];
    let ct = crypto::encrypt_gcm(
        &arr(s(g, &["encryption-key"])),
        &arr(s(g, &["nonce"])),
        &hx(s(g, &["pt"])),
        &hx(s(g, &["ad"])),
    );
    assert_eq!(ct, hx(s(g, &["message-ciphertext"])));
    let pt = crypto::decrypt_gcm(
        &arr(s(g, &["encryption-key"])),
        &arr(s(g, &["nonce"])),
        &ct,
        &hx(s(g, &["ad"])),
    )
    .unwrap();
    assert_eq!(pt, hx(s(g, &["pt"])));
}

#[test]
fn ping_message_vector() {
    let v = v();
    let p = pkt(&v, 0);
    let data = hx(s(p, &["hex"]));
    let hc = &p["header_comments"];
    let (a_id, b_id) = (arr(s(hc, &["src-node-id"])), arr(s(hc, &["dest-node-id"])));
    let msg = ping(
        s(hc, &["ping.req-id"]),
        hc["ping.enr-seq"].as_u64().unwrap(),
    );
    let enc = packet::encode_message(
        &b_id,
        &a_id,
        &[0; 16],
        &arr(s(hc, &["nonce"])),
        &arr(s(hc, &["read-key"])),
        &msg,
    )
    .unwrap();
    assert_eq!(enc, data);

    let mut b = codec_b(&v);
    // Without a session the packet is Unknown (answered by WHOAREYOU).
    assert_eq!(
        b.decode(&data, ADDR, 0.0).unwrap(),
        Packet::Unknown {
            src_id: a_id,
            nonce: arr(s(hc, &["nonce"]))
        }
    );
    b.store_session(
        &a_id,
        ADDR,
        [0; 16],
        arr(s(hc, &["read-key"])),
        &record_a(&v),
    );
    match b.decode(&data, ADDR, 0.0).unwrap() {
        Packet::Message {
            src_id,
            message,
            node,
            ..
        } => {
            assert_eq!((src_id, message, node), (a_id, msg, None));
        }
        other => panic!("{other:?}"),
    }
    // The session is bound to the address: another port starts over.
    assert!(matches!(
        b.decode(&data, "127.0.0.1:30304", 0.0).unwrap(),
        Packet::Unknown { .. }
    ));
}

#[test]
fn whoareyou_vector() {
    let v = v();
    let p = pkt(&v, 1);
    let data = hx(s(p, &["hex"]));
    let hc = &p["header_comments"];
    let b_id = arr(s(hc, &["dest-node-id"]));
    let auth = packet::whoareyou_authdata(&arr(s(hc, &["whoareyou.id-nonce"])), 0);
    let head = packet::header_data(
        &[0; 16],
        packet::FLAG_WHOAREYOU,
        &arr(s(hc, &["whoareyou.request-nonce"])),
        &auth,
    )
    .unwrap();
    assert_eq!(head, hx(s(hc, &["whoareyou.challenge-data"])));
    assert_eq!(packet::finish_packet(&b_id, head, &[]).unwrap(), data);

    let mut b = codec_b(&v);
    match b.decode(&data, ADDR, 0.0).unwrap() {
        Packet::Whoareyou(w) => {
            assert_eq!(w.nonce.to_vec(), hx(s(hc, &["whoareyou.request-nonce"])));
            assert_eq!(w.id_nonce.to_vec(), hx(s(hc, &["whoareyou.id-nonce"])));
            assert_eq!(w.enr_seq, 0);
            assert_eq!(w.challenge_data, hx(s(hc, &["whoareyou.challenge-data"])));
        }
        other => panic!("{other:?}"),
    }
}

fn handshake_vector(index: usize, with_record: bool) {
    let v = v();
    let p = pkt(&v, index);
    let data = hx(s(p, &["hex"]));
    let hc = &p["header_comments"];
    let (a_id, b_id) = (arr(s(hc, &["src-node-id"])), arr(s(hc, &["dest-node-id"])));
    let cdata = hx(s(hc, &["whoareyou.challenge-data"]));
    let msg = ping(
        s(hc, &["ping.req-id"]),
        hc["ping.enr-seq"].as_u64().unwrap(),
    );

    let a_sk = keys::secp_secret(&key_a(&v)).unwrap();
    let eph = keys::secp_secret(&hx(s(hc, &["ephemeral-key"]))).unwrap();
    assert_eq!(
        crypto::compressed_pubkey(&eph).to_vec(),
        hx(s(hc, &["ephemeral-pubkey"]))
    );
    let b_pk = keys::secp_public(&hx(s(&v, &["keys", "node_b", "public_key_compressed"]))).unwrap();
    let rec = record_a(&v);
    let inp = HandshakeInput {
        local_key: &a_sk,
        local_id: &a_id,
        dest_id: &b_id,
        dest_pubkey: &b_pk,
        challenge_data: &cdata,
        eph_key: &eph,
        record: with_record.then_some(rec.as_slice()),
        iv: &[0; 16],
        nonce: &arr(s(hc, &["nonce"])),
    };
    let (enc, keys) = packet::encode_handshake(&inp, &msg).unwrap();
    assert_eq!(enc, data);
    assert_eq!(keys.initiator_key.to_vec(), hx(s(hc, &["read-key"])));

    let mut b = codec_b(&v);
    // No pending challenge: a handshake is unexpected.
    assert!(matches!(
        b.decode(&data, ADDR, 0.0),
        Err(CoreError::Handshake(_))
    ));
    // Without ENR in the packet, B must already know A's record.
    let known = (!with_record).then_some(rec.as_slice());
    b.store_challenge(&a_id, ADDR, &cdata, known, 0.0).unwrap();
    match b.decode(&data, ADDR, 0.5).unwrap() {
        Packet::Message {
            src_id,
            message,
            node,
            ..
        } => {
            assert_eq!((src_id, message, node), (a_id, msg, Some(rec.clone())));
        }
        other => panic!("{other:?}"),
    }
    assert!(b.has_session(&a_id, ADDR));
    // A replayed handshake finds no challenge.
    assert!(matches!(
        b.decode(&data, ADDR, 0.6),
        Err(CoreError::Handshake(_))
    ));
    // An expired challenge is never completed.
    let mut b = codec_b(&v);
    b.store_challenge(&a_id, ADDR, &cdata, known, 0.0).unwrap();
    assert!(b.decode(&data, ADDR, 1.5).is_err());
    // Without the record anywhere: errNoRecord.
    if !with_record {
        let mut b = codec_b(&v);
        b.store_challenge(&a_id, ADDR, &cdata, None, 0.0).unwrap();
        let err = b.decode(&data, ADDR, 0.0).unwrap_err();
        assert!(err.message().contains("expected ENR"), "{err}");
    }
}

#[test]
fn ping_handshake_vector() {
    handshake_vector(2, false);
}

#[test]
fn ping_handshake_enr_vector() {
    handshake_vector(3, true);
}

#[test]
fn size_limits_and_masking() {
    let v = v();
    let data = hx(s(pkt(&v, 0), &["hex"]));
    let mut b = codec_b(&v);
    for bad in [&data[..62], &data[..0], &data[..40]] {
        let err = b.decode(bad, ADDR, 0.0).unwrap_err();
        assert!(packet::is_invalid_header(&err), "{err}");
    }
    let mut big = data.clone();
    big.resize(packet::MAX_PACKET_SIZE + 1, 0);
    assert!(b.decode(&big, ADDR, 0.0).is_err());
    // Packets for another node (wrong masking key) do not unmask.
    let mut a = Codec::new(&key_a(&v), &record_a(&v)).unwrap();
    assert!(packet::is_invalid_header(
        &a.decode(&data, ADDR, 0.0).unwrap_err()
    ));
    // authdata-size beyond the packet.
    let b_id = arr(s(&v, &["keys", "node_b", "node_id"]));
    let head = packet::header_data(&[0; 16], 0, &[0; 12], &[0; 32]).unwrap();
    assert!(matches!(
        b.decode(
            &packet::finish_packet(&b_id, head, &[0; 20]).unwrap(),
            ADDR,
            0.0
        )
        .unwrap(),
        Packet::Unknown { .. }
    ));
    let head = packet::header_data(&[0; 16], 0, &[0; 12], &[0; 60]).unwrap();
    let long = packet::finish_packet(&b_id, head[..packet::STATIC_PACKET_SIZE].to_vec(), &[0; 50])
        .unwrap();
    assert!(b.decode(&long, ADDR, 0.0).is_err());
    // Unknown flag.
    let head = packet::header_data(&[0; 16], 7, &[0; 12], &[0; 32]).unwrap();
    let odd = packet::finish_packet(&b_id, head, &[0; 20]).unwrap();
    assert!(matches!(
        b.decode(&odd, ADDR, 0.0),
        Err(CoreError::Decode(_))
    ));
}

#[test]
fn bad_gcm_tag_is_unknown() {
    let v = v();
    let p = pkt(&v, 0);
    let mut data = hx(s(p, &["hex"]));
    let a_id = arr(s(p, &["header_comments", "src-node-id"]));
    let mut b = codec_b(&v);
    b.store_session(&a_id, ADDR, [0; 16], [0; 16], &record_a(&v));
    *data.last_mut().unwrap() ^= 1;
    assert!(matches!(
        b.decode(&data, ADDR, 0.0).unwrap(),
        Packet::Unknown { .. }
    ));
}

#[test]
fn message_codec_rules() {
    let all = [
        ping("01", 7),
        Message::Pong {
            req_id: hx("0102"),
            enr_seq: 1,
            ip: vec![127, 0, 0, 1],
            port: 30303,
        },
        Message::FindNode {
            req_id: hx("aa"),
            distances: vec![256, 255, 0],
        },
        Message::Nodes {
            req_id: hx("aa"),
            total: 2,
            records: vec![record_a(&v())],
        },
        Message::TalkReq {
            req_id: vec![],
            protocol: b"p".to_vec(),
            request: b"hi".to_vec(),
        },
        Message::TalkResp {
            req_id: vec![1; 8],
            response: vec![],
        },
    ];
    for m in all {
        assert_eq!(Message::decode(&m.encode()).unwrap(), m);
    }
    let long = ping(&"01".repeat(MAX_REQUEST_ID + 1), 1).encode();
    assert!(Message::decode(&long)
        .unwrap_err()
        .message()
        .contains("request ID"));
    assert!(Message::decode(&[]).is_err());
    assert!(Message::decode(&[0x07, 0xc0]).is_err());
    assert!(Message::decode(&[0x01, 0xc3, 0x01, 0x01, 0x01]).is_err()); // extra field
    let big = Message::Nodes {
        req_id: vec![1],
        total: 1,
        records: vec![crate::rlp::encode(&crate::rlp::Item::List(vec![
            crate::rlp::Item::Bytes(vec![0; 300]),
        ]))],
    };
    assert!(Message::decode(&big.encode()).is_err());
    let pong_port = Message::Pong {
        req_id: vec![1],
        enr_seq: 1,
        ip: vec![],
        port: 1,
    }
    .encode();
    let mut bad = pong_port.clone();
    // port 0x10000 does not fit in 16 bits
    bad.truncate(bad.len() - 1);
    bad.extend_from_slice(&[0x83, 1, 0, 0]);
    bad[1] += 3;
    assert!(Message::decode(&bad).is_err());
}

fn pair() -> (Codec, Codec, Vec<u8>, Vec<u8>) {
    let ka = keys::secp_generate();
    let kb = keys::secp_generate();
    let ra = Record::sign_v4(&ka, 3, &[(b"ip".to_vec(), vec![0x84, 127, 0, 0, 1])]).unwrap();
    let rb = Record::sign_v4(&kb, 5, &[(b"ip".to_vec(), vec![0x84, 127, 0, 0, 1])]).unwrap();
    let a = Codec::new(&ka.secret_bytes(), ra.raw()).unwrap();
    let b = Codec::new(&kb.secret_bytes(), rb.raw()).unwrap();
    (a, b, ra.raw().to_vec(), rb.raw().to_vec())
}

#[test]
fn full_handshake_and_same_whoareyou() {
    let (mut a, mut b, ra, rb) = pair();
    let (ida, idb) = (a.local_id(), b.local_id());
    let (addr_a, addr_b) = ("127.0.0.1:1001", "127.0.0.1:1002");
    let req = ping("0102030405060708", 3);
    let (p1, n1) = a.encode(&idb, addr_b, &req).unwrap();
    let Packet::Unknown { src_id, nonce } = b.decode(&p1, addr_a, 0.0).unwrap() else {
        panic!()
    };
    assert_eq!((src_id, nonce), (ida, n1));
    let w1 = b
        .whoareyou(&ida, addr_a, &nonce, None, p1.len(), 0.0)
        .unwrap()
        .unwrap();
    assert_eq!(w1.len(), WHOAREYOU_SIZE);
    assert!(w1.len() <= p1.len());
    // A repeated packet while the handshake is pending: same bytes.
    let (p2, n2) = a.encode(&idb, addr_b, &req).unwrap();
    let Packet::Unknown { nonce: un2, .. } = b.decode(&p2, addr_a, 0.1).unwrap() else {
        panic!()
    };
    assert_eq!(un2, n2);
    assert_eq!(
        b.whoareyou(&ida, addr_a, &un2, None, p2.len(), 0.1)
            .unwrap()
            .unwrap(),
        w1
    );
    // A completes the handshake with the first challenge.
    let Packet::Whoareyou(ch) = a.decode(&w1, addr_b, 0.1).unwrap() else {
        panic!()
    };
    assert_eq!(ch.nonce, n1);
    let (hs, _) = a.encode_handshake(&idb, addr_b, &req, &ch, &rb).unwrap();
    match b.decode(&hs, addr_a, 0.2).unwrap() {
        Packet::Message { message, node, .. } => {
            assert_eq!((message, node), (req, Some(ra.clone())))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(b.challenge_count(), 0);
    let pong = Message::Pong {
        req_id: hx("01"),
        enr_seq: 5,
        ip: vec![127, 0, 0, 1],
        port: 1001,
    };
    let (resp, _) = b.encode(&ida, addr_a, &pong).unwrap();
    let Packet::Message { message, .. } = a.decode(&resp, addr_b, 0.2).unwrap() else {
        panic!()
    };
    assert_eq!(message, pong);
    assert_eq!(b.session_record(&ida, addr_a), Some(ra.as_slice()));
}

#[test]
fn handshake_to_a_bare_public_key() {
    // An `enode:` bootnode: A knows B's key, not its record.
    let (mut a, mut b, ra, rb) = pair();
    let (ida, idb) = (a.local_id(), b.local_id());
    let (addr_a, addr_b) = ("127.0.0.1:1001", "127.0.0.1:1002");
    let pub_b = Record::decode(&rb).unwrap().public_key().unwrap();
    let req = ping("01", 3);
    let (p1, _) = a.encode(&idb, addr_b, &req).unwrap();
    let Packet::Unknown { nonce, .. } = b.decode(&p1, addr_a, 0.0).unwrap() else {
        panic!()
    };
    let w = b
        .whoareyou(&ida, addr_a, &nonce, None, p1.len(), 0.0)
        .unwrap()
        .unwrap();
    let Packet::Whoareyou(ch) = a.decode(&w, addr_b, 0.1).unwrap() else {
        panic!()
    };
    // Another node's key is refused before anything is sent.
    let other = keys::secp_public64(&keys::secp_generate());
    assert!(a
        .encode_handshake_to_key(&idb, addr_b, &req, &ch, &other)
        .is_err());
    // Compressed (33 bytes, not delivered) then X||Y (64 bytes, the one B gets).
    for key in [pub_b.serialize().to_vec(), keys::pub64(&pub_b).to_vec()] {
        let (hs, _) = a
            .encode_handshake_to_key(&idb, addr_b, &req, &ch, &key)
            .unwrap();
        // The session exists, but holds no record until A learns it.
        assert!(a.has_session(&idb, addr_b));
        assert_eq!(a.session_record(&idb, addr_b), None);
        if key.len() == 64 {
            match b.decode(&hs, addr_a, 0.2).unwrap() {
                Packet::Message { message, node, .. } => {
                    assert_eq!((message, node), (req.clone(), Some(ra.clone())))
                }
                other => panic!("{other:?}"),
            }
        }
    }
    let (resp, _) = b.encode(&ida, addr_a, &ping("02", 5)).unwrap();
    assert!(matches!(
        a.decode(&resp, addr_b, 0.3).unwrap(),
        Packet::Message { .. }
    ));
}

#[test]
fn wrong_signature_and_wrong_ephemeral_key_fail() {
    let (mut a, mut b, _ra, rb) = pair();
    let (ida, idb) = (a.local_id(), b.local_id());
    let (addr_a, addr_b) = ("10.0.0.1:1001", "10.0.0.2:1002");
    let req = ping("01", 3);
    for tamper in [0usize, 1] {
        let (p1, _) = a.encode(&idb, addr_b, &req).unwrap();
        let Packet::Unknown { nonce, .. } = b.decode(&p1, addr_a, 0.0).unwrap() else {
            panic!()
        };
        let w = b
            .whoareyou(&ida, addr_a, &nonce, None, p1.len(), 0.0)
            .unwrap()
            .unwrap();
        let Packet::Whoareyou(mut ch) = a.decode(&w, addr_b, 0.0).unwrap() else {
            panic!()
        };
        if tamper == 0 {
            // Sign a different challenge: the ID signature no longer matches.
            ch.challenge_data[20] ^= 1;
            let (hs, _) = a.encode_handshake(&idb, addr_b, &req, &ch, &rb).unwrap();
            let err = b.decode(&hs, addr_a, 0.0).unwrap_err();
            assert!(matches!(err, CoreError::Handshake(_)), "{err}");
        } else {
            // Swap in another (valid) ephemeral key: signature covers it.
            let (hs, _) = a.encode_handshake(&idb, addr_b, &req, &ch, &rb).unwrap();
            let mut head = packet::decode_header(&idb, &hs).unwrap().0;
            let other = crypto::compressed_pubkey(&keys::secp_generate());
            let off = packet::HANDSHAKE_AUTH_FIXED + 64;
            head.authdata[off..off + 33].copy_from_slice(&other);
            let hd = packet::header_data(&head.iv, 2, &head.nonce, &head.authdata).unwrap();
            let msg_start = hd.len();
            let forged = packet::finish_packet(&idb, hd, &hs[msg_start..]).unwrap();
            let err = b.decode(&forged, addr_a, 0.0).unwrap_err();
            assert!(matches!(err, CoreError::Handshake(_)), "{err}");
        }
        assert!(!b.has_session(&ida, addr_a));
        b.clear();
    }
}

#[test]
fn challenges_and_whoareyou_rate_are_bounded() {
    let (_a, mut b, _ra, _rb) = pair();
    b.set_whoareyou_limit(4.0, 1.0);
    let mut sent = 0;
    for i in 0..20u8 {
        let id = [i; 32];
        if b.whoareyou(
            &id,
            &format!("10.1.1.1:{}", 2000 + u16::from(i)),
            &[0; 12],
            None,
            100,
            0.0,
        )
        .unwrap()
        .is_some()
        {
            sent += 1;
        }
    }
    assert_eq!(sent, 4, "per-IP WHOAREYOU limit");
    // Another IP is still answered; undersized triggers never are.
    assert!(b
        .whoareyou(&[1; 32], "10.2.2.2:1", &[0; 12], None, 100, 0.0)
        .unwrap()
        .is_some());
    assert!(b
        .whoareyou(&[2; 32], "10.2.2.3:1", &[0; 12], None, 62, 0.0)
        .unwrap()
        .is_none());
    // Pending challenges are capped across many IPs.
    b.set_whoareyou_limit(1e9, 1e9);
    for i in 0..(MAX_PENDING_CHALLENGES + 200) {
        let id: [u8; 32] = std::array::from_fn(|k| (i >> (8 * (k % 4))) as u8);
        let addr = format!("10.{}.{}.1:5", (i >> 8) & 0xff, i & 0xff);
        let _ = b.whoareyou(&id, &addr, &[0; 12], None, 100, 0.5).unwrap();
    }
    assert!(b.challenge_count() <= MAX_PENDING_CHALLENGES);
    // They expire, and room is made again.
    assert!(b
        .whoareyou(&[9; 32], "10.9.9.9:9", &[0; 12], None, 100, 5.0)
        .unwrap()
        .is_some());
    assert_eq!(b.challenge_count(), 1);
}

#[test]
fn session_cache_is_bounded_lru() {
    let (_a, mut b, ra, _rb) = pair();
    for i in 0..(SESSION_CACHE_SIZE + 50) {
        let id: [u8; 32] = std::array::from_fn(|k| (i >> (8 * (k % 4))) as u8);
        b.store_session(&id, "10.0.0.1:1", [1; 16], [2; 16], &ra);
    }
    assert_eq!(b.session_count(), SESSION_CACHE_SIZE);
    // The oldest entries went first.
    assert!(!b.has_session(&[0; 32], "10.0.0.1:1"));
}
