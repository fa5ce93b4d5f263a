//! revm's mainnet handler with one change: the beneficiary's fee is not
//! credited inside the EVM but reported, so the engine can record it as a
//! lazy credit instead of a read-modify-write on the beneficiary.

use revm::{
    context::{Block, Cfg, ContextTr, Transaction, result::HaltReason},
    context_interface::{JournalTr, result::EVMError},
    handler::{EvmTr, FrameResult, FrameTr, Handler},
    interpreter::interpreter_action::FrameInit,
    primitives::{U256, hardfork::SpecId},
    state::EvmState,
};
use std::{cell::Cell, marker::PhantomData};

/// Mainnet semantics, fee credit deferred.
pub(crate) struct LazyRewardHandler<EVM, DBE> {
    /// The fee the beneficiary is owed by the last transaction.
    pub(crate) fee: Cell<U256>,
    _marker: PhantomData<(EVM, DBE)>,
}

impl<EVM, DBE> Default for LazyRewardHandler<EVM, DBE> {
    fn default() -> Self {
        Self { fee: Cell::new(U256::ZERO), _marker: PhantomData }
    }
}

impl<EVM, DBE> Handler for LazyRewardHandler<EVM, DBE>
where
    EVM: EvmTr<Context: ContextTr<Journal: JournalTr<State = EvmState>>>,
    EVM::Frame: FrameTr<FrameResult = FrameResult, FrameInit = FrameInit>,
    EVMError<DBE>: revm::handler::EvmTrError<EVM>,
{
    type Evm = EVM;
    type Error = EVMError<DBE>;
    type HaltReason = HaltReason;

    fn reward_beneficiary(
        &self,
        evm: &mut Self::Evm,
        exec_result: &mut <<Self::Evm as EvmTr>::Frame as FrameTr>::FrameResult,
    ) -> Result<(), Self::Error> {
        let ctx = evm.ctx();
        if ctx.cfg().is_fee_charge_disabled() {
            self.fee.set(U256::ZERO);
            return Ok(());
        }
        let basefee = u128::from(ctx.block().basefee());
        let price = ctx.tx().effective_gas_price(basefee);
        let spec: SpecId = ctx.cfg().spec().into();
        let per_gas = if spec.is_enabled_in(SpecId::LONDON) { price.saturating_sub(basefee) } else { price };
        let gas = exec_result.gas();
        let used = gas.used().saturating_sub(gas.reservoir());
        let fee = U256::from(per_gas) * U256::from(used);
        self.fee.set(fee);
        Ok(())
    }
}
