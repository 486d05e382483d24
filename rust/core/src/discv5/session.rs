//! The discv5 codec with its session state (geth `v5wire.Codec` and
//! `SessionCache`), sans-IO: the caller passes the sender address and `now`
//! (seconds) with every datagram and sends the bytes we return.
//!
//! * Sessions are keyed by (node ID, "ip:port"): a packet from another
//!   address cannot use a session and gets a WHOAREYOU (new handshake).
//! * A WHOAREYOU we sent is kept (with its exact bytes) until the handshake
//!   completes, fails or times out; while it is pending every further
//!   undecryptable packet from that (ID, address) gets the same bytes again.
//! * Every table here is bounded; see the constants for what each bound stops.
use std::collections::HashMap;

use rand::RngCore;
use secp256k1::SecretKey;

use super::crypto::{self, KEY_SIZE};
use super::lru::Lru;
use super::message::Message;
use super::packet::{self, Nonce, FLAG_HANDSHAKE, FLAG_MESSAGE, FLAG_WHOAREYOU, IV_SIZE};

/// How often expired challenges are swept (seconds); expiry itself is
/// checked on every use, the sweep only bounds memory.
const CHALLENGE_SWEEP_INTERVAL: f64 = 0.1;
use crate::enr::Record;
use crate::error::{CoreError, CoreResult};
use crate::keys;

/// Sessions kept (geth: 1024). Each completed handshake costs the peer a
/// signature but costs us an entry; the LRU bound stops a handshake flood
/// from growing memory without limit.
pub const SESSION_CACHE_SIZE: usize = 1024;
/// WHOAREYOU challenges awaiting a handshake. Random packets from many
/// spoofed sources would otherwise each leave a challenge behind; beyond
/// this bound new unknown senders get no WHOAREYOU until old ones expire.
pub const MAX_PENDING_CHALLENGES: usize = 1024;
/// A pending challenge expires after this many seconds (geth `handshakeTimeout`).
pub const HANDSHAKE_TIMEOUT: f64 = 1.0;
/// WHOAREYOU burst allowed per source IP. WHOAREYOU is the only thing we
/// send to an unverified address: the per-IP token bucket stops us being
/// used to flood a victim and bounds the ECDH work one IP can make us do.
pub const WHOAREYOU_BURST: f64 = 64.0;
/// ...refilled at this many WHOAREYOU per second.
pub const WHOAREYOU_PER_SECOND: f64 = 32.0;
/// Source IPs tracked by the WHOAREYOU limiter; an attacker rotating IPs
/// cannot grow the limiter beyond this.
pub const MAX_RATE_LIMITED_IPS: usize = 4096;

/// Size of every WHOAREYOU packet.
pub const WHOAREYOU_SIZE: usize = packet::STATIC_PACKET_SIZE + packet::WHOAREYOU_AUTH_SIZE;

/// A received WHOAREYOU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whoareyou {
    pub nonce: Nonce,
    pub id_nonce: [u8; 16],
    pub enr_seq: u64,
    /// masking-iv || static-header || authdata, unmasked.
    pub challenge_data: Vec<u8>,
}

/// What a datagram turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// A decrypted message. `node` is the peer's verified record when this
    /// packet completed a handshake.
    Message {
        src_id: [u8; 32],
        nonce: Nonce,
        message: Message,
        node: Option<Vec<u8>>,
    },
    /// A message we cannot decrypt (no session, or a stale one): answer it
    /// with [`Codec::whoareyou`].
    Unknown { src_id: [u8; 32], nonce: Nonce },
    /// A handshake challenge for one of our requests.
    Whoareyou(Whoareyou),
}

struct Session {
    write_key: [u8; KEY_SIZE],
    read_key: [u8; KEY_SIZE],
    counter: u32,
    record: Vec<u8>,
}

struct Challenge {
    packet: Vec<u8>,
    challenge_data: Vec<u8>,
    record: Option<Record>,
    sent: f64,
}

struct Bucket {
    tokens: f64,
    last: f64,
}

