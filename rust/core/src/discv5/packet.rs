//! discv5 packet framing (geth `v5wire/encoding.go`): masking IV, masked
//! static header and authdata, and the three flags. Stateless: the session
//! layer ([`super::session`]) chooses keys, nonces and IVs.
use secp256k1::SecretKey;

use super::crypto::{self, KEY_SIZE, NONCE_SIZE, PUBKEY_SIZE, SIGNATURE_SIZE};
use super::message::Message;
use crate::error::{CoreError, CoreResult};

/// Protocol ID in the static header (geth `DefaultProtocolID`).
pub const PROTOCOL_ID: [u8; 6] = *b"discv5";
/// Header version we write.
pub const VERSION: u16 = 1;
/// Lowest header version we accept (geth `minVersion`).
pub const MIN_VERSION: u16 = 1;
/// Masking IV size.
pub const IV_SIZE: usize = 16;
/// protocol-id(6) || version(2) || flag(1) || nonce(12) || authdata-size(2).
pub const STATIC_HEADER_SIZE: usize = 23;
/// IV plus static header.
pub const STATIC_PACKET_SIZE: usize = IV_SIZE + STATIC_HEADER_SIZE;
/// Smallest valid packet (a WHOAREYOU). Shorter datagrams are not discv5.
pub const MIN_PACKET_SIZE: usize = 63;
/// Largest packet: the IPv6 minimum MTU; caps every allocation from input.
pub const MAX_PACKET_SIZE: usize = 1280;
/// Bytes after the static header of a message or handshake packet (geth
/// `minMessageSize`): authdata(32) plus the GCM tag.
pub const MIN_MESSAGE_SIZE: usize = 48;
/// Random message bytes sent to start a handshake (geth `randomPacketMsgSize`).
pub const RANDOM_MESSAGE_SIZE: usize = 20;
/// authdata of a message packet: src-id.
pub const MESSAGE_AUTH_SIZE: usize = 32;
/// authdata of WHOAREYOU: id-nonce(16) || enr-seq(8).
pub const WHOAREYOU_AUTH_SIZE: usize = 24;
/// Fixed part of handshake authdata: src-id || sig-size || eph-key-size.
pub const HANDSHAKE_AUTH_FIXED: usize = 34;

/// Packet flags.
pub const FLAG_MESSAGE: u8 = 0;
pub const FLAG_WHOAREYOU: u8 = 1;
pub const FLAG_HANDSHAKE: u8 = 2;

pub type Nonce = [u8; NONCE_SIZE];

/// An unmasked header and the bytes the GCM tag authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub iv: [u8; IV_SIZE],
    pub version: u16,
    pub flag: u8,
    pub nonce: Nonce,
    pub authdata: Vec<u8>,
    /// `masking-iv || static-header || authdata`, unmasked: the GCM
    /// associated data, and for WHOAREYOU the challenge data.
    pub header_data: Vec<u8>,
}

/// Handshake authdata fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeAuth {
    pub src_id: [u8; 32],
    pub signature: Vec<u8>,
    pub eph_pubkey: Vec<u8>,
    pub record: Vec<u8>,
}

/// Is `err` a header-level failure, i.e. the datagram is probably not discv5
/// at all (geth `IsInvalidHeader`)? Such packets go to the next protocol on a
/// shared socket.
pub fn is_invalid_header(err: &CoreError) -> bool {
    matches!(err, CoreError::Decode(m) if m.starts_with(NOT_DISCV5))
}

const NOT_DISCV5: &str = "not discv5: ";

fn not_discv5(what: &str) -> CoreError {
    CoreError::decode(format!("{NOT_DISCV5}{what}"))
}

