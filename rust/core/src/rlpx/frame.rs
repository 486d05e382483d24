//! The RLPx frame codec: AES-256-CTR (one keystream per direction), the two
//! running Keccak MACs, RLP message codes and optional snappy compression.
//!
//! Layout of one frame (go-ethereum `sessionState.writeFrame`/`readFrame`):
//! ```text
//! header-ct(16) || header-mac(16) || body-ct(fsize rounded up to 16) || frame-mac(16)
//! header = fsize(3, BE) || c2 80 80 || 10 zero bytes
//! body   = rlp(code) || payload (snappy block when enabled) || zero padding
//! ```
//! [`Session::seal`] appends whole frames to a caller buffer;
//! [`Session::feed`] takes socket buffers of any size and returns every
//! message they complete. The decoder verifies each MAC before decrypting
//! and keeps at most one partial frame buffered.
use aes::cipher::{BlockEncrypt, KeyInit, KeyIvInit, StreamCipher};
use aes::Aes256;
use subtle::ConstantTimeEq;

use crate::error::{CoreError, CoreResult};
use crate::hash::{Digest, Keccak256};

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// Largest frame-size the 3-byte header can carry (2^24 − 1). It also bounds
/// a plain payload before compression and a snappy-declared length: a peer
/// cannot make us buffer or allocate more than this per message.
pub const MAX_FRAME_SIZE: usize = 0xFF_FFFF;

/// Largest uncompressed payload accepted by [`Session::seal`] and produced by
/// snappy decoding (go-ethereum `errPlainMessageTooLarge`). A snappy header
/// claiming more is refused before any allocation (decompression bomb).
pub const MAX_PAYLOAD_SIZE: usize = MAX_FRAME_SIZE;

const HEADER_LEN: usize = 16;
const MAC_LEN: usize = 16;
/// Header bytes after the size: RLP `[0, 0]` as go-ethereum writes it.
const HEADER_DATA: [u8; 3] = [0xc2, 0x80, 0x80];

/// The hash that a running MAC is built on. Production uses Keccak-256; the
/// go-ethereum golden frame test substitutes a constant fake.
pub trait MacHash {
    fn absorb(&mut self, data: &[u8]);
    /// Digest of everything absorbed so far, leaving the state running.
    fn sum(&self) -> [u8; 32];
}

impl MacHash for Keccak256 {
    fn absorb(&mut self, data: &[u8]) {
        Digest::update(self, data);
    }
    fn sum(&self) -> [u8; 32] {
        crate::hash::peek(self)
    }
}

/// go-ethereum's `hashMAC`: a running hash plus AES-256 (single-block ECB)
/// keyed with the MAC secret.
struct HashMac<H> {
    cipher: Aes256,
    hash: H,
    /// Digest of `hash` as it stands, when known. A header MAC starts with
    /// the digest the previous frame MAC ended with, so caching it saves one
    /// Keccak permutation per frame.
    last_sum: Option<[u8; 32]>,
}

impl<H: MacHash> HashMac<H> {
    fn compute(&mut self, sum1: &[u8; 32], seed: &[u8]) -> [u8; 16] {
        let mut block = aes::Block::clone_from_slice(&sum1[..16]);
        self.cipher.encrypt_block(&mut block);
        for (b, s) in block.iter_mut().zip(seed) {
            *b ^= s;
        }
        self.hash.absorb(&block);
        let sum2 = self.hash.sum();
        self.last_sum = Some(sum2);
        let mut out = [0u8; 16];
        out.copy_from_slice(&sum2[..16]);
        out
    }

    fn header(&mut self, header_ct: &[u8]) -> [u8; 16] {
        let sum1 = match self.last_sum.take() {
            Some(sum) => sum,
            None => self.hash.sum(),
        };
        self.compute(&sum1, header_ct)
    }

    fn frame(&mut self, body_ct: &[u8]) -> [u8; 16] {
        self.last_sum = None;
        self.hash.absorb(body_ct);
        let seed = self.hash.sum();
        let head: [u8; 16] = seed[..16].try_into().expect("32 >= 16");
        self.compute(&seed, &head)
    }
}

