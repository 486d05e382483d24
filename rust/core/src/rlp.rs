//! RLP as a generic tree of byte strings and lists, on top of `alloy-rlp`.
//!
//! `alloy-rlp` (the alloy/reth RLP crate) does the header parsing and the
//! canonical-form checks (no leading zeros in lengths, no single byte below
//! 0x80 wrapped in a string header). This module adds the generic [`Item`]
//! tree that wire codecs with "extra list elements are allowed" rules need, and
//! canonical unsigned-integer helpers.
use alloy_rlp::{Buf, BufMut, Header};

use crate::error::{CoreError, CoreResult};

/// Nesting limit for [`decode`]: a packet of nested list headers would
/// otherwise recurse once per 1-2 bytes of input and exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// A decoded RLP value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Bytes(Vec<u8>),
    List(Vec<Item>),
}

impl Item {
    pub fn as_bytes(&self) -> CoreResult<&[u8]> {
        match self {
            Item::Bytes(b) => Ok(b),
            Item::List(_) => Err(CoreError::decode("expected string, got list")),
        }
    }
    pub fn as_list(&self) -> CoreResult<&[Item]> {
        match self {
            Item::List(l) => Ok(l),
            Item::Bytes(_) => Err(CoreError::decode("expected list, got string")),
        }
    }
    /// A canonical unsigned integer of at most 8 bytes.
    pub fn as_u64(&self) -> CoreResult<u64> {
        decode_uint(self.as_bytes()?)
    }
}

/// Interpret a byte string as a canonical big-endian unsigned integer.
pub fn decode_uint(b: &[u8]) -> CoreResult<u64> {
    if b.len() > 8 {
        return Err(CoreError::decode("integer larger than 64 bits"));
    }
    if b.first() == Some(&0) {
        return Err(CoreError::decode("non-canonical integer (leading zero)"));
    }
    Ok(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

/// Minimal big-endian bytes of an unsigned integer (0 is the empty string).
pub fn uint_bytes(v: u64) -> Vec<u8> {
    let be = v.to_be_bytes();
    let skip = be.iter().take_while(|&&b| b == 0).count();
    be[skip..].to_vec()
}

/// Encode a byte string.
pub fn encode_bytes(out: &mut Vec<u8>, b: &[u8]) {
    if b.len() == 1 && b[0] < 0x80 {
        out.put_u8(b[0]);
    } else {
        Header {
            list: false,
            payload_length: b.len(),
        }
        .encode(out);
        out.extend_from_slice(b);
    }
}

/// Encode an unsigned integer.
pub fn encode_uint(out: &mut Vec<u8>, v: u64) {
    encode_bytes(out, &uint_bytes(v));
}

/// Wrap an already-encoded payload in a list header.
pub fn encode_list_payload(out: &mut Vec<u8>, payload: &[u8]) {
    Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(out);
    out.extend_from_slice(payload);
}

/// Encode an [`Item`] tree.
pub fn encode(item: &Item) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(&mut out, item);
    out
}

fn encode_into(out: &mut Vec<u8>, item: &Item) {
    match item {
        Item::Bytes(b) => encode_bytes(out, b),
        Item::List(items) => {
            let mut payload = Vec::new();
            for it in items {
                encode_into(&mut payload, it);
            }
            encode_list_payload(out, &payload);
        }
    }
}

/// Decode exactly one item that must span all of `data`.
pub fn decode(data: &[u8]) -> CoreResult<Item> {
    let mut buf = data;
    let item = decode_one(&mut buf, 0)?;
    if !buf.is_empty() {
        return Err(CoreError::decode(format!(
            "{} trailing bytes after RLP value",
            buf.len()
        )));
    }
    Ok(item)
}

/// Decode the first item of `data` and return it with the unparsed rest.
pub fn decode_prefix(data: &[u8]) -> CoreResult<(Item, &[u8])> {
    let mut buf = data;
    let item = decode_one(&mut buf, 0)?;
    Ok((item, buf))
}

fn decode_one(buf: &mut &[u8], depth: usize) -> CoreResult<Item> {
    if depth > MAX_DEPTH {
        return Err(CoreError::decode("RLP nesting too deep"));
    }
    let header = Header::decode(buf)?;
    if header.payload_length > buf.len() {
        return Err(CoreError::decode("RLP value longer than input"));
    }
    let (payload, rest) = buf.split_at(header.payload_length);
    if header.list {
        let mut inner = payload;
        let mut items = Vec::new();
        while inner.has_remaining() {
            items.push(decode_one(&mut inner, depth + 1)?);
        }
        *buf = rest;
        Ok(Item::List(items))
    } else {
        *buf = rest;
        Ok(Item::Bytes(payload.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_nested() {
        let item = Item::List(vec![
            Item::Bytes(vec![]),
            Item::Bytes(vec![0x7f]),
            Item::Bytes(vec![0x80]),
            Item::List(vec![Item::Bytes(vec![1; 60])]),
        ]);
        let enc = encode(&item);
        assert_eq!(decode(&enc).unwrap(), item);
    }

    #[test]
    fn known_encodings() {
        assert_eq!(encode(&Item::Bytes(b"dog".to_vec())), b"\x83dog");
        assert_eq!(encode(&Item::List(vec![])), [0xc0]);
        let mut out = Vec::new();
        encode_uint(&mut out, 0);
        assert_eq!(out, [0x80]);
        out.clear();
        encode_uint(&mut out, 1024);
        assert_eq!(out, [0x82, 0x04, 0x00]);
    }

    #[test]
    fn rejects_non_canonical() {
        // single byte below 0x80 wrapped in a header
        assert!(decode(&[0x81, 0x05]).is_err());
        // long-form header for a short string
        assert!(decode(&[0xb8, 0x01, 0xff]).is_err());
        // integer with a leading zero
        assert!(decode_uint(&[0x00, 0x01]).is_err());
        // trailing bytes
        assert!(decode(&[0x80, 0x80]).is_err());
        // truncated
        assert!(decode(&[0x83, b'd']).is_err());
    }

    #[test]
    fn depth_limit() {
        let mut data = vec![0xc0u8];
        for _ in 0..200 {
            let mut outer = Vec::new();
            encode_list_payload(&mut outer, &data);
            data = outer;
        }
        assert!(decode(&data).is_err());
    }
}
