//! Sending transactions: signing with the hotkey, submitting, waiting for the block
//! and reading the outcome; and the two writes Gauntlet makes, commitments and
//! weights (plain `set_weights`, or a timelocked commit the chain reveals itself
//! when the subnet uses commit–reveal, see [`crate::commit`]).
//!
//! Before sending, the subnet's hyperparameters are read and the cheap refusals
//! checked from storage (not registered, rate limited, version key too low) so
//! they come back as typed [`ChainError`]s instead of opaque pool errors.

use std::sync::{Mutex, MutexGuard, PoisonError};

use gauntlet_chain::{ChainError, CommitStatus, Hotkey, WeightsCommit, WeightsSubmission};
use gauntlet_constants::{Block, NetUid, Uid};
use subxt::client::OnlineClientAtBlock;
use subxt::config::TransactionExtensions;
use subxt::error::{DispatchError, ExtrinsicError, TransactionEventsError, TransactionStatusError};
use subxt::tx::TransactionStatus;
use subxt::{Config, SubstrateConfig};

use crate::calls::{self, Call};
use crate::client::{node, Connection};
use crate::hyperparams::{self, Hyperparameters};
use crate::reads::{self, uid_of};
use crate::{commit, storage, SubtensorChain, SubtensorError};

type At = OnlineClientAtBlock<SubstrateConfig>;
/// The parameters a transaction is signed with (nonce, mortality, tip).
pub(crate) type TxParams =
    <<SubstrateConfig as Config>::TransactionExtensions as TransactionExtensions<
        SubstrateConfig,
    >>::Params;

/// What an attempt of `set_weights` sent: the block it signed at and, on a
/// commit–reveal subnet, the commit.
#[derive(Clone)]
struct Sent {
    block: u64,
    commit: Option<WeightsCommit>,
}

impl Sent {
    fn submission(self) -> WeightsSubmission {
        self.commit
            .map_or(WeightsSubmission::Set, WeightsSubmission::Committed)
    }
}

/// Locks a mutex, recovering the data if a panicking holder poisoned it (the
/// lists kept here stay consistent at every await point).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Who sends what where: for error messages and typed refusals.
pub(crate) struct Sender<'a> {
    pub(crate) hotkey: &'a Hotkey,
    pub(crate) netuid: u16,
}

impl Sender<'_> {
    fn not_registered(&self) -> SubtensorError {
        SubtensorError::Chain(ChainError::NotRegistered {
            netuid: NetUid(self.netuid),
            hotkey: self.hotkey.ss58(),
        })
    }

    /// A dispatch error as the most specific refusal the chain vocabulary has.
    fn refusal(&self, call: &str, error: &DispatchError) -> SubtensorError {
        let name = match error {
            DispatchError::Module(module) => module.details().ok().map(|d| d.variant.name.clone()),
            _ => None,
        };
        let netuid = NetUid(self.netuid);
        let hotkey = self.hotkey.ss58();
        let chain = |e| SubtensorError::Chain(e);
        match name.as_deref() {
            Some("HotKeyNotRegisteredInSubNet" | "HotKeyNotRegisteredInNetwork") => {
                chain(ChainError::NotRegistered { netuid, hotkey })
            }
            Some("NeuronNoValidatorPermit") => {
                chain(ChainError::NoValidatorPermit { netuid, hotkey })
            }
            Some("CommitRevealEnabled") => chain(ChainError::CommitRevealEnabled { netuid }),
            Some(
                reason @ ("DuplicateUids"
                | "UidVecContainInvalidOne"
                | "WeightVecLengthIsLow"
                | "WeightVecNotEqualSize"
                | "MaxWeightExceeded"
                | "UidsLengthExceedUidsInSubNet"),
            ) => chain(ChainError::InvalidWeights {
                reason: reason.to_owned(),
            }),
            _ => SubtensorError::Refused {
                call: call.to_owned(),
                reason: match error {
                    DispatchError::Module(module) => module.details_string(),
                    other => other.to_string(),
                },
            },
        }
    }
}

fn status_error(call: &str, e: TransactionStatusError) -> SubtensorError {
    match e {
        TransactionStatusError::Invalid(reason) => SubtensorError::Refused {
            call: call.to_owned(),
            reason,
        },
        TransactionStatusError::Dropped(reason) => SubtensorError::Dropped {
            call: call.to_owned(),
            reason,
        },
        TransactionStatusError::Error(reason) => node("submit", format!("{call}: {reason}")),
        other => node("submit", format!("{call}: {other}")),
    }
}