/// Connection secrets produced by the handshake.
#[derive(Clone)]
pub struct Secrets {
    pub aes: [u8; 32],
    pub mac: [u8; 32],
    pub egress_mac: Keccak256,
    pub ingress_mac: Keccak256,
    /// The remote static public key (64 bytes X||Y).
    pub remote: [u8; 64],
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub code: u64,
    pub payload: Vec<u8>,
}

/// Append the RLP encoding of an unsigned integer (0 is `0x80`).
pub fn encode_code(out: &mut Vec<u8>, code: u64) {
    if code == 0 {
        out.push(0x80);
    } else if code < 0x80 {
        out.push(code as u8);
    } else {
        let be = code.to_be_bytes();
        let skip = (code.leading_zeros() / 8) as usize;
        out.push(0x80 + (8 - skip) as u8);
        out.extend_from_slice(&be[skip..]);
    }
}

/// Split a canonical RLP unsigned integer off the front of `data`
/// (go-ethereum `rlp.SplitUint64`): `0x00`, a one-byte value below 0x80 in a
/// string header and leading zeros are all refused.
pub fn split_code(data: &[u8]) -> CoreResult<(u64, &[u8])> {
    let bad = |why: &str| CoreError::decode(format!("invalid message code: {why}"));
    let (&first, rest) = data.split_first().ok_or_else(|| bad("empty frame"))?;
    match first {
        0x00 => Err(bad("non-canonical integer 0x00")),
        0x01..=0x7f => Ok((u64::from(first), rest)),
        0x80 => Ok((0, rest)),
        0x81..=0x88 => {
            let n = usize::from(first - 0x80);
            if rest.len() < n {
                return Err(bad("truncated"));
            }
            let (digits, rest) = rest.split_at(n);
            if digits[0] == 0 {
                return Err(bad("non-canonical integer (leading zero)"));
            }
            if n == 1 && digits[0] < 0x80 {
                return Err(bad("non-canonical size (single byte in a string header)"));
            }
            Ok((
                digits.iter().fold(0u64, |a, &d| (a << 8) | u64::from(d)),
                rest,
            ))
        }
        0x89..=0xbf => Err(bad("integer larger than 64 bits")),
        _ => Err(bad("expected a string, got a list")),
    }
}

/// Where the decoder is inside the current frame.
#[derive(Clone, Copy)]
enum ReadState {
    /// Waiting for a 32-byte header.
    Header,
    /// Header verified; waiting for `fsize` bytes (padded) and the frame MAC.
    Body { fsize: usize },
}

/// A running RLPx session: one encoder and one decoder.
pub struct Session<H: MacHash = Keccak256> {
    enc: Aes256Ctr,
    dec: Aes256Ctr,
    egress: HashMac<H>,
    ingress: HashMac<H>,
    snappy: bool,
    max_frame_size: usize,
    rbuf: Vec<u8>,
    rstate: ReadState,
    scratch: Vec<u8>,
    failed: bool,
    remote: [u8; 64],
}

impl Session<Keccak256> {
    /// Start a session from handshake secrets (go-ethereum `InitWithSecrets`).
    pub fn new(secrets: Secrets) -> Self {
        Self::with_macs(
            &secrets.aes,
            &secrets.mac,
            secrets.egress_mac,
            secrets.ingress_mac,
            secrets.remote,
        )
    }
}

impl<H: MacHash> Session<H> {
    /// Build a session from raw secrets and arbitrary MAC hash states.
    pub fn with_macs(
        aes: &[u8; 32],
        mac: &[u8; 32],
        egress: H,
        ingress: H,
        remote: [u8; 64],
    ) -> Self {
        let iv = [0u8; 16];
        let mac_cipher = Aes256::new(mac.into());
        Self {
            enc: Aes256Ctr::new(aes.into(), &iv.into()),
            dec: Aes256Ctr::new(aes.into(), &iv.into()),
            egress: HashMac {
                cipher: mac_cipher.clone(),
                hash: egress,
                last_sum: None,
            },
            ingress: HashMac {
                cipher: mac_cipher,
                hash: ingress,
                last_sum: None,
            },
            snappy: false,
            max_frame_size: MAX_FRAME_SIZE,
            rbuf: Vec::new(),
            rstate: ReadState::Header,
            scratch: Vec::new(),
            failed: false,
            remote,
        }
    }

