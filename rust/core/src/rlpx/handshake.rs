//! The EIP-8 auth/ack handshake as a sans-IO state machine.
//!
//! ```text
//! initiator                                   recipient
//!   Handshake::initiator() -> auth bytes  ──►   Handshake::recipient()
//!                                               feed(auth) -> Done{send: ack, ..}
//!   feed(ack) -> Done{send: [], ..}       ◄──
//! ```
//! Only the EIP-8 format is sent and accepted (as go-ethereum). A legacy
//! (pre-EIP-8) message is recognised by trying the legacy layout once and is
//! refused with a clear error instead of a timeout.
use rand::{Rng, RngCore};
use secp256k1::{PublicKey, SecretKey};

use super::ecies;
use super::frame::Secrets;
use crate::error::{CoreError, CoreResult};
use crate::hash::{Digest, Keccak256};
use crate::keys;
use crate::rlp::{self, Item};

/// Largest handshake message size prefix accepted (go-ethereum PR #30029):
/// stops a peer from making us buffer up to 64 KiB per pending connection.
pub const MAX_HANDSHAKE_SIZE: usize = 2048;

/// Smallest and largest number of zero padding bytes appended to auth/ack.
/// Random length hides the message type and size (EIP-8 recommends 100..300).
pub const PADDING_MIN: usize = 100;
pub const PADDING_MAX: usize = 300;

/// Version written into auth and ack.
pub const HANDSHAKE_VERSION: u64 = 4;

/// Sizes of legacy (pre-EIP-8) packets, recognised only to refuse them.
const LEGACY_AUTH_LEN: usize = 194 + ecies::OVERHEAD;
const LEGACY_ACK_LEN: usize = 97 + ecies::OVERHEAD;

/// Decoded auth message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthMsg {
    pub signature: [u8; 65],
    pub initiator_pubkey: [u8; 64],
    pub nonce: [u8; 32],
    pub version: u64,
    /// Extra list elements after the version, as raw RLP.
    pub rest: Vec<Vec<u8>>,
}

/// Decoded ack message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckMsg {
    pub ephemeral_pubkey: [u8; 64],
    pub nonce: [u8; 32],
    pub version: u64,
    pub rest: Vec<Vec<u8>>,
}

fn fixed<const N: usize>(item: &Item, what: &str) -> CoreResult<[u8; N]> {
    item.as_bytes()?
        .try_into()
        .map_err(|_| CoreError::handshake(format!("{what} must be {N} bytes")))
}

fn split_list(plain: &[u8], min: usize, what: &str) -> CoreResult<Vec<Item>> {
    // Bytes after the list are padding and ignored (go-ethereum decodes with
    // an rlp.Stream, not DecodeBytes).
    let (item, _padding) = rlp::decode_prefix(plain)
        .map_err(|e| CoreError::handshake(format!("{what}: {}", e.message())))?;
    let list = match item {
        Item::List(l) => l,
        Item::Bytes(_) => return Err(CoreError::handshake(format!("{what} is not an RLP list"))),
    };
    if list.len() < min {
        return Err(CoreError::handshake(format!(
            "{what} has {} elements, needs at least {min}",
            list.len()
        )));
    }
    Ok(list)
}

fn version(item: &Item) -> CoreResult<u64> {
    item.as_u64()
        .map_err(|e| CoreError::handshake(format!("handshake version: {}", e.message())))
}

