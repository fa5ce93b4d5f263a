//! The read side of a persisted state trie: the [`TrieReader`] trait that
//! incremental roots and proofs read the parent state through, the stored
//! branch node [`StoredNode`], and the byte encodings a key/value store keeps.
//!
//! An implementation needs four ordered key/value tables (byte-wise key order,
//! which is nibble order for paths) and, per method, one range scan "first key
//! `>=` k" (a point get is a seek plus an equality check):
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | hashed accounts | `keccak256(address)` (32 bytes) | [`encode_account_leaf`]: RLP of [`TrieAccount`] `[nonce, balance, storage_root, code_hash]` |
//! | hashed storage | `keccak256(address)` ++ `keccak256(slot as 32-byte big-endian)` (64 bytes) | [`encode_storage_leaf`]: the value, 32 bytes big-endian, never zero (zero = absent) |
//! | account trie nodes | [`encode_path`]`(path)`: one byte per nibble, 0 to 63 bytes | [`StoredNode::encode`] |
//! | storage trie nodes | `keccak256(address)` ++ [`encode_path`]`(path)` (32 to 95 bytes) | [`StoredNode::encode`] |
//!
//! Every branch node of every trie is stored, keyed by its full nibble path
//! from the trie's root (extension nibbles included); leaves and extensions
//! are not stored, they follow from the leaf tables and the node paths. The
//! tables must hold the parent state exactly: the leaves of every existing
//! account and non-zero slot, and the nodes that
//! [`TrieUpdates`](crate::TrieUpdates) of every block so far (or
//! [`build_state`](crate::build_state) at genesis) have written.

use alloy_primitives::{B256, U256};
use alloy_rlp::Decodable;
use alloy_trie::{Nibbles, TrieMask, nodes::RlpNode};

use crate::{TrieAccount, TrieError, TrieResult};

/// Longest nibble path of a stored node: branches sit strictly above the
/// 64-nibble leaves.
pub const MAX_NODE_PATH: usize = 63;

/// Version tag in front of every encoded [`StoredNode`].
const NODE_FORMAT_V1: u8 = 1;

/// Read access to the parent state of a trie update: hashed leaves and stored
/// branch nodes, for the account trie and every storage trie.
///
/// Every method is a seek: it returns the first entry whose key is `>=` the
/// given one (in the order of the tables in the [module docs](self)), or
/// `None` past the end. Implementations are shared between threads (storage
/// roots of different accounts are computed in parallel), so they take
/// `&self` and must be `Send + Sync`. Map backend errors with
/// [`TrieError::store`].
pub trait TrieReader: Send + Sync {
    /// First account leaf with `keccak256(address) >= hashed_address`.
    fn seek_account(&self, hashed_address: B256) -> TrieResult<Option<(B256, TrieAccount)>>;

    /// The account leaf at exactly `hashed_address`. A seek by default;
    /// implement it when a point lookup is cheaper than a seek.
    fn account_leaf(&self, hashed_address: B256) -> TrieResult<Option<TrieAccount>> {
        Ok(self
            .seek_account(hashed_address)?
            .filter(|(key, _)| *key == hashed_address)
            .map(|(_, account)| account))
    }

    /// First non-zero storage leaf of the account `hashed_address` with
    /// `keccak256(slot) >= hashed_slot`; never a leaf of another account.
    fn seek_storage(&self, hashed_address: B256, hashed_slot: B256) -> TrieResult<Option<(B256, U256)>>;

