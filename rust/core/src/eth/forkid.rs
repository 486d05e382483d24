//! EIP-2124 fork identifiers, computed and validated as go-ethereum's
//! `core/forkid` does (`NewID`, `gatherForks`, `newFilter`).
//!
//! The ID is the CRC32 (IEEE) of the genesis hash, updated with every passed
//! fork as an 8-byte big-endian number, plus the next upcoming fork. Forks are
//! given by block number first, then by timestamp.
use crate::error::{CoreError, CoreResult};
use crate::rlp::{self, Item};

/// geth `timestampThreshold`: a `next` above this is a timestamp, not a block
/// number (Frontier's genesis time), so a remote announcing a time fork that
/// already passed on our clock is rejected even while we are on block forks.
pub const TIMESTAMP_THRESHOLD: u64 = 1_438_269_973;

/// A fork identifier: `[hash (4 bytes), next]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ForkId {
    pub hash: [u8; 4],
    pub next: u64,
}

/// Why a remote fork ID was refused (geth's two errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkIdError {
    /// `ErrRemoteStale`: the remote needs a software update.
    RemoteStale,
    /// `ErrLocalIncompatibleOrStale`: another chain, or we need an update.
    LocalIncompatibleOrStale,
}

impl ForkIdError {
    /// geth's error text.
    pub fn message(self) -> &'static str {
        match self {
            ForkIdError::RemoteStale => "remote needs update",
            ForkIdError::LocalIncompatibleOrStale => "local incompatible or needs update",
        }
    }
}

impl ForkId {
    /// RLP `[hash, next]`.
    pub fn encode(&self) -> Vec<u8> {
        rlp::encode(&self.to_item())
    }

    pub fn to_item(&self) -> Item {
        Item::List(vec![
            Item::Bytes(self.hash.to_vec()),
            Item::Bytes(rlp::uint_bytes(self.next)),
        ])
    }

    /// From a decoded `[hash, next]` list: exactly two elements (geth decodes
    /// into a struct without a tail, so extra elements are an error).
    pub fn from_item(item: &Item) -> CoreResult<Self> {
        let l = item.as_list()?;
        if l.len() != 2 {
            return Err(CoreError::decode("fork ID must be a list of 2 elements"));
        }
        let h = l[0].as_bytes()?;
        let hash: [u8; 4] = h
            .try_into()
            .map_err(|_| CoreError::decode("fork hash must be 4 bytes"))?;
        Ok(ForkId {
            hash,
            next: l[1].as_u64()?,
        })
    }

    pub fn decode(data: &[u8]) -> CoreResult<Self> {
        Self::from_item(&rlp::decode(data)?)
    }
}

/// The ENR `eth` entry value: `[[forkhash, forknext], ...]` (extra elements
/// are ignored for forward compatibility, as geth's `rlp:"tail"`).
pub fn encode_enr_entry(id: &ForkId) -> Vec<u8> {
    rlp::encode(&Item::List(vec![id.to_item()]))
}

/// Decode the ENR `eth` entry value (the raw RLP stored under key `eth`).
pub fn decode_enr_entry(data: &[u8]) -> CoreResult<ForkId> {
    let item = rlp::decode(data)?;
    let l = item.as_list()?;
    let first = l
        .first()
        .ok_or_else(|| CoreError::decode("eth ENR entry is empty"))?;
    ForkId::from_item(first)
}

/// A chain's fork schedule after geth's `gatherForks`: sorted, deduplicated,
/// block forks at 0 dropped, time forks at or before genesis time dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forks {
    pub by_block: Vec<u64>,
    pub by_time: Vec<u64>,
}

impl Forks {
    pub fn gather(block_forks: &[u64], time_forks: &[u64], genesis_time: u64) -> Self {
        let mut by_block = block_forks.to_vec();
        let mut by_time = time_forks.to_vec();
        by_block.sort_unstable();
        by_block.dedup();
        by_time.sort_unstable();
        by_time.dedup();
        if by_block.first() == Some(&0) {
            by_block.remove(0);
        }
        by_time.retain(|&t| t > genesis_time);
        Forks { by_block, by_time }
    }
}

fn checksum_update(hash: u32, fork: u64) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(hash);
    h.update(&fork.to_be_bytes());
    h.finalize()
}

