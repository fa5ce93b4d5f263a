//! Receipts as the block commits to them.
//!
//! From Byzantium on (EIP-658) a receipt carries the transaction's status,
//! which the executor fills in. Before it, a receipt carries the state root
//! after its transaction instead: [`block_receipts`] then replays the block
//! one transaction at a time on a [`PendingState`] and asks the caller for
//! the root of each intermediate state (the caller knows how the state is
//! stored and merklized). Block rewards are not part of those roots.

use crate::{BlockError, PendingState};
use alloy_consensus::{Eip658Value, ReceiptEnvelope, ReceiptWithBloom};
use alloy_primitives::B256;
use mosaic_executor::{
    BlockContext, BlockOutput, Engine, ExecOptions, ExecTx, StateDiff, StateProvider, execute_block,
};
use mosaic_primitives::{ChainSpec, Hardfork};

/// The receipts of an executed block. `root_after` gets the diff of the
/// transactions so far (relative to `parent`) and returns the state root it
/// leads to; it is only called for blocks before Byzantium.
pub fn block_receipts<S: StateProvider>(
    spec: &ChainSpec,
    ctx: &BlockContext,
    txs: &[ExecTx],
    parent: S,
    output: &BlockOutput,
    mut root_after: impl FnMut(&StateDiff) -> B256,
) -> Result<Vec<ReceiptEnvelope>, BlockError> {
    let receipts = output.receipts().cloned();
    if spec.is_active(Hardfork::Byzantium, ctx.number, ctx.timestamp) || txs.is_empty() {
        return Ok(receipts.collect());
    }
    let options = ExecOptions { engine: Engine::Sequential, transactions_only: true, ..Default::default() };
    let mut state = PendingState::new(parent);
    let mut roots = Vec::with_capacity(txs.len());
    for tx in txs {
        let one = execute_block(spec, ctx, std::slice::from_ref(tx), &state, &options)?;
        state.push(&one.diff);
        roots.push(root_after(state.diff()));
    }
    Ok(receipts.zip(roots).map(|(receipt, root)| with_state_root(receipt, root)).collect())
}

/// Replaces a receipt's status with a post-state root.
fn with_state_root(receipt: ReceiptEnvelope, root: B256) -> ReceiptEnvelope {
    let set = |mut r: ReceiptWithBloom| {
        r.receipt.status = Eip658Value::PostState(root);
        r
    };
    match receipt {
        ReceiptEnvelope::Legacy(r) => ReceiptEnvelope::Legacy(set(r)),
        ReceiptEnvelope::Eip2930(r) => ReceiptEnvelope::Eip2930(set(r)),
        ReceiptEnvelope::Eip1559(r) => ReceiptEnvelope::Eip1559(set(r)),
        ReceiptEnvelope::Eip4844(r) => ReceiptEnvelope::Eip4844(set(r)),
        ReceiptEnvelope::Eip7702(r) => ReceiptEnvelope::Eip7702(set(r)),
    }
}