    /// First stored node of the account trie whose path is `>= path`.
    fn seek_account_node(&self, path: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>>;

    /// First stored node of the storage trie of `hashed_address` whose path
    /// is `>= path`; never a node of another account's trie.
    fn seek_storage_node(
        &self,
        hashed_address: B256,
        path: &Nibbles,
    ) -> TrieResult<Option<(Nibbles, StoredNode)>>;
}

macro_rules! forward_reader {
    ($($ty:ty),*) => {$(
        impl<T: TrieReader + ?Sized> TrieReader for $ty {
            fn seek_account(&self, hashed_address: B256) -> TrieResult<Option<(B256, TrieAccount)>> {
                (**self).seek_account(hashed_address)
            }
            fn account_leaf(&self, hashed_address: B256) -> TrieResult<Option<TrieAccount>> {
                (**self).account_leaf(hashed_address)
            }
            fn seek_storage(
                &self,
                hashed_address: B256,
                hashed_slot: B256,
            ) -> TrieResult<Option<(B256, U256)>> {
                (**self).seek_storage(hashed_address, hashed_slot)
            }
            fn seek_account_node(&self, path: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>> {
                (**self).seek_account_node(path)
            }
            fn seek_storage_node(
                &self,
                hashed_address: B256,
                path: &Nibbles,
            ) -> TrieResult<Option<(Nibbles, StoredNode)>> {
                (**self).seek_storage_node(hashed_address, path)
            }
        }
    )*};
}

forward_reader!(&T, Box<T>, std::sync::Arc<T>);

/// A branch node as stored: which children exist, which of them are
/// themselves branches or extensions (not leaves), and how the branch's RLP
/// refers to each child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNode {
    /// Bit `i` set when the branch has a child at nibble `i` (at least two).
    pub state_mask: TrieMask,
    /// Bit `i` set when the child at nibble `i` is a branch or an extension,
    /// so a stored node exists below it; clear for a leaf child. A subset of
    /// `state_mask`.
    pub tree_mask: TrieMask,
    /// One reference per set bit of `state_mask`, in nibble order: the RLP of
    /// the child node when shorter than 32 bytes, else the RLP string of its
    /// hash (33 bytes), exactly as it appears in the branch's RLP.
    pub children: Vec<RlpNode>,
}

impl StoredNode {
    /// The reference to the child at `nibble`, if there is one.
    pub fn child(&self, nibble: u8) -> Option<&RlpNode> {
        if !self.state_mask.is_bit_set(nibble) {
            return None;
        }
        let below = self.state_mask.get() & ((1u16 << nibble) - 1);
        self.children.get(below.count_ones() as usize)
    }

    /// The branch's RLP encoding, written into `buf` (cleared first); returns
    /// how a parent refers to it (inline or hash).
    pub fn rlp(&self, buf: &mut Vec<u8>) -> RlpNode {
        buf.clear();
        alloy_trie::nodes::BranchNodeRef::new(&self.children, self.state_mask).rlp(buf)
    }

    /// Bytes to store: a version byte, `state_mask` and `tree_mask` as two
    /// big-endian `u16`, then each child reference as a length byte and its
    /// bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.children.iter().map(|c| 1 + c.len()).sum::<usize>());
        out.push(NODE_FORMAT_V1);
        out.extend_from_slice(&self.state_mask.get().to_be_bytes());
        out.extend_from_slice(&self.tree_mask.get().to_be_bytes());
        for child in &self.children {
            // A reference is at most 33 bytes (`RlpNode`'s capacity).
            out.push(child.len() as u8);
            out.extend_from_slice(child);
        }
        out
    }

