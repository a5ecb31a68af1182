//! Balance transfers from a coldkey: what a funding pool on subtensor pays out
//! with. One payout is one `Utility.batch_all` of `Balances.transfer_keep_alive`
//! calls, all or nothing, signed by the pool's account with a nonce chosen
//! before it is sent: a transaction with a given nonce is included at most once,
//! so "the account's nonce has passed N" tells whether a payout signed with N
//! landed, even after a crash between sending and recording.

use gauntlet_chain::{ss58, ChainError, Hotkey};
use subxt::config::SubstrateExtrinsicParamsBuilder;
use subxt::dynamic::{At as _, Value};
use subxt::ext::scale_value::Composite;

use crate::calls::Call;
use crate::client::Connection;
use crate::reads;
use crate::writes::Sender;
use crate::{SubtensorChain, SubtensorError};

/// One transfer: destination (SS58) and amount in rao.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The destination's SS58 address.
    pub dest: String,
    /// The amount in rao (10⁻⁹ TAO).
    pub rao: u64,
}

/// An account's nonce and free balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    /// Transactions the account has sent (the next one's nonce).
    pub nonce: u64,
    /// Its free balance in rao.
    pub free: u64,
}

fn account_id(address: &str) -> Result<[u8; 32], SubtensorError> {
    ss58::decode(address).map_err(|e| {
        SubtensorError::Chain(ChainError::InvalidAddress {
            address: address.to_owned(),
            reason: e.to_string(),
        })
    })
}

/// `Utility.batch_all([Balances.transfer_keep_alive(dest, value), …])`.
pub fn transfer_batch(payments: &[Payment]) -> Result<Call, SubtensorError> {
    let calls = payments
        .iter()
        .map(|p| {
            let dest = Value::unnamed_variant("Id", [Value::from_bytes(account_id(&p.dest)?)]);
            let transfer = Value::named_variant(
                "transfer_keep_alive",
                [("dest", dest), ("value", Value::u128(u128::from(p.rao)))],
            );
            Ok(Value::unnamed_variant("Balances", [transfer]))
        })
        .collect::<Result<Vec<_>, SubtensorError>>()?;
    Ok(subxt::dynamic::tx(
        "Utility",
        "batch_all",
        Composite::named([("calls", Value::unnamed_composite(calls))]),
    ))
}

fn field_u64(value: &Value, path: &[&str]) -> Option<u64> {
    let mut at: &Value = value;
    for key in path {
        at = at.at(*key)?;
    }
    at.as_u128().and_then(|v| u64::try_from(v).ok())
}

impl SubtensorChain {
    /// `System.Account(address)`: its nonce and free balance (zeros for an
    /// account the chain has never seen).
    pub async fn account(&self, address: &str) -> Result<AccountState, SubtensorError> {
        const OP: &str = "account";
        let id = account_id(address)?;
        self.run(OP, |conn: Connection| async move {
            let (at, _) = conn.at_best().await?;
            let addr = subxt::dynamic::storage::<([u8; 32],), Value>("System", "Account");
            let Some(info) = reads::try_fetch_value(&at, OP, addr, (id,)).await? else {
                return Ok(AccountState { nonce: 0, free: 0 });
            };
            let bad = |what: &str| SubtensorError::Decode {
                what: format!("System.Account.{what}"),
                detail: format!("{info:?}"),
            };
            Ok(AccountState {
                nonce: field_u64(&info, &["nonce"]).ok_or_else(|| bad("nonce"))?,
                free: field_u64(&info, &["data", "free"]).ok_or_else(|| bad("data.free"))?,
            })
        })
        .await
    }

    /// The SCALE call data of [`transfer_batch`] for `payments`, for a funder
    /// to sign elsewhere (polkadot.js "extrinsics → decode", or any signer that
    /// takes call data).
    pub async fn transfer_batch_call_data(
        &self,
        payments: &[Payment],
    ) -> Result<Vec<u8>, SubtensorError> {
        let call = transfer_batch(payments)?;
        self.run("transfer_batch_call_data", |conn: Connection| {
            let call = &call;
            async move {
                let (at, _) = conn.at_best().await?;
                at.tx().call_data(call).map_err(|e| SubtensorError::Decode {
                    what: "Utility.batch_all".into(),
                    detail: e.to_string(),
                })
            }
        })
        .await
    }

    /// Signs [`transfer_batch`] of `payments` with `coldkey` at `nonce` and
    /// sends it, waiting for its block when the options say so. A retry after
    /// an attempt whose outcome is unknown finds the nonce used and stops.
    pub async fn pay(
        &self,
        coldkey: &Hotkey,
        nonce: u64,
        payments: &[Payment],
    ) -> Result<(), SubtensorError> {
        const OP: &str = "pay";
        let call = transfer_batch(payments)?;
        let source = coldkey.ss58();
        self.run(OP, |conn: Connection| {
            let (call, source) = (&call, &source);
            async move {
                let (at, _) = conn.at_best().await?;
                let addr = subxt::dynamic::storage::<([u8; 32],), Value>("System", "Account");
                let used = reads::try_fetch_value(&at, OP, addr, (coldkey.public_key(),))
                    .await?
                    .and_then(|info| field_u64(&info, &["nonce"]))
                    .unwrap_or(0);
                if used > nonce {
                    tracing::info!(account = %source, nonce, "payout nonce already used: it landed");
                    return Ok(());
                }
                let params = SubstrateExtrinsicParamsBuilder::new().nonce(nonce).build();
                // Transfers need no subnet: the sender is only for messages.
                let sender = Sender {
                    hotkey: coldkey,
                    netuid: 0,
                };
                self.submit_with(&at, &sender, call, params).await
            }
        })
        .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::{finney_metadata, offline_client};

    #[test]
    fn a_batch_encodes_against_the_finney_metadata() {
        let alice = Hotkey::from_seed([1; 32]).unwrap().ss58();
        let bob = Hotkey::from_seed([2; 32]).unwrap().ss58();
        let call = transfer_batch(&[
            Payment {
                dest: alice,
                rao: 600,
            },
            Payment {
                dest: bob,
                rao: 400,
            },
        ])
        .unwrap();
        let client = offline_client(finney_metadata().unwrap()).unwrap();
        let data = client.tx().call_data(&call).unwrap();
        // Utility's index and batch_all's, then a compact length of 2.
        let utility = finney_metadata()
            .unwrap()
            .pallet_by_name("Utility")
            .unwrap()
            .call_index();
        assert_eq!(data[0], utility);
        assert_eq!(data[2], 2 << 2);
    }

    #[test]
    fn a_bad_destination_is_a_typed_error() {
        let err = transfer_batch(&[Payment {
            dest: "<script>".into(),
            rao: 1,
        }])
        .err();
        assert!(
            matches!(
                err,
                Some(SubtensorError::Chain(ChainError::InvalidAddress { .. }))
            ),
            "{err:?}"
        );
    }
}