impl SubtensorChain {
    /// Signs `call` with the sender's hotkey at block `at`, submits it and, if the
    /// options say so, waits for its block and checks that it succeeded.
    pub(crate) async fn submit(
        &self,
        at: &At,
        sender: &Sender<'_>,
        call: &Call,
    ) -> Result<(), SubtensorError> {
        self.submit_with(at, sender, call, Default::default()).await
    }

    /// [`Self::submit`] with the given transaction parameters (a fixed nonce).
    pub(crate) async fn submit_with(
        &self,
        at: &At,
        sender: &Sender<'_>,
        call: &Call,
        params: TxParams,
    ) -> Result<(), SubtensorError> {
        let name = format!("{}.{}", call.pallet_name(), call.call_name());
        let signed = at
            .tx()
            .create_signed(call, sender.hotkey.keypair(), params)
            .await
            .map_err(|e| node("sign", format!("{name}: {e}")))?;
        if !self.options().wait_for_inclusion {
            return match signed.submit().await {
                Ok(_) => Ok(()),
                Err(ExtrinsicError::TransactionStatusError(e)) => Err(status_error(&name, e)),
                Err(e) => Err(node("submit", format!("{name}: {e}"))),
            };
        }
        let mut progress = signed
            .submit_and_watch()
            .await
            .map_err(|e| node("submit", format!("{name}: {e}")))?;
        while let Some(status) = progress.next().await {
            let status = status.map_err(|e| node("submit", format!("{name}: {e}")))?;
            let in_block = match status {
                TransactionStatus::InBestBlock(b) | TransactionStatus::InFinalizedBlock(b) => b,
                TransactionStatus::Invalid { message } => {
                    return Err(status_error(
                        &name,
                        TransactionStatusError::Invalid(message),
                    ))
                }
                TransactionStatus::Dropped { message } => {
                    return Err(status_error(
                        &name,
                        TransactionStatusError::Dropped(message),
                    ))
                }
                TransactionStatus::Error { message } => {
                    return Err(status_error(&name, TransactionStatusError::Error(message)))
                }
                _ => continue,
            };
            return match in_block.wait_for_success().await {
                Ok(_) => {
                    tracing::info!(call = %name, block = %in_block.block_hash(), "transaction included");
                    Ok(())
                }
                Err(TransactionEventsError::ExtrinsicFailed(e)) => Err(sender.refusal(&name, &e)),
                Err(e) => Err(node(
                    "read the transaction's events",
                    format!("{name}: {e}"),
                )),
            };
        }
        Err(SubtensorError::Dropped {
            call: name,
            reason: "the node ended the status stream".into(),
        })
    }

    pub(crate) async fn commit_impl(
        &self,
        hotkey: &Hotkey,
        netuid: NetUid,
        data: &str,
    ) -> Result<(), SubtensorError> {
        const OP: &str = "commit";
        let call = calls::set_commitment(netuid.0, data.as_bytes())?;
        let sender = Sender {
            hotkey,
            netuid: netuid.0,
        };
        // The block of an earlier attempt that sent the transaction: if it landed
        // after all, a retry finds it on chain instead of committing twice.
        let sent: Mutex<Option<u64>> = Mutex::new(None);
        self.run(OP, |conn: Connection| {
            let (call, sender, sent) = (&call, &sender, &sent);
            async move {
                let (at, block) = conn.at_best().await?;
                let sent_at = *lock(sent);
                if let Some(sent_at) = sent_at {
                    let current = reads::try_fetch_value(
                        &at,
                        OP,
                        storage::commitment_of(),
                        (netuid.0, hotkey.public_key()),
                    )
                    .await?
                    .and_then(|value| storage::decode_commitment(&value).ok());
                    if current.is_some_and(|c| c.block >= sent_at && c.data == data.as_bytes()) {
                        return Ok(());
                    }
                }
                if uid_of(&at, OP, netuid.0, hotkey.public_key())
                    .await?
                    .is_none()
                {
                    return Err(sender.not_registered());
                }
                *lock(sent) = Some(block);
                self.submit(&at, sender, call).await
            }
        })
        .await
    }

