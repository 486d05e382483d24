//! The subset of gno's TM2 amino that the p2p layer puts on the wire.
//!
//! TM2 amino is proto3-compatible: a field key is `uvarint(number << 3 | typ3)`,
//! fields come in ascending order, default values are omitted, and varints
//! are minimal. `Any` is `google.protobuf.Any{1: type_url, 2: value}`, and a
//! "sized" message is `uvarint(len) || body`. The decoder is as strict as
//! gno's generated decoders (`pb3_gen.go`, `amino.go: unmarshalAnyBinary2`):
//! field numbers strictly ascending, no unknown fields, wire types exactly
//! as declared, and no trailing bytes after an `Any` envelope.
use crate::error::{CoreError, CoreResult};

/// typ3 of a varint field.
pub const TYP3_VARINT: u8 = 0;
/// typ3 of an 8-byte field.
pub const TYP3_8BYTE: u8 = 1;
/// typ3 of a length-delimited field (bytes, strings, structs).
pub const TYP3_BYTES: u8 = 2;
/// typ3 of a 4-byte field.
pub const TYP3_4BYTE: u8 = 5;

/// Largest field number proto3 (and amino) allows; bigger keys are garbage.
pub const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

/// A uvarint never needs more than 10 bytes; more is an overflow attack on
/// the length arithmetic (Go's `binary.Uvarint` gives up at the same point).
pub const MAX_UVARINT_LEN: usize = 10;

/// Type URL prefix of everything the p2p layer registers (amino package "p2p").
pub const P2P_PREFIX: &str = "/p2p.";

// ------------------------------------------------------------------ encoding

/// Append the minimal uvarint encoding of `v`.
pub fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Number of bytes the minimal uvarint of `v` takes.
pub fn uvarint_size(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Append a field key.
pub fn put_key(buf: &mut Vec<u8>, field: u32, typ3: u8) {
    put_uvarint(buf, (u64::from(field) << 3) | u64::from(typ3));
}

/// Append a length-delimited field, omitted when empty (proto3 default).
pub fn put_bytes_field(buf: &mut Vec<u8>, field: u32, value: &[u8]) {
    if value.is_empty() {
        return;
    }
    put_key(buf, field, TYP3_BYTES);
    put_uvarint(buf, value.len() as u64);
    buf.extend_from_slice(value);
}

/// Append a length-delimited field even when empty (non-nil pointers, repeated elements).
pub fn put_bytes_field_always(buf: &mut Vec<u8>, field: u32, value: &[u8]) {
    put_key(buf, field, TYP3_BYTES);
    put_uvarint(buf, value.len() as u64);
    buf.extend_from_slice(value);
}

/// Append a varint field, omitted when zero.
pub fn put_varint_field(buf: &mut Vec<u8>, field: u32, value: u64) {
    if value == 0 {
        return;
    }
    put_key(buf, field, TYP3_VARINT);
    put_uvarint(buf, value);
}

/// `uvarint(len(body)) || body` (amino `MarshalSized`).
pub fn sized(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + uvarint_size(body.len() as u64));
    put_uvarint(&mut out, body.len() as u64);
    out.extend_from_slice(body);
    out
}

/// Append an `Any{type_url, value}` envelope (amino `MarshalAny`).
///
/// Like gno, the value field is omitted when the value encodes to nothing
/// (or to the single byte `00`, which amino treats the same way).
pub fn put_any(buf: &mut Vec<u8>, type_url: &str, value: &[u8]) {
    put_bytes_field_always(buf, 1, type_url.as_bytes());
    if !(value.is_empty() || value == [0u8]) {
        put_bytes_field_always(buf, 2, value);
    }
}

/// `MarshalAny`: the bare envelope.
pub fn any(type_url: &str, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(type_url.len() + value.len() + 8);
    put_any(&mut out, type_url, value);
    out
}

/// `MarshalAnySized`: `uvarint(len) || Any`.
pub fn any_sized(type_url: &str, value: &[u8]) -> Vec<u8> {
    sized(&any(type_url, value))
}

// ------------------------------------------------------------------ decoding

/// Result of reading a uvarint prefix from a possibly incomplete buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// More bytes are needed to finish the varint.
    Incomplete,
    /// The value and how many bytes it took.
    Done(u64, usize),
}

/// Read a uvarint like Go's `binary.Uvarint`: non-minimal forms are
/// accepted, more than 64 bits is an error.
pub fn read_uvarint(buf: &[u8]) -> CoreResult<Prefix> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate() {
        if i == MAX_UVARINT_LEN - 1 && b > 1 {
            return Err(CoreError::decode("uvarint overflows 64 bits"));
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(Prefix::Done(v, i + 1));
        }
        if i + 1 >= MAX_UVARINT_LEN {
            return Err(CoreError::decode("uvarint overflows 64 bits"));
        }
    }
    Ok(Prefix::Incomplete)
}

