//! The JSON shapes of the answers, field for field as geth writes them:
//! blocks and headers ([`block`]), transactions ([`tx`]), receipts and logs
//! ([`receipt`]). Quantities are minimal `0x` hex, data is `0x` hex, absent
//! fork fields are left out, absent locations are `null`.

pub(crate) mod block;
pub(crate) mod receipt;
pub(crate) mod tx;

pub(crate) use block::{BlockTransactions, RpcBlock, RpcHeader};
pub(crate) use receipt::{BlockReceiptsInput, RpcLog, block_logs, block_receipts, receipt_at};
pub(crate) use tx::{RpcTransaction, TxBlock};
