//! The chain: block validation and import, block building, the transaction
//! pool and the sequencer.
//!
//! [`validate_header`] checks a header against its parent under the chain's
//! fork rules (number, timestamps, gas limit bounds, EIP-1559 base fee,
//! EIP-4844 blob gas, post-merge constants, fork-specific fields);
//! [`verify_block`] adds the body, parallel sender recovery, execution and
//! every commitment but the state root, whatever holds the state.
//! [`MemoryChain`] imports on top of a state held in memory;
//! [`StoredChain`] imports into the redb store (`mosaic-storage`), checking
//! each state root incrementally and committing each block atomically, with
//! execution of the next block overlapping the commit of the last
//! ([`StoredChain::import_pipelined`]). [`build_block`] turns an ordered list
//! of transactions into a sealed block; [`TxPool`] admits transactions with
//! geth's rules; [`Sequencer`] ties pool, builder and store together.

mod builder;
mod dev;
mod error;
mod genesis;
mod import;
mod pending;
mod pool;
mod receipts;
mod rlp_file;
mod root;
mod sequencer;
mod stored;
mod txs;
mod validation;
mod verify;

pub use builder::{BlockAttributes, BuiltBlock, Skipped, build_block};
pub use dev::{DEV_ACCOUNTS, DEV_BALANCE, DEV_CHAIN_ID, dev_genesis, dev_genesis_json};
pub use error::{BlockError, ImportError};
pub use genesis::{genesis_header, genesis_state};
pub use import::{ImportedBlock, MemoryChain};
pub use pending::{PendingState, merge_diff};
pub use pool::{
    BestTransactions, BlobTxError, FundsShortfall, PoolConfig, PoolContent, PoolError, PoolHead, PoolStatus,
    PoolUpdate, PooledTx, RPC_CODE_INTERNAL_ERROR, RPC_CODE_SERVER_ERROR, RemovalReason, SenderContent,
    TxPool,
};
pub use receipts::block_receipts;
pub use rlp_file::{BlockFileError, FileBlock, RlpBlocks, write_block};
pub use root::{state_root, storage_root_of};
pub use sequencer::{Produced, Sequencer};
pub use stored::{Committed, ExportError, ImportFailure, ImportStats, StoredChain};
pub use txs::{recover_senders, tx_rules};
pub use validation::{expected_base_fee, expected_excess_blob_gas, validate_body, validate_header};
pub use verify::{VerifiedBlock, verify_block};
