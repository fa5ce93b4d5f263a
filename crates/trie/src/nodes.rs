//! A recursive trie builder for keys `HashBuilder` cannot take: keys that are
//! prefixes of other keys (their values live in branch nodes) or keys longer
//! than 32 bytes. It encodes each node straight to RLP from a sorted slice.

use alloy_primitives::{B256, keccak256};
use alloy_rlp::{Encodable, Header};
use alloy_trie::EMPTY_ROOT_HASH;

/// One leaf: the key as nibbles and the stored value.
struct Leaf<'a> {
    path: Vec<u8>,
    value: &'a [u8],
}

/// Root of the trie holding `sorted` (keys strictly increasing, values
/// non-empty).
pub(crate) fn root_of_sorted<K: AsRef<[u8]>, V: AsRef<[u8]>>(sorted: &[(K, V)]) -> B256 {
    if sorted.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    let leaves: Vec<Leaf<'_>> = sorted
        .iter()
        .map(|(key, value)| Leaf { path: to_nibbles(key.as_ref()), value: value.as_ref() })
        .collect();
    keccak256(encode_node(&leaves, 0))
}

fn to_nibbles(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().flat_map(|byte| [byte >> 4, byte & 0x0f]).collect()
}

/// RLP of the node covering `leaves`, all of which share their first `depth`
/// nibbles. `leaves` is sorted and non-empty.
fn encode_node(leaves: &[Leaf<'_>], depth: usize) -> Vec<u8> {
    let first = &leaves[0];
    if leaves.len() == 1 {
        let path = &first.path[depth..];
        return encode_list(&[&encode_bytes(&hex_prefix(path, true)), &encode_bytes(first.value)]);
    }
    // In sorted order the prefix shared by all keys is the one shared by the
    // first and the last.
    let last = &leaves[leaves.len() - 1];
    let shared = first.path[depth..].iter().zip(&last.path[depth..]).take_while(|(a, b)| a == b).count();
    if shared > 0 {
        let branch = encode_branch(leaves, depth + shared);
        let path = &first.path[depth..depth + shared];
        return encode_list(&[&encode_bytes(&hex_prefix(path, false)), &child_reference(branch)]);
    }
    encode_branch(leaves, depth)
}

/// RLP of a branch node at `depth`; a key that ends exactly there (at most
/// one, and first in sorted order) becomes the branch value.
fn encode_branch(leaves: &[Leaf<'_>], depth: usize) -> Vec<u8> {
    let (value, mut rest) = match leaves.first() {
        Some(leaf) if leaf.path.len() == depth => (leaf.value, &leaves[1..]),
        _ => (&[][..], leaves),
    };
    let mut items: Vec<Vec<u8>> = Vec::with_capacity(17);
    for nibble in 0..16u8 {
        let taken = rest.iter().take_while(|leaf| leaf.path[depth] == nibble).count();
        let (group, tail) = rest.split_at(taken);
        rest = tail;
        items.push(if group.is_empty() {
            encode_bytes(&[])
        } else {
            child_reference(encode_node(group, depth + 1))
        });
    }
    items.push(encode_bytes(value));
    let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
    encode_list(&refs)
}

/// How a parent refers to a child: the child's RLP itself when shorter than
/// 32 bytes, else the RLP string of its hash.
fn child_reference(node: Vec<u8>) -> Vec<u8> {
    if node.len() < 32 { node } else { encode_bytes(keccak256(&node).as_slice()) }
}

/// Hex-prefix (compact) encoding of a nibble path with the leaf flag.
fn hex_prefix(path: &[u8], leaf: bool) -> Vec<u8> {
    let flag = if leaf { 2 } else { 0 };
    let odd = path.len() % 2;
    let mut out = Vec::with_capacity(path.len() / 2 + 1);
    let rest = if odd == 1 {
        out.push(((flag + 1) << 4) | path[0]);
        &path[1..]
    } else {
        out.push(flag << 4);
        path
    };
    out.extend(rest.chunks_exact(2).map(|pair| (pair[0] << 4) | pair[1]));
    out
}

fn encode_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 9);
    bytes.encode(&mut out);
    out
}

/// Concatenates already-encoded items under a list header.
fn encode_list(items: &[&[u8]]) -> Vec<u8> {
    let payload_length = items.iter().map(|item| item.len()).sum();
    let mut out = Vec::with_capacity(payload_length + 9);
    Header { list: true, payload_length }.encode(&mut out);
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_prefix_examples() {
        // Examples from the Yellow Paper, appendix C.
        assert_eq!(hex_prefix(&[1, 2, 3, 4, 5], false), vec![0x11, 0x23, 0x45]);
        assert_eq!(hex_prefix(&[0, 1, 2, 3, 4, 5], false), vec![0x00, 0x01, 0x23, 0x45]);
        assert_eq!(hex_prefix(&[0, 15, 1, 12, 11, 8], true), vec![0x20, 0x0f, 0x1c, 0xb8]);
        assert_eq!(hex_prefix(&[15, 1, 12, 11, 8], true), vec![0x3f, 0x1c, 0xb8]);
    }

    #[test]
    fn agrees_with_hash_builder_on_prefix_free_keys() {
        let entries = [
            (b"doe".to_vec(), b"reindeer".to_vec()),
            (b"dog".to_vec(), b"puppy".to_vec()),
            (b"dogglesworth".to_vec(), b"cat".to_vec()),
        ];
        // "dog" is a prefix of "dogglesworth": only this builder handles it.
        let expected = "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3";
        assert_eq!(alloy_primitives::hex::encode(root_of_sorted(&entries)), expected);
        let free = [(b"doe".to_vec(), b"reindeer".to_vec()), (b"dot".to_vec(), b"x".to_vec())];
        assert_eq!(root_of_sorted(&free), crate::root::hash_sorted_leaves(free.clone()));
    }
}
