//! The state root of a genesis allocation, as go-ethereum's `core/genesis.go`
//! `hashAlloc` computes it: a secure Merkle-Patricia trie keyed by
//! keccak256(address) holding `rlp([nonce, balance, storageRoot, codeHash])`,
//! each storage trie keyed by keccak256(slot) holding `rlp(trimmed value)`.
//!
//! The trie itself is `alloy-trie`'s `HashBuilder` (the builder reth uses for
//! state roots): it takes leaves in key order, which a one-shot genesis
//! computation can always supply, and keeps no database.
use alloy_trie::{HashBuilder, Nibbles};

use crate::hash::keccak256;
use crate::rlp::{self, Item};

/// One genesis account. `balance` is big-endian, up to 256 bits.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub address: [u8; 20],
    pub nonce: u64,
    pub balance: Vec<u8>,
    pub code: Vec<u8>,
    pub storage: Vec<([u8; 32], [u8; 32])>,
}

fn trim(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|&&x| x == 0).count();
    &b[skip..]
}

fn trie_root(mut leaves: Vec<([u8; 32], Vec<u8>)>) -> [u8; 32] {
    leaves.sort_unstable_by_key(|a| a.0);
    leaves.dedup_by(|a, b| a.0 == b.0);
    let mut hb = HashBuilder::default();
    for (key, value) in &leaves {
        hb.add_leaf(Nibbles::unpack(key), value);
    }
    hb.root().0
}

/// Root of one account's storage; zero values are absent, as in geth's state.
pub fn storage_root(storage: &[([u8; 32], [u8; 32])]) -> [u8; 32] {
    let leaves = storage
        .iter()
        .filter(|(_, v)| v.iter().any(|&x| x != 0))
        .map(|(k, v)| {
            let mut out = Vec::new();
            rlp::encode_bytes(&mut out, trim(v));
            (keccak256(k), out)
        })
        .collect();
    trie_root(leaves)
}

/// The state root of a genesis allocation. Empty accounts are kept: geth
/// commits the genesis state without deleting empty objects.
pub fn state_root(accounts: &[Account]) -> [u8; 32] {
    let leaves = accounts
        .iter()
        .map(|a| {
            let leaf = Item::List(vec![
                Item::Bytes(rlp::uint_bytes(a.nonce)),
                Item::Bytes(trim(&a.balance).to_vec()),
                Item::Bytes(storage_root(&a.storage).to_vec()),
                Item::Bytes(keccak256(&a.code).to_vec()),
            ]);
            (keccak256(&a.address), rlp::encode(&leaf))
        })
        .collect();
    trie_root(leaves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eth::header::EMPTY_ROOT_HASH;

    #[test]
    fn empty_alloc_is_empty_root() {
        assert_eq!(state_root(&[]), EMPTY_ROOT_HASH);
    }

    #[test]
    fn root_ignores_order_and_zero_storage() {
        let with_zero_slot = Account {
            address: [2; 20],
            nonce: 3,
            storage: vec![([1; 32], [0; 32])],
            ..Account::default()
        };
        let plain = Account {
            storage: vec![],
            ..with_zero_slot.clone()
        };
        let b = Account {
            address: [1; 20],
            balance: vec![0, 1],
            ..Account::default()
        };
        let root = state_root(&[with_zero_slot.clone(), b.clone()]);
        assert_eq!(root, state_root(&[b.clone(), with_zero_slot]));
        assert_eq!(root, state_root(&[plain, b]));
    }
}
