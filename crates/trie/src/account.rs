//! The account leaf of the state trie.

use alloy_primitives::{B256, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use alloy_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY};

/// An account as stored in a leaf of the state trie: the RLP list
/// `[nonce, balance, storage_root, code_hash]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, RlpEncodable, RlpDecodable)]
pub struct TrieAccount {
    /// Number of transactions sent (or contracts created) by the account.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Root of the account's storage trie ([`EMPTY_ROOT_HASH`] when empty).
    pub storage_root: B256,
    /// Keccak-256 of the account's code ([`KECCAK_EMPTY`] when it has none).
    pub code_hash: B256,
}

impl Default for TrieAccount {
    /// An account with no nonce, no balance, no storage and no code.
    fn default() -> Self {
        Self { nonce: 0, balance: U256::ZERO, storage_root: EMPTY_ROOT_HASH, code_hash: KECCAK_EMPTY }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_rlp::{Decodable, Encodable};

    #[test]
    fn rlp_round_trip_and_matches_alloy() {
        let account = TrieAccount {
            nonce: 7,
            balance: U256::from(1_000_000_007u64),
            storage_root: B256::repeat_byte(0x11),
            code_hash: B256::repeat_byte(0x22),
        };
        let encoded = alloy_rlp::encode(account);
        assert_eq!(encoded.len(), account.length());
        let decoded = TrieAccount::decode(&mut encoded.as_slice()).expect("decodes");
        assert_eq!(decoded, account);
        let theirs = alloy_rlp::encode(alloy_trie::TrieAccount {
            nonce: account.nonce,
            balance: account.balance,
            storage_root: account.storage_root,
            code_hash: account.code_hash,
        });
        assert_eq!(encoded, theirs);
    }

    #[test]
    fn default_is_empty_account() {
        let account = TrieAccount::default();
        assert_eq!(account.storage_root, EMPTY_ROOT_HASH);
        assert_eq!(account.code_hash, KECCAK_EMPTY);
    }
}
