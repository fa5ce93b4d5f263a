//! The `txs` input: geth RPC-style transaction objects (signed, or carrying
//! a `secretKey` to sign with, or with `--allow-unsigned` a `from`), or an
//! RLP list of signed transactions.

use super::json::{Fields, kind, parse_hex, to_address, to_b256, to_u64, to_u256};
use alloy_consensus::{
    SignableTransaction, TxEip1559, TxEip2930, TxEip4844, TxEip4844Variant, TxEip7702, TxEnvelope, TxLegacy,
    TypedTransaction, transaction::from_eip155_value,
};
use alloy_eips::eip2930::AccessList;
use alloy_eips::eip7702::{Authorization, SignedAuthorization};
use alloy_primitives::{Address, B256, Signature, TxKind, U256};
use mosaic_chain::tx_rules;
use mosaic_primitives::{
    ChainSpec, Hardfork,
    transaction::{TxError, validate_transaction},
};
use serde_json::Value;

/// A transaction ready for the block: the signed (or, for `from`
/// transactions, zero-signature) envelope and its sender.
#[derive(Debug)]
pub(super) struct Prepared {
    pub(super) envelope: TxEnvelope,
    pub(super) sender: Address,
}

/// Where and under which rules the transactions run.
pub(super) struct TxContext<'a> {
    pub(super) spec: &'a ChainSpec,
    pub(super) number: u64,
    pub(super) timestamp: u64,
    pub(super) allow_unsigned: bool,
}

