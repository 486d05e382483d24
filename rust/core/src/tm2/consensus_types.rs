//! The bft value types that consensus, mempool and blockchain messages carry
//! (gno v1.7.1 `tm2/pkg/bft/types`, `tm2/pkg/bitarray`, `tm2/pkg/crypto/merkle`),
//! in TM2 amino: signed integers are zigzag varints (`sint64`), times are
//! `google.protobuf.Timestamp`, nested structs are length-delimited.
//!
//! Every decoder enforces the bound gno's `ValidateBasic` enforces, plus the
//! limits below, so a hostile peer cannot make us allocate beyond them.
use super::amino::{put_bytes_field, put_key, put_uvarint, Fields, Value, TYP3_BYTES, TYP3_VARINT};
use crate::error::{CoreError, CoreResult};

/// `tmhash.Size`: block, part-set and merkle hashes are SHA-256 sized.
pub const HASH_SIZE: usize = 32;
/// `types.MaxSignatureSize`: a longer signature is garbage (ed25519 is 64 bytes).
pub const MAX_SIGNATURE_SIZE: usize = 64;
/// `types.BlockPartSizeBytes`: a block part carries at most 64 KiB, so an
/// oversize part cannot grow the proposal buffer by more than one part.
pub const BLOCK_PART_SIZE_BYTES: usize = 65_536;
/// `types.MaxBlockSizeBytes` (100 MB), the ceiling the part count derives from.
pub const MAX_BLOCK_SIZE_BYTES: i64 = 104_857_600;
/// `types.MaxBlockPartsCount`: a part-set header or part bit array larger than
/// this describes a block no chain may have.
pub const MAX_BLOCK_PARTS_COUNT: i64 = MAX_BLOCK_SIZE_BYTES / BLOCK_PART_SIZE_BYTES as i64 + 1;
/// `types.MaxVotesCount`: no validator set is larger, so a vote index or vote
/// bit array beyond it is impossible and would only size our allocations.
pub const MAX_VOTES_COUNT: i64 = 10_000;
/// `merkle.maxAunts`: a proof deeper than this is an allocation attack.
pub const MAX_AUNTS: usize = 100;
/// Largest bit array we decode: the bigger of the two uses (votes, block parts).
pub const MAX_BIT_ARRAY_BITS: i64 = if MAX_VOTES_COUNT > MAX_BLOCK_PARTS_COUNT {
    MAX_VOTES_COUNT
} else {
    MAX_BLOCK_PARTS_COUNT
};
/// A validator address is a bech32 string of 20 bytes (41 chars with HRP "g");
/// anything much longer is not an address.
pub const MAX_ADDRESS_LEN: usize = 128;

/// `SignedMsgType` values (`types/signed_msg_type.go`).
pub const PREVOTE_TYPE: u8 = 0x01;
pub const PRECOMMIT_TYPE: u8 = 0x02;
pub const PROPOSAL_TYPE: u8 = 0x20;

pub(crate) fn invalid(msg: impl Into<String>) -> CoreError {
    CoreError::decode(msg)
}

/// zigzag decode of a `sint64` varint (`binary.Varint`).
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// zigzag encode (`binary.PutVarint`).
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub(crate) fn sint(v: Value<'_>, what: &str) -> CoreResult<i64> {
    Ok(unzigzag(v.varint(what)?))
}

pub(crate) fn put_sint(buf: &mut Vec<u8>, field: u32, v: i64) {
    if v != 0 {
        put_key(buf, field, TYP3_VARINT);
        put_uvarint(buf, zigzag(v));
    }
}

pub(crate) fn put_uint(buf: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        put_key(buf, field, TYP3_VARINT);
        put_uvarint(buf, v);
    }
}

/// A nested struct: `always` for Go pointer fields (written even when empty).
pub(crate) fn put_struct(buf: &mut Vec<u8>, field: u32, body: &[u8], always: bool) {
    if always || !body.is_empty() {
        put_key(buf, field, TYP3_BYTES);
        put_uvarint(buf, body.len() as u64);
        buf.extend_from_slice(body);
    }
}