    /// Turn snappy compression on or off for both directions.
    pub fn set_snappy(&mut self, on: bool) {
        self.snappy = on;
    }

    pub fn snappy(&self) -> bool {
        self.snappy
    }

    /// Lower the largest frame this side accepts (default [`MAX_FRAME_SIZE`]);
    /// bigger announced frames fail before their body is buffered.
    pub fn set_max_frame_size(&mut self, n: usize) {
        self.max_frame_size = n.min(MAX_FRAME_SIZE);
    }

    /// The remote static public key.
    pub fn remote(&self) -> &[u8; 64] {
        &self.remote
    }

    /// Bytes received but not yet part of a complete frame.
    pub fn buffered(&self) -> usize {
        self.rbuf.len()
    }

    /// Bytes held between calls (partial piece + scratch): follows the bytes received.
    pub fn buffered_capacity(&self) -> usize {
        self.rbuf.capacity() + self.scratch.capacity()
    }

    /// Keep a small scratch buffer for reuse; free one a big message grew,
    /// so one 16 MiB message does not cost 16 MiB for the session's life.
    fn keep_scratch(&mut self, scratch: Vec<u8>) {
        self.scratch = if scratch.capacity() <= RBUF_KEEP {
            scratch
        } else {
            Vec::new()
        };
    }

    /// Whether a frame has been started but not finished (used to tell a
    /// clean EOF from a peer that stopped mid-frame).
    pub fn mid_frame(&self) -> bool {
        !self.rbuf.is_empty() || matches!(self.rstate, ReadState::Body { .. })
    }

    fn check_alive(&self) -> CoreResult<()> {
        if self.failed {
            Err(CoreError::local("RLPx session already failed"))
        } else {
            Ok(())
        }
    }

    /// Encrypt one message and append its frame to `out`. Returns the size
    /// of the payload on the wire (after compression).
    pub fn seal(&mut self, code: u64, payload: &[u8], out: &mut Vec<u8>) -> CoreResult<usize> {
        self.check_alive()?;
        if payload.len() > MAX_PAYLOAD_SIZE {
            return Err(CoreError::local(format!(
                "message length {} >= 16MB",
                payload.len()
            )));
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let data: &[u8] = if self.snappy {
            scratch.resize(snap::raw::max_compress_len(payload.len()), 0);
            let n = snap::raw::Encoder::new()
                .compress(payload, &mut scratch)
                .map_err(|e| CoreError::local(format!("snappy: {e}")))?;
            scratch.truncate(n);
            &scratch
        } else {
            payload
        };
        let res = self.write_frame(code, data, out);
        self.keep_scratch(scratch);
        res
    }

    fn write_frame(&mut self, code: u64, data: &[u8], out: &mut Vec<u8>) -> CoreResult<usize> {
        let mut code_buf = Vec::with_capacity(9);
        encode_code(&mut code_buf, code);
        self.write_raw(&code_buf, data, out)?;
        Ok(data.len())
    }

    /// Frame arbitrary frame-data (`head || data`, no message code added).
    /// Only tests and fuzzers need this: it is how a misbehaving peer that
    /// sends a non-canonical code or broken snappy data is emulated.
    pub fn seal_frame_data(&mut self, frame_data: &[u8], out: &mut Vec<u8>) -> CoreResult<()> {
        self.check_alive()?;
        self.write_raw(&[], frame_data, out)
    }

    fn write_raw(&mut self, head: &[u8], data: &[u8], out: &mut Vec<u8>) -> CoreResult<()> {
        let fsize = head.len() + data.len();
        if fsize > MAX_FRAME_SIZE {
            return Err(CoreError::local(format!(
                "frame of {fsize} bytes exceeds the 2^24-1 limit"
            )));
        }
        let rsize = fsize.div_ceil(16) * 16;
        out.reserve(HEADER_LEN + MAC_LEN + rsize + MAC_LEN);
        let mut header = [0u8; HEADER_LEN];
        header[..3].copy_from_slice(&(fsize as u32).to_be_bytes()[1..]);
        header[3..6].copy_from_slice(&HEADER_DATA);
        self.enc.apply_keystream(&mut header);
        let hmac = self.egress.header(&header);
        out.extend_from_slice(&header);
        out.extend_from_slice(&hmac);
        let body = out.len();
        out.extend_from_slice(head);
        out.extend_from_slice(data);
        out.resize(body + rsize, 0);
        self.enc.apply_keystream(&mut out[body..]);
        let fmac = self.egress.frame(&out[body..]);
        out.extend_from_slice(&fmac);
        Ok(())
    }

    /// Seal several messages into one buffer (one socket write).
    pub fn seal_batch<'a>(
        &mut self,
        msgs: impl IntoIterator<Item = (u64, &'a [u8])>,
        out: &mut Vec<u8>,
    ) -> CoreResult<()> {
        for (code, payload) in msgs {
            self.seal(code, payload, out)?;
        }
        Ok(())
    }

    /// Take a socket buffer and append every message it completes to `out`.
    /// After an error the session is unusable: the MAC and cipher streams
    /// cannot be resynchronised.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Message>) -> CoreResult<()> {
        self.check_alive()?;
        let res = self.feed_inner(data, out);
        if res.is_err() {
            self.failed = true;
            self.rbuf = Vec::new();
        }
        res
    }