/// The fork ID of a node at `head` (block number) and `time` (head timestamp).
pub fn new_id(genesis_hash: &[u8; 32], forks: &Forks, head: u64, time: u64) -> ForkId {
    let mut hash = crc32fast::hash(genesis_hash);
    for &fork in &forks.by_block {
        if fork <= head {
            hash = checksum_update(hash, fork);
            continue;
        }
        return ForkId {
            hash: hash.to_be_bytes(),
            next: fork,
        };
    }
    for &fork in &forks.by_time {
        if fork <= time {
            hash = checksum_update(hash, fork);
            continue;
        }
        return ForkId {
            hash: hash.to_be_bytes(),
            next: fork,
        };
    }
    ForkId {
        hash: hash.to_be_bytes(),
        next: 0,
    }
}

/// geth's `forkid.Filter`: validates remote fork IDs against our schedule.
#[derive(Debug, Clone)]
pub struct ForkFilter {
    /// Every fork (blocks then times) followed by `u64::MAX`, never passed.
    forks: Vec<u64>,
    /// How many leading entries of `forks` compare against the head block.
    block_len: usize,
    /// Checksums: `sums[0]` is the genesis, `sums[i+1]` after `forks[i]`.
    sums: Vec<[u8; 4]>,
}

impl ForkFilter {
    pub fn new(genesis_hash: &[u8; 32], forks: &Forks) -> Self {
        let mut all: Vec<u64> = forks.by_block.clone();
        all.extend_from_slice(&forks.by_time);
        let mut hash = crc32fast::hash(genesis_hash);
        let mut sums = vec![hash.to_be_bytes()];
        for &fork in &all {
            hash = checksum_update(hash, fork);
            sums.push(hash.to_be_bytes());
        }
        all.push(u64::MAX);
        let mut block_len = forks.by_block.len();
        if forks.by_time.is_empty() {
            block_len += 1; // the never-passed sentinel is then a block fork
        }
        ForkFilter {
            forks: all,
            block_len,
            sums,
        }
    }

    /// Check `id` while our head is at block `head` and timestamp `time`.
    pub fn validate(&self, id: &ForkId, head: u64, time: u64) -> Result<(), ForkIdError> {
        for (i, &fork) in self.forks.iter().enumerate() {
            let local = if i >= self.block_len { time } else { head };
            if local >= fork {
                continue;
            }
            // Rule 1: same checksum; reject only if the remote's next fork already passed here.
            if self.sums[i] == id.hash {
                if id.next > 0
                    && (local >= id.next || (id.next > TIMESTAMP_THRESHOLD && time >= id.next))
                {
                    return Err(ForkIdError::LocalIncompatibleOrStale);
                }
                return Ok(());
            }
            // Rule 2: remote is a subset of our past; its next must be our next fork then.
            for j in 0..i {
                if self.sums[j] == id.hash {
                    if self.forks[j] != id.next {
                        return Err(ForkIdError::RemoteStale);
                    }
                    return Ok(());
                }
            }
            // Rule 3: remote is a superset (we are behind): accept.
            if self.sums[i + 1..].contains(&id.hash) {
                return Ok(());
            }
            // Rule 4: anything else.
            return Err(ForkIdError::LocalIncompatibleOrStale);
        }
        Ok(()) // unreachable: the sentinel fork is never passed (geth accepts here too)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_matches_geth() {
        let cases: [(ForkId, &str); 3] = [
            (
                ForkId {
                    hash: [0; 4],
                    next: 0,
                },
                "c6840000000080",
            ),
            (
                ForkId {
                    hash: 0xdeadbeef_u32.to_be_bytes(),
                    next: 0xbaddcafe,
                },
                "ca84deadbeef84baddcafe",
            ),
            (
                ForkId {
                    hash: [0xff; 4],
                    next: u64::MAX,
                },
                "ce84ffffffff88ffffffffffffffff",
            ),
        ];
        for (id, want) in cases {
            assert_eq!(hex::encode(id.encode()), want);
            assert_eq!(ForkId::decode(&hex::decode(want).unwrap()).unwrap(), id);
        }
    }