/// Unmask and check the header of a packet addressed to `local_id`.
/// Returns the header and the message bytes after it.
pub fn decode_header<'a>(local_id: &[u8; 32], data: &'a [u8]) -> CoreResult<(Header, &'a [u8])> {
    if data.len() < MIN_PACKET_SIZE {
        return Err(not_discv5("packet too short"));
    }
    if data.len() > MAX_PACKET_SIZE {
        return Err(CoreError::decode("packet larger than 1280 bytes"));
    }
    let mut iv = [0u8; IV_SIZE];
    iv.copy_from_slice(&data[..IV_SIZE]);
    // One CTR stream over the header: the static part first, then (once its
    // size is known and checked) the authdata. The message is not masked.
    let mut mask = crypto::Mask::new(local_id, &iv);
    let mut header_data = Vec::with_capacity(STATIC_PACKET_SIZE + 64);
    header_data.extend_from_slice(&data[..STATIC_PACKET_SIZE]);
    mask.apply(&mut header_data[IV_SIZE..]);
    let st = &header_data[IV_SIZE..];
    if st[..6] != PROTOCOL_ID {
        return Err(not_discv5("invalid packet header"));
    }
    let version = u16::from_be_bytes([st[6], st[7]]);
    let flag = st[8];
    let mut nonce = [0u8; NONCE_SIZE];
    nonce.copy_from_slice(&st[9..21]);
    let auth_size = usize::from(u16::from_be_bytes([st[21], st[22]]));
    let remaining = data.len() - STATIC_PACKET_SIZE;
    if version < MIN_VERSION {
        return Err(CoreError::decode("version of packet header below minimum"));
    }
    if flag != FLAG_WHOAREYOU && remaining < MIN_MESSAGE_SIZE {
        return Err(not_discv5("message/handshake packet below minimum size"));
    }
    if auth_size > remaining {
        return Err(CoreError::decode(
            "declared auth size is beyond packet length",
        ));
    }
    let auth_end = STATIC_PACKET_SIZE + auth_size;
    header_data.extend_from_slice(&data[STATIC_PACKET_SIZE..auth_end]);
    mask.apply(&mut header_data[STATIC_PACKET_SIZE..]);
    let authdata = header_data[STATIC_PACKET_SIZE..].to_vec();
    let header = Header {
        iv,
        version,
        flag,
        nonce,
        authdata,
        header_data,
    };
    Ok((header, &data[auth_end..]))
}

/// `masking-iv || static-header || authdata`, unmasked.
pub fn header_data(
    iv: &[u8; IV_SIZE],
    flag: u8,
    nonce: &Nonce,
    authdata: &[u8],
) -> CoreResult<Vec<u8>> {
    let auth_size = u16::try_from(authdata.len())
        .map_err(|_| CoreError::local("authdata larger than 65535 bytes"))?;
    let mut out = Vec::with_capacity(STATIC_PACKET_SIZE + authdata.len());
    out.extend_from_slice(iv);
    out.extend_from_slice(&PROTOCOL_ID);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.push(flag);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&auth_size.to_be_bytes());
    out.extend_from_slice(authdata);
    Ok(out)
}

/// Mask an unmasked header in place and append the message bytes.
pub fn finish_packet(dest_id: &[u8; 32], mut header: Vec<u8>, msg: &[u8]) -> CoreResult<Vec<u8>> {
    let mut iv = [0u8; IV_SIZE];
    iv.copy_from_slice(&header[..IV_SIZE]);
    crypto::apply_mask(dest_id, &iv, &mut header[IV_SIZE..]);
    header.extend_from_slice(msg);
    if header.len() > MAX_PACKET_SIZE {
        return Err(CoreError::local(format!(
            "packet of {} bytes exceeds the {MAX_PACKET_SIZE}-byte limit",
            header.len()
        )));
    }
    Ok(header)
}

/// An ordinary message packet (flag 0) sealed with `key`.
pub fn encode_message(
    dest_id: &[u8; 32],
    src_id: &[u8; 32],
    iv: &[u8; IV_SIZE],
    nonce: &Nonce,
    key: &[u8; KEY_SIZE],
    msg: &Message,
) -> CoreResult<Vec<u8>> {
    let head = header_data(iv, FLAG_MESSAGE, nonce, src_id)?;
    let ct = crypto::encrypt_gcm(key, nonce, &msg.encode(), &head);
    finish_packet(dest_id, head, &ct)
}

/// A flag-0 packet with random bytes as the message: geth's way to ask for
/// a WHOAREYOU when it has no session.
pub fn encode_random(
    dest_id: &[u8; 32],
    src_id: &[u8; 32],
    iv: &[u8; IV_SIZE],
    nonce: &Nonce,
    random: &[u8; RANDOM_MESSAGE_SIZE],
) -> CoreResult<Vec<u8>> {
    let head = header_data(iv, FLAG_MESSAGE, nonce, src_id)?;
    finish_packet(dest_id, head, random)
}