    /// Bytes of the next piece the decoder waits for: a header with its MAC,
    /// or a padded body with its MAC.
    fn piece_len(&self) -> usize {
        match self.rstate {
            ReadState::Header => HEADER_LEN + MAC_LEN,
            ReadState::Body { fsize } => fsize.div_ceil(16) * 16 + MAC_LEN,
        }
    }

    fn feed_inner(&mut self, mut data: &[u8], out: &mut Vec<Message>) -> CoreResult<()> {
        // Finish a piece started by an earlier buffer.
        if !self.rbuf.is_empty() {
            let len = self.piece_len();
            let take = (len - self.rbuf.len()).min(data.len());
            self.rbuf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.rbuf.len() < len {
                return Ok(());
            }
            let mut piece = std::mem::take(&mut self.rbuf);
            self.process_piece(&piece, out)?;
            // Keep a small buffer for reuse; give a big one back.
            if piece.capacity() <= RBUF_KEEP {
                piece.clear();
                self.rbuf = piece;
            }
        }
        // Whole pieces are authenticated and decrypted straight from the
        // caller's buffer: no copy into an internal buffer.
        loop {
            let len = self.piece_len();
            if data.len() < len {
                break;
            }
            let (piece, rest) = data.split_at(len);
            self.process_piece(piece, out)?;
            data = rest;
        }
        if !data.is_empty() {
            // Memory follows the bytes that arrived, never the size a header
            // declares: a peer announcing a 16 MiB body and then trickling
            // must not make us hold 16 MiB (issue 12, item 2). `extend`
            // grows geometrically, so a real big frame costs O(log n)
            // reallocations, at most twice its received bytes.
            self.rbuf
                .reserve_exact(data.len().min(self.piece_len()).min(RBUF_FIRST_RESERVE));
            self.rbuf.extend_from_slice(data);
        }
        Ok(())
    }

    fn process_piece(&mut self, piece: &[u8], out: &mut Vec<Message>) -> CoreResult<()> {
        match self.rstate {
            ReadState::Header => {
                let (ct, mac) = piece.split_at(HEADER_LEN);
                let want = self.ingress.header(ct);
                if !bool::from(want.ct_eq(mac)) {
                    return Err(CoreError::frame("bad header MAC"));
                }
                let mut header = [0u8; HEADER_LEN];
                header.copy_from_slice(ct);
                self.dec.apply_keystream(&mut header);
                let fsize = (usize::from(header[0]) << 16)
                    | (usize::from(header[1]) << 8)
                    | usize::from(header[2]);
                if fsize > self.max_frame_size {
                    return Err(CoreError::frame(format!(
                        "frame of {fsize} bytes exceeds the limit of {}",
                        self.max_frame_size
                    )));
                }
                self.rstate = ReadState::Body { fsize };
            }
            ReadState::Body { fsize } => {
                let (body, mac) = piece.split_at(piece.len() - MAC_LEN);
                let want = self.ingress.frame(body);
                if !bool::from(want.ct_eq(mac)) {
                    return Err(CoreError::frame("bad frame MAC"));
                }
                self.rstate = ReadState::Header;
                out.push(self.decrypt_body(body, fsize)?);
            }
        }
        Ok(())
    }

