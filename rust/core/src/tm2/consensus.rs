//! Consensus reactor messages (gno v1.7.1 `tm2/pkg/bft/consensus/reactor.go`,
//! registered in amino package `tm`, so each travels as an `Any` with type URL
//! `/tm.<Name>`) on channels 0x20 (state), 0x21 (data), 0x22 (vote) and 0x23
//! (vote-set bits). Each decoded message has passed gno's `ValidateBasic`
//! plus the bounds of [`super::consensus_types`].
use super::amino::Fields;
use super::amino::{any, decode_any};
use super::consensus_types::{
    check_height_round, check_index, check_vote_type, invalid, put_sint, put_struct, put_uint,
    sint, unknown, BitArray, BlockId, Part, PartSetHeader, Proposal, Vote, MAX_BLOCK_PARTS_COUNT,
    MAX_VOTES_COUNT,
};
use crate::error::CoreResult;

/// Consensus channel ids (`StateChannel` … `VoteSetBitsChannel`).
pub const STATE_CHANNEL: u8 = 0x20;
pub const DATA_CHANNEL: u8 = 0x21;
pub const VOTE_CHANNEL: u8 = 0x22;
pub const VOTE_SET_BITS_CHANNEL: u8 = 0x23;

/// `maxMsgSize` of the consensus reactor (1 MiB): a bigger message is
/// rejected before any decoding work, as gno's `decodeMsg` does.
pub const MAX_CONSENSUS_MSG_SIZE: usize = 1_048_576;

/// `cstypes.RoundStepType` range: NewHeight (1) … Commit (8).
pub const MIN_STEP: u8 = 1;
pub const MAX_STEP: u8 = 8;

/// Amino package of every bft message type.
pub const TM_PREFIX: &str = "/tm.";

/// The registered name behind an `Any`: amino resolves the full name after
/// the last `/`, so only `tm.<Name>` is a bft message.
pub(crate) fn tm_name(full: &str) -> CoreResult<&str> {
    full.strip_prefix("tm.")
        .ok_or_else(|| invalid(format!("unknown type prefix {full:?} (want \"tm.\")")))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsensusMessage {
    NewRoundStep {
        height: i64,
        round: i64,
        step: u8,
        seconds_since_start_time: i64,
        last_commit_round: i64,
    },
    NewValidBlock {
        height: i64,
        round: i64,
        block_parts_header: PartSetHeader,
        block_parts: BitArray,
        is_commit: bool,
    },
    Proposal(Proposal),
    ProposalPol {
        height: i64,
        proposal_pol_round: i64,
        proposal_pol: BitArray,
    },
    BlockPart {
        height: i64,
        round: i64,
        part: Part,
    },
    Vote(Vote),
    HasVote {
        height: i64,
        round: i64,
        vote_type: u8,
        index: i64,
    },
    VoteSetMaj23 {
        height: i64,
        round: i64,
        vote_type: u8,
        block_id: BlockId,
    },
    VoteSetBits {
        height: i64,
        round: i64,
        vote_type: u8,
        block_id: BlockId,
        votes: BitArray,
    },
}

impl ConsensusMessage {
    /// The amino type name (the part of the type URL after `/tm.`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::NewRoundStep { .. } => "NewRoundStepMessage",
            Self::NewValidBlock { .. } => "NewValidBlockMessage",
            Self::Proposal(_) => "ProposalMessage",
            Self::ProposalPol { .. } => "ProposalPOLMessage",
            Self::BlockPart { .. } => "BlockPartMessage",
            Self::Vote(_) => "VoteMessage",
            Self::HasVote { .. } => "HasVoteMessage",
            Self::VoteSetMaj23 { .. } => "VoteSetMaj23Message",
            Self::VoteSetBits { .. } => "VoteSetBitsMessage",
        }
    }
}

/// Common `height, round, type` head of several messages.
#[derive(Default)]
struct Head {
    height: i64,
    round: i64,
    vote_type: u8,
}

