//! `mosaic t8n`: geth's `evm t8n` state transition tool.
//!
//! Reads a pre-state (`alloc`), a block environment (`env`) and transactions
//! (`txs`), builds one block from them under a fork's rules, and writes the
//! post-state and geth's `result` object (roots, receipts, rejected
//! transactions). Transactions that cannot be parsed, signed or recovered,
//! or that are invalid at their position, are listed in `rejected` and left
//! out of the block; malformed input files stop the tool with an error that
//! names the file.

mod io;
mod json;
mod result;
mod state;
mod tx;

use alloy_primitives::U256;
use mosaic_chain::state_root;
use mosaic_executor::{ExecMode, ExecOptions, ExecStatus, ExecTx, execute_block};
use mosaic_primitives::ChainSpec;
use result::{BlockResult, Included};
use std::path::PathBuf;
use tx::TxContext;

/// Arguments of `mosaic t8n` (geth's flag names).
#[derive(Debug, clap::Args)]
pub(crate) struct T8nArgs {
    /// Pre-state file, or `stdin`.
    #[arg(long = "input.alloc", default_value = "alloc.json")]
    input_alloc: String,
    /// Block environment file, or `stdin`.
    #[arg(long = "input.env", default_value = "env.json")]
    input_env: String,
    /// Transactions file (JSON array, or `.rlp` holding a hex RLP string),
    /// or `stdin`.
    #[arg(long = "input.txs", default_value = "txs.json")]
    input_txs: String,
    /// Fork name, e.g. `Cancun` or `ShanghaiToCancunAtTime15k`.
    #[arg(long = "state.fork", default_value = "GrayGlacier")]
    fork: String,
    /// Block reward in wei before the merge; -1 disables it (default: the
    /// fork's reward).
    #[arg(long = "state.reward", allow_hyphen_values = true)]
    reward: Option<String>,
    /// Chain id.
    #[arg(long = "state.chainid", default_value_t = 1)]
    chain_id: u64,
    /// Folder the output files are written to.
    #[arg(long = "output.basedir")]
    basedir: Option<PathBuf>,
    /// Result file, or `stdout` / `stderr`.
    #[arg(long = "output.result", default_value = "result.json")]
    output_result: String,
    /// Post-state file, or `stdout` / `stderr`.
    #[arg(long = "output.alloc", default_value = "alloc.json")]
    output_alloc: String,
    /// File for the RLP of the included transactions, or `stdout` / `stderr`.
    #[arg(long = "output.body")]
    output_body: Option<String>,
    /// Accept transactions that name their sender in `from` instead of a
    /// signature or `secretKey` (Mosaic extension).
    #[arg(long)]
    allow_unsigned: bool,
}

/// Runs the transition and writes the outputs.
pub(crate) fn run(args: &T8nArgs) -> eyre::Result<bool> {
    let inputs = io::Inputs::load(&args.input_alloc, &args.input_env, &args.input_txs)?;
    let mut spec = ChainSpec::from_fork_name(&args.fork).map_err(|e| eyre::eyre!("--state.fork: {e}"))?;
    spec.chain_id = args.chain_id;
    let block_reward = parse_reward(args.reward.as_deref())?;

    let env = state::parse_env(&inputs.env.value, &spec).map_err(|e| inputs.env.error(e))?;
    let mut pre = state::parse_alloc(&inputs.alloc.value).map_err(|e| inputs.alloc.error(e))?;
    pre.block_hashes.extend(env.block_hashes);
    let block = env.block;

    let ctx = TxContext {
        spec: &spec,
        number: block.number,
        timestamp: block.timestamp,
        allow_unsigned: args.allow_unsigned,
    };
    let prepared = match &inputs.txs {
        io::TxInput::Json(list) => list.iter().map(|v| ctx.prepare_json(v)).collect(),
        io::TxInput::Rlp(list) => ctx.prepare_rlp(list.clone()),
    };

    // Only the transactions that parsed go to the executor; remember their
    // positions in the input.
    let mut rejected = Vec::new();
    let mut candidates = Vec::new();
    for (index, p) in prepared.into_iter().enumerate() {
        match p {
            Ok(p) => candidates.push((index, p)),
            Err(reason) => rejected.push((index, reason)),
        }
    }
    let exec_txs: Vec<ExecTx> =
        candidates.iter().map(|(_, p)| ExecTx::from_envelope(&p.envelope, p.sender)).collect();
    let options = ExecOptions {
        mode: ExecMode::Build,
        transactions_only: false,
        block_reward,
        ..crate::exec_options()
    };
    let output = execute_block(&spec, &block, &exec_txs, &pre, &options)
        .map_err(|e| eyre::eyre!("block {} cannot be executed: {e}", block.number))?;

    let mut included = Vec::new();
    for (((index, p), tx), outcome) in candidates.iter().zip(&exec_txs).zip(&output.outcomes) {
        match &outcome.status {
            ExecStatus::Skipped(reason) => rejected.push((*index, reason.clone())),
            _ => included.push(Included { envelope: &p.envelope, tx, outcome }),
        }
    }
    rejected.sort_by_key(|(index, _)| *index);

    let mut post = pre.clone();
    post.apply(&output.diff);
    let result = BlockResult {
        spec: &spec,
        block: &block,
        output: &output,
        included,
        rejected,
        state_root: state_root(&post),
    };
    let body = alloy_rlp::encode(result.envelopes());

    let mut outputs = io::Outputs::new(args.basedir.as_deref())?;
    outputs.add("alloc", &args.output_alloc, state::alloc_json(&post))?;
    outputs.add("result", &args.output_result, result.to_json())?;
    if let Some(path) = &args.output_body {
        outputs.add("body", path, json::data(&body))?;
    }
    outputs.flush()?;
    Ok(true)
}

/// `--state.reward`: wei, or -1 for none.
fn parse_reward(reward: Option<&str>) -> eyre::Result<Option<U256>> {
    match reward.map(str::trim) {
        None => Ok(None),
        Some("-1") => Ok(Some(U256::ZERO)),
        Some(s) => json::parse_u256(s)
            .map(Some)
            .ok_or_else(|| eyre::eyre!("--state.reward: expected wei or -1, got {s:?}")),
    }
}
