//! Merkle proofs (EIP-1186, `eth_getProof`) from a [`TrieReader`]: the
//! RLP-encoded nodes on the path from a trie's root towards a key, built from
//! the stored branches (whose child references are kept) and the hashed
//! leaves. A proof lists the root node and every node its parent refers to
//! by hash; nodes shorter than 32 bytes are inlined in their parent and not
//! listed, as geth does. For an absent key the proof ends where the path
//! leaves the trie: at a branch without that child, an extension whose path
//! differs, or a leaf with another key. The empty trie's proof is empty.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rlp::Decodable;
use alloy_trie::{
    Nibbles,
    nodes::{ExtensionNodeRef, LeafNodeRef},
};

use crate::{
    TrieAccount, TrieError, TrieReader, TrieResult,
    incremental::{AccountTrie, Hint, Old, StorageTrie, TrieSource, open},
};

/// An account's proof and the proofs of some of its storage slots, the
/// content of an `eth_getProof` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountProof {
    /// The account's address.
    pub address: Address,
    /// The account's leaf, `None` when it does not exist.
    pub account: Option<TrieAccount>,
    /// Nodes from the state root towards `keccak256(address)`.
    pub proof: Vec<Bytes>,
    /// One proof per requested slot, in request order.
    pub storage_proofs: Vec<StorageProof>,
}

impl AccountProof {
    /// The account's storage root (the empty root when it does not exist).
    pub fn storage_root(&self) -> B256 {
        self.account.map_or(crate::EMPTY_ROOT_HASH, |account| account.storage_root)
    }
}

/// The proof of one storage slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageProof {
    /// The slot as requested (its trie key is `keccak256(slot)`).
    pub slot: B256,
    /// The slot's value, zero when absent.
    pub value: U256,
    /// Nodes from the storage root towards `keccak256(slot)`.
    pub proof: Vec<Bytes>,
}

/// Proves the account at `address` and its `slots` against the state that
/// `reader` holds.
pub fn account_proof<R: TrieReader + ?Sized>(
    reader: &R,
    address: Address,
    slots: &[B256],
) -> TrieResult<AccountProof> {
    let hashed_address = keccak256(address);
    let (leaf, proof) = prove(&AccountTrie(reader), hashed_address)?;
    let account = leaf
        .map(|value| {
            TrieAccount::decode(&mut value.as_slice())
                .map_err(|_| TrieError::Decode { what: "account leaf", reason: "invalid RLP" })
        })
        .transpose()?;
    let storage = StorageTrie { reader, hashed_address };
    let storage_proofs = slots
        .iter()
        .map(|slot| {
            if account.is_none() {
                return Ok(StorageProof { slot: *slot, value: U256::ZERO, proof: Vec::new() });
            }
            let (leaf, proof) = prove(&storage, keccak256(slot))?;
            let value = leaf
                .map(|value| {
                    U256::decode(&mut value.as_slice())
                        .map_err(|_| TrieError::Decode { what: "storage leaf", reason: "invalid RLP" })
                })
                .transpose()?
                .unwrap_or_default();
            Ok(StorageProof { slot: *slot, value, proof })
        })
        .collect::<TrieResult<_>>()?;
    Ok(AccountProof { address, account, proof, storage_proofs })
}

/// The value at `key` in the trie `src` (the leaf's RLP value, `None` when
/// absent) and the proof nodes towards it.
pub(crate) fn prove<S: TrieSource>(src: &S, key: B256) -> TrieResult<(Option<Vec<u8>>, Vec<Bytes>)> {
    let key = Nibbles::unpack(key);
    let mut path = Nibbles::new();
    let mut hint = Hint::Unknown;
    let mut encoded: Vec<Vec<u8>> = Vec::new();
    let mut buf = Vec::with_capacity(600);
    let value = loop {
        match open(src, &path, hint)? {
            Old::Empty => break None,
            Old::Leaf(leaf_key, value) => {
                buf.clear();
                LeafNodeRef::new(&leaf_key.slice(path.len()..), &value).rlp(&mut buf);
                encoded.push(buf.clone());
                break (leaf_key == key).then_some(value);
            }
            Old::Branch(branch_path, node) => {
                let rlp = node.rlp(&mut buf);
                let branch = buf.clone();
                if branch_path.len() > path.len() {
                    buf.clear();
                    ExtensionNodeRef::new(&branch_path.slice(path.len()..), &rlp).rlp(&mut buf);
                    encoded.push(buf.clone());
                    if !key.starts_with(&branch_path) {
                        break None;
                    }
                }
                encoded.push(branch);
                let nibble = key.get_unchecked(branch_path.len());
                if !node.state_mask.is_bit_set(nibble) {
                    break None;
                }
                path = branch_path;
                path.push_unchecked(nibble);
                hint = if node.tree_mask.is_bit_set(nibble) { Hint::Branch } else { Hint::Leaf };
            }
        }
    };
    // The root always, then only nodes referred to by hash.
    let proof = encoded
        .into_iter()
        .enumerate()
        .filter(|(depth, node)| *depth == 0 || node.len() >= 32)
        .map(|(_, node)| Bytes::from(node))
        .collect();
    Ok((value, proof))
}
