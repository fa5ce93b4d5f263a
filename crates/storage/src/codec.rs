//! Byte encodings of keys and values. Keys are fixed-size big-endian byte
//! strings (block numbers, addresses, slots, hashes concatenated), so that
//! redb's byte order is the order range scans need: all slots of an address
//! are contiguous, a history index scan from `(key, n)` finds the first change
//! after block `n`, a changeset scan from block `n` visits one block.
//!
//! Values are compact:
//! - account: `flags`, `balance_len`, nonce (minimal big-endian, its length
//!   in the high nibble of `flags`), balance (minimal big-endian), then the
//!   code hash if `flags & 1` (absent means `KECCAK_EMPTY`) and the storage
//!   root if `flags & 2` (absent means the empty trie root);
//! - storage value: minimal big-endian bytes, the empty string meaning zero;
//! - changeset account: the empty string for "did not exist", else an account.

use crate::{StoreError, StoreResult};
use alloy_primitives::{Address, B256, U256};
use mosaic_executor::AccountFields;
use mosaic_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY, TrieAccount};

/// An account as stored: its fields and its storage root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredAccount {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Code hash (`KECCAK_EMPTY` for none).
    pub code_hash: B256,
    /// Root of the account's storage trie (`EMPTY_ROOT_HASH` for none).
    pub storage_root: B256,
}

impl Default for StoredAccount {
    fn default() -> Self {
        Self { nonce: 0, balance: U256::ZERO, code_hash: KECCAK_EMPTY, storage_root: EMPTY_ROOT_HASH }
    }
}

impl StoredAccount {
    /// An account from its fields and storage root.
    pub const fn new(fields: &AccountFields, storage_root: B256) -> Self {
        Self { nonce: fields.nonce, balance: fields.balance, code_hash: fields.code_hash, storage_root }
    }

    /// The fields without the storage root.
    pub const fn fields(&self) -> AccountFields {
        AccountFields { nonce: self.nonce, balance: self.balance, code_hash: self.code_hash }
    }

    /// The state-trie leaf of this account.
    pub const fn trie_account(&self) -> TrieAccount {
        TrieAccount {
            nonce: self.nonce,
            balance: self.balance,
            storage_root: self.storage_root,
            code_hash: self.code_hash,
        }
    }

    /// The compact encoding (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let nonce = self.nonce.to_be_bytes();
        let nonce = trim(&nonce);
        let balance = self.balance.to_be_bytes::<32>();
        let balance = trim(&balance);
        let has_code = self.code_hash != KECCAK_EMPTY;
        let has_root = self.storage_root != EMPTY_ROOT_HASH;
        let mut flags = (nonce.len() as u8) << 4;
        flags |= u8::from(has_code) | (u8::from(has_root) << 1);
        let mut out = Vec::with_capacity(2 + nonce.len() + balance.len() + 64);
        out.push(flags);
        out.push(balance.len() as u8);
        out.extend_from_slice(nonce);
        out.extend_from_slice(balance);
        if has_code {
            out.extend_from_slice(self.code_hash.as_slice());
        }
        if has_root {
            out.extend_from_slice(self.storage_root.as_slice());
        }
        out
    }

    /// Decodes [`StoredAccount::encode`]'s output; `table` names the source
    /// in errors.
    pub fn decode(bytes: &[u8], table: &'static str) -> StoreResult<Self> {
        let bad = |reason: &str| StoreError::corrupt(table, format!("account: {reason}"));
        let [flags, balance_len, rest @ ..] = bytes else { return Err(bad("shorter than its header")) };
        let nonce_len = usize::from(flags >> 4);
        let balance_len = usize::from(*balance_len);
        if flags & 0b1100 != 0 || nonce_len > 8 || balance_len > 32 {
            return Err(bad("invalid header"));
        }
        let has_code = flags & 1 != 0;
        let has_root = flags & 2 != 0;
        let expected = nonce_len + balance_len + 32 * (usize::from(has_code) + usize::from(has_root));
        if rest.len() != expected {
            return Err(bad("length does not match its header"));
        }
        let (nonce, rest) = rest.split_at(nonce_len);
        let (balance, mut rest) = rest.split_at(balance_len);
        let mut nonce_bytes = [0u8; 8];
        nonce_bytes[8 - nonce_len..].copy_from_slice(nonce);
        let mut take_hash = |present: bool, default: B256| {
            if present {
                let (hash, tail) = rest.split_at(32);
                rest = tail;
                B256::from_slice(hash)
            } else {
                default
            }
        };
        let code_hash = take_hash(has_code, KECCAK_EMPTY);
        let storage_root = take_hash(has_root, EMPTY_ROOT_HASH);
        Ok(Self {
            nonce: u64::from_be_bytes(nonce_bytes),
            balance: U256::from_be_slice(balance),
            code_hash,
            storage_root,
        })
    }
}