impl AuthMsg {
    pub fn decode(plain: &[u8]) -> CoreResult<Self> {
        let l = split_list(plain, 4, "auth message")?;
        Ok(AuthMsg {
            signature: fixed(&l[0], "auth signature")?,
            initiator_pubkey: fixed(&l[1], "auth public key")?,
            nonce: fixed(&l[2], "auth nonce")?,
            version: version(&l[3])?,
            rest: l[4..].iter().map(rlp::encode).collect(),
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(170);
        rlp::encode_bytes(&mut body, &self.signature);
        rlp::encode_bytes(&mut body, &self.initiator_pubkey);
        rlp::encode_bytes(&mut body, &self.nonce);
        rlp::encode_uint(&mut body, self.version);
        for r in &self.rest {
            body.extend_from_slice(r);
        }
        let mut out = Vec::with_capacity(body.len() + 3);
        rlp::encode_list_payload(&mut out, &body);
        out
    }
}

impl AckMsg {
    pub fn decode(plain: &[u8]) -> CoreResult<Self> {
        let l = split_list(plain, 3, "ack message")?;
        Ok(AckMsg {
            ephemeral_pubkey: fixed(&l[0], "ack public key")?,
            nonce: fixed(&l[1], "ack nonce")?,
            version: version(&l[2])?,
            rest: l[3..].iter().map(rlp::encode).collect(),
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(110);
        rlp::encode_bytes(&mut body, &self.ephemeral_pubkey);
        rlp::encode_bytes(&mut body, &self.nonce);
        rlp::encode_uint(&mut body, self.version);
        for r in &self.rest {
            body.extend_from_slice(r);
        }
        let mut out = Vec::with_capacity(body.len() + 3);
        rlp::encode_list_payload(&mut out, &body);
        out
    }
}

/// Seal an EIP-8 packet: `size(2) || ECIES(body || zero padding, s2 = size)`.
pub fn seal_eip8(
    rng: &mut impl RngCore,
    remote: &PublicKey,
    body: &[u8],
    padding: usize,
) -> Vec<u8> {
    let mut plain = Vec::with_capacity(body.len() + padding);
    plain.extend_from_slice(body);
    plain.resize(body.len() + padding, 0);
    let size = (plain.len() + ecies::OVERHEAD) as u16;
    let prefix = size.to_be_bytes();
    let mut out = prefix.to_vec();
    out.extend_from_slice(&ecies::encrypt(rng, remote, &plain, &prefix));
    out
}

/// Result of reading one EIP-8 packet from a buffer.
enum Read {
    NeedMore,
    /// (full packet bytes incl. prefix, decrypted plaintext)
    Packet(usize, Vec<u8>),
}

/// Try to read one EIP-8 packet from the front of `buf`.
fn read_packet(
    own: &SecretKey,
    buf: &[u8],
    legacy_len: usize,
    legacy_checked: &mut bool,
) -> CoreResult<Read> {
    if buf.len() < 2 {
        return Ok(Read::NeedMore);
    }
    let size = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
    // A legacy packet starts with the 0x04 of its ephemeral key. Refuse it by
    // its MAC instead of waiting for the bogus "size" to arrive.
    // Tried once per message: an EIP-8 size of 0x04xx is legal too.
    if buf[0] == 0x04 && buf.len() >= legacy_len && !*legacy_checked {
        *legacy_checked = true;
        if ecies::decrypt(own, &buf[..legacy_len], &[]).is_ok() {
            return Err(CoreError::handshake(
                "legacy (pre-EIP-8) handshake message is not supported",
            ));
        }
    }
    if size > MAX_HANDSHAKE_SIZE {
        return Err(CoreError::handshake(format!(
            "handshake message too big: size prefix {size} > {MAX_HANDSHAKE_SIZE}"
        )));
    }
    if buf.len() < 2 + size {
        return Ok(Read::NeedMore);
    }
    let plain = ecies::decrypt(own, &buf[2..2 + size], &buf[..2])?;
    Ok(Read::Packet(2 + size, plain))
}

/// What [`Handshake::feed`] produced.
pub enum Progress {
    /// More bytes are needed.
    NeedMore,
    /// Handshake complete: write `send` (the ack, recipient only), start a
    /// session from `secrets`, and feed `leftover` (bytes after the
    /// handshake message) to it.
    Done {
        send: Vec<u8>,
        secrets: Box<Secrets>,
        leftover: Vec<u8>,
    },
}

enum Role {
    Initiator {
        remote: PublicKey,
        auth_packet: Vec<u8>,
    },
    Recipient,
}

/// One side of the handshake.
pub struct Handshake {
    role: Role,
    static_key: SecretKey,
    eph_key: SecretKey,
    nonce: [u8; 32],
    buf: Vec<u8>,
    done: bool,
    legacy_checked: bool,
    padding: Option<usize>,
}

impl Handshake {
    /// Start as initiator; returns the machine and the auth packet to send.
    pub fn initiator(static_key: SecretKey, remote: &PublicKey) -> (Self, Vec<u8>) {
        let mut rng = rand::rngs::OsRng;
        let eph = SecretKey::new(&mut rng);
        let mut nonce = [0u8; 32];
        rng.fill_bytes(&mut nonce);
        Self::initiator_with(&mut rng, static_key, remote, eph, nonce, None)
    }

    /// Deterministic initiator (ephemeral key, nonce and padding given).
    pub fn initiator_with(
        rng: &mut impl RngCore,
        static_key: SecretKey,
        remote: &PublicKey,
        eph_key: SecretKey,
        nonce: [u8; 32],
        padding: Option<usize>,
    ) -> (Self, Vec<u8>) {
        let token = keys::secp_ecdh_x(&static_key, remote);
        let mut signed = [0u8; 32];
        for i in 0..32 {
            signed[i] = token[i] ^ nonce[i];
        }
        let msg = AuthMsg {
            signature: keys::secp_sign_recoverable(&eph_key, &signed),
            initiator_pubkey: keys::secp_public64(&static_key),
            nonce,
            version: HANDSHAKE_VERSION,
            rest: Vec::new(),
        };
        let pad = padding.unwrap_or_else(|| rng.gen_range(PADDING_MIN..=PADDING_MAX));
        let auth = seal_eip8(rng, remote, &msg.encode(), pad);
        let hs = Handshake {
            role: Role::Initiator {
                remote: *remote,
                auth_packet: auth.clone(),
            },
            static_key,
            eph_key,
            nonce,
            buf: Vec::new(),
            done: false,
            legacy_checked: false,
            padding,
        };
        (hs, auth)
    }

    /// Start as recipient (waits for the auth message).
    pub fn recipient(static_key: SecretKey) -> Self {
        let mut rng = rand::rngs::OsRng;
        let eph = SecretKey::new(&mut rng);
        let mut nonce = [0u8; 32];
        rng.fill_bytes(&mut nonce);
        Self::recipient_with(static_key, eph, nonce, None)
    }

    /// Deterministic recipient.
    pub fn recipient_with(
        static_key: SecretKey,
        eph_key: SecretKey,
        nonce: [u8; 32],
        padding: Option<usize>,
    ) -> Self {
        Handshake {
            role: Role::Recipient,
            static_key,
            eph_key,
            nonce,
            buf: Vec::new(),
            done: false,
            legacy_checked: false,
            padding,
        }
    }

    /// Bytes buffered so far.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Feed received bytes.
    pub fn feed(&mut self, data: &[u8]) -> CoreResult<Progress> {
        if self.done {
            return Err(CoreError::local("handshake already finished or failed"));
        }
        self.buf.extend_from_slice(data);
        let res = self.step();
        if !matches!(res, Ok(Progress::NeedMore)) {
            self.done = true;
        }
        res
    }

    fn step(&mut self) -> CoreResult<Progress> {
        let legacy_len = match self.role {
            Role::Initiator { .. } => LEGACY_ACK_LEN,
            Role::Recipient => LEGACY_AUTH_LEN,
        };
        let (n, plain) = match read_packet(
            &self.static_key,
            &self.buf,
            legacy_len,
            &mut self.legacy_checked,
        )? {
            Read::NeedMore => return Ok(Progress::NeedMore),
            Read::Packet(n, plain) => (n, plain),
        };
        let packet = self.buf[..n].to_vec();
        let leftover = self.buf[n..].to_vec();
        self.buf = Vec::new();
        match &self.role {
            Role::Initiator {
                remote,
                auth_packet,
            } => {
                let ack = AckMsg::decode(&plain)?;
                let remote_eph = keys::secp_public(&ack.ephemeral_pubkey)?;
                let secrets = derive_secrets(
                    true,
                    &self.eph_key,
                    &remote_eph,
                    &self.nonce,
                    &ack.nonce,
                    auth_packet,
                    &packet,
                    keys::pub64(remote),
                );
                Ok(Progress::Done {
                    send: Vec::new(),
                    secrets: Box::new(secrets),
                    leftover,
                })
            }
            Role::Recipient => {
                let auth = AuthMsg::decode(&plain)?;
                let remote = keys::secp_public(&auth.initiator_pubkey)?;
                let token = keys::secp_ecdh_x(&self.static_key, &remote);
                let mut signed = [0u8; 32];
                for i in 0..32 {
                    signed[i] = token[i] ^ auth.nonce[i];
                }
                let remote_eph = keys::secp_recover(&signed, &auth.signature).map_err(|e| {
                    CoreError::handshake(format!("auth signature: {}", e.message()))
                })?;
                let ack = AckMsg {
                    ephemeral_pubkey: keys::secp_public64(&self.eph_key),
                    nonce: self.nonce,
                    version: HANDSHAKE_VERSION,
                    rest: Vec::new(),
                };
                let mut rng = rand::rngs::OsRng;
                let pad = self
                    .padding
                    .unwrap_or_else(|| rng.gen_range(PADDING_MIN..=PADDING_MAX));
                let ack_packet = seal_eip8(&mut rng, &remote, &ack.encode(), pad);
                let secrets = derive_secrets(
                    false,
                    &self.eph_key,
                    &remote_eph,
                    &auth.nonce,
                    &self.nonce,
                    &packet,
                    &ack_packet,
                    auth.initiator_pubkey,
                );
                Ok(Progress::Done {
                    send: ack_packet,
                    secrets: Box::new(secrets),
                    leftover,
                })
            }
        }
    }
}

/// go-ethereum `handshakeState.secrets`.
#[allow(clippy::too_many_arguments)]
pub fn derive_secrets(
    initiator: bool,
    own_eph: &SecretKey,
    remote_eph: &PublicKey,
    init_nonce: &[u8; 32],
    resp_nonce: &[u8; 32],
    auth_packet: &[u8],
    ack_packet: &[u8],
    remote: [u8; 64],
) -> Secrets {
    let ecdhe = keys::secp_ecdh_x(own_eph, remote_eph);
    let cat = |a: &[u8], b: &[u8]| {
        let mut h = Keccak256::new();
        Digest::update(&mut h, a);
        Digest::update(&mut h, b);
        let out: [u8; 32] = h.finalize().into();
        out
    };
    let nonce_hash = cat(resp_nonce, init_nonce);
    let shared = cat(&ecdhe, &nonce_hash);
    let aes = cat(&ecdhe, &shared);
    let mac = cat(&ecdhe, &aes);
    let xor = |n: &[u8; 32]| {
        let mut o = [0u8; 32];
        for i in 0..32 {
            o[i] = mac[i] ^ n[i];
        }
        o
    };
    let mut mac1 = Keccak256::new();
    Digest::update(&mut mac1, xor(resp_nonce));
    Digest::update(&mut mac1, auth_packet);
    let mut mac2 = Keccak256::new();
    Digest::update(&mut mac2, xor(init_nonce));
    Digest::update(&mut mac2, ack_packet);
    let (egress_mac, ingress_mac) = if initiator {
        (mac1, mac2)
    } else {
        (mac2, mac1)
    };
    Secrets {
        aes,
        mac,
        egress_mac,
        ingress_mac,
        remote,
    }
}
