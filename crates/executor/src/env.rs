//! What the executor needs to know about a block and its transactions.

use alloy_consensus::{Header, Transaction, TxEnvelope, TxType};
use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, B256, U256};
use mosaic_primitives::ChainSpec;
use revm::context::{BlockEnv, CfgEnv, TxEnv, either::Either};
use revm::context_interface::block::BlobExcessGasAndPrice;

/// The block fields that execution depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockContext {
    /// Block number.
    pub number: u64,
    /// Timestamp in seconds.
    pub timestamp: u64,
    /// Fee recipient.
    pub beneficiary: Address,
    /// Gas limit.
    pub gas_limit: u64,
    /// EIP-1559 base fee (`None` before London).
    pub base_fee: Option<u64>,
    /// PoW difficulty (zero after the merge).
    pub difficulty: U256,
    /// `mixHash`, the PREVRANDAO value after the merge.
    pub mix_hash: B256,
    /// Parent block hash (EIP-2935 input).
    pub parent_hash: B256,
    /// EIP-4788 beacon root.
    pub parent_beacon_block_root: Option<B256>,
    /// EIP-4844 excess blob gas.
    pub excess_blob_gas: Option<u64>,
    /// Uncle beneficiaries and numbers (pre-merge rewards).
    pub ommers: Vec<(Address, u64)>,
    /// EIP-4895 withdrawals.
    pub withdrawals: Option<Vec<Withdrawal>>,
}

impl BlockContext {
    /// Takes the execution inputs from a header and body parts.
    pub fn from_header(header: &Header, ommers: &[Header], withdrawals: Option<&[Withdrawal]>) -> Self {
        Self {
            number: header.number,
            timestamp: header.timestamp,
            beneficiary: header.beneficiary,
            gas_limit: header.gas_limit,
            base_fee: header.base_fee_per_gas,
            difficulty: header.difficulty,
            mix_hash: header.mix_hash,
            parent_hash: header.parent_hash,
            parent_beacon_block_root: header.parent_beacon_block_root,
            excess_blob_gas: header.excess_blob_gas,
            ommers: ommers.iter().map(|o| (o.beneficiary, o.number)).collect(),
            withdrawals: withdrawals.map(<[Withdrawal]>::to_vec),
        }
    }

    /// revm's configuration for this block under `spec`.
    pub fn cfg_env(&self, spec: &ChainSpec) -> CfgEnv {
        let mut cfg = CfgEnv::new_with_spec(spec.spec_id(self.number, self.timestamp));
        cfg.chain_id = spec.chain_id;
        if let Some(blob) = spec.blob_schedule(self.number, self.timestamp) {
            cfg.blob_base_fee_update_fraction = Some(blob.update_fraction);
            cfg.max_blobs_per_tx = Some(blob.max);
        }
        cfg
    }

    /// revm's block environment under `spec`.
    pub fn block_env(&self, spec: &ChainSpec) -> BlockEnv {
        let merged = spec.is_merged(self.number, self.timestamp);
        let blob = spec.blob_schedule(self.number, self.timestamp);
        BlockEnv {
            number: U256::from(self.number),
            beneficiary: self.beneficiary,
            timestamp: U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.base_fee.unwrap_or_default(),
            difficulty: self.difficulty,
            prevrandao: merged.then_some(self.mix_hash),
            blob_excess_gas_and_price: blob.map(|b| {
                BlobExcessGasAndPrice::new(self.excess_blob_gas.unwrap_or_default(), b.update_fraction)
            }),
            ..Default::default()
        }
    }
}

/// A transaction ready for execution: revm's environment (sender already
/// recovered) plus what receipts need.
#[derive(Debug, Clone)]
pub struct ExecTx {
    /// revm transaction environment.
    pub env: TxEnv,
    /// Envelope type, for the receipt.
    pub tx_type: TxType,
    /// Transaction hash (zero for unsigned fixture transactions).
    pub hash: B256,
}

impl ExecTx {
    /// From a signed transaction and its recovered sender.
    pub fn from_envelope(tx: &TxEnvelope, sender: Address) -> Self {
        Self { env: tx_env_from_envelope(tx, sender), tx_type: tx.tx_type(), hash: *tx.tx_hash() }
    }
}

/// Converts a signed transaction into revm's environment.
pub fn tx_env_from_envelope(tx: &TxEnvelope, sender: Address) -> TxEnv {
    let ty = tx.tx_type();
    let dynamic = !matches!(ty, TxType::Legacy | TxType::Eip2930);
    TxEnv {
        tx_type: ty as u8,
        caller: sender,
        gas_limit: tx.gas_limit(),
        gas_price: if dynamic { tx.max_fee_per_gas() } else { tx.gas_price().unwrap_or_default() },
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: if dynamic { tx.max_priority_fee_per_gas() } else { None },
        blob_hashes: tx.blob_versioned_hashes().map(<[B256]>::to_vec).unwrap_or_default(),
        max_fee_per_blob_gas: tx.max_fee_per_blob_gas().unwrap_or_default(),
        authorization_list: tx
            .authorization_list()
            .map(|l| l.iter().cloned().map(Either::Left).collect())
            .unwrap_or_default(),
    }
}
