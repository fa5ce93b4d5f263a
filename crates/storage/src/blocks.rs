//! Block data: headers, bodies, receipts, the canonical chain and the
//! transaction index. Headers and bodies are stored as their RLP, receipts as
//! the RLP list of their network encodings; reads decode them with alloy.

use crate::{
    Snapshot, StoreError, StoreResult,
    tables::{BLOCK_NUMBERS, BODIES, CANONICAL, HEADERS, RECEIPTS, TX_LOOKUP},
};
use alloy_consensus::{Block, BlockBody, Header, ReceiptEnvelope, TxEnvelope};
use alloy_primitives::B256;
use alloy_rlp::Decodable;
use redb::WriteTransaction;

/// A block's transactions in their network form.
pub type Body = BlockBody<TxEnvelope>;

/// Where a transaction sits in the canonical chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Number of the block holding it.
    pub block_number: u64,
    /// Hash of that block.
    pub block_hash: B256,
    /// Position in the block.
    pub index: u32,
}

fn decode<T: Decodable>(bytes: &[u8], table: &'static str) -> StoreResult<T> {
    let mut slice = bytes;
    let value = T::decode(&mut slice).map_err(|e| StoreError::corrupt(table, e.to_string()))?;
    if !slice.is_empty() {
        return Err(StoreError::corrupt(table, "trailing bytes after RLP"));
    }
    Ok(value)
}

/// Writes a block's header, body, receipts, hash/number mappings and
/// transaction index, making it canonical at its number.
pub(crate) fn write_block(
    txn: &WriteTransaction,
    block: &Block<TxEnvelope>,
    hash: B256,
    receipts: &[ReceiptEnvelope],
) -> StoreResult<()> {
    let number = block.header.number;
    txn.open_table(HEADERS)?.insert(&hash.0, alloy_rlp::encode(&block.header).as_slice())?;
    txn.open_table(BODIES)?.insert(&hash.0, alloy_rlp::encode(&block.body).as_slice())?;
    let mut encoded = Vec::new();
    alloy_rlp::encode_list(receipts, &mut encoded);
    txn.open_table(RECEIPTS)?.insert(&hash.0, encoded.as_slice())?;
    txn.open_table(BLOCK_NUMBERS)?.insert(&hash.0, number)?;
    txn.open_table(CANONICAL)?.insert(number, &hash.0)?;
    let mut lookup = txn.open_table(TX_LOOKUP)?;
    for (index, tx) in block.body.transactions.iter().enumerate() {
        let index = u32::try_from(index).map_err(|_| StoreError::corrupt("tx_lookup", "index over u32"))?;
        lookup.insert(&tx.tx_hash().0, (number, index))?;
    }
    Ok(())
}

/// Deletes the canonical block at `number` and everything stored for it.
pub(crate) fn delete_block(txn: &WriteTransaction, number: u64) -> StoreResult<()> {
    let Some(hash) = txn.open_table(CANONICAL)?.remove(number)?.map(|h| *h.value()) else {
        return Err(StoreError::MissingBlock(number));
    };
    let body = txn.open_table(BODIES)?.remove(&hash)?.map(|b| b.value().to_vec());
    if let Some(body) = body {
        let body: Body = decode(&body, "bodies")?;
        let mut lookup = txn.open_table(TX_LOOKUP)?;
        for tx in &body.transactions {
            lookup.remove(&tx.tx_hash().0)?;
        }
    }
    txn.open_table(HEADERS)?.remove(&hash)?;
    txn.open_table(RECEIPTS)?.remove(&hash)?;
    txn.open_table(BLOCK_NUMBERS)?.remove(&hash)?;
    Ok(())
}

impl Snapshot {
    /// Header by block hash.
    pub fn header(&self, hash: B256) -> StoreResult<Option<Header>> {
        self.headers.get(&hash.0)?.map(|bytes| decode(bytes.value(), "headers")).transpose()
    }

    /// Canonical header by number.
    pub fn header_by_number(&self, number: u64) -> StoreResult<Option<Header>> {
        match self.block_hash(number)? {
            Some(hash) => self.header(hash),
            None => Ok(None),
        }
    }

    /// Number of a stored block.
    pub fn block_number(&self, hash: B256) -> StoreResult<Option<u64>> {
        Ok(self.block_numbers.get(&hash.0)?.map(|n| n.value()))
    }

    /// Body (transactions, ommers, withdrawals) by block hash.
    pub fn body(&self, hash: B256) -> StoreResult<Option<Body>> {
        self.bodies.get(&hash.0)?.map(|bytes| decode(bytes.value(), "bodies")).transpose()
    }

    /// Whole block by hash.
    pub fn block(&self, hash: B256) -> StoreResult<Option<Block<TxEnvelope>>> {
        let (Some(header), Some(body)) = (self.header(hash)?, self.body(hash)?) else { return Ok(None) };
        Ok(Some(Block { header, body }))
    }

    /// Canonical block by number.
    pub fn block_by_number(&self, number: u64) -> StoreResult<Option<Block<TxEnvelope>>> {
        match self.block_hash(number)? {
            Some(hash) => self.block(hash),
            None => Ok(None),
        }
    }

    /// Receipts of a block, in transaction order.
    pub fn receipts(&self, hash: B256) -> StoreResult<Option<Vec<ReceiptEnvelope>>> {
        self.receipts.get(&hash.0)?.map(|bytes| decode(bytes.value(), "receipts")).transpose()
    }

    /// Where a canonical transaction is.
    pub fn transaction_location(&self, tx_hash: B256) -> StoreResult<Option<TxLocation>> {
        let Some(entry) = self.tx_lookup.get(&tx_hash.0)? else { return Ok(None) };
        let (block_number, index) = entry.value();
        let Some(block_hash) = self.block_hash(block_number)? else {
            return Err(StoreError::corrupt("tx_lookup", format!("{tx_hash} points to missing block")));
        };
        Ok(Some(TxLocation { block_number, block_hash, index }))
    }

    /// A canonical transaction, its location and its receipt.
    pub fn transaction(
        &self,
        tx_hash: B256,
    ) -> StoreResult<Option<(TxEnvelope, TxLocation, Option<ReceiptEnvelope>)>> {
        let Some(location) = self.transaction_location(tx_hash)? else { return Ok(None) };
        let missing = || StoreError::corrupt("bodies", format!("transaction {tx_hash} not in its block"));
        let body = self.body(location.block_hash)?.ok_or_else(missing)?;
        let index = location.index as usize;
        let tx = body.transactions.into_iter().nth(index).ok_or_else(missing)?;
        let receipt = self.receipts(location.block_hash)?.and_then(|r| r.into_iter().nth(index));
        Ok(Some((tx, location, receipt)))
    }
}