pub(crate) fn unknown(field: u32, what: &str) -> CoreError {
    invalid(format!("unknown field number {field} for {what}"))
}

/// A `SignedMsgType` that must be a vote type (`IsVoteTypeValid`).
pub(crate) fn vote_type(v: Value<'_>, what: &str) -> CoreResult<u8> {
    let t = v.uint8(what)?;
    Ok(t)
}

pub(crate) fn check_vote_type(t: u8) -> CoreResult<()> {
    if t == PREVOTE_TYPE || t == PRECOMMIT_TYPE {
        Ok(())
    } else {
        Err(invalid(format!("invalid vote type {t:#04x}")))
    }
}

pub(crate) fn check_height_round(height: i64, round: i64) -> CoreResult<()> {
    if height < 0 {
        return Err(invalid(format!("negative height {height}")));
    }
    if round < 0 {
        return Err(invalid(format!("negative round {round}")));
    }
    Ok(())
}

fn check_hash(h: &[u8], what: &str) -> CoreResult<()> {
    if !h.is_empty() && h.len() != HASH_SIZE {
        return Err(invalid(format!(
            "{what}: expected size to be {HASH_SIZE} bytes, got {} bytes",
            h.len()
        )));
    }
    Ok(())
}

// ------------------------------------------------------------------- Timestamp

/// `google.protobuf.Timestamp` as amino writes a Go `time.Time`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanos: i32,
}

impl Timestamp {
    pub fn decode(body: &[u8]) -> CoreResult<Self> {
        let mut t = Timestamp::default();
        let mut f = Fields::new(body);
        while let Some((num, v)) = f.next_field()? {
            match num {
                // amino writes seconds as a plain (two's complement) uvarint
                1 => t.seconds = v.varint("Timestamp.seconds")? as i64,
                2 => {
                    let ns = v.varint("Timestamp.nanos")?;
                    if ns >= 1_000_000_000 {
                        return Err(invalid(format!("Timestamp.nanos {ns} out of range")));
                    }
                    t.nanos = ns as i32;
                }
                n => return Err(unknown(n, "Timestamp")),
            }
        }
        Ok(t)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_uint(&mut b, 1, self.seconds as u64);
        put_uint(&mut b, 2, self.nanos as u64);
        b
    }
}

// --------------------------------------------------------------- PartSetHeader

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartSetHeader {
    pub total: i64,
    pub hash: Vec<u8>,
}

impl PartSetHeader {
    pub fn decode(body: &[u8]) -> CoreResult<Self> {
        let mut p = PartSetHeader::default();
        let mut f = Fields::new(body);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => p.total = sint(v, "PartSetHeader.total")?,
                2 => p.hash = v.bytes("PartSetHeader.hash")?.to_vec(),
                n => return Err(unknown(n, "PartSetHeader")),
            }
        }
        p.validate()?;
        Ok(p)
    }

    /// `PartSetHeader.ValidateBasic`.
    pub fn validate(&self) -> CoreResult<()> {
        if self.total < 0 {
            return Err(invalid("PartSetHeader: negative total"));
        }
        if self.total > MAX_BLOCK_PARTS_COUNT {
            return Err(invalid(format!(
                "PartSetHeader total is too big: {}, max: {MAX_BLOCK_PARTS_COUNT}",
                self.total
            )));
        }
        check_hash(&self.hash, "PartSetHeader hash")
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_sint(&mut b, 1, self.total);
        put_bytes_field(&mut b, 2, &self.hash);
        b
    }

    pub fn is_zero(&self) -> bool {
        self.total == 0 && self.hash.is_empty()
    }
}

// --------------------------------------------------------------------- BlockID

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockId {
    pub hash: Vec<u8>,
    pub parts: PartSetHeader,
}