    /// Parses [`StoredNode::encode`]'s bytes, checking the masks and the
    /// reference lengths.
    pub fn decode(bytes: &[u8]) -> TrieResult<Self> {
        let bad = |reason| TrieError::Decode { what: "trie node", reason };
        let (header, mut rest) = bytes.split_at_checked(5).ok_or_else(|| bad("shorter than its header"))?;
        if header[0] != NODE_FORMAT_V1 {
            return Err(bad("unknown format version"));
        }
        let state_mask = TrieMask::new(u16::from_be_bytes([header[1], header[2]]));
        let tree_mask = TrieMask::new(u16::from_be_bytes([header[3], header[4]]));
        if state_mask.count_ones() < 2 {
            return Err(bad("a branch needs at least two children"));
        }
        if !tree_mask.is_subset_of(state_mask) {
            return Err(bad("tree mask is not a subset of the state mask"));
        }
        let mut children = Vec::with_capacity(state_mask.count_ones() as usize);
        for _ in 0..state_mask.count_ones() {
            let (&len, tail) = rest.split_first().ok_or_else(|| bad("missing child reference"))?;
            let len = usize::from(len);
            if len == 0 {
                return Err(bad("empty child reference"));
            }
            let (child, tail) = tail.split_at_checked(len).ok_or_else(|| bad("truncated child reference"))?;
            children.push(RlpNode::from_raw(child).ok_or_else(|| bad("child reference over 33 bytes"))?);
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(Self { state_mask, tree_mask, children })
    }
}

/// Key bytes of a node path: one byte (`0..=15`) per nibble, so byte order
/// is nibble order and a path sorts before the paths below it.
pub fn encode_path(path: &Nibbles) -> Vec<u8> {
    path.to_vec()
}

/// Parses [`encode_path`]'s bytes.
pub fn decode_path(bytes: &[u8]) -> TrieResult<Nibbles> {
    if bytes.len() > MAX_NODE_PATH {
        return Err(TrieError::Decode { what: "nibble path", reason: "longer than 63 nibbles" });
    }
    if bytes.iter().any(|nibble| *nibble > 0x0f) {
        return Err(TrieError::Decode { what: "nibble path", reason: "byte is not a nibble" });
    }
    Ok(Nibbles::from_nibbles_unchecked(bytes))
}

/// Value bytes of a hashed account leaf: the RLP of the [`TrieAccount`].
pub fn encode_account_leaf(account: &TrieAccount) -> Vec<u8> {
    alloy_rlp::encode(account)
}

/// Parses [`encode_account_leaf`]'s bytes.
pub fn decode_account_leaf(mut bytes: &[u8]) -> TrieResult<TrieAccount> {
    let bad = |reason| TrieError::Decode { what: "account leaf", reason };
    let account = TrieAccount::decode(&mut bytes).map_err(|_| bad("invalid RLP"))?;
    if !bytes.is_empty() {
        return Err(bad("trailing bytes"));
    }
    Ok(account)
}

/// Value bytes of a hashed storage leaf: 32 bytes big-endian.
pub fn encode_storage_leaf(value: U256) -> [u8; 32] {
    value.to_be_bytes()
}

/// Parses [`encode_storage_leaf`]'s bytes.
pub fn decode_storage_leaf(bytes: &[u8]) -> TrieResult<U256> {
    let bytes: [u8; 32] =
        bytes.try_into().map_err(|_| TrieError::Decode { what: "storage leaf", reason: "not 32 bytes" })?;
    Ok(U256::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> StoredNode {
        StoredNode {
            state_mask: TrieMask::new(0b1000_0000_0010_0001),
            tree_mask: TrieMask::new(0b0000_0000_0010_0000),
            children: vec![
                RlpNode::word_rlp(&B256::repeat_byte(1)),
                RlpNode::from_raw(&[0xc2, 0x20, 0x01]).expect("short"),
                RlpNode::word_rlp(&B256::repeat_byte(2)),
            ],
        }
    }

    #[test]
    fn node_round_trip_and_child_lookup() {
        let node = node();
        let bytes = node.encode();
        assert_eq!(StoredNode::decode(&bytes).expect("decodes"), node);
        assert_eq!(node.child(0), Some(&node.children[0]));
        assert_eq!(node.child(5), Some(&node.children[1]));
        assert_eq!(node.child(15), Some(&node.children[2]));
        assert_eq!(node.child(1), None);
    }

    #[test]
    fn node_decode_rejects_garbage() {
        let bytes = node().encode();
        assert!(StoredNode::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(StoredNode::decode(&[bytes.as_slice(), &[0]].concat()).is_err());
        assert!(StoredNode::decode(&[]).is_err());
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 9;
        assert!(StoredNode::decode(&wrong_version).is_err());
        let mut bad_tree = bytes;
        bad_tree[4] |= 0x02;
        assert!(StoredNode::decode(&bad_tree).is_err());
    }

    #[test]
    fn paths_keep_nibble_order() {
        let a = Nibbles::from_nibbles([1]);
        let b = Nibbles::from_nibbles([1, 0]);
        let c = Nibbles::from_nibbles([2]);
        assert!(encode_path(&Nibbles::new()) < encode_path(&a));
        assert!(encode_path(&a) < encode_path(&b) && encode_path(&b) < encode_path(&c));
        assert_eq!(decode_path(&encode_path(&b)).expect("decodes"), b);
        assert!(decode_path(&[0x10]).is_err());
        assert!(decode_path(&[0; 64]).is_err());
    }

    #[test]
    fn leaves_round_trip() {
        let account = TrieAccount { nonce: 3, ..TrieAccount::default() };
        assert_eq!(decode_account_leaf(&encode_account_leaf(&account)).expect("decodes"), account);
        assert!(decode_account_leaf(&[0xc0]).is_err());
        let value = U256::from(0x1234);
        assert_eq!(decode_storage_leaf(&encode_storage_leaf(value)).expect("decodes"), value);
        assert!(decode_storage_leaf(&[1, 2]).is_err());
    }
}