    /// Decrypt an authenticated body: the code into a stack buffer, the
    /// payload directly into its own allocation (or snappy's input), then
    /// step the keystream over the padding.
    fn decrypt_body(&mut self, body: &[u8], fsize: usize) -> CoreResult<Message> {
        let keystream = |_| CoreError::local("keystream exhausted");
        let mut code_buf = [0u8; 9];
        let first = fsize.min(1);
        self.dec
            .apply_keystream_b2b(&body[..first], &mut code_buf[..first])
            .map_err(keystream)?;
        let clen = match code_buf[0] {
            b @ 0x81..=0x88 if first == 1 => 1 + usize::from(b - 0x80),
            _ => first,
        }
        .min(fsize);
        self.dec
            .apply_keystream_b2b(&body[first..clen], &mut code_buf[first..clen])
            .map_err(keystream)?;
        let (code, leftover) = split_code(&code_buf[..clen])?;
        debug_assert!(leftover.is_empty());
        let ct = &body[clen..fsize];
        let payload = if self.snappy {
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            scratch.resize(ct.len(), 0);
            self.dec
                .apply_keystream_b2b(ct, &mut scratch)
                .map_err(keystream)?;
            let res = decompress(&scratch);
            self.keep_scratch(scratch);
            res?
        } else {
            let mut v = vec![0u8; ct.len()];
            self.dec
                .apply_keystream_b2b(ct, &mut v)
                .map_err(keystream)?;
            v
        };
        let mut pad = [0u8; 16];
        self.dec.apply_keystream(&mut pad[..body.len() - fsize]);
        Ok(Message { code, payload })
    }
}

/// Most a partial piece reserves up front: enough for one socket read, far
/// below a declared 16 MiB body the peer may never send.
const RBUF_FIRST_RESERVE: usize = 64 * 1024;

/// Largest read buffer kept between frames; a bigger one (a 16 MiB frame
/// that arrived in pieces) is freed once the frame is done.
const RBUF_KEEP: usize = 1 << 20;

