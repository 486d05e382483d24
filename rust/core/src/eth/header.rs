//! Block headers as go-ethereum's `types.Header` encodes them, with the
//! optional post-London fields (base fee, withdrawals root, blob gas, beacon
//! root, requests hash, block access list hash, slot number) present up to the
//! last one that is set. The hash is keccak256 of the RLP.
use crate::error::{CoreError, CoreResult};
use crate::hash::keccak256;
use crate::rlp::{self, Item};

/// Largest header we decode. A header is ~600 bytes; extra-data is capped
/// by consensus at 32 bytes (97 for clique), so 64 KiB stops a single huge
/// "header" from making us hash and keep megabytes per item.
pub const MAX_HEADER_SIZE: usize = 64 * 1024;

/// keccak256(rlp([])): the uncle hash of a block without uncles.
pub const EMPTY_UNCLE_HASH: [u8; 32] =
    hex32("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");
/// Root of an empty trie: transactions/receipts/withdrawals root of an empty block.
pub const EMPTY_ROOT_HASH: [u8; 32] =
    hex32("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
/// sha256 of nothing: the EIP-7685 requests hash of a block without requests.
pub const EMPTY_REQUESTS_HASH: [u8; 32] =
    hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nib(b[2 * i]) << 4) | nib(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nib(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("bad hex"),
    }
}

/// A block header. Big integers (difficulty, base fee) are minimal big-endian bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub parent_hash: [u8; 32],
    pub uncle_hash: [u8; 32],
    pub coinbase: [u8; 20],
    pub state_root: [u8; 32],
    pub tx_root: [u8; 32],
    pub receipt_root: [u8; 32],
    pub bloom: Vec<u8>,
    pub difficulty: Vec<u8>,
    pub number: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub time: u64,
    pub extra: Vec<u8>,
    pub mix_digest: [u8; 32],
    pub nonce: [u8; 8],
    pub base_fee: Option<Vec<u8>>,
    pub withdrawals_root: Option<[u8; 32]>,
    pub blob_gas_used: Option<u64>,
    pub excess_blob_gas: Option<u64>,
    pub parent_beacon_root: Option<[u8; 32]>,
    pub requests_hash: Option<[u8; 32]>,
    pub block_access_list_hash: Option<[u8; 32]>,
    pub slot_number: Option<u64>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            parent_hash: [0; 32],
            uncle_hash: EMPTY_UNCLE_HASH,
            coinbase: [0; 20],
            state_root: EMPTY_ROOT_HASH,
            tx_root: EMPTY_ROOT_HASH,
            receipt_root: EMPTY_ROOT_HASH,
            bloom: vec![0; 256],
            difficulty: Vec::new(),
            number: 0,
            gas_limit: 0,
            gas_used: 0,
            time: 0,
            extra: Vec::new(),
            mix_digest: [0; 32],
            nonce: [0; 8],
            base_fee: None,
            withdrawals_root: None,
            blob_gas_used: None,
            excess_blob_gas: None,
            parent_beacon_root: None,
            requests_hash: None,
            block_access_list_hash: None,
            slot_number: None,
        }
    }
}

fn fixed<const N: usize>(item: &Item, what: &str) -> CoreResult<[u8; N]> {
    item.as_bytes()?
        .try_into()
        .map_err(|_| CoreError::decode(format!("header {what} must be {N} bytes")))
}

fn big(item: &Item, what: &str) -> CoreResult<Vec<u8>> {
    let b = item.as_bytes()?;
    if b.len() > 32 {
        return Err(CoreError::decode(format!(
            "header {what} larger than 256 bits"
        )));
    }
    if b.first() == Some(&0) {
        return Err(CoreError::decode(format!(
            "header {what} has a leading zero"
        )));
    }
    Ok(b.to_vec())
}