/// WHOAREYOU authdata: id-nonce || enr-seq.
pub fn whoareyou_authdata(id_nonce: &[u8; 16], enr_seq: u64) -> Vec<u8> {
    let mut a = Vec::with_capacity(WHOAREYOU_AUTH_SIZE);
    a.extend_from_slice(id_nonce);
    a.extend_from_slice(&enr_seq.to_be_bytes());
    a
}

/// Parse WHOAREYOU authdata.
pub fn parse_whoareyou_auth(authdata: &[u8]) -> CoreResult<([u8; 16], u64)> {
    if authdata.len() != WHOAREYOU_AUTH_SIZE {
        return Err(CoreError::decode(format!(
            "invalid auth size {} for WHOAREYOU",
            authdata.len()
        )));
    }
    let mut id_nonce = [0u8; 16];
    id_nonce.copy_from_slice(&authdata[..16]);
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&authdata[16..]);
    Ok((id_nonce, u64::from_be_bytes(seq)))
}

/// Parse message-packet authdata (src-id).
pub fn parse_message_auth(authdata: &[u8]) -> CoreResult<[u8; 32]> {
    <[u8; 32]>::try_from(authdata).map_err(|_| {
        CoreError::decode(format!(
            "invalid auth size {} for message packet",
            authdata.len()
        ))
    })
}

/// Parse handshake authdata.
pub fn parse_handshake_auth(authdata: &[u8]) -> CoreResult<HandshakeAuth> {
    if authdata.len() < HANDSHAKE_AUTH_FIXED {
        return Err(CoreError::decode(format!(
            "header authsize {} too low for handshake",
            authdata.len()
        )));
    }
    let mut src_id = [0u8; 32];
    src_id.copy_from_slice(&authdata[..32]);
    let sig_size = usize::from(authdata[32]);
    let key_size = usize::from(authdata[33]);
    let var = &authdata[HANDSHAKE_AUTH_FIXED..];
    if var.len() < sig_size + key_size {
        return Err(CoreError::decode("handshake authdata too short"));
    }
    Ok(HandshakeAuth {
        src_id,
        signature: var[..sig_size].to_vec(),
        eph_pubkey: var[sig_size..sig_size + key_size].to_vec(),
        record: var[sig_size + key_size..].to_vec(),
    })
}

/// Everything that goes into one handshake packet; the caller supplies
/// the randomness so tests reproduce the official vectors.
pub struct HandshakeInput<'a> {
    pub local_key: &'a SecretKey,
    pub local_id: &'a [u8; 32],
    pub dest_id: &'a [u8; 32],
    pub dest_pubkey: &'a secp256k1::PublicKey,
    pub challenge_data: &'a [u8],
    pub eph_key: &'a SecretKey,
    /// Our record, included when the remote's copy is older (or absent).
    pub record: Option<&'a [u8]>,
    pub iv: &'a [u8; IV_SIZE],
    pub nonce: &'a Nonce,
}

/// A handshake packet (flag 2) and the initiator's session keys.
pub fn encode_handshake(
    inp: &HandshakeInput<'_>,
    msg: &Message,
) -> CoreResult<(Vec<u8>, crypto::SessionKeys)> {
    let eph_pub = crypto::compressed_pubkey(inp.eph_key);
    let sig = crypto::make_id_signature(inp.local_key, inp.challenge_data, &eph_pub, inp.dest_id);
    let record = inp.record.unwrap_or(&[]);
    let mut auth =
        Vec::with_capacity(HANDSHAKE_AUTH_FIXED + SIGNATURE_SIZE + PUBKEY_SIZE + record.len());
    auth.extend_from_slice(inp.local_id);
    auth.push(SIGNATURE_SIZE as u8);
    auth.push(PUBKEY_SIZE as u8);
    auth.extend_from_slice(&sig);
    auth.extend_from_slice(&eph_pub);
    auth.extend_from_slice(record);
    let keys = crypto::derive_keys(
        inp.eph_key,
        inp.dest_pubkey,
        inp.local_id,
        inp.dest_id,
        inp.challenge_data,
    );
    let head = header_data(inp.iv, FLAG_HANDSHAKE, inp.nonce, &auth)?;
    let ct = crypto::encrypt_gcm(&keys.initiator_key, inp.nonce, &msg.encode(), &head);
    Ok((finish_packet(inp.dest_id, head, &ct)?, keys))
}
