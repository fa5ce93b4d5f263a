//! A streaming trie builder for genesis: leaves arrive in key order (from a
//! sorted redb table) and every branch node is handed to a callback, in the
//! trie crate's [`StoredNode`] format, as soon as its subtree is complete.
//! Memory stays bounded (at most 16 pending subtrees per depth) whatever the
//! number of leaves, which the trie crate's in-memory `build_state` is not.
//!
//! The pending subtrees live on a stack; each remembers the length of the
//! prefix it shares with the one below it, and those lengths never decrease
//! up the stack. A new key sharing a shorter prefix with the top closes
//! every run of subtrees that share a longer one into a branch.

use crate::{StoreError, StoreResult};
use alloy_primitives::{B256, keccak256};
use alloy_trie::nodes::{ExtensionNodeRef, LeafNodeRef};
use mosaic_trie::{EMPTY_ROOT_HASH, Nibbles, RlpNode, StoredNode, TrieMask};

/// A finished subtree.
enum Subtree {
    /// One leaf: full key and value.
    Leaf { key: Nibbles, value: Vec<u8> },
    /// A branch at `path` and how a parent refers to it.
    Branch { path: Nibbles, rlp: RlpNode },
}

impl Subtree {
    const fn path(&self) -> &Nibbles {
        match self {
            Self::Leaf { key, .. } => key,
            Self::Branch { path, .. } => path,
        }
    }

    /// How a branch whose children sit at depth `depth` refers to this
    /// subtree: a leaf with the rest of its key, the branch, or an extension
    /// over the nibbles between `depth` and the branch.
    fn reference(&self, depth: usize, buf: &mut Vec<u8>) -> RlpNode {
        buf.clear();
        match self {
            Self::Leaf { key, value } => LeafNodeRef::new(&key.slice(depth..), value).rlp(buf),
            Self::Branch { path, rlp } if path.len() == depth => rlp.clone(),
            Self::Branch { path, rlp } => ExtensionNodeRef::new(&path.slice(depth..), rlp).rlp(buf),
        }
    }
}

struct Pending {
    subtree: Subtree,
    /// Length of the prefix shared with the entry below (0 for the bottom).
    shared: usize,
}

/// Builds one trie from leaves given in strictly increasing key order.
pub(crate) struct StreamingTrie<F> {
    stack: Vec<Pending>,
    emit: F,
    buf: Vec<u8>,
    last_key: Option<B256>,
}

impl<F: FnMut(&Nibbles, &StoredNode) -> StoreResult<()>> StreamingTrie<F> {
    /// A builder handing each branch node and its path to `emit`.
    pub(crate) fn new(emit: F) -> Self {
        Self { stack: Vec::new(), emit, buf: Vec::with_capacity(600), last_key: None }
    }

    /// Adds a leaf; `value` is its RLP-encoded value.
    pub(crate) fn add_leaf(&mut self, key: B256, value: Vec<u8>) -> StoreResult<()> {
        if self.last_key.is_some_and(|last| last >= key) {
            return Err(StoreError::corrupt("hashed state", format!("leaf {key} out of order")));
        }
        self.last_key = Some(key);
        let key = Nibbles::unpack(key);
        let shared = match self.stack.last() {
            Some(top) => top.subtree.path().common_prefix_length(&key),
            None => 0,
        };
        while self.stack.last().is_some_and(|top| top.shared > shared) {
            self.close_top_run()?;
        }
        self.stack.push(Pending { subtree: Subtree::Leaf { key, value }, shared });
        Ok(())
    }

    /// Closes the top run of subtrees (those sharing the top's prefix
    /// length) into one branch.
    fn close_top_run(&mut self) -> StoreResult<()> {
        let Some(top) = self.stack.last() else { return Ok(()) };
        let depth = top.shared;
        let mut start = self.stack.len() - 1;
        while start > 0 && self.stack[start].shared == depth {
            start -= 1;
        }
        // `start` is the first member: the one whose successors all share `depth` nibbles with it.
        let run: Vec<Pending> = self.stack.drain(start..).collect();
        let path = run[0].subtree.path().slice(..depth);
        let mut node = StoredNode {
            state_mask: TrieMask::default(),
            tree_mask: TrieMask::default(),
            children: Vec::new(),
        };
        for member in &run {
            let nibble = member.subtree.path().get_unchecked(depth);
            node.state_mask.set_bit(nibble);
            if matches!(member.subtree, Subtree::Branch { .. }) {
                node.tree_mask.set_bit(nibble);
            }
            node.children.push(member.subtree.reference(depth + 1, &mut self.buf));
        }
        (self.emit)(&path, &node)?;
        let rlp = node.rlp(&mut self.buf);
        self.stack.push(Pending { subtree: Subtree::Branch { path, rlp }, shared: run[0].shared });
        Ok(())
    }

