//! Round trips and hostile inputs for the bft message codecs.
use super::amino::any;
use super::consensus::{decode, encode, ConsensusMessage, MAX_CONSENSUS_MSG_SIZE};
use super::consensus_chain::{
    decode_blockchain, decode_mempool, encode_blockchain, encode_mempool, BlockchainMessage,
    MempoolTx,
};
use super::consensus_types::*;

fn hash(b: u8) -> Vec<u8> {
    vec![b; HASH_SIZE]
}

fn block_id() -> BlockId {
    BlockId {
        hash: hash(1),
        parts: PartSetHeader {
            total: 1,
            hash: hash(2),
        },
    }
}

fn vote(index: i64) -> Vote {
    Vote {
        msg_type: PRECOMMIT_TYPE,
        height: 7,
        round: 0,
        block_id: block_id(),
        timestamp: Timestamp {
            seconds: 1_700_000_000,
            nanos: 5,
        },
        validator_address: "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5".into(),
        validator_index: index,
        signature: vec![9; 64],
    }
}

fn part(bytes: usize) -> Part {
    Part {
        index: 0,
        bytes: vec![0xab; bytes],
        proof: SimpleProof {
            total: 1,
            index: 0,
            leaf_hash: hash(3),
            aunts: vec![],
        },
    }
}

#[test]
fn new_round_step_bytes_are_zigzag_amino() {
    let m = ConsensusMessage::NewRoundStep {
        height: 1,
        round: 0,
        step: 1,
        seconds_since_start_time: 0,
        last_commit_round: -1,
    };
    let bz = encode(&m);
    // /tm.NewRoundStepMessage, value: height=1 (zigzag 2), step=1, lcr=-1 (zigzag 1)
    let mut want = any(
        "/tm.NewRoundStepMessage",
        &[0x08, 0x02, 0x18, 0x01, 0x28, 0x01],
    );
    assert_eq!(bz, want);
    assert_eq!(decode(&bz).unwrap(), m);
    want.push(0);
    assert!(decode(&want).is_err(), "trailing bytes after the Any");
}

#[test]
fn every_message_round_trips() {
    let bits = BitArray {
        bits: 3,
        elems: vec![0b101],
    };
    let msgs = vec![
        ConsensusMessage::NewValidBlock {
            height: 5,
            round: 1,
            block_parts_header: PartSetHeader {
                total: 3,
                hash: hash(4),
            },
            block_parts: bits.clone(),
            is_commit: true,
        },
        ConsensusMessage::Proposal(Proposal {
            msg_type: PROPOSAL_TYPE,
            height: 5,
            round: 0,
            pol_round: -1,
            block_id: block_id(),
            timestamp: Timestamp::default(),
            signature: vec![1; 64],
        }),
        ConsensusMessage::ProposalPol {
            height: 5,
            proposal_pol_round: 0,
            proposal_pol: bits.clone(),
        },
        ConsensusMessage::BlockPart {
            height: 5,
            round: 0,
            part: part(100),
        },
        ConsensusMessage::Vote(vote(3)),
        ConsensusMessage::HasVote {
            height: 5,
            round: 0,
            vote_type: PREVOTE_TYPE,
            index: 2,
        },
        ConsensusMessage::VoteSetMaj23 {
            height: 5,
            round: 0,
            vote_type: PRECOMMIT_TYPE,
            block_id: block_id(),
        },
        ConsensusMessage::VoteSetBits {
            height: 5,
            round: 0,
            vote_type: PRECOMMIT_TYPE,
            block_id: block_id(),
            votes: bits,
        },
    ];
    for m in msgs {
        let bz = encode(&m);
        assert_eq!(decode(&bz).unwrap(), m, "{}", m.type_name());
    }
    let tx = MempoolTx(b"hello".to_vec());
    assert_eq!(decode_mempool(&encode_mempool(&tx)).unwrap(), tx);
    for m in [
        BlockchainMessage::BlockRequest { height: 9 },
        BlockchainMessage::NoBlockResponse { height: 9 },
        BlockchainMessage::StatusRequest { height: 0 },
        BlockchainMessage::StatusResponse { height: 1 << 40 },
    ] {
        assert_eq!(decode_blockchain(&encode_blockchain(&m)).unwrap(), m);
    }
}