    #[test]
    fn enr_entry_ignores_tail_but_not_malformed_ids() {
        let id = ForkId {
            hash: [1, 2, 3, 4],
            next: 5,
        };
        let enc = encode_enr_entry(&id);
        assert_eq!(decode_enr_entry(&enc).unwrap(), id);
        let with_tail = rlp::encode(&Item::List(vec![id.to_item(), Item::Bytes(vec![9])]));
        assert_eq!(decode_enr_entry(&with_tail).unwrap(), id);
        let bad = rlp::encode(&Item::List(vec![Item::List(vec![Item::Bytes(vec![
            1, 2, 3,
        ])])]));
        assert!(decode_enr_entry(&bad).is_err());
        assert!(decode_enr_entry(&rlp::encode(&Item::List(vec![]))).is_err());
    }
}

#[cfg(test)]
mod vector_tests {
    use super::*;
    use serde_json::Value;

    const VECTORS: &str = include_str!("../../../../tests/vectors/eth_forkid.json");

    fn chain(v: &Value, name: &str) -> ([u8; 32], Forks) {
        let c = &v["chains"][name];
        let list = |k: &str| -> Vec<u64> {
            c[k].as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect()
        };
        let gh: [u8; 32] = hex::decode(c["genesis_hash"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let forks = Forks::gather(
            &list("block_forks"),
            &list("time_forks"),
            c["genesis_time"].as_u64().unwrap(),
        );
        (gh, forks)
    }

    fn hash4(v: &Value) -> [u8; 4] {
        hex::decode(v.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    }

    #[test]
    fn geth_creation_cases() {
        let v: Value = serde_json::from_str(VECTORS).unwrap();
        let mut n = 0;
        for (name, cases) in v["creation"].as_object().unwrap() {
            let (gh, forks) = chain(&v, name);
            for c in cases.as_array().unwrap() {
                let id = new_id(
                    &gh,
                    &forks,
                    c["head"].as_u64().unwrap(),
                    c["time"].as_u64().unwrap(),
                );
                let want = ForkId {
                    hash: hash4(&c["hash"]),
                    next: c["next"].as_u64().unwrap(),
                };
                assert_eq!(id, want, "{name} {c}");
                n += 1;
            }
        }
        assert_eq!(n, 78);
    }

    #[test]
    fn geth_validation_cases() {
        let v: Value = serde_json::from_str(VECTORS).unwrap();
        let cases = v["validation"].as_array().unwrap();
        assert_eq!(cases.len(), 45);
        for c in cases {
            let (gh, forks) = chain(&v, c["config"].as_str().unwrap());
            let filter = ForkFilter::new(&gh, &forks);
            let id = ForkId {
                hash: hash4(&c["hash"]),
                next: c["next"].as_u64().unwrap(),
            };
            let got = filter.validate(
                &id,
                c["head"].as_u64().unwrap(),
                c["time"].as_u64().unwrap(),
            );
            let want = match c["error"].as_str() {
                None => Ok(()),
                Some("ErrRemoteStale") => Err(ForkIdError::RemoteStale),
                Some("ErrLocalIncompatibleOrStale") => Err(ForkIdError::LocalIncompatibleOrStale),
                Some(e) => panic!("unknown error {e}"),
            };
            assert_eq!(got, want, "{c}");
        }
    }

    #[test]
    fn geth_encoding_cases() {
        let v: Value = serde_json::from_str(VECTORS).unwrap();
        for c in v["encoding"].as_array().unwrap() {
            let id = ForkId {
                hash: hash4(&c["hash"]),
                next: c["next"].as_u64().unwrap(),
            };
            assert_eq!(hex::encode(id.encode()), c["rlp"].as_str().unwrap());
        }
    }

    #[test]
    fn time_fork_at_genesis_is_skipped() {
        // geth TestTimeBasedForkInGenesis: forks at or before genesis time are not hashed.
        let t = 1_690_475_657;
        let gh = [9u8; 32];
        let base = crc32fast::hash(&gh).to_be_bytes();
        for (shanghai, cancun) in [(t - 1, t + 1), (t, t + 1), (t + 1, t + 2)] {
            let forks = Forks::gather(&[0, 0], &[shanghai, cancun], t);
            assert_eq!(
                new_id(&gh, &forks, 0, t),
                ForkId {
                    hash: base,
                    next: t + 1
                }
            );
        }
    }
}
