//! The sequencer on the dev chain: pooled transactions become committed
//! blocks that another node imports (full verification), nonce chains span
//! blocks, a reverting transaction is included with status 0, and an
//! unaffordable one is dropped without spoiling the block.

#![allow(clippy::unwrap_used)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxReceipt};
use alloy_primitives::{Address, Bytes, Signature, TxKind, U256};
use mosaic_chain::{
    DEV_ACCOUNTS, DEV_CHAIN_ID, ImportError, PoolConfig, Sequencer, StoredChain, TxPool, dev_genesis,
};
use mosaic_primitives::ChainSpec;
use mosaic_storage::Store;
use std::sync::Arc;

fn sign(key_index: usize, tx: TxEip1559) -> TxEnvelope {
    let key = k256::ecdsa::SigningKey::from_slice(DEV_ACCOUNTS[key_index].1.as_slice()).unwrap();
    let (sig, recid) = key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    tx.into_signed(Signature::from_signature_and_parity(sig, recid.is_y_odd())).into()
}

fn tx(nonce: u64, to: TxKind, value: U256, input: Bytes, gas_limit: u64) -> TxEip1559 {
    TxEip1559 {
        chain_id: DEV_CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value,
        access_list: Default::default(),
        input,
    }
}

fn new_chain(dir: &std::path::Path) -> (StoredChain, ChainSpec) {
    let (_, genesis) = dev_genesis();
    let spec = ChainSpec::from_genesis(&genesis).unwrap();
    let store = Store::create(dir.join("db.redb")).unwrap();
    StoredChain::init_genesis(&store, &genesis, &spec).unwrap();
    (StoredChain::new(store, spec.clone()), spec)
}

#[test]
fn produced_blocks_import_on_another_node() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, spec) = new_chain(dir.path());
    let pool = Arc::new(TxPool::new(Arc::new(spec.clone()), PoolConfig::default()));
    let sequencer = Sequencer::new(chain, pool.clone(), Address::repeat_byte(0xfe));
    let head = sequencer.pool_head().unwrap();
    let state = sequencer.chain().store().latest_state().unwrap();

    // Account 0: five transfers; account 1: a contract whose init code
    // reverts; account 2: a transfer of more than it has (stays queued by
    // the pool's balance check, so it is refused at admission).
    let to = TxKind::Call(DEV_ACCOUNTS[5].0);
    for nonce in 0..5 {
        pool.add(sign(0, tx(nonce, to, U256::from(1000), Bytes::new(), 21_000)), &head, &state).unwrap();
    }
    // PUSH1 0 PUSH1 0 REVERT
    let revert = Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xfd]);
    pool.add(sign(1, tx(0, TxKind::Create, U256::ZERO, revert, 100_000)), &head, &state).unwrap();
    let too_much = U256::from(10u64).pow(U256::from(30));
    assert!(pool.add(sign(2, tx(0, to, too_much, Bytes::new(), 21_000)), &head, &state).is_err());

    let produced = sequencer.produce(12).unwrap();
    assert_eq!(produced.txs, 6);
    assert!(produced.dropped.is_empty());
    assert_eq!(pool.status().pending, 0);

    let snapshot = sequencer.chain().store().snapshot().unwrap();
    let receipts = snapshot.receipts(produced.head.hash).unwrap().unwrap();
    assert_eq!(receipts.iter().filter(|r| !r.status()).count(), 1, "the reverting creation has status 0");
    let balance =
        |a| sequencer.chain().store().latest_state().unwrap().snapshot().account(a).unwrap().unwrap();
    assert_eq!(balance(DEV_ACCOUNTS[5].0).balance, U256::from(10u64).pow(U256::from(22)) + U256::from(5000));

    // Two more blocks, one empty; then another node imports all three.
    let head = sequencer.pool_head().unwrap();
    let state = sequencer.chain().store().latest_state().unwrap();
    pool.add(sign(0, tx(5, to, U256::from(1), Bytes::new(), 21_000)), &head, &state).unwrap();
    sequencer.produce(24).unwrap();
    sequencer.produce(36).unwrap();
    assert_eq!(sequencer.chain().head().unwrap().number, 3);

    let other_dir = tempfile::tempdir().unwrap();
    let (other, _) = new_chain(other_dir.path());
    let blocks: Vec<Result<_, ImportError>> = (1..=3).map(|n| Ok(snapshot_block(&sequencer, n))).collect();
    other.import_pipelined(blocks, |_| {}).unwrap();
    assert_eq!(other.head().unwrap(), sequencer.chain().head().unwrap());
}

fn snapshot_block(sequencer: &Sequencer, number: u64) -> mosaic_chain::FileBlock {
    sequencer.chain().store().snapshot().unwrap().block_by_number(number).unwrap().unwrap()
}