#[test]
fn unknown_type_is_rejected() {
    let bz = any("/tm.BogusMessage", &[0x08, 0x02]);
    let e = decode(&bz).unwrap_err();
    assert!(
        e.message().contains("unknown consensus message type"),
        "{e:?}"
    );
    assert!(decode_blockchain(&bz).is_err());
    assert!(decode_mempool(&bz).is_err());
}

#[test]
fn oversize_block_part_is_rejected() {
    let m = ConsensusMessage::BlockPart {
        height: 5,
        round: 0,
        part: part(BLOCK_PART_SIZE_BYTES + 1),
    };
    let e = decode(&encode(&m)).unwrap_err();
    assert!(e.message().contains("block part too big"), "{e:?}");
    let ok = ConsensusMessage::BlockPart {
        height: 5,
        round: 0,
        part: part(BLOCK_PART_SIZE_BYTES),
    };
    assert!(decode(&encode(&ok)).is_ok());
}

#[test]
fn oversize_message_is_rejected_before_decoding() {
    let bz = vec![0u8; MAX_CONSENSUS_MSG_SIZE + 1];
    assert!(decode(&bz)
        .unwrap_err()
        .message()
        .contains("exceeds max size"));
}

#[test]
fn impossible_heights_and_indexes_are_rejected() {
    let e = decode(&encode(&ConsensusMessage::Vote(vote(MAX_VOTES_COUNT)))).unwrap_err();
    assert!(e.message().contains("impossible validator index"), "{e:?}");
    assert!(decode(&encode(&ConsensusMessage::Vote(vote(-1)))).is_err());
    let mut v = vote(0);
    v.height = -3;
    assert!(decode(&encode(&ConsensusMessage::Vote(v)))
        .unwrap_err()
        .message()
        .contains("negative height"));
    let hv = ConsensusMessage::HasVote {
        height: 1,
        round: 0,
        vote_type: PREVOTE_TYPE,
        index: 1 << 40,
    };
    assert!(decode(&encode(&hv)).is_err());
    let bad_type = ConsensusMessage::HasVote {
        height: 1,
        round: 0,
        vote_type: 7,
        index: 0,
    };
    assert!(decode(&encode(&bad_type)).is_err());
    let huge_bits = ConsensusMessage::ProposalPol {
        height: 1,
        proposal_pol_round: 0,
        proposal_pol: BitArray {
            bits: MAX_BIT_ARRAY_BITS + 1,
            elems: vec![0; (MAX_BIT_ARRAY_BITS as usize + 64) / 64],
        },
    };
    assert!(decode(&encode(&huge_bits)).is_err());
    let nrs = ConsensusMessage::NewRoundStep {
        height: 1,
        round: 0,
        step: 9,
        seconds_since_start_time: 0,
        last_commit_round: -1,
    };
    assert!(decode(&encode(&nrs))
        .unwrap_err()
        .message()
        .contains("invalid step"));
    assert!(
        decode_blockchain(&encode_blockchain(&BlockchainMessage::BlockRequest {
            height: -1
        }))
        .is_err()
    );
}

#[test]
fn garbage_never_panics() {
    // a cheap deterministic fuzz pass: every prefix and every single-byte flip
    let bz = encode(&ConsensusMessage::Vote(vote(1)));
    for n in 0..bz.len() {
        let _ = decode(&bz[..n]);
        let mut flipped = bz.clone();
        flipped[n] ^= 0xff;
        let _ = decode(&flipped);
        let _ = decode_blockchain(&flipped);
        let _ = decode_mempool(&flipped);
    }
}

#[test]
fn foreign_package_prefix_is_rejected() {
    let good = encode(&ConsensusMessage::Vote(vote(1)));
    let (_, value) = super::amino::decode_any(&good).unwrap();
    let e = decode(&any("/p2p.VoteMessage", value)).unwrap_err();
    assert!(e.message().contains("unknown type prefix"), "{e:?}");
}
