//! The incremental update of one trie. Starting at the root, it descends only
//! into children whose nibble some changed key has, reading the stored branch
//! on the way; untouched children keep the reference their parent already
//! stores. Below a point where the old trie held one leaf or nothing, the
//! changed keys and that leaf are built from scratch. On the way back up a
//! branch left with one child disappears and its child moves up (a parent
//! then refers to it through a longer leaf key or extension), and a new key
//! that leaves an extension's path splits it with a new branch.

use alloy_primitives::B256;
use alloy_trie::{Nibbles, TrieMask};
use rayon::prelude::*;

use super::item::{Item, NodeLog, branch_item, build, node_ref};
use crate::{StoredNode, TrieError, TrieKind, TrieResult};

/// Changed keys at a branch from which its children are updated on several
/// threads (few in tests, so that the property tests take that path too).
const PARALLEL_CHANGES: usize = if cfg!(test) { 4 } else { 64 };

/// One trie of the parent state: the account trie or one storage trie.
pub(crate) trait TrieSource: Sync {
    /// Which trie this is, for errors.
    fn kind(&self) -> TrieKind;
    /// First stored node with path `>= path`.
    fn seek_node(&self, path: &Nibbles) -> TrieResult<Option<(Nibbles, StoredNode)>>;
    /// First leaf with key `>= key`, its value RLP-encoded.
    fn seek_leaf(&self, key: B256) -> TrieResult<Option<(B256, Vec<u8>)>>;
}

/// A changed key: the new value (RLP) or `None` to delete.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    /// The full 64-nibble key.
    pub(crate) key: Nibbles,
    /// The new value, or `None` for a deletion.
    pub(crate) value: Option<Vec<u8>>,
    /// The key is known to be in the parent state (the caller read it), so a
    /// leaf child holding only this change's key need not be read.
    pub(crate) existed: bool,
}

/// What the parent state holds below a path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Hint {
    /// Not known: look for a node, then for a leaf.
    Unknown,
    /// Nothing.
    Empty,
    /// Exactly one leaf.
    Leaf,
    /// A branch, possibly after an extension.
    Branch,
}

/// The parent state below a path, as read.
pub(crate) enum Old {
    /// No leaf.
    Empty,
    /// One leaf: its full key and RLP value.
    Leaf(Nibbles, Vec<u8>),
    /// A branch at this full path (at or below the path asked for).
    Branch(Nibbles, StoredNode),
}

/// The key of the first leaf at or after the keys below `prefix`.
fn seek_key(prefix: &Nibbles) -> B256 {
    let mut key = B256::ZERO;
    prefix.pack_to(key.as_mut_slice());
    key
}

/// Reads what the parent state holds below `path`.
pub(crate) fn open<S: TrieSource>(src: &S, path: &Nibbles, hint: Hint) -> TrieResult<Old> {
    let inconsistent = |reason| TrieError::Inconsistent { trie: src.kind(), path: *path, reason };
    if matches!(hint, Hint::Unknown | Hint::Branch) {
        match src.seek_node(path)? {
            Some((found, node)) if found.starts_with(path) => return Ok(Old::Branch(found, node)),
            _ if matches!(hint, Hint::Branch) => {
                return Err(inconsistent("tree mask names a child branch that is not stored"));
            }
            _ => {}
        }
    }
    if matches!(hint, Hint::Unknown | Hint::Leaf) {
        match src.seek_leaf(seek_key(path))? {
            Some((key, value)) if Nibbles::unpack(key).starts_with(path) => {
                return Ok(Old::Leaf(Nibbles::unpack(key), value));
            }
            _ if matches!(hint, Hint::Leaf) => {
                return Err(inconsistent("state mask names a leaf child that is not stored"));
            }
            _ => {}
        }
    }
    Ok(Old::Empty)
}

/// The whole parent subtree below `path` as one item.
pub(crate) fn open_item<S: TrieSource>(
    src: &S,
    path: &Nibbles,
    hint: Hint,
    buf: &mut Vec<u8>,
) -> TrieResult<Option<Item>> {
    Ok(match open(src, path, hint)? {
        Old::Empty => None,
        Old::Leaf(key, value) => Some(Item::Leaf { key, value }),
        Old::Branch(path, node) => Some(Item::Branch { path, rlp: node.rlp(buf) }),
    })
}

/// The new subtree below `path` after `changes` (sorted, distinct, all
/// starting with `path`); node writes and deletions are logged in `out`.
pub(crate) fn update<S: TrieSource>(
    src: &S,
    path: &Nibbles,
    hint: Hint,
    changes: &[Change],
    out: &mut NodeLog,
    buf: &mut Vec<u8>,
) -> TrieResult<Option<Item>> {
    if changes.is_empty() {
        return open_item(src, path, hint, buf);
    }
    if let (Hint::Leaf, [change]) = (hint, changes)
        && change.existed
    {
        // The one leaf below `path` is this existing key: it is replaced or deleted.
        return Ok(change.value.clone().map(|value| Item::Leaf { key: change.key, value }));
    }
    let depth = path.len();
    match open(src, path, hint)? {
        Old::Empty => Ok(build(&inserted(changes), depth, out, buf)),
        Old::Leaf(key, value) => {
            let mut items = inserted(changes);
            if changes.binary_search_by(|change| change.key.cmp(&key)).is_err() {
                let at = items.partition_point(|item| *item.path() < key);
                items.insert(at, Item::Leaf { key, value });
            }
            Ok(build(&items, depth, out, buf))
        }
        Old::Branch(branch_path, node) => {
            // Changes that leave the extension in front of the branch can only
            // insert new leaves beside it.
            let start = changes.partition_point(|change| change.key < branch_path);
            let end = start + changes[start..].partition_point(|change| change.key.starts_with(&branch_path));
            let below = if start == end {
                Some(Item::Branch { path: branch_path, rlp: node.rlp(buf) })
            } else {
                update_branch(src, branch_path, node, &changes[start..end], out, buf)?
            };
            let mut items = inserted(&changes[..start]);
            items.extend(below);
            items.extend(inserted(&changes[end..]));
            Ok(build(&items, depth, out, buf))
        }
    }
}