impl BlockId {
    pub fn decode(body: &[u8]) -> CoreResult<Self> {
        let mut id = BlockId::default();
        let mut f = Fields::new(body);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => id.hash = v.bytes("BlockID.hash")?.to_vec(),
                2 => id.parts = PartSetHeader::decode(v.bytes("BlockID.parts")?)?,
                n => return Err(unknown(n, "BlockID")),
            }
        }
        check_hash(&id.hash, "BlockID hash")?;
        Ok(id)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_bytes_field(&mut b, 1, &self.hash);
        put_struct(&mut b, 2, &self.parts.encode(), false);
        b
    }

    pub fn is_zero(&self) -> bool {
        self.hash.is_empty() && self.parts.is_zero()
    }

    pub fn is_complete(&self) -> bool {
        self.hash.len() == HASH_SIZE && self.parts.total > 0 && self.parts.hash.len() == HASH_SIZE
    }
}

// -------------------------------------------------------------------- BitArray

/// `bitarray.BitArray{Bits int, Elems []uint64}` (elems packed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BitArray {
    pub bits: i64,
    pub elems: Vec<u64>,
}

impl BitArray {
    pub fn decode(body: &[u8]) -> CoreResult<Self> {
        let mut a = BitArray::default();
        let mut f = Fields::new(body);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => {
                    a.bits = sint(v, "BitArray.bits")?;
                    if !(0..=MAX_BIT_ARRAY_BITS).contains(&a.bits) {
                        return Err(invalid(format!(
                            "bit array size {} outside 0..={MAX_BIT_ARRAY_BITS}",
                            a.bits
                        )));
                    }
                }
                2 => {
                    let mut packed = v.bytes("BitArray.elems")?;
                    // each element is at least one byte: bounded by the size check below
                    while !packed.is_empty() {
                        let (e, n) = super::amino::uvarint(packed)?;
                        a.elems.push(e);
                        packed = &packed[n..];
                        if a.elems.len() as i64 > (MAX_BIT_ARRAY_BITS + 63) / 64 {
                            return Err(invalid("bit array has too many elements"));
                        }
                    }
                }
                n => return Err(unknown(n, "BitArray")),
            }
        }
        // `BitArray.ValidateBasic`: elems must match the bit count exactly
        let want = (a.bits as usize).div_ceil(64);
        if a.elems.len() != want {
            return Err(invalid(format!(
                "bit array of {} bits has {} elements, want {want}",
                a.bits,
                a.elems.len()
            )));
        }
        Ok(a)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_sint(&mut b, 1, self.bits);
        if !self.elems.is_empty() {
            let mut packed = Vec::new();
            for e in &self.elems {
                put_uvarint(&mut packed, *e);
            }
            put_struct(&mut b, 2, &packed, true);
        }
        b
    }

    /// Indexes of the set bits.
    pub fn ones(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for i in 0..self.bits.max(0) as usize {
            if self
                .elems
                .get(i / 64)
                .is_some_and(|e| e >> (i % 64) & 1 == 1)
            {
                out.push(i as u32);
            }
        }
        out
    }
}

// -------------------------------------------------------------------- Proposal

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proposal {
    pub msg_type: u8,
    pub height: i64,
    pub round: i64,
    pub pol_round: i64,
    pub block_id: BlockId,
    pub timestamp: Timestamp,
    pub signature: Vec<u8>,
}

fn check_signature(sig: &[u8]) -> CoreResult<()> {
    if sig.is_empty() {
        return Err(invalid("signature is missing"));
    }
    if sig.len() > MAX_SIGNATURE_SIZE {
        return Err(invalid(format!(
            "signature is too big (max: {MAX_SIGNATURE_SIZE})"
        )));
    }
    Ok(())
}