    pub(crate) async fn set_weights_impl(
        &self,
        hotkey: &Hotkey,
        netuid: NetUid,
        weights: &[(Uid, u16)],
        version_key: u64,
    ) -> Result<WeightsSubmission, SubtensorError> {
        const OP: &str = "set_weights";
        let mut sorted: Vec<(u16, u16)> = weights.iter().map(|&(uid, w)| (uid.0, w)).collect();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(SubtensorError::Chain(ChainError::InvalidWeights {
                reason: format!("uid {} appears twice", pair[0].0),
            }));
        }
        let uids: Vec<u16> = sorted.iter().map(|p| p.0).collect();
        let values: Vec<u16> = sorted.iter().map(|p| p.1).collect();
        let sender = Sender {
            hotkey,
            netuid: netuid.0,
        };
        // What an earlier attempt sent, so a retry can tell whether it landed.
        let sent: Mutex<Option<Sent>> = Mutex::new(None);
        self.run(OP, |conn: Connection| {
            let (uids, values, sender, sent) = (&uids, &values, &sender, &sent);
            async move {
                let (at, block) = conn.at_best().await?;
                let previous = lock(sent).clone();
                if let Some(previous) = previous {
                    if self.landed(&at, sender, &previous).await? {
                        return Ok(previous.submission());
                    }
                }
                let params = hyperparams::read(&at, OP, netuid.0).await?;
                self.check_weights(&at, block, sender, version_key, &params)
                    .await?;
                if !params.commit_reveal {
                    *lock(sent) = Some(Sent {
                        block,
                        commit: None,
                    });
                    let call = calls::set_weights(netuid.0, uids, values, version_key);
                    self.submit(&at, sender, &call).await?;
                    return Ok(WeightsSubmission::Set);
                }
                let cx = commit::Context {
                    at: &at,
                    block,
                    netuid: netuid.0,
                    hotkey: hotkey.public_key(),
                    params: &params,
                    now: self.now(),
                    block_secs: self.options().block_time.as_secs_f64(),
                };
                let prepared = commit::prepare(&cx, uids, values, version_key).await?;
                let attempt = Sent {
                    block,
                    commit: Some(prepared.commit),
                };
                *lock(sent) = Some(attempt.clone());
                self.submit(&at, sender, &prepared.call).await?;
                if let Some(c) = &attempt.commit {
                    tracing::info!(
                        netuid = netuid.0,
                        reveal_round = c.reveal_round,
                        "weights committed; the chain reveals them at their drand round"
                    );
                }
                Ok(attempt.submission())
            }
        })
        .await
    }

    pub(crate) async fn commit_status_impl(
        &self,
        hotkey: &str,
        netuid: NetUid,
        weights_commit: &WeightsCommit,
    ) -> Result<CommitStatus, SubtensorError> {
        let account = gauntlet_chain::ss58::decode(hotkey).map_err(|e| {
            SubtensorError::Chain(ChainError::InvalidAddress {
                address: hotkey.to_owned(),
                reason: e.to_string(),
            })
        })?;
        self.run("commit_status", |conn: Connection| async move {
            let (at, _) = conn.at_best().await?;
            commit::status(&at, netuid.0, account, weights_commit).await
        })
        .await
    }

    /// Whether weights an earlier attempt sent at `sent.block` made it on chain:
    /// its commit is pending (or already revealed), or the hotkey's last update
    /// is that recent.
    async fn landed(
        &self,
        at: &At,
        sender: &Sender<'_>,
        sent: &Sent,
    ) -> Result<bool, SubtensorError> {
        const OP: &str = "set_weights";
        let (netuid, account) = (sender.netuid, sender.hotkey.public_key());
        if let Some(c) = &sent.commit {
            return Ok(commit::status(at, netuid, account, c).await? != CommitStatus::Dropped);
        }
        let Some(uid) = uid_of(at, OP, netuid, account).await? else {
            return Ok(false);
        };
        let last_update = reads::fetch_value(at, OP, storage::last_update(), (netuid,)).await?;
        Ok(last_update
            .get(usize::from(uid))
            .is_some_and(|&last| last >= sent.block))
    }

    /// The refusals of `set_weights`/`commit_timelocked_weights` that storage
    /// shows in advance.
    async fn check_weights(
        &self,
        at: &At,
        block: u64,
        sender: &Sender<'_>,
        version_key: u64,
        params: &Hyperparameters,
    ) -> Result<(), SubtensorError> {
        const OP: &str = "set_weights";
        let netuid = sender.netuid;
        let Some(uid) = uid_of(at, OP, netuid, sender.hotkey.public_key()).await? else {
            return Err(sender.not_registered());
        };
        let required = params.weights_version_key;
        if required != 0 && version_key < required {
            return Err(SubtensorError::Chain(ChainError::VersionKeyTooLow {
                given: version_key,
                required,
            }));
        }
        let last_update = reads::fetch_value(at, OP, storage::last_update(), (netuid,)).await?;
        let last = last_update.get(usize::from(uid)).copied().unwrap_or(0);
        let limit = params.weights_rate_limit;
        if last != 0 && block.saturating_sub(last) < limit {
            return Err(SubtensorError::Chain(ChainError::RateLimited {
                last: Block(last),
                next_allowed: Block(last.saturating_add(limit)),
            }));
        }
        Ok(())
    }
}