impl Header {
    pub fn to_item(&self) -> Item {
        let b = |v: &[u8]| Item::Bytes(v.to_vec());
        let u = |v: u64| Item::Bytes(rlp::uint_bytes(v));
        let mut l = vec![
            b(&self.parent_hash),
            b(&self.uncle_hash),
            b(&self.coinbase),
            b(&self.state_root),
            b(&self.tx_root),
            b(&self.receipt_root),
            b(&self.bloom),
            b(&self.difficulty),
            u(self.number),
            u(self.gas_limit),
            u(self.gas_used),
            u(self.time),
            b(&self.extra),
            b(&self.mix_digest),
            b(&self.nonce),
        ];
        // geth's rlp:"optional": every field up to the last one set is written;
        // an unset one before it is written as its zero value.
        let opts: [Option<Item>; 8] = [
            self.base_fee.as_deref().map(b),
            self.withdrawals_root.as_ref().map(|h| b(h)),
            self.blob_gas_used.map(u),
            self.excess_blob_gas.map(u),
            self.parent_beacon_root.as_ref().map(|h| b(h)),
            self.requests_hash.as_ref().map(|h| b(h)),
            self.block_access_list_hash.as_ref().map(|h| b(h)),
            self.slot_number.map(u),
        ];
        let last = opts.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
        for o in opts.into_iter().take(last) {
            l.push(o.unwrap_or(Item::Bytes(Vec::new())));
        }
        Item::List(l)
    }

    pub fn encode(&self) -> Vec<u8> {
        rlp::encode(&self.to_item())
    }

    pub fn hash(&self) -> [u8; 32] {
        keccak256(&self.encode())
    }

    pub fn decode(data: &[u8]) -> CoreResult<Self> {
        if data.len() > MAX_HEADER_SIZE {
            return Err(CoreError::decode("header larger than MAX_HEADER_SIZE"));
        }
        let item = rlp::decode(data)?;
        let l = item.as_list()?;
        if l.len() < 15 || l.len() > 23 {
            return Err(CoreError::decode(format!("header has {} fields", l.len())));
        }
        let bloom = l[6].as_bytes()?;
        if bloom.len() != 256 {
            return Err(CoreError::decode("header bloom must be 256 bytes"));
        }
        let opt = |i: usize| l.get(i);
        Ok(Header {
            parent_hash: fixed(&l[0], "parent hash")?,
            uncle_hash: fixed(&l[1], "uncle hash")?,
            coinbase: fixed(&l[2], "coinbase")?,
            state_root: fixed(&l[3], "state root")?,
            tx_root: fixed(&l[4], "tx root")?,
            receipt_root: fixed(&l[5], "receipt root")?,
            bloom: bloom.to_vec(),
            difficulty: big(&l[7], "difficulty")?,
            number: l[8].as_u64()?,
            gas_limit: l[9].as_u64()?,
            gas_used: l[10].as_u64()?,
            time: l[11].as_u64()?,
            extra: l[12].as_bytes()?.to_vec(),
            mix_digest: fixed(&l[13], "mix digest")?,
            nonce: fixed(&l[14], "nonce")?,
            base_fee: opt(15).map(|i| big(i, "base fee")).transpose()?,
            withdrawals_root: opt(16).map(|i| fixed(i, "withdrawals root")).transpose()?,
            blob_gas_used: opt(17).map(Item::as_u64).transpose()?,
            excess_blob_gas: opt(18).map(Item::as_u64).transpose()?,
            parent_beacon_root: opt(19).map(|i| fixed(i, "beacon root")).transpose()?,
            requests_hash: opt(20).map(|i| fixed(i, "requests hash")).transpose()?,
            block_access_list_hash: opt(21).map(|i| fixed(i, "access list hash")).transpose()?,
            slot_number: opt(22).map(Item::as_u64).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainnet_genesis_header_hash() {
        // core.DefaultGenesisBlock(): nonce 66, extra 0x11bbe8db…, gas limit 5000,
        // difficulty 17179869184, state root d7f8974f…
        let h = Header {
            state_root: hex::decode(
                "d7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544",
            )
            .unwrap()
            .try_into()
            .unwrap(),
            difficulty: 17_179_869_184u64.to_be_bytes()[3..].to_vec(),
            gas_limit: 5000,
            extra: hex::decode("11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa")
                .unwrap(),
            nonce: 66u64.to_be_bytes(),
            ..Header::default()
        };
        assert_eq!(
            hex::encode(h.hash()),
            "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
        );
        assert_eq!(Header::decode(&h.encode()).unwrap(), h);
    }
}