/// New leaves among `changes`, as items.
fn inserted(changes: &[Change]) -> Vec<Item> {
    changes
        .iter()
        .filter_map(|change| Some(Item::Leaf { key: change.key, value: change.value.clone()? }))
        .collect()
}

/// A child of an updated branch.
enum Child {
    /// Untouched: the parent's stored reference and tree bit.
    Kept { nibble: u8, rlp: alloy_trie::nodes::RlpNode, tree: bool },
    /// Recomputed.
    New { nibble: u8, item: Item },
}

/// The new subtree of the stored branch `node` at `path` after `changes`
/// (non-empty, all below `path`).
fn update_branch<S: TrieSource>(
    src: &S,
    path: Nibbles,
    node: StoredNode,
    changes: &[Change],
    out: &mut NodeLog,
    buf: &mut Vec<u8>,
) -> TrieResult<Option<Item>> {
    let depth = path.len();
    // The changes below each nibble, as contiguous runs.
    let mut groups: Vec<(u8, &[Change])> = Vec::new();
    let mut rest = changes;
    while let Some(head) = rest.first() {
        let nibble = head.key.get_unchecked(depth);
        let taken = rest.iter().take_while(|change| change.key.get_unchecked(depth) == nibble).count();
        let (group, tail) = rest.split_at(taken);
        groups.push((nibble, group));
        rest = tail;
    }
    let child_update = |nibble: u8, group: &[Change], out: &mut NodeLog, buf: &mut Vec<u8>| {
        let mut child_path = path;
        child_path.push_unchecked(nibble);
        let hint = if !node.state_mask.is_bit_set(nibble) {
            Hint::Empty
        } else if node.tree_mask.is_bit_set(nibble) {
            Hint::Branch
        } else {
            Hint::Leaf
        };
        update(src, &child_path, hint, group, out, buf)
    };
    let updated: Vec<(u8, Option<Item>)> = if changes.len() >= PARALLEL_CHANGES && groups.len() > 1 {
        let results = groups
            .par_iter()
            .map(|(nibble, group)| {
                let mut local = NodeLog::new();
                let item = child_update(*nibble, group, &mut local, &mut Vec::with_capacity(600))?;
                Ok((*nibble, item, local))
            })
            .collect::<TrieResult<Vec<_>>>()?;
        results
            .into_iter()
            .map(|(nibble, item, mut local)| {
                out.append(&mut local);
                (nibble, item)
            })
            .collect()
    } else {
        let mut updated = Vec::with_capacity(groups.len());
        for (nibble, group) in groups {
            updated.push((nibble, child_update(nibble, group, out, buf)?));
        }
        updated
    };

    // Merge untouched and updated children in nibble order.
    let mut children = Vec::with_capacity(16);
    let mut updated = updated.into_iter().peekable();
    for nibble in 0..16u8 {
        if let Some((_, item)) = updated.next_if(|(n, _)| *n == nibble) {
            children.extend(item.map(|item| Child::New { nibble, item }));
        } else if let Some(rlp) = node.child(nibble) {
            let tree = node.tree_mask.is_bit_set(nibble);
            children.push(Child::Kept { nibble, rlp: rlp.clone(), tree });
        }
    }

    match children.len() {
        0 => {
            out.push((path, None));
            Ok(None)
        }
        1 => {
            // The branch goes; its only child moves up.
            out.push((path, None));
            match children.pop() {
                Some(Child::New { item, .. }) => Ok(Some(item)),
                Some(Child::Kept { nibble, tree, .. }) => {
                    let mut child_path = path;
                    child_path.push_unchecked(nibble);
                    let hint = if tree { Hint::Branch } else { Hint::Leaf };
                    open_item(src, &child_path, hint, buf)
                }
                None => Ok(None),
            }
        }
        _ => {
            let mut state_mask = TrieMask::default();
            let mut tree_mask = TrieMask::default();
            let mut refs = Vec::with_capacity(children.len());
            for child in children {
                match child {
                    Child::Kept { nibble, rlp, tree } => {
                        state_mask.set_bit(nibble);
                        if tree {
                            tree_mask.set_bit(nibble);
                        }
                        refs.push(rlp);
                    }
                    Child::New { nibble, item } => {
                        state_mask.set_bit(nibble);
                        if item.is_branch() {
                            tree_mask.set_bit(nibble);
                        }
                        refs.push(node_ref(&item, depth + 1, buf));
                    }
                }
            }
            Ok(Some(branch_item(path, StoredNode { state_mask, tree_mask, children: refs }, out, buf)))
        }
    }
}