impl Proposal {
    pub fn decode(body: &[u8]) -> CoreResult<Self> {
        let mut p = Proposal::default();
        let mut f = Fields::new(body);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => p.msg_type = v.uint8("Proposal.type")?,
                2 => p.height = sint(v, "Proposal.height")?,
                3 => p.round = sint(v, "Proposal.round")?,
                4 => p.pol_round = sint(v, "Proposal.pol_round")?,
                5 => p.block_id = BlockId::decode(v.bytes("Proposal.block_id")?)?,
                6 => p.timestamp = Timestamp::decode(v.bytes("Proposal.timestamp")?)?,
                7 => p.signature = v.bytes("Proposal.signature")?.to_vec(),
                n => return Err(unknown(n, "Proposal")),
            }
        }
        // `Proposal.ValidateBasic`
        if p.msg_type != PROPOSAL_TYPE {
            return Err(invalid("Proposal: invalid type"));
        }
        check_height_round(p.height, p.round)?;
        if p.pol_round < -1 {
            return Err(invalid("negative POLRound (exception: -1)"));
        }
        if !p.block_id.is_complete() {
            return Err(invalid("Proposal: expected a complete, non-empty BlockID"));
        }
        check_signature(&p.signature)?;
        Ok(p)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_uint(&mut b, 1, self.msg_type as u64);
        put_sint(&mut b, 2, self.height);
        put_sint(&mut b, 3, self.round);
        put_sint(&mut b, 4, self.pol_round);
        put_struct(&mut b, 5, &self.block_id.encode(), false);
        put_struct(&mut b, 6, &self.timestamp.encode(), false);
        put_bytes_field(&mut b, 7, &self.signature);
        b
    }
}

// ------------------------------------------------------------------------ Vote

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vote {
    pub msg_type: u8,
    pub height: i64,
    pub round: i64,
    pub block_id: BlockId,
    pub timestamp: Timestamp,
    pub validator_address: String,
    pub validator_index: i64,
    pub signature: Vec<u8>,
}

impl Vote {
    /// Decode without `ValidateBasic` (a commit's CommitSig shares the layout).
    pub fn decode_raw(body: &[u8]) -> CoreResult<Self> {
        let mut vote = Vote::default();
        let mut f = Fields::new(body);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => vote.msg_type = vote_type(v, "Vote.type")?,
                2 => vote.height = sint(v, "Vote.height")?,
                3 => vote.round = sint(v, "Vote.round")?,
                4 => vote.block_id = BlockId::decode(v.bytes("Vote.block_id")?)?,
                5 => vote.timestamp = Timestamp::decode(v.bytes("Vote.timestamp")?)?,
                6 => {
                    let s = v.string("Vote.validator_address")?;
                    if s.len() > MAX_ADDRESS_LEN {
                        return Err(invalid("Vote: validator address too long"));
                    }
                    vote.validator_address = s.to_owned();
                }
                7 => vote.validator_index = sint(v, "Vote.validator_index")?,
                8 => vote.signature = v.bytes("Vote.signature")?.to_vec(),
                n => return Err(unknown(n, "Vote")),
            }
        }
        Ok(vote)
    }

    pub fn decode(body: &[u8]) -> CoreResult<Self> {
        let vote = Self::decode_raw(body)?;
        vote.validate()?;
        Ok(vote)
    }

    /// `Vote.ValidateBasic`, plus an index below `MAX_VOTES_COUNT`.
    pub fn validate(&self) -> CoreResult<()> {
        check_vote_type(self.msg_type)?;
        check_height_round(self.height, self.round)?;
        if !self.block_id.is_zero() && !self.block_id.is_complete() {
            return Err(invalid("Vote: BlockID must be either empty or complete"));
        }
        if self.validator_address.is_empty() {
            return Err(invalid("expected ValidatorAddress to be non-zero"));
        }
        check_index(self.validator_index, "validator index")?;
        check_signature(&self.signature)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_uint(&mut b, 1, self.msg_type as u64);
        put_sint(&mut b, 2, self.height);
        put_sint(&mut b, 3, self.round);
        put_struct(&mut b, 4, &self.block_id.encode(), false);
        put_struct(&mut b, 5, &self.timestamp.encode(), false);
        put_bytes_field(&mut b, 6, self.validator_address.as_bytes());
        put_sint(&mut b, 7, self.validator_index);
        put_bytes_field(&mut b, 8, &self.signature);
        b
    }
}

