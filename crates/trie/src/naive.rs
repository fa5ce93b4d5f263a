//! A deliberately simple Merkle Patricia trie, used only as a reference in
//! tests. It builds an explicit node tree from the sorted key/value pairs,
//! encodes it with its own RLP writer, and shares no code with the real
//! builders.

use std::collections::BTreeMap;

use alloy_primitives::{B256, keccak256};

/// A node of the reference trie. Paths are in nibbles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// The end of a key: the remaining path and the value.
    Leaf(Vec<u8>, Vec<u8>),
    /// A path shared by every key below, then one child.
    Extension(Vec<u8>, Box<Node>),
    /// Sixteen children by next nibble, and the value of a key ending here.
    Branch(Box<[Option<Node>; 16]>, Option<Vec<u8>>),
}

/// Root hash of the trie holding `entries` (raw keys): later duplicates win,
/// empty values mean "absent", no entries give the empty root.
pub fn trie_root<I>(entries: I) -> B256
where
    I: IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
{
    let map: BTreeMap<Vec<u8>, Vec<u8>> = entries.into_iter().collect();
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = map
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (nibbles(&key), value))
        .collect();
    match build(&pairs) {
        // The empty trie is the hash of the RLP empty string.
        None => keccak256([0x80]),
        Some(node) => keccak256(encode(&node)),
    }
}

/// Builds the node covering `pairs` (nibble keys, sorted, distinct).
pub fn build(pairs: &[(Vec<u8>, Vec<u8>)]) -> Option<Node> {
    match pairs {
        [] => None,
        [(key, value)] => Some(Node::Leaf(key.clone(), value.clone())),
        _ => {
            let common = common_prefix(pairs);
            if common > 0 {
                let rest: Vec<(Vec<u8>, Vec<u8>)> =
                    pairs.iter().map(|(k, v)| (k[common..].to_vec(), v.clone())).collect();
                let child = build(&rest)?;
                return Some(Node::Extension(pairs[0].0[..common].to_vec(), Box::new(child)));
            }
            let mut value = None;
            let mut groups: [Vec<(Vec<u8>, Vec<u8>)>; 16] = Default::default();
            for (key, val) in pairs {
                match key.split_first() {
                    None => value = Some(val.clone()),
                    Some((nibble, rest)) => {
                        groups[usize::from(*nibble)].push((rest.to_vec(), val.clone()));
                    }
                }
            }
            let children = groups.map(|group| build(&group));
            Some(Node::Branch(Box::new(children), value))
        }
    }
}

/// Length of the nibble prefix shared by every key.
fn common_prefix(pairs: &[(Vec<u8>, Vec<u8>)]) -> usize {
    let first = &pairs[0].0;
    let mut len = first.len();
    for (key, _) in pairs {
        len = len.min(first.iter().zip(key).take_while(|(a, b)| a == b).count());
    }
    len
}

fn nibbles(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for byte in key {
        out.push(byte / 16);
        out.push(byte % 16);
    }
    out
}

/// The RLP encoding of a node.
pub fn encode(node: &Node) -> Vec<u8> {
    match node {
        Node::Leaf(path, value) => rlp_list(&[rlp_string(&compact(path, true)), rlp_string(value)]),
        Node::Extension(path, child) => rlp_list(&[rlp_string(&compact(path, false)), reference(child)]),
        Node::Branch(children, value) => {
            let mut items: Vec<Vec<u8>> = children
                .iter()
                .map(|child| match child {
                    Some(child) => reference(child),
                    None => rlp_string(&[]),
                })
                .collect();
            items.push(rlp_string(value.as_deref().unwrap_or_default()));
            rlp_list(&items)
        }
    }
}

/// Inline a child whose encoding is under 32 bytes, else refer to its hash.
fn reference(node: &Node) -> Vec<u8> {
    let encoded = encode(node);
    if encoded.len() < 32 { encoded } else { rlp_string(keccak256(&encoded).as_slice()) }
}

/// Hex-prefix encoding, written from the Yellow Paper's definition.
fn compact(path: &[u8], leaf: bool) -> Vec<u8> {
    let mut nibs = Vec::new();
    let flag = if leaf { 2 } else { 0 };
    if path.len() % 2 == 1 {
        nibs.push(flag + 1);
    } else {
        nibs.push(flag);
        nibs.push(0);
    }
    nibs.extend_from_slice(path);
    nibs.chunks(2).map(|pair| pair[0] * 16 + pair[1]).collect()
}

fn rlp_string(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() == 1 && bytes[0] < 0x80 {
        return bytes.to_vec();
    }
    let mut out = rlp_length(bytes.len(), 0x80);
    out.extend_from_slice(bytes);
    out
}

fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload: Vec<u8> = items.concat();
    let mut out = rlp_length(payload.len(), 0xc0);
    out.extend(payload);
    out
}

fn rlp_length(len: usize, offset: u8) -> Vec<u8> {
    if len < 56 {
        // `len < 56`, so it fits in the prefix byte.
        return vec![offset + len as u8];
    }
    let be = len.to_be_bytes();
    let skip = be.iter().take_while(|b| **b == 0).count();
    let mut out = vec![offset + 55 + (be.len() - skip) as u8];
    out.extend_from_slice(&be[skip..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root() {
        assert_eq!(trie_root(Vec::new()), alloy_trie::EMPTY_ROOT_HASH);
    }

    #[test]
    fn known_root() {
        // "puppy" from the ethereum-tests trieanyorder.json.
        let entries = [("do", "verb"), ("horse", "stallion"), ("doge", "coin"), ("dog", "puppy")]
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()));
        let expected = "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84";
        assert_eq!(alloy_primitives::hex::encode(trie_root(entries)), expected);
    }
}
