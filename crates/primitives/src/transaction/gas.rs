//! Intrinsic gas: what a transaction costs before its first opcode runs.

use alloy_consensus::{Transaction, TxEnvelope};

use super::TxRules;

/// Base cost of every transaction.
const TX_BASE: u64 = 21_000;
/// Extra cost of a contract creation from Homestead.
const TX_CREATE: u64 = 32_000;
/// Cost of a zero calldata byte.
const ZERO_BYTE: u64 = 4;
/// Cost of a non-zero calldata byte before Istanbul.
const NON_ZERO_BYTE_FRONTIER: u64 = 68;
/// Cost of a non-zero calldata byte from Istanbul (EIP-2028).
const NON_ZERO_BYTE_ISTANBUL: u64 = 16;
/// Cost of an access-list address (EIP-2930).
const ACCESS_LIST_ADDRESS: u64 = 2_400;
/// Cost of an access-list storage key (EIP-2930).
const ACCESS_LIST_STORAGE_KEY: u64 = 1_900;
/// Cost of a 32-byte word of initcode (EIP-3860).
const INITCODE_WORD: u64 = 2;
/// Cost of an authorization, charged as for an empty account (EIP-7702).
const PER_AUTHORIZATION: u64 = 25_000;
/// Calldata tokens per non-zero byte (EIP-7623); a zero byte is one token.
const TOKENS_PER_NON_ZERO_BYTE: u64 = 4;
/// Floor cost of a calldata token (EIP-7623).
const FLOOR_PER_TOKEN: u64 = 10;

/// Gas a transaction needs before execution starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntrinsicGas {
    /// The intrinsic gas charged up front.
    pub initial: u64,
    /// The least gas the transaction is charged in total (EIP-7623), or zero
    /// before Prague. The gas limit must cover both.
    pub floor: u64,
}

impl IntrinsicGas {
    /// The least gas limit the transaction may have.
    pub const fn min_gas_limit(&self) -> u64 {
        if self.initial > self.floor { self.initial } else { self.floor }
    }
}

/// Intrinsic gas of `tx` under `rules`: the base cost, contract creation,
/// calldata, access list, initcode words and authorizations, plus the
/// EIP-7623 calldata floor from Prague. Saturates instead of overflowing.
pub fn intrinsic_gas(tx: &TxEnvelope, rules: &TxRules) -> IntrinsicGas {
    let input = tx.input();
    let zero_bytes = input.iter().filter(|byte| **byte == 0).count() as u64;
    let non_zero_bytes = input.len() as u64 - zero_bytes;
    let non_zero_cost = if rules.istanbul { NON_ZERO_BYTE_ISTANBUL } else { NON_ZERO_BYTE_FRONTIER };

    let mut initial = TX_BASE
        .saturating_add(zero_bytes.saturating_mul(ZERO_BYTE))
        .saturating_add(non_zero_bytes.saturating_mul(non_zero_cost));
    if tx.is_create() {
        if rules.homestead {
            initial = initial.saturating_add(TX_CREATE);
        }
        if rules.shanghai {
            let words = (input.len() as u64).div_ceil(32);
            initial = initial.saturating_add(words.saturating_mul(INITCODE_WORD));
        }
    }
    if let Some(access_list) = tx.access_list() {
        for item in &access_list.0 {
            let keys = item.storage_keys.len() as u64;
            initial = initial
                .saturating_add(ACCESS_LIST_ADDRESS)
                .saturating_add(keys.saturating_mul(ACCESS_LIST_STORAGE_KEY));
        }
    }
    if let Some(authorizations) = tx.authorization_list() {
        let count = authorizations.len() as u64;
        initial = initial.saturating_add(count.saturating_mul(PER_AUTHORIZATION));
    }

    let floor = if rules.prague {
        let tokens = zero_bytes.saturating_add(non_zero_bytes.saturating_mul(TOKENS_PER_NON_ZERO_BYTE));
        TX_BASE.saturating_add(tokens.saturating_mul(FLOOR_PER_TOKEN))
    } else {
        0
    };
    IntrinsicGas { initial, floor }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Signed, TxLegacy};
    use alloy_primitives::{Bytes, Signature, TxKind, U256};

    fn legacy(kind: TxKind, input: &[u8]) -> TxEnvelope {
        let tx = TxLegacy { to: kind, input: Bytes::copy_from_slice(input), ..Default::default() };
        let signature = Signature::new(U256::from(1), U256::from(1), false);
        TxEnvelope::Legacy(Signed::new_unhashed(tx, signature))
    }

    #[test]
    fn calldata_and_creation_costs() {
        let frontier = TxRules::default();
        let istanbul = TxRules { homestead: true, istanbul: true, ..TxRules::default() };
        let call = legacy(TxKind::Call(Default::default()), &[0, 1, 2]);
        assert_eq!(intrinsic_gas(&call, &frontier).initial, 21_000 + 4 + 2 * 68);
        assert_eq!(intrinsic_gas(&call, &istanbul).initial, 21_000 + 4 + 2 * 16);

        let create = legacy(TxKind::Create, &[1; 33]);
        assert_eq!(intrinsic_gas(&create, &frontier).initial, 21_000 + 33 * 68);
        let shanghai = TxRules { shanghai: true, ..istanbul };
        assert_eq!(intrinsic_gas(&create, &shanghai).initial, 53_000 + 33 * 16 + 2 * 2);
    }

    #[test]
    fn calldata_floor_from_prague() {
        let prague = TxRules { homestead: true, istanbul: true, prague: true, ..TxRules::default() };
        let call = legacy(TxKind::Call(Default::default()), &[0, 1]);
        let gas = intrinsic_gas(&call, &prague);
        assert_eq!(gas.initial, 21_000 + 4 + 16);
        assert_eq!(gas.floor, 21_000 + 10 * (1 + 4));
        assert_eq!(gas.min_gas_limit(), gas.floor);
    }
}