/// Decode `amino.MarshalAny(msg)` bytes received on a consensus channel.
pub fn decode(bz: &[u8]) -> CoreResult<ConsensusMessage> {
    if bz.len() > MAX_CONSENSUS_MSG_SIZE {
        return Err(invalid(format!(
            "msg exceeds max size ({} > {MAX_CONSENSUS_MSG_SIZE})",
            bz.len()
        )));
    }
    let (full, value) = decode_any(bz)?;
    let name = tm_name(full)?;
    let mut f = Fields::new(value);
    let msg = match name {
        "NewRoundStepMessage" => {
            let (mut h, mut r, mut s, mut secs, mut lcr) = (0, 0, 0u8, 0, 0);
            while let Some((num, v)) = f.next_field()? {
                match num {
                    1 => h = sint(v, "height")?,
                    2 => r = sint(v, "round")?,
                    3 => s = v.uint8("step")?,
                    4 => secs = sint(v, "seconds_since_start_time")?,
                    5 => lcr = sint(v, "last_commit_round")?,
                    n => return Err(unknown(n, name)),
                }
            }
            check_height_round(h, r)?;
            if !(MIN_STEP..=MAX_STEP).contains(&s) {
                return Err(invalid(format!("invalid step {s}")));
            }
            if (h == 1 && lcr != -1) || (h > 1 && lcr < -1) {
                return Err(invalid(
                    "invalid LastCommitRound (for 1st block: -1, for others: >= 0)",
                ));
            }
            ConsensusMessage::NewRoundStep {
                height: h,
                round: r,
                step: s,
                seconds_since_start_time: secs,
                last_commit_round: lcr,
            }
        }
        "NewValidBlockMessage" => {
            let (mut h, mut r, mut psh, mut parts, mut commit) =
                (0, 0, PartSetHeader::default(), None, false);
            while let Some((num, v)) = f.next_field()? {
                match num {
                    1 => h = sint(v, "height")?,
                    2 => r = sint(v, "round")?,
                    3 => psh = PartSetHeader::decode(v.bytes("block_parts_header")?)?,
                    4 => parts = Some(BitArray::decode(v.bytes("block_parts")?)?),
                    5 => commit = v.varint("is_commit")? != 0,
                    n => return Err(unknown(n, name)),
                }
            }
            check_height_round(h, r)?;
            let parts = parts.unwrap_or_default();
            if parts.bits == 0 {
                return Err(invalid("empty BlockParts"));
            }
            if parts.bits != psh.total {
                return Err(invalid(format!(
                    "BlockParts bit array size {} not equal to BlockPartsHeader.Total {}",
                    parts.bits, psh.total
                )));
            }
            if parts.bits > MAX_BLOCK_PARTS_COUNT {
                return Err(invalid("BlockParts bit array is too big"));
            }
            ConsensusMessage::NewValidBlock {
                height: h,
                round: r,
                block_parts_header: psh,
                block_parts: parts,
                is_commit: commit,
            }
        }
        "ProposalMessage" => {
            let mut p = None;
            while let Some((num, v)) = f.next_field()? {
                match num {
                    1 => p = Some(Proposal::decode(v.bytes("proposal")?)?),
                    n => return Err(unknown(n, name)),
                }
            }
            ConsensusMessage::Proposal(
                p.ok_or_else(|| invalid("ProposalMessage without a proposal"))?,
            )
        }
        "ProposalPOLMessage" => {
            let (mut h, mut polr, mut pol) = (0, 0, BitArray::default());
            while let Some((num, v)) = f.next_field()? {
                match num {
                    1 => h = sint(v, "height")?,
                    2 => polr = sint(v, "proposal_pol_round")?,
                    3 => pol = BitArray::decode(v.bytes("proposal_pol")?)?,
                    n => return Err(unknown(n, name)),
                }
            }
            check_height_round(h, polr)?;
            if pol.bits == 0 {
                return Err(invalid("empty ProposalPOL bit array"));
            }
            if pol.bits > MAX_VOTES_COUNT {
                return Err(invalid("ProposalPOL bit array is too big"));
            }
            ConsensusMessage::ProposalPol {
                height: h,
                proposal_pol_round: polr,
                proposal_pol: pol,
            }
        }
        "BlockPartMessage" => {
            let (mut h, mut r, mut part) = (0, 0, None);
            while let Some((num, v)) = f.next_field()? {
                match num {
                    1 => h = sint(v, "height")?,
                    2 => r = sint(v, "round")?,
                    3 => part = Some(Part::decode(v.bytes("part")?)?),
                    n => return Err(unknown(n, name)),
                }
            }
            check_height_round(h, r)?;
            ConsensusMessage::BlockPart {
                height: h,
                round: r,
                part: part.ok_or_else(|| invalid("BlockPartMessage without a part"))?,
            }
        }
        "VoteMessage" => {
            let mut vote = None;
            while let Some((num, v)) = f.next_field()? {
                match num {
                    1 => vote = Some(Vote::decode(v.bytes("vote")?)?),
                    n => return Err(unknown(n, name)),
                }
            }
            ConsensusMessage::Vote(vote.ok_or_else(|| invalid("VoteMessage without a vote"))?)
        }
        "HasVoteMessage" => {
            let mut head = Head::default();
            let mut index = 0;
            while let Some((num, v)) = f.next_field()? {
                match num {
                    1..=3 => read_head(&mut head, num, v)?,
                    4 => index = sint(v, "index")?,
                    n => return Err(unknown(n, name)),
                }
            }
            check_head(&head)?;
            check_index(index, "vote index")?;
            ConsensusMessage::HasVote {
                height: head.height,
                round: head.round,
                vote_type: head.vote_type,
                index,
            }
        }
        "VoteSetMaj23Message" | "VoteSetBitsMessage" => {
            let mut head = Head::default();
            let (mut block_id, mut votes) = (BlockId::default(), BitArray::default());
            let bits = name == "VoteSetBitsMessage";
            while let Some((num, v)) = f.next_field()? {
                match num {
                    1..=3 => read_head(&mut head, num, v)?,
                    4 => block_id = BlockId::decode(v.bytes("block_id")?)?,
                    5 if bits => votes = BitArray::decode(v.bytes("votes")?)?,
                    n => return Err(unknown(n, name)),
                }
            }
            check_head(&head)?;
            if bits {
                if votes.bits > MAX_VOTES_COUNT {
                    return Err(invalid("votes bit array is too big"));
                }
                ConsensusMessage::VoteSetBits {
                    height: head.height,
                    round: head.round,
                    vote_type: head.vote_type,
                    block_id,
                    votes,
                }
            } else {
                ConsensusMessage::VoteSetMaj23 {
                    height: head.height,
                    round: head.round,
                    vote_type: head.vote_type,
                    block_id,
                }
            }
        }
        other => return Err(invalid(format!("unknown consensus message type {other:?}"))),
    };
    Ok(msg)
}