/// A validator index: non-negative and below the largest validator set.
pub(crate) fn check_index(index: i64, what: &str) -> CoreResult<()> {
    if !(0..MAX_VOTES_COUNT).contains(&index) {
        return Err(invalid(format!(
            "impossible {what} {index} (must be in 0..{MAX_VOTES_COUNT})"
        )));
    }
    Ok(())
}

// ------------------------------------------------------------------------ Part

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleProof {
    pub total: i64,
    pub index: i64,
    pub leaf_hash: Vec<u8>,
    pub aunts: Vec<Vec<u8>>,
}

impl SimpleProof {
    pub fn decode(body: &[u8]) -> CoreResult<Self> {
        let mut p = SimpleProof::default();
        let mut f = Fields::with_repeated(body, &[4]);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => p.total = sint(v, "SimpleProof.total")?,
                2 => p.index = sint(v, "SimpleProof.index")?,
                3 => p.leaf_hash = v.bytes("SimpleProof.leaf_hash")?.to_vec(),
                4 => {
                    if p.aunts.len() >= MAX_AUNTS {
                        return Err(invalid(format!("expected no more than {MAX_AUNTS} aunts")));
                    }
                    let aunt = v.bytes("SimpleProof.aunts")?;
                    if aunt.len() != HASH_SIZE {
                        return Err(invalid(format!(
                            "aunt of {} bytes, want {HASH_SIZE}",
                            aunt.len()
                        )));
                    }
                    p.aunts.push(aunt.to_vec());
                }
                n => return Err(unknown(n, "SimpleProof")),
            }
        }
        if p.total < 0 || p.index < 0 {
            return Err(invalid("SimpleProof: negative total or index"));
        }
        if p.leaf_hash.len() != HASH_SIZE {
            return Err(invalid(format!(
                "expected LeafHash size to be {HASH_SIZE}, got {}",
                p.leaf_hash.len()
            )));
        }
        Ok(p)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_sint(&mut b, 1, self.total);
        put_sint(&mut b, 2, self.index);
        put_bytes_field(&mut b, 3, &self.leaf_hash);
        for a in &self.aunts {
            put_struct(&mut b, 4, a, true);
        }
        b
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    pub index: i64,
    pub bytes: Vec<u8>,
    pub proof: SimpleProof,
}

impl Part {
    pub fn decode(body: &[u8]) -> CoreResult<Self> {
        let mut p = Part::default();
        let mut proof = None;
        let mut f = Fields::new(body);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => p.index = sint(v, "Part.index")?,
                2 => {
                    let b = v.bytes("Part.bytes")?;
                    if b.len() > BLOCK_PART_SIZE_BYTES {
                        return Err(invalid(format!(
                            "block part too big: {} bytes, max: {BLOCK_PART_SIZE_BYTES}",
                            b.len()
                        )));
                    }
                    p.bytes = b.to_vec();
                }
                3 => proof = Some(SimpleProof::decode(v.bytes("Part.proof")?)?),
                n => return Err(unknown(n, "Part")),
            }
        }
        if !(0..MAX_BLOCK_PARTS_COUNT).contains(&p.index) {
            return Err(invalid(format!("impossible block part index {}", p.index)));
        }
        p.proof = proof.ok_or_else(|| invalid("Part: missing proof"))?;
        Ok(p)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_sint(&mut b, 1, self.index);
        put_bytes_field(&mut b, 2, &self.bytes);
        put_struct(&mut b, 3, &self.proof.encode(), false);
        b
    }
}
