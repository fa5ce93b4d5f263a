//! Full verification of a block on top of its parent, whatever holds the
//! state: header and body rules, sender recovery, execution, and every
//! commitment of the header except the state root (which the caller checks
//! where it merklizes: in memory, or in the store's write transaction).

use crate::{BlockError, block_receipts, recover_senders, validate_body, validate_header};
use alloy_consensus::{
    Block, Header, ReceiptEnvelope, TxEnvelope, TxReceipt, proofs::calculate_receipt_root,
};
use alloy_primitives::{Address, B256, Bloom};
use mosaic_executor::{
    BlockContext, BlockOutput, Engine, ExecOptions, ExecTx, StateDiff, StateProvider, execute_block,
};
use mosaic_primitives::ChainSpec;

/// A block that passed every check but the state root.
#[derive(Debug, Clone)]
pub struct VerifiedBlock {
    /// What execution produced (outcomes, diff, requests, parallel stats).
    pub output: BlockOutput,
    /// The receipts the block commits to.
    pub receipts: Vec<ReceiptEnvelope>,
    /// Recovered senders, one per transaction.
    pub senders: Vec<Address>,
}

/// Validates and executes `block` on top of `parent` and its post-state
/// `state`. `root_after` is used only for pre-Byzantium receipts (see
/// [`block_receipts`]).
pub fn verify_block<S: StateProvider>(
    spec: &ChainSpec,
    block: &Block<TxEnvelope>,
    parent: &Header,
    state: S,
    options: &ExecOptions,
    root_after: impl FnMut(&StateDiff) -> B256,
) -> Result<VerifiedBlock, BlockError> {
    let header = &block.header;
    validate_header(spec, header, parent)?;
    validate_body(spec, block)?;
    let senders = recover_senders(spec, header.number, header.timestamp, &block.body.transactions)?;
    let txs: Vec<ExecTx> = block
        .body
        .transactions
        .iter()
        .zip(&senders)
        .map(|(tx, sender)| ExecTx::from_envelope(tx, *sender))
        .collect();
    let ctx = BlockContext::from_header(
        header,
        &block.body.ommers,
        block.body.withdrawals.as_ref().map(|w| w.as_slice()),
    );
    let output = execute_block(spec, &ctx, &txs, &state, options)?;
    if std::env::var_os("MOSAIC_CROSSCHECK").is_some() {
        crosscheck(spec, &ctx, &txs, &state, options, &output)?;
    }
    let receipts = block_receipts(spec, &ctx, &txs, &state, &output, root_after)?;
    check_output(header, &output, &receipts)?;
    Ok(VerifiedBlock { output, receipts, senders })
}

/// Compares execution results with the header's commitments.
fn check_output(
    header: &Header,
    output: &BlockOutput,
    receipts: &[ReceiptEnvelope],
) -> Result<(), BlockError> {
    if output.gas_used != header.gas_used {
        return Err(BlockError::mismatch("gas used", header.gas_used, output.gas_used));
    }
    if let Some(expected) = header.blob_gas_used
        && expected != output.blob_gas_used
    {
        return Err(BlockError::mismatch("blob gas used", expected, output.blob_gas_used));
    }
    let receipts_root = calculate_receipt_root(receipts);
    if receipts_root != header.receipts_root {
        return Err(BlockError::mismatch("receipts root", header.receipts_root, receipts_root));
    }
    let mut bloom = Bloom::ZERO;
    for r in receipts {
        bloom.accrue_bloom(&r.bloom());
    }
    if bloom != header.logs_bloom {
        return Err(BlockError::mismatch("logs bloom", header.logs_bloom, bloom));
    }
    if let Some(expected) = header.requests_hash {
        let got = output.requests.as_ref().map(|r| r.requests_hash()).unwrap_or_default();
        if got != expected {
            return Err(BlockError::mismatch("requests hash", expected, got));
        }
    }
    Ok(())
}

/// `MOSAIC_CROSSCHECK`: runs the sequential reference next to the chosen
/// engine and prints where they differ (a debugging aid for the parallel
/// engine on real chains).
fn crosscheck<S: StateProvider>(
    spec: &ChainSpec,
    ctx: &BlockContext,
    txs: &[ExecTx],
    state: &S,
    options: &ExecOptions,
    output: &BlockOutput,
) -> Result<(), BlockError> {
    let seq = ExecOptions { engine: Engine::Sequential, ..*options };
    let reference = execute_block(spec, ctx, txs, state, &seq)?;
    if reference.same_result(output) {
        return Ok(());
    }
    eprintln!(
        "CROSSCHECK block {}: outcomes {} gas {} codes {} requests {}",
        ctx.number,
        reference.outcomes == output.outcomes,
        reference.gas_used == output.gas_used,
        reference.diff.codes == output.diff.codes,
        reference.requests == output.requests
    );
    for (a, d) in &reference.diff.accounts {
        if output.diff.accounts.get(a) != Some(d) {
            eprintln!("  {a}: seq {d:?}\n     par {:?}", output.diff.accounts.get(a));
        }
    }
    for (a, d) in &output.diff.accounts {
        if !reference.diff.accounts.contains_key(a) {
            eprintln!("  {a}: only par {d:?}");
        }
    }
    Ok(())
}