/// Read a complete uvarint; running out of bytes is an error.
pub fn uvarint(buf: &[u8]) -> CoreResult<(u64, usize)> {
    match read_uvarint(buf)? {
        Prefix::Done(v, n) => Ok((v, n)),
        Prefix::Incomplete => Err(CoreError::decode("buffer too small for uvarint")),
    }
}

/// One decoded field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Value<'a> {
    /// The payload of a length-delimited field; any other wire type is an error.
    pub fn bytes(self, what: &str) -> CoreResult<&'a [u8]> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err(CoreError::decode(format!(
                "{what}: expected a length-delimited field"
            ))),
        }
    }

    /// A varint field; any other wire type is an error.
    pub fn varint(self, what: &str) -> CoreResult<u64> {
        match self {
            Value::Varint(v) => Ok(v),
            _ => Err(CoreError::decode(format!(
                "{what}: expected a varint field"
            ))),
        }
    }

    /// A varint field that must fit in a byte (amino `DecodeUvarint8`).
    pub fn uint8(self, what: &str) -> CoreResult<u8> {
        let v = self.varint(what)?;
        u8::try_from(v).map_err(|_| CoreError::decode(format!("{what}: {v} does not fit in uint8")))
    }

    /// A UTF-8 string field (Go strings carry any bytes; we require UTF-8 only
    /// where the caller asks for `str`).
    pub fn string(self, what: &str) -> CoreResult<&'a str> {
        std::str::from_utf8(self.bytes(what)?)
            .map_err(|_| CoreError::decode(format!("{what}: not valid UTF-8")))
    }
}

/// Iterates over the fields of one message, enforcing the ordering rule.
///
/// `repeated_ok` lists field numbers that may repeat (proto3 unpacked
/// repeated fields); every other field number must be strictly greater than
/// the previous one, as gno's decoder requires.
pub struct Fields<'a> {
    rest: &'a [u8],
    last: u64,
    repeated_ok: &'static [u32],
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        Fields {
            rest: body,
            last: 0,
            repeated_ok: &[],
        }
    }

    pub fn with_repeated(body: &'a [u8], repeated_ok: &'static [u32]) -> Self {
        Fields {
            rest: body,
            last: 0,
            repeated_ok,
        }
    }

    /// The next field, `None` at the end of the message.
    pub fn next_field(&mut self) -> CoreResult<Option<(u32, Value<'a>)>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (key, n) = uvarint(self.rest)?;
        let num = key >> 3;
        let typ3 = (key & 7) as u8;
        if num == 0 {
            return Err(CoreError::decode("invalid field number 0 (reserved)"));
        }
        if num > MAX_FIELD_NUMBER {
            return Err(CoreError::decode(format!("invalid field number {num}")));
        }
        let repeat = num == self.last && self.repeated_ok.contains(&(num as u32));
        if num <= self.last && !repeat {
            return Err(CoreError::decode(format!(
                "field {num} after field {}: fields must be strictly ascending",
                self.last
            )));
        }
        self.last = num;
        let mut rest = &self.rest[n..];
        let value = match typ3 {
            TYP3_VARINT => {
                let (v, m) = uvarint(rest)?;
                rest = &rest[m..];
                Value::Varint(v)
            }
            TYP3_8BYTE => {
                let b: [u8; 8] = rest
                    .get(..8)
                    .and_then(|s| s.try_into().ok())
                    .ok_or_else(|| CoreError::decode("truncated 8-byte field"))?;
                rest = &rest[8..];
                Value::Fixed64(u64::from_le_bytes(b))
            }
            TYP3_BYTES => {
                let (len, m) = uvarint(rest)?;
                let body = &rest[m..];
                if len > body.len() as u64 {
                    return Err(CoreError::decode(format!(
                        "field {num}: length {len} exceeds the {} bytes left",
                        body.len()
                    )));
                }
                let len = len as usize;
                rest = &body[len..];
                Value::Bytes(&body[..len])
            }
            TYP3_4BYTE => {
                let b: [u8; 4] = rest
                    .get(..4)
                    .and_then(|s| s.try_into().ok())
                    .ok_or_else(|| CoreError::decode("truncated 4-byte field"))?;
                rest = &rest[4..];
                Value::Fixed32(u32::from_le_bytes(b))
            }
            t => return Err(CoreError::decode(format!("field {num}: invalid typ3 {t}"))),
        };
        self.rest = rest;
        Ok(Some((num as u32, value)))
    }
}

/// Decode an `Any` envelope: returns (type name after the last `/`, value).
///
/// Field 1 (type URL, printable ASCII) must come first, field 2 is
/// optional, and nothing may follow (gno rejects trailing bytes).
pub fn decode_any(bz: &[u8]) -> CoreResult<(&str, &[u8])> {
    if bz.is_empty() {
        return Err(CoreError::decode("empty Any"));
    }
    let mut f = Fields::new(bz);
    let Some((1, Value::Bytes(url))) = f.next_field()? else {
        return Err(CoreError::decode("Any: expected field 1 (type URL) first"));
    };
    if url.is_empty() || !url.iter().all(|b| (32..=126).contains(b)) {
        return Err(CoreError::decode("Any: type URL is not printable ASCII"));
    }
    let value = match f.next_field()? {
        None => &[][..],
        Some((2, Value::Bytes(v))) => v,
        Some(_) => return Err(CoreError::decode("Any: expected field 2 (value)")),
    };
    if !f.rest.is_empty() {
        return Err(CoreError::decode(format!(
            "{} trailing bytes after Any envelope",
            f.rest.len()
        )));
    }
    // Checked above to be ASCII, so this cannot fail.
    let url = std::str::from_utf8(url).map_err(|_| CoreError::decode("Any: bad type URL"))?;
    let name = match url.rfind('/') {
        Some(i) => &url[i + 1..],
        None => url,
    };
    Ok((name, value))
}

