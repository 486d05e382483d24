//! discv5 datagrams through the codec of node B of the spec's wire vectors.
//!
//! The first byte picks the state the datagram meets:
//! 0 none; 1 a session with node A (the ping-message vector's keys);
//! 2 a pending challenge to A without its record (the ping-handshake-enr
//! vector); 3 a challenge with A's record known (the ping-handshake vector);
//! 4 the rest is a message *plaintext*, sealed under the session of mode 1,
//! so the fuzzer reaches the message decoder through the whole codec.
//!
//! Invariant: `Codec::decode` returns a packet or a typed error and never
//! panics (size limits, masking, authdata sizes, GCM, handshake signature
//! and record checks); a decoded message re-encodes to one that decodes to
//! itself; a record a handshake delivers is a valid record.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use peerwire_core::discv5::{crypto, packet, Codec, Message, Packet};
use peerwire_core::enr::Record;
use peerwire_core::keys;

const ADDR: &str = "127.0.0.1:30303";
const KEY_B: &str = "66fb62bfbd66b9177a138c1e5cddbe4f7c30c343e94e68df8769459cb1cde628";
const ID_A: &str = "aaaa8419e9f49d0083561b48287df592939a8d19947d8c0ef88f2a4856a69fbb";
const CHALLENGE_NO_RECORD: &str = "000000000000000000000000000000006469736376350001010102030405060708090a0b0c00180102030405060708090a0b0c0d0e0f100000000000000000";
const CHALLENGE_RECORD_KNOWN: &str = "000000000000000000000000000000006469736376350001010102030405060708090a0b0c00180102030405060708090a0b0c0d0e0f100000000000000001";
const RECORD_A: &str = "f87db84017e1b073918da32d640642c762c0e2781698e4971f8ab39a77746adad83f01e76ffc874c5924808bbe7c50890882c2b8a01287a0b08312d1d53a17d517f5eb2701826964827634826970847f00000189736563703235366b31a10313d14211e0287b2361a1615890a9b5212080546d0a257ae4cff96cf534992cb9";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("constant hex"))
        .collect()
}

struct Fixture {
    key_b: Vec<u8>,
    record_b: Vec<u8>,
    id_a: [u8; 32],
    record_a: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key_b = hex(KEY_B);
        let sk = keys::secp_secret(&key_b).expect("vector key");
        let ip = (b"ip".to_vec(), vec![0x84, 127, 0, 0, 1]);
        let record_b = Record::sign_v4(&sk, 1, &[ip])
            .expect("signs")
            .raw()
            .to_vec();
        let id_a = hex(ID_A).try_into().expect("32 bytes");
        Fixture {
            key_b,
            record_b,
            id_a,
            record_a: hex(RECORD_A),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let mut codec = Codec::new(&f.key_b, &f.record_b).expect("vector key and record");
    let b_id = codec.local_id();
    let datagram = match mode % 5 {
        1 | 4 => {
            codec.store_session(&f.id_a, ADDR, [0; 16], [0; 16], &f.record_a);
            if mode % 5 == 4 {
                let (iv, nonce) = ([7u8; 16], [9u8; 12]);
                let head =
                    packet::header_data(&iv, packet::FLAG_MESSAGE, &nonce, &f.id_a).expect("fits");
                let ct = crypto::encrypt_gcm(&[0; 16], &nonce, rest, &head);
                match packet::finish_packet(&b_id, head, &ct) {
                    Ok(p) => p,
                    Err(_) => return, // over the 1280-byte limit: refused by the encoder
                }
            } else {
                rest.to_vec()
            }
        }
        2 => {
            codec
                .store_challenge(&f.id_a, ADDR, &hex(CHALLENGE_NO_RECORD), None, 0.0)
                .expect("stores");
            rest.to_vec()
        }
        3 => {
            codec
                .store_challenge(
                    &f.id_a,
                    ADDR,
                    &hex(CHALLENGE_RECORD_KNOWN),
                    Some(&f.record_a),
                    0.0,
                )
                .expect("stores");
            rest.to_vec()
        }
        _ => rest.to_vec(),
    };
    if let Ok(Packet::Message { message, node, .. }) = codec.decode(&datagram, ADDR, 0.5) {
        let again = Message::decode(&message.encode()).expect("a decoded message re-encodes");
        assert_eq!(again, message);
        if let Some(rec) = node {
            Record::decode(&rec).expect("a handshake delivers a valid record");
        }
    }
});
