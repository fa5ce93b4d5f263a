//! Block files: RLP-encoded blocks written back to back, the format of geth's
//! `export`/`import` and of the rpc-compat `chain.rlp`.
//!
//! [`RlpBlocks`] walks such a buffer one block at a time without decoding
//! more than it yields, so a file that is truncated or corrupt in the middle
//! still yields every block before the damage and then one error naming the
//! byte offset and what was wrong.

use alloy_consensus::{Block, TxEnvelope};
use alloy_rlp::{Decodable, Encodable, Header as RlpHeader};

/// A block of a block file.
pub type FileBlock = Block<TxEnvelope>;

/// Why a block file could not be read further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("block file damaged at byte {offset} (entry {} of the file): {reason}", index + 1)]
pub struct BlockFileError {
    /// Byte offset of the entry that failed.
    pub offset: usize,
    /// Position of the entry among the file's blocks (0-based; messages
    /// count from 1).
    pub index: usize,
    /// What was wrong.
    pub reason: String,
}

/// Iterator over the blocks of a block file. Stops after the first error.
#[derive(Debug)]
pub struct RlpBlocks<'a> {
    data: &'a [u8],
    offset: usize,
    index: usize,
    failed: bool,
}

impl<'a> RlpBlocks<'a> {
    /// Reads blocks from `data`.
    pub const fn new(data: &'a [u8]) -> Self {
        Self { data, offset: 0, index: 0, failed: false }
    }

    /// Byte offset of the next entry.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    fn next_block(&mut self) -> Result<(FileBlock, &'a [u8]), String> {
        let rest = &self.data[self.offset..];
        let mut probe = rest;
        let header = RlpHeader::decode(&mut probe).map_err(|e| match e {
            alloy_rlp::Error::InputTooShort => format!("truncated: {} bytes left in the file", rest.len()),
            e => format!("bad RLP header: {e}"),
        })?;
        if !header.list {
            return Err("entry is an RLP string, expected a block (list)".into());
        }
        let len = rest.len() - probe.len() + header.payload_length;
        if len > rest.len() {
            return Err(format!("truncated: block needs {len} bytes, {} left in the file", rest.len()));
        }
        let raw = &rest[..len];
        let mut input = raw;
        let block = FileBlock::decode(&mut input).map_err(|e| format!("malformed block: {e}"))?;
        if !input.is_empty() {
            return Err(format!("{} bytes inside the block's list were not used", input.len()));
        }
        Ok((block, raw))
    }
}

impl<'a> Iterator for RlpBlocks<'a> {
    /// The block and its raw bytes.
    type Item = Result<(FileBlock, &'a [u8]), BlockFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.data.len() {
            return None;
        }
        match self.next_block() {
            Ok((block, raw)) => {
                self.offset += raw.len();
                self.index += 1;
                Some(Ok((block, raw)))
            }
            Err(reason) => {
                self.failed = true;
                Some(Err(BlockFileError { offset: self.offset, index: self.index, reason }))
            }
        }
    }
}

/// Appends `block` to a block file buffer.
pub fn write_block(out: &mut Vec<u8>, block: &FileBlock) {
    block.encode(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{BlockBody, Header};

    fn block(number: u64) -> FileBlock {
        Block {
            header: Header { number, gas_limit: 30_000_000, ..Default::default() },
            body: BlockBody::default(),
        }
    }

    #[test]
    fn round_trip_and_damage() {
        let mut file = Vec::new();
        for n in 0..3 {
            write_block(&mut file, &block(n));
        }
        let numbers: Vec<u64> =
            RlpBlocks::new(&file).map(|b| b.map(|(b, _)| b.header.number)).collect::<Result<_, _>>().unwrap();
        assert_eq!(numbers, [0, 1, 2]);

        let cut = file.len() - 5;
        let results: Vec<_> = RlpBlocks::new(&file[..cut]).collect();
        assert_eq!(results.len(), 3);
        assert!(results[..2].iter().all(Result::is_ok));
        let err = results[2].as_ref().unwrap_err();
        assert_eq!(err.index, 2);
        assert!(err.reason.starts_with("truncated"), "{err}");

        let mut garbage = file.clone();
        garbage.extend_from_slice(&[0x83, 1, 2, 3]);
        let err = RlpBlocks::new(&garbage).last().unwrap().unwrap_err();
        assert_eq!(err.index, 3);
        assert!(err.reason.contains("string"), "{err}");
    }
}