/// Drops leading zero bytes.
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Encodes a storage value (the empty string for zero).
pub(crate) fn encode_value(value: U256) -> Vec<u8> {
    trim(&value.to_be_bytes::<32>()).to_vec()
}

/// Decodes [`encode_value`]'s output.
pub(crate) fn decode_value(bytes: &[u8], table: &'static str) -> StoreResult<U256> {
    if bytes.len() > 32 {
        return Err(StoreError::corrupt(table, format!("storage value of {} bytes", bytes.len())));
    }
    Ok(U256::from_be_slice(bytes))
}

/// Encodes a possibly absent account for a changeset.
pub(crate) fn encode_opt_account(account: Option<&StoredAccount>) -> Vec<u8> {
    account.map(StoredAccount::encode).unwrap_or_default()
}

/// Decodes [`encode_opt_account`]'s output.
pub(crate) fn decode_opt_account(bytes: &[u8], table: &'static str) -> StoreResult<Option<StoredAccount>> {
    if bytes.is_empty() { Ok(None) } else { StoredAccount::decode(bytes, table).map(Some) }
}

/// Concatenates fixed-size parts into a fixed-size key.
fn concat<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut key = [0u8; N];
    let mut at = 0;
    for part in parts {
        key[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    debug_assert_eq!(at, N, "key parts do not fill the key");
    key
}

/// `address ++ slot`.
pub(crate) fn storage_key(address: &Address, slot: &U256) -> [u8; 52] {
    concat(&[address.as_slice(), &slot.to_be_bytes::<32>()])
}

/// `hashed address ++ hashed slot`.
pub(crate) fn hashed_storage_key(hashed_address: &B256, hashed_slot: &B256) -> [u8; 64] {
    concat(&[hashed_address.as_slice(), hashed_slot.as_slice()])
}

/// `block ++ address`.
pub(crate) fn account_change_key(block: u64, address: &Address) -> [u8; 28] {
    concat(&[&block.to_be_bytes(), address.as_slice()])
}

/// `address ++ block`.
pub(crate) fn account_history_key(address: &Address, block: u64) -> [u8; 28] {
    concat(&[address.as_slice(), &block.to_be_bytes()])
}

/// `block ++ address ++ slot`.
pub(crate) fn storage_change_key(block: u64, address: &Address, slot: &U256) -> [u8; 60] {
    concat(&[&block.to_be_bytes(), address.as_slice(), &slot.to_be_bytes::<32>()])
}

/// `address ++ slot ++ block`.
pub(crate) fn storage_history_key(address: &Address, slot: &U256, block: u64) -> [u8; 60] {
    concat(&[address.as_slice(), &slot.to_be_bytes::<32>(), &block.to_be_bytes()])
}

/// `hashed address ++ block`.
pub(crate) fn hashed_account_history_key(hashed_address: &B256, block: u64) -> [u8; 40] {
    concat(&[hashed_address.as_slice(), &block.to_be_bytes()])
}

/// `hashed address ++ hashed slot ++ block`.
pub(crate) fn hashed_storage_history_key(hashed_address: &B256, hashed_slot: &B256, block: u64) -> [u8; 72] {
    concat(&[hashed_address.as_slice(), hashed_slot.as_slice(), &block.to_be_bytes()])
}

/// `block ++ key`: a trie node changeset key.
pub(crate) fn node_change_key(block: u64, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + key.len());
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// The history form of a trie node key (`raw` bytes of account prefix, then
/// one byte per nibble): the prefix, each nibble plus one, and a `0`
/// terminator (see `tables`).
pub(crate) fn node_history_prefix(key: &[u8], raw: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 9);
    let (prefix, nibbles) = key.split_at(raw.min(key.len()));
    out.extend_from_slice(prefix);
    out.extend(nibbles.iter().map(|nibble| nibble + 1));
    out.push(0);
    out
}

/// [`node_history_prefix`] followed by the block.
pub(crate) fn node_history_key(key: &[u8], raw: usize, block: u64) -> Vec<u8> {
    let mut out = node_history_prefix(key, raw);
    out.extend_from_slice(&block.to_be_bytes());
    out
}