fn read_head(head: &mut Head, num: u32, v: super::amino::Value<'_>) -> CoreResult<()> {
    match num {
        1 => head.height = sint(v, "height")?,
        2 => head.round = sint(v, "round")?,
        _ => head.vote_type = v.uint8("type")?,
    }
    Ok(())
}

fn check_head(head: &Head) -> CoreResult<()> {
    check_height_round(head.height, head.round)?;
    check_vote_type(head.vote_type)
}

/// `amino.MustMarshalAny(msg)`.
pub fn encode(msg: &ConsensusMessage) -> Vec<u8> {
    let mut b = Vec::new();
    match msg {
        ConsensusMessage::NewRoundStep {
            height,
            round,
            step,
            seconds_since_start_time,
            last_commit_round,
        } => {
            put_sint(&mut b, 1, *height);
            put_sint(&mut b, 2, *round);
            put_uint(&mut b, 3, u64::from(*step));
            put_sint(&mut b, 4, *seconds_since_start_time);
            put_sint(&mut b, 5, *last_commit_round);
        }
        ConsensusMessage::NewValidBlock {
            height,
            round,
            block_parts_header,
            block_parts,
            is_commit,
        } => {
            put_sint(&mut b, 1, *height);
            put_sint(&mut b, 2, *round);
            put_struct(&mut b, 3, &block_parts_header.encode(), false);
            put_struct(&mut b, 4, &block_parts.encode(), true);
            put_uint(&mut b, 5, u64::from(*is_commit));
        }
        ConsensusMessage::Proposal(p) => put_struct(&mut b, 1, &p.encode(), true),
        ConsensusMessage::ProposalPol {
            height,
            proposal_pol_round,
            proposal_pol,
        } => {
            put_sint(&mut b, 1, *height);
            put_sint(&mut b, 2, *proposal_pol_round);
            put_struct(&mut b, 3, &proposal_pol.encode(), true);
        }
        ConsensusMessage::BlockPart {
            height,
            round,
            part,
        } => {
            put_sint(&mut b, 1, *height);
            put_sint(&mut b, 2, *round);
            put_struct(&mut b, 3, &part.encode(), true);
        }
        ConsensusMessage::Vote(v) => put_struct(&mut b, 1, &v.encode(), true),
        ConsensusMessage::HasVote {
            height,
            round,
            vote_type,
            index,
        } => {
            put_sint(&mut b, 1, *height);
            put_sint(&mut b, 2, *round);
            put_uint(&mut b, 3, u64::from(*vote_type));
            put_sint(&mut b, 4, *index);
        }
        ConsensusMessage::VoteSetMaj23 {
            height,
            round,
            vote_type,
            block_id,
        } => {
            put_sint(&mut b, 1, *height);
            put_sint(&mut b, 2, *round);
            put_uint(&mut b, 3, u64::from(*vote_type));
            put_struct(&mut b, 4, &block_id.encode(), false);
        }
        ConsensusMessage::VoteSetBits {
            height,
            round,
            vote_type,
            block_id,
            votes,
        } => {
            put_sint(&mut b, 1, *height);
            put_sint(&mut b, 2, *round);
            put_uint(&mut b, 3, u64::from(*vote_type));
            put_struct(&mut b, 4, &block_id.encode(), false);
            put_struct(&mut b, 5, &votes.encode(), true);
        }
    }
    any(&format!("{TM_PREFIX}{}", msg.type_name()), &b)
}
