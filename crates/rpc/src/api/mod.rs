//! The methods. [`Api`] holds what they read (store, pool, chain spec) and
//! the helpers they share: a consistent snapshot per call, block selectors
//! resolved against it, and the state after a block. Each submodule is one
//! group of methods; [`methods`] lists them all with how they are run.

pub(crate) mod blocks;
mod cache;
pub(crate) mod call;
pub(crate) mod chain;
pub(crate) mod debug;
pub(crate) mod fees;
pub(crate) mod logs;
pub(crate) mod pool;
pub(crate) mod state;
pub(crate) mod trace;
pub(crate) mod txs;

use crate::{
    RpcConfig, RpcContext,
    error::{ApiError, ApiResult},
    params::{BlockId, BlockTag},
};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use jsonrpsee::types::Params;
use mosaic_executor::{AccountInfo, Bytecode, StateError, StateProvider};
use mosaic_storage::{BlockRef, HistoricalState, LatestState, Snapshot};
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::Arc;

pub(crate) use cache::{BlockCache, CachedBlock};

/// A serialized answer.
pub(crate) type Json = Box<RawValue>;

/// Serializes an answer.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> ApiResult<Json> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| ApiError::internal(format!("encoding the answer: {e}")))
}

/// A method: its arguments in, its answer out.
pub(crate) type Method = fn(&Api, &Params<'_>) -> ApiResult<Json>;

/// How a method is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A few reads: on the async worker.
    Quick,
    /// Many reads or decoding: on the blocking pool.
    Blocking,
    /// Execution, proofs, log scans: on the blocking pool, then the bounded
    /// execution thread pool.
    Heavy,
}

/// Every method with its name and kind.
pub(crate) fn methods() -> Vec<(&'static str, Kind, Method)> {
    let mut all = Vec::new();
    all.extend(chain::METHODS);
    all.extend(state::METHODS);
    all.extend(blocks::METHODS);
    all.extend(txs::METHODS);
    all.extend(logs::METHODS);
    all.extend(fees::METHODS);
    all.extend(call::METHODS);
    all.extend(pool::METHODS);
    all.extend(debug::METHODS);
    all.extend(trace::METHODS);
    all
}

/// The state after some block: the head's flat tables or the history.
#[derive(Debug, Clone)]
pub(crate) enum BlockState {
    /// At the head.
    Latest(LatestState),
    /// At a past block.
    Historical(HistoricalState),
}

impl StateProvider for BlockState {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        match self {
            Self::Latest(s) => s.account(address),
            Self::Historical(s) => s.account(address),
        }
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        match self {
            Self::Latest(s) => s.storage(address, slot),
            Self::Historical(s) => s.storage(address, slot),
        }
    }
    fn code_by_hash(&self, hash: B256) -> Result<Bytecode, StateError> {
        match self {
            Self::Latest(s) => s.code_by_hash(hash),
            Self::Historical(s) => s.code_by_hash(hash),
        }
    }
    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        match self {
            Self::Latest(s) => s.block_hash(number),
            Self::Historical(s) => s.block_hash(number),
        }
    }
}

/// A block's header and the state after it.
pub(crate) struct StateAt {
    /// The header.
    pub header: Header,
    /// The state after the block.
    pub state: BlockState,
}

/// What the methods read, shared by all requests.
pub(crate) struct Api {
    pub(crate) ctx: RpcContext,
    pub(crate) config: RpcConfig,
    /// Recently decoded blocks.
    pub(crate) blocks: BlockCache,
    exec: rayon::ThreadPool,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Api {
    /// The API over `ctx` with `config`.
    pub(crate) fn new(ctx: RpcContext, config: RpcConfig) -> Result<Self, crate::RpcError> {
        let exec = rayon::ThreadPoolBuilder::new()
            .num_threads(config.exec_threads)
            .thread_name(|i| format!("rpc-exec-{i}"))
            .build()
            .map_err(|e| crate::RpcError::Config(format!("execution threads: {e}")))?;
        Ok(Self { ctx, config, blocks: BlockCache::default(), exec })
    }

    /// Runs CPU-heavy work on the bounded execution pool.
    pub(crate) fn heavy<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        self.exec.install(work)
    }

    /// A consistent read view.
    pub(crate) fn snapshot(&self) -> ApiResult<Snapshot> {
        Ok(self.ctx.store.snapshot()?)
    }

    /// The number a tag stands for.
    pub(crate) fn tag_number(snapshot: &Snapshot, tag: BlockTag) -> ApiResult<u64> {
        Ok(match tag {
            BlockTag::Earliest => 0,
            BlockTag::Number(n) => n,
            BlockTag::Latest | BlockTag::Pending | BlockTag::Safe | BlockTag::Finalized => {
                snapshot.require_head()?.number
            }
        })
    }

    /// The block `id` names, `None` if there is none.
    pub(crate) fn resolve(snapshot: &Snapshot, id: BlockId) -> ApiResult<Option<BlockRef>> {
        Ok(match id {
            BlockId::Tag(tag) => {
                let number = Self::tag_number(snapshot, tag)?;
                snapshot.block_hash(number)?.map(|hash| BlockRef { number, hash })
            }
            BlockId::Hash { hash, .. } => {
                snapshot.block_number(hash)?.map(|number| BlockRef { number, hash })
            }
        })
    }

    /// The block `id` names, or geth's "not found" error.
    pub(crate) fn require(snapshot: &Snapshot, id: BlockId) -> ApiResult<BlockRef> {
        Self::resolve(snapshot, id)?.ok_or_else(|| match id {
            BlockId::Hash { .. } => ApiError::hash_not_found(),
            BlockId::Tag(_) => ApiError::header_not_found(),
        })
    }

    /// The decoded block `id` names, `None` if there is none.
    pub(crate) fn block(&self, snapshot: &Snapshot, id: BlockId) -> ApiResult<Option<Arc<CachedBlock>>> {
        match Self::resolve(snapshot, id)? {
            Some(block) => self.blocks.get(snapshot, block),
            None => Ok(None),
        }
    }

    /// The header of `block`.
    pub(crate) fn header(snapshot: &Snapshot, block: BlockRef) -> ApiResult<Header> {
        snapshot
            .header(block.hash)?
            .ok_or_else(|| ApiError::internal(format!("header of block {} missing", block.number)))
    }

    /// The state after the block `id` names.
    pub(crate) fn state_at(&self, id: BlockId) -> ApiResult<StateAt> {
        let snapshot = Arc::new(self.snapshot()?);
        let block = Self::require(&snapshot, id)?;
        let header = Self::header(&snapshot, block)?;
        let head = snapshot.require_head()?;
        let state = if block.number == head.number {
            BlockState::Latest(LatestState::new(Arc::clone(&snapshot)))
        } else {
            BlockState::Historical(HistoricalState::new(Arc::clone(&snapshot), block.number)?)
        };
        Ok(StateAt { header, state })
    }
}
