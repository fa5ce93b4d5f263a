//! Subtrees as the incremental algorithm passes them around, and the
//! from-scratch builder that joins them. An [`Item`] is either one leaf or a
//! branch whose RLP reference is already known; a parent turns it into the
//! node it refers to at its own depth ([`node_ref`], which adds the leaf's
//! remaining key or an extension in front of the branch). [`build`] makes a
//! trie of disjoint items, recording every branch it creates.

use alloy_primitives::{B256, keccak256};
use alloy_trie::{
    EMPTY_ROOT_HASH, Nibbles, TrieMask,
    nodes::{ExtensionNodeRef, LeafNodeRef, RlpNode},
};

use rayon::prelude::*;

use crate::{NodeUpdates, StoredNode};

/// Node writes and deletions in the order they were made (a later entry for
/// the same path wins); collected into [`crate::NodeUpdates`] once at the end,
/// which is much cheaper than merging maps at every parallel branch.
pub(crate) type NodeLog = Vec<(Nibbles, Option<StoredNode>)>;

/// Items from which a branch builds its children on several threads (few in
/// tests, so that the property tests take that path too).
const PARALLEL_ITEMS: usize = if cfg!(test) { 8 } else { 2048 };

/// A subtree of the trie, whole.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// A single leaf: its full key and its value (already RLP).
    Leaf {
        /// The full 64-nibble key.
        key: Nibbles,
        /// The stored value.
        value: Vec<u8>,
    },
    /// Two or more leaves, under a branch node at `path`.
    Branch {
        /// Full path of the branch node (the longest prefix all keys share).
        path: Nibbles,
        /// How a parent refers to the branch node itself.
        rlp: RlpNode,
    },
}

impl Item {
    /// The nibble path that every key of this subtree starts with and that
    /// no other disjoint subtree's keys start with.
    pub(crate) const fn path(&self) -> &Nibbles {
        match self {
            Self::Leaf { key, .. } => key,
            Self::Branch { path, .. } => path,
        }
    }

    /// Whether this subtree holds a stored branch node.
    pub(crate) const fn is_branch(&self) -> bool {
        matches!(self, Self::Branch { .. })
    }
}

/// How a branch at depth `depth - 1` refers to `item` as its child: the
/// leaf with the key left after `depth` nibbles, the branch itself, or an
/// extension over the nibbles between `depth` and the branch.
pub(crate) fn node_ref(item: &Item, depth: usize, buf: &mut Vec<u8>) -> RlpNode {
    buf.clear();
    match item {
        Item::Leaf { key, value } => LeafNodeRef::new(&key.slice(depth..), value).rlp(buf),
        Item::Branch { path, rlp } if path.len() == depth => rlp.clone(),
        Item::Branch { path, rlp } => ExtensionNodeRef::new(&path.slice(depth..), rlp).rlp(buf),
    }
}

/// The root hash of a trie whose whole content is `item` (`None`: empty).
pub(crate) fn root_hash(item: Option<&Item>, buf: &mut Vec<u8>) -> B256 {
    match item {
        None => EMPTY_ROOT_HASH,
        Some(item) => {
            let node = node_ref(item, 0, buf);
            node.as_hash().unwrap_or_else(|| keccak256(&node))
        }
    }
}

/// Builds the trie of `items` below depth `depth` and returns it as one item
/// (`None` for no items). `items` are sorted by path, all share their first
/// `depth` nibbles and are disjoint (no item's path is a prefix of
/// another's). Every branch created goes to `out`.
pub(crate) fn build(items: &[Item], depth: usize, out: &mut NodeLog, buf: &mut Vec<u8>) -> Option<Item> {
    let (first, last) = match items {
        [] => return None,
        [single] => return Some(single.clone()),
        [first, .., last] => (first.path(), last.path()),
    };
    // Sorted, so the prefix of the first and the last is shared by all.
    let split = first.common_prefix_length(last);
    debug_assert!(split >= depth && split < first.len() && split < last.len(), "items are not disjoint");
    let mut groups: Vec<(u8, &[Item])> = Vec::with_capacity(16);
    let mut rest = items;
    while let Some(head) = rest.first() {
        let nibble = head.path().get_unchecked(split);
        let taken = rest.iter().take_while(|item| item.path().get_unchecked(split) == nibble).count();
        let (group, tail) = rest.split_at(taken);
        groups.push((nibble, group));
        rest = tail;
    }
    let built: Vec<(u8, Option<Item>)> = if items.len() >= PARALLEL_ITEMS {
        let results: Vec<_> = groups
            .into_par_iter()
            .map(|(nibble, group)| {
                let mut local = NodeLog::new();
                let child = build(group, split + 1, &mut local, &mut Vec::with_capacity(600));
                (nibble, child, local)
            })
            .collect();
        results
            .into_iter()
            .map(|(nibble, child, mut local)| {
                out.append(&mut local);
                (nibble, child)
            })
            .collect()
    } else {
        groups.into_iter().map(|(nibble, group)| (nibble, build(group, split + 1, out, buf))).collect()
    };
    let mut state_mask = TrieMask::default();
    let mut tree_mask = TrieMask::default();
    let mut children = Vec::with_capacity(built.len());
    for (nibble, child) in built {
        // Every group is non-empty, so every child exists.
        if let Some(child) = child {
            state_mask.set_bit(nibble);
            if child.is_branch() {
                tree_mask.set_bit(nibble);
            }
            children.push(node_ref(&child, split + 1, buf));
        }
    }
    Some(branch_item(first.slice(..split), StoredNode { state_mask, tree_mask, children }, out, buf))
}

/// The node changes of a log, the last entry of each path winning.
pub(crate) fn into_updates(mut log: NodeLog) -> NodeUpdates {
    log.sort_by_key(|entry| entry.0);
    let mut sorted: NodeLog = Vec::with_capacity(log.len());
    for entry in log {
        match sorted.last_mut() {
            Some(last) if last.0 == entry.0 => *last = entry,
            _ => sorted.push(entry),
        }
    }
    // Sorted and distinct: the map is built in bulk.
    sorted.into_iter().collect()
}

/// Records the branch `node` at `path` in `out` and returns it as an item.
pub(crate) fn branch_item(path: Nibbles, node: StoredNode, out: &mut NodeLog, buf: &mut Vec<u8>) -> Item {
    let rlp = node.rlp(buf);
    out.push((path, Some(node)));
    Item::Branch { path, rlp }
}