type SessionKey = ([u8; 32], String);

/// The discv5 packet codec of one local node.
pub struct Codec {
    key: SecretKey,
    id: [u8; 32],
    record: Vec<u8>,
    seq: u64,
    sessions: Lru<SessionKey, Session>,
    challenges: HashMap<SessionKey, Challenge>,
    limiter: HashMap<String, Bucket>,
    whoareyou_burst: f64,
    whoareyou_rate: f64,
    last_sweep: f64,
}

fn ip_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    addr.rsplit_once(':').map_or(addr, |(ip, _)| ip)
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::thread_rng().fill_bytes(&mut b);
    b
}

impl Codec {
    /// A codec for `key` announcing the signed record `record` (raw RLP).
    pub fn new(key: &[u8], record: &[u8]) -> CoreResult<Codec> {
        Self::with_key(keys::secp_secret(key)?, record)
    }

    /// As [`Codec::new`], for a key the caller already holds.
    pub fn with_key(sk: secp256k1::SecretKey, record: &[u8]) -> CoreResult<Codec> {
        let id = keys::node_id(&keys::secp_public64(&sk));
        let mut c = Codec {
            key: sk,
            id,
            record: Vec::new(),
            seq: 0,
            sessions: Lru::new(SESSION_CACHE_SIZE),
            challenges: HashMap::new(),
            limiter: HashMap::new(),
            whoareyou_burst: WHOAREYOU_BURST,
            whoareyou_rate: WHOAREYOU_PER_SECOND,
            last_sweep: f64::NEG_INFINITY,
        };
        c.set_local_record(record)?;
        Ok(c)
    }

    /// Our node ID.
    pub fn local_id(&self) -> [u8; 32] {
        self.id
    }

    /// Replace our record (a new seq); peers get it in the next handshake.
    pub fn set_local_record(&mut self, record: &[u8]) -> CoreResult<()> {
        let rec = Record::decode(record)?;
        if rec.node_id()? != self.id {
            return Err(CoreError::local("record does not belong to the local key"));
        }
        self.seq = rec.seq();
        self.record = record.to_vec();
        Ok(())
    }