/// Snappy block decode with the declared length checked first.
pub fn decompress(data: &[u8]) -> CoreResult<Vec<u8>> {
    let n = snap::raw::decompress_len(data).map_err(|e| CoreError::frame(e.to_string()))?;
    if n > MAX_PAYLOAD_SIZE {
        return Err(CoreError::frame(format!(
            "snappy payload declares {n} bytes, more than the 16 MiB limit"
        )));
    }
    let mut out = vec![0u8; n];
    let got = snap::raw::Decoder::new()
        .decompress(data, &mut out)
        .map_err(|e| CoreError::frame(e.to_string()))?;
    out.truncate(got);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Fake;
    impl MacHash for Fake {
        fn absorb(&mut self, _: &[u8]) {}
        fn sum(&self) -> [u8; 32] {
            [1; 32]
        }
    }

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn golden_frame_read_write() {
        let k: [u8; 32] = crate::hash::keccak256(b"");
        let mut s = Session::with_macs(&k, &k, Fake, Fake, [0; 64]);
        let mut out = Vec::new();
        s.seal(8, &h("c401020304"), &mut out).unwrap();
        let want = h("00828ddae471818bb0bfa6b551d1cb4201010101010101010101010101010101ba628a4ba590cb43f7848f41c438288501010101010101010101010101010101");
        assert_eq!(out, want);
        let mut r = Session::with_macs(&k, &k, Fake, Fake, [0; 64]);
        let mut msgs = Vec::new();
        r.feed(&want, &mut msgs).unwrap();
        assert_eq!(
            msgs,
            vec![Message {
                code: 8,
                payload: h("c401020304")
            }]
        );
    }

    fn pair() -> (Session, Session) {
        let mut e = Keccak256::new();
        Digest::update(&mut e, b"e");
        let mut i = Keccak256::new();
        Digest::update(&mut i, b"i");
        let a = Session::new(Secrets {
            aes: [7; 32],
            mac: [9; 32],
            egress_mac: e.clone(),
            ingress_mac: i.clone(),
            remote: [0; 64],
        });
        let b = Session::new(Secrets {
            aes: [7; 32],
            mac: [9; 32],
            egress_mac: i,
            ingress_mac: e,
            remote: [0; 64],
        });
        (a, b)
    }

    #[test]
    fn roundtrip_split_feeds() {
        for snappy in [false, true] {
            let (mut a, mut b) = pair();
            a.set_snappy(snappy);
            b.set_snappy(snappy);
            let payloads: Vec<Vec<u8>> = (0..20usize).map(|n| vec![n as u8; n * 37]).collect();
            let mut wire = Vec::new();
            for (i, p) in payloads.iter().enumerate() {
                a.seal(i as u64 * 100, p, &mut wire).unwrap();
            }
            let mut msgs = Vec::new();
            for chunk in wire.chunks(7) {
                b.feed(chunk, &mut msgs).unwrap();
            }
            assert!(!b.mid_frame());
            assert_eq!(msgs.len(), 20);
            for (i, m) in msgs.iter().enumerate() {
                assert_eq!(m.code, i as u64 * 100);
                assert_eq!(m.payload, payloads[i]);
            }
        }
    }

    #[test]
    fn tamper_header_and_frame() {
        let (mut a, b0) = pair();
        let mut wire = Vec::new();
        a.seal(1, b"hello", &mut wire).unwrap();
        drop(b0);
        for (i, what) in [
            (3usize, "bad header MAC"),
            (20, "bad header MAC"),
            (40, "bad frame MAC"),
            (50, "bad frame MAC"),
        ] {
            let (_, mut b) = pair();
            let mut bad = wire.clone();
            bad[i] ^= 0x10;
            let err = b.feed(&bad, &mut Vec::new()).unwrap_err();
            assert_eq!(err, CoreError::frame(what));
            assert!(b.feed(b"", &mut Vec::new()).is_err(), "poisoned");
        }
    }

    #[test]
    fn codes() {
        for c in [0u64, 1, 0x7f, 0x80, 0xff, 0x100, u64::MAX] {
            let mut v = Vec::new();
            encode_code(&mut v, c);
            assert_eq!(
                v.len(),
                if c < 0x80 {
                    1
                } else {
                    1 + 8 - (c.leading_zeros() / 8) as usize
                }
            );
            v.push(0xaa);
            assert_eq!(split_code(&v).unwrap(), (c, &[0xaa][..]));
        }
        assert_eq!(split_code(&[0x80]).unwrap().0, 0);
        for bad in [
            &[0x00][..],
            &[0x81, 0x05],
            &[0x82, 0x00, 0x01],
            &[0xc0],
            &[],
            &[0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            &[0x82, 0x01],
        ] {
            assert!(
                matches!(split_code(bad), Err(CoreError::Decode(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn snappy_limits() {
        // varint header declaring 2^24 bytes
        let bomb = [0x80, 0x80, 0x80, 0x08, 0x00];
        let e = decompress(&bomb).unwrap_err();
        assert!(e.message().contains("16 MiB"), "{e}");
        assert!(decompress(&[0x05, 0xff, 0xff]).is_err());
        assert_eq!(decompress(&[0x01, 0x00, 0xc0]).unwrap(), vec![0xc0]);
    }

    #[test]
    fn max_frame_size() {
        let (mut a, mut b) = pair();
        let mut wire = Vec::new();
        a.seal(1, &vec![0u8; MAX_PAYLOAD_SIZE - 1], &mut wire)
            .unwrap();
        assert!(a
            .seal(1, &vec![0u8; MAX_PAYLOAD_SIZE], &mut Vec::new())
            .is_err());
        let mut msgs = Vec::new();
        b.feed(&wire, &mut msgs).unwrap();
        assert_eq!(msgs[0].payload.len(), MAX_PAYLOAD_SIZE - 1);
        let (mut a, mut b) = pair();
        b.set_max_frame_size(100);
        let mut wire = Vec::new();
        a.seal(1, &[0u8; 100], &mut wire).unwrap();
        let e = b.feed(&wire[..40], &mut Vec::new()).unwrap_err();
        assert!(matches!(e, CoreError::Frame(_)));
    }
}
