//! Readable differences between two block executions: the first field that
//! differs, not a Debug dump of both outputs.

use mosaic_executor::{AccountDiff, BlockExecutionError, BlockOutput, TxOutcome};
use std::fmt::Debug;

/// The first difference between the reference (`seq`) and the result under
/// test (`par`), `None` if they agree.
pub(crate) fn first_difference(
    seq: &Result<BlockOutput, BlockExecutionError>,
    par: &Result<BlockOutput, BlockExecutionError>,
) -> Option<String> {
    match (seq, par) {
        (Ok(a), Ok(b)) => output_difference(a, b),
        (Err(a), Err(b)) => error_difference(a, b),
        (Ok(_), Err(e)) => Some(format!("sequential succeeded, parallel failed: {e}")),
        (Err(e), Ok(_)) => Some(format!("sequential failed ({e}), parallel succeeded")),
    }
}

fn error_difference(a: &BlockExecutionError, b: &BlockExecutionError) -> Option<String> {
    use BlockExecutionError::*;
    let same = match (a, b) {
        (InvalidTransaction { index: i, .. }, InvalidTransaction { index: j, .. }) => i == j,
        (InvalidBlock(_), InvalidBlock(_)) | (State(_), State(_)) | (Evm { .. }, Evm { .. }) => true,
        _ => false,
    };
    (!same).then(|| format!("errors differ:\n  sequential: {a}\n  parallel:   {b}"))
}

fn output_difference(a: &BlockOutput, b: &BlockOutput) -> Option<String> {
    if a.outcomes.len() != b.outcomes.len() {
        return Some(format!("outcome count: sequential {} parallel {}", a.outcomes.len(), b.outcomes.len()));
    }
    for (i, (x, y)) in a.outcomes.iter().zip(&b.outcomes).enumerate() {
        if let Some(d) = outcome_difference(x, y) {
            return Some(format!("outcome {i}: {d}"));
        }
    }
    if a.gas_used != b.gas_used {
        return Some(field("gas_used", &a.gas_used, &b.gas_used));
    }
    if a.blob_gas_used != b.blob_gas_used {
        return Some(field("blob_gas_used", &a.blob_gas_used, &b.blob_gas_used));
    }
    let (da, db) = (&a.diff.accounts, &b.diff.accounts);
    for address in da.keys().chain(db.keys()) {
        let d = match (da.get(address), db.get(address)) {
            (Some(x), Some(y)) => account_difference(x, y),
            (Some(x), None) => Some(format!("only in sequential: {}", account(x))),
            (None, Some(y)) => Some(format!("only in parallel: {}", account(y))),
            (None, None) => None,
        };
        if let Some(d) = d {
            return Some(format!("state diff, account {address}: {d}"));
        }
    }
    if a.diff.codes.keys().ne(b.diff.codes.keys()) {
        let ka: Vec<_> = a.diff.codes.keys().collect();
        let kb: Vec<_> = b.diff.codes.keys().collect();
        return Some(field("deployed code hashes", &ka, &kb));
    }
    if a.requests != b.requests {
        return Some(field("requests", &a.requests, &b.requests));
    }
    (!a.same_result(b))
        .then(|| "same_result is false but no field differs (compare.rs is missing one)".into())
}

fn outcome_difference(x: &TxOutcome, y: &TxOutcome) -> Option<String> {
    if x.status != y.status {
        return Some(field("status", &x.status, &y.status));
    }
    if x.gas_used != y.gas_used {
        return Some(field("gas_used", &x.gas_used, &y.gas_used));
    }
    if x.cumulative_gas_used != y.cumulative_gas_used {
        return Some(field("cumulative_gas_used", &x.cumulative_gas_used, &y.cumulative_gas_used));
    }
    if x.blob_gas_used != y.blob_gas_used {
        return Some(field("blob_gas_used", &x.blob_gas_used, &y.blob_gas_used));
    }
    if x.logs != y.logs {
        return Some(field("logs", &x.logs, &y.logs));
    }
    if x.output != y.output {
        return Some(field("output", &x.output, &y.output));
    }
    if x.contract_address != y.contract_address {
        return Some(field("contract_address", &x.contract_address, &y.contract_address));
    }
    (x.receipt != y.receipt).then(|| field("receipt", &x.receipt, &y.receipt))
}

fn account_difference(x: &AccountDiff, y: &AccountDiff) -> Option<String> {
    if x.info != y.info {
        return Some(field("info", &x.info, &y.info));
    }
    if x.storage_wiped != y.storage_wiped {
        return Some(field("storage_wiped", &x.storage_wiped, &y.storage_wiped));
    }
    for slot in x.storage.keys().chain(y.storage.keys()) {
        let (a, b) = (x.storage.get(slot), y.storage.get(slot));
        if a != b {
            return Some(field(&format!("slot {slot:#x}"), &a, &b));
        }
    }
    None
}

fn account(a: &AccountDiff) -> String {
    format!("info {:?}, wiped {}, {} slots", a.info, a.storage_wiped, a.storage.len())
}

fn field(name: &str, a: &dyn Debug, b: &dyn Debug) -> String {
    format!("{name}:\n  sequential: {a:?}\n  parallel:   {b:?}")
}

/// The index of the transaction a difference names, if any (for showing its
/// neighbourhood).
pub(crate) fn named_index(difference: &str) -> Option<usize> {
    let rest = difference.strip_prefix("outcome ")?;
    rest.split(':').next()?.parse().ok()
}