/// The node key of a history entry ([`node_history_key`]'s inverse), `None`
/// if the entry is malformed.
pub(crate) fn node_key_from_history(entry: &[u8], raw: usize) -> Option<Vec<u8>> {
    let body = entry.len().checked_sub(9).and_then(|len| entry.get(..len))?;
    if entry.get(body.len()) != Some(&0) || body.len() < raw {
        return None;
    }
    let (prefix, nibbles) = body.split_at(raw);
    let mut out = Vec::with_capacity(body.len());
    out.extend_from_slice(prefix);
    for byte in nibbles {
        out.push(byte.checked_sub(1).filter(|nibble| *nibble < 16)?);
    }
    Some(out)
}

/// The block number in the last 8 bytes of a history key.
pub(crate) fn block_suffix(key: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&key[key.len() - 8..]);
    u64::from_be_bytes(bytes)
}

/// The address and slot of a storage changeset key (`block ++ address ++ slot`).
pub(crate) fn split_storage_change_key(key: &[u8; 60]) -> (Address, U256) {
    (Address::from_slice(&key[8..28]), U256::from_be_slice(&key[28..60]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_round_trips_and_is_compact() {
        let cases = [
            StoredAccount::default(),
            StoredAccount { nonce: 1, balance: U256::from(1), ..Default::default() },
            StoredAccount {
                nonce: u64::MAX,
                balance: U256::MAX,
                code_hash: B256::repeat_byte(7),
                storage_root: B256::repeat_byte(9),
            },
            StoredAccount { nonce: 256, storage_root: B256::repeat_byte(1), ..Default::default() },
        ];
        for account in cases {
            let bytes = account.encode();
            assert_eq!(StoredAccount::decode(&bytes, "t").expect("decodes"), account);
        }
        assert_eq!(StoredAccount::default().encode(), vec![0, 0]);
        assert_eq!(
            StoredAccount { nonce: 1, balance: U256::from(256), ..Default::default() }.encode(),
            vec![0x10, 2, 1, 1, 0]
        );
    }

    #[test]
    fn bad_accounts_are_errors() {
        for bytes in [&[][..], &[0], &[0x90, 0], &[0, 33], &[0x10, 0], &[0, 0, 1], &[4, 0], &[1, 0, 0]] {
            assert!(StoredAccount::decode(bytes, "t").is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn values_and_keys() {
        assert!(encode_value(U256::ZERO).is_empty());
        assert_eq!(encode_value(U256::from(0x1234)), vec![0x12, 0x34]);
        assert_eq!(decode_value(&[0x12, 0x34], "t").expect("decodes"), U256::from(0x1234));
        assert!(decode_value(&[1; 33], "t").is_err());
        let address = Address::repeat_byte(0xaa);
        let key = storage_history_key(&address, &U256::from(5), 0x0102);
        assert_eq!(block_suffix(&key), 0x0102);
        let change = storage_change_key(9, &address, &U256::from(5));
        assert_eq!(split_storage_change_key(&change), (address, U256::from(5)));
        assert!(account_history_key(&address, 1) < account_history_key(&address, 256));
    }

    #[test]
    fn node_history_keys_keep_path_order_and_round_trip() {
        let paths: [&[u8]; 6] = [&[], &[0], &[0, 0], &[0, 15], &[1], &[15, 15, 15]];
        for raw in [0usize, 32] {
            let prefix = vec![0xabu8; raw];
            let mut last: Option<Vec<u8>> = None;
            for path in paths {
                let key = [prefix.as_slice(), path].concat();
                for block in [0u64, 1, 0x0100, u64::MAX] {
                    let entry = node_history_key(&key, raw, block);
                    assert_eq!(node_key_from_history(&entry, raw), Some(key.clone()));
                    assert_eq!(block_suffix(&entry), block);
                    // Every entry of a path sorts after all entries of the paths before it.
                    if let Some(last) = &last {
                        assert!(*last < entry, "{path:?} at {block}");
                    }
                }
                last = Some(node_history_key(&key, raw, u64::MAX));
            }
        }
        assert_eq!(node_key_from_history(&[1, 1, 0, 0, 0, 0, 0, 0, 0], 0), None);
        assert_eq!(node_key_from_history(&[17, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0), None);
        assert_eq!(node_key_from_history(&[0; 5], 0), None);
    }
}