    /// Whether no leaf was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }

    /// Closes every pending subtree into one and returns how a branch whose
    /// children sit at depth `depth` refers to it (every key must share its
    /// first `depth` nibbles), and whether it is a branch or an extension
    /// (not a leaf); `None` without leaves.
    pub(crate) fn finish_child(mut self, depth: usize) -> StoreResult<Option<(RlpNode, bool)>> {
        while self.stack.len() > 1 {
            self.close_top_run()?;
        }
        Ok(self.stack.pop().map(|top| {
            let is_branch = matches!(top.subtree, Subtree::Branch { .. });
            (top.subtree.reference(depth, &mut self.buf), is_branch)
        }))
    }

    /// Closes every pending subtree and returns the root hash.
    pub(crate) fn finish(mut self) -> StoreResult<B256> {
        while self.stack.len() > 1 {
            self.close_top_run()?;
        }
        Ok(match self.stack.pop() {
            None => EMPTY_ROOT_HASH,
            Some(root) => {
                let node = root.subtree.reference(0, &mut self.buf);
                node.as_hash().unwrap_or_else(|| keccak256(&node))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256};
    use mosaic_trie::{Account, HashedPostState, TrieUpdates, build_state};
    use std::collections::BTreeMap;

    /// Builds with the streaming builder; returns the root and the nodes.
    fn stream(leaves: &BTreeMap<B256, Vec<u8>>) -> (B256, BTreeMap<Nibbles, StoredNode>) {
        let mut nodes = BTreeMap::new();
        let mut builder = StreamingTrie::new(|path: &Nibbles, node: &StoredNode| {
            assert!(nodes.insert(*path, node.clone()).is_none(), "node emitted twice");
            Ok(())
        });
        for (key, value) in leaves {
            builder.add_leaf(*key, value.clone()).expect("in order");
        }
        let root = builder.finish().expect("builds");
        (root, nodes)
    }

    fn written(updates: &mosaic_trie::NodeUpdates) -> BTreeMap<Nibbles, StoredNode> {
        updates.iter().map(|(path, node)| (*path, node.clone().expect("build only writes"))).collect()
    }

    /// Compares against the trie crate's from-scratch builder: same root,
    /// same nodes, for the account trie and every storage trie.
    #[test]
    fn matches_trie_crate_build_state() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for accounts in [0usize, 1, 2, 3, 17, 300] {
            let mut post = HashedPostState::new();
            let mut storages: BTreeMap<Address, Vec<(U256, U256)>> = BTreeMap::new();
            for i in 0..accounts {
                let address = Address::with_last_byte(i as u8).create(next());
                let account =
                    Account { nonce: next() % 3, balance: U256::from(next() % 1000), ..Default::default() };
                post.insert_account(
                    address,
                    Some(Account { code_hash: mosaic_trie::KECCAK_EMPTY, ..account }),
                );
                let slots: Vec<(U256, U256)> =
                    (0..next() % 40).map(|_| (U256::from(next() % 64), U256::from(next() % 4))).collect();
                post.insert_storage(address, false, slots.clone());
                storages.insert(address, slots);
            }
            let (root, updates): (B256, TrieUpdates) = build_state(&post).expect("builds");
            // Storage tries.
            let mut account_leaves = BTreeMap::new();
            for (hashed, account) in &updates.accounts {
                let account = account.expect("created");
                let slots: BTreeMap<B256, Vec<u8>> = post.storages[hashed]
                    .slots
                    .iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(k, v)| (*k, alloy_rlp::encode(v)))
                    .collect();
                let (storage_root, nodes) = stream(&slots);
                assert_eq!(storage_root, account.storage_root);
                let expected = updates.storages.get(hashed).map(|s| written(&s.nodes)).unwrap_or_default();
                assert_eq!(nodes, expected, "storage nodes of {hashed}");
                account_leaves.insert(*hashed, alloy_rlp::encode(account));
            }
            let (streamed_root, nodes) = stream(&account_leaves);
            assert_eq!(streamed_root, root, "{accounts} accounts");
            assert_eq!(nodes, written(&updates.account_nodes), "{accounts} accounts");
        }
    }

    #[test]
    fn rejects_unsorted_leaves() {
        let mut builder = StreamingTrie::new(|_: &Nibbles, _: &StoredNode| Ok(()));
        builder.add_leaf(B256::repeat_byte(2), vec![1]).expect("first");
        assert!(builder.add_leaf(B256::repeat_byte(1), vec![1]).is_err());
        assert!(builder.add_leaf(B256::repeat_byte(2), vec![1]).is_err());
    }
}