    /// Change the per-IP WHOAREYOU token bucket.
    pub fn set_whoareyou_limit(&mut self, burst: f64, per_second: f64) {
        self.whoareyou_burst = burst;
        self.whoareyou_rate = per_second;
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn challenge_count(&self) -> usize {
        self.challenges.len()
    }

    /// Is there a session with (id, addr)?
    pub fn has_session(&self, id: &[u8; 32], addr: &str) -> bool {
        self.sessions.peek(&(*id, addr.to_owned())).is_some()
    }

    /// The record the peer proved in the handshake of this session.
    /// The record of the session's peer; None without a session, or for a
    /// session opened to a bare public key whose record we never received.
    pub fn session_record(&self, id: &[u8; 32], addr: &str) -> Option<&[u8]> {
        self.sessions
            .peek(&(*id, addr.to_owned()))
            .map(|s| s.record.as_slice())
            .filter(|r| !r.is_empty())
    }

    /// Forget the session with (id, addr), e.g. after a response timeout.
    pub fn drop_session(&mut self, id: &[u8; 32], addr: &str) {
        self.sessions.remove(&(*id, addr.to_owned()));
    }

    /// Install session keys directly (used by tests replaying vectors).
    pub fn store_session(
        &mut self,
        id: &[u8; 32],
        addr: &str,
        write_key: [u8; 16],
        read_key: [u8; 16],
        record: &[u8],
    ) {
        self.sessions.insert(
            (*id, addr.to_owned()),
            Session {
                write_key,
                read_key,
                counter: 0,
                record: record.to_vec(),
            },
        );
    }

    /// Record a challenge as if we had sent it (used by tests replaying vectors).
    pub fn store_challenge(
        &mut self,
        id: &[u8; 32],
        addr: &str,
        challenge_data: &[u8],
        record: Option<&[u8]>,
        now: f64,
    ) -> CoreResult<()> {
        let record = record.map(Record::decode).transpose()?;
        self.challenges.insert(
            (*id, addr.to_owned()),
            Challenge {
                packet: Vec::new(),
                challenge_data: challenge_data.to_vec(),
                record,
                sent: now,
            },
        );
        Ok(())
    }

    fn gc_challenges(&mut self, now: f64, force: bool) {
        if force || now - self.last_sweep >= CHALLENGE_SWEEP_INTERVAL {
            self.last_sweep = now;
            self.challenges
                .retain(|_, c| now - c.sent <= HANDSHAKE_TIMEOUT);
        }
    }

    fn live_challenge(&self, key: &SessionKey, now: f64) -> Option<&Challenge> {
        self.challenges
            .get(key)
            .filter(|c| now - c.sent <= HANDSHAKE_TIMEOUT)
    }

    /// Decode a datagram from `addr` ("ip:port").
    pub fn decode(&mut self, data: &[u8], addr: &str, now: f64) -> CoreResult<Packet> {
        let (head, msg) = packet::decode_header(&self.id, data)?;
        self.gc_challenges(now, false);
        match head.flag {
            FLAG_WHOAREYOU => {
                let (id_nonce, enr_seq) = packet::parse_whoareyou_auth(&head.authdata)?;
                Ok(Packet::Whoareyou(Whoareyou {
                    nonce: head.nonce,
                    id_nonce,
                    enr_seq,
                    challenge_data: head.header_data,
                }))
            }
            FLAG_MESSAGE => {
                let src_id = packet::parse_message_auth(&head.authdata)?;
                let key = (src_id, addr.to_owned());
                let Some(s) = self.sessions.get_mut(&key) else {
                    return Ok(Packet::Unknown {
                        src_id,
                        nonce: head.nonce,
                    });
                };
                match crypto::decrypt_gcm(&s.read_key, &head.nonce, msg, &head.header_data) {
                    Ok(pt) => Ok(Packet::Message {
                        src_id,
                        nonce: head.nonce,
                        message: Message::decode(&pt)?,
                        node: None,
                    }),
                    Err(_) => Ok(Packet::Unknown {
                        src_id,
                        nonce: head.nonce,
                    }),
                }
            }
            FLAG_HANDSHAKE => self.decode_handshake(&head, msg, addr, now),
            _ => Err(CoreError::decode("invalid flag value in header")),
        }
    }

    fn decode_handshake(
        &mut self,
        head: &packet::Header,
        msg: &[u8],
        addr: &str,
        now: f64,
    ) -> CoreResult<Packet> {
        let auth = packet::parse_handshake_auth(&head.authdata)?;
        let key = (auth.src_id, addr.to_owned());
        let result = self.verify_handshake(&auth, head, msg, &key, now);
        // Success or failure, a challenge is answered once (a replayed
        // handshake finds nothing to complete).
        self.challenges.remove(&key);
        let (keys, record, message) = result?;
        self.sessions.insert(
            key,
            Session {
                write_key: keys.recipient_key,
                read_key: keys.initiator_key,
                counter: 0,
                record: record.clone(),
            },
        );
        Ok(Packet::Message {
            src_id: auth.src_id,
            nonce: head.nonce,
            message,
            node: Some(record),
        })
    }

    fn verify_handshake(
        &self,
        auth: &packet::HandshakeAuth,
        head: &packet::Header,
        msg: &[u8],
        key: &SessionKey,
        now: f64,
    ) -> CoreResult<(crypto::SessionKeys, Vec<u8>, Message)> {
        let challenge = self
            .live_challenge(key, now)
            .ok_or_else(|| CoreError::handshake("unexpected auth response, not in handshake"))?;
        let mut node = challenge.record.clone();
        // The key of a record verified here comes out of the check: parsing its 64-byte form
        // is cheap, decompressing the record's 33-byte entry again is not.
        let mut verified_key: Option<[u8; 64]> = None;
        if !auth.record.is_empty() {
            let rec = Record::decode(&auth.record)?;
            if node.as_ref().is_none_or(|n| n.seq() < rec.seq()) {
                let pub64 = rec.verify_v4().map_err(|e| {
                    CoreError::handshake(format!("invalid node record: {}", e.message()))
                })?;
                if keys::node_id(&pub64) != auth.src_id {
                    return Err(CoreError::handshake("record in handshake has wrong ID"));
                }
                verified_key = Some(pub64);
                node = Some(rec);
            }
        }
        let node =
            node.ok_or_else(|| CoreError::handshake("expected ENR in handshake but none sent"))?;
        let pk = match verified_key {
            Some(pub64) => keys::secp_public(&pub64)?,
            None => node.public_key()?,
        };
        crypto::verify_id_signature(
            &pk,
            &auth.signature,
            &challenge.challenge_data,
            &auth.eph_pubkey,
            &self.id,
        )?;
        let eph = crypto::decode_pubkey(&auth.eph_pubkey)?;
        let keys = crypto::derive_keys(
            &self.key,
            &eph,
            &auth.src_id,
            &self.id,
            &challenge.challenge_data,
        );
        let pt = crypto::decrypt_gcm(&keys.initiator_key, &head.nonce, msg, &head.header_data)
            .map_err(|_| CoreError::handshake("cannot decrypt handshake message"))?;
        let message = Message::decode(&pt)?;
        Ok((keys, node.raw().to_vec(), message))
    }

    fn next_nonce(counter: &mut u32) -> Nonce {
        *counter = counter.wrapping_add(1);
        let mut n: Nonce = random();
        n[..4].copy_from_slice(&counter.to_be_bytes());
        n
    }

    /// Encode `msg` to (id, addr): inside the session if there is one,
    /// otherwise as a random packet that makes the peer send WHOAREYOU
    /// (geth resends the request as a handshake when it arrives).
    pub fn encode(
        &mut self,
        id: &[u8; 32],
        addr: &str,
        msg: &Message,
    ) -> CoreResult<(Vec<u8>, Nonce)> {
        let iv: [u8; IV_SIZE] = random();
        if let Some(s) = self.sessions.get_mut(&(*id, addr.to_owned())) {
            let nonce = Self::next_nonce(&mut s.counter);
            let pkt = packet::encode_message(id, &self.id, &iv, &nonce, &s.write_key, msg)?;
            return Ok((pkt, nonce));
        }
        let nonce: Nonce = random();
        let pkt = packet::encode_random(id, &self.id, &iv, &nonce, &random())?;
        Ok((pkt, nonce))
    }

    /// Answer `challenge` from (id, addr) by sending `msg` in a handshake
    /// packet. `remote_record` is the recipient's record (for its key).
    pub fn encode_handshake(
        &mut self,
        id: &[u8; 32],
        addr: &str,
        msg: &Message,
        challenge: &Whoareyou,
        remote_record: &[u8],
    ) -> CoreResult<(Vec<u8>, Nonce)> {
        let rec = Record::decode(remote_record)?;
        let pk = rec.public_key()?; // decompressed once, for the ID check and the handshake
        if keys::node_id(&keys::pub64(&pk)) != *id {
            return Err(CoreError::local("record does not match the destination ID"));
        }
        self.handshake(id, addr, msg, challenge, &pk, remote_record.to_vec())
    }

    /// As [`Codec::encode_handshake`] for a node known only by its public key
    /// (an `enode:` URL, 33 or 64 bytes), as geth allows for bootnodes. The
    /// session then holds no record until the caller learns it (FINDNODE 0).
    pub fn encode_handshake_to_key(
        &mut self,
        id: &[u8; 32],
        addr: &str,
        msg: &Message,
        challenge: &Whoareyou,
        public_key: &[u8],
    ) -> CoreResult<(Vec<u8>, Nonce)> {
        let pk = keys::secp_public(public_key)?;
        if keys::node_id(&keys::pub64(&pk)) != *id {
            return Err(CoreError::local(
                "public key does not match the destination ID",
            ));
        }
        self.handshake(id, addr, msg, challenge, &pk, Vec::new())
    }

    fn handshake(
        &mut self,
        id: &[u8; 32],
        addr: &str,
        msg: &Message,
        challenge: &Whoareyou,
        pk: &secp256k1::PublicKey,
        remote_record: Vec<u8>,
    ) -> CoreResult<(Vec<u8>, Nonce)> {
        let eph = keys::secp_generate();
        let mut counter = 0u32;
        let nonce = Self::next_nonce(&mut counter);
        let iv: [u8; IV_SIZE] = random();
        let include = challenge.enr_seq < self.seq;
        let inp = packet::HandshakeInput {
            local_key: &self.key,
            local_id: &self.id,
            dest_id: id,
            dest_pubkey: pk,
            challenge_data: &challenge.challenge_data,
            eph_key: &eph,
            record: include.then_some(self.record.as_slice()),
            iv: &iv,
            nonce: &nonce,
        };
        let (pkt, keys) = packet::encode_handshake(&inp, msg)?;
        self.sessions.insert(
            (*id, addr.to_owned()),
            Session {
                write_key: keys.initiator_key,
                read_key: keys.recipient_key,
                counter,
                record: remote_record,
            },
        );
        Ok((pkt, nonce))
    }

    fn take_token(&mut self, ip: &str, now: f64) -> bool {
        if !self.limiter.contains_key(ip) && self.limiter.len() >= MAX_RATE_LIMITED_IPS {
            // Forget buckets that have refilled: they carry no information.
            let (burst, rate) = (self.whoareyou_burst, self.whoareyou_rate);
            self.limiter
                .retain(|_, b| b.tokens + (now - b.last) * rate < burst);
            if self.limiter.len() >= MAX_RATE_LIMITED_IPS {
                return false;
            }
        }
        let b = self.limiter.entry(ip.to_owned()).or_insert(Bucket {
            tokens: self.whoareyou_burst,
            last: now,
        });
        b.tokens =
            (b.tokens + (now - b.last).max(0.0) * self.whoareyou_rate).min(self.whoareyou_burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The WHOAREYOU answering an [`Packet::Unknown`] from (id, addr), or
    /// `None` when we must stay silent (rate limit, challenge table full, or
    /// the trigger was smaller than the reply). A pending challenge is
    /// resent byte for byte. `known_record` is the peer's record if we have
    /// one: its seq goes into the challenge so the peer can skip sending it.
    pub fn whoareyou(
        &mut self,
        id: &[u8; 32],
        addr: &str,
        nonce: &Nonce,
        known_record: Option<&[u8]>,
        trigger_len: usize,
        now: f64,
    ) -> CoreResult<Option<Vec<u8>>> {
        if trigger_len < WHOAREYOU_SIZE || !self.take_token(ip_of(addr), now) {
            return Ok(None);
        }
        let key = (*id, addr.to_owned());
        if let Some(c) = self.live_challenge(&key, now) {
            if !c.packet.is_empty() {
                return Ok(Some(c.packet.clone()));
            }
        }
        if self.challenges.len() >= MAX_PENDING_CHALLENGES {
            self.gc_challenges(now, true);
        }
        if self.challenges.len() >= MAX_PENDING_CHALLENGES {
            return Ok(None);
        }
        let record = known_record.map(Record::decode).transpose()?;
        let enr_seq = record.as_ref().map_or(0, Record::seq);
        let iv: [u8; IV_SIZE] = random();
        let auth = packet::whoareyou_authdata(&random(), enr_seq);
        let challenge_data = packet::header_data(&iv, FLAG_WHOAREYOU, nonce, &auth)?;
        let pkt = packet::finish_packet(id, challenge_data.clone(), &[])?;
        self.challenges.insert(
            key,
            Challenge {
                packet: pkt.clone(),
                challenge_data,
                record,
                sent: now,
            },
        );
        Ok(Some(pkt))
    }

    /// Drop all sessions and challenges (e.g. on shutdown).
    pub fn clear(&mut self) {
        self.sessions.clear();
        self.challenges.clear();
        self.limiter.clear();
    }
}