impl TxContext<'_> {
    /// Checks type, chain id and signature of a signed transaction.
    fn validate(&self, envelope: &TxEnvelope) -> Result<Address, String> {
        let rules = tx_rules(self.spec, self.number, self.timestamp);
        validate_transaction(envelope, &rules).map(|(sender, _)| sender).map_err(|e| e.to_string())
    }

    /// The type and chain-id checks of [`Self::validate`], for a transaction
    /// whose sender is given instead of recovered.
    fn validate_unsigned(&self, envelope: &TxEnvelope) -> Result<(), String> {
        let rules = tx_rules(self.spec, self.number, self.timestamp);
        match validate_transaction(envelope, &rules) {
            // The signature check comes last: a zero signature fails only there.
            Ok(_) | Err(TxError::SignatureOutOfRange(_) | TxError::Recovery) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Recovers the senders of decoded (RLP) transactions.
    pub(super) fn prepare_rlp(&self, txs: Vec<TxEnvelope>) -> Vec<Result<Prepared, String>> {
        txs.into_iter()
            .map(|envelope| self.validate(&envelope).map(|sender| Prepared { envelope, sender }))
            .collect()
    }

    /// Parses, signs or recovers one JSON transaction. A `secretKey` wins
    /// over a signature (geth re-signs such transactions).
    pub(super) fn prepare_json(&self, value: &Value) -> Result<Prepared, String> {
        let f = Fields::new(value, "transaction")?;
        let unsigned = self.unsigned_tx(&f)?;
        let r = f.u256("r")?.unwrap_or_default();
        let s = f.u256("s")?.unwrap_or_default();
        let from = f.address("from")?;
        let envelope = if let Some(key) = f.b256("secretKey")? {
            sign(unsigned, &key)?
        } else if r.is_zero() && s.is_zero() {
            let Some(from) = from else {
                return Err("transaction has no signature, no `secretKey` and no `from`".into());
            };
            if !self.allow_unsigned {
                return Err("transaction has no signature; `from` needs --allow-unsigned".into());
            }
            let envelope = unsigned.into_envelope(Signature::new(U256::ZERO, U256::ZERO, false));
            self.validate_unsigned(&envelope)?;
            return Ok(Prepared { envelope, sender: from });
        } else {
            with_signature(unsigned, r, s, f.u256("v")?, f.u256("yParity")?)?
        };
        let sender = self.validate(&envelope)?;
        if let Some(from) = from.filter(|f| *f != sender) {
            return Err(format!("the signature recovers sender {sender}, but `from` says {from}"));
        }
        Ok(Prepared { envelope, sender })
    }

    /// The transaction body, before any signature.
    fn unsigned_tx(&self, f: &Fields<'_>) -> Result<TypedTransaction, String> {
        let ty = match f.u64("type")? {
            Some(t) => t,
            None if f.get("authorizationList").is_some() => 4,
            None if f.get_any(&["blobVersionedHashes", "maxFeePerBlobGas"]).is_some() => 3,
            None if f.get("maxFeePerGas").is_some() => 2,
            None if f.get("accessList").is_some() => 1,
            None => 0,
        };
        if ty > 4 {
            return Err(format!("unsupported transaction type {ty}"));
        }
        let nonce = f.req_u64("nonce")?;
        let gas_limit = match f.u64("gas")? {
            Some(g) => g,
            None => {
                f.req_u64("gasLimit").map_err(|_| "transaction: missing required field `gas`".to_string())?
            }
        };
        let to = match f.get("to") {
            Some(Value::String(s)) if s.is_empty() || s == "0x" => None,
            Some(v) => Some(to_address(v).map_err(|e| format!("transaction: `to`: {e}"))?),
            None => None,
        };
        let call = to.map_or(TxKind::Create, TxKind::Call);
        let value = f.u256("value")?.unwrap_or_default();
        let input = match f.get_any(&["input", "data"]) {
            Some(v) => {
                let s = v
                    .as_str()
                    .ok_or_else(|| format!("transaction: `input`: expected a string, got {}", kind(v)))?;
                parse_hex(s).map_err(|e| format!("transaction: `input`: {e}"))?.into()
            }
            None => Default::default(),
        };
        let access_list = match f.get("accessList") {
            Some(v) => serde_json::from_value::<AccessList>(v.clone())
                .map_err(|e| format!("transaction: `accessList`: {e}"))?,
            None => AccessList::default(),
        };
        let chain_id = f.u64("chainId")?.unwrap_or(self.spec.chain_id);
        let need_to = |what: &str| {
            to.ok_or_else(|| format!("{what} transaction cannot create a contract (`to` is missing)"))
        };
        let gas_price = || -> Result<u128, String> {
            f.u128("gasPrice")?.ok_or_else(|| "transaction: missing required field `gasPrice`".to_string())
        };
        let fees = || -> Result<(u128, u128), String> {
            let max = f.u128("maxFeePerGas")?.ok_or("transaction: missing required field `maxFeePerGas`")?;
            let tip = f
                .u128("maxPriorityFeePerGas")?
                .ok_or("transaction: missing required field `maxPriorityFeePerGas`")?;
            Ok((max, tip))
        };
        Ok(match ty {
            0 => {
                let protected = f.bool("protected")?.unwrap_or(true);
                let eip155 = self.spec.is_active(Hardfork::SpuriousDragon, self.number, self.timestamp);
                TypedTransaction::Legacy(TxLegacy {
                    chain_id: (protected && eip155).then_some(self.spec.chain_id),
                    nonce,
                    gas_price: gas_price()?,
                    gas_limit,
                    to: call,
                    value,
                    input,
                })
            }
            1 => TypedTransaction::Eip2930(TxEip2930 {
                chain_id,
                nonce,
                gas_price: gas_price()?,
                gas_limit,
                to: call,
                value,
                access_list,
                input,
            }),
            2 => {
                let (max_fee_per_gas, max_priority_fee_per_gas) = fees()?;
                TypedTransaction::Eip1559(TxEip1559 {
                    chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas,
                    max_priority_fee_per_gas,
                    to: call,
                    value,
                    access_list,
                    input,
                })
            }
            3 => {
                let (max_fee_per_gas, max_priority_fee_per_gas) = fees()?;
                TypedTransaction::Eip4844(TxEip4844Variant::TxEip4844(TxEip4844 {
                    chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas,
                    max_priority_fee_per_gas,
                    to: need_to("blob")?,
                    value,
                    access_list,
                    blob_versioned_hashes: f.list("blobVersionedHashes", to_b256)?.unwrap_or_default(),
                    max_fee_per_blob_gas: f
                        .u128("maxFeePerBlobGas")?
                        .ok_or("transaction: missing required field `maxFeePerBlobGas`")?,
                    input,
                }))
            }
            4 => {
                let (max_fee_per_gas, max_priority_fee_per_gas) = fees()?;
                TypedTransaction::Eip7702(TxEip7702 {
                    chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas,
                    max_priority_fee_per_gas,
                    to: need_to("set-code")?,
                    value,
                    access_list,
                    authorization_list: f
                        .list("authorizationList", authorization)?
                        .ok_or("transaction: missing required field `authorizationList`")?,
                    input,
                })
            }
            other => return Err(format!("unsupported transaction type {other}")),
        })
    }
}

/// An EIP-7702 authorization tuple in geth's JSON form.
fn authorization(v: &Value) -> Result<SignedAuthorization, String> {
    let a = Fields::new(v, "authorization")?;
    let get = |key: &str| a.get(key).ok_or_else(|| format!("missing required field `{key}`"));
    let field = |key: &str| get(key).and_then(|v| to_u256(v).map_err(|e| format!("`{key}`: {e}")));
    let parity = match a.get("yParity") {
        Some(v) => to_u64(v).map_err(|e| format!("`yParity`: {e}"))?,
        None => to_u64(get("v")?).map_err(|e| format!("`v`: {e}"))?,
    };
    let parity = u8::try_from(parity).map_err(|_| format!("invalid `yParity` {parity}"))?;
    let auth = Authorization {
        chain_id: field("chainId")?,
        address: to_address(get("address")?).map_err(|e| format!("`address`: {e}"))?,
        nonce: to_u64(get("nonce")?).map_err(|e| format!("`nonce`: {e}"))?,
    };
    Ok(SignedAuthorization::new_unchecked(auth, parity, field("r")?, field("s")?))
}

/// Attaches a given signature; a legacy `v` also carries the EIP-155 chain id.
fn with_signature(
    tx: TypedTransaction,
    r: U256,
    s: U256,
    v: Option<U256>,
    y_parity: Option<U256>,
) -> Result<TxEnvelope, String> {
    Ok(match tx {
        TypedTransaction::Legacy(mut tx) => {
            let v = v.ok_or("signed legacy transaction without `v`")?;
            let (parity, chain_id) = u128::try_from(v)
                .ok()
                .and_then(from_eip155_value)
                .ok_or_else(|| format!("invalid legacy `v` value {v}"))?;
            tx.chain_id = chain_id;
            TypedTransaction::Legacy(tx).into_envelope(Signature::new(r, s, parity))
        }
        typed => {
            let parity = y_parity.or(v).ok_or("signed typed transaction without `yParity` or `v`")?;
            if parity > U256::from(1) {
                return Err(format!("invalid `yParity` {parity}, expected 0 or 1"));
            }
            typed.into_envelope(Signature::new(r, s, parity == U256::from(1)))
        }
    })
}

/// Signs `tx` with a secp256k1 secret key (RFC 6979, low `s`).
fn sign(tx: TypedTransaction, key: &B256) -> Result<TxEnvelope, String> {
    let signing =
        k256::ecdsa::SigningKey::from_slice(key.as_slice()).map_err(|_| "invalid `secretKey`".to_string())?;
    let hash = tx.signature_hash();
    let (sig, recovery) =
        signing.sign_prehash_recoverable(hash.as_slice()).map_err(|e| format!("signing failed: {e}"))?;
    let r = U256::from_be_slice(&sig.r().to_bytes());
    let s = U256::from_be_slice(&sig.s().to_bytes());
    Ok(tx.into_envelope(Signature::new(r, s, recovery.is_y_odd())))
}