/// Split a complete sized message `uvarint(len) || body` off the front of
/// `buf`. `Ok(None)` means more bytes are needed; `max_total` bounds
/// prefix + body like `UnmarshalSizedReader(…, maxSize)`.
pub fn take_sized(buf: &[u8], max_total: usize) -> CoreResult<Option<(&[u8], usize)>> {
    let (len, n) = match read_uvarint(buf)? {
        Prefix::Incomplete => {
            if buf.len() >= MAX_UVARINT_LEN {
                return Err(CoreError::decode("sized message prefix overflows"));
            }
            return Ok(None);
        }
        Prefix::Done(len, n) => (len, n),
    };
    if len > (max_total as u64).saturating_sub(n as u64) {
        return Err(CoreError::decode(format!(
            "read overflow, max size is {max_total} but this message is {} bytes",
            (n as u64).saturating_add(len)
        )));
    }
    let total = n + len as usize;
    if buf.len() < total {
        return Ok(None);
    }
    Ok(Some((&buf[n..total], total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvarints_are_minimal_and_go_compatible() {
        for (v, hex) in [
            (0u64, "00"),
            (1, "01"),
            (127, "7f"),
            (128, "8001"),
            (300, "ac02"),
        ] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(hex::encode(&b), hex);
            assert_eq!(uvarint_size(v), b.len());
            assert_eq!(uvarint(&b).unwrap(), (v, b.len()));
        }
        let mut b = Vec::new();
        put_uvarint(&mut b, u64::MAX);
        assert_eq!(b.len(), 10);
        assert_eq!(uvarint(&b).unwrap().0, u64::MAX);
        // Non-minimal forms decode, as in Go.
        assert_eq!(uvarint(&[0x81, 0x00]).unwrap(), (1, 2));
        // 11 bytes / >64 bits is an overflow.
        assert!(uvarint(&[0xff; 11]).is_err());
        assert!(uvarint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).is_err());
        assert_eq!(read_uvarint(&[0x80]).unwrap(), Prefix::Incomplete);
    }

    #[test]
    fn any_round_trip_and_strictness() {
        let a = any("/p2p.Ping", &[]);
        assert_eq!(hex::encode(&a), "0a092f7032702e50696e67");
        assert_eq!(decode_any(&a).unwrap(), ("p2p.Ping", &[][..]));
        let mut trailing = a.clone();
        trailing.push(0);
        assert!(decode_any(&trailing).is_err());
        // value first is rejected
        assert!(decode_any(&[0x12, 0x00]).is_err());
        // non-printable URL
        assert!(decode_any(&[0x0a, 0x01, 0x07]).is_err());
        // field 3 after the value
        let mut extra = any("/p2p.Msg", &[0x08, 0x01]);
        extra.extend_from_slice(&[0x1a, 0x00]);
        assert!(decode_any(&extra).is_err());
    }

    #[test]
    fn fields_must_ascend() {
        assert!(Fields::new(&[0x10, 0x01, 0x08, 0x01]).next_field().is_ok());
        let mut f = Fields::new(&[0x10, 0x01, 0x08, 0x01]);
        f.next_field().unwrap();
        assert!(f.next_field().is_err());
        let mut f = Fields::new(&[0x08, 0x01, 0x08, 0x01]);
        f.next_field().unwrap();
        assert!(f.next_field().is_err());
        let mut f = Fields::with_repeated(&[0x0a, 0x00, 0x0a, 0x00], &[1]);
        assert!(f.next_field().unwrap().is_some());
        assert!(f.next_field().unwrap().is_some());
        assert!(f.next_field().unwrap().is_none());
        assert!(Fields::new(&[0x00]).next_field().is_err());
        assert!(Fields::new(&[0x0a, 0x05, 0x00]).next_field().is_err());
        assert!(Fields::new(&[0x0b]).next_field().is_err());
    }

    #[test]
    fn sized_messages() {
        assert_eq!(take_sized(&[0x02, 0xaa], 100).unwrap(), None);
        assert_eq!(
            take_sized(&[0x02, 0xaa, 0xbb, 0xcc], 100).unwrap(),
            Some((&[0xaa, 0xbb][..], 3))
        );
        assert!(take_sized(&[0x05], 5).is_err());
        assert!(take_sized(&[0x04], 5).unwrap().is_none());
        assert_eq!(take_sized(&[], 5).unwrap(), None);
    }
}
